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

    def require_support(self, netlists) -> None:
        """A netlist the backend cannot simulate stops the run with its one-line reason,
        before any job directory or file is written."""
        from netlistgen.sim.backends import get_backend

        engine = get_backend(self.backend)
        for netlist in netlists:
            engine.check(netlist)


@dataclass(frozen=True)
class Sampling:
    """What each design is driven with: random compute cycles, plus a short 5 ps
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
        if not self.spec_verdicts:
            return 0
        from netlistgen.analysis.specs import summary

        return summary(self.spec_verdicts)["failed"]

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
    job (5 ps) named `label`-energy: the pair simulate, demo and sweep run per design."""
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
    from netlistgen.circuits.generate import GenerateOptions, build
    from netlistgen.core.preload import Preload
    from netlistgen.sim import runner
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
    run.require_support(netlists.values())
    jobs = [j for label, nl in netlists.items() for j in sampling_jobs(label, nl, sampling, run.timeout_s)]
    make_job_root(out)
    later = ["netlistgen.sim.rawfile", "netlistgen.analysis.report"]  # needed once the simulator is done
    if write:
        later += ["netlistgen.analysis.htmlreport"] + (["netlistgen.analysis.plots"] if plots else [])
    loader = Preload(*later, after=runner.STARTED)
    start = time.perf_counter()
    try:
        results, errors = run_jobs(jobs, out / "jobs", split_columns=split_columns, **kwargs)
    finally:
        loader.release()  # cached jobs never start a simulator
    from netlistgen.analysis.report import summarize

    rows = [summarize(label, results[label], results.get(label + "-energy")) for label in netlists
            if label in results]
    verdicts = None
    if specs is not None and rows:
        from netlistgen.analysis.specs import check as check_specs

        verdicts = check_specs(specs, rows)
    sim = SimulationRun(rows, results, errors, time.perf_counter() - start, spec_verdicts=verdicts)
    if write and rows:
        loader.join()  # its imports are needed now anyway; alone, this thread may fork to draw the plots
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



# ----------------------------------------------------------------------------- check


@dataclass(frozen=True)
class OperatingPointCheck:
    """The operating point of a generated directory: every GBL output should sit at VCM."""

    outputs: dict[str, float]  # output node -> V
    expected_outputs: int
    vcm_v: float
    tolerance_v: float
    backend: str
    seconds: float
    cached: bool

    @property
    def complete(self) -> bool:
        """The simulator wrote every output of the array."""
        return len(self.outputs) == self.expected_outputs

    @property
    def worst_v(self) -> float:
        """Largest |V_out - VCM| (inf without outputs)."""
        return max((abs(v - self.vcm_v) for v in self.outputs.values()), default=float("inf"))

    @property
    def passed(self) -> bool:
        return self.complete and self.worst_v <= self.tolerance_v

    def summary(self) -> str:
        """One PASS/FAIL line."""
        if not self.complete:
            return f"FAIL: the simulator wrote {len(self.outputs)} of {self.expected_outputs} outputs"
        return (f"{'PASS' if self.passed else 'FAIL'}: {len(self.outputs)} outputs, max |V - VCM| = "
                f"{self.worst_v * 1e3:.3f} mV (tolerance {self.tolerance_v * 1e3:g} mV), {self.backend} "
                f"{self.seconds:.2f} s" + (" (cached)" if self.cached else ""))


def check(directory: str | Path, *, tolerance_v: float | str = 0.005, run: RunSettings | None = None
          ) -> OperatingPointCheck:
    """Simulate the operating-point bench of a `generate` output directory (through the
    backend, the executor and the cache) and compare its outputs with VCM."""
    from netlistgen.circuits.generate import load_generated
    from netlistgen.circuits.testbench import dc_sources
    from netlistgen.core.errors import SimulationError
    from netlistgen.sim.backends import Bench, OpAnalysis
    from netlistgen.sim.executor import run_jobs
    from netlistgen.sim.simulate import BenchJob

    out = Path(directory)
    if not (out / "manifest.json").is_file():
        raise NetlistgenError(f"{str(out)!r} has no manifest.json: generate it first with `netlistgen generate --out DIR`")
    tolerance_v = validate.number(tolerance_v, "tolerance-v", minimum=0.0)
    run = run or RunSettings(timeout_s=600.0)
    library, levels, probes, manifest = load_generated(out)
    run.require_simulator()
    bench = Bench("check", "operating point", library, tuple(dc_sources(levels)), OpAnalysis(tuple(probes)))
    kwargs = {**run.run_kwargs(), "workers": 1, "progress": False}
    results, errors = run_jobs([BenchJob(bench, run.timeout_s)], out / "jobs", **kwargs)
    if errors:
        raise SimulationError(errors["check"])
    result = results["check"]
    outputs = {k[2:-1]: float(v[0]) for k, v in result.vectors.items() if k.startswith("v(out_")}
    return OperatingPointCheck(outputs, manifest["spec"]["bit_cols"], manifest["design"]["vcm_v"], tolerance_v,
                               run.backend, result.seconds, bool(result.cached))


# ----------------------------------------------------------------------------- Monte Carlo


@dataclass(frozen=True)
class MonteCarloRun:
    """Seeded mismatch (and kT/C) samples per scheme: distributions and the files written."""

    result: object = field(repr=False)  # studies.montecarlo.McResult
    paths: dict[str, Path]
    seconds: float

    @property
    def errors(self) -> dict[str, str]:
        return self.result.errors

    @property
    def passed(self) -> bool:
        return not self.errors

    def summary(self) -> dict:
        """{label: {metric: {mean, std, min, max}}}."""
        return self.result.summary()

    def table(self) -> str:
        """Markdown: mean ± std [min, max] of each metric per scheme."""
        from netlistgen.studies.montecarlo import summary_table

        return summary_table(self.result)


def _scheme_list(schemes, default: str) -> list[str]:
    """Distinct scheme names from a list or a comma-separated string."""
    names = [s.strip() for s in schemes.split(",")] if isinstance(schemes, str) else list(schemes or [default])
    if not names or not all(names) or len(set(names)) != len(names):
        raise NetlistgenError(f"invalid schemes {schemes!r}: expected distinct comma-separated names")
    return names


def monte_carlo(opts=None, *, schemes=None, n: int | str = 20, base_seed: int | str = 1, sample: int | str | None = None,
                vt: bool = True, cap: bool = True, vt_scale: float | str | None = None,
                cap_scale: float | str | None = None, noise_temp_k: float | str | None = None,
                cycles: int | str = 16, stim_seed: int | str = 1, out: str | Path = "out/mc",
                run: RunSettings | None = None, config: str | Path | None = None,
                design: Mapping[str, object] | None = None, log=None, **fields) -> MonteCarloRun:
    """Monte Carlo mismatch of one or more schemes (`schemes`: names or "a,b"; default the
    options' scheme): sample k uses mismatch seed base_seed + k, `sample` reruns one of
    them alone with the numbers it has in the full run. Writes samples, summary and
    histograms to `out`; `log` receives a progress line."""
    from netlistgen.studies.montecarlo import run_mc_many, write_mc

    base = _as_options(opts, config, design, fields)
    configs = {s: dataclasses.replace(base, scheme=s) for s in _scheme_list(schemes, base.scheme)}
    mismatch: dict = {"vt": bool(vt), "cap": bool(cap)}
    for key, value in (("vt_scale", vt_scale), ("cap_scale", cap_scale)):
        if value is not None:
            mismatch[key] = validate.number(value, key.replace("_", "-"))
    n = validate.integer(n, "n", minimum=1, maximum=10_000)
    only = None if sample is None else [validate.integer(sample, "sample", minimum=0, maximum=n - 1)]
    run = run or RunSettings()
    out = Path(out)
    if log is not None:
        log(f"Monte Carlo: {', '.join(configs)} x {1 if only else n} samples ...")
    start = time.perf_counter()
    result = run_mc_many(configs, n, validate.integer(base_seed, "base-seed", minimum=0), out / "jobs",
                         mismatch=mismatch, cycles=cycles, stim_seed=stim_seed, only=only, noise=noise_temp_k,
                         timeout_s=run.timeout_s, **run.run_kwargs())
    paths = write_mc(result, out)
    return MonteCarloRun(result, paths, time.perf_counter() - start)


# ----------------------------------------------------------------------------- behavioural studies


@dataclass(frozen=True)
class SchemeModels:
    """Behavioural column models per scheme, fitted to ngspice (with the SPICE runs they
    were fitted on) or loaded from a directory of <scheme>.json (`fits` then empty)."""

    models: dict  # {scheme: analysis.behavioral.BehavioralModel}
    fits: dict = field(repr=False)  # {scheme: sim.simulate.SimResult}
    directory: Path | None = None  # where the models were saved or loaded from


def scheme_models(schemes=None, *, technology: str = "ptm45", corner: str | None = None, rows: int | str = 8,
                  spice_cycles: int | str = 24, models_dir: str | Path | None = None,
                  mc: str | Path | None = None, out: str | Path = "out", workers: int | str | None = None,
                  progress: bool = False, log=None) -> SchemeModels:
    """Each scheme's model: loaded from `models_dir`, else fitted on one simulated column
    (`rows` rows, `spice_cycles` random cycles; jobs in OUT/jobs) and saved to OUT/models.
    `mc` (a `mc` samples.json) adds each scheme's gain/offset mismatch distribution."""
    from netlistgen.analysis.behavioral import characterize, load_mismatch, load_models, save_models
    from netlistgen.circuits.schemes import COMPARED

    schemes = list(schemes or COMPARED)
    if models_dir:
        return SchemeModels(load_models(models_dir, schemes), {}, Path(models_dir))
    mismatch = {s: load_mismatch(mc, label=s) for s in schemes} if mc else {}
    rows = validate.integer(rows, "rows", minimum=1, maximum=4096)
    cycles = validate.integer(spice_cycles, "spice-cycles", minimum=4, maximum=10000)
    workers = None if workers is None else validate.integer(workers, "jobs", minimum=1, maximum=256)
    if log is not None:
        log(f"characterising {', '.join(schemes)}: {rows} rows x 1 column on {technology}, {cycles} cycles "
            "(ngspice) ...")
    chars = characterize(schemes, technology=technology, corner=corner, rows=rows, cycles=cycles,
                         workdir=Path(out) / "jobs", workers=workers, progress=progress)
    models = {s: dataclasses.replace(c.model, mismatch=mismatch.get(s)) for s, c in chars.items()}
    save_models(models, Path(out) / "models")
    return SchemeModels(models, {s: c.fit for s, c in chars.items()}, Path(out) / "models")


@dataclass(frozen=True)
class StudyReport:
    """A behavioural study (SNR, accuracy): its document, the files written and its table."""

    doc: dict = field(repr=False)
    paths: dict[str, Path]
    tabulate: object = field(repr=False, compare=False)  # doc -> markdown (the study's `table`)

    def table(self) -> str:
        return self.tabulate(self.doc)


def snr(schemes=None, *, technology: str = "ptm45", corner: str | None = None, rows: int | str = 8,
        spice_cycles: int | str = 24, noise_v=None, cycles: int | str = 400, adc_bits: int | str = 8,
        models_dir: str | Path | None = None, mc: str | Path | None = None, out: str | Path = "out/snr",
        workers: int | str | None = None, progress: bool = False, log=None) -> StudyReport:
    """SNR per scheme measured in ngspice, then of the fitted behavioural models against
    injected Gaussian noise (`noise_v`: sigmas at the GBL in V)."""
    from netlistgen.studies import snr_study

    noise = [validate.number(x, "noise-v", minimum=0.0) for x in noise_v] if noise_v else list(snr_study.DEFAULT_NOISE_V)
    cycles = validate.integer(cycles, "cycles", minimum=4)
    adc_bits = validate.integer(adc_bits, "adc-bits", minimum=1, maximum=24)
    fitted = scheme_models(schemes, technology=technology, corner=corner, rows=rows, spice_cycles=spice_cycles,
                           models_dir=models_dir, mc=mc, out=out, workers=workers, progress=progress, log=log)
    study = {**snr_study.run_study(technology=technology, rows=next(iter(fitted.models.values())).rows,
                                   noise_v=noise, cycles=cycles, adc_bits=adc_bits, models=fitted.models),
             "spice": snr_study.spice_snr(fitted.fits)}
    return StudyReport(study, snr_study.write_study(study, out), snr_study.table)


def accuracy(schemes=None, *, technology: str = "ptm45", corner: str | None = None, rows: int | str = 16,
             spice_cycles: int | str = 16, noise_var=("0.03", "0.3", "3"), noise_ref: str = "lsb-fs",
             adc_bits: int | str = 8, seeds: int | str = 5, hidden: int | str = 32,
             models_dir: str | Path | None = None, mc: str | Path | None = None, out: str | Path = "out/accuracy",
             workers: int | str | None = None, progress: bool = False, log=None) -> StudyReport:
    """The digits MLP through each scheme's behavioural column: accuracy against noise
    (`noise_var` in LSB^2 of `noise_ref`; adc_bits 0: no ADC)."""
    from netlistgen.studies import accuracy as study

    settings = {"noise_lsb_var": [validate.number(x, "noise-var", minimum=0.0) for x in noise_var],
                "noise_ref": noise_ref, "adc_bits": validate.integer(adc_bits, "adc-bits", minimum=0, maximum=24) or None,
                "seeds": validate.integer(seeds, "seeds", minimum=1, maximum=1000),
                "hidden": validate.integer(hidden, "hidden", minimum=1, maximum=4096)}
    fitted = scheme_models(schemes, technology=technology, corner=corner, rows=rows, spice_cycles=spice_cycles,
                           models_dir=models_dir, mc=mc, out=out, workers=workers, progress=progress, log=log)
    doc = study.evaluate(fitted.models, progress=progress, **settings)
    return StudyReport(doc, study.write_accuracy(doc, out), study.table)


def accuracy_cnn(opts=None, *, quick: bool = False, technology: str = "ptm45", corner: str | None = None,
                 spice_cycles: int | str = 24, mc_samples: int | str = 4, models_dir: str | Path | None = None,
                 out: str | Path = "out/accuracy", progress: bool = False, log=None, **fields) -> StudyReport:
    """The MobileNetV2-style CNN on shipped data through SPICE-fitted columns at the macro's
    R and ADC policy (studies.accuracy_cnn; needs netlistgen[nn]). `opts` is a
    StudyOptions, or its fields as keywords; `quick` starts from the CI-sized variant."""
    from netlistgen.analysis.behavioral import load_models
    from netlistgen.studies import accuracy_cnn as ac

    if opts is None:
        opts = ac.StudyOptions.quick(**fields) if quick else ac.StudyOptions(**fields)
    elif fields or quick:
        raise NetlistgenError("give either a StudyOptions or its fields, not both")
    if models_dir:
        models, where = load_models(models_dir, opts.schemes), models_dir
    else:
        if log is not None:
            log(f"column models: {', '.join(opts.schemes)} at R={opts.rows} on {technology} "
                "(ngspice fit + Monte Carlo, reused from the cache when present) ...")
        models, where = ac.fit_models(opts.schemes, technology=technology, corner=corner, rows=opts.rows,
                                      spice_cycles=validate.integer(spice_cycles, "spice-cycles", minimum=4,
                                                                    maximum=10000),
                                      mc_samples=validate.integer(mc_samples, "mc-samples", minimum=0),
                                      workdir=Path(out) / "jobs", workers=opts.workers if "workers" in fields else None)
    if log is not None:
        log(f"models: {where}; {len(opts.datasets)} data set(s) x {opts.train_seeds} network(s), "
            f"{opts.noise_seeds} noise seeds ...")
    doc = ac.run_study(opts, models, progress=progress, runs_dir=Path(out) / "runs")
    return StudyReport(doc, ac.write_study(doc, out), ac.table)


@dataclass(frozen=True)
class ModelFit:
    """One scheme's behavioural model fitted to ngspice, and the JSON file it was saved to."""

    model: object  # analysis.behavioral.BehavioralModel
    path: Path

    def column_lines(self) -> list[str]:
        """One line per bit column: gain, offset, total capacitance, kT/C noise, SPICE SNR."""
        return [f"column {c.index} (2^{c.bit_position}): gain {c.gain_v_per_lsb * 1e3:.4f} mV/LSB, offset "
                f"{c.offset_v * 1e3:.3f} mV, C_total {c.c_total_f * 1e15:.2f} fF, kT/C {c.noise_sigma_v * 1e6:.1f} uV, "
                f"SPICE SNR {c.spice_snr_db:.1f} dB" for c in self.model.columns]


def fit_model(scheme: str = "zebra-i", *, technology: str = "ptm45", corner: str | None = None,
              rows: int | str = 8, cycles: int | str = 24, mc: str | Path | None = None,
              out: str | Path = "model.json", progress: bool = False) -> ModelFit:
    """Fit one scheme's behavioural model to ngspice and export it as JSON (usable without
    ngspice); jobs run in <out stem>-jobs beside it. `mc` adds the mismatch distribution."""
    from netlistgen.analysis.behavioral import characterize, load_mismatch

    mismatch = load_mismatch(mc, label=scheme) if mc else None
    out = Path(out)
    chars = characterize([scheme], technology=technology, corner=corner,
                         rows=validate.integer(rows, "rows", minimum=1, maximum=4096),
                         cycles=validate.integer(cycles, "cycles", minimum=4, maximum=10000),
                         workdir=out.parent / (out.stem + "-jobs"), mismatch=mismatch, progress=progress)
    model = chars[scheme].model
    return ModelFit(model, model.save(out))


__all__ = ["GenerateResult", "ModelFit", "MonteCarloRun", "OperatingPointCheck", "PaperReport", "RegressionReport",
           "RunSettings", "Sampling", "SchemeModels", "SimulationRun", "StudyReport", "accuracy", "accuracy_cnn",
           "check", "demo", "fit_model", "generate", "monte_carlo", "options", "paper_report", "plot_transfer",
           "regress", "scheme_models", "simulate", "simulate_many", "snr"]
