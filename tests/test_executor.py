"""Scheduling (longest first, column split), the local executor and a loopback Dask cluster."""

from __future__ import annotations

import dataclasses
import functools
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from netlistgen.core.errors import NetlistgenError
from netlistgen.sim.executor import LazyJob, Task, column_job, job_cost, make_executor, plan, split_reason
from netlistgen.circuits.generate import GenerateOptions, build
from netlistgen.studies.regress import Case, case_job
from netlistgen.sim.executor import run_jobs
from netlistgen.sim.simulate import Job
from netlistgen.circuits.testbench import random_stimulus


def _job(build_small, name, cycles=3, energy=False, **kw):
    nl = build_small(**kw)
    return Job(name, nl, random_stimulus(nl, cycles, 1), energy=energy)


def test_plan_splits_columns_and_runs_longest_first(build_small, tmp_path):
    small = _job(build_small, "small", rows=2, cols=1)
    wide = _job(build_small, "wide", rows=4, cols=3)
    energy = _job(build_small, "energy", rows=4, cols=3, energy=True)
    tasks = plan([small, wide, energy], tmp_path, split_columns=True)
    names = [t.name for t, _ in tasks]
    costs = [c for _, c in tasks]
    assert costs == sorted(costs, reverse=True)
    assert names[0] == "energy"  # 10 ps energy run: the longest, not split
    assert sorted(names[1:4]) == ["wide-col0", "wide-col1", "wide-col2"]
    assert names[-1] == "small"
    assert costs[1] == pytest.approx(job_cost(wide) / 3)
    assert [t.workdir.name for t, _ in tasks if t.column is not None] == ["col0", "col1", "col2"]
    assert len(plan([wide], tmp_path, split_columns=False)) == 1
    blocks = plan([wide], tmp_path, split_columns=2)  # blocks of 2 columns: col0-1 and col2
    assert [(t.name, t.column, t.width) for t, _ in blocks] == [("wide-col0-1", 0, 2), ("wide-col2", 2, 1)]
    assert blocks[0][1] == pytest.approx(2 * blocks[1][1])
    assert len(plan([wide], tmp_path, split_columns=3)) == 1  # one block = the whole array


def test_split_conditions(build_small):
    assert split_reason(_job(build_small, "a", cols=2)) is None
    assert split_reason(_job(build_small, "b", cols=1)) == "single column"
    assert split_reason(_job(build_small, "c", cols=2, energy=True)) == "energy run"
    mm = _job(build_small, "d", cols=2, technology="sky130", corner="tt_mm")
    assert "mismatch corner" in split_reason(mm)


def test_column_job_keeps_rows_codes_and_stimulus(build_small):
    job = _job(build_small, "w", rows=3, cols=3, seed=7)
    sub = column_job(job, 1)
    nl, snl = job.netlist, sub.netlist
    assert (snl.spec.rows, snl.spec.cols) == (3, 1)
    assert np.array_equal(snl.codes.bits[:, 0], nl.codes.bits[:, 1])
    assert np.array_equal(snl.codes.sign[:, 0], nl.codes.sign[:, 1])
    assert np.array_equal(sub.stimulus.inputs, job.stimulus.inputs)
    assert sub.name == "w-col1" and sub.timing == job.timing
    pair = column_job(job, 1, 2)
    assert pair.name == "w-col1-2" and pair.netlist.spec.cols == 2
    assert np.array_equal(pair.netlist.codes.bits, nl.codes.bits[:, 1:3])


def test_executor_choice_is_checked():
    with pytest.raises(NetlistgenError, match="needs --scheduler"):
        make_executor("dask", workers=1, processes=False, scheduler=None)
    with pytest.raises(NetlistgenError, match="only used with --executor dask"):
        make_executor("local", workers=1, processes=False, scheduler="tcp://127.0.0.1:1")
    with pytest.raises(NetlistgenError, match="unknown executor"):
        make_executor("slurm", workers=1, processes=False, scheduler=None)
    with pytest.raises(NetlistgenError, match="invalid Dask scheduler"):
        make_executor("dask", workers=1, processes=False, scheduler="127.0.0.1:8786")


@pytest.mark.ngspice
@pytest.mark.parametrize("tech", ["ptm45"])  # sky130 2x3: 50 uV (0.005 LSB), 47 s: benchmarks/RESULTS.md
def test_column_split_matches_whole_array(build_small, tmp_path, tech):
    """Exactness of the split: the row drivers settle to DC references, so each column
    sampled alone equals the same column in the whole array to settling accuracy
    (measured on ptm45: 4.3 uV on 2x2 before sampling runs used `bypass=1`, 22.6 uV =
    0.004 LSB on this 2x3 with it; the bound leaves margin and stays < 0.01 LSB)."""
    job = _job(build_small, "arr", rows=2, cols=3, technology=tech, cycles=3)
    whole, e1 = run_jobs([job], tmp_path / "whole", progress=False)
    split, e2 = run_jobs([job], tmp_path / "split", progress=False, split_columns=True)
    assert not e1 and not e2
    a, b = whole["arr"], split["arr"]
    assert b.v_sample_v.shape == a.v_sample_v.shape == (3, 12)
    assert np.array_equal(a.y_ideal, b.y_ideal)
    diff = np.abs(a.v_sample_v - b.v_sample_v).max()
    lsb_v = np.abs(np.polyfit(a.y_ideal.ravel(), a.v_sample_v.ravel(), 1)[0])
    assert diff < 50e-6 and diff < 0.01 * lsb_v, (diff, lsb_v)
    assert (tmp_path / "split" / "arr" / "col2" / "tran.sp").is_file()
    blocks, e3 = run_jobs([job], tmp_path / "blocks", progress=False, split_columns=2)  # col0-1 + col2
    assert not e3 and (tmp_path / "blocks" / "arr" / "col0-1" / "tran.sp").is_file()
    assert np.abs(blocks["arr"].v_sample_v - a.v_sample_v).max() < 50e-6


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(args: list[str]) -> subprocess.Popen:
    """A dask CLI process in its own session, so killing it takes its ngspice children too."""
    return subprocess.Popen([sys.executable, "-m", "dask", *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)


@pytest.fixture
def dask_cluster():
    pytest.importorskip("distributed")
    from distributed import Client

    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    procs = [_start(["scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"])]
    workers = {}
    for _ in range(2):
        wport = _free_port()
        workers[f"tcp://127.0.0.1:{wport}"] = _start(
            ["worker", address, "--nthreads", "1", "--no-nanny", "--no-dashboard", "--host", "127.0.0.1",
             "--worker-port", str(wport)])
    client = None
    try:  # a client or worker that times out must still take the processes down (they leaked once)
        client = Client(address, timeout=60, set_as_default=False)  # run_jobs must not rely on a default client
        client.wait_for_workers(2, timeout=60)
        yield address, client, workers
    finally:
        if client is not None:
            client.close()
        for p in [*procs, *workers.values()]:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
            p.wait()


@pytest.mark.ngspice
@pytest.mark.slow
def test_dask_cluster_same_results_and_survives_a_killed_worker(build_small, tmp_path, dask_cluster):
    address, client, workers = dask_cluster
    jobs = [_job(build_small, f"j{k}", rows=2, cols=1, cycles=6, seed=k) for k in range(4)]
    local, lerr = run_jobs(jobs, tmp_path / "local", progress=False)
    killed = {}

    def kill_a_busy_worker():
        deadline = time.time() + 60
        while time.time() < deadline:
            busy = [addr for addr, keys in client.processing().items() if keys]
            if busy:
                time.sleep(0.3)  # let its ngspice start
                os.killpg(workers[busy[0]].pid, signal.SIGKILL)
                killed["worker"] = busy[0]
                return
            time.sleep(0.05)

    killer = threading.Thread(target=kill_a_busy_worker)
    killer.start()
    remote, rerr = run_jobs(jobs, tmp_path / "dask", progress=False, executor="dask", scheduler=address)
    killer.join()
    assert killed, "no worker was busy to kill"
    assert not lerr and not rerr
    assert sorted(remote) == sorted(local) == [f"j{k}" for k in range(4)]
    assert len(client.scheduler_info()["workers"]) == 1  # the killed worker stayed dead
    for name in local:
        assert np.abs(remote[name].v_sample_v - local[name].v_sample_v).max() <= 1e-9
        assert np.array_equal(remote[name].y_ideal, local[name].y_ideal)


def test_task_names():
    job = dataclasses.make_dataclass("J", ["name"])("x")
    assert Task(job, None).name == "x" and Task(job, None, 2).name == "x-col2"


@pytest.mark.ngspice
def test_lazy_jobs_build_in_the_worker_and_match_eager_ones(installed, tmp_path):
    from conftest import small

    cases = {n: Case(n, small(rows=2, cols=1), cycles=3, stim_seed=1, stimulus="random") for n in ("lazy", "lazy2")}
    case = cases["lazy"]
    built = []

    def make(name):
        built.append(threading.current_thread().name)
        return case_job(cases[name])

    eager = case_job(case)
    # two jobs: a run of one job runs it in the calling thread, without a pool (executor._round)
    lazy, e1 = run_jobs([LazyJob(n, functools.partial(make, n), cost=1.0) for n in cases], tmp_path / "lazy",
                        progress=False, workers=1)
    ref, e2 = run_jobs([eager], tmp_path / "eager", progress=False, workers=1)
    assert not e1 and not e2
    assert built and built[0] != threading.main_thread().name  # built in a pool thread, not up front
    assert np.array_equal(lazy["lazy"].v_sample_v, ref["lazy"].v_sample_v)
    assert lazy["lazy"].job.netlist.text == build(case.options).text
    part = functools.partial(case_job, case)
    assert plan([LazyJob("p", part, cost=5.0)], tmp_path, split_columns=True)[0][1] == 5.0
    built.clear()
    one, e3 = run_jobs([LazyJob("lazy", functools.partial(make, "lazy"))], tmp_path / "one", progress=False, workers=1)
    assert not e3 and built == [threading.main_thread().name]  # one job: no pool, built when it runs, here
    assert np.array_equal(one["lazy"].v_sample_v, ref["lazy"].v_sample_v)


# A worker preload: every file-system access under $NETLISTGEN_TEST_FORBIDDEN (the
# client's output directory) is refused and logged; every simulator start is logged
# with its working directory. os.write on a descriptor opened first raises no event.
_AUDIT_PRELOAD = '''
import os, sys
FORBIDDEN = os.path.realpath(os.environ["NETLISTGEN_TEST_FORBIDDEN"])
LOG = os.open(os.environ["NETLISTGEN_TEST_AUDIT_LOG"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
PATH_EVENTS = {"open": 1, "os.mkdir": 1, "os.rename": 2, "os.replace": 2, "os.remove": 1, "os.rmdir": 1,
               "os.symlink": 2, "os.chdir": 1, "os.listdir": 1, "os.scandir": 1, "shutil.rmtree": 1}

def _under(p):
    try:
        p = os.path.realpath(os.fsdecode(p))
    except (TypeError, ValueError):
        return False
    return p == FORBIDDEN or p.startswith(FORBIDDEN + os.sep)

def hook(event, args):
    if event == "subprocess.Popen":
        os.write(LOG, ("popen cwd=%s\\n" % (args[2],)).encode())
        if args[2] is not None and _under(args[2]):
            os.write(LOG, b"VIOLATION popen\\n")
            raise PermissionError("worker may not use the client's output directory")
        return
    n = PATH_EVENTS.get(event)
    if n is None:
        return
    for p in args[:n]:
        if isinstance(p, (str, bytes, os.PathLike)) and _under(p):
            os.write(LOG, ("VIOLATION %s %s\\n" % (event, os.fsdecode(p))).encode())
            raise PermissionError("worker may not use the client's output directory")

sys.addaudithook(hook)

def dask_setup(worker):
    pass
'''


@pytest.fixture
def isolated_dask_workers(tmp_path):
    """A loopback scheduler and two workers that run in their own working directory with a
    private TMPDIR and are told not to touch `tmp_path/client` (the client's side)."""
    pytest.importorskip("distributed")
    from distributed import Client

    client_dir = tmp_path / "client"
    client_dir.mkdir()
    preload = tmp_path / "audit_preload.py"
    preload.write_text(_AUDIT_PRELOAD)
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    procs = [_start(["scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"])]
    logs, tmpdirs = [], []
    for k in range(2):
        home = tmp_path / f"worker{k}"
        (home / "tmp").mkdir(parents=True)
        logs.append(home / "audit.log")
        tmpdirs.append(home / "tmp")
        env = {**os.environ, "TMPDIR": str(home / "tmp"), "NETLISTGEN_TEST_FORBIDDEN": str(client_dir),
               "NETLISTGEN_TEST_AUDIT_LOG": str(home / "audit.log")}
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "dask", "worker", address, "--nthreads", "1", "--no-nanny", "--no-dashboard",
             "--host", "127.0.0.1", "--preload", str(preload), "--local-directory", str(home)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True, cwd=home, env=env))
    client = None
    try:
        client = Client(address, timeout=60, set_as_default=False)
        client.wait_for_workers(2, timeout=60)
        yield address, client_dir, logs, tmpdirs
    finally:
        if client is not None:
            client.close()
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
            p.wait()


@pytest.mark.ngspice
@pytest.mark.slow
def test_dask_workers_without_the_clients_files_give_local_metrics(build_small, tmp_path, isolated_dask_workers):
    from netlistgen.analysis.report import summarize
    from netlistgen.core.jsonio import to_jsonable
    from netlistgen.sim.cache import ResultCache

    address, client_dir, logs, tmpdirs = isolated_dask_workers
    jobs = [_job(build_small, f"j{k}", rows=2, cols=1, cycles=6, seed=k) for k in range(3)]
    local, lerr = run_jobs(jobs, tmp_path / "local", progress=False)
    cache = ResultCache(client_dir / "cache")
    remote, rerr = run_jobs(jobs, client_dir / "out", progress=False, executor="dask", scheduler=address, cache=cache)
    assert not lerr and not rerr and sorted(remote) == sorted(local)
    for name in local:
        assert np.abs(remote[name].v_sample_v - local[name].v_sample_v).max() <= 1e-9
        metrics = [to_jsonable({k: v for k, v in summarize(name, r[name]).items() if k != "sim_seconds"})
                   for r in (remote, local)]
        assert metrics[0] == metrics[1] and "snr_db" in metrics[0]
        job_dir = client_dir / "out" / name
        assert {"tran.sp", "array.sp", ".spiceinit", "job.json", "tran.raw"} <= {p.name for p in job_dir.iterdir()}
    assert len(cache) == 3  # the client wrote the cache
    audit = "".join(p.read_text() for p in logs if p.exists())
    assert "VIOLATION" not in audit
    cwds = [line.split("=", 1)[1] for line in audit.splitlines() if line.startswith("popen cwd=")]
    sims = sorted({c for c in cwds if c != "None"})  # (the preload may install its hook more than once)
    assert len(sims) == 3 and all(any(c.startswith(str(t)) for t in tmpdirs) for c in sims), cwds
    assert all(not any(t.iterdir()) for t in tmpdirs)  # scratch directories removed
    again, _ = run_jobs(jobs, client_dir / "out2", progress=False, executor="dask", scheduler=address, cache=cache)
    assert all(r.cached for r in again.values())
def _kill_own_worker():
    """LazyJob.make that dies the way an OOM-killed or SIGKILLed worker does."""
    os.kill(os.getpid(), signal.SIGKILL)


def _small_job(name):
    nl = build(GenerateOptions(scheme="zebra-i", rows=2, cols=1, sram_rows_per_lcc=2))
    return Job(name, nl, random_stimulus(nl, 3, seed=1))


@pytest.mark.ngspice
def test_killed_shared_worker_fails_its_job_and_the_others_finish(installed, tmp_path):
    """BrokenProcessPool used to end the run with a traceback and lose the other jobs."""
    items = [LazyJob("dies", _kill_own_worker, cost=2.0), LazyJob("fine", functools.partial(_small_job, "fine"))]
    results, errors = run_jobs(items, tmp_path / "w", workers=2, progress=False, backend="shared")
    assert set(results) == {"fine"} and results["fine"].v_sample_v.shape == (3, 4)
    assert set(errors) == {"dies"} and "worker process died" in errors["dies"]


def test_malformed_scheduler_addresses_fail_at_once():
    for address in ("tcp://localhost:99999", "tcp://host:port", "tcp://a b:1", "tcp://:8786", "http://x:1"):
        with pytest.raises(NetlistgenError, match="invalid Dask scheduler address"):
            make_executor("dask", workers=1, processes=False, scheduler=address)
    with socket.socket() as s:  # a port nobody listens on: refused, reported in one line
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(NetlistgenError, match="cannot reach Dask scheduler"):
        make_executor("dask", workers=1, processes=False, scheduler=f"tcp://127.0.0.1:{port}")


def test_job_cost_follows_each_jobs_own_step(build_small):
    # the paper report's pair: 24 sampled cycles at 100 ps against 1 + 4 energy cycles
    nl = build_small(rows=4, cols=1)
    sampled = Job("s", nl, random_stimulus(nl, 24, 1))
    e5 = Job("e5", nl, random_stimulus(nl, 5, 2), energy=True)
    e10 = Job("e10", nl, random_stimulus(nl, 5, 2), energy=True, max_step_s=10e-12)
    # measured points per cycle: ~94 at 100 ps and ~971 at 5 ps (paper columns)
    per_cycle = lambda job: job_cost(job) / job.stimulus.cycles  # noqa: E731
    assert per_cycle(e5) / per_cycle(sampled) == pytest.approx(971 / 94, rel=0.05)
    assert job_cost(e5) > job_cost(e10) > job_cost(sampled)
    assert job_cost(e10) / job_cost(e5) == pytest.approx((460 + 50) / (920 + 50), rel=0.02)
