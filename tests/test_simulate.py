"""Transient charge accumulation in real ngspice: the sampled GBL voltages follow the
charge-sharing law against ideal values computed here from the stimulus and the
manifest's codes (independently of the post-processor)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from netlistgen.circuits.generate import GenerateOptions, build
from netlistgen.analysis.report import summarize
from netlistgen.sim.rawfile import read_raw
from netlistgen.sim.simulate import Job, run_job
from netlistgen.circuits.testbench import random_stimulus


def independent_ideal(manifest: dict, inputs: np.ndarray, sram_row: np.ndarray) -> np.ndarray:
    """y[c, j*n+i] = sum_r m[c,r] * (-1)^S * b_i * 2^k_P from the manifest alone."""
    w = manifest["weights"]
    sign, pattern, bits = np.array(w["sign"]), np.array(w["pattern"]), np.array(w["bits"])
    patterns = manifest["spec"]["pattern_set"]["patterns"]
    shifts = [p[-1] - patterns[0][-1] for p in patterns]
    rows, g = manifest["spec"]["rows"], (manifest["spec"]["sram_rows_per_lcc"] if manifest["spec"]["cell"] == "lcc" else 1)
    cycles, (_, cols, n) = inputs.shape[0], bits.shape
    y = np.zeros((cycles, cols * n))
    for c in range(cycles):
        for r in range(rows):
            wr = r * g + sram_row[c]
            for j in range(cols):
                factor = inputs[c, r] * (-1) ** sign[wr, j] * 2 ** shifts[pattern[wr, j]]
                y[c, j * n : (j + 1) * n] += factor * bits[wr, j]
    return y


# (technology, scheme, extra options, INL bound in LSB). sky130's switches at VCM = 0.9 V
# leave a measured ~0.095 LSB bow on a 4-row column that longer phases do not remove.
CASES = [
    ("ptm45", "zebra-i", {}, 0.1),
    ("ptm45", "zebra-ii", {}, 0.1),
    ("ptm45", "int8", {"sram_rows_per_lcc": 4}, 0.1),
    ("sky130", "zebra-i", {}, 0.12),
]


@pytest.mark.ngspice
@pytest.mark.parametrize("tech,scheme,extra,inl_lsb", CASES)
def test_charge_sharing_is_linear_in_the_ideal_mac(tmp_path, installed, tech, scheme, extra, inl_lsb):
    nl = build(GenerateOptions(scheme=scheme, technology=tech, rows=4, cols=1, **extra))
    stim = random_stimulus(nl, 12, seed=3)
    res = run_job(Job("t", nl, stim), tmp_path)
    y = independent_ideal(json.loads(json.dumps(nl.manifest)), stim.inputs, stim.sram_row)
    np.testing.assert_array_equal(y, res.y_ideal)  # the post-processor's reference agrees
    dp = nl.design
    caps_per_row = dp.c_unit_f * (1 + (nl.spec.c2_ratio if nl.spec.has_pattern_bit else 0))
    c_nominal = nl.spec.rows * (caps_per_row + dp.wire_c_per_row_f) + dp.c_sample_f
    gain_nominal = dp.c_unit_f * dp.dv_v / c_nominal  # V per LSB without switch parasitics
    for col in range(y.shape[1]):
        if np.ptp(y[:, col]) == 0:
            continue
        gain, offset = np.polyfit(y[:, col], res.v_sample_v[:, col], 1)
        residual = res.v_sample_v[:, col] - (gain * y[:, col] + offset)
        # full scale of a bit column: every row at level L on the larger capacitor
        full_scale_v = gain_nominal * nl.spec.rows * dp.levels * caps_per_row / dp.c_unit_f
        assert np.abs(residual).max() < 0.01 * full_scale_v  # linear within 1% of full scale
        assert np.abs(residual).max() < inl_lsb * gain
        # The gain is C1*dV / (C_nominal + Cp): the switches' junction and gate
        # capacitance Cp on the GBL is positive and a few fF (reset + sample switches).
        cp_f = dp.c_unit_f * dp.dv_v / gain - c_nominal
        assert 0 < cp_f < 15e-15  # measured: ~6 fF ptm45, ~11 fF sky130 (wider devices)
        assert abs(offset) < 20e-3


@pytest.mark.ngspice
def test_energy_run_reports_every_source_group(tmp_path, installed):
    nl = build(GenerateOptions(scheme="zebra-ii", rows=2, cols=1))
    stim = random_stimulus(nl, 3, seed=5)
    res = run_job(Job("e", nl, stim, energy=True), tmp_path)
    e = res.energy
    assert e["delivered_j"].shape == (3,)
    assert np.all(e["delivered_j"] >= e["net_j"] - 1e-21)  # delivered >= net, source by source
    assert np.all(e["delivered_j"] > 1e-15) and np.all(e["delivered_j"] < 1e-11)
    assert {"ml-siu references", "ml-siu selects", "vdd (cells, drivers)"} <= set(e["groups_delivered_j"])
    row = summarize("zebra-ii", res, res)
    assert row["tops_per_w"] == pytest.approx(2 * 2 / (row["energy_per_cycle_fj"] * 1e-15) / 1e12)


@pytest.mark.ngspice
def test_simulate_and_plot_commands(tmp_path, installed, capsys):
    from netlistgen.cli import main

    out = tmp_path / "sim"
    code = main(["simulate", "--scheme", "zebra-i", "--rows", "2", "--cols", "1", "--cycles", "6",
                 "--energy-cycles", "2", "--out", str(out)])
    assert code == 0
    results = json.loads((out / "results.json").read_text())
    row = results["results"][0]
    assert row["cycles"] == 6 and row["energy_cycles"] == 2 and row["tops_per_w"] > 0
    assert "delivered" in results["bookkeeping"]["energy"]
    for name in ("transfer.png", "residual.png", "energy.png", "results.md"):
        assert (out / name).stat().st_size > 1000 or name == "results.md"
    assert main(["plot", "transfer", str(out), "--out", str(tmp_path / "t.svg")]) == 0
    assert (tmp_path / "t.svg").read_text().startswith("<?xml")
    job = out / "jobs" / "zebra-i-2x1"
    assert main(["plot", "waveform", str(job), "--cycle", "1", "--out", str(tmp_path / "w.png")]) == 0
    assert (tmp_path / "w.png").read_bytes()[:4] == b"\x89PNG"
    capsys.readouterr()
    assert main(["plot", "waveform", str(job), "--cycle", "99"]) == 2
    assert "cycle 99" in capsys.readouterr().err
    assert main(["plot", "transfer", str(tmp_path / "missing")]) == 2
    assert main(["plot", "transfer", str(out), "--out", str(tmp_path / "t.bmp")]) == 2


def ac_capacitance_f(nl, tmp_path, node: str, overrides: dict) -> float:
    """Small-signal capacitance of `node` from an ngspice AC analysis, C = Im(Y)/(2 pi f),
    with the array's static sources (overridden by `overrides`) and a 1 GOhm DC path."""
    from netlistgen.core import validate
    from netlistgen.sim.runner import run_deck
    from netlistgen.circuits.testbench import spiceinit, static_levels

    levels = {**static_levels(nl), **overrides}
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "array.sp").write_text(nl.text)
    (tmp_path / ".spiceinit").write_text(spiceinit(nl))
    lines = ["* node capacitance", *nl.model_statements(), f'.include "{tmp_path / "array.sp"}"']
    lines += [f"V{p} {p} 0 {validate.fmt(v)}" for p, v in levels.items()]
    lines += [f"Rdc {node} vcm 1e9", f"Iac 0 {node} DC 0 AC 1", ".control", "ac lin 1 1e8 1e8",
              f"print vr({node}) vi({node})", "quit 0", ".endc", ".end"]
    (tmp_path / "cap.sp").write_text("\n".join(lines) + "\n")
    out = run_deck(tmp_path / "cap.sp").stdout
    vr = float(next(ln for ln in out.splitlines() if ln.startswith(f"vr({node})")).split("=")[1])
    vi = float(next(ln for ln in out.splitlines() if ln.startswith(f"vi({node})")).split("=")[1])
    return (1 / complex(vr, vi)).imag / (2 * np.pi * 1e8)


def gbl_capacitance_f(nl, tmp_path, node: str) -> float:
    """A GBL in the evaluate state: reset open, sample closed, plates driven to VCM."""
    return ac_capacitance_f(nl, tmp_path, node, {"rst": 0.0, "rstb": nl.design.vdd_v})


@pytest.mark.ngspice
@pytest.mark.parametrize("tech,scheme", [("ptm45", "zebra-i"), ("ptm45", "zebra-ii"), ("sky130", "zebra-i")])
def test_sampled_voltage_matches_analytic_charge_sharing(tmp_path, installed, tech, scheme):
    """V_GBL = VCM + sum(C_k dV_k) / C_total, with C_total (caps, wire, sample load and the
    switches' parasitics) from a separate AC analysis: within 1% of full-scale swing."""
    nl = build(GenerateOptions(scheme=scheme, technology=tech, rows=4, cols=1))
    stim = random_stimulus(nl, 10, seed=4)
    res = run_job(Job("t", nl, stim), tmp_path / "tran")
    y = independent_ideal(json.loads(json.dumps(nl.manifest)), stim.inputs, stim.sram_row)
    dp, rows = nl.design, nl.spec.rows
    caps_per_row = dp.c_unit_f * (1 + nl.spec.c2_ratio)
    for i in range(nl.spec.n_bits):
        c_total = gbl_capacitance_f(nl, tmp_path / f"ac{i}", f"g_0_{i}_{rows - 1}")
        c_nominal = rows * (caps_per_row + dp.wire_c_per_row_f) + dp.c_sample_f
        assert c_nominal < c_total < c_nominal + 15e-15  # parasitics add a few fF
        analytic = y[:, i] * dp.c_unit_f * dp.dv_v / c_total
        full_scale = rows * dp.levels * dp.dv_v * caps_per_row / c_total
        measured = res.v_sample_v[:, i] - res.v_sample_v[:, i].mean() + analytic.mean()  # offset removed
        assert np.abs(measured - analytic).max() < 0.01 * full_scale


def line_capacitance_f(nl, tmp_path, node: str, row_levels: dict) -> float:
    """An input line with its ML-SIU driver off and the cells as stored."""
    return ac_capacitance_f(nl, tmp_path, node, row_levels)


@pytest.mark.ngspice
def test_reference_energy_matches_cv_bookkeeping(tmp_path, installed):
    """One row driven to m = +L every cycle: the ML-SIU references deliver
    V_top * C_in+ * L*dV (charging IN+ and its plates) plus VCM * C_in- * L*dV (the reset
    recharging IN- from VCM - L*dV), with the line capacitances from an AC analysis."""
    from netlistgen.circuits.testbench import Stimulus

    nl = build(GenerateOptions(scheme="zebra-ii", rows=1, cols=1))
    dp, L = nl.design, nl.design.levels
    stim = Stimulus(np.full((4, 1), L), np.zeros(4, dtype=int))
    res = run_job(Job("e", nl, stim, energy=True), tmp_path / "tran")
    measured = res.energy["groups_delivered_j"]["ml-siu references"][1:].mean()  # first cycle starts from DC
    off = {f"sel_0_{j}": 0.0 for j in range(2 * L + 1)} | {f"selb_0_{j}": dp.vdd_v for j in range(2 * L + 1)}
    off |= {"rst": dp.vdd_v, "rstb": 0.0}
    c_p = line_capacitance_f(nl, tmp_path / "p", "inp_0", off)
    c_n = line_capacitance_f(nl, tmp_path / "n", "inn_0", off)
    swing = L * dp.dv_v
    analytic = (dp.vcm_v + swing) * c_p * swing + dp.vcm_v * c_n * swing
    assert measured == pytest.approx(analytic, rel=0.2)


@pytest.mark.ngspice
def test_shared_backend_in_worker_processes_matches_subprocess(tmp_path, installed):
    from netlistgen.sim.executor import run_jobs

    jobs = []
    for scheme in ("zebra-i", "int8"):
        nl = build(GenerateOptions(scheme=scheme, rows=2, cols=1, sram_rows_per_lcc=2))
        jobs.append(Job(scheme, nl, random_stimulus(nl, 4, seed=2)))
    a, err_a = run_jobs(jobs, tmp_path / "sub", workers=2, progress=False)
    b, err_b = run_jobs(jobs, tmp_path / "shared", workers=2, progress=False, backend="shared")
    assert not err_a and not err_b
    for name in a:
        np.testing.assert_allclose(b[name].v_sample_v, a[name].v_sample_v, atol=1e-6)


def _table_rows(stdout: str, label: str) -> list[str]:
    return [line for line in stdout.splitlines() if line.startswith(f"| {label} |")]


@pytest.mark.ngspice
@pytest.mark.slow
def test_two_concurrent_runs_into_one_out_match_their_solo_runs(tmp_path, installed):
    """Two real `simulate` runs at once into the same --out (different --stim-seed): each
    prints what it prints alone, and the job directory holds one run's files."""
    import subprocess
    import sys

    exe = str(Path(sys.executable).with_name("netlistgen"))
    base = ["simulate", "--rows", "2", "--cols", "1", "--cycles", "40", "--energy-cycles", "0", "--no-cache",
            "--jobs", "1"]

    def start(seed: int, out: Path) -> subprocess.Popen:
        return subprocess.Popen([exe, *base, "--stim-seed", str(seed), "--out", str(out)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)

    shared = tmp_path / "shared"
    together = [start(1, shared), start(2, shared)]
    outs = [p.communicate(timeout=600) for p in together]
    solo = [start(1, tmp_path / "solo1"), start(2, tmp_path / "solo2")]
    solo_outs = [p.communicate(timeout=600) for p in solo]
    for proc, (out, err) in zip(together + solo, outs + solo_outs):
        assert proc.returncode == 0, err
    for (out, _), (ref, _) in zip(outs, solo_outs):
        rows = _table_rows(out, "zebra-i-2x1")
        assert rows and rows == _table_rows(ref, "zebra-i-2x1")
    assert _table_rows(outs[0][0], "zebra-i-2x1") != _table_rows(outs[1][0], "zebra-i-2x1")  # the seeds differ
    jobs = shared / "jobs"
    assert sorted(p.name for p in jobs.iterdir()) == ["zebra-i-2x1"]  # no staging directory left behind
    job_dir = jobs / "zebra-i-2x1"
    meta = json.loads((job_dir / "job.json").read_text())
    raw = read_raw(job_dir / "tran.raw")  # the raw file of the run that wrote job.json
    assert raw["time"][-1] == pytest.approx(meta["windows_s"][-1][1], rel=1e-6)


@pytest.mark.ngspice
def test_job_directory_is_replaced_as_a_whole(build_small, tmp_path):
    """A rerun never mixes with files of an earlier run (stale outputs, planted links)."""
    nl = build_small(rows=2, cols=1)
    job_dir = tmp_path / "j"
    job_dir.mkdir()
    outside = tmp_path / "outside.txt"
    outside.write_text("keep me\n")
    (job_dir / "tran.raw").symlink_to(outside)  # a planted link where the raw file goes
    (job_dir / "wave.raw").write_text("stale\n")
    res = run_job(Job("j", nl, random_stimulus(nl, 3, 1)), job_dir)
    assert outside.read_text() == "keep me\n"
    assert not (job_dir / "wave.raw").exists() and not (job_dir / "tran.raw").is_symlink()
    assert json.loads((job_dir / "job.json").read_text())["name"] == "j"
    raw = read_raw(job_dir / "tran.raw")
    assert raw["v(out_0_0)"].size > 10 and res.v_sample_v.shape == (3, nl.spec.bit_cols)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_staging_directories_of_dead_runs_are_removed(tmp_path):
    """A run killed outright leaves its staging directory; the next run removes it, and
    leaves a live run's alone."""
    import subprocess

    from netlistgen.sim import runner, simulate

    dead = subprocess.Popen(["true"])
    dead.wait()
    root = tmp_path / "jobs"
    mine = simulate.staging_dir(root / "a")
    theirs = root / ".b.run-x1"
    theirs.mkdir()
    (theirs / simulate.OWNER_FILE).write_text(json.dumps({"owner": dead.pid, "owner_start_ticks": None}))
    assert json.loads((mine / simulate.OWNER_FILE).read_text()) == runner.owner_record()
    assert simulate.remove_stale_staging(root) == [theirs]
    assert mine.is_dir() and not theirs.exists()


def test_sampling_step_comes_from_the_technology(build_small, tmp_path):
    """Sampling runs use the technology's `sample_max_step_s` (deck and bench); energy runs keep their own."""
    import dataclasses

    from netlistgen.circuits.testbench import Timing, transient_deck
    from netlistgen.sim.simulate import ENERGY_MAX_STEP_S

    nl = build_small(cols=1)
    nl = dataclasses.replace(nl, tech=dataclasses.replace(nl.tech, sample_max_step_s=3e-10))
    stim = random_stimulus(nl, 2, 1)
    assert Job("a", nl, stim).bench().analysis.max_step_s == 3e-10
    assert Job("e", nl, stim, energy=True).bench().analysis.max_step_s == ENERGY_MAX_STEP_S
    deck, _ = transient_deck(nl, str(tmp_path / "array.sp"), stim, Timing.for_technology(nl.tech))
    tran = next(line for line in deck.splitlines() if line.strip().startswith("tran "))
    assert float(tran.split()[1]) == float(tran.split()[-1]) == pytest.approx(3e-10)


def test_job_max_step_defaults_by_kind_and_energy_steps_keep_the_spec_limit(build_small):
    from netlistgen.core.errors import NetlistgenError
    from netlistgen.sim.simulate import ENERGY_MAX_STEP_S

    nl = build_small(rows=2, cols=1)
    stim = random_stimulus(nl, 2, 1)
    assert Job("s", nl, stim).bench().analysis.max_step_s == nl.tech.sample_max_step_s
    assert Job("e", nl, stim, energy=True).bench().analysis.max_step_s == ENERGY_MAX_STEP_S
    # a job's own step (the paper report's energy runs) reaches the deck
    own = Job("e10", nl, stim, energy=True, max_step_s=10e-12)
    assert own.bench().analysis.max_step_s == 10e-12 and own.step_s == 10e-12
    # SPEC section 5: an energy run never steps coarser than 10 ps; the error names the value
    with pytest.raises(NetlistgenError, match="max_step_s 2e-11"):
        Job("e20", nl, stim, energy=True, max_step_s=20e-12)
    assert Job("s200", nl, stim, max_step_s=200e-12).bench().analysis.max_step_s == 200e-12


def test_many_saved_vectors_go_to_a_save_card_not_to_write():
    """ngspice 39's `write` refuses ~1000 arguments ("write: too many args"); an R = 16 int8 LCC
    energy run saves over 1000 vectors, so the deck lists them in `.save` and writes bare."""
    from netlistgen.sim.backends import get_backend

    nl = build(GenerateOptions(scheme="int8", rows=16, cols=1, technology="ptm45"))
    job = Job("big-energy", nl, random_stimulus(nl, 2, 1), energy=True)
    bench = job.bench()
    assert len(bench.analysis.saved) > 1000
    decks = get_backend("subprocess").decks(bench)
    text = decks.files[decks.main]
    control = text[text.index(".control"):]
    assert f"\nwrite {decks.outputs[0]}\n" in control and "i(v" not in control
    save = text[text.index("\n.save"):text.index(".control")]
    assert all(f" {v}" in save for v in bench.analysis.saved)


@pytest.mark.ngspice
def test_sky130_transistor_samples_converge_in_the_step(tmp_path, installed):
    """sky130 sampling runs keep every BSIM4 evaluation (`sample_bypass = false`): with
    ngspice's bypass the samples moved by ~1.8 mV between 100 and 20 ps max step on this
    2x1 array (devices whose voltages change by less than ~0.9 mV are not re-evaluated);
    without it they agree within ~1.5 uV (docs/sky130.md, stop 21)."""
    import dataclasses

    from netlistgen.sim.simulate import deck_options

    nl = build(GenerateOptions(scheme="zebra-i", technology="sky130", rows=2, cols=1, fidelity="transistor"))
    stim = random_stimulus(nl, 2, 1)
    assert "bypass=1" not in deck_options(Job("o", nl, stim))
    bypassed = dataclasses.replace(nl, tech=dataclasses.replace(nl.tech, sample_bypass=True))
    v = {}
    for label, net in (("shipped", nl), ("bypass", bypassed)):
        for step in (100e-12, 20e-12):
            res = run_job(Job(f"{label}{step * 1e12:.0f}", net, stim, max_step_s=step), tmp_path / f"{label}{step}")
            v[label, step] = res.v_sample_v
    assert np.ptp(v["shipped", 20e-12]) > 0.05  # the two cycles differ
    d_shipped = np.abs(v["shipped", 100e-12] - v["shipped", 20e-12]).max()
    d_bypass = np.abs(v["bypass", 100e-12] - v["bypass", 20e-12]).max()
    print(f"100 vs 20 ps: {d_shipped * 1e6:.2f} uV shipped, {d_bypass * 1e6:.1f} uV with bypass")
    assert d_shipped < 5e-6
    assert d_bypass > 100e-6  # the cause: with bypass the grid moves the samples
