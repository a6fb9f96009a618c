"""sim.runner: `ngspice -b` as a subprocess, its failures as one-line (bounded) errors; its
output streamed to a log file, bounded in memory; each simulator in its own process group,
killed with the run, on a timeout (the whole group) and, after a SIGKILL of its parent, by
the next start."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from netlistgen.core.errors import SimulationError
from netlistgen.sim import runner
from netlistgen.sim.runner import is_fatal, ngspice_version, parse_print, run_deck

DIVIDER = """* divider
V1 top 0 1.0
R1 top mid 3k
R2 mid 0 1k
.control
op
print v(mid) v(top)
quit 0
.endc
.end
"""


@pytest.mark.ngspice
def test_op_deck_prints_the_divider_voltage(tmp_path):
    deck = tmp_path / "div.sp"
    deck.write_text(DIVIDER)
    res = run_deck(deck, timeout_s=60)
    assert parse_print(res.stdout) == {"mid": pytest.approx(0.25), "top": pytest.approx(1.0)}
    assert res.seconds > 0 and res.deck == deck.resolve()
    assert ngspice_version() >= 39


@pytest.mark.ngspice
def test_failing_deck_names_the_job_and_the_reason(tmp_path):
    deck = tmp_path / "bad.sp"
    deck.write_text("* bad\nX1 a 0 nosuchcell\n.control\nop\nquit 0\n.endc\n.end\n")
    with pytest.raises(SimulationError, match=r"job 'mine' failed: .*nosuchcell") as info:
        run_deck(deck, timeout_s=60, name="mine")
    assert "\n" not in str(info.value)


def test_is_fatal_and_parse_print_on_text():
    assert is_fatal("Error: unknown subckt: x1 a 0 foo")
    assert is_fatal("doAnalyses: TRAN:  Timestep too small; time = 1e-9")
    assert not is_fatal("Note: No compatibility mode selected!")
    out = "v(a) = 5.000000e-01\nnoise line\nv(b) = garbage\ni(v1) = 1e-3\n"
    assert parse_print(out) == {"a": 0.5}



# Process groups. An RC driven by a 1 GHz sine, simulated for 1 s at 1 ps steps: runs far longer than any test.
# The control block first starts a background `sleep` (a grandchild of the runner) with a
# duration unique to the test, so the test can find it and see whether the whole group dies.
def long_deck(tag: str) -> str:
    return f"""* never-ending transient
V1 a 0 SIN(0 1 1e9)
R1 a b 1k
C1 b 0 1p
.control
shell sleep {tag} &
tran 1p 1 0 1p
quit 0
.endc
.end
"""


def _sleeper(tag: str, timeout_s: float = 60.0) -> int:
    """The pid of the `sleep <tag>` a deck started."""
    want = f"sleep\0{tag}\0".encode()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for proc in Path("/proc").iterdir():
            if proc.name.isdigit():
                try:
                    if (proc / "cmdline").read_bytes() == want:
                        return int(proc.name)
                except OSError:
                    continue
        time.sleep(0.1)
    raise AssertionError(f"no `sleep {tag}` appeared")


def _tag() -> str:
    return f"{300 + (os.getpid() % 1000) / 1000 + time.monotonic_ns() % 1000 / 1e6:.6f}"


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for its reaper counts as dead)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def _wait_for(path: Path, timeout_s: float = 60.0) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if path.is_file() and path.read_text().strip():
            return path.read_text().strip()
        time.sleep(0.05)
    raise AssertionError(f"{path} did not appear")


def _gone(pids: list[int], timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not any(_alive(p) for p in pids):
            return True
        time.sleep(0.05)
    return False


@pytest.mark.ngspice
def test_timeout_kills_the_whole_process_group(tmp_path):
    deck = tmp_path / "long.sp"
    tag = _tag()
    deck.write_text(long_deck(tag))
    found = {}
    spy = threading.Thread(target=lambda: found.setdefault("child", _sleeper(tag)))
    spy.start()
    with pytest.raises(SimulationError, match="timed out after 3 s"):
        runner.run_deck(deck, timeout_s=3, name="long")
    spy.join()
    assert _gone([found["child"]]), "the deck's background process outlived the timeout"
    assert not (tmp_path / runner.PIDFILE).exists()


@pytest.mark.ngspice
def test_kill_all_stops_running_simulators(tmp_path):
    deck = tmp_path / "long.sp"
    tag = _tag()
    deck.write_text(long_deck(tag))
    caught = {}

    def run():
        try:
            runner.run_deck(deck, timeout_s=600, name="long")
        except SimulationError as exc:
            caught["error"] = str(exc)

    thread = threading.Thread(target=run)
    thread.start()
    info = _wait_for(tmp_path / runner.PIDFILE)
    child = _sleeper(tag)
    ngspice = int(__import__("json").loads(info)["pid"])
    runner.kill_all()
    thread.join(30)
    assert not thread.is_alive()
    assert "killed by signal SIGKILL" in caught["error"]
    assert _gone([ngspice, child])


@pytest.mark.ngspice
def test_orphans_of_a_killed_run_are_reaped_on_the_next_start(tmp_path):
    deck = tmp_path / "jobs" / "j" / "long.sp"
    deck.parent.mkdir(parents=True)
    tag = _tag()
    deck.write_text(long_deck(tag))
    script = textwrap.dedent(f"""
        from netlistgen.sim.runner import run_deck
        run_deck({str(deck)!r}, timeout_s=600, name="long")
    """)
    parent = subprocess.Popen([sys.executable, "-c", script], cwd=tmp_path)
    try:
        info = __import__("json").loads(_wait_for(deck.parent / runner.PIDFILE))
        child = _sleeper(tag)
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
    ngspice = int(info["pid"])
    try:
        assert info["owner"] == parent.pid
        time.sleep(0.5)
        assert _alive(ngspice) and _alive(child), "a SIGKILLed run leaves its simulator running (what is reaped)"
        assert runner.reap_orphans(tmp_path / "jobs") == [ngspice]
        assert _gone([ngspice, child])
        assert not (deck.parent / runner.PIDFILE).exists()
    finally:  # never leave a never-ending simulator behind, whatever failed above
        try:
            os.killpg(ngspice, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


@pytest.mark.ngspice
def test_a_live_owner_keeps_its_simulator(tmp_path):
    """The reaper only touches groups whose owner is gone (another live run is left alone)."""
    job = tmp_path / "jobs" / "j"
    job.mkdir(parents=True)
    sleeper = subprocess.Popen(["sleep", "60"], start_new_session=True)
    try:
        (job / runner.PIDFILE).write_text(__import__("json").dumps(
            {"pid": sleeper.pid, "start_ticks": runner.process_start_ticks(sleeper.pid), "owner": os.getpid(),
             "owner_start_ticks": runner.process_start_ticks(os.getpid())}))
        assert runner.reap_orphans(tmp_path / "jobs") == []
        assert sleeper.poll() is None
    finally:
        sleeper.kill()
        sleeper.wait()


@pytest.mark.ngspice
def test_log_is_streamed_to_a_file(tmp_path):
    deck = tmp_path / "op.sp"
    deck.write_text("* op\nV1 a 0 1\nR1 a 0 1k\n.control\nop\nprint v(a)\nquit 0\n.endc\n.end\n")
    result = runner.run_deck(deck, timeout_s=60)
    assert runner.parse_print(result.stdout)["a"] == pytest.approx(1.0)
    assert "v(a) = 1" in (tmp_path / "op.log").read_text()


@pytest.mark.ngspice
@pytest.mark.skipif(not Path("/proc/self/stat").is_file(), reason="reads /proc")
def test_ngspice_runs_in_its_own_group_but_the_callers_session(tmp_path):
    """Its own process group (killed as a whole), this session: a new session would also put it
    in a new scheduler autogroup, away from the priority the caller runs at."""
    deck = tmp_path / "ids.sp"
    deck.write_text("* ids\nV1 a 0 1\nR1 a 0 1k\n.control\nshell cat /proc/self/stat\nquit 0\n.endc\n.end\n")
    result = runner.run_deck(deck, timeout_s=60)
    line = next(ln for ln in result.stdout.splitlines() if " (cat) " in ln)
    pgrp, session = (int(x) for x in line.split(") ", 1)[1].split()[2:4])  # cat inherits ngspice's
    assert session == os.getsid(0)
    assert pgrp != os.getpgrp()


def chatty_deck(path, lines: int) -> None:
    path.write_text(f"""chatty
V1 1 0 1
R1 1 0 1k
.control
op
let k = 0
while k < {lines}
  echo line $&k of a long log
  let k = k + 1
end
quit 0
.endc
.end
""")


@pytest.mark.ngspice
def test_output_goes_to_a_log_file_and_memory_keeps_its_tail(tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "MAX_LOG_CHARS", 2000)
    chatty_deck(tmp_path / "d.sp", 5000)
    (tmp_path / "d.log").symlink_to(tmp_path / "outside")  # a planted link is replaced, not followed
    result = runner.run_deck(tmp_path / "d.sp")
    assert result.log == tmp_path / "d.log" and not result.log.is_symlink()
    assert not (tmp_path / "outside").exists()
    log = result.log.read_text()
    assert "line 0 of a long log" in log and "line 4999 of a long log" in log and len(log) > 100_000
    assert len(result.stdout) <= 2000 and "line 4999 of a long log" in result.stdout


@pytest.mark.ngspice
def test_failure_message_is_bounded(tmp_path):
    (tmp_path / "bad.sp").write_text("bad\nXbogus 1 0 " + "n" * 20000 + "\n.op\n.end\n")
    with pytest.raises(SimulationError) as info:
        runner.run_deck(tmp_path / "bad.sp")
    assert len(str(info.value)) < 1200 and "\n" not in str(info.value)
