"""SNR per scheme against noise: noise references, SNR definitions and the snr command."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from netlistgen.analysis.behavioral import ideal_model, save_models
from netlistgen.cli import main
from netlistgen.circuits.encoding import PRESETS
from netlistgen.core.errors import NetlistgenError
from netlistgen.studies.snr_study import lsb_fs_v, noise_to_v, snr_from_samples, sweep, workload


def test_noise_references():
    m = ideal_model("zebra-i", rows=8, gain_v_per_lsb=2e-3)
    # Full scale 8 rows * L=3 * C2/C1=4 = 96 codes; an 8-bit ADC over +-96 codes.
    assert m.full_scale_lsb[0] == 96
    assert lsb_fs_v(m, 8)[0] == pytest.approx(2 * 96 * 2e-3 / 256)
    assert noise_to_v(m, 0.5, "lsb-int")[0] == pytest.approx(1e-3)
    assert noise_to_v(m, 1e-3, "v")[0] == 1e-3
    assert noise_to_v(m, 2.0, "lsb-fs", 8)[0] == pytest.approx(2 * lsb_fs_v(m, 8)[0])
    with pytest.raises(NetlistgenError, match="unknown noise reference 'db'"):
        noise_to_v(m, 1.0, "db")


def test_snr_matches_analytic_noise():
    """Gaussian noise of sigma LSB on a linear column: SNR = var(y) / sigma^2."""
    m = ideal_model("int8", rows=16, gain_v_per_lsb=1e-2)
    y, ps = workload(m, 4000, 1, seed=1)
    y = y[:, 0, :]
    sigma_lsb = 0.05
    v = m.predict_v(y, noise_sigma_v=sigma_lsb * 1e-2, rng=np.random.default_rng(2))
    snr = snr_from_samples(y, v, ps)
    expected = 10 * np.log10(np.var(y, axis=0) / sigma_lsb**2)
    ok = np.var(y, axis=0) > 0
    assert np.allclose(np.array(snr["column_snr_db"])[ok], expected[ok], atol=0.3)
    # Recombined: the noise of column i is weighted by 2^base[i].
    w = 2.0 ** np.array(ps.base)
    dot_expected = 10 * np.log10(np.var(y @ w) / (sigma_lsb**2 * np.sum(w**2)))
    assert snr["dot_snr_db"] == pytest.approx(dot_expected, abs=0.3)
    assert snr_from_samples(y, m.predict_v(y), ps)["dot_snr_db"] == math.inf


def test_sweep_snr_falls_with_noise_and_nonlinearity_caps_it():
    models = {"zebra-ii": ideal_model("zebra-ii", rows=8, gain_v_per_lsb=5e-3, quadratic_per_v=-0.5,
                                      noise_sigma_v=3e-4)}
    pts = sweep(models, (0.0, 1e-4, 1e-3, 1e-2), cycles=300, wcols=2)["zebra-ii"]
    assert [p["label"] for p in pts] == ["kT/C", "0 V", "0.0001 V", "0.001 V", "0.01 V"]
    snrs = [p["dot_snr_db"] for p in pts[1:]]
    assert all(a > b for a, b in zip(snrs, snrs[1:]))
    assert math.isfinite(snrs[0]) and snrs[0] > 30  # noiseless: the quadratic INL limits it
    assert pts[0]["noise_v"] == pytest.approx(3e-4)
    assert pts[3]["noise_lsb_int"] == pytest.approx(1e-3 / 5e-3)


def test_snr_command_with_saved_models(tmp_path, capsys):
    save_models({s: ideal_model(s, rows=4, gain_v_per_lsb=3e-3, noise_sigma_v=2e-4) for s in ("int4", "zebra-i")},
                tmp_path / "models")
    out = tmp_path / "snr"
    rc = main(["snr", "--models", str(tmp_path / "models"), "--schemes", "int4", "zebra-i",
               "--noise-v", "0", "1e-3", "--cycles", "100", "--out", str(out)])
    assert rc == 0
    doc = json.loads((out / "snr.json").read_text())
    assert set(doc["sweep"]) == {"int4", "zebra-i"}
    assert doc["sweep"]["zebra-i"][2]["noise_v"] == pytest.approx(1e-3)
    assert "| zebra-i | behavioural | 0.001 V | 0.001 |" in (out / "snr.md").read_text()
    for name in ("snr_vs_noise_v.png", "snr_vs_noise_lsb_fs.png", "snr_vs_noise_lsb_int.png"):
        assert (out / name).stat().st_size > 1000
    assert "behavioural" in capsys.readouterr().out
    assert main(["snr", "--models", str(tmp_path / "nowhere"), "--out", str(out)]) == 2
    # Noise 0 only: table and JSON, no plot to draw.
    rc = main(["snr", "--models", str(tmp_path / "models"), "--schemes", "int4", "--noise-v", "0",
               "--cycles", "50", "--out", str(tmp_path / "zero")])
    assert rc == 0 and (tmp_path / "zero" / "snr.json").is_file()
    assert not (tmp_path / "zero" / "snr_vs_noise_v.png").exists()
    assert PRESETS["int4"].n_bits == len(doc["sweep"]["int4"][0]["column_snr_db"])


def test_mismatch_lowers_the_noiseless_snr():
    import dataclasses

    base = ideal_model("zebra-i", rows=8, gain_v_per_lsb=3e-3)
    spread = dataclasses.replace(base, mismatch={"gain_rel_std": 0.01, "offset_std_v": 0.0, "n_samples": 2,
                                                 "source": "test"})
    clean = sweep({"a": base}, (0.0,), cycles=200, wcols=8)["a"][1]
    mm = sweep({"a": spread}, (0.0,), cycles=200, wcols=8)["a"][1]
    assert clean["dot_snr_db"] == math.inf
    # 1 % gain spread between columns: about -20 log10(0.01) = 40 dB, give or take the draw.
    assert 30 < mm["dot_snr_db"] < 50
