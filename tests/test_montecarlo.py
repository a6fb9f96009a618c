"""Monte Carlo mismatch and injected kT/C noise in real ngspice: reproducible seeds,
per-instance draws on ptm45 (delvto, agauss caps) and sky130 (its tt_mm corner), and the
sampled GBL noise against kT/C_total with C_total measured independently."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest

from netlistgen.circuits.generate import GenerateOptions, build
from netlistgen.studies.montecarlo import gbl_capacitance_f, ktc_noise_sigma_v, reset_noise_for, run_mc
from netlistgen.sim.runner import run_deck
from netlistgen.sim.executor import run_jobs
from netlistgen.sim.simulate import Job
from netlistgen.circuits.testbench import Timing, op_deck, random_stimulus, spiceinit
from netlistgen.circuits.variation import K_BOLTZMANN_J_PER_K, Noise, vt_sigma_v
from test_simulate import gbl_capacitance_f as independent_gbl_capacitance_f


MLLCU_SWITCHES = ("xs0", "xs1", "xw0", "xw1", "xc1a", "xc1b", "xc2a", "xc2b")


def instance_values(nl, tmp_path, vectors: list[str]) -> np.ndarray:
    """Values of instance parameters (ngspice @-vectors) at the operating point."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "array.sp").write_text(nl.text)
    (tmp_path / ".spiceinit").write_text(spiceinit(nl))
    deck = op_deck(nl, str(tmp_path / "array.sp"))
    prints = "".join(f"print {v}\n" for v in vectors)
    (tmp_path / "op.sp").write_text(deck.replace("\nop\n", "\nop\n" + prints, 1))
    out = run_deck(tmp_path / "op.sp").stdout
    found = dict(re.findall(r"^(@\S+) = (\S+)$", out, flags=re.M))
    return np.array([float(found[v.lower()]) for v in vectors])


def switch_vectors(nl, device: str, param: str) -> list[str]:
    """One vector per cell switch of the array: device 'mn' (ptm45) or 'xn.m<model>' (sky130)."""
    return [f"@m.xsl_{r}_0.xc_{i}.{sw}.{device}[{param}]"
            for r in range(nl.spec.rows) for i in range(nl.spec.n_bits) for sw in MLLCU_SWITCHES]


def cap_vectors(nl) -> list[str]:
    return [f"@c.xsl_{r}_0.xc_{i}.{c}[capacitance]" for r in range(nl.spec.rows)
            for i in range(nl.spec.n_bits) for c in ("c1", "c2")]


@pytest.mark.ngspice
def test_ptm45_every_instance_draws_its_own_vt_and_capacitance(tmp_path, installed):
    """128 unit-switch nmos and 32 C1/C2 of one 4x1 zebra-i array: all different, spread as
    the sigmas Python computed, same seed -> same draws, other seed -> other draws."""
    kw = dict(scheme="zebra-i", technology="ptm45", rows=4, cols=1)
    nl = build(GenerateOptions(**kw, mismatch_seed=11))
    vecs = switch_vectors(nl, "mn", "delvto") + cap_vectors(nl)
    vals = instance_values(nl, tmp_path / "a", vecs)
    dvt, caps = vals[:128], vals[128:]
    assert len(set(dvt)) == 128 and len(set(caps)) == 32
    sigma = vt_sigma_v(nl.tech.avt_v_m, nl.design.w_switch_n_m, nl.design.l_m)  # 18.6 mV
    assert abs(dvt.mean()) < 4 * sigma / math.sqrt(128)
    assert 0.75 * sigma < dvt.std(ddof=1) < 1.25 * sigma  # 128 draws: 6 % standard error
    rel = nl.manifest["mismatch"]["cap_sigma_rel"]
    z = np.concatenate([(caps[0::2] / 1e-15 - 1) / rel["c1"], (caps[1::2] / 4e-15 - 1) / rel["c2"]])
    assert abs(z.mean()) < 4 / math.sqrt(32) and 0.6 < z.std(ddof=1) < 1.4  # 32 draws: 12.5 %
    np.testing.assert_array_equal(instance_values(nl, tmp_path / "b", vecs), vals)
    other = instance_values(build(GenerateOptions(**kw, mismatch_seed=12)), tmp_path / "c", vecs)
    assert np.all(other != vals)
    nominal = instance_values(build(GenerateOptions(**kw)), tmp_path / "d", vecs)
    assert np.all(nominal[:128] == 0) and np.allclose(nominal[128:], [1e-15, 4e-15] * 16, rtol=1e-12)


@pytest.mark.ngspice
def test_sky130_mm_corner_varies_every_instance(tmp_path, installed):
    """sky130 devices are subcircuits: their VT draws come from tt_mm, per instance, with
    the library's seed. The PDK's sigma is its Pelgrom constant (descriptor avt/sqrt 2)
    times the deck's own geometry factors in the delvto expression (4.15 at W=0.42, L=0.15)."""
    # The PDK's own subcircuits (models="full"): the flattened cards' per-instance draws are
    # checked against these in test_flatten.py.
    kw = dict(scheme="zebra-i", technology="sky130", rows=2, cols=1, models="full")
    nl = build(GenerateOptions(**kw, mismatch_seed=5))
    vecs = switch_vectors(nl, "xn.msky130_fd_pr__nfet_01v8", "delvto")
    dvt = instance_values(nl, tmp_path / "a", vecs)
    assert len(set(dvt)) == 64
    w, l_ = nl.design.w_switch_n_m * 1e6, nl.design.l_m * 1e6  # the deck's formula is in um
    geometry = (0.008 * 8 / l_ + 0.992) * (0.035 * 7 / w + 0.965) * (0.001 * 56 / (w * l_) + 0.999)
    expected = vt_sigma_v(nl.tech.avt_v_m, nl.design.w_switch_n_m, nl.design.l_m) * geometry
    assert 0.7 * expected < dvt.std(ddof=1) < 1.3 * expected  # measured 54.7 mV vs 55.6 mV
    np.testing.assert_array_equal(instance_values(nl, tmp_path / "b", vecs), dvt)
    other = instance_values(build(GenerateOptions(**kw, mismatch_seed=6)), tmp_path / "c", vecs)
    assert np.all(other != dvt)
    caps = instance_values(nl, tmp_path / "d", cap_vectors(nl))
    assert len(set(caps)) == 16


@pytest.mark.ngspice
def test_mc_samples_reproduce_alone_and_differ_between_seeds(tmp_path, installed, capsys):
    """`netlistgen mc` over two schemes; `--sample 1` reruns only sample 1 and gets the same
    sampled voltages; different seeds give different voltages and metrics."""
    from netlistgen.cli import main

    args = ["mc", "--scheme", "zebra-i,int4", "--rows", "2", "--cols", "1", "--cycles", "4", "--n", "2",
            "--base-seed", "20", "--jobs", "2", "--no-cache"]  # every sample really simulated
    assert main(args + ["--out", str(tmp_path / "full")]) == 0
    assert main(args + ["--sample", "1", "--out", str(tmp_path / "one")]) == 0
    full = json.loads((tmp_path / "full" / "samples.json").read_text())["samples"]
    one = json.loads((tmp_path / "one" / "samples.json").read_text())["samples"]
    for scheme in ("zebra-i", "int4"):
        s0, s1 = full[scheme]
        assert (s0["seed"], s1["seed"]) == (20, 21) and one[scheme][0]["seed"] == 21
        assert one[scheme][0]["v_sample_v"] == s1["v_sample_v"]  # bit for bit
        assert one[scheme][0]["metrics"]["gain_mv_per_lsb"] == s1["metrics"]["gain_mv_per_lsb"]
        assert s0["y_ideal"] == s1["y_ideal"]  # same stimulus for every sample
        assert np.abs(np.subtract(s0["v_sample_v"], s1["v_sample_v"])).max() > 1e-5
        assert s0["metrics"]["offset_mv"] != s1["metrics"]["offset_mv"]
    summary = json.loads((tmp_path / "full" / "summary.json").read_text())["summary"]
    gains = [s["metrics"]["gain_mv_per_lsb"] for s in full["int4"]]
    assert summary["int4"]["gain_mv_per_lsb"]["mean"] == pytest.approx(np.mean(gains))
    assert summary["int4"]["gain_mv_per_lsb"]["std"] == pytest.approx(np.std(gains, ddof=1))
    rows = (tmp_path / "full" / "samples.csv").read_text().splitlines()
    assert rows[0].startswith("label,sample,seed,column") and len(rows) == 1 + 2 * 4 + 2 * 3
    assert (tmp_path / "full" / "mc_hist.png").read_bytes()[:4] == b"\x89PNG"
    capsys.readouterr()
    assert main(args + ["--sample", "2", "--out", str(tmp_path / "bad")]) == 2
    assert "sample" in capsys.readouterr().err


@pytest.mark.ngspice
def test_ktc_noise_variance_matches_independent_c_total(tmp_path, installed):
    """Injected reset noise: the variance of the sampled GBL voltage (noisy minus noiseless
    run, same inputs) over 1600 samples matches kT/C_total within 10 %, C_total measured
    independently: by the test suite's AC helper and from the charge-sharing gain."""
    opts = GenerateOptions(scheme="zebra-i", technology="ptm45", rows=1, cols=2)
    quiet = build(opts)
    noisy = build(GenerateOptions(**{**opts.__dict__, "reset_noise": True}))
    stim = random_stimulus(quiet, 200, seed=4)
    timing = Timing.for_technology(quiet.tech, t_reset_s=1e-9, t_settle_s=1e-9, t_hold_s=0.2e-9)
    rn = reset_noise_for(noisy, Noise(seed=17, temperature_k=300.0), tmp_path / "cap")
    results, errors = run_jobs([Job("quiet", quiet, stim, timing), Job("noisy", noisy, stim, timing, reset_noise=rn)],
                               tmp_path, progress=False)
    assert not errors
    diff = results["noisy"].v_sample_v - results["quiet"].v_sample_v  # (200 cycles, 8 GBLs)
    kt = K_BOLTZMANN_J_PER_K * 300.0
    c_ac = np.array([independent_gbl_capacitance_f(quiet, tmp_path / f"ac{i}", f"g_0_{i}_0") for i in range(4)])
    ratio_ac = np.mean(diff ** 2) / np.mean(kt / np.tile(c_ac, 2))
    y, v = results["quiet"].y_ideal, results["quiet"].v_sample_v
    gains = np.array([np.polyfit(y[:, g], v[:, g], 1)[0] for g in range(8) if np.ptp(y[:, g]) > 0])
    c_gain = quiet.design.c_unit_f * quiet.design.dv_v / gains  # V/LSB = C1 dV / C_total
    ratio_gain = np.mean(diff ** 2) / np.mean(kt / c_gain)
    assert ratio_ac == pytest.approx(1.0, abs=0.10)  # measured 1.030 (C_ac 21.07 fF)
    assert ratio_gain == pytest.approx(1.0, abs=0.10)  # measured 1.038 (C from gain 21.24 fF)
    assert abs(diff.mean()) < 4 * math.sqrt(np.mean(diff ** 2) / diff.size)  # zero-mean noise
    # the module's own sigma (its AC run on the noisy netlist) agrees with the independent C
    np.testing.assert_allclose(np.array(rn.sigma_v)[:4] ** 2, kt / c_ac, rtol=0.02)
    np.testing.assert_allclose(ktc_noise_sigma_v(quiet, tmp_path / "cap2"), rn.sigma_v, rtol=1e-9)


@pytest.mark.ngspice
def test_mc_with_noise_and_api(tmp_path, installed):
    """run_mc with mismatch and noise: same seed, same numbers; C_total varies with the draws."""
    opts = GenerateOptions(scheme="zebra-i", rows=1, cols=1)
    a = run_mc(opts, 2, 5, tmp_path / "a", cycles=3, noise=300.0, workers=2)
    b = run_mc(opts, 2, 5, tmp_path / "b", cycles=3, noise=300.0, only=[0], workers=1)
    assert not a.errors
    np.testing.assert_array_equal(a.samples["zebra-i"][0].v_sample_v, b.samples["zebra-i"][0].v_sample_v)
    c5 = gbl_capacitance_f(build(GenerateOptions(scheme="zebra-i", rows=1, cols=1, mismatch_seed=5)), tmp_path / "c")
    c0 = gbl_capacitance_f(build(opts), tmp_path / "d")
    assert np.all(c5 != c0) and np.allclose(c5, c0, rtol=0.05)


def test_mismatch_spread_pools_deviations_from_each_column_mean():
    """Systematic column-to-column differences are not mismatch: the spread pools each
    column's deviations from its own mean; an unfittable (nan) column is left out."""
    from netlistgen.core.errors import NetlistgenError
    from netlistgen.studies.montecarlo import McResult, McSample

    rng = np.random.default_rng(3)
    n, sigma = 400, 0.2
    base = np.array([1.0, 5.0, 9.0])  # big systematic differences between columns
    gains = base + sigma * rng.standard_normal((n, 3))
    samples = [McSample("a", k, k, np.zeros((3, 4)), np.zeros((3, 4)),
                        {"columns": [{"gain_v_per_lsb": g / 1e3, "offset_v": 0.0, "inl_lsb": 0.0, "snr_db": 0.0}
                                     for g in row] + [{"gain_v_per_lsb": math.nan, "offset_v": 0.0, "inl_lsb": 0.0,
                                                       "snr_db": 0.0}]})
               for k, row in enumerate(gains)]
    res = McResult({"a": samples}, {}, 0, n, {})
    s, dof = res.mismatch_spread("a", "gain_mv_per_lsb")
    assert dof == 3 * (n - 1)
    assert abs(s / sigma - 1) < 0.1  # sampling error of 1197 dof: ~2 %
    assert np.nanstd(res.column_values("a", "gain_mv_per_lsb")) > 10 * sigma  # the naive spread is dominated by base
    one = McResult({"a": samples[:1]}, {}, 0, 1, {})
    with pytest.raises(NetlistgenError, match="needs >= 2 samples"):
        one.mismatch_spread("a", "gain_mv_per_lsb")
