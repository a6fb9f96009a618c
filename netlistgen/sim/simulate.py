"""Simulation jobs: a description -> a backend's decks -> vectors -> results.

A job (`Job`: the transient charge-accumulation run; `BenchJob`: any other analysis,
e.g. the operating-point check or the GBL capacitance AC run) describes itself as an
engine-neutral `Bench`; the backend (sim/backends) writes its decks and runs them.

Isolation: every run of a job executes in a private staging directory beside the job
directory (`.<job>.run-XXXX`), which then replaces the job directory as a whole. Two
runs into the same output never share a deck or a raw file, the job directory always
holds the files of one run, and results come only from files this run's simulator
wrote (outputs are removed before a run and must be newer than its start).

The same steps run split for a cluster without a shared file system: `prepare` and
`finish` on the client (cache, job directory), `simulate_remote` on a worker (deck
from the description, a scratch directory of its own, vectors and log returned).
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from netlistgen.core import validate
from netlistgen.core.errors import OutputError
from netlistgen.core.files import write_atomic
from netlistgen.sim.backends import DEFAULT_BACKEND, Bench, DeckSet, RunOutput, TranAnalysis, get_backend
from netlistgen.sim import runner
from netlistgen.sim.energy import energy_per_cycle
from netlistgen.tech.deckcheck import check_deck_includes
from netlistgen.circuits.netlist import Netlist
from netlistgen.circuits.variation import ResetNoise
from netlistgen.circuits.testbench import (Stimulus, Timing, check_stimulus, ideal_outputs, output_nodes,
                                           probe_index, saved_vectors, tran_comment, transient_sources)

# Energy runs: at 5 ps (with energy.py's step-charge rule) energy per cycle is within 0.5 % of a 1 ps run
# on ngspice and VACASK; at 10 ps ngspice was 1.2 % off in a cycle (docs/vacask.md, step convergence).
ENERGY_MAX_STEP_S = 5e-12
# SPEC section 5: energy runs never step coarser than this (a job may choose a finer or equal step).
ENERGY_STEP_LIMIT_S = 10e-12
# Transistor-fidelity sampling runs skip re-evaluating devices whose terminal voltages
# did not move (BSIM4 bypass; the 6T cells are static): a ptm45 64x8 array's ngspice CPU
# time 57 -> 41 s, sampled values within 0.02 LSB (benchmarks/RESULTS.md "64x8 transistor
# array"). Only where the technology allows it (`sample_bypass`): bypass ignores changes
# below reltol x |V| + vntol (~0.9 mV at VCM), so the samples depend on the time grid by
# that much, 0.7 LSB on sky130 (docs/sky130.md). Not used for ideal-bits decks (small;
# sky130 regression SNR moved 0.6 dB with it) nor for energy runs.
SAMPLE_OPTIONS: tuple[str, ...] = ("bypass=1",)
# Transistor fidelity: the direct Newton operating point failed on every array measured
# (16x2, 64x8: ~100 wasted iterations) before gmin stepping; start with gmin stepping.
TRANSISTOR_OPTIONS: tuple[str, ...] = ("noopiter",)


def deck_options(job: "Job") -> tuple[str, ...]:
    """Extra `.options` of a job's transient deck."""
    if job.netlist.spec.fidelity != "transistor":
        return ()
    bypass = job.netlist.tech.sample_bypass and not job.energy
    return TRANSISTOR_OPTIONS + (SAMPLE_OPTIONS if bypass else ())


@dataclass(frozen=True)
class Job:
    """One transient simulation of one netlist."""

    name: str
    netlist: Netlist
    stimulus: Stimulus
    timing: Timing | None = None  # None: Timing.for_technology(netlist.tech)
    energy: bool = False
    timeout_s: float = 1800.0
    reset_noise: ResetNoise | None = None  # injected kT/C per GBL (variation.py); needs reset_noise netlist
    probe_nodes: tuple[str, ...] = ()  # internal nodes saved besides the outputs (waveform plots)
    max_step_s: float | None = None  # None: ENERGY_MAX_STEP_S, or the technology's sample_max_step_s

    def __post_init__(self) -> None:
        validate.identifier(self.name.replace("-", "_"), "job name")
        if self.max_step_s is not None:
            limit = ENERGY_STEP_LIMIT_S if self.energy else 1e-9
            object.__setattr__(self, "max_step_s", validate.number(self.max_step_s, "max_step_s", minimum=1e-15,
                                                                   maximum=limit))
        if self.timing is None:
            object.__setattr__(self, "timing", Timing.for_technology(self.netlist.tech))

    def bench(self) -> Bench:
        """The transient bench: every port's source, the schedule's stop time and step."""
        nl, stim = self.netlist, self.stimulus
        check_stimulus(nl, stim)
        sources, sched = transient_sources(nl, stim, self.timing, self.reset_noise)
        saved = saved_vectors(nl, sources, self.energy, self.probe_nodes)
        analysis = TranAnalysis(stop_s=sched.t_stop_s, max_step_s=self.step_s, saved=tuple(saved),
                                options=deck_options(self))
        meta = {
            "name": self.name,
            "windows_s": sched.windows(),
            "breakpoints_s": pwl_corners_s(sources),
            "sample_times_s": [sched.sample_time(c) for c in range(stim.cycles)],
            "read_times_s": [sched.read_time(c) for c in range(stim.cycles)],
            "inputs": stim.inputs.tolist(),
            "sram_row": stim.sram_row.tolist(),
            "rows": nl.spec.rows,
            "cols": nl.spec.cols,
            "n_bits": nl.spec.n_bits,
            "vcm_v": nl.design.vcm_v,
            "nodes": probe_index(nl),
            "technology": {"name": nl.tech.name, "descriptor": str(nl.tech.descriptor_path), "corner": nl.corner,
                           "temp_c": nl.design.temp_c},
            **({"reset_noise": {"seed": self.reset_noise.seed, "sigma_v": list(self.reset_noise.sigma_v)}}
               if self.reset_noise is not None else {}),
        }
        return Bench(self.name, tran_comment(stim, self.timing), nl, tuple(sources), analysis, meta)

    @property
    def step_s(self) -> float:
        """The transient's maximum step: the job's own, else the default of its kind."""
        if self.max_step_s is not None:
            return self.max_step_s
        return ENERGY_MAX_STEP_S if self.energy else self.netlist.tech.sample_max_step_s

    def reduce(self, vectors: dict[str, np.ndarray], meta: dict) -> dict:
        """What is kept of a run (and cached): sampled and held outputs, per-cycle energy."""
        return collect_samples(self, vectors, meta)

    def cache_shapes(self, bench: Bench) -> dict[str, tuple]:
        """The shapes a cached result of this job must have (cache.ResultCache verifies them)."""
        shape = (self.stimulus.cycles, len(output_nodes(self.netlist)))
        out: dict[str, tuple] = {"v_sample_v": shape, "v_hold_v": shape, "seconds": ()}
        if self.energy:
            out["energy|*"] = (len(bench.meta["windows_s"]),)
        return out

    def result(self, fields: dict, seconds: float, workdir: Path, cached: bool) -> "SimResult":
        return SimResult(self, ideal_outputs(self.netlist, self.stimulus), fields["v_sample_v"], fields["v_hold_v"],
                         fields.get("energy"), seconds, workdir, cached=cached)


@dataclass(frozen=True)
class SimResult:
    """Per-cycle samples of one job, with the ideal values they are compared with."""

    job: Job
    y_ideal: np.ndarray  # (cycles, bit_cols), units of C1*dV
    v_sample_v: np.ndarray  # (cycles, bit_cols): V(out) - VCM at the sampling instant
    v_hold_v: np.ndarray  # (cycles, bit_cols): V(out) - VCM at the end of the hold phase
    energy: dict | None  # metrics.energy_per_cycle output (+ "groups_delivered_j"), if requested
    seconds: float
    workdir: Path
    cached: bool = False  # True: read from the result cache, ngspice not run


def _source_group(name: str) -> str:
    """Bookkeeping groups for the energy breakdown."""
    head = name.split("_")[0].rstrip("b")
    return {
        "vdd": "vdd (cells, drivers)",
        "vcm": "vcm (plates, reset)",
        "ref": "ml-siu references",
        "sel": "ml-siu selects",
        "rst": "reset/sample control",
        "smp": "reset/sample control",
        "rsel": "sram row selects",
        "lw": "selected bits (ideal)",
        "ls": "selected bits (ideal)",
        "prog": "programming",
    }.get(head, "other")


@dataclass(frozen=True)
class BenchJob:
    """Any other simulation (operating point, AC): a ready Bench; the result keeps every
    vector the analysis wrote."""

    bench_: Bench
    timeout_s: float = 1800.0

    @property
    def name(self) -> str:
        return self.bench_.name

    def bench(self) -> Bench:
        return self.bench_

    def reduce(self, vectors: dict[str, np.ndarray], meta: dict) -> dict:
        return dict(vectors)

    def cache_shapes(self, bench: Bench) -> None:
        """Vectors of any analysis: no shapes known before the run (the entry's own
        key and checksum still verify it)."""
        return None

    def result(self, fields: dict, seconds: float, workdir: Path, cached: bool) -> "BenchResult":
        return BenchResult(self.name, fields, seconds, workdir, cached)


@dataclass(frozen=True)
class BenchResult:
    name: str
    vectors: dict  # keyed like a raw file: `v(node)` (complex for AC), `time`, ...
    seconds: float
    workdir: Path
    cached: bool = False


def pwl_corners_s(sources) -> list[float]:
    """Every PWL corner time of the bench's sources: where the engines place a time point
    and restart their integrator (energy.restart_steps)."""
    return sorted({float(pair.split()[0]) for src in sources for pair in src.pwl})


def collect_samples(job: Job, raw: dict[str, np.ndarray], meta: dict) -> dict:
    """Per-cycle samples (and energy) of a transient run's vectors."""
    nl = job.netlist
    t = raw["time"]
    outs = output_nodes(nl)
    vcm = nl.design.vcm_v
    sample_t, read_t = np.array(meta["sample_times_s"]), np.array(meta["read_times_s"])
    v_sample = np.stack([np.interp(sample_t, t, raw[f"v({n})"]) for n in outs], axis=1) - vcm
    v_hold = np.stack([np.interp(read_t, t, raw[f"v({n})"]) for n in outs], axis=1) - vcm
    energy = None
    if job.energy:
        sources = {}
        for key in raw:
            if key.startswith("i(v"):
                node = key[3:-1]
                sources[node] = (raw[f"v({node})"], raw[key])
        energy = energy_per_cycle(t, sources, [tuple(w) for w in meta["windows_s"]],
                                  breakpoints_s=meta["breakpoints_s"])
        groups: dict[str, np.ndarray] = {}
        for name, e in energy["per_source_delivered_j"].items():
            g = _source_group(name)
            groups[g] = groups.get(g, 0) + e
        energy["groups_delivered_j"] = groups
    return {"v_sample_v": v_sample, "v_hold_v": v_hold, "energy": energy}


# ------------------------------------------------------------------ one job, in steps


@dataclass(frozen=True)
class Prepared:
    """A job ready to run: its bench, the backend's decks, the cache key (or None)."""

    job: object
    bench: Bench
    backend: str
    decks: DeckSet
    identity: str
    key: str | None = None
    expect: dict | None = None  # the shapes a cache entry of this job must have
    run_id: str = field(default_factory=lambda: os.urandom(16).hex())  # not uuid: it imports platform


def prepare(job, backend: str, cache=None, workdir: str | Path | None = None) -> tuple[Prepared, dict | None]:
    """Decks and key of `job`, and its cached fields if the cache holds them. The files
    the deck includes from outside the job directory `workdir` (model decks) are checked
    as code first (tech/deckcheck) and hashed into the key, resolved as ngspice will
    resolve them from the job directory (None: the current directory)."""
    engine = get_backend(backend)
    bench = job.bench()
    decks = engine.decks(bench)
    identity = engine.identity()
    run_dir = Path(workdir) if workdir is not None else Path(".")
    main = decks.files[decks.main]
    check_deck_includes(main, run_dir)  # model files edited since the netlist was built are code too
    key = hit = expect = None
    if cache is not None:
        from netlistgen.sim.cache import job_key

        others = "".join(f"{name}\n{text}\n" for name, text in sorted(decks.files.items())
                         if name != decks.main and text != bench.netlist.text)
        key = job_key(deck=main, library=bench.netlist.text, spiceinit=others, workdir=run_dir,
                      backend=f"{backend} {identity}")
        expect = job.cache_shapes(bench)
        hit = cache.get(key, expect)
    return Prepared(job, bench, backend, decks, identity, key, expect), hit


OWNER_FILE = ".owner.json"  # in a staging directory: the run it belongs to
RUN_FILE = "run.json"  # in a job directory: the run that wrote it
_UMASK = os.umask(0)  # read once at import (changing it later would race with other threads)
os.umask(_UMASK)


def staging_dir(workdir: Path) -> Path:
    """A fresh private directory beside the job directory (same file system: published by rename)."""
    parent = workdir.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=parent, prefix=f".{workdir.name}.run-"))
        staging.chmod(0o777 & ~_UMASK)  # private by its name, not by its mode: the usual permissions
        write_atomic(staging / OWNER_FILE, json.dumps(runner.owner_record()) + "\n")
        return staging
    except OSError as exc:
        raise OutputError(f"cannot create a job directory in {str(parent)!r}: {exc.strerror or exc}") from None


def remove_stale_staging(root: str | Path) -> list[Path]:
    """Remove staging directories under `root` left by runs that died (owner gone)."""
    removed = []
    for owner_file in runner.find_files(root, OWNER_FILE):
        staging = owner_file.parent
        if ".run-" not in staging.name or staging.is_symlink() or owner_file.is_symlink():
            continue
        try:
            info = json.loads(owner_file.read_text())
            alive = runner.process_alive(int(info["owner"]), info.get("owner_start_ticks"))
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if not alive:
            shutil.rmtree(staging, ignore_errors=True)
            removed.append(staging)
    return removed


def publish(staging: Path, workdir: Path) -> None:
    """Make `staging` the job directory: the old one (or a link planted there) is moved
    aside and removed, never followed; a concurrent publisher just retries."""
    for _ in range(100):
        trash = None
        if workdir.is_symlink() or workdir.is_file():
            workdir.unlink(missing_ok=True)
        elif workdir.exists():
            trash = workdir.with_name(f".{workdir.name}.old-{os.urandom(6).hex()}")
            try:
                os.rename(workdir, trash)
            except FileNotFoundError:
                trash = None
        try:
            os.rename(staging, workdir)
            return
        except OSError:
            continue  # another run published in between: move it aside too
        finally:
            if trash is not None:
                shutil.rmtree(trash, ignore_errors=True)
    raise OutputError(f"cannot publish job directory {str(workdir)!r}: it keeps being replaced")


def _meta(prep: Prepared) -> str:
    """job.json: the job's bookkeeping and its bench as data (sources, analysis), so a
    later step can rerun it with any backend; the same bytes for the same job."""
    bench = prep.bench
    return json.dumps({**bench.meta, "name": bench.name, "deck": prep.decks.main,
                       "bench": {"title": bench.title, "kind": type(bench.analysis).__name__,
                                 "analysis": dataclasses.asdict(bench.analysis),
                                 "sources": [dataclasses.astuple(src) for src in bench.sources]}}) + "\n"


def _write_job_files(prep: Prepared, staging: Path) -> None:
    """Decks, job.json and run.json (which run wrote the directory: run id, backend, engine)."""
    prep.decks.write(staging)
    write_atomic(staging / "job.json", _meta(prep))
    write_atomic(staging / RUN_FILE, json.dumps({"run_id": prep.run_id, "backend": prep.backend,
                                                 "engine": prep.identity}) + "\n")


def run_prepared(prep: Prepared, workdir: Path, cache=None):
    """Run a prepared job in a private staging directory, publish it as `workdir`, store
    the kept fields in the cache; returns the job's result."""
    workdir = Path(workdir)
    staging = staging_dir(workdir)
    try:
        _write_job_files(prep, staging)
        check_deck_includes(prep.decks.files[prep.decks.main], staging)  # checked again just before it runs
        out = get_backend(prep.backend).run(prep.decks, staging, timeout_s=prep.job.timeout_s, name=prep.job.name)
    except BaseException:
        (staging / OWNER_FILE).unlink(missing_ok=True)
        publish(staging, workdir)  # the failed run's decks and log stay for inspection
        raise
    return finish(prep, out, workdir, cache, staging=staging)


def finish(prep: Prepared, out: RunOutput, workdir: Path, cache=None, *, staging: Path | None = None):
    """Client side of a run: the job directory (decks, job.json, output files), the kept
    fields, the cache entry."""
    workdir = Path(workdir)
    if staging is None:  # the run happened elsewhere: write what it returned
        staging = staging_dir(workdir)
        _write_job_files(prep, staging)
        for name, data in out.files.items():
            validate.identifier(name.replace(".", "_"), "output file name")
            try:
                fd = os.open(staging / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644)
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
            except OSError as exc:
                raise OutputError(f"cannot write {str(workdir / name)!r}: {exc.strerror or exc}") from None
    (staging / OWNER_FILE).unlink(missing_ok=True)
    publish(staging, workdir)
    fields = prep.job.reduce(out.vectors, prep.bench.meta)
    if prep.key is not None:
        cache.put(prep.key, {**fields, "seconds": out.seconds}, prep.expect)
    return prep.job.result(fields, out.seconds, workdir, cached=False)


def cached_result(prep: Prepared, hit: dict, workdir: Path):
    """A cache hit: the job directory gets this run's decks (no outputs), the result the
    stored fields."""
    workdir = Path(workdir)
    staging = staging_dir(workdir)
    _write_job_files(prep, staging)
    (staging / OWNER_FILE).unlink(missing_ok=True)
    publish(staging, workdir)
    return prep.job.result({k: v for k, v in hit.items() if k != "seconds"}, float(hit["seconds"]), workdir, cached=True)


def simulate_remote(job, backend: str) -> RunOutput:
    """Worker side (no shared file system): build the decks from the job description, run
    them in a scratch directory of this worker's own temporary space, return vectors,
    log and output files; nothing is written anywhere else."""
    engine = get_backend(backend)
    decks = engine.decks(job.bench())
    scratch = Path(tempfile.mkdtemp(prefix=f"netlistgen-{job.name}-"))
    try:
        decks.write(scratch)
        check_deck_includes(decks.files[decks.main], scratch)
        return engine.run(decks, scratch, timeout_s=job.timeout_s, name=job.name, return_files=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def run_job(job, workdir: str | Path, backend: str = DEFAULT_BACKEND, cache=None):
    """Run one job (Job -> SimResult, BenchJob -> BenchResult) with backend `backend`
    (sim/backends). With a cache.ResultCache, a job whose decks, models and engine are
    unchanged is read from the cache instead of simulated, and a simulated one is stored."""
    prep, hit = prepare(job, backend, cache, workdir)
    if hit is not None:
        return cached_result(prep, hit, Path(workdir))
    return run_prepared(prep, Path(workdir), cache)


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)
