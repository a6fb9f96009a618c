"""Specs as data: min/typ/max limits per metric, optionally per condition set.

A spec file (YAML or TOML) lists limits the way a datasheet does (and as CACE keeps
them beside a design):

    specs:
      - {metric: inl_lsb, max: 0.5}                         # everywhere
      - {metric: snr_db, min: 45, typ: 55}
      - metric: pedestal_mv_mean
        max: 25
        when: {corner: [ss, ff], temp_c: {min: 0}}          # only at these conditions

`when` selects result rows by condition: a value, a list of values, or a numeric
{min, max} range. `check` returns one verdict per (row, applicable spec); a limit on a
metric the run did not measure (e.g. energy without an energy run) fails as "not
measured". simulate, sweep and regress all call it on their result rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from netlistgen.core import validate
from netlistgen.core.config import check_keys, load_mapping
from netlistgen.core.errors import NetlistgenError
from netlistgen.core.suggest import did_you_mean

# metric key of a result row -> unit shown in tables
METRICS = {
    "gain_mv_per_lsb": "mV/LSB", "gain_spread_rel": "", "offset_mv": "mV", "inl_lsb": "LSB", "dnl_lsb": "LSB",
    "snr_db": "dB", "enob_bits": "bit", "hold_snr_db": "dB", "hold_inl_lsb": "LSB", "pedestal_mv_mean": "mV",
    "pedestal_mv_spread": "mV", "energy_per_op_fj": "fJ", "energy_per_cycle_fj": "fJ", "tops_per_w": "TOPS/W",
}
# condition key of a result row that a `when` may select on; numeric ones accept ranges
CONDITIONS = {"technology": False, "corner": False, "scheme": False, "label": False, "temp_c": True, "vdd_v": True,
              "rows": True, "cols": True}
SPEC_KEYS = {"metric", "min", "typ", "max", "when", "name"}


@dataclass(frozen=True)
class Condition:
    """One `when` entry: the row's `key` must be in `values`, or within [low, high]."""

    key: str
    values: tuple = ()
    low: float = -math.inf
    high: float = math.inf

    def matches(self, row: dict) -> bool:
        value = row.get(self.key)
        if value is None:
            return False
        if self.values:
            return any(_same(value, v) for v in self.values)
        return self.low <= float(value) <= self.high


def _same(a: object, b: object) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)
    return str(a) == str(b)


@dataclass(frozen=True)
class Spec:
    """Limits of one metric under a condition set (all conditions must hold)."""

    metric: str
    min: float | None = None
    typ: float | None = None
    max: float | None = None
    when: tuple[Condition, ...] = ()
    name: str = ""

    def applies(self, row: dict) -> bool:
        return all(c.matches(row) for c in self.when)

    @property
    def title(self) -> str:
        return self.name or self.metric

    def limits_text(self) -> str:
        unit = METRICS.get(self.metric, "")
        parts = [f"{k} {v:g}" for k, v in (("min", self.min), ("typ", self.typ), ("max", self.max)) if v is not None]
        return ", ".join(parts) + (f" {unit}" if unit else "")


def _condition(key: str, raw: object, where: str) -> Condition:
    if key not in CONDITIONS:
        raise NetlistgenError(f"{where}: unknown condition {key!r}{did_you_mean(key, CONDITIONS)}; "
                              f"known: {', '.join(CONDITIONS)}")
    if isinstance(raw, dict):
        if not CONDITIONS[key]:
            raise NetlistgenError(f"{where}: condition {key!r} is not numeric: give a value or a list, not {raw!r}")
        check_keys(raw, {"min", "max"}, f"{where} condition {key!r}")
        low = validate.number(raw.get("min", -math.inf), f"{where} {key}.min") if "min" in raw else -math.inf
        high = validate.number(raw.get("max", math.inf), f"{where} {key}.max") if "max" in raw else math.inf
        if low > high:
            raise NetlistgenError(f"{where}: condition {key!r} has min {low:g} > max {high:g}")
        return Condition(key, low=low, high=high)
    values = tuple(raw) if isinstance(raw, list) else (raw,)
    if not values:
        raise NetlistgenError(f"{where}: condition {key!r} has an empty list")
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (str, int, float)):
            raise NetlistgenError(f"{where}: condition {key!r} value {v!r} must be a string or a number")
        if CONDITIONS[key]:
            validate.number(v, f"{where} condition {key}")
    return Condition(key, values=values)


def parse_specs(data: dict, where: str) -> list[Spec]:
    """Validated specs from a spec document (the mapping of a spec file)."""
    check_keys(data, {"specs"}, where, required={"specs"})
    raw_specs = data["specs"]
    if not isinstance(raw_specs, list) or not raw_specs:
        raise NetlistgenError(f"{where}: 'specs' must be a non-empty list")
    out = []
    for k, raw in enumerate(raw_specs):
        sw = f"{where} spec {k}"
        if not isinstance(raw, dict):
            raise NetlistgenError(f"{sw}: must be a mapping, got {raw!r}")
        check_keys(raw, SPEC_KEYS, sw, required={"metric"})
        metric = raw["metric"]
        if metric not in METRICS:
            raise NetlistgenError(f"{sw}: unknown metric {metric!r}{did_you_mean(metric, METRICS)}; "
                                  f"known: {', '.join(METRICS)}")
        limits = {b: validate.number(raw[b], f"{sw} {metric}.{b}") for b in ("min", "typ", "max") if b in raw}
        if "min" not in limits and "max" not in limits:
            raise NetlistgenError(f"{sw}: {metric!r} needs a min and/or a max limit (typ alone checks nothing)")
        if "min" in limits and "max" in limits and limits["min"] > limits["max"]:
            raise NetlistgenError(f"{sw}: {metric!r} min {limits['min']:g} > max {limits['max']:g}")
        when = raw.get("when") or {}
        if not isinstance(when, dict):
            raise NetlistgenError(f"{sw}: 'when' must be a mapping of conditions, got {when!r}")
        name = raw.get("name", "")
        if not isinstance(name, str):
            raise NetlistgenError(f"{sw}: 'name' must be a string, got {name!r}")
        out.append(Spec(metric, when=tuple(_condition(key, v, sw) for key, v in when.items()), name=name, **limits))
    return out


def load_specs(path: str | Path) -> list[Spec]:
    """Read and validate a spec file (.yaml/.yml/.toml)."""
    return parse_specs(load_mapping(path), f"spec file {str(path)!r}")


def _verdict(spec: Spec, value: object) -> tuple[str, str]:
    if value is None or not isinstance(value, (int, float)) or math.isnan(float(value)):
        return "fail", "not measured"
    x = float(value)
    if spec.min is not None and x < spec.min:
        return "fail", f"{x:.4g} < min {spec.min:g}"
    if spec.max is not None and x > spec.max:
        return "fail", f"{x:.4g} > max {spec.max:g}"
    return "pass", ""


def check(specs: list[Spec], rows: list[dict]) -> list[dict]:
    """One verdict per (result row, spec that applies to its conditions)."""
    out = []
    for row in rows:
        for spec in specs:
            if not spec.applies(row):
                continue
            value = row.get(spec.metric)
            status, note = _verdict(spec, value)
            out.append({"label": row["label"], "conditions": {k: row.get(k) for k in CONDITIONS if k in row
                                                              and k not in ("label", "rows", "cols")},
                        "spec": spec.title, "metric": spec.metric, "unit": METRICS[spec.metric],
                        "min": spec.min, "typ": spec.typ, "max": spec.max,
                        "value": value, "status": status, "note": note})
    return out


def _fmt(x: object) -> str:
    return "—" if x is None else f"{x:.4g}" if isinstance(x, float) else str(x)


def table(verdicts: list[dict]) -> str:
    """Markdown table: one line per checked limit."""
    lines = ["| case | conditions | spec | min | typ | max | value | status |", "|---|---|---|---|---|---|---|---|"]
    for v in verdicts:
        cond = ", ".join(f"{k}={_fmt(x)}" for k, x in v["conditions"].items() if k != "technology")
        status = v["status"].upper() + (f" ({v['note']})" if v["note"] else "")
        lines.append(f"| {v['label']} | {cond} | {v['spec']} ({v['unit']}) | {_fmt(v['min'])} | {_fmt(v['typ'])} | "
                     f"{_fmt(v['max'])} | {_fmt(v['value'])} | {status} |")
    return "\n".join(lines)


def summary(verdicts: list[dict]) -> dict:
    """Counts and the labels (conditions) with any failing limit."""
    failed = sorted({v["label"] for v in verdicts if v["status"] != "pass"})
    return {"checked": len(verdicts), "passed": sum(v["status"] == "pass" for v in verdicts),
            "failed": len(verdicts) - sum(v["status"] == "pass" for v in verdicts), "failing_cases": failed}
