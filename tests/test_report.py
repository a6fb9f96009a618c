"""analysis.report: metrics rows, the table, results files and transfer series read back;
held-value metrics, one fit behind residual points and INL, labels."""

from __future__ import annotations

import json

import numpy as np
import pytest

from netlistgen.analysis import report
from netlistgen.analysis.metrics import column_metrics
from netlistgen.analysis.report import summarize, table, transfer_series, write_report
from netlistgen.circuits.testbench import ideal_outputs, random_stimulus
from netlistgen.core.errors import NetlistgenError
from netlistgen.sim.simulate import Job, SimResult


def synthetic(nl, gain_v: float, offset_v: float, noise_v: float) -> SimResult:
    """A SimResult whose samples are a known line through the ideal values plus noise."""
    stim = random_stimulus(nl, 64, 1)
    y = ideal_outputs(nl, stim)
    v = gain_v * y + offset_v + np.random.default_rng(0).normal(scale=noise_v, size=y.shape)
    return SimResult(Job("syn", nl, stim), y, v, v - 1e-4, None, 1.5, None)


def test_summarize_recovers_the_line(build_small):
    res = synthetic(build_small(cols=1), 2e-3, 1e-3, 1e-5)
    row = summarize("syn", res)
    assert row["gain_mv_per_lsb"] == pytest.approx(2.0, rel=1e-3)
    assert row["offset_mv"] == pytest.approx(1.0, abs=0.01)
    assert row["sample_hold_step_mv_mean"] == pytest.approx(-0.1)
    assert 30 < row["snr_db"] < 120 and row["inl_lsb"] < 0.05
    assert "energy_per_op_fj" not in row
    assert table([row]).splitlines()[2].startswith(f"| syn | {row['gain_mv_per_lsb']:.4f} | ")


def test_write_report_without_plots_and_read_back(build_small, tmp_path):
    res = synthetic(build_small(cols=1), 2e-3, 0.0, 1e-5)
    row = summarize("syn", res)
    paths = write_report([row], {"syn": res}, tmp_path, plots=False)
    assert set(paths) == {"json", "markdown", "samples", "html"} and not list(tmp_path.glob("*.png"))
    doc = json.loads(paths["json"].read_text())
    assert doc["results"][0]["snr_db"] == pytest.approx(row["snr_db"]) and "energy" in doc["bookkeeping"]
    (series,) = transfer_series([tmp_path])
    assert series["gain_v_per_lsb"] == pytest.approx(2e-3, rel=1e-3)
    assert np.allclose(series["y_ideal"], res.y_ideal.ravel())
    with pytest.raises(NetlistgenError, match="no results in"):
        transfer_series([tmp_path / "none"])


def _samples(seed=0, cycles=40, gbls=3):
    rng = np.random.default_rng(seed)
    y = rng.integers(-20, 21, size=(cycles, gbls)).astype(float)
    gain = np.array([3.0e-3, 3.1e-3, 2.9e-3])[:gbls]
    offset = np.array([1e-3, -2e-3, 0.5e-3])[:gbls]
    v = gain * y + offset + 2e-4 * np.sin(y / 3.0) + 1e-5 * rng.normal(size=y.shape)
    return y, v, gain, offset


def test_hold_metrics_report_pedestal_per_column_and_its_spread():
    y, v, gain, _ = _samples()
    pedestal_v = np.array([18.0e-3, 18.5e-3, 19.0e-3])
    v_hold = v * 1.045 + pedestal_v
    h = report.hold_metrics(y, v, v_hold)
    expected = (np.mean(v_hold - v, axis=0)) * 1e3
    assert h["pedestal_mv_per_column"] == pytest.approx(expected.tolist())
    assert h["pedestal_mv_mean"] == pytest.approx(expected.mean())
    assert h["pedestal_mv_spread"] == pytest.approx(expected.std())
    assert h["gain_change_rel"] == pytest.approx(0.045, abs=1e-6)  # hold gain / sample gain - 1
    assert h["gain_mv_per_lsb"] == pytest.approx(1.045 * np.mean(gain) * 1e3, rel=1e-3)


def test_residual_points_and_inl_come_from_the_same_per_gbl_fits():
    y, v, *_ = _samples()
    entry = report.transfer_entry("x", y, v)
    _, overall = column_metrics(y, v)
    # the INL the residual plot draws (max |plotted residual|) is the metric's worst-GBL INL
    assert np.max(np.abs(entry["residual_lsb"])) == pytest.approx(overall["inl_lsb_max"], rel=1e-9)
    # a pooled fit would put points outside those lines for this data
    pooled = (entry["v_meas_v"] - (entry["gain_v_per_lsb"] * entry["y_ideal"] + entry["offset_v"])) \
        / entry["gain_v_per_lsb"]
    assert np.max(np.abs(pooled)) > 1.5 * overall["inl_lsb_max"]


def test_labels_carry_only_the_conditions_that_differ():
    meta = {"scheme": "zebra-i", "rows": 4, "cols": 1, "technology": "ptm45", "temp_c": 27.0, "vdd_v": 1.0,
            "lsb": {"c_unit_f": 1e-15, "dv_v": 1 / 6}}
    y, v, *_ = _samples()
    series = [report.transfer_entry(c, y, v, {**meta, "corner": c}) for c in ("ss", "nom", "ff")]
    title = report.label_series(series)
    assert [s["label"] for s in series] == ["ss (ss)", "nom (nom)", "ff (ff)"]
    assert title == "zebra-i, 4x1, ptm45, 27 °C, VDD 1 V"
    int8 = report.transfer_entry("int8", y, v, {**meta, "scheme": "int8", "corner": "nom",
                                                "lsb": {"c_unit_f": 1e-15, "dv_v": 0.5}})
    zebra = report.transfer_entry("zebra-i", y, v, {**meta, "corner": "nom"})
    report.label_series([int8, zebra])
    assert "1 LSB = 1 fF × 500 mV" in int8["label"] and "1 LSB = 1 fF × 166.7 mV" in zebra["label"]


def test_ideal_gain_is_charge_sharing_of_the_designed_capacitors(build_small):
    nl = build_small(rows=8, cols=1)
    dp = nl.design
    c_total = 8 * (dp.c_unit_f * (1 + nl.spec.c2_ratio) + dp.wire_c_per_row_f) + dp.c_sample_f
    assert report.ideal_gain_v_per_lsb(nl) == pytest.approx(dp.c_unit_f * dp.dv_v / c_total)
