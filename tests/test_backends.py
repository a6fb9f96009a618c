"""Simulator backends behind one interface: the registry, analyses as data (op, AC,
transient) run by both ngspice engines with the same answers, identity in the cache
key, and results read only from outputs of this run."""

from __future__ import annotations

import numpy as np
import pytest

from netlistgen.circuits.testbench import dc_sources, output_nodes, static_levels
from netlistgen.core.errors import NetlistgenError, SimulationError
from netlistgen.sim.backends import (BACKENDS, AcAnalysis, Bench, DeckSet, OpAnalysis, backend_names,
                                     get_backend)
from netlistgen.sim.cache import ResultCache
from netlistgen.sim.executor import run_jobs
from netlistgen.sim.simulate import BenchJob, prepare
from netlistgen.studies.montecarlo import gbl_nodes


NGSPICE_ENGINES = ("subprocess", "shared")  # op/AC benches; vacask is transient-only (tests/test_vacask.py)


def test_registry_names_and_unknown_backend():
    assert backend_names() == tuple(BACKENDS) and {"subprocess", "shared"} <= set(BACKENDS)
    with pytest.raises(NetlistgenError, match="unknown backend 'xyce'; known: subprocess, shared, vacask"):
        get_backend("xyce")
    assert get_backend("subprocess").processes is False and get_backend("shared").processes is True


def _op_bench(nl) -> Bench:
    return Bench("op", "operating point", nl, tuple(dc_sources(static_levels(nl))),
                 OpAnalysis(tuple(output_nodes(nl))))


def test_decks_are_deterministic_and_relative(build_small):
    nl = build_small(rows=2, cols=1)
    decks = get_backend("subprocess").decks(_op_bench(nl))
    assert decks.main == "op.sp" and decks.outputs[0] == "op.raw"
    assert set(decks.files) == {"array.sp", ".spiceinit", "op.sp"}
    assert '.include "array.sp"' in decks.files["op.sp"]  # the job directory can move
    assert decks == get_backend("shared").decks(_op_bench(nl))


@pytest.mark.ngspice
def test_engine_identity_is_in_the_cache_key(build_small, tmp_path):
    ids = {name: get_backend(name).identity() for name in NGSPICE_ENGINES}
    assert ids["subprocess"].startswith("ngspice-39 -b ") and ids["shared"].startswith("libngspice ")
    cache = ResultCache(tmp_path / "c")
    job = BenchJob(_op_bench(build_small(rows=2, cols=1)))
    keys = {name: prepare(job, name, cache)[0].key for name in NGSPICE_ENGINES}
    assert keys["subprocess"] != keys["shared"]


@pytest.mark.ngspice
def test_op_and_ac_agree_across_engines_and_are_cached(build_small, tmp_path):
    nl = build_small(rows=2, cols=1)
    vcm = nl.design.vcm_v
    levels = {**static_levels(nl), "rst": 0.0, "rstb": nl.design.vdd_v}
    ac = Bench("ac", "GBL impedance", nl, tuple(dc_sources(levels)), AcAnalysis(1e8, tuple(gbl_nodes(nl))))
    cache = ResultCache(tmp_path / "c")
    got = {}
    for name in NGSPICE_ENGINES:
        res, err = run_jobs([BenchJob(_op_bench(nl)), BenchJob(ac)], tmp_path / name, workers=1, progress=False,
                            backend=name, cache=cache)
        assert not err
        got[name] = res
    for name, res in got.items():
        outs = [float(res["op"].vectors[f"v({n})"][0]) for n in output_nodes(nl)]
        assert np.allclose(outs, vcm, atol=1e-3), name
        z = np.array([complex(res["ac"].vectors[f"v({n})"][0]) for n in gbl_nodes(nl)])
        c_f = (1 / z).imag / (2 * np.pi * 1e8)
        assert np.all((c_f > 10e-15) & (c_f < 1e-12)), (name, c_f)  # tens of fF per GBL
    for key, nodes in (("op", output_nodes(nl)), ("ac", gbl_nodes(nl))):
        a, b = got["subprocess"][key].vectors, got["shared"][key].vectors
        for vec in (f"v({n})" for n in nodes):
            assert np.allclose(a[vec], b[vec], rtol=1e-9, atol=1e-12), (key, vec)
    again, _ = run_jobs([BenchJob(ac)], tmp_path / "again", workers=1, progress=False, cache=cache)
    assert again["ac"].cached
    assert all(np.array_equal(again["ac"].vectors[k], got["subprocess"]["ac"].vectors[k])
               for k in got["subprocess"]["ac"].vectors)


@pytest.mark.ngspice
def test_exit_0_without_a_raw_file_never_reads_a_stale_one(tmp_path):
    """The simulator exits 0 but writes nothing: the raw file an earlier run left in the
    directory is not read."""
    engine = get_backend("subprocess")
    good = DeckSet({"op.sp": "* op\nV1 a 0 1\nR1 a 0 1k\n.control\nop\nwrite op.raw v(a)\nquit 0\n.endc\n.end\n"},
                   "op.sp", ("op.raw", "op.log"))
    good.write(tmp_path)
    first = engine.run(good, tmp_path, timeout_s=60, name="first")
    assert float(first.vectors["v(a)"][0]) == pytest.approx(1.0)
    assert (tmp_path / "op.raw").is_file()
    silent = DeckSet({"op.sp": "* op\nV1 a 0 2\nR1 a 0 1k\n.control\nop\nquit 0\n.endc\n.end\n"}, "op.sp",
                     ("op.raw", "op.log"))
    silent.write(tmp_path)
    with pytest.raises(SimulationError, match="exited without writing op.raw"):
        engine.run(silent, tmp_path, timeout_s=60, name="second")


@pytest.mark.ngspice
def test_check_runs_through_backend_executor_and_cache(tmp_path, capsys, installed):
    from netlistgen.cli import main

    gen = tmp_path / "gen"
    assert main(["generate", "--rows", "2", "--cols", "1", "--out", str(gen)]) == 0
    capsys.readouterr()
    cache = ["--cache-dir", str(tmp_path / "c")]
    assert main(["check", str(gen), *cache]) == 0
    first = capsys.readouterr().out
    assert first.startswith("PASS: ") and "(cached)" not in first
    assert (gen / "jobs" / "check" / "op.raw").is_file()
    assert main(["check", str(gen), *cache]) == 0
    assert "(cached)" in capsys.readouterr().out
    assert main(["check", str(gen), "--backend", "shared", "--no-cache"]) == 0
    shared = capsys.readouterr().out
    assert shared.split(" mV")[0] == first.split(" mV")[0]  # the same worst |V - VCM|
    (gen / "array.sp").write_text((gen / "array.sp").read_text() + "* edited\n")
    assert main(["check", str(gen), *cache]) == 2
    assert "does not match its manifest.json" in capsys.readouterr().err
