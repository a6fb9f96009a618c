"""Transient charge-accumulation jobs: netlist + stimulus -> ngspice -> sampled vectors.

A job is a directory holding the library, the deck and `.spiceinit`; the runner runs
it; this module turns the raw vectors into per-cycle samples and per-cycle energy.
Several jobs run in parallel (one single-threaded ngspice per core) with a progress bar;
a failed job is reported with its reason while the others go on.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from netlistgen.core import validate
from netlistgen.core.errors import NetlistgenError
from netlistgen.core.files import write_atomic
from netlistgen.sim.energy import energy_per_cycle, energy_run_cycles
from netlistgen.circuits.netlist import Netlist
from netlistgen.sim.rawfile import read_raw
from netlistgen.sim.runner import run_deck
from netlistgen.circuits.variation import ResetNoise
from netlistgen.circuits.testbench import Schedule, Stimulus, Timing, ideal_outputs, output_nodes, spiceinit, transient_deck

ENERGY_MAX_STEP_S = 10e-12  # SPEC section 5: energy needs a max step <= 10 ps
SAMPLE_MAX_STEP_S = 100e-12  # sampled voltages within ~1.3 uV of a 5 ps reference (SPEC section 7)
# Transistor-fidelity sampling runs skip re-evaluating devices whose terminal voltages
# did not move (BSIM4 bypass; the 6T cells are static): a 64x8 array's ngspice CPU time
# 57 -> 41 s, sampled values within 0.02 LSB (benchmarks/RESULTS.md "64x8 transistor
# array"). Not used for ideal-bits decks (small; sky130 regression SNR moved 0.6 dB with
# it) nor for energy runs, which keep every evaluation.
SAMPLE_OPTIONS: tuple[str, ...] = ("bypass=1",)
# Transistor fidelity: the direct Newton operating point failed on every array measured
# (16x2, 64x8: ~100 wasted iterations) before gmin stepping; start with gmin stepping.
TRANSISTOR_OPTIONS: tuple[str, ...] = ("noopiter",)


def deck_options(job: "Job") -> tuple[str, ...]:
    """Extra `.options` of a job's transient deck."""
    if job.netlist.spec.fidelity != "transistor":
        return ()
    return TRANSISTOR_OPTIONS + (() if job.energy else SAMPLE_OPTIONS)


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

    def __post_init__(self) -> None:
        validate.identifier(self.name.replace("-", "_"), "job name")
        if self.timing is None:
            object.__setattr__(self, "timing", Timing.for_technology(self.netlist.tech))


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


BACKENDS = ("subprocess", "shared")


def run_job(job: Job, workdir: str | Path, backend: str = "subprocess", cache=None) -> SimResult:
    """Write the job's files, run ngspice, read back samples (and energy).

    backend "subprocess" runs `ngspice -b` and reads its raw file; "shared" runs the deck
    in this process's libngspice (PySpice binding, spice_shared.py). With a
    cache.ResultCache, a job whose deck, library, models and settings are unchanged is
    read from the cache instead of simulated, and a simulated one is stored."""
    if backend not in BACKENDS:
        raise NetlistgenError(f"unknown backend {backend!r}; known: {', '.join(BACKENDS)}")
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    nl = job.netlist
    library = workdir / "array.sp"
    write_atomic(library, nl.text)
    write_atomic(workdir / ".spiceinit", spiceinit(nl))
    deck, sched = transient_deck(
        nl,
        str(library),
        job.stimulus,
        job.timing,
        max_step_s=ENERGY_MAX_STEP_S if job.energy else SAMPLE_MAX_STEP_S,
        save_currents=job.energy,
        reset_noise=job.reset_noise,
        options=deck_options(job),
    )
    deck_path = workdir / "tran.sp"
    write_atomic(deck_path, deck)
    write_atomic(workdir / "job.json", json.dumps({
        "name": job.name,
        "windows_s": sched.windows(),
        "sample_times_s": [sched.sample_time(c) for c in range(job.stimulus.cycles)],
        "inputs": job.stimulus.inputs.tolist(),
        "sram_row": job.stimulus.sram_row.tolist(),
        "rows": nl.spec.rows,
        "cols": nl.spec.cols,
        "n_bits": nl.spec.n_bits,
        "vcm_v": nl.design.vcm_v,
        **({"reset_noise": {"seed": job.reset_noise.seed, "sigma_v": list(job.reset_noise.sigma_v)}}
           if job.reset_noise is not None else {}),
    }) + "\n")
    key = None
    if cache is not None:
        from netlistgen.sim.cache import job_key

        key = job_key(deck=deck, library=nl.text, spiceinit=spiceinit(nl), workdir=workdir, backend=backend)
        hit = cache.get(key)
        if hit is not None:
            return SimResult(job, ideal_outputs(nl, job.stimulus), hit["v_sample_v"], hit["v_hold_v"],
                             hit.get("energy"), float(hit["seconds"]), workdir, cached=True)
    start = time.perf_counter()
    if backend == "shared":
        from netlistgen.sim.spice_shared import run_deck_shared

        raw = run_deck_shared(deck_path, timeout_s=job.timeout_s, name=job.name)
    else:
        run_deck(deck_path, timeout_s=job.timeout_s, name=job.name)
        raw = read_raw(workdir / "tran.raw")
    seconds = time.perf_counter() - start
    result = _collect(job, raw, sched, seconds, workdir)
    if key is not None:
        cache.put(key, {"v_sample_v": result.v_sample_v, "v_hold_v": result.v_hold_v, "energy": result.energy,
                        "seconds": seconds})
    return result


def _collect(job: Job, raw: dict[str, np.ndarray], sched: Schedule, seconds: float, workdir: Path) -> SimResult:
    nl, stim = job.netlist, job.stimulus
    t = raw["time"]
    outs = output_nodes(nl)
    sample_t = np.array([sched.sample_time(c) for c in range(stim.cycles)])
    read_t = np.array([sched.read_time(c) for c in range(stim.cycles)])
    vcm = nl.design.vcm_v
    v_sample = np.stack([np.interp(sample_t, t, raw[f"v({n})"]) for n in outs], axis=1) - vcm
    v_hold = np.stack([np.interp(read_t, t, raw[f"v({n})"]) for n in outs], axis=1) - vcm
    energy = None
    if job.energy:
        sources = {}
        for key in raw:
            if key.startswith("i(v"):
                node = key[3:-1]
                sources[node] = (raw[f"v({node})"], raw[key])
        energy = energy_per_cycle(t, sources, sched.windows())
        groups: dict[str, np.ndarray] = {}
        for name, e in energy["per_source_delivered_j"].items():
            g = _source_group(name)
            groups[g] = groups.get(g, 0) + e
        energy["groups_delivered_j"] = groups
    return SimResult(job, ideal_outputs(nl, stim), v_sample, v_hold, energy, seconds, workdir)


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)


def run_jobs(jobs: list, root: str | Path, *, workers: int | None = None, progress: bool = True,
             backend: str = "subprocess", cache=None, split_columns: bool = False, executor: str = "local",
             scheduler: str | None = None):
    """Run jobs in parallel, longest first; returns ({name: SimResult}, {name: error message}).

    The subprocess backend uses threads (each starts its own ngspice process); the
    shared backend uses worker processes, one libngspice instance each. `cache` (a
    cache.ResultCache) skips unchanged jobs and keeps finished ones across interrupted
    runs; `split_columns` runs multi-column sampling jobs one weight column per job
    (executor.split_reason); executor "dask" submits to the scheduler at `scheduler`.
    `jobs` may mix Jobs and executor.LazyJobs (netlist built in the worker)."""
    from netlistgen.sim.executor import run_tasks

    if backend not in BACKENDS:
        raise NetlistgenError(f"unknown backend {backend!r}; known: {', '.join(BACKENDS)}")
    return run_tasks(jobs, root, workers=workers or default_workers(), backend=backend,
                     cache_root=str(cache.root) if cache is not None else None, split_columns=split_columns,
                     executor=executor, scheduler=scheduler, progress=progress)


def sampling_jobs(label: str, netlist: Netlist, cycles: int, energy_cycles: int, seed: int,
                  timeout_s: float) -> list[Job]:
    """A sampling job (100 ps max step) and, if energy_cycles > 0, a short energy job
    (10 ps) named `label`-energy: the pair simulate, demo and sweep run per case."""
    from netlistgen.circuits.testbench import random_stimulus

    jobs = [Job(label, netlist, random_stimulus(netlist, cycles, seed), timeout_s=timeout_s)]
    if energy_cycles:
        stim = random_stimulus(netlist, energy_run_cycles(energy_cycles), seed + 1)
        jobs.append(Job(label + "-energy", netlist, stim, energy=True, timeout_s=timeout_s))
    return jobs
