"""Summaries of simulation results: one row of key numbers per job, as a table, JSON
and transfer-curve / residual / energy plots."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from netlistgen.analysis.metrics import column_metrics, tops_per_w
from netlistgen.core.files import write_atomic
from netlistgen.core.jsonio import to_jsonable, write_json
from netlistgen.sim.energy import ENERGY_BOOKKEEPING, WARMUP_CYCLES, steady_mean
from netlistgen.sim.simulate import SimResult

MACS_NOTE = ("1 MAC = one multi-level input x one multi-bit weight per row and weight column per cycle "
             "(the column's native precision); 1 MAC = 2 OPs")


def summarize(label: str, sampled: SimResult, energy: SimResult | None = None) -> dict:
    """Key numbers of one scheme: linearity and SNR from `sampled`, energy from `energy`."""
    nl = sampled.job.netlist
    spec = nl.spec
    per_col, overall = column_metrics(sampled.y_ideal, sampled.v_sample_v)
    hold_step = sampled.v_hold_v - sampled.v_sample_v
    row = {
        "label": label,
        "scheme": spec.pattern_set.name,
        "cell": spec.cell,
        "technology": nl.tech.name,
        "corner": nl.corner,
        "rows": spec.rows,
        "cols": spec.cols,
        "bit_cols": spec.bit_cols,
        "cycles": sampled.job.stimulus.cycles,
        "gain_mv_per_lsb": overall["gain_v_per_lsb_mean"] * 1e3,
        "gain_spread_rel": overall["gain_spread_rel"],
        "offset_mv": overall["offset_v_mean"] * 1e3,
        "inl_lsb": overall["inl_lsb_max"],
        "dnl_lsb": overall["dnl_lsb_max"],
        "snr_db": overall["snr_db"],
        "enob_bits": overall["enob_bits"],
        "sample_hold_step_mv_mean": float(np.mean(hold_step) * 1e3),
        "sim_seconds": sampled.seconds,
        "columns": [to_jsonable(c) for c in per_col],
    }
    if energy is not None and energy.energy is not None:
        e_cycle = steady_mean(energy.energy["delivered_j"])
        macs = spec.rows * spec.cols
        row.update(
            energy_per_cycle_fj=e_cycle * 1e15,
            energy_net_per_cycle_fj=steady_mean(energy.energy["net_j"]) * 1e15,
            energy_per_cycle_per_column_fj=e_cycle * 1e15 / spec.bit_cols,
            energy_per_op_fj=e_cycle * 1e15 / (2 * macs),
            tops_per_w=tops_per_w(e_cycle, macs),
            energy_breakdown_fj={k: steady_mean(v) * 1e15 for k, v in energy.energy["groups_delivered_j"].items()},
            energy_cycles=energy.job.stimulus.cycles - WARMUP_CYCLES,
            energy_warmup_cycles=WARMUP_CYCLES,
        )
    return row


COLUMNS = [
    ("label", "case", "{}"),
    ("gain_mv_per_lsb", "gain mV/LSB", "{:.4f}"),
    ("offset_mv", "offset mV", "{:.3f}"),
    ("inl_lsb", "INL LSB", "{:.3f}"),
    ("snr_db", "SNR dB", "{:.1f}"),
    ("enob_bits", "ENOB", "{:.2f}"),
    ("energy_per_op_fj", "E/op fJ", "{:.2f}"),
    ("tops_per_w", "TOPS/W", "{:.1f}"),
]


def table(rows: list[dict]) -> str:
    """A Markdown table of the key numbers."""
    head = "| " + " | ".join(h for _, h, _ in COLUMNS) + " |"
    rule = "|" + "|".join("---" for _ in COLUMNS) + "|"
    lines = [head, rule]
    for row in rows:
        cells = [fmt.format(row[k]) if k in row and row[k] is not None else "—" for k, _, fmt in COLUMNS]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def transfer_entry(label: str, y_ideal, v_meas_v, inl_lsb) -> dict:
    """One transfer-curve series (plots.transfer_curve / residual_plot) with its linear fit."""
    y, v = np.asarray(y_ideal).ravel(), np.asarray(v_meas_v).ravel()
    gain, offset = np.polyfit(y, v, 1)
    return {"label": label, "y_ideal": y, "v_meas_v": v, "gain_v_per_lsb": float(gain),
            "offset_v": float(offset), "inl_lsb": inl_lsb}


def report_document(rows: list[dict]) -> dict:
    """The results.json document: the rows and how energy, MACs and voltages are counted."""
    return to_jsonable({"bookkeeping": {"energy": ENERGY_BOOKKEEPING, "macs": MACS_NOTE, "voltages":
                                        "V_GBL - VCM sampled at the sampling instant (before the sample switch opens)"},
                        "results": rows})


def write_report(rows: list[dict], results: dict[str, SimResult], out: str | Path, *,
                 plots: bool = True) -> dict[str, Path]:
    """results.json, results.md, samples.json and (unless plots=False) the plots, all
    written atomically. Matplotlib is imported only when plots are drawn."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "results.json", "markdown": out / "results.md", "samples": out / "samples.json"}
    write_json(paths["json"], report_document(rows), indent=1)
    write_atomic(paths["markdown"], table(rows) + "\n\n" + ENERGY_BOOKKEEPING + ".\n" + MACS_NOTE + ".\n")
    write_json(paths["samples"], {
        r["label"]: {"y_ideal": results[r["label"]].y_ideal, "v_sample_v": results[r["label"]].v_sample_v,
                     "technology": r["technology"], "inl_lsb": r["inl_lsb"]}
        for r in rows}, indent=None)
    if not plots:
        return paths
    from netlistgen.analysis.plots import energy_bar, residual_plot, transfer_curve

    series = [transfer_entry(r["label"], results[r["label"]].y_ideal, results[r["label"]].v_sample_v, r["inl_lsb"])
              for r in rows]
    paths["transfer"] = transfer_curve(series, out / "transfer.png")
    paths["residual"] = residual_plot(series, out / "residual.png")
    bars = [{"label": r["label"], "energy_per_op_fj": r["energy_per_op_fj"],
             "breakdown": {k: v / (2 * r["rows"] * r["cols"]) for k, v in r["energy_breakdown_fj"].items()}}
            for r in rows if "energy_per_op_fj" in r]
    if bars:
        paths["energy"] = energy_bar(bars, out / "energy.png")
    return paths


def transfer_series(result_dirs: list[str | Path]) -> list[dict]:
    """Transfer-curve series from one or more report directories (their samples.json)."""
    from netlistgen.core.errors import NetlistgenError

    series = []
    for d in result_dirs:
        path = Path(d) / "samples.json"
        if not path.is_file():
            raise NetlistgenError(f"no results in {str(d)!r}: expected {path} (run `netlistgen simulate` or `demo`)")
        try:
            data = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise NetlistgenError(f"cannot read {str(path)!r}: {exc}") from None
        for label, item in data.items():
            tag = f"{label} ({item['technology']})" if len(result_dirs) > 1 else label
            series.append(transfer_entry(tag, item["y_ideal"], item["v_sample_v"], item.get("inl_lsb")))
    return series
