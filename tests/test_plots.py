"""Tests of netlistgen.analysis.plots: real files in each format, atomic writes, input errors."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

from netlistgen.analysis import plots
from netlistgen.core.errors import NetlistgenError
from netlistgen.analysis.plots import energy_bar, residual_plot, snr_vs_noise, transfer_curve, waveforms

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _series():
    rng = np.random.default_rng(2)
    out = []
    for label, gain, offset in (("ZEBRA I", 2e-3, 0.004), ("baseline", 3e-3, -0.01)):
        y = np.arange(-20, 21, dtype=float)
        v = gain * y + offset + 2e-4 * np.cos(2 * np.pi * y / 41) + 1e-5 * rng.standard_normal(y.size)
        out.append({"label": label, "y_ideal": y, "v_meas_v": v,
                    "gain_v_per_lsb": gain, "offset_v": offset})
    return out


def _rows():
    return [
        {"label": "baseline 4-4", "energy_per_op_fj": 15.3,
         "breakdown": {"VDD": 5.0, "VCM": 3.3, "inputs": 7.0}},
        {"label": "ZEBRA I 8-8", "energy_per_op_fj": 15.6,
         "breakdown": {"VDD": 4.0, "VCM": 3.0}},  # remainder drawn as "other"
        {"label": "ZEBRA II 8-8", "energy_per_op_fj": 15.5},
    ]


def _waves():
    t = np.linspace(0.0, 4e-9, 801)
    traces = {
        "gbl0": 0.45 + 0.05 * np.sin(t / 1e-9),
        "bp_r0": 0.45 + 0.1 * (t > 1e-9),
        "inp_r0": 0.45 + 0.15 * (t > 1.5e-9),
        "rst": 0.9 * (t < 0.5e-9),
        "misc/vcm": np.full(t.size, 0.45),
    }
    return t, traces


CALLS = {
    "transfer_curve": lambda path: transfer_curve(_series(), path, title="transfer"),
    "residual_plot": lambda path: residual_plot(_series(), path),
    "energy_bar": lambda path: energy_bar(_rows(), path, title="energy"),
    "waveforms": lambda path: waveforms(*_waves(), path, window_s=(0.5e-9, 3e-9)),
    "snr_vs_noise": lambda path: snr_vs_noise(
        [{"label": "ZEBRA I", "noise": [0.0, 1.0, 2.0, 4.0], "snr_db": [np.inf, 40.0, 34.0, 28.0]}],
        path, noise_label="noise at GBL (mV rms)"),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_writes_png(tmp_path, name):
    path = tmp_path / f"{name}.png"
    result = CALLS[name](path)
    assert result == path
    data = path.read_bytes()
    assert data.startswith(PNG_MAGIC)
    assert len(data) > 5000
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temp file left


@pytest.mark.parametrize("name", sorted(CALLS))
def test_writes_svg(tmp_path, name):
    path = tmp_path / f"{name}.svg"
    CALLS[name](path)
    text = path.read_text()
    assert text.lstrip().startswith("<?xml") and "<svg" in text and text.rstrip().endswith("</svg>")


def test_writes_pdf_and_suffix_is_case_insensitive(tmp_path):
    path = tmp_path / "t.PDF"
    transfer_curve(_series(), path)
    assert path.read_bytes().startswith(b"%PDF")


@pytest.mark.parametrize("name", sorted(CALLS))
@pytest.mark.parametrize("suffix", [".jpg", ".txt", ""])
def test_bad_suffix_raises_and_leaves_nothing(tmp_path, name, suffix):
    with pytest.raises(NetlistgenError, match="suffix"):
        CALLS[name](tmp_path / f"plot{suffix}")
    assert list(tmp_path.iterdir()) == []


def test_missing_directory_raises(tmp_path):
    with pytest.raises(NetlistgenError, match="does not exist"):
        transfer_curve(_series(), tmp_path / "nope" / "t.png")
    assert list(tmp_path.iterdir()) == []


def test_failed_save_keeps_old_file_and_leaves_no_temp(tmp_path, monkeypatch):
    path = tmp_path / "t.png"
    path.write_bytes(b"old plot")

    def boom(self, *args, **kwargs):
        raise RuntimeError("renderer failed")

    monkeypatch.setattr(Figure, "savefig", boom)
    with pytest.raises(RuntimeError, match="renderer failed"):
        transfer_curve(_series(), path)
    assert path.read_bytes() == b"old plot"
    assert [p.name for p in tmp_path.iterdir()] == ["t.png"]


def test_overwrites_existing_plot(tmp_path):
    path = tmp_path / "t.png"
    path.write_bytes(b"old plot")
    transfer_curve(_series(), path)
    assert path.read_bytes().startswith(PNG_MAGIC)


def test_series_errors(tmp_path):
    bad = _series()
    bad[0]["v_meas_v"] = bad[0]["v_meas_v"][:-1]
    with pytest.raises(NetlistgenError, match="differ in length"):
        transfer_curve(bad, tmp_path / "t.png")
    with pytest.raises(NetlistgenError, match="lacks gain_v_per_lsb"):
        residual_plot([{"y_ideal": [0, 1], "v_meas_v": [0, 1], "offset_v": 0}], tmp_path / "r.png")
    with pytest.raises(NetlistgenError, match="non-empty"):
        transfer_curve([], tmp_path / "t.png")
    zero = _series()
    zero[1]["gain_v_per_lsb"] = 0.0
    with pytest.raises(NetlistgenError, match="gain_v_per_lsb is 0"):
        residual_plot(zero, tmp_path / "r.png")
    assert list(tmp_path.iterdir()) == []


def test_energy_bar_rejects_breakdown_above_total(tmp_path):
    rows = [{"label": "x", "energy_per_op_fj": 10.0, "breakdown": {"VDD": 8.0, "VCM": 3.0}}]
    with pytest.raises(NetlistgenError, match="breakdown sums to 11"):
        energy_bar(rows, tmp_path / "e.png")
    with pytest.raises(NetlistgenError, match="negative"):
        energy_bar([{"label": "x", "energy_per_op_fj": -1.0}], tmp_path / "e.png")


def test_waveform_grouping_and_errors(tmp_path):
    assert plots._wave_group("gbl3") == "GBL"
    assert plots._wave_group("v(bp_r3_c0)") == "plates"
    assert plots._wave_group("bp_r3_c0") == "plates"
    assert plots._wave_group("inn_r2") == "inputs"
    assert plots._wave_group("rst_b") == "control"
    assert plots._wave_group("sense/gbl0") == "sense"
    t, traces = _waves()
    path = tmp_path / "w.png"
    waveforms(t, traces, path, groups={"GBL": ["gbl0"], "drive": ["inp_r0", "rst"]})
    assert path.read_bytes().startswith(PNG_MAGIC)
    with pytest.raises(NetlistgenError, match="unknown trace 'nope'"):
        waveforms(t, traces, tmp_path / "x.png", groups={"GBL": ["nope"]})
    with pytest.raises(NetlistgenError, match="holds no samples"):
        waveforms(t, traces, tmp_path / "x.png", window_s=(5e-9, 6e-9))
    with pytest.raises(NetlistgenError, match="has 3 points"):
        waveforms(t, {"gbl0": [0.0, 1.0, 2.0]}, tmp_path / "x.png")
    assert [p.name for p in tmp_path.iterdir()] == ["w.png"]


def test_ratio_sweep_writes_panels_and_rejects_ragged_series(tmp_path):
    panels = [{"x": [16, 32, 64], "xlabel": "rows", "series": {"same / a": [4.0, 3.9, 3.7], "lossless / a": [1.7, 1.4, 0.7]},
               "log_x": True},
              {"x": [4, 5, 6], "xlabel": "bits", "series": {"same / a": [3.9, 3.95, 3.97]}}]
    path = plots.ratio_sweep(panels, tmp_path / "sweep.png", reference={"seeds": 4.04})
    assert path.stat().st_size > 5000
    bad = [{"x": [16, 32], "series": {"s": [1.0, 2.0, 3.0]}}]
    with pytest.raises(NetlistgenError, match="3 values for 2 x values"):
        plots.ratio_sweep(bad, tmp_path / "bad.png")
    assert not (tmp_path / "bad.png").exists()
    with pytest.raises(NetlistgenError, match="non-empty"):
        plots.ratio_sweep([], tmp_path / "empty.png")


def test_svg_text_stays_editable_text(tmp_path):
    series = [{**_series()[0], "ideal_gain_v_per_lsb": 2.2e-3}]
    text = transfer_curve(series, tmp_path / "t.svg", title="Transfer curve: ptm45, ss, 125 °C").read_text()
    assert "<text" in text and "Transfer curve: ptm45, ss, 125 °C" in text
    assert "ideal charge sharing 2.2 mV/LSB" in text  # the ideal line and its legend entry


def test_residual_inl_lines_bound_every_given_residual(tmp_path):
    s = _series()[0]
    residual = np.linspace(-0.3, 0.2, s["y_ideal"].size)
    svg = residual_plot([{**s, "residual_lsb": residual}], tmp_path / "r.svg").read_text()
    assert "(INL 0.3 LSB)" in svg  # max |plotted residual|, not a separate number
    with pytest.raises(NetlistgenError, match="residual_lsb"):
        residual_plot([{**s, "residual_lsb": residual[:-1]}], tmp_path / "r.png")


def test_metric_against_numeric_and_categorical_conditions(tmp_path):
    num = plots.metric_vs_condition(
        [{"label": "ss", "x": [125, -40, 27], "y": [38.2, 62.7, 60.1]}, {"label": "ff", "x": [-40, 27, 125],
                                                                         "y": [60.5, 63.6, 61.1]}],
        tmp_path / "snr.svg", x_label="temperature (°C)", y_label="SNR (dB)").read_text()
    assert "temperature (°C)" in num and num.count(">ss<") + num.count("ss</text>") >= 1
    cat = plots.metric_vs_condition([{"label": "", "x": ["ss", "nom", "ff"], "y": [1.0, 2.0, 3.0]}],
                                    tmp_path / "c.svg", x_label="process corner", y_label="gain").read_text()
    assert all(c in cat for c in ("ss", "nom", "ff"))
    with pytest.raises(NetlistgenError, match="differ in length"):
        plots.metric_vs_condition([{"label": "a", "x": [1, 2], "y": [1.0]}], tmp_path / "b.png", x_label="x",
                                  y_label="y")
