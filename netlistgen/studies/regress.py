"""Regression suite: named simulation cases with golden values and tolerances.

A suite file (YAML/TOML) lists cases; each is a `generate` configuration plus the
stimulus. Its `adc_cases` are SAR ADC characterizations (studies.adc: ramp + sine),
checked on ENOB, energy per conversion and DNL/INL the same way. `run_suite` simulates the selected cases in parallel, compares each metric
with its golden value and returns a verdict per case; reports are JSON and JUnit XML,
written atomically. Golden values change only through `update_golden`, which returns
the diff it applied.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import functools
import json
import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from netlistgen.core import validate
from netlistgen.core.config import check_keys, load_mapping
from netlistgen.core.errors import NetlistgenError
from netlistgen.core.suggest import did_you_mean
from netlistgen.core.files import write_atomic
from netlistgen.circuits.adc import AdcSpec
from netlistgen.circuits.generate import GenerateOptions, build, check_values, resolve_pattern_set
from netlistgen.core.jsonio import write_json
from netlistgen.analysis.report import summarize
from netlistgen.core.resources import data_dir
from netlistgen.sim.backends import BACKENDS, DEFAULT_BACKEND
from netlistgen.sim.executor import run_jobs
from netlistgen.sim.simulate import Job
from netlistgen.tech.technology import load_technology
from netlistgen.circuits.testbench import Timing, random_stimulus, sweep_stimulus

METRICS = ("gain_mv_per_lsb", "offset_mv", "inl_lsb", "snr_db", "dnl_lsb")
# mismatch_seed (+ mismatch options) makes a case one Monte Carlo sample (variation.py);
# reset_noise only matters with injected noise, which regression cases do not use.
CASE_KEYS = {f.name for f in dataclasses.fields(GenerateOptions)} - {"out", "weights", "pattern_sets", "reset_noise"}
CASE_KEYS |= {"name", "cycles", "stim_seed", "stimulus", "tolerances"}
ADC_METRICS = ("enob", "energy_fj", "dnl_lsb", "inl_lsb")
ADC_TEST_KEYS = ("hits_per_code", "sine_conversions", "sine_cycles")  # studies.adc.AdcTest fields
ADC_CASE_KEYS = {"name", "technology", "bits", "rate_hz", "corner", "tolerances", *ADC_TEST_KEYS}
STIMULI = ("random", "sweep")


def default_suite() -> Path:
    return data_dir("testbenches") / "regression.yaml"


def default_golden() -> Path:
    return data_dir("testbenches") / "golden.json"


@dataclass(frozen=True)
class Tolerance:
    rel: float = 0.0
    abs: float = 0.0

    def limit(self, golden: float) -> float:
        return self.abs + self.rel * abs(golden)

    @property
    def text(self) -> str:
        parts = ([f"{100 * self.rel:g} %"] if self.rel else []) + ([f"{self.abs:g}"] if self.abs else [])
        return " + ".join(parts) or "0"


@dataclass(frozen=True)
class Case:
    name: str
    options: GenerateOptions
    cycles: int
    stim_seed: int
    stimulus: str
    tolerances: dict[str, Tolerance] = field(default_factory=dict)
    metrics: ClassVar[tuple[str, ...]] = METRICS


@dataclass(frozen=True)
class AdcCase:
    """A SAR ADC characterization (studies.adc.characterize) with golden metrics; the
    test's sizes are plain numbers so that loading a suite does not import the study
    (which registers the `spice` ADC model)."""

    name: str
    technology: str
    spec: AdcSpec
    test: dict[str, int]
    tolerances: dict[str, Tolerance] = field(default_factory=dict)
    metrics: ClassVar[tuple[str, ...]] = ADC_METRICS


def _tolerances(raw: object, where: str, metrics: tuple[str, ...] = METRICS) -> dict[str, Tolerance]:
    if not isinstance(raw, dict):
        raise NetlistgenError(f"{where}: 'tolerances' must be a mapping, got {raw!r}")
    out = {}
    for metric, spec in raw.items():
        if metric not in metrics:
            raise NetlistgenError(f"{where}: unknown metric {metric!r}{did_you_mean(metric, metrics)} in tolerances; known: {', '.join(metrics)}")
        if not isinstance(spec, dict) or not spec or set(spec) - {"rel", "abs"}:
            raise NetlistgenError(f"{where}: tolerance of {metric!r} must be {{rel: x}} and/or {{abs: y}}, got {spec!r}")
        values = {k: validate.number(v, f"{where} tolerance {metric}.{k}", minimum=0.0) for k, v in spec.items()}
        out[metric] = Tolerance(**values)
    return out


def load_suite(path: str | Path | None = None) -> list[Case]:
    """Parse and validate a suite file (every key checked, names unique)."""
    path = Path(path) if path else default_suite()
    data = load_mapping(path)
    where = f"suite {str(path)!r}"
    check_keys(data, {"defaults", "cases", "adc_cases"}, where, required={"cases"})
    defaults = data.get("defaults") or {}
    if not isinstance(defaults, dict):
        raise NetlistgenError(f"{where}: 'defaults' must be a mapping")
    check_keys(defaults, CASE_KEYS - {"name"}, f"{where} defaults")
    base_tol = _tolerances(defaults.get("tolerances", {}), f"{where} defaults")
    raw_cases = data["cases"]
    if not isinstance(raw_cases, list) or not raw_cases:
        raise NetlistgenError(f"{where}: 'cases' must be a non-empty list")
    cases, seen = [], set()
    for k, raw in enumerate(raw_cases):
        if not isinstance(raw, dict):
            raise NetlistgenError(f"{where}: case {k} must be a mapping, got {raw!r}")
        cw = f"{where} case {raw.get('name', k)!r}"
        check_keys(raw, CASE_KEYS, cw, required={"name"})
        name = validate.identifier(str(raw["name"]).replace("-", "_"), f"{where} case name") and str(raw["name"])
        if name in seen:
            raise NetlistgenError(f"{where}: duplicate case name {name!r}")
        seen.add(name)
        merged = {**{k2: v for k2, v in defaults.items() if k2 != "tolerances"}, **raw}
        tol = {**base_tol, **_tolerances(raw.get("tolerances", {}), cw)}
        opts = {k2: v for k2, v in merged.items() if k2 in CASE_KEYS - {"name", "cycles", "stim_seed", "stimulus", "tolerances"}}
        stimulus = merged.get("stimulus", "random")
        if stimulus not in STIMULI:
            raise NetlistgenError(f"{cw}: unknown stimulus {stimulus!r}; known: {', '.join(STIMULI)}")
        options = GenerateOptions(**opts)
        check_values(options, set(opts), cw)  # bad values name the suite file and case, not only the value
        cases.append(Case(
            name=name,
            options=options,
            cycles=validate.integer(merged.get("cycles", 16), f"{cw} cycles", minimum=2, maximum=10000),
            stim_seed=validate.integer(merged.get("stim_seed", 1), f"{cw} stim_seed", minimum=0),
            stimulus=stimulus,
            tolerances=tol,
        ))
    for raw in data.get("adc_cases") or []:
        case = _adc_case(raw, where)
        if case.name in seen:
            raise NetlistgenError(f"{where}: duplicate case name {case.name!r}")
        seen.add(case.name)
        cases.append(case)
    return cases


def _adc_case(raw: object, where: str) -> AdcCase:
    """One `adc_cases` entry: every key checked, the design validated by AdcSpec."""
    if not isinstance(raw, dict):
        raise NetlistgenError(f"{where}: ADC case must be a mapping, got {raw!r}")
    cw = f"{where} ADC case {raw.get('name', '?')!r}"
    check_keys(raw, ADC_CASE_KEYS, cw, required={"name", "technology", "bits", "tolerances"})
    name = validate.identifier(str(raw["name"]).replace("-", "_"), f"{where} case name") and str(raw["name"])
    tech = load_technology(validate.identifier(str(raw["technology"]).replace("-", "_"), f"{cw} technology")
                           and str(raw["technology"]))
    spec = AdcSpec(bits=validate.integer(raw["bits"], f"{cw} bits", minimum=3, maximum=10),
                   rate_hz=validate.number(raw.get("rate_hz", 50e6), f"{cw} rate_hz", minimum=1e3, maximum=5e9),
                   corner=raw.get("corner"))
    test = {k: validate.integer(raw[k], f"{cw} {k}", minimum=1, maximum=65536) for k in ADC_TEST_KEYS if k in raw}
    return AdcCase(name=name, technology=tech.name, spec=spec, test=test,
                   tolerances=_tolerances(raw["tolerances"], cw, ADC_METRICS))


def select(cases: list[Case], pattern: str | None) -> list[Case]:
    """Cases whose name contains `pattern` (or matches it as a glob)."""
    if not pattern:
        return cases
    chosen = [c for c in cases if pattern in c.name or fnmatch.fnmatch(c.name, pattern)]
    if not chosen:
        raise NetlistgenError(f"no case matches {pattern!r}; cases: {', '.join(c.name for c in cases)}")
    return chosen


def load_golden(path: str | Path | None = None) -> dict:
    path = Path(path) if path else default_golden()
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise NetlistgenError(f"golden file {str(path)!r} cannot be read: {exc}") from None
    cases = data.get("cases", {})
    # to_jsonable wrote non-finite numbers as strings ("nan", "inf"): read them back
    return {name: {k: float(v) if isinstance(v, str) else v for k, v in vals.items()} for name, vals in cases.items()}


def case_job(case: Case) -> Job:
    """The simulation job of one case (a module-level function: built lazily in a worker)."""
    nl = build(case.options)
    stim = (sweep_stimulus(nl, case.cycles) if case.stimulus == "sweep"
            else random_stimulus(nl, case.cycles, case.stim_seed))
    return Job(case.name, nl, stim)


def measure(cases: list[Case], workdir: str | Path, *, workers: int | None = None, progress: bool = True,
            backend: str = DEFAULT_BACKEND, cache=None, executor: str = "local", scheduler: str | None = None,
            split_columns: bool = True):
    """Simulate the cases; returns ({name: metrics row}, {name: error}). Multi-column
    cases run one job per weight column (executor.split_reason); with a result cache,
    unchanged cases are not re-simulated and an interrupted run resumes."""
    from netlistgen.sim.executor import LazyJob

    adc_cases = [c for c in cases if isinstance(c, AdcCase)]
    cases = [c for c in cases if not isinstance(c, AdcCase)]
    jobs: list = []
    for case in cases:
        if split_columns and case.options.cols != 1:  # split in the planner: needs the netlist now
            jobs.append(case_job(case))
            continue
        ps = resolve_pattern_set(case.options)
        cycle_s = Timing.for_technology(load_technology(case.options.technology)).cycle_s
        cost = int(case.options.rows) * ps.n_bits * case.cycles * cycle_s
        jobs.append(LazyJob(case.name, functools.partial(case_job, case), cost))
    results, errors = run_jobs(jobs, workdir, workers=workers, progress=progress, backend=backend, cache=cache,
                               executor=executor, scheduler=scheduler, split_columns=split_columns)
    rows = {name: summarize(name, res) for name, res in results.items()}
    for case in adc_cases:
        if not BACKENDS[backend].xspice:  # the study runs ngspice itself: never report that as this engine's
            errors[case.name] = (f"backend {backend!r} does not run the SAR ADC case {case.name!r}: its SAR logic "
                                 "is XSPICE digital models (d_dff, d_and, ...), which only ngspice has")
            continue
        try:
            rows[case.name] = measure_adc(case, Path(workdir) / case.name, cache=cache, workers=workers or 2)
        except NetlistgenError as exc:
            errors[case.name] = str(exc)
    return rows, errors


def measure_adc(case: AdcCase, workdir: Path, *, cache=None, workers: int = 2) -> dict:
    """Characterize one ADC case (ramp + sine in parallel) into a metrics row."""
    import time

    from netlistgen.studies.adc import AdcTest, characterize

    start = time.perf_counter()
    r = characterize(case.spec, case.technology, test=AdcTest(**case.test), workdir=workdir, cache=cache,
                     workers=workers)
    return {"label": case.name, "kind": "adc", "technology": r["technology"], "corner": r["corner"],
            "temp_c": None, "vdd_v": r["vdd_v"], "bits": r["bits"], "rate_hz": r["rate_hz"],
            "enob": r["enob"], "energy_fj": r["energy_per_conversion_j"] * 1e15,
            "dnl_lsb": r["dnl_max_lsb"], "inl_lsb": r["inl_max_lsb"], "missing_codes": r["missing_codes"],
            "sim_seconds": time.perf_counter() - start}


def verdicts(cases: list[Case], rows: dict, errors: dict, golden: dict,
             spec_verdicts: list[dict] | None = None) -> list[dict]:
    """Compare each case with its golden values (and with the spec limits that apply to
    it, if `spec_verdicts` from specs.check are given). Each metric records value,
    golden, delta = value - golden, the tolerance and the limit it gives."""
    out = []
    for case in cases:
        entry = {"name": case.name, "status": "pass", "metrics": {}, "message": ""}
        if case.name in errors:
            entry.update(status="error", message=errors[case.name])
            out.append(entry)
            continue
        row, gold = rows[case.name], golden.get(case.name)
        entry["conditions"] = {k: row.get(k) for k in ("technology", "corner", "temp_c", "vdd_v")}
        if gold is None:
            entry.update(status="fail", message="no golden values: run `netlistgen regress --update-golden`")
        failed = []
        for metric in case.metrics:
            value = row.get(metric)
            ref = gold.get(metric) if gold else None
            tol = case.tolerances.get(metric)
            check = {"value": value, "golden": ref, "tolerance": tol.text if tol else None}
            comparable = (ref is not None and value is not None and not math.isnan(ref) and not math.isnan(value))
            if comparable:
                check["delta"] = value - ref
            if gold is not None and tol is not None and ref is not None and value is not None \
                    and not (isinstance(ref, float) and math.isnan(ref)):
                limit = tol.limit(ref)
                ok = comparable and abs(value - ref) <= limit
                check.update(limit=limit, ok=ok)
                if not ok:
                    failed.append(f"{metric} {value:.6g} vs golden {ref:.6g} (limit ±{limit:.3g})")
            entry["metrics"][metric] = check
        specs = [v for v in spec_verdicts or () if v["label"] == case.name]
        if specs:
            entry["specs"] = specs
            failed += [f"spec {v['spec']}: {v['note']}" for v in specs if v["status"] != "pass"]
        if failed:
            entry.update(status="fail", message="; ".join(([entry["message"]] if entry["message"] else []) + failed))
        out.append(entry)
    return out


def _num(x: object, spec: str = ".4g") -> str:
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else format(x, spec)


def table(results: list[dict]) -> str:
    """Markdown table, one line per case and metric: value, golden, delta, tolerance, verdict."""
    lines = ["| case | status | metric | value | golden | delta | tolerance | limit | ok |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        if r["status"] == "error":
            lines.append(f"| {r['name']} | ERROR | — | — | — | — | — | — | {r['message'][:120]} |")
            continue
        for metric, m in r["metrics"].items():
            ok = "—" if "ok" not in m else "yes" if m["ok"] else "NO"
            lines.append(f"| {r['name']} | {r['status'].upper()} | {metric} | {_num(m['value'])} | {_num(m['golden'])} | "
                         f"{_num(m.get('delta'), '+.3g')} | {m['tolerance'] or '—'} | {_num(m.get('limit'), '.3g')} | {ok} |")
    return "\n".join(lines)


def margin_plot(results: list[dict], path: Path) -> Path | None:
    """|value - golden| / limit per case and metric (1 = at the tolerance), or None if
    no case has a comparison."""
    from netlistgen.analysis.plots import grouped_bars

    cases = [r for r in results if any("limit" in m and "delta" in m for m in r["metrics"].values())]
    if not cases:
        return None
    groups = {metric: [abs(r["metrics"][metric]["delta"]) / r["metrics"][metric]["limit"]
                       if "delta" in r["metrics"].get(metric, {}) and r["metrics"][metric].get("limit") else 0.0
                       for r in cases] for metric in dict.fromkeys(m for r in cases for m in r["metrics"])}
    groups = {k: v for k, v in groups.items() if any(v)}
    if not groups:
        return None
    return grouped_bars([r["name"] for r in cases], groups, path, y_label="|value − golden| / limit",
                        title="Regression: share of each tolerance used", reference=1.0,
                        reference_label="tolerance")


def write_reports(results: list[dict], json_path: Path, junit_path: Path, seconds: float,
                  html_path: Path | None = None, spec_verdicts: list[dict] | None = None,
                  case_seconds: dict[str, float] | None = None) -> None:
    """report.json, JUnit XML (per case: its simulation time from `case_seconds`, metric
    values as properties, the table in system-out) and, if html_path is given, a
    self-contained HTML page. Times stay out of the case entries, which a resumed run
    reproduces exactly."""
    case_seconds = dict(case_seconds or {})
    doc = {"summary": {k: sum(r["status"] == k for r in results) for k in ("pass", "fail", "error")},
           "seconds": seconds, "case_seconds": case_seconds, "cases": results}
    write_json(json_path, doc, indent=1)
    suite = ET.Element("testsuite", name="netlistgen-regression", tests=str(len(results)),
                       failures=str(doc["summary"]["fail"]), errors=str(doc["summary"]["error"]),
                       time=f"{seconds:.3f}")
    for r in results:
        tc = ET.SubElement(suite, "testcase", classname="regression", name=r["name"],
                           time=f"{case_seconds.get(r['name'], 0.0):.3f}")
        props = ET.SubElement(tc, "properties")
        for metric, m in r["metrics"].items():
            for key in ("value", "golden", "delta", "limit"):
                if m.get(key) is not None:
                    ET.SubElement(props, "property", name=f"{metric}.{key}", value=f"{m[key]:.9g}")
        ET.SubElement(tc, "system-out").text = table([r])
        if r["status"] == "fail":
            ET.SubElement(tc, "failure", message=r["message"][:500]).text = r["message"]
        elif r["status"] == "error":
            ET.SubElement(tc, "error", message=r["message"][:500]).text = r["message"]
    write_atomic(junit_path, ET.tostring(suite, encoding="unicode") + "\n")
    if html_path is not None:
        from netlistgen.analysis import htmlreport as H
        from netlistgen.analysis.specs import summary as spec_summary, table as spec_table

        s = doc["summary"]
        parts = [H.paragraph(f"{s['pass']} passed, {s['fail']} failed, {s['error']} errors in {seconds:.1f} s"),
                 H.heading("Cases against golden values"), H.markdown_table(table(results))]
        plot = margin_plot(results, html_path.with_name("tolerance_used.svg"))
        if plot is not None:
            parts += [H.heading("Share of each tolerance used"), H.figure(plot, "|delta| / limit per case and metric")]
        if spec_verdicts is not None:
            ss = spec_summary(spec_verdicts)
            parts += [H.heading(f"Spec check: {ss['passed']} of {ss['checked']} limits pass"),
                      H.markdown_table(spec_table(spec_verdicts))]
        H.write_page(html_path, "netlistgen regression report", parts)


def update_golden(rows: dict, path: str | Path | None = None) -> list[str]:
    """Store measured values as golden; return the diff lines (old -> new)."""
    path = Path(path) if path else default_golden()
    old = load_golden(path)
    new = {**old}
    diff = []
    for name, row in sorted(rows.items()):
        metrics = ADC_METRICS if row.get("kind") == "adc" else METRICS
        values = {m: row.get(m) for m in metrics}
        for m in metrics:
            before = (old.get(name) or {}).get(m)
            if before != values[m]:
                diff.append(f"{name}.{m}: {before} -> {values[m]}")
        new[name] = values
    write_json(path, {"cases": new}, indent=1, sort_keys=True)
    return diff


def cross_check(cases: list[Case], workdir: str | Path, engines: tuple[str, str], *, workers: int | None = None,
                progress: bool = True, cache=None) -> list[dict]:
    """The cases on two engines (reference first): per case the largest sampled-output
    difference in uV and in LSB of the reference run's gain, or why a case did not run."""
    import numpy as np

    from netlistgen.sim.backends import get_backend

    runs = []
    for engine in engines:
        jobs, refused = [], {}
        for case in (c for c in cases if isinstance(c, Case)):  # a case the engine cannot express is reported, not fatal
            job = case_job(case)
            try:
                get_backend(engine).decks(job.bench())
            except NetlistgenError as exc:
                refused[case.name] = str(exc)
                continue
            jobs.append(job)
        results, errors = run_jobs(jobs, Path(workdir) / engine, workers=workers, progress=progress,
                                   backend=engine, cache=cache, split_columns=False)
        runs.append((results, {**errors, **refused}))
    (ref, ref_err), (other, other_err) = runs
    out = []
    for case in (c for c in cases if isinstance(c, Case)):  # ADC cases have no array output to compare
        name = case.name
        error = ref_err.get(name) or other_err.get(name)
        if error:
            out.append({"name": name, "status": "error", "message": error.splitlines()[0]})
            continue
        diff_v = float(np.abs(np.asarray(ref[name].v_sample_v) - np.asarray(other[name].v_sample_v)).max())
        gain_v = summarize(name, ref[name])["gain_mv_per_lsb"] * 1e-3
        out.append({"name": name, "status": "ok", "max_diff_uv": diff_v * 1e6,
                    "max_diff_lsb": diff_v / abs(gain_v) if gain_v else math.inf})
    return out
