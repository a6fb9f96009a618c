"""Waveform plots of a finished job: a saved raw file is reused, a re-simulation is announced."""

from __future__ import annotations

import json

import pytest

from netlistgen.analysis.waves import cycle_waveforms
from netlistgen.cli import main

from conftest import needs_ngspice


@needs_ngspice
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
    assert not (job / "wave.raw").exists() and "no re-simulation" in logs[-1]
    svg = (tmp_path / "saved.svg").read_text()
    assert "v(out_0_0)" in svg and "v(inp_0)" not in svg
    # default: says it re-simulates, then every node is there
    cycle_waveforms(job, 1, tmp_path / "full.svg", log=logs.append)
    assert "re-simulating tran.sp" in logs[-1] and (job / "wave.raw").is_file()
    assert "v(inp_0)" in (tmp_path / "full.svg").read_text()
    # a second plot reads the saved wave.raw: no message, same file untouched
    stamp = (job / "wave.raw").stat().st_mtime_ns
    n = len(logs)
    cycle_waveforms(job, 2, tmp_path / "again.svg", log=logs.append)
    assert len(logs) == n and (job / "wave.raw").stat().st_mtime_ns == stamp
    assert "from saved wave.raw" in (tmp_path / "again.svg").read_text()
