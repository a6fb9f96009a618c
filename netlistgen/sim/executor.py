"""Where and in what order simulation jobs run: local threads/processes or a Dask cluster.

Scheduling: jobs run longest first (a long job started last leaves the other cores
idle), one single-threaded ngspice per worker, workers = cores by default. A sampling
job of a multi-column array can be split into one job per weight column; this is exact
(to settling accuracy) under the condition stated in `split_reason`.

Local tasks go through `execute`, a module-level function, so the same task runs in a
thread or a local process, in a private staging directory that becomes its job
directory (simulate.py). With a result cache, a task whose key is already stored
returns without simulating; a finished task is stored at once, so an interrupted run
resumes from where it stopped.

A Dask cluster shares no file system with the client: the client prepares each task
(decks, cache lookup), a worker rebuilds the decks from the job description and runs
them in its own scratch directory (`remote_execute`), and the client writes the job
directory and the cache entry from the vectors and files it returns.
"""

from __future__ import annotations

import dataclasses
import re
import signal
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from netlistgen.core import validate
from netlistgen.circuits.encoding import Codes
from netlistgen.core.errors import NetlistgenError, SimulationError
from netlistgen.circuits.netlist import build_netlist
from netlistgen.sim import runner
from netlistgen.sim.backends import DEFAULT_BACKEND, get_backend
from netlistgen.sim.simulate import (Job, SimResult, cached_result, default_workers, finish, prepare,
                                     remove_stale_staging, run_job, simulate_remote)
from netlistgen.circuits.testbench import ideal_outputs

EXECUTORS = ("local", "dask")
_BASE_JOB_FIELDS = {"name", "netlist", "stimulus", "timing", "energy", "timeout_s"}


@dataclass(frozen=True)
class LazyJob:
    """A job whose netlist is built in the worker (`make()` returns the Job), so thousands
    of jobs do not hold thousands of rendered netlists in the submitting process.
    `make` must be picklable (a module-level function or functools.partial) for process
    and Dask workers; `cost` orders the jobs (longest first)."""

    name: str
    make: Callable[[], Job]
    cost: float = 1.0


@dataclass(frozen=True)
class Task:
    """One unit of work: a job (or lazy job), optionally `width` weight columns of it
    starting at `column`."""

    item: Job | LazyJob
    workdir: Path
    column: int | None = None
    width: int = 1

    @property
    def name(self) -> str:
        if self.column is None:
            return self.item.name
        return f"{self.item.name}-{_block_label(self.column, self.width)}"


def _block_label(column: int, width: int) -> str:
    return f"col{column}" if width == 1 else f"col{column}-{column + width - 1}"


# Time points a transient takes per compute cycle besides those its maximum step forces: the
# steps after each control edge (measured on the paper's 16-row columns: ~94 points per
# 4.6 ns cycle at 100 ps, ~971 at 5 ps).
EDGE_POINTS_PER_CYCLE = 50.0


def job_cost(job: Job) -> float:
    """Relative run time: bit cells x time points (the job's own maximum step plus the
    points after each control edge), so jobs are ordered longest first whatever step each has."""
    spec = job.netlist.spec
    points = job.stimulus.cycles * (job.timing.cycle_s / job.step_s + EDGE_POINTS_PER_CYCLE)
    return spec.rows * spec.bit_cols * points


def split_reason(job: Job) -> str | None:
    """Why `job` may NOT be split per weight column (None: it may).

    Condition for exactness: the columns of an array share only the row inputs IN+/IN-,
    driven by each row's ML-SIU from ideal reference sources; once they settle the drive
    is a DC reference, so a column sees the same voltages whether its neighbours are
    simulated with it or not (to the settling accuracy at the sampling instant; the
    split column's driver is sized for its own load, the same width per load as the
    whole array's). Not split: energy runs (the drivers' energy is not additive per
    column), mismatch corners (per-instance draws depend on the instance set), and jobs
    with any field beyond the basic ones set (e.g. Monte Carlo seeds, noise)."""
    if job.energy:
        return "energy run"
    if job.netlist.spec.cols < 2:
        return "single column"
    if job.netlist.corner in job.netlist.tech.mismatch_corners:
        return f"mismatch corner {job.netlist.corner!r}"
    if "mismatch" in job.netlist.manifest or "reset_noise_refs" in job.netlist.manifest:
        return "Monte Carlo mismatch draws or per-GBL noise references (column_job would rebuild without them)"
    for f in dataclasses.fields(job):
        if f.name not in _BASE_JOB_FIELDS and getattr(job, f.name) != f.default:
            return f"job field {f.name!r} is set"
    return None


def column_job(job: Job, j: int, width: int = 1) -> Job:
    """Weight columns j..j+width-1 of `job` as a job of their own (same rows, design,
    stimulus, timing)."""
    nl = job.netlist
    codes = nl.codes
    cut = slice(j, j + width)
    sub = Codes(codes.pattern_set, codes.sign[:, cut], codes.pattern[:, cut], codes.bits[:, cut])
    spec = dataclasses.replace(nl.spec, cols=width)
    design = nl.design
    if design.siu_width_factor is not None:  # user-fixed driver: keep its width per column of load
        design = dataclasses.replace(
            design, siu_width_factor=max(1.0, design.siu_width_factor * width / nl.spec.cols))
    sub_nl = build_netlist(spec, design, nl.tech, sub, scale=nl.scale[cut], corner=nl.corner)
    return dataclasses.replace(job, name=f"{job.name}-{_block_label(j, width)}", netlist=sub_nl)


def merge_columns(job: Job, parts: list[SimResult], workdir: Path) -> SimResult:
    """One result for the whole array from its per-column results (in column order)."""
    return SimResult(
        job,
        ideal_outputs(job.netlist, job.stimulus),
        np.concatenate([p.v_sample_v for p in parts], axis=1),
        np.concatenate([p.v_hold_v for p in parts], axis=1),
        None,
        float(sum(p.seconds for p in parts)),
        workdir,
        cached=all(p.cached for p in parts),
    )


def task_job(task: Task):
    """The job a task runs (a lazy job built, a column block cut out)."""
    job = task.item.make() if isinstance(task.item, LazyJob) else task.item
    if task.column is not None:
        job = column_job(job, task.column, task.width)
    return job


def execute(task: Task, backend: str, cache_root: str | None):
    """Run one task where it lands (thread or local process), job directory and cache
    included: ("ok", result) or ("error", message) for a simulation failure."""
    from netlistgen.sim.cache import ResultCache

    job = task_job(task)
    cache = ResultCache(cache_root) if cache_root is not None else None
    try:
        return "ok", run_job(job, task.workdir, backend, cache=cache)
    except SimulationError as exc:
        return "error", str(exc)


def remote_execute(task: Task, backend: str):
    """Run one task on a worker that shares no file system with the client: ("ok",
    backends.RunOutput) or ("error", message). Writes only in the worker's temp space."""
    try:
        return "ok", simulate_remote(task_job(task), backend)
    except SimulationError as exc:
        return "error", str(exc)


def plan(items: list[Job | LazyJob], root: Path, *, split_columns: int) -> list[tuple[Task, float]]:
    """Tasks with their costs, longest first. split_columns: 0/False keeps arrays whole,
    True/1 runs one weight column per job, n runs blocks of n columns (fewer, larger
    jobs: the row drivers are simulated once per block instead of once per column)."""
    width = validate.integer(int(split_columns), "columns per job", minimum=0, maximum=100_000)
    tasks = []
    for item in items:
        if not isinstance(item, Job):  # a lazy job (its cost given) or another analysis (short)
            tasks.append((Task(item, root / item.name), float(getattr(item, "cost", 1.0))))
            continue
        cost = job_cost(item)
        cols = item.netlist.spec.cols
        if width and split_reason(item) is None and width < cols:
            tasks += [(Task(item, root / item.name / _block_label(j, min(width, cols - j)), j, min(width, cols - j)),
                       cost * min(width, cols - j) / cols) for j in range(0, cols, width)]
        else:
            tasks.append((Task(item, root / item.name), cost))
    tasks.sort(key=lambda tc: -tc[1])
    return tasks


@contextmanager
def _sigterm_as_interrupt():
    """SIGTERM stops a run like Ctrl-C (pending jobs cancelled, finished ones kept)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class LocalExecutor:
    """A pool of `workers` threads (each starts its own ngspice process) or processes.
    `on_abort` runs when the run stops early (interrupt, error): it kills the running
    simulators, so the pool's shutdown does not wait for them."""

    shared_fs = True

    def __init__(self, workers: int, processes: bool = False, on_abort: Callable[[], None] | None = None) -> None:
        self.workers = workers
        self.processes = processes
        self.on_abort = on_abort

    def run(self, fn: Callable, args: list[tuple], priorities: list[float]) -> Iterator[tuple[int, object]]:
        """Yield (index, result) as calls finish; `args` arrive ordered by priority already.

        A worker process that dies (SIGKILL, out of memory) breaks the whole process pool:
        the calls it took down are run again, each alone in a fresh pool, so only a call
        that kills its worker again fails ("error", reason) and every other one finishes."""
        broken = yield from self._round(fn, args, list(range(len(args))), self.workers)
        for k in broken:
            again = yield from self._round(fn, args, [k], 1)
            if again:
                yield k, ("error", "its worker process died twice (killed by a signal or out of memory)")

    def _round(self, fn: Callable, args: list[tuple], todo: list[int], workers: int):
        if len(todo) == 1 and not self.processes:
            # One call (a single simulate): run it in this thread. A pool would add a thread hand-off and
            # the import of concurrent.futures and logging (~0.01 CPU s of a 0.3 s fixed cost, docs/startup.md).
            try:
                result = fn(*args[todo[0]])
            except BaseException:
                if self.on_abort is not None:
                    self.on_abort()
                raise
            yield todo[0], result
            return []
        # imported here: the process pool pulls in multiprocessing, needed by in-process engines only
        from concurrent.futures import FIRST_COMPLETED, BrokenExecutor, wait
        if self.processes:
            from concurrent.futures import ProcessPoolExecutor as pool_cls
        else:
            from concurrent.futures import ThreadPoolExecutor as pool_cls
        pool = pool_cls(max_workers=workers)
        broken: list[int] = []
        futures: dict = {}
        try:
            futures = {pool.submit(fn, *args[k]): k for k in todo}
            pending = set(futures)
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    try:
                        result = fut.result()
                    except BrokenExecutor:
                        broken.append(futures[fut])
                        continue
                    yield futures[fut], result
        except BaseException:
            for fut in futures:
                fut.cancel()
            if self.on_abort is not None:
                self.on_abort()
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        return sorted(broken)


_SCHEDULER_RE = re.compile(r"(?:tcp|tls)://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252}[A-Za-z0-9])?)"
                           r":([0-9]{1,5})/?")


def parse_scheduler(address: object) -> tuple[str, int]:
    """(host, port) of a `tcp://HOST:PORT` (or tls://) scheduler address; anything else is
    a one-line error at once (a malformed address used to cost the client's 30-60 s timeout)."""
    m = _SCHEDULER_RE.fullmatch(address) if isinstance(address, str) else None
    if m is None or not 1 <= int(m.group(2)) <= 65535:
        raise NetlistgenError(f"invalid Dask scheduler address {str(address)[:200]!r}: expected tcp://HOST:PORT")
    return m.group(1).strip("[]"), int(m.group(2))


class DaskExecutor:
    """Submit the same calls to a Dask distributed scheduler (`tcp://HOST:PORT`).

    Workers need ngspice, this package and the model decks installed; they need not see
    the client's files (see remote_execute). A task on a worker that dies is re-run on
    another by the scheduler."""

    shared_fs = False

    def __init__(self, scheduler: str, timeout_s: float = 30.0) -> None:
        import socket

        try:
            from distributed import Client
        except ImportError:
            raise NetlistgenError("--executor dask needs dask.distributed: pip install 'netlistgen[dask]'") from None
        host, port = parse_scheduler(scheduler)
        try:  # a closed port or unknown host fails here at once, not after the client's timeout
            socket.create_connection((host, port), timeout=min(timeout_s, 5.0)).close()
        except (OSError, ValueError) as exc:
            raise NetlistgenError(f"cannot reach Dask scheduler {scheduler!r}: "
                                  f"{getattr(exc, 'strerror', None) or exc}") from None
        try:
            self.client = Client(scheduler, timeout=timeout_s, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise NetlistgenError(f"cannot reach Dask scheduler {scheduler!r}: {str(exc)[:200]}") from None

    def run(self, fn: Callable, args: list[tuple], priorities: list[float]) -> Iterator[tuple[int, object]]:
        import uuid

        from distributed import as_completed

        run = uuid.uuid4().hex
        futures = {}
        ranks = {p: r for r, p in enumerate(sorted(set(priorities)))}  # Dask: higher priority first
        for k, (a, prio) in enumerate(zip(args, priorities)):
            fut = self.client.submit(fn, *a, pure=False, priority=ranks[prio], key=f"netlistgen-{run}-{k}")
            futures[fut] = k
        try:
            for fut in as_completed(list(futures), loop=self.client.loop):
                yield futures[fut], fut.result()
        finally:
            for fut in futures:
                fut.cancel()

    def close(self) -> None:
        self.client.close()


def make_executor(kind: str, *, workers: int, processes: bool, scheduler: str | None,
                  on_abort: Callable[[], None] | None = None):
    if kind not in EXECUTORS:
        raise NetlistgenError(f"unknown executor {kind!r}; known: {', '.join(EXECUTORS)}")
    if kind == "dask":
        if not scheduler:
            raise NetlistgenError("--executor dask needs --scheduler tcp://HOST:PORT")
        return DaskExecutor(scheduler)
    if scheduler:
        raise NetlistgenError("--scheduler is only used with --executor dask")
    return LocalExecutor(workers, processes, on_abort)


class _NoBar:
    """Stands in for the progress bar when none is shown (tqdm is then never imported)."""

    def update(self, n: int = 1) -> None:
        pass

    def set_postfix(self, *args, **kwargs) -> None:
        pass

    def close(self) -> None:
        pass


def _progress_bar(total: int, show: bool):
    if not show:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, desc="ngspice", unit="job", leave=False)


def run_tasks(items: Iterable[Job | LazyJob], root: str | Path, *, workers: int, backend: str,
              cache_root: str | None, split_columns: int, executor: str, scheduler: str | None,
              progress: bool) -> tuple[dict[str, SimResult], dict[str, str]]:
    """Plan, run and reassemble; returns ({name: SimResult}, {name: error message})."""
    from netlistgen.sim.cache import ResultCache

    items = list(items)
    root = Path(root)
    names = [j.name for j in items]
    if len(set(names)) != len(names):
        raise NetlistgenError(f"duplicate job names in {names}")
    workers = validate.integer(workers, "workers", minimum=1, maximum=256)
    engine = get_backend(backend)
    runner.reap_orphans(root)  # simulators left by a run that was killed outright
    remove_stale_staging(root)
    tasks = plan(items, root, split_columns=split_columns)
    ex = make_executor(executor, workers=workers, processes=engine.processes, scheduler=scheduler,
                       on_abort=engine.kill)
    parts: dict[str, dict[int, SimResult]] = {}
    results: dict[str, SimResult] = {}
    errors: dict[str, str] = {}

    def done(task: Task, status: str, value) -> None:
        counts["failed" if status == "error" else "cached" if value.cached else "simulated"] += 1
        bar.set_postfix(counts, refresh=False)
        bar.update(1)
        if status == "error":
            errors[task.item.name] = value
        elif task.column is None:
            results[task.item.name] = value
        else:
            parts.setdefault(task.item.name, {})[task.column] = value

    bar = _progress_bar(len(tasks), progress)
    counts = {"simulated": 0, "cached": 0, "failed": 0}  # shown beside the bar
    try:
        with _sigterm_as_interrupt():
            if ex.shared_fs:
                args = [(t, backend, cache_root) for t, _ in tasks]
                for k, (status, value) in ex.run(execute, args, [c for _, c in tasks]):
                    done(tasks[k][0], status, value)
            else:
                cache = ResultCache(cache_root) if cache_root is not None else None
                pending, preps = [], {}
                for k, (task, _) in enumerate(tasks):
                    prep, hit = prepare(task_job(task), backend, cache, task.workdir)
                    if hit is not None:
                        done(task, "ok", cached_result(prep, hit, task.workdir))
                    else:
                        pending.append(k)
                        preps[k] = prep
                args = [(tasks[k][0], backend) for k in pending]
                for i, (status, value) in ex.run(remote_execute, args, [tasks[k][1] for k in pending]):
                    task = tasks[pending[i]][0]
                    if status == "ok":
                        value = finish(preps.pop(pending[i]), value, task.workdir, cache)
                    done(task, status, value)
    finally:
        bar.close()
        if hasattr(ex, "close"):
            ex.close()
    for item in items:
        got = parts.get(item.name)
        if got is not None and item.name not in errors:
            results[item.name] = merge_columns(item, [got[j] for j in sorted(got)], root / item.name)
    return results, errors


def run_jobs(jobs: list, root: str | Path, *, workers: int | None = None, progress: bool = True,
             backend: str = DEFAULT_BACKEND, cache=None, split_columns: bool = False, executor: str = "local",
             scheduler: str | None = None):
    """Run jobs in parallel, longest first; returns ({name: result}, {name: error message}).

    `backend` names a registered simulator (sim/backends): engines that run in-process
    get worker processes, the others threads. `cache` (a cache.ResultCache) skips
    unchanged jobs and keeps finished ones across interrupted runs; `split_columns` runs
    multi-column sampling jobs one weight column per job (split_reason); executor "dask"
    submits to the scheduler at `scheduler`. `jobs` may mix Jobs, BenchJobs and
    LazyJobs (netlist built in the worker)."""
    return run_tasks(jobs, root, workers=workers or default_workers(), backend=backend,
                     cache_root=str(cache.root) if cache is not None else None, split_columns=split_columns,
                     executor=executor, scheduler=scheduler, progress=progress)
