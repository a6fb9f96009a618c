"""Condition sweeps: one array simulated at every corner x temperature x supply.

`matrix` expands the lists into conditions; `build_cases` renders one netlist per
condition (corner in the model statements, temperature as `.temp`, supply through the
design point, so VCM and the ML-SIU step follow VDD); the jobs go through the executor
and result cache like any other run, so a repeated sweep, or one that extends an
earlier one, simulates only the new conditions. `write_sweep` gives the summary table
(Markdown, JSON, CSV), one plot per metric against the conditions and an HTML page.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import itertools
import json
from dataclasses import dataclass
from pathlib import Path

from netlistgen.core import validate
from netlistgen.core.errors import NetlistgenError
from netlistgen.core.files import write_atomic
from netlistgen.core.jsonio import to_jsonable
from netlistgen.circuits.design import TEMP_RANGE_C
from netlistgen.circuits.generate import GenerateOptions, build
from netlistgen.circuits.netlist import Netlist

MAX_CONDITIONS = 1000
# metric key -> axis label of its plot
PLOTTED = {
    "gain_mv_per_lsb": "gain (mV/LSB)", "offset_mv": "offset (mV)", "inl_lsb": "INL (LSB)", "snr_db": "SNR (dB)",
    "hold_snr_db": "SNR of the held value (dB)", "pedestal_mv_mean": "sample/hold pedestal (mV)",
    "energy_per_op_fj": "energy per operation (fJ)",
}
SUMMARY_KEYS = ("label", "corner", "temp_c", "vdd_v", "gain_mv_per_lsb", "offset_mv", "inl_lsb", "snr_db",
                "enob_bits", "hold_snr_db", "hold_inl_lsb", "pedestal_mv_mean", "pedestal_mv_spread",
                "energy_per_op_fj", "tops_per_w")


@dataclass(frozen=True)
class Condition:
    """One operating point: process corner, temperature, supply (None: the technology's)."""

    corner: str
    temp_c: float
    vdd_v: float | None = None

    @property
    def label(self) -> str:
        """A job-name-safe label, e.g. ss-tm40-v0p9 (m: minus, p: decimal point)."""
        def part(x: float) -> str:
            return f"{x:g}".replace("-", "m").replace(".", "p").replace("+", "")
        vdd = "" if self.vdd_v is None else f"-v{part(self.vdd_v)}"
        return f"{self.corner}-t{part(self.temp_c)}{vdd}"


def split_list(text: str | None, what: str) -> list[str]:
    """'a,b,c' -> ['a', 'b', 'c'] (no empty or repeated items)."""
    if text is None:
        return []
    items = [t.strip() for t in str(text).split(",")]
    if not all(items) or len(set(items)) != len(items):
        raise NetlistgenError(f"invalid --{what} {text!r}: expected distinct comma-separated values")
    return items


def matrix(corners: list[str], temps_c: list[float], vdds_v: list[float | None]) -> list[Condition]:
    """Every combination, in the order corner, temperature, supply (validated)."""
    temps = [validate.number(t, "temperature (deg C)", minimum=TEMP_RANGE_C[0], maximum=TEMP_RANGE_C[1])
             for t in temps_c]
    vdds = [None if v is None else validate.number(v, "vdd (V)", minimum=0.0, exclusive_minimum=True, maximum=100.0)
            for v in vdds_v]
    conds = [Condition(c, t, v) for c, t, v in itertools.product(corners, temps, vdds)]
    if not conds:
        raise NetlistgenError("the sweep has no conditions")
    if len(conds) > MAX_CONDITIONS:
        raise NetlistgenError(f"the sweep has {len(conds)} conditions; the limit is {MAX_CONDITIONS}")
    labels = [c.label for c in conds]
    if len(set(labels)) != len(labels):
        raise NetlistgenError(f"sweep conditions collide in their labels: {labels}")
    return conds


def condition_options(base: GenerateOptions, cond: Condition) -> GenerateOptions:
    design = {**base.design, "temp_c": cond.temp_c}
    if cond.vdd_v is not None:
        design["vdd_v"] = cond.vdd_v
    return dataclasses.replace(base, corner=cond.corner, design=design)


def build_cases(base: GenerateOptions, conds: list[Condition]) -> list[tuple[str, Netlist]]:
    """(label, netlist) per condition; every netlist is checked before any job runs."""
    return [(c.label, build(condition_options(base, c))) for c in conds]


def summary_rows(rows: list[dict]) -> list[dict]:
    return [{k: r.get(k) for k in SUMMARY_KEYS} for r in rows]


def _cell(x: object) -> str:
    if x is None:
        return "—"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, float):
        return f"{x:.4g}"
    return str(x)


def summary_markdown(rows: list[dict], spec_status: dict[str, str] | None = None) -> str:
    keys = list(SUMMARY_KEYS) + (["spec"] if spec_status is not None else [])
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    for r in summary_rows(rows):
        cells = [_cell(r[k]) for k in SUMMARY_KEYS]
        if spec_status is not None:
            cells.append(spec_status.get(r["label"], "—"))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def summary_csv(rows: list[dict], spec_status: dict[str, str] | None = None) -> str:
    buf = io.StringIO()
    keys = list(SUMMARY_KEYS) + (["spec"] if spec_status is not None else [])
    w = csv.DictWriter(buf, fieldnames=keys, lineterminator="\n")
    w.writeheader()
    for r in summary_rows(rows):
        w.writerow({**r, **({"spec": spec_status.get(r["label"], "")} if spec_status is not None else {})})
    return buf.getvalue()


def axes_of(rows: list[dict]) -> tuple[str, list[str]]:
    """The x axis of the metric plots (the first of temperature, supply, corner that
    varies) and the conditions that group the lines."""
    varying = [k for k in ("temp_c", "vdd_v", "corner") if len({r[k] for r in rows}) > 1]
    x = varying[0] if varying else "corner"
    return x, [k for k in ("corner", "temp_c", "vdd_v") if k != x and k in varying]


_AXIS = {"temp_c": "temperature (°C)", "vdd_v": "VDD (V)", "corner": "process corner"}
_GROUP = {"temp_c": "{:g} °C", "vdd_v": "VDD {:g} V", "corner": "{}"}


def plot_metrics(rows: list[dict], out: Path, title: str) -> dict[str, Path]:
    """One plot per metric against the varying conditions."""
    from netlistgen.analysis.plots import metric_vs_condition

    x_key, group_keys = axes_of(rows)
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault(tuple(r[k] for k in group_keys), []).append(r)
    paths = {}
    for metric, y_label in PLOTTED.items():
        if not all(isinstance(r.get(metric), (int, float)) for r in rows):
            continue
        series = [{"label": ", ".join(_GROUP[k].format(v) for k, v in zip(group_keys, key)),
                   "x": [r[x_key] for r in members], "y": [r[metric] for r in members]}
                  for key, members in groups.items()]
        paths[metric] = metric_vs_condition(series, out / f"sweep_{metric}.svg", x_label=_AXIS[x_key],
                                            y_label=y_label, title=f"{y_label}: {title}")
    return paths


def write_sweep(rows: list[dict], out: str | Path, *, title: str, spec_verdicts: list[dict] | None = None,
                errors: dict[str, str] | None = None) -> dict[str, Path]:
    """summary.json/.md/.csv, one plot per metric and report.html, written atomically."""
    from netlistgen.analysis import htmlreport as H
    from netlistgen.analysis.report import hold_table
    from netlistgen.analysis.specs import summary as spec_summary, table as spec_table

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    status = None
    if spec_verdicts is not None:
        status = {r["label"]: "PASS" for r in rows}
        for v in spec_verdicts:
            if v["status"] != "pass":
                status[v["label"]] = "FAIL"
    doc = {"title": title, "conditions": [{k: r[k] for k in ("label", "corner", "temp_c", "vdd_v")} for r in rows],
           "summary": summary_rows(rows), "results": rows, "errors": errors or {}}
    if spec_verdicts is not None:
        doc["specs"] = {"summary": spec_summary(spec_verdicts), "checks": spec_verdicts}
    paths = {"json": out / "summary.json", "markdown": out / "summary.md", "csv": out / "summary.csv"}
    write_atomic(paths["json"], json.dumps(to_jsonable(doc), indent=1) + "\n")
    md = [f"# Sweep: {title}", summary_markdown(rows, status)]
    if spec_verdicts is not None:
        md += ["## Spec check", spec_table(spec_verdicts)]
    write_atomic(paths["markdown"], "\n\n".join(md) + "\n")
    write_atomic(paths["csv"], summary_csv(rows, status))
    plots = plot_metrics(rows, out, title) if rows else {}
    paths.update(plots)
    parts = [H.paragraph(f"{len(rows)} conditions simulated" + (f", {len(errors)} failed" if errors else ""), "note"),
             H.heading("Summary"), H.markdown_table(summary_markdown(rows, status)),
             H.heading("Held value (after the sample switch opens)"), H.markdown_table(hold_table(rows))]
    if spec_verdicts is not None:
        s = spec_summary(spec_verdicts)
        parts += [H.heading(f"Spec check: {s['passed']} of {s['checked']} limits pass"),
                  H.markdown_table(spec_table(spec_verdicts))]
    if errors:
        parts += [H.heading("Failed conditions")] + [H.paragraph(f"{k}: {v}") for k, v in errors.items()]
    parts += [H.heading("Metrics against the conditions")] + [H.figure(p, k) for k, p in plots.items()]
    paths["html"] = H.write_page(out / "report.html", f"netlistgen sweep: {title}", parts)
    return paths
