"""Waveform plots of a finished job: node names from the netlist (job.json index and the
library's connectivity), the saved raw file used when it holds them, otherwise a rerun
of the job's bench through the executor and the cache (announced; --saved-only skips it)."""

from __future__ import annotations

import json

import pytest

from netlistgen.analysis.waves import cycle_waveforms, plate_nodes, wave_probes
from netlistgen.circuits.testbench import random_stimulus
from netlistgen.sim.cache import ResultCache
from netlistgen.cli import main
from netlistgen.sim.simulate import Job, run_job


@pytest.mark.parametrize("scheme, plates", [("zebra-i", ["xsl_1_1.xc_2.b1", "xsl_1_1.xc_2.b2"]),
                                            ("int4", ["xsl_1_1.xc_2.xw"])])
def test_plate_nodes_follow_the_library(build_small, scheme, plates):
    nl = build_small(scheme=scheme, rows=2, cols=2)
    meta = Job("j", nl, random_stimulus(nl, 2, 1)).bench().meta
    nodes = meta["nodes"]
    k = 1 * nl.spec.n_bits + 2
    got = plate_nodes(nl.text, nodes["inputs"][1][0], nodes["gbl_bottom"][k])
    assert sorted(got) == sorted(plates)
    assert nodes["outputs"][k] == "out_1_2" and nodes["inputs"][1] == ["inp_1", "inn_1"]


@pytest.mark.ngspice
def test_waveforms_rerun_through_the_cache_and_reuse_a_full_raw(build_small, tmp_path):
    nl = build_small(scheme="zebra-i", rows=2, cols=1)
    stim = random_stimulus(nl, 3, 1)
    job_dir = tmp_path / "jobs" / "j"
    run_job(Job("j", nl, stim), job_dir)
    cache = ResultCache(tmp_path / "cache")
    png = cycle_waveforms(job_dir, 1, tmp_path / "a.png", row=1, col=0, bit=1, cache=cache)
    assert png.stat().st_size > 10_000 and png.read_bytes()[:4] == b"\x89PNG"
    assert len(cache) == 1  # the rerun with the plate nodes saved went through the cache
    meta = json.loads((job_dir / "job.json").read_text())
    groups = wave_probes(job_dir, meta, 1, 0, 1)
    assert groups["plates"] == ["xsl_1_0.xc_1.b1", "xsl_1_0.xc_1.b2"]
    cycle_waveforms(job_dir, 1, tmp_path / "b.png", row=1, col=0, bit=1, cache=cache)
    assert len(cache) == 1  # read back, not simulated again
    # a job that saved every node: its own raw file is used, nothing is rerun
    full = tmp_path / "jobs" / "full"
    run_job(Job("full", nl, stim, probe_nodes=tuple(n for g in groups.values() for n in g)), full)
    cycle_waveforms(full, 1, tmp_path / "c.png", row=1, col=0, bit=1, cache=cache)
    assert len(cache) == 1 and not (tmp_path / "jobs" / ".full-waves").exists()


@pytest.mark.ngspice
def test_waveform_reuses_saved_raw_and_says_when_it_resimulates(tmp_path, capsys, installed):
    out = tmp_path / "sim"
    assert main(["simulate", "--scheme", "zebra-i", "--rows", "2", "--cols", "1", "--cycles", "4",
                 "--energy-cycles", "0", "--out", str(out), "--no-cache"]) == 0
    capsys.readouterr()
    # held values are saved beside the sampled ones, and their metrics reported
    samples = json.loads((out / "samples.json").read_text())["zebra-i-2x1"]
    assert len(samples["v_hold_v"]) == 4 and len(samples["v_hold_v"][0]) == 4
    hold = json.loads((out / "results.json").read_text())["results"][0]["hold"]
    assert len(hold["pedestal_mv_per_column"]) == 4 and 5 < hold["pedestal_mv_mean"] < 40
    assert (out / "report.html").is_file()

    job = out / "jobs" / "zebra-i-2x1"
    logs: list[str] = []
    # --saved-only: only the sampled outputs tran.raw holds, no ngspice run
    cycle_waveforms(job, 1, tmp_path / "saved.svg", resimulate=False, log=logs.append)
    assert not (out / "jobs" / ".zebra-i-2x1-waves").exists() and "no re-simulation" in logs[-1]
    svg = (tmp_path / "saved.svg").read_text()
    assert "v(out_0_0)" in svg and "v(inp_0)" not in svg
    # default: says it reruns the job, then every node is there
    cycle_waveforms(job, 1, tmp_path / "full.svg", log=logs.append)
    assert "re-simulating" in logs[-1]
    assert "v(inp_0)" in (tmp_path / "full.svg").read_text()
