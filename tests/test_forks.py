"""core.forks: calls run at once in forked children, failures re-run (and raise) here."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from netlistgen.core.forks import can_fork, run_in_forks

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")


def writer(path, seconds: float = 0.0):
    def call():
        time.sleep(seconds)
        path.write_text(str(os.getpid()))
    return call


def meeting(folder, k: int, n: int):
    """A call that leaves its mark, then waits for all n marks: it can only return when all n
    calls run at the same time."""
    def call():
        (folder / f"{k}.mark").write_text(str(os.getpid()))
        deadline = time.monotonic() + 30.0
        while len(list(folder.glob("*.mark"))) < n:
            if time.monotonic() > deadline:
                raise TimeoutError(f"call {k} ran alone")
            time.sleep(0.01)
    return call


_MEETING_SCRIPT = """
import os, sys
from pathlib import Path
sys.path.insert(0, sys.argv[2])
from test_forks import meeting
from netlistgen.core.forks import can_fork, run_in_forks
assert can_fork(), "a fresh interpreter has one thread"
run_in_forks([meeting(Path(sys.argv[1]), k, 3) for k in range(3)])
print(os.getpid())
"""


def test_calls_run_at_once_in_children(tmp_path):
    """In a fresh interpreter (one thread, as the CLI is when it draws): the test session
    itself may hold other threads (Dask, executors), where forking is refused by design."""
    out = subprocess.run([sys.executable, "-c", _MEETING_SCRIPT, str(tmp_path), str(Path(__file__).parent)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    parent = int(out.stdout.split()[-1])
    pids = [int((tmp_path / f"{k}.mark").read_text()) for k in range(3)]
    assert pids[0] == parent and len({*pids[1:]} - {parent}) == 2


def test_a_call_that_fails_in_its_child_runs_again_here(tmp_path):
    parent = os.getpid()
    out = tmp_path / "second.txt"

    def only_here():
        if os.getpid() != parent:
            raise RuntimeError("child")
        out.write_text("here")

    run_in_forks([writer(tmp_path / "first.txt"), only_here])
    assert out.read_text() == "here"


def test_the_error_of_a_failing_call_is_raised_here(tmp_path):
    def broken():
        raise ValueError("bad plot data")

    with pytest.raises(ValueError, match="bad plot data"):
        run_in_forks([writer(tmp_path / "first.txt"), broken])
    assert (tmp_path / "first.txt").is_file()


def test_with_another_thread_alive_everything_runs_here(tmp_path):
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert not can_fork()
        paths = [tmp_path / f"{k}.txt" for k in range(2)]
        run_in_forks([writer(p) for p in paths])
        assert [int(p.read_text()) for p in paths] == [os.getpid()] * 2
    finally:
        stop.set()
        other.join()
