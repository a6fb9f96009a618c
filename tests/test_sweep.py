"""Condition sweeps: the matrix, and a real 3 x 3 corner/temperature sweep in ngspice."""

from __future__ import annotations

import csv
import json

import pytest

from netlistgen.cli import main
from netlistgen.core.errors import NetlistgenError
from netlistgen.studies import sweep

from test_htmlreport import needs_chromium, render_checks


def test_matrix_order_and_job_safe_labels():
    conds = sweep.matrix(["ss", "ff"], ["-40", "27.5"], [None, 0.9])
    assert [c.label for c in conds] == ["ss-tm40", "ss-tm40-v0p9", "ss-t27p5", "ss-t27p5-v0p9",
                                        "ff-tm40", "ff-tm40-v0p9", "ff-t27p5", "ff-t27p5-v0p9"]
    assert conds[1] == sweep.Condition("ss", -40.0, 0.9)


@pytest.mark.parametrize("call,needle", [
    (lambda: sweep.matrix(["nom"], ["-300"], [None]), "temperature"),
    (lambda: sweep.matrix(["nom"], ["27"], ["0"]), "vdd"),
    (lambda: sweep.split_list("ss,,ff", "corner"), "--corner"),
    (lambda: sweep.split_list("27,27", "temp"), "distinct"),
])
def test_bad_conditions_are_one_line_errors(call, needle):
    with pytest.raises(NetlistgenError, match=needle):
        call()


def test_unknown_corner_stops_before_any_job(tmp_path, capsys, installed):
    out = tmp_path / "sw"
    assert main(["sweep", "--rows", "2", "--cols", "1", "--corner", "ss,fff", "--out", str(out)]) == 2
    assert "did you mean 'ff'?" in capsys.readouterr().err and not out.exists()


SPEC = """specs:
  - {metric: inl_lsb, max: 0.5}
  - metric: pedestal_mv_mean
    max: 0
    when: {corner: ff}
"""


@pytest.mark.ngspice
@pytest.mark.slow
def test_corner_by_temperature_sweep_in_one_command(tmp_path, capsys, installed):
    out, cache = tmp_path / "sw", tmp_path / "cache"
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC)
    argv = ["sweep", "--scheme", "zebra-i", "--rows", "4", "--cols", "1", "--cycles", "6", "--corner", "ss,nom,ff",
            "--temp", "-40,27,125", "--out", str(out), "--cache-dir", str(cache), "--spec", str(spec)]
    assert main(argv) == 1  # the ff pedestal limit fails, everything else passes
    first = capsys.readouterr()
    assert "9 jobs, 9 simulated, 0 from cache, 0 failed" in first.err
    rows = list(csv.DictReader((out / "summary.csv").open()))
    assert [(r["corner"], float(r["temp_c"])) for r in rows] == [
        (c, t) for c in ("ss", "nom", "ff") for t in (-40.0, 27.0, 125.0)]
    ped = {(r["corner"], float(r["temp_c"])): float(r["pedestal_mv_mean"]) for r in rows}
    for c in ("ss", "nom", "ff"):  # charge injection at the sample switch grows with temperature ...
        assert ped[(c, -40.0)] < ped[(c, 27.0)] < ped[(c, 125.0)]
    for t in (-40.0, 27.0, 125.0):  # ... and with faster devices
        assert ped[("ss", t)] < ped[("nom", t)] < ped[("ff", t)]
    assert {r["label"]: r["spec"] for r in rows if r["spec"] == "FAIL"} == {
        "ff-tm40": "FAIL", "ff-t27": "FAIL", "ff-t125": "FAIL"}
    doc = json.loads((out / "summary.json").read_text())
    assert doc["specs"]["summary"]["failing_cases"] == ["ff-t125", "ff-t27", "ff-tm40"]
    assert all(r["temp_c"] == c["temp_c"] for r, c in zip(doc["results"], doc["conditions"]))
    deck = (out / "jobs" / "ss-t125" / "tran.sp").read_text()
    assert ".temp 125\n" in deck
    for metric in ("gain_mv_per_lsb", "offset_mv", "inl_lsb", "snr_db", "hold_snr_db", "pedestal_mv_mean"):
        assert "<text" in (out / f"sweep_{metric}.svg").read_text()

    assert main(argv) == 1  # a repeat comes from the cache, with the same numbers
    assert "9 jobs, 0 simulated, 9 from cache, 0 failed" in capsys.readouterr().err
    again = list(csv.DictReader((out / "summary.csv").open()))
    assert [r["pedestal_mv_mean"] for r in again] == [r["pedestal_mv_mean"] for r in rows]


@needs_chromium
@pytest.mark.ngspice
def test_supply_sweep_scales_the_lsb_and_its_report_renders(tmp_path, capsys, installed):
    out = tmp_path / "sw"
    assert main(["sweep", "--scheme", "zebra-i", "--rows", "4", "--cols", "1", "--cycles", "6", "--vdd", "0.9,1.1",
                 "--out", str(out), "--no-cache"]) == 0
    rows = {r["label"]: r for r in json.loads((out / "summary.json").read_text())["results"]}
    low, high = rows["nom-t27-v0p9"], rows["nom-t27-v1p1"]
    # dV = VDD/6, so the GBL step per LSB scales with the supply
    assert high["gain_mv_per_lsb"] / low["gain_mv_per_lsb"] == pytest.approx(1.1 / 0.9, rel=0.03)
    assert high["lsb"]["dv_v"] == pytest.approx(1.1 / 6)
    render_checks(out / "report.html", tmp_path, ["netlistgen sweep", "nom-t27-v0p9", "VDD (V)", "Held value"])
