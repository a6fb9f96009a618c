"""Python API: generate, simulate, regress and report from a notebook or a script.

Each function returns a result object holding the numbers (metrics rows, verdicts) and
methods to tabulate, plot and serialise them. The command-line interface is a thin layer
over these functions, so both paths run the same code. Nothing here prints; bad input
raises `NetlistgenError` (one line naming the value) before anything is written.

    import netlistgen as ng
    run = ng.simulate(scheme="zebra-i", rows=4, cols=1, cycles=8, energy_cycles=0, out="out/nb")
    run.metric("snr_db"), run.table(), run.plot_transfer("transfer.png")
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from netlistgen.core import validate
from netlistgen.core.errors import NetlistgenError



# ----------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class RunSettings:
    """Where and how simulation jobs run: the settings every simulating task shares.

    Strings are accepted (CLI flags) and stored parsed; `cache=False` simulates every job,
    `cache_dir=None` uses the default result cache."""

    workers: int | None = None  # parallel ngspice processes; None: one per core
    backend: str = "subprocess"  # a registered simulator (sim/backends): "subprocess", "shared", ...
    cache: bool = True
    cache_dir: str | Path | None = None
    executor: str = "local"  # "local" or "dask"
    scheduler: str | None = None  # Dask scheduler address for executor "dask"
    timeout_s: float = 1800.0  # per ngspice job
    progress: bool = True  # progress bar on stderr

    def __post_init__(self) -> None:
        set_ = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731 - frozen: store parsed values
        if self.workers is not None:
            set_("workers", validate.integer(self.workers, "jobs", minimum=1, maximum=256))
        from netlistgen.sim.executor import EXECUTORS
        from netlistgen.sim.backends import BACKENDS

        for what, value, known in (("backend", self.backend, BACKENDS), ("executor", self.executor, EXECUTORS)):
            if value not in known:
                raise NetlistgenError(f"unknown {what} {value!r}; known: {', '.join(known)}")
        set_("timeout_s", validate.number(self.timeout_s, "timeout", minimum=1.0))
        if not self.cache and self.cache_dir:
            raise NetlistgenError("--no-cache and --cache-dir contradict each other")

    def run_kwargs(self) -> dict:
        """Keywords of sim.executor.run_jobs / studies.regress.measure."""
        from netlistgen.sim.cache import ResultCache

        return {"workers": self.workers, "backend": self.backend, "progress": self.progress,
                "cache": ResultCache(self.cache_dir) if self.cache else None,
                "executor": self.executor, "scheduler": self.scheduler}

    def require_simulator(self) -> None:
        """A missing or unsupported local simulator stops a run before any job starts."""
        if self.executor == "local":
            from netlistgen.sim.backends import get_backend

            get_backend(self.backend).identity()


@dataclass(frozen=True)
class Sampling:
    """What each design is driven with: random compute cycles, plus a short 10 ps
    energy run (`energy_cycles` averaged after a warm-up cycle) unless it is 0."""

    cycles: int = 24
    energy_cycles: int = 4
    stim_seed: int = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "cycles", validate.integer(self.cycles, "cycles", minimum=2, maximum=10000))
        object.__setattr__(self, "energy_cycles",
                           validate.integer(self.energy_cycles, "energy-cycles", minimum=0, maximum=1000))
        object.__setattr__(self, "stim_seed", validate.integer(self.stim_seed, "stim-seed", minimum=0, maximum=2**31))


def options(config: str | Path | None = None, *, design: Mapping[str, object] | None = None, **fields):
    """GenerateOptions from keyword fields, optionally on top of a TOML/YAML config file.

    `design` holds DesignPoint overrides ({"c_unit_f": 2e-15}); they extend the config's.
    Fields given as None are ignored, so CLI flags left unset keep the config's values."""
    from netlistgen.circuits.generate import GenerateOptions

    given = {k: v for k, v in fields.items() if v is not None}
    design = dict(design or {})
    if config:
        opts = GenerateOptions.from_file(config, **given)
        return dataclasses.replace(opts, design={**opts.design, **design}) if design else opts
    return GenerateOptions(**given, design=design)


def _as_options(opts, config, design, fields):
    if opts is not None:
        if config or design or fields:
            raise NetlistgenError("give either a GenerateOptions or option fields, not both")
        return opts
    return options(config, design=design, **fields)


def _make_dir(out: Path) -> Path:
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise NetlistgenError(f"output directory {str(out)!r} cannot be created: {exc.strerror or exc}") from None
    return out


def check_job_root(out: str | Path) -> Path:
    """Job decks name files under OUT/jobs: refuse a path they cannot hold before anything is written."""
    out = Path(out)
    validate.spice_path(out / "jobs", "output directory", must_exist=False)
    return out


def make_job_root(out: Path) -> Path:
    """Create OUT and OUT/jobs just before jobs run: a file in the way, a read-only folder
    or a symbolic link planted at OUT/jobs is a one-line error here, not a failure of
    every job (and no job writes through the link)."""
    import os

    from netlistgen.core.files import real_dir

    try:
        out.mkdir(parents=True, exist_ok=True)
    except (OSError, ValueError) as exc:
        raise NetlistgenError(f"output directory {str(out)[:200]!r} cannot be created: "
                              f"{getattr(exc, 'strerror', None) or exc}") from None
    real_dir(out / "jobs", "job directory")
    if not os.access(out / "jobs", os.W_OK | os.X_OK):
        raise NetlistgenError(f"output directory {str(out)[:200]!r} is not writable")
    return out


# ----------------------------------------------------------------------------- generate


@dataclass(frozen=True)
class GenerateResult:
    """A generated array: the Netlist object and the files written for it."""

    netlist: object  # circuits.netlist.Netlist
    paths: dict[str, Path]

    @property
    def spec(self):
        return self.netlist.spec

    @property
    def content_hash(self) -> str:
        return self.netlist.content_hash

    def summary(self) -> str:
        """One line saying what was generated."""
        s = self.spec
        return (f"generated {s.rows}x{s.cols} {s.cell} array ({s.pattern_set.name}, {s.bit_cols} GBLs, "
                f"{s.fidelity}) on {self.netlist.tech.name}/{self.netlist.corner}")


def generate(opts=None, *, config: str | Path | None = None, design: Mapping[str, object] | None = None,
             bundle: str | Path | None = None, **fields) -> GenerateResult:
    """Build an array netlist and write its library, op-point deck and manifest to `out`;
    with `bundle`, also a self-contained directory that runs in plain ngspice from any path.

    Pass a GenerateOptions, or its fields as keywords (scheme="zebra-i", rows=16, ...)."""
    from netlistgen.circuits.generate import build, write, write_bundle

    options = _as_options(opts, config, design, fields)
    netlist = build(options)
    bundle_dir = write_bundle(netlist, bundle)["manifest.json"].parent if bundle else None  # fails first
    paths = write(netlist, options.out)
    if bundle_dir is not None:
        paths["bundle"] = bundle_dir
    return GenerateResult(netlist, paths)


# ----------------------------------------------------------------------------- simulate


@dataclass(frozen=True)
class SimulationRun:
    """Results of simulating one or more designs: a metrics row per design
    (analysis.report.summarize), the SimResults behind them, and failed jobs."""

    rows: list[dict]
    results: dict = field(repr=False)  # {job name: sim.simulate.SimResult}
    errors: dict[str, str]
    seconds: float
    paths: dict[str, Path] = field(default_factory=dict)  # report files written (empty if none)
    spec_verdicts: list[dict] | None = None  # analysis.specs.check of the rows, if a spec was given

    @property
    def passed(self) -> bool:
        """Every job simulated and (with a spec) every limit holds."""
        return not self.errors and not self.spec_failed

    @property
    def spec_failed(self) -> int:
        """How many spec limits fail (0 without a spec)."""
        from netlistgen.analysis.specs import summary

        return summary(self.spec_verdicts)["failed"] if self.spec_verdicts else 0

    @property
    def labels(self) -> list[str]:
        return [r["label"] for r in self.rows]

    def job_counts(self) -> str:
        """How the jobs went: simulated, read from the result cache, failed."""
        cached = sum(bool(getattr(r, "cached", False)) for r in self.results.values())
        return (f"ngspice: {len(self.results) + len(self.errors)} jobs, {len(self.results) - cached} simulated, "
                f"{cached} from cache, {len(self.errors)} failed ({self.seconds:.1f} s)")

    @property
    def metrics(self) -> dict[str, dict]:
        """{design label: metrics row}."""
        return {r["label"]: r for r in self.rows}

    def metric(self, name: str, label: str | None = None):
        """One number of one design (the only one if `label` is omitted)."""
        if label is None:
            if len(self.rows) != 1:
                raise NetlistgenError(f"metric {name!r}: name one of {', '.join(self.labels) or 'no designs'}")
            label = self.rows[0]["label"]
        row = self.metrics.get(label)
        if row is None or name not in row:
            raise NetlistgenError(f"no metric {name!r} for {label!r}")
        return row[name]

    def table(self) -> str:
        """Markdown table of the key numbers."""
        from netlistgen.analysis.report import table

        return table(self.rows)

    def hold_table(self) -> str:
        """Markdown table of the held value (after the sample switch opens) and the pedestal."""
        from netlistgen.analysis.report import hold_table

        return hold_table(self.rows)

    def to_json(self) -> str:
        """The results.json document as a string."""
        from netlistgen.analysis.report import report_document

        return json.dumps(report_document(self.rows, self.spec_verdicts), indent=1, allow_nan=False)

    def _series(self) -> list[dict]:
        from netlistgen.analysis.report import samples_doc, transfer_entry

        return [transfer_entry(label, item["y_ideal"], item["v_sample_v"], item)
                for label, item in samples_doc(self.rows, self.results).items()]

    def plot_transfer(self, path: str | Path) -> Path:
        """Measured GBL voltage vs ideal MAC per design (.png/.svg/.pdf)."""
        from netlistgen.analysis.report import transfer_plots

        return transfer_plots(self._series(), {"transfer": path})["transfer"]

    def plot_residual(self, path: str | Path) -> Path:
        """Fit residual in LSB per design, with the INL bounds."""
        from netlistgen.analysis.report import transfer_plots

        return transfer_plots(self._series(), {"residual": path})["residual"]

    def write(self, out: str | Path, *, plots: bool = True) -> dict[str, Path]:
        """results.json, results.md, samples.json, report.html and (unless plots=False) the plots."""
        from netlistgen.analysis.report import write_report

        return write_report(self.rows, self.results, out, spec_verdicts=self.spec_verdicts, plots=plots)


def load_specs(specs):
    """A spec file's limits (analysis.specs.load_specs), already-loaded specs, or None."""
    if specs is None or not isinstance(specs, (str, Path)):
        return specs
    from netlistgen.analysis.specs import load_specs as load

    return load(specs)


def sampling_jobs(label: str, netlist, sampling: Sampling, timeout_s: float) -> list:
    """A sampling job (100 ps max step) and, if sampling.energy_cycles > 0, a short energy
    job (10 ps) named `label`-energy: the pair simulate, demo and sweep run per design."""
    from netlistgen.circuits.testbench import random_stimulus
    from netlistgen.sim.energy import energy_run_cycles
    from netlistgen.sim.simulate import Job

    jobs = [Job(label, netlist, random_stimulus(netlist, sampling.cycles, sampling.stim_seed), timeout_s=timeout_s)]
    if sampling.energy_cycles:
        stim = random_stimulus(netlist, energy_run_cycles(sampling.energy_cycles), sampling.stim_seed + 1)
        jobs.append(Job(label + "-energy", netlist, stim, energy=True, timeout_s=timeout_s))
    return jobs


def simulate_many(designs: Mapping[str, object], *, sampling: Sampling | None = None, out: str | Path = "out",
                  run: RunSettings | None = None, split_columns: bool = False, write: bool = True,
                  plots: bool = True, specs=None) -> SimulationRun:
    """Simulate several designs ({label: GenerateOptions or Netlist}) in one parallel batch.

    Job directories go to OUT/jobs; with `write`, the report (plots, report.html) to OUT.
    `specs` (a spec file or loaded specs, analysis.specs) is read before any job runs and
    checked against the rows; a failing limit makes the run not `passed`."""
    from netlistgen.analysis.report import summarize
    from netlistgen.analysis.specs import check as check_specs
    from netlistgen.circuits.generate import GenerateOptions, build
    from netlistgen.sim.executor import run_jobs

    sampling = sampling or Sampling()
    run = run or RunSettings()
    out = check_job_root(out)
    for label in designs:
        validate.identifier(str(label).replace("-", "_"), "design label")
    kwargs = run.run_kwargs()
    run.require_simulator()
    specs = load_specs(specs)
    netlists = {label: build(d) if isinstance(d, GenerateOptions) else d for label, d in designs.items()}
    jobs = [j for label, nl in netlists.items() for j in sampling_jobs(label, nl, sampling, run.timeout_s)]
    make_job_root(out)
    start = time.perf_counter()
    results, errors = run_jobs(jobs, out / "jobs", split_columns=split_columns, **kwargs)
    rows = [summarize(label, results[label], results.get(label + "-energy")) for label in netlists
            if label in results]
    verdicts = check_specs(specs, rows) if specs is not None and rows else None
    sim = SimulationRun(rows, results, errors, time.perf_counter() - start, spec_verdicts=verdicts)
    if write and rows:
        sim = dataclasses.replace(sim, paths=sim.write(out, plots=plots))
    return sim


def simulate(opts=None, *, config: str | Path | None = None, design: Mapping[str, object] | None = None,
             label: str | None = None, cycles: int = 24, energy_cycles: int = 4, stim_seed: int = 1,
             out: str | Path | None = None, run: RunSettings | None = None, split_columns: bool = False,
             write: bool = True, plots: bool = True, specs=None, **fields) -> SimulationRun:
    """Generate one design and simulate it: linearity, SNR and (with energy_cycles) energy.

    Design fields as in `generate`; `out` defaults to the options' out directory."""
    from netlistgen.circuits.generate import build

    sampling = Sampling(cycles, energy_cycles, stim_seed)
    run = run or RunSettings()
    opts = _as_options(opts, config, design, fields)
    netlist = build(opts)
    label = label or f"{netlist.spec.pattern_set.name}-{netlist.spec.rows}x{netlist.spec.cols}"
    return simulate_many({label: netlist}, sampling=sampling, out=out or opts.out, run=run,
                         split_columns=split_columns, write=write, plots=plots, specs=specs)


from netlistgen.circuits.schemes import DEMO as DEMO_SCHEMES  # noqa: E402 (light: no numpy)


def demo(*, technology: str = "ptm45", rows: int = 8, cols: int = 1, out: str | Path = "out/demo",
         sampling: Sampling | None = None, run: RunSettings | None = None, split_columns: bool = False,
         plots: bool = True, specs=None) -> SimulationRun:
    """The main comparison: baseline 8-8 LCC, ZEBRA I and ZEBRA II on one technology."""
    from netlistgen.circuits.generate import GenerateOptions

    designs = {s: GenerateOptions(scheme=s, technology=technology, rows=rows, cols=cols) for s in DEMO_SCHEMES}
    return simulate_many(designs, sampling=sampling, out=out, run=run, split_columns=split_columns, plots=plots,
                         specs=specs)


# ----------------------------------------------------------------------------- regress


@dataclass(frozen=True)
class RegressionReport:
    """Verdicts of the regression suite against the golden values.

    `cases`: one entry per case ({"name", "status": pass|fail|error, "metrics", "message"});
    after `update_golden=True`, `cases` is empty and `golden_diff` lists what changed."""

    cases: list[dict]
    rows: dict[str, dict]  # measured metrics per case
    errors: dict[str, str]
    seconds: float
    paths: dict[str, Path] = field(default_factory=dict)
    golden_diff: list[str] | None = None
    spec_verdicts: list[dict] | None = None  # analysis.specs.check of the rows, if a spec was given

    @property
    def passed(self) -> bool:
        return not self.errors and all(c["status"] == "pass" for c in self.cases)

    @property
    def failed(self) -> list[dict]:
        return [c for c in self.cases if c["status"] != "pass"]

    def table(self) -> str:
        """Markdown table, one line per case and metric: value, golden, delta, tolerance, verdict."""
        from netlistgen.studies.regress import table

        return table(self.cases)

    def to_json(self) -> str:
        from netlistgen.core.jsonio import to_jsonable

        return json.dumps(to_jsonable({"cases": self.cases, "errors": self.errors, "seconds": self.seconds}),
                          indent=1, allow_nan=False)


def regress(*, suite: str | Path | None = None, golden: str | Path | None = None, k: str | None = None,
            out: str | Path = "out/regress", run: RunSettings | None = None,
            update_golden: bool = False, specs=None) -> RegressionReport:
    """Run the regression suite (default: the shipped one) and judge it against golden values.

    Writes OUT/report.json and OUT/junit.xml. With `update_golden`, the measured values
    replace those in `golden` (which must be named) unless a case failed to simulate.
    `specs` (a spec file or loaded specs) is read before any job runs; its limits are
    checked per case and written to OUT/report.html with the rest."""
    from netlistgen.studies import regress as rg

    run = run or RunSettings()
    cases = rg.select(rg.load_suite(suite), k)
    if update_golden and not golden:
        raise NetlistgenError("--update-golden needs an explicit --golden FILE (e.g. testbenches/golden.json)")
    gold = rg.load_golden(golden)
    specs = load_specs(specs)
    kwargs = run.run_kwargs()
    run.require_simulator()
    out = make_job_root(check_job_root(out))
    start = time.perf_counter()
    rows, errors = rg.measure(cases, out / "jobs", **kwargs)
    seconds = time.perf_counter() - start
    if update_golden:
        diff = None if errors else rg.update_golden(rows, golden)
        return RegressionReport([], rows, errors, seconds, golden_diff=diff)
    from netlistgen.analysis.specs import check as check_specs

    spec_verdicts = (check_specs(specs, [r for r in rows.values() if r.get("kind") != "adc"])
                     if specs is not None else None)  # specs are array limits
    verdicts = rg.verdicts(cases, rows, errors, gold, spec_verdicts)
    paths = {"json": out / "report.json", "junit": out / "junit.xml", "html": out / "report.html"}
    rg.write_reports(verdicts, paths["json"], paths["junit"], seconds, paths["html"], spec_verdicts,
                     case_seconds={name: row["sim_seconds"] for name, row in rows.items()})
    return RegressionReport(verdicts, rows, errors, seconds, paths, spec_verdicts=spec_verdicts)


# ----------------------------------------------------------------------------- report


@dataclass(frozen=True)
class PaperReport:
    """The paper comparison recomputed with SPICE: the document and the files written."""

    doc: dict
    paths: dict[str, Path]
    seconds: float

    def markdown(self) -> str:
        from netlistgen.studies.paper import markdown

        return markdown(self.doc)


def paper_report(opts=None, *, out: str | Path = "out/paper", **fields) -> PaperReport:
    """`report paper`: the seeds' comparison table on one technology (studies.paper)."""
    from netlistgen.studies import paper

    opts = opts or paper.PaperOptions(**fields)
    out = _make_dir(Path(out))
    start = time.perf_counter()
    doc = paper.build(opts, out / "work")
    paths = paper.write(doc, out)
    return PaperReport(doc, paths, time.perf_counter() - start)


def plot_transfer(result_dirs, path: str | Path, *, residual: bool = False) -> Path:
    """Transfer curve (or fit residual) of saved report directories (their samples.json)."""
    from netlistgen.analysis.report import transfer_plots, transfer_series

    series = transfer_series([result_dirs] if isinstance(result_dirs, (str, Path)) else list(result_dirs))
    kind = "residual" if residual else "transfer"
    return transfer_plots(series, {kind: path})[kind]


__all__ = ["GenerateResult", "PaperReport", "RegressionReport", "RunSettings", "Sampling", "SimulationRun", "demo",
           "generate", "options", "paper_report", "plot_transfer", "regress", "simulate", "simulate_many"]
