"""Behavioural column model: fitting, prediction, JSON, kT/C, mismatch, and a held-out
check against real ngspice."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from netlistgen.circuits.variation import K_BOLTZMANN_J_PER_K
from netlistgen.analysis.behavioral import (
    BehavioralModel,
    characterize,
    fit_model,
    heldout_snr,
    ideal_model,
    load_mismatch,
    mismatch_from_samples,
)
from netlistgen.core.errors import NetlistgenError
from netlistgen.sim.simulate import Job, SimResult
from netlistgen.circuits.testbench import ideal_outputs, random_stimulus


def synthetic_result(netlist, gain, offsets, c2_per_v, cycles=40, seed=3) -> SimResult:
    """A SimResult whose samples follow a known line + quadratic (no simulator)."""
    stim = random_stimulus(netlist, cycles, seed)
    y = ideal_outputs(netlist, stim)
    u = gain * y
    v = u + np.asarray(offsets)[None, :] + c2_per_v * u**2
    return SimResult(Job("synthetic", netlist, stim), y, v, v, None, 0.0, Path("."))


def test_fit_recovers_line_and_shared_quadratic(build_small):
    nl = build_small(scheme="zebra-i", rows=8, cols=1)
    offsets = [1e-3, 2e-3, -1e-3, 0.5e-3]
    res = synthetic_result(nl, 4e-3, offsets, -0.2)
    model = fit_model(res)
    # The model reproduces the samples it was fitted on to well under a microvolt.
    pred = model.predict_v(res.y_ideal)
    assert np.max(np.abs(pred - res.v_sample_v)) < 1e-9
    for col, off in zip(model.columns, offsets):
        assert col.gain_v_per_lsb == pytest.approx(4e-3, rel=1e-9)
        assert col.offset_v == pytest.approx(off, abs=1e-12)
        assert col.inl_poly_v[1] == pytest.approx(-0.2 * 4e-3**2, rel=1e-6)
    # Out of sample: other inputs on the same netlist.
    other = synthetic_result(nl, 4e-3, offsets, -0.2, seed=11)
    assert np.max(np.abs(model.predict_v(other.y_ideal) - other.v_sample_v)) < 1e-9


def test_ktc_default_from_measured_gain(build_small):
    nl = build_small(scheme="zebra-ii", rows=4, cols=1)
    gain = 5e-3
    model = fit_model(synthetic_result(nl, gain, [0, 0, 0, 0], 0.0))
    c_total = nl.design.c_unit_f * nl.design.dv_v / gain  # C1*dV/gain
    for col in model.columns:
        assert col.c_total_f == pytest.approx(c_total, rel=1e-9)
        assert col.noise_sigma_v == pytest.approx(math.sqrt(K_BOLTZMANN_J_PER_K * 300.0 / c_total), rel=1e-9)
    assert fit_model(synthetic_result(nl, gain, [0] * 4, 0.0), noise_sigma_v=1e-3).noise_sigma_v[0] == 1e-3


def test_one_code_column_is_rejected(build_small):
    nl = build_small(scheme="zebra-i", rows=4, cols=1)
    res = synthetic_result(nl, 4e-3, [0] * 4, 0.0)
    y = res.y_ideal.copy()
    y[:, 2] = 1.0
    with pytest.raises(NetlistgenError, match="bit column 2 .* one code"):
        fit_model(SimResult(res.job, y, res.v_sample_v, res.v_sample_v, None, 0.0, Path(".")))


def test_json_round_trip_and_schema_guard(tmp_path, build_small):
    nl = build_small(scheme="int4", rows=4, cols=1)
    model = fit_model(synthetic_result(nl, 2e-2, [3e-3] * 3, -0.1), stim_seed=3)
    path = model.save(tmp_path / "m.json")
    doc = json.loads(path.read_text())
    assert doc["schema_version"] == 1
    assert doc["provenance"]["netlist_sha256"] == nl.content_hash
    assert doc["provenance"]["technology"] == "ptm45" and doc["provenance"]["rows"] == 4
    assert {"gain_v_per_lsb", "offset_v", "c_total_f", "noise_sigma_v"} <= set(doc["columns"][0])
    loaded = BehavioralModel.load(path)
    y = np.arange(-4, 5, dtype=float)[:, None].repeat(3, axis=1)
    assert np.array_equal(loaded.predict_v(y), model.predict_v(y))
    doc["schema_version"] = 99
    (tmp_path / "bad.json").write_text(json.dumps(doc))
    with pytest.raises(NetlistgenError, match="schema_version 99"):
        BehavioralModel.load(tmp_path / "bad.json")


def test_noise_and_mismatch_draws():
    model = ideal_model("zebra-i", rows=16, gain_v_per_lsb=2e-3)
    y = np.zeros((50_000, 4))
    v = model.predict_v(y, noise_sigma_v=1e-3, rng=np.random.default_rng(0))
    assert np.std(v, axis=0) == pytest.approx([1e-3] * 4, rel=0.02)
    with pytest.raises(NetlistgenError, match="rng"):
        model.predict_v(y, noise_sigma_v=1e-3)
    gain, off = model.draw_mismatch(np.random.default_rng(0), (3,))
    assert np.all(gain == 1.0) and np.all(off == 0.0)  # no MC data: no mismatch


def test_mismatch_from_monte_carlo_samples(tmp_path):
    rng = np.random.default_rng(5)
    gains = 4e-3 * (1 + 0.01 * rng.standard_normal((400, 2)))
    offsets = 2e-3 + 1e-4 * rng.standard_normal((400, 2))
    samples = [{"columns": [{"gain_v_per_lsb": g, "offset_v": o} for g, o in zip(gr, orow)]}
               for gr, orow in zip(gains, offsets)]
    (tmp_path / "mc.json").write_text(json.dumps({"samples": samples}))
    mm = load_mismatch(tmp_path / "mc.json")
    assert mm["gain_rel_std"] == pytest.approx(0.01, rel=0.1)
    assert mm["offset_std_v"] == pytest.approx(1e-4, rel=0.1)
    assert mm["n_samples"] == 400
    with pytest.raises(NetlistgenError, match=">= 2"):
        mismatch_from_samples(samples[:1], "x")
    # `netlistgen mc` samples.json: samples by label, metrics under "metrics".
    mc = {"samples": {"zebra-i": [{"sample": k, "metrics": s} for k, s in enumerate(samples)],
                      "int8": [{"sample": k, "metrics": s} for k, s in enumerate(samples[:50])]}}
    (tmp_path / "samples.json").write_text(json.dumps(mc))
    assert load_mismatch(tmp_path / "samples.json", label="int8")["n_samples"] == 50
    assert load_mismatch(tmp_path / "samples.json", label="zebra-i")["gain_rel_std"] == mm["gain_rel_std"]
    with pytest.raises(NetlistgenError, match="none is 'int4'"):
        load_mismatch(tmp_path / "samples.json", label="int4")
    (tmp_path / "one.json").write_text(json.dumps({"samples": {"zebra-i": mc["samples"]["zebra-i"]}}))
    assert load_mismatch(tmp_path / "one.json")["n_samples"] == 400
    with pytest.raises(NetlistgenError, match="none is 'zebra-ii'"):
        load_mismatch(tmp_path / "one.json", label="zebra-ii")


@pytest.mark.ngspice
def test_model_reproduces_spice_snr_on_heldout_vectors(tmp_path, installed):
    """Fit on one random-stimulus SPICE run, predict another seed's vectors: the
    model's (noiseless) SNR is within 1 dB of SPICE's, pooled over bit columns."""
    chars = characterize(["zebra-i", "int4"], rows=4, cycles=12, stim_seed=1, heldout_seed=2,
                         workdir=tmp_path, workers=2)
    for scheme, ch in chars.items():
        cmp = heldout_snr(ch.model, ch.heldout)
        assert 40 < cmp["spice_snr_db"] < 80, scheme  # a real, finite measurement
        assert abs(cmp["model_snr_db"] - cmp["spice_snr_db"]) < 1.0, (scheme, cmp)
        assert ch.model.provenance["netlist_sha256"] == ch.heldout.job.netlist.content_hash


def test_model_command_rejects_bad_rows(tmp_path, capsys):
    from netlistgen.cli import main

    assert main(["model", "--scheme", "int4", "--rows", "0", "--out", str(tmp_path / "m.json")]) == 2
    assert "rows" in capsys.readouterr().err
    assert not (tmp_path / "m.json").exists()
