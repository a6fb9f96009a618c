"""Summaries of simulation results: one row of key numbers per job, as a table, JSON
and transfer-curve / residual / energy plots."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import numpy as np

from netlistgen.analysis.metrics import column_metrics, fit_linearity, tops_per_w
from netlistgen.core.files import write_atomic
from netlistgen.core.jsonio import to_jsonable, write_json
from netlistgen.sim.energy import ENERGY_BOOKKEEPING, WARMUP_CYCLES, steady_mean
from netlistgen.sim.simulate import SimResult

VOLTAGES_NOTE = ("V_GBL - VCM sampled at the sampling instant (before the sample switch opens); the 'hold' "
                 "metrics read the held value at the end of the hold phase, after the switch opened")
MACS_NOTE = ("1 MAC = one multi-level input x one multi-bit weight per row and weight column per cycle "
             "(the column's native precision); 1 MAC = 2 OPs")


def conditions(netlist) -> dict:
    """The operating conditions of a netlist: what a sweep varies and a spec selects on."""
    return {"technology": netlist.tech.name, "corner": netlist.corner, "temp_c": netlist.design.temp_c,
            "vdd_v": netlist.design.vdd_v}


def ideal_gain_v_per_lsb(netlist) -> float:
    """GBL volts per LSB of ideal charge sharing: C1*dV over the designed capacitance on a
    GBL (cell capacitors, wire C, sample C), without device parasitics or injection."""
    spec, dp = netlist.spec, netlist.design
    caps_per_row = dp.c_unit_f * (1 + spec.c2_ratio if spec.has_pattern_bit else 1)
    c_total = spec.rows * (caps_per_row + dp.wire_c_per_row_f) + dp.c_sample_f
    return dp.c_unit_f * dp.dv_v / c_total


def _linearity(y_ideal, v_meas) -> dict:
    """Headline linearity/SNR numbers of (cycles, GBLs) samples, one fit per GBL."""
    _, overall = column_metrics(y_ideal, v_meas)
    return {"gain_mv_per_lsb": overall["gain_v_per_lsb_mean"] * 1e3, "gain_spread_rel": overall["gain_spread_rel"],
            "offset_mv": overall["offset_v_mean"] * 1e3, "inl_lsb": overall["inl_lsb_max"],
            "dnl_lsb": overall["dnl_lsb_max"], "snr_db": overall["snr_db"], "enob_bits": overall["enob_bits"]}


def hold_metrics(y_ideal, v_sample_v, v_hold_v) -> dict:
    """Metrics of the held value (read after the sample switch opened) and its pedestal:
    the per-GBL mean step hold - sample, its mean and spread (std across GBLs)."""
    held = _linearity(y_ideal, v_hold_v)
    step = np.asarray(v_hold_v) - np.asarray(v_sample_v)
    pedestal = np.mean(step, axis=0) * 1e3
    sampled_gain = _linearity(y_ideal, v_sample_v)["gain_mv_per_lsb"]
    return {**held, "pedestal_mv_per_column": pedestal.tolist(), "pedestal_mv_mean": float(np.mean(pedestal)),
            "pedestal_mv_spread": float(np.std(pedestal)),
            "gain_change_rel": held["gain_mv_per_lsb"] / sampled_gain - 1.0}


def summarize(label: str, sampled: SimResult, energy: SimResult | None = None) -> dict:
    """Key numbers of one scheme: linearity and SNR from `sampled` (on the sampled and on
    the held value), energy from `energy`."""
    nl = sampled.job.netlist
    spec = nl.spec
    per_col, _ = column_metrics(sampled.y_ideal, sampled.v_sample_v)
    hold = hold_metrics(sampled.y_ideal, sampled.v_sample_v, sampled.v_hold_v)
    row = {
        "label": label,
        "scheme": spec.pattern_set.name,
        "cell": spec.cell,
        **conditions(nl),
        "rows": spec.rows,
        "cols": spec.cols,
        "bit_cols": spec.bit_cols,
        "cycles": sampled.job.stimulus.cycles,
        "lsb": {"c_unit_f": nl.design.c_unit_f, "dv_v": nl.design.dv_v},
        "ideal_gain_mv_per_lsb": ideal_gain_v_per_lsb(nl) * 1e3,
        **_linearity(sampled.y_ideal, sampled.v_sample_v),
        "hold": hold,
        "hold_snr_db": hold["snr_db"],
        "hold_inl_lsb": hold["inl_lsb"],
        "pedestal_mv_mean": hold["pedestal_mv_mean"],
        "pedestal_mv_spread": hold["pedestal_mv_spread"],
        "sample_hold_step_mv_mean": hold["pedestal_mv_mean"],
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
    ("hold_snr_db", "held SNR dB", "{:.1f}"),
    ("pedestal_mv_mean", "pedestal mV", "{:.2f}"),
    ("pedestal_mv_spread", "pedestal spread mV", "{:.3f}"),
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


SERIES_META = ("scheme", "rows", "cols", "technology", "corner", "temp_c", "vdd_v")


def transfer_entry(label: str, y_ideal, v_meas_v, meta: dict | None = None) -> dict:
    """One transfer-curve series (plots.transfer_curve / residual_plot).

    (cycles, GBLs) samples get one linear fit per GBL, the fits metrics.column_metrics
    uses: the residual points and the INL drawn from them come from the same fits. The
    pooled line (gain/offset) is what the transfer plot draws. `meta` (SERIES_META keys,
    "lsb", "ideal_gain_mv_per_lsb") names the conditions and the LSB in labels/titles."""
    y, v = np.asarray(y_ideal, dtype=float), np.asarray(v_meas_v, dtype=float)
    if y.ndim == 1:
        y, v = y[:, None], v[:, None]
    gain, offset = np.polyfit(y.ravel(), v.ravel(), 1)
    residual = np.full(y.shape, np.nan)
    for c in range(y.shape[1]):
        if np.ptp(y[:, c]) > 0:
            lin = fit_linearity(y[:, c], v[:, c])
            residual[:, c] = lin.residual_v / lin.gain_v_per_lsb
    keep = np.isfinite(residual)
    meta = dict(meta or {})
    entry = {"label": label, "y_ideal": y[keep], "v_meas_v": v[keep], "residual_lsb": residual[keep],
             "gain_v_per_lsb": float(gain), "offset_v": float(offset), "meta": meta}
    if meta.get("lsb"):
        entry["lsb_text"] = f"1 LSB = {meta['lsb']['c_unit_f'] * 1e15:.3g} fF × {meta['lsb']['dv_v'] * 1e3:.4g} mV"
    if meta.get("ideal_gain_mv_per_lsb"):
        entry["ideal_gain_v_per_lsb"] = meta["ideal_gain_mv_per_lsb"] * 1e-3
    return entry


_CONDITION_FORMATS = {"temp_c": "{:g} °C", "vdd_v": "VDD {:g} V"}


def _condition_text(meta: dict, keys) -> str:
    parts = []
    for k in keys:
        if meta.get(k) is None:
            continue
        if k == "rows":
            parts.append(f"{meta['rows']}x{meta.get('cols', '?')}")
        else:
            parts.append(_CONDITION_FORMATS.get(k, "{}").format(meta[k]))
    return ", ".join(parts)


def label_series(series: list[dict]) -> str:
    """Put the conditions shared by every series in the returned title and the ones that
    differ into each series' label, so overlaid ss/nom/ff runs get distinct labels."""
    keys = [k for k in SERIES_META if k != "cols"]
    metas = [s.get("meta") or {} for s in series]
    common = [k for k in keys if len({repr(m.get(k)) for m in metas}) == 1]
    varying = [k for k in keys if k not in common]
    for s, m in zip(series, metas):
        extra = _condition_text(m, varying)
        if extra:
            s["label"] = f"{s['label']} ({extra})"
        if len({s.get("lsb_text") for s in series}) > 1 and s.get("lsb_text"):
            s["label"] += f"; {s['lsb_text']}"
    return _condition_text(metas[0], common) if metas else ""


def transfer_plots(series: list[dict], targets: dict[str, str | Path]) -> dict[str, Path]:
    """"transfer" and/or "residual" plots of the series (targets: kind -> file), with the
    shared conditions in the title, the differing ones in the labels, and the LSB on the axis."""
    from netlistgen.analysis.plots import X_LABEL, residual_plot, transfer_curve

    context = label_series(series)
    lsbs = {s.get("lsb_text") for s in series}
    x_label = ("ideal column MAC y (LSB = C1·ΔV; " + lsbs.pop() + ")" if len(lsbs) == 1 and None not in lsbs
               else "ideal column MAC y (LSB of each series, see legend)" if lsbs != {None} else X_LABEL)
    tail = f": {context}" if context else ""
    makers = {"transfer": (transfer_curve, "Transfer curve"), "residual": (residual_plot, "Fit residual and INL")}
    return {kind: makers[kind][0](series, path, title=makers[kind][1] + tail, x_label=x_label)
            for kind, path in targets.items()}


def samples_doc(rows: list[dict], results: dict[str, SimResult]) -> dict:
    """samples.json: per label the ideal values, sampled and held voltages, and the
    metadata the plot command needs to label them."""
    doc = {}
    for r in rows:
        res = results[r["label"]]
        doc[r["label"]] = {"y_ideal": res.y_ideal.tolist(), "v_sample_v": res.v_sample_v.tolist(),
                           "v_hold_v": res.v_hold_v.tolist(), "inl_lsb": r["inl_lsb"],
                           **{k: r[k] for k in (*SERIES_META, "lsb", "ideal_gain_mv_per_lsb") if k in r}}
    return doc


def hold_table(rows: list[dict]) -> str:
    """Markdown table of the held-value metrics and the sample/hold pedestal."""
    lines = ["| case | held gain mV/LSB | held offset mV | held INL LSB | held SNR dB | pedestal mV (mean) | "
             "pedestal spread mV | gain change % | pedestal per GBL mV |", "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        h = r["hold"]
        per = " ".join(f"{x:.2f}" for x in h["pedestal_mv_per_column"][:16])
        more = " ..." if len(h["pedestal_mv_per_column"]) > 16 else ""
        lines.append(f"| {r['label']} | {h['gain_mv_per_lsb']:.4f} | {h['offset_mv']:.3f} | {h['inl_lsb']:.3f} | "
                     f"{h['snr_db']:.1f} | {h['pedestal_mv_mean']:.3f} | {h['pedestal_mv_spread']:.4f} | "
                     f"{100 * h['gain_change_rel']:.2f} | {per}{more} |")
    return "\n".join(lines)


def conditions_text(rows: list[dict]) -> str:
    """One line naming each row's technology, corner, temperature and supply."""
    return "; ".join(f"{r['label']}: {r['technology']}/{r['corner']}, {r['temp_c']:g} °C, VDD {r['vdd_v']:g} V, "
                     f"{r['rows']}x{r['cols']} {r['scheme']}" for r in rows)


def html_parts(rows: list[dict], plots: dict[str, Path], spec_verdicts: list[dict] | None) -> list[str]:
    """The HTML page body of a simulate-style report (tables, spec check, plots)."""
    from netlistgen.analysis import htmlreport as H

    parts = [H.paragraph(conditions_text(rows), "note"), H.heading("Sampled value"), H.markdown_table(table(rows)),
             H.heading("Held value (after the sample switch opens)"), H.markdown_table(hold_table(rows))]
    if spec_verdicts is not None:
        from netlistgen.analysis.specs import summary as spec_summary, table as spec_table

        s = spec_summary(spec_verdicts)
        parts += [H.heading(f"Spec check: {s['passed']} of {s['checked']} limits pass"),
                  H.markdown_table(spec_table(spec_verdicts))]
    parts += [H.heading("Plots")] + [H.figure(p, k) for k, p in plots.items()]
    parts += [H.paragraph(n, "note") for n in (ENERGY_BOOKKEEPING, MACS_NOTE, VOLTAGES_NOTE)]
    return parts


def report_document(rows: list[dict], spec_verdicts: list[dict] | None = None) -> dict:
    """The results.json document: the rows, how energy, MACs and voltages are counted and
    (with `spec_verdicts`, specs.check) the spec check."""
    doc = {"bookkeeping": {"energy": ENERGY_BOOKKEEPING, "macs": MACS_NOTE, "voltages": VOLTAGES_NOTE},
           "results": rows}
    if spec_verdicts is not None:
        from netlistgen.analysis.specs import summary as spec_summary

        doc["specs"] = {"summary": spec_summary(spec_verdicts), "checks": spec_verdicts}
    return to_jsonable(doc)


def write_report(rows: list[dict], results: dict[str, SimResult], out: str | Path, *,
                 spec_verdicts: list[dict] | None = None, plots: bool = True) -> dict[str, Path]:
    """results.json, results.md, samples.json, the plots (unless plots=False) and
    report.html (self-contained), all written atomically. `spec_verdicts` (specs.check)
    adds the spec check. Matplotlib is imported only when plots are drawn."""
    from netlistgen.analysis.htmlreport import write_page

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "results.json", "markdown": out / "results.md"}
    write_json(paths["json"], report_document(rows, spec_verdicts), indent=1)
    md = [table(rows), "Held value (after the sample switch opens):", hold_table(rows)]
    if spec_verdicts is not None:
        from netlistgen.analysis.specs import table as spec_table

        md += ["Spec check:", spec_table(spec_verdicts)]
    write_atomic(paths["markdown"], "\n\n".join(md) + "\n\n" + ENERGY_BOOKKEEPING + ".\n" + MACS_NOTE + ".\n"
                 + VOLTAGES_NOTE + ".\n")
    samples = samples_doc(rows, results)
    paths["samples"] = out / "samples.json"
    write_json(paths["samples"], samples, indent=None)
    if not plots:
        paths["html"] = write_page(out / "report.html", "netlistgen simulation report",
                                   html_parts(rows, {}, spec_verdicts))
        return paths
    from netlistgen.analysis.plots import energy_bar
    from netlistgen.core.forks import run_in_forks

    series = [transfer_entry(label, item["y_ideal"], item["v_sample_v"], item) for label, item in samples.items()]
    figs = {"transfer": out / "transfer.png", "residual": out / "residual.png"}
    draws = [partial(transfer_plots, series, {kind: path}) for kind, path in figs.items()]
    bars = [{"label": r["label"], "energy_per_op_fj": r["energy_per_op_fj"],
             "breakdown": {k: v / (2 * r["rows"] * r["cols"]) for k, v in r["energy_breakdown_fj"].items()}}
            for r in rows if "energy_per_op_fj" in r]
    if bars:
        figs["energy"] = out / "energy.png"
        draws.append(partial(energy_bar, bars, figs["energy"]))
    run_in_forks(draws)  # the plots at once, one per core: each writes its own file
    paths.update(figs)
    paths["html"] = write_page(out / "report.html", "netlistgen simulation report", html_parts(rows, figs, spec_verdicts))
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
            series.append(transfer_entry(label, item["y_ideal"], item["v_sample_v"], item))
    return series
