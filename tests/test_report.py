"""analysis.report: metrics rows, the table, results files and transfer series read back."""

from __future__ import annotations

import json

import numpy as np
import pytest

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
    assert set(paths) == {"json", "markdown", "samples"} and not list(tmp_path.glob("*.png"))
    doc = json.loads(paths["json"].read_text())
    assert doc["results"][0]["snr_db"] == pytest.approx(row["snr_db"]) and "energy" in doc["bookkeeping"]
    (series,) = transfer_series([tmp_path])
    assert series["gain_v_per_lsb"] == pytest.approx(2e-3, rel=1e-3)
    assert np.allclose(series["y_ideal"], res.y_ideal.ravel())
    with pytest.raises(NetlistgenError, match="no results in"):
        transfer_series([tmp_path / "none"])
