"""Report plots: transfer curves, residual/INL, energy bars, waveforms, SNR vs noise.

Figures are built on matplotlib's object API with the Agg canvas (no pyplot), so
nothing here touches global backend state or needs a display, and concurrent calls do
not share a current figure. The format comes from the file suffix (.png, .svg, .pdf).
Each plot is written to a temporary file beside the target and renamed over it, so a
reader never sees a half-written plot and a failure leaves no partial file.

Like metrics, this module takes plain arrays and dicts and imports nothing from the
netlist/testbench/runner side.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib import rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from netlistgen.core.errors import NetlistgenError

__all__ = [
    "FORMATS",
    "accuracy_vs_noise",
    "energy_bar",
    "grouped_bars",
    "metric_vs_condition",
    "ratio_bars",
    "residual_plot",
    "snr_vs_noise",
    "transfer_curve",
    "waveforms",
]

FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}
_DPI = 150
# Subplot order of waveforms(); groups not listed follow in first-seen order.
_WAVE_GROUP_ORDER = ("GBL", "plates", "inputs", "control")
X_LABEL = "ideal column MAC y (LSB = C1·ΔV)"


# ---------------------------------------------------------------------------- output


def output_target(path) -> tuple[Path, str]:
    """Validate the output path before any work: known suffix, existing directory."""
    p = Path(path)
    fmt = FORMATS.get(p.suffix.lower())
    if fmt is None:
        raise NetlistgenError(
            f"plot file {str(p)!r} has suffix {p.suffix or '(none)'!r}; "
            f"use one of {', '.join(FORMATS)}"
        )
    if not p.parent.is_dir():
        raise NetlistgenError(f"plot directory {str(p.parent)!r} does not exist")
    return p, fmt


def save_figure(fig: Figure, path: Path, fmt: str) -> Path:
    """Write fig atomically: temp file in the same directory, then os.replace."""
    FigureCanvasAgg(fig)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        # "xb" honours the umask (a mkstemp file would be 0600) and never clobbers.
        # svg.fonttype none: SVG text stays text (editable, searchable), not glyph paths
        with open(tmp, "xb") as fh, rc_context({"svg.fonttype": "none"}):
            metadata = {"Software": None} if fmt == "png" else {"Date": None} if fmt == "svg" else None
            # PNG: zlib level 1 instead of 6 saves ~0.03 CPU s per plot for files ~15 % larger
            extra = {"pil_kwargs": {"compress_level": 1}} if fmt == "png" else {}
            fig.savefig(fh, format=fmt, dpi=_DPI, metadata=metadata, **extra)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise NetlistgenError(f"cannot write plot {str(path)!r}: {exc.strerror or exc}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def _figure(title: str | None, *, width_in=7.0, height_in=4.5) -> Figure:
    fig = Figure(figsize=(width_in, height_in), layout="constrained")
    if title:
        fig.suptitle(str(title))
    return fig


def _legend_below(fig: Figure, ax) -> None:
    """The legend under the axes, so long labels (conditions, LSB) never cover data."""
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", fontsize="small")


# ---------------------------------------------------------------------------- inputs


def _array(what: str, values) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise NetlistgenError(f"{what} must be a numeric array") from None
    if arr.ndim != 1 or arr.size == 0:
        raise NetlistgenError(f"{what} must be a non-empty 1-D array, got shape {arr.shape}")
    return arr


def _number(what: str, value) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise NetlistgenError(f"{what} must be a number, got {value!r}") from None
    if not np.isfinite(x):
        raise NetlistgenError(f"{what} must be finite, got {x}")
    return x


def _transfer_series(series) -> list[dict]:
    """Validated transfer-curve series with float arrays and a nonzero gain."""
    if isinstance(series, Mapping) or not isinstance(series, Sequence) or not series:
        raise NetlistgenError("series must be a non-empty list of dicts")
    out = []
    for k, s in enumerate(series):
        if not isinstance(s, Mapping):
            raise NetlistgenError(f"series[{k}] must be a dict, got {type(s).__name__}")
        missing = [
            key for key in ("y_ideal", "v_meas_v", "gain_v_per_lsb", "offset_v") if key not in s
        ]
        if missing:
            raise NetlistgenError(f"series[{k}] lacks {', '.join(missing)}")
        label = str(s.get("label", f"series {k}"))
        y = _array(f"series {label!r} y_ideal", s["y_ideal"])
        v = _array(f"series {label!r} v_meas_v", s["v_meas_v"])
        if y.size != v.size:
            raise NetlistgenError(
                f"series {label!r}: y_ideal ({y.size}) and v_meas_v ({v.size}) differ in length"
            )
        gain = _number(f"series {label!r} gain_v_per_lsb", s["gain_v_per_lsb"])
        if gain == 0.0:
            raise NetlistgenError(f"series {label!r}: gain_v_per_lsb is 0")
        offset = _number(f"series {label!r} offset_v", s["offset_v"])
        out.append({"label": label, "y": y, "v": v, "gain": gain, "offset": offset, "raw": s})
    return out


def _colors(n: int) -> list:
    """Distinct colours from the default cycle, repeated if there are many series."""
    from matplotlib import rcParams

    cycle = rcParams["axes.prop_cycle"].by_key().get("color", ["C0"])
    return [cycle[k % len(cycle)] for k in range(n)]


# ----------------------------------------------------------------------------- plots


def _series_figure(series: list[dict], title: str):
    """Figure, axes and (checked series item, colour) pairs of the transfer/residual plots."""
    items = _transfer_series(series)
    fig = _figure(title)
    return fig, fig.add_subplot(), list(zip(items, _colors(len(items))))


def _save_xy(fig: Figure, ax, labels: tuple[str, str], target: Path, fmt: str) -> Path:
    """Axis labels, grid and the legend below, then the atomic save."""
    ax.set_xlabel(labels[0])
    ax.set_ylabel(labels[1])
    ax.grid(True, alpha=0.3)
    _legend_below(fig, ax)
    return save_figure(fig, target, fmt)


def transfer_curve(
    series: list[dict], path, *, title: str | None = None, v_label: str = "V_GBL − VCM (V)",
    x_label: str = X_LABEL,
) -> Path:
    """Measured GBL voltage against the ideal column MAC, with each series' fitted line
    and, where a series gives "ideal_gain_v_per_lsb", its ideal line V = gain * y.

    series: {"label", "y_ideal", "v_meas_v", "gain_v_per_lsb", "offset_v"}. v_label
    names the voltage reference the caller used (V - VCM by default).
    """
    target, fmt = output_target(path)
    fig, ax, items = _series_figure(series, title or "Charge-domain transfer curve")
    for item, color in items:
        y, v = item["y"], item["v"]
        ax.scatter(y, v, s=10, color=color, alpha=0.6, linewidths=0, label=f"{item['label']}: measured")
        y_line = np.array([y.min(), y.max()])
        ax.plot(
            y_line,
            item["gain"] * y_line + item["offset"],
            color=color,
            linewidth=1.2,
            label=f"  fit {item['gain'] * 1e3:.4g} mV/LSB, offset {item['offset'] * 1e3:.4g} mV",
        )
        ideal = item["raw"].get("ideal_gain_v_per_lsb")
        if ideal is not None:
            g = _number(f"series {item['label']!r} ideal_gain_v_per_lsb", ideal)
            ax.plot(y_line, g * y_line, color=color, linestyle=":", linewidth=1.2,
                    label=f"  ideal charge sharing {g * 1e3:.4g} mV/LSB")
    return _save_xy(fig, ax, (x_label, v_label), target, fmt)


def residual_plot(series: list[dict], path, *, title: str | None = None, x_label: str = X_LABEL) -> Path:
    """Fit residual in LSB, y_meas - y_ideal, with ±INL lines.

    Same series dicts as transfer_curve. A series' "residual_lsb" (e.g. from one fit
    per GBL) is plotted if given, else the residual from its own gain/offset; either
    way the ±INL lines are max |residual| of the plotted points, so no point can fall
    outside them.
    """
    target, fmt = output_target(path)
    fig, ax, items = _series_figure(series, title or "Fit residual and INL")
    for item, color in items:
        y, v = item["y"], item["v"]
        if item["raw"].get("residual_lsb") is not None:
            residual_lsb = _array(f"series {item['label']!r} residual_lsb", item["raw"]["residual_lsb"])
            if residual_lsb.size != y.size:
                raise NetlistgenError(f"series {item['label']!r}: residual_lsb ({residual_lsb.size}) and "
                                      f"y_ideal ({y.size}) differ in length")
        else:
            residual_lsb = (v - (item["gain"] * y + item["offset"])) / item["gain"]
        inl = float(np.max(np.abs(residual_lsb)))
        ax.scatter(y, residual_lsb, s=9, color=color, alpha=0.7, linewidths=0,
                   label=f"{item['label']} (INL {inl:.3g} LSB)")
        for sign in (1.0, -1.0):
            ax.axhline(sign * inl, color=color, linestyle="--", linewidth=0.9)
    ax.axhline(0.0, color="0.4", linewidth=0.6)
    return _save_xy(fig, ax, (x_label, "residual y_meas − y_ideal (LSB)"), target, fmt)


def energy_bar(rows: list[dict], path, *, title: str | None = None) -> Path:
    """Energy per operation (fJ) as one bar per row, stacked by source group if given.

    rows: {"label", "energy_per_op_fj", optional "breakdown": {group: fJ}}. A
    breakdown summing to less than the total gets an "other" segment for the rest; one
    summing to more is an error (it cannot be the same bookkeeping).
    """
    target, fmt = output_target(path)
    if isinstance(rows, Mapping) or not isinstance(rows, Sequence) or not rows:
        raise NetlistgenError("rows must be a non-empty list of dicts")
    labels, totals, breakdowns = [], [], []
    for k, row in enumerate(rows):
        if not isinstance(row, Mapping) or "energy_per_op_fj" not in row:
            raise NetlistgenError(f"rows[{k}] must be a dict with 'energy_per_op_fj'")
        label = str(row.get("label", f"row {k}"))
        total = _number(f"row {label!r} energy_per_op_fj", row["energy_per_op_fj"])
        if total < 0:
            raise NetlistgenError(f"row {label!r} energy_per_op_fj is negative ({total:g})")
        parts = {}
        for group, value in dict(row.get("breakdown") or {}).items():
            x = _number(f"row {label!r} breakdown[{group!r}]", value)
            if x < 0:
                raise NetlistgenError(f"row {label!r} breakdown[{group!r}] is negative ({x:g})")
            parts[str(group)] = x
        if parts:
            rest = total - sum(parts.values())
            tol = 1e-6 * max(total, 1e-30)
            if rest < -tol:
                raise NetlistgenError(
                    f"row {label!r}: breakdown sums to {sum(parts.values()):.6g} fJ, "
                    f"more than energy_per_op_fj = {total:.6g} fJ"
                )
            if rest > tol:
                parts["other"] = parts.get("other", 0.0) + rest
        labels.append(label)
        totals.append(total)
        breakdowns.append(parts)

    groups: list[str] = []
    for parts in breakdowns:
        groups.extend(g for g in parts if g not in groups)
    fig = _figure(title or "Energy per operation", width_in=max(5.0, 1.1 * len(rows) + 3.0))
    ax = fig.add_subplot()
    x = np.arange(len(rows))
    bottom = np.zeros(len(rows))
    for group, color in zip(groups, _colors(len(groups))):
        heights = np.array([parts.get(group, 0.0) for parts in breakdowns])
        ax.bar(x, heights, bottom=bottom, color=color, label=group, width=0.6)
        bottom += heights
    plain = np.array([0.0 if parts else t for parts, t in zip(breakdowns, totals)])
    if plain.any():
        ax.bar(x, plain, bottom=bottom, color="0.55", label="total (no breakdown)", width=0.6)
    for xi, total in zip(x, totals):
        ax.annotate(f"{total:.3g}", (xi, total), xytext=(0, 2), textcoords="offset points",
                    ha="center", va="bottom", fontsize="small")
    ax.set_xticks(x, labels, rotation=20 if len(rows) > 4 else 0, ha="right" if len(rows) > 4 else "center")
    ax.set_ylabel("energy per operation (fJ)")
    ax.set_ylim(0, max(max(totals), 1e-30) * 1.15)
    ax.grid(True, axis="y", alpha=0.3)
    if groups or plain.any():
        # outside the axes: stacked bars fill the plot area, a legend inside hides them
        ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return save_figure(fig, target, fmt)


def _wave_group(name: str) -> str:
    """Subplot group of a trace: explicit "group/label" prefix, else by node name."""
    if "/" in name:
        return name.split("/", 1)[0]
    low = name.lower()
    if low.startswith(("v(", "i(")) and low.endswith(")"):  # ngspice vector names
        low = low[2:-1]
    if "gbl" in low:
        return "GBL"
    if "plate" in low or low.startswith(("bp", "bot")):
        return "plates"
    if low.startswith("in") or "siu" in low:
        return "inputs"
    return "control"


def waveforms(
    t_s,
    traces: Mapping[str, np.ndarray],
    path,
    *,
    window_s: tuple[float, float] | None = None,
    title: str | None = None,
    groups: Mapping[str, Sequence[str]] | None = None,
) -> Path:
    """Voltage traces against time (ns), one stacked subplot per group, shared x axis.

    Grouping: `groups` ({group: [trace names]}) if given; otherwise a "group/label"
    trace name; otherwise by node name (gbl -> GBL, plate/bp/bot -> plates,
    in*/siu -> inputs, anything else -> control). window_s limits the time span.
    """
    target, fmt = output_target(path)
    t = _array("t_s", t_s)
    if not isinstance(traces, Mapping) or not traces:
        raise NetlistgenError("traces must be a non-empty {name: array} mapping")
    data = {}
    for name, values in traces.items():
        arr = _array(f"trace {name!r}", values)
        if arr.size != t.size:
            raise NetlistgenError(
                f"trace {name!r} has {arr.size} points but t_s has {t.size}"
            )
        data[str(name)] = arr

    if groups is not None:
        grouped: dict[str, list[str]] = {}
        for group, names in groups.items():
            for name in names:
                if name not in data:
                    raise NetlistgenError(f"groups[{group!r}] names unknown trace {name!r}")
            grouped[str(group)] = [str(n) for n in names]
    else:
        grouped = {}
        for name in data:
            grouped.setdefault(_wave_group(name), []).append(name)
        known = [g for g in _WAVE_GROUP_ORDER if g in grouped]
        grouped = {g: grouped[g] for g in known + [g for g in grouped if g not in known]}
    grouped = {g: names for g, names in grouped.items() if names}
    if not grouped:
        raise NetlistgenError("groups selects no traces")

    keep = slice(None)
    if window_s is not None:
        try:
            w0, w1 = (_number("window_s start", window_s[0]), _number("window_s end", window_s[1]))
        except (TypeError, IndexError):
            raise NetlistgenError(f"window_s must be a (start, end) pair, got {window_s!r}") from None
        if not w1 > w0:
            raise NetlistgenError(f"window_s ({w0:g}, {w1:g}) is empty")
        inside = np.flatnonzero((t >= w0) & (t <= w1))
        if inside.size == 0:
            raise NetlistgenError(
                f"window_s ({w0:g}, {w1:g}) s holds no samples of t_s ({t[0]:g}..{t[-1]:g} s)"
            )
        # one sample either side so the traces reach the window edges
        keep = slice(max(int(inside[0]) - 1, 0), int(inside[-1]) + 2)
    t_ns = t[keep] * 1e9

    n = len(grouped)
    fig = _figure(title or "Waveforms", width_in=8.0, height_in=max(2.0 + 1.6 * n, 3.0))
    axes = fig.subplots(n, 1, sharex=True, squeeze=False)[:, 0]
    for ax, (group, names) in zip(axes, grouped.items()):
        for name, color in zip(names, _colors(len(names))):
            label = name.split("/", 1)[1] if groups is None and "/" in name else name
            ax.plot(t_ns, data[name][keep], color=color, linewidth=0.9, label=label)
        ax.set_ylabel(f"{group} (V)")
        ax.grid(True, alpha=0.3)
        if len(names) <= 12:  # beside the axes: inside, it hides the sample/hold step
            ax.legend(fontsize="x-small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    axes[-1].set_xlabel("time (ns)")
    if window_s is not None:
        axes[-1].set_xlim(w0 * 1e9, w1 * 1e9)
    return save_figure(fig, target, fmt)


def snr_vs_noise(
    series: list[dict],
    path,
    *,
    noise_label: str = "injected noise (mV rms)",
    title: str | None = None,
) -> Path:
    """Compute SNR (dB, left axis) and ENOB (right axis) against a noise level.

    series: {"label", "noise": array, "snr_db": array}; infinite SNR points (no error)
    are left out since they have no place on a finite axis. noise_label gives the
    noise referencing (volts at the GBL, LSB of full scale, ...), which SPEC 5 requires
    to be explicit.
    """
    target, fmt = output_target(path)
    if isinstance(series, Mapping) or not isinstance(series, Sequence) or not series:
        raise NetlistgenError("series must be a non-empty list of dicts")
    fig = _figure(title or "Compute SNR against noise")
    ax = fig.add_subplot()
    for k, (s, color) in enumerate(zip(series, _colors(len(series)))):
        if not isinstance(s, Mapping) or "noise" not in s or "snr_db" not in s:
            raise NetlistgenError(f"series[{k}] must be a dict with 'noise' and 'snr_db'")
        label = str(s.get("label", f"series {k}"))
        noise = _array(f"series {label!r} noise", s["noise"])
        snr = np.asarray(s["snr_db"], dtype=float)
        if snr.shape != noise.shape:
            raise NetlistgenError(
                f"series {label!r}: noise ({noise.size}) and snr_db ({snr.size}) differ in length"
            )
        ok = np.isfinite(snr) & np.isfinite(noise)
        order = np.argsort(noise[ok], kind="stable")
        ax.plot(noise[ok][order], snr[ok][order], marker="o", markersize=4, color=color, label=label)
    ax.set_xlabel(noise_label)
    ax.set_ylabel("compute SNR (dB)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
    enob_ax = ax.secondary_yaxis("right", functions=(lambda s: (s - 1.76) / 6.02,
                                                     lambda b: 6.02 * b + 1.76))
    enob_ax.set_ylabel("ENOB (bits)")
    return save_figure(fig, target, fmt)


def grouped_bars(labels: Sequence[str], groups: Mapping[str, Sequence[float]], path, *, y_label: str,
                 title: str, reference: float | None = None, reference_label: str | None = None) -> Path:
    """Bars of several named groups side by side per label, an optional dashed reference line."""
    target, fmt = output_target(path)
    labels = [str(x) for x in labels]
    if not labels or not groups:
        raise NetlistgenError("grouped_bars needs labels and at least one group")
    values = {}
    for name, vals in groups.items():
        arr = np.array([_number(f"{name}[{k}]", v) for k, v in enumerate(vals)])
        if arr.size != len(labels):
            raise NetlistgenError(f"group {name!r} has {arr.size} values for {len(labels)} labels")
        values[str(name)] = arr
    fig = _figure(title, width_in=max(6.0, 0.35 * len(labels) * len(values) + 3.0))
    ax = fig.add_subplot()
    x = np.arange(len(labels))
    width = 0.8 / len(values)
    for k, ((name, arr), color) in enumerate(zip(values.items(), _colors(len(values)))):
        ax.bar(x - 0.4 + width * (k + 0.5), arr, width=width, color=color, label=name)
    if reference is not None:
        ax.axhline(reference, color="0.3", linestyle="--", linewidth=0.8, label=reference_label)
    ax.set_xticks(x, labels, rotation=35, ha="right", fontsize="small")
    ax.set_ylabel(y_label)
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(fontsize="small")
    return save_figure(fig, target, fmt)


def ratio_bars(rows: list[dict], path, *, title: str | None = None) -> Path:
    """Ratios between columns of a comparison, ours beside a reference's, one group per row.

    rows: {"label", "ours", "reference"}; a dashed line marks 1 (no difference)."""
    if isinstance(rows, Mapping) or not isinstance(rows, Sequence) or not rows:
        raise NetlistgenError("rows must be a non-empty list of dicts")
    for k, row in enumerate(rows):
        if not isinstance(row, Mapping) or "ours" not in row or "reference" not in row:
            raise NetlistgenError(f"rows[{k}] must be a dict with 'ours' and 'reference'")
    return grouped_bars([str(r.get("label", f"row {k}")) for k, r in enumerate(rows)],
                        {"ours (SPICE + area model)": [r["ours"] for r in rows],
                         "seeds (28 nm)": [r["reference"] for r in rows]},
                        path, y_label="ratio", title=title or "Ratios: ours vs reference", reference=1.0)


def accuracy_vs_noise(
    series: list[dict],
    path,
    *,
    noise_label: str,
    float_accuracy: float | None = None,
    title: str | None = None,
) -> Path:
    """Classification accuracy (%) against noise, mean with ±std error bars per series.

    series: {"label", "noise": array, "mean": array, "std": array, "clean": float};
    the clean (noise-free) accuracy is drawn at the left edge as a hollow marker, the
    float network's accuracy as a dashed line. A log x axis when every noise is > 0.
    """
    target, fmt = output_target(path)
    if isinstance(series, Mapping) or not isinstance(series, Sequence) or not series:
        raise NetlistgenError("series must be a non-empty list of dicts")
    fig = _figure(title or "Accuracy against noise")
    ax = fig.add_subplot()
    all_noise = []
    for k, (s, color) in enumerate(zip(series, _colors(len(series)))):
        if not isinstance(s, Mapping) or any(key not in s for key in ("noise", "mean", "std")):
            raise NetlistgenError(f"series[{k}] must be a dict with 'noise', 'mean' and 'std'")
        label = str(s.get("label", f"series {k}"))
        noise = _array(f"series {label!r} noise", s["noise"])
        mean = 100 * np.asarray(s["mean"], dtype=float)
        std = 100 * np.asarray(s["std"], dtype=float)
        if mean.shape != noise.shape or std.shape != noise.shape:
            raise NetlistgenError(f"series {label!r}: noise, mean and std differ in length")
        all_noise.append(noise)
        ax.errorbar(noise, mean, yerr=std, marker="o", markersize=4, capsize=3, color=color, label=label)
        if s.get("clean") is not None:
            ax.plot([noise.min()], [100 * _number(f"series {label!r} clean", s["clean"])], marker="D",
                    markerfacecolor="none", color=color, linestyle="none")
    if float_accuracy is not None:
        ax.axhline(100 * _number("float_accuracy", float_accuracy), color="k", linestyle="--", linewidth=0.8,
                   label="float network")
    if all(np.all(n > 0) for n in all_noise):
        ax.set_xscale("log")
    ax.set_xlabel(noise_label)
    ax.set_ylabel("test accuracy (%)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
    return save_figure(fig, target, fmt)


def tradeoff_scatter(points: list[dict], path, *, x_label: str, y_label: str, title: str | None = None) -> Path:
    """One marker per point at (x, 100*y) with a ±100*yerr bar, a color per "group" and
    each point labelled; for efficiency-accuracy design points."""
    target, fmt = output_target(path)
    if isinstance(points, Mapping) or not isinstance(points, Sequence) or not points:
        raise NetlistgenError("points must be a non-empty list of dicts")
    groups = list(dict.fromkeys(str(p.get("group", "")) for p in points if isinstance(p, Mapping)))
    colors = dict(zip(groups, _colors(len(groups))))
    fig = _figure(title or "Trade-off")
    ax = fig.add_subplot()
    seen = set()
    for k, p in enumerate(points):
        if not isinstance(p, Mapping) or any(key not in p for key in ("x", "y")):
            raise NetlistgenError(f"points[{k}] must be a dict with 'x' and 'y'")
        group = str(p.get("group", ""))
        x, y = _number(f"points[{k}] x", p["x"]), 100 * _number(f"points[{k}] y", p["y"])
        ax.errorbar([x], [y], yerr=[100 * _number(f"points[{k}] yerr", p.get("yerr", 0.0))], marker="o",
                    capsize=3, color=colors[group], linestyle="none", label=None if group in seen else group)
        seen.add(group)
        ax.annotate(str(p.get("label", "")), (x, y), fontsize="x-small", xytext=(3, 3), textcoords="offset points")
    ax.set_xlabel(x_label)
    ax.set_ylabel(y_label)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small", loc="lower right")
    return save_figure(fig, target, fmt)


def ratio_sweep(panels: list[dict], path, *, title: str | None = None, reference: Mapping[str, float] | None = None) -> Path:
    """Side-by-side line plots of a ratio against a swept quantity, one line per series.

    panels: {"x": values, "xlabel", "series": {label: y values}, optional "log_x"};
    reference: {label: value} drawn as dotted horizontal lines in every panel."""
    target, fmt = output_target(path)
    if isinstance(panels, Mapping) or not isinstance(panels, Sequence) or not panels:
        raise NetlistgenError("panels must be a non-empty list of dicts")
    fig = _figure(title or "Ratio sweep", width_in=5.0 * len(panels) + 1.0, height_in=4.5)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for k, (ax, panel) in enumerate(zip(axes, panels)):
        if not isinstance(panel, Mapping) or "x" not in panel or not panel.get("series"):
            raise NetlistgenError(f"panels[{k}] must be a dict with 'x' and non-empty 'series'")
        x = _array(f"panels[{k}] x", panel["x"])
        series = dict(panel["series"])
        for color, (label, ys) in zip(_colors(len(series)), series.items()):
            y = _array(f"panels[{k}] series {label!r}", ys)
            if y.shape != x.shape:
                raise NetlistgenError(f"panels[{k}] series {label!r} has {y.size} values for {x.size} x values")
            ax.plot(x, y, marker="o", markersize=3, color=color, label=str(label))
        for label, value in dict(reference or {}).items():
            ax.axhline(_number(f"reference {label!r}", value), color="0.3", linestyle=":", linewidth=0.9)
            ax.annotate(str(label), (x[0], value), fontsize="x-small", va="bottom")
        if panel.get("log_x"):
            ax.set_xscale("log", base=2)
        ax.set_xlabel(str(panel.get("xlabel", "")))
        ax.set_ylabel(str(panel.get("ylabel", "ratio")))
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="x-small")
    return save_figure(fig, target, fmt)


def metric_vs_condition(
    series: list[dict], path, *, x_label: str, y_label: str, title: str | None = None
) -> Path:
    """One metric against an operating condition, one line per group of the other conditions.

    series: {"label", "x": numbers or names, "y": numbers}; names (e.g. corners) are
    placed in first-seen order on a categorical axis shared by every series."""
    target, fmt = output_target(path)
    if isinstance(series, Mapping) or not isinstance(series, Sequence) or not series:
        raise NetlistgenError("series must be a non-empty list of dicts")
    categories: list[str] = []
    numeric = all(isinstance(x, (int, float)) and not isinstance(x, bool) for s in series for x in s["x"])
    if not numeric:
        for s in series:
            categories += [str(x) for x in s["x"] if str(x) not in categories]
    fig = _figure(title or y_label)
    ax = fig.add_subplot()
    for k, (s, color) in enumerate(zip(series, _colors(len(series)))):
        label = str(s.get("label", f"series {k}"))
        y = _array(f"series {label!r} y", s["y"])
        x = (_array(f"series {label!r} x", s["x"]) if numeric
             else np.array([categories.index(str(v)) for v in s["x"]], dtype=float))
        if x.size != y.size:
            raise NetlistgenError(f"series {label!r}: x ({x.size}) and y ({y.size}) differ in length")
        order = np.argsort(x, kind="stable")
        ax.plot(x[order], y[order], marker="o", markersize=4, color=color, label=label)
    if not numeric:
        ax.set_xticks(range(len(categories)), categories)
    ax.set_xlabel(x_label)
    ax.set_ylabel(y_label)
    ax.grid(True, alpha=0.3)
    if len(series) > 1 or series[0].get("label"):
        ax.legend(fontsize="small")
    return save_figure(fig, target, fmt)
