"""Run ngspice on a deck in its own job directory.

This is the subprocess backend (`ngspice -b`). Each job runs in its directory so the
`.spiceinit` written there (one OpenMP thread, technology settings) is the one read.
"""

from __future__ import annotations

import atexit
import json
import os
import re
import shutil
import signal
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

from netlistgen.core.errors import NetlistgenError, SimulationError
from netlistgen.core.memo import remembered

LOG_TAIL_LINES = 15
# ngspice majors netlistgen runs with: 39 is what it is tested with (Debian's 39.3, SPEC
# section 7); older releases are refused rather than trusted to behave the same.
MIN_NGSPICE_MAJOR = 39
VERSION_TIMEOUT_S = 30.0
_versions_lock = threading.Lock()


def ngspice_path() -> str:
    """The ngspice executable, or a one-line error telling how to install it."""
    exe = os.environ.get("NETLISTGEN_NGSPICE") or shutil.which("ngspice")
    if not exe or not Path(exe).is_file():
        raise NetlistgenError(
            f"ngspice not found ({'NETLISTGEN_NGSPICE=' + repr(exe) if exe else 'not on PATH'}): install it "
            "(Debian: `apt-get install ngspice libngspice0`, or run scripts/setup.sh)"
        )
    if not os.access(exe, os.X_OK):
        raise NetlistgenError(f"ngspice {exe!r} is not executable")
    return exe


def _ask_version(exe: str) -> int:
    """Major version printed by `exe -v`; a one-line error if it does not answer like ngspice."""
    try:
        proc = subprocess.run([exe, "-v"], capture_output=True, text=True, timeout=VERSION_TIMEOUT_S,
                              stdin=subprocess.DEVNULL, errors="replace")
    except subprocess.TimeoutExpired:
        raise NetlistgenError(f"ngspice {exe!r} did not answer `-v` within {VERSION_TIMEOUT_S:g} s") from None
    except OSError as exc:
        raise NetlistgenError(f"cannot run ngspice {exe!r}: {exc.strerror or exc}") from None
    text = proc.stdout + proc.stderr
    m = re.search(r"ngspice-(\d+)", text)
    if not m:
        first = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
        raise NetlistgenError(f"{exe!r} does not look like ngspice: `-v` printed {first[:100]!r}")
    return int(m.group(1))


def ngspice_version(exe: str | None = None) -> int:
    """Major version of `exe` from `ngspice -v`, asked once per executable file (remembered
    across runs by its file stamp: core.memo); a missing, broken or too old ngspice is a
    one-line error."""
    exe = exe or ngspice_path()
    try:
        os.stat(exe)
    except OSError as exc:
        raise NetlistgenError(f"cannot run ngspice {exe!r}: {exc.strerror or exc}") from None
    with _versions_lock:  # threads starting together ask once
        major = remembered("ngspice -v", exe, lambda: _ask_version(exe), valid=int)
    if major < MIN_NGSPICE_MAJOR:
        raise NetlistgenError(f"ngspice {major} at {exe!r} is not supported: netlistgen needs ngspice >= "
                              f"{MIN_NGSPICE_MAJOR} (tested with 39)")
    return major


@dataclass(frozen=True)
class RunResult:
    deck: Path
    stdout: str  # the run's log (stdout and stderr interleaved), its last MAX_LOG_CHARS
    stderr: str
    seconds: float
    log: Path | None = None  # the log file (<deck>.log) the output was streamed to


LOG_SUFFIX = ".log"
PIDFILE = "ngspice.pid"  # beside a running deck: who runs it, so an orphan can be reaped
MAX_LOG_CHARS = 4_000_000  # log text kept in memory; the log file itself is streamed
_live: dict[int, subprocess.Popen] = {}  # process group id -> ngspice started by this process
_live_lock = threading.Lock()
STARTED = threading.Event()  # set once this process has started a simulator (api preloads after it)


MAX_MESSAGE_CHARS = 300  # of a log line quoted in an error


def _clip(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 20] + f"... [{len(text) - limit + 20} chars cut]"


def log_tail(text: str) -> str:
    """The last LOG_TAIL_LINES lines of a log, as one line of bounded length."""
    joined = " | ".join(line.strip() for line in text.strip().splitlines()[-LOG_TAIL_LINES:] if line.strip())
    return joined if len(joined) <= 2 * MAX_MESSAGE_CHARS else "... " + joined[-2 * MAX_MESSAGE_CHARS:]


def process_start_ticks(pid: int) -> int | None:
    """Start time of `pid` in clock ticks since boot (Linux /proc), None where unknown:
    with the pid it names one process even after the pid is reused."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    try:
        return int(stat[stat.rindex(")") + 2:].split()[19])
    except (ValueError, IndexError):
        return None


def process_alive(pid: int, ticks: int | None) -> bool:
    """Is `pid` running and (when `ticks` is known) still the process that started then?"""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return ticks is None or process_start_ticks(pid) in (None, ticks)


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def kill_all() -> None:
    """Kill the process group of every ngspice this process started and still runs
    (a run that is interrupted or stops takes its simulators with it)."""
    with _live_lock:
        groups = list(_live)
    for pgid in groups:
        _kill_group(pgid)


atexit.register(kill_all)


def find_files(root: str | Path, name: str) -> list[Path]:
    """Every file called `name` under `root`, listed first; directories that vanish
    meanwhile (another run publishing its job directory) are skipped, links not followed."""
    return [Path(d) / name for d, _, files in os.walk(root) if name in files]


def reap_orphans(root: str | Path) -> list[int]:
    """Kill simulators left running under `root` by a run that died without cleaning up
    (SIGKILL): every pidfile whose owner process is gone names a group to kill. Returns
    the killed process ids."""
    root = Path(root)
    killed = []
    if not root.is_dir():
        return killed
    for pidfile in find_files(root, PIDFILE):
        if pidfile.is_symlink():
            continue
        try:
            info = json.loads(pidfile.read_text())
            pid, ticks = int(info["pid"]), info.get("start_ticks")
            owner, owner_ticks = int(info["owner"]), info.get("owner_start_ticks")
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if process_alive(owner, owner_ticks):
            continue  # a live run (this one or another) owns it
        if process_alive(pid, ticks):
            _kill_group(pid)
            killed.append(pid)
        pidfile.unlink(missing_ok=True)
    return killed


def owner_record() -> dict:
    """This process as an owner of files or simulators (pid and start time)."""
    return {"owner": os.getpid(), "owner_start_ticks": process_start_ticks(os.getpid())}


def _write_pidfile(path: Path, pid: int) -> None:
    from netlistgen.core.files import write_atomic

    write_atomic(path, json.dumps({"pid": pid, "start_ticks": process_start_ticks(pid), **owner_record()}) + "\n")


def _read_log(path: Path) -> tuple[str, list[str]]:
    """The log text (its last MAX_LOG_CHARS) and its fatal lines, read line by line."""
    fatal: list[str] = []
    with open(path, "rb") as fh:
        for raw in fh:
            line = raw.decode(errors="replace")
            if len(fatal) < 5 and is_fatal(line):
                fatal.append(_clip(line.strip()))
        size = fh.tell()
        fh.seek(max(0, size - MAX_LOG_CHARS))
        text = fh.read().decode(errors="replace")
    return text, fatal


def run_deck(deck: str | Path, *, timeout_s: float = 600.0, name: str | None = None) -> RunResult:
    """Run `ngspice -b deck` in the deck's directory; failures name the job and show the log tail.

    ngspice runs in a process group of its own (with anything its deck starts): a timeout,
    an interrupt or the end of the run kills the whole group, and a pidfile beside the
    deck lets the next run reap it if this process is killed outright. Its output is
    streamed to `<deck>.log`, not held in memory."""
    import time

    deck = Path(deck).resolve()
    job = name or deck.stem
    exe = ngspice_path()
    ngspice_version(exe)
    log_path = deck.with_suffix(LOG_SUFFIX)
    pidfile = deck.parent / PIDFILE
    log_path.unlink(missing_ok=True)
    start = time.perf_counter()
    try:
        fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644)
    except OSError as exc:
        raise SimulationError(f"job {job!r}: cannot create its log {str(log_path)!r}: {exc.strerror or exc}") from None
    timed_out = False
    try:
        with os.fdopen(fd, "wb") as log_fh:
            try:
                proc = subprocess.Popen(
                    [exe, "-b", deck.name],
                    cwd=deck.parent,
                    stdout=log_fh,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,  # a job never waits for a terminal
                    env={**os.environ, "OMP_NUM_THREADS": "1"},
                    # Its own process group (killed as a whole), but this session: a new session would also
                    # get a new scheduler autogroup, not the caller's priority (docs/startup.md).
                    process_group=0,
                )
            except OSError as exc:  # fork/exec failed for this job (out of memory or processes)
                raise SimulationError(f"job {job!r}: cannot start ngspice {exe!r}: {exc.strerror or exc}") from None
            with _live_lock:
                _live[proc.pid] = proc
            STARTED.set()
            expired = threading.Event()

            def expire() -> None:
                expired.set()
                _kill_group(proc.pid)

            # A timer thread enforces the timeout, so this thread blocks in waitpid: Popen.wait(timeout)
            # polls every 50 ms, which cost ~0.1 CPU s on a 5 s run of a loaded machine.
            timer = threading.Timer(timeout_s, expire)
            timer.daemon = True
            try:
                _write_pidfile(pidfile, proc.pid)
                timer.start()
                returncode = proc.wait()
                timed_out = expired.is_set()
            except BaseException:
                _kill_group(proc.pid)
                proc.wait()
                raise
            finally:
                timer.cancel()
                _kill_group(proc.pid)  # whatever the deck started in the background dies with it
                with _live_lock:
                    _live.pop(proc.pid, None)
                pidfile.unlink(missing_ok=True)
    except OSError as exc:
        raise SimulationError(f"job {job!r}: {exc.strerror or exc}") from None
    seconds = time.perf_counter() - start
    log, fatal = _read_log(log_path)
    if timed_out:
        raise SimulationError(f"job {job!r} timed out after {timeout_s:g} s (killed); log tail: {log_tail(log)}")
    if returncode != 0 or fatal:
        if returncode < 0:
            try:
                reason = f"ngspice killed by signal {signal.Signals(-returncode).name}"
            except ValueError:
                reason = f"ngspice killed by signal {-returncode}"
        else:
            reason = fatal[0] if fatal else f"exit code {returncode}"
        raise SimulationError(f"job {job!r} failed: {reason}; log tail: {log_tail(log)}")
    return RunResult(deck, log, "", seconds, log_path)


def is_fatal(line: str) -> bool:
    """Does this ngspice output line mean the job failed? (shared by every backend)"""
    low = line.strip().lower()
    return (
        low.startswith("error")
        or "fatal" in low
        or "unknown subckt" in low
        or "could not find" in low
        or "timestep too small" in low
        or "singular matrix" in low
        or "simulation(s) aborted" in low
        or ("no such" in low and "file" in low)
    )


def parse_print(stdout: str) -> dict[str, float]:
    """Values from ngspice `print v(a) v(b)` after an `op`: lines like `v(a) = 5.0e-01`."""
    values: dict[str, float] = {}
    for line in stdout.splitlines():
        if " = " not in line:
            continue
        key, _, value = line.partition(" = ")
        key = key.strip().lower()
        if key.startswith("v(") and key.endswith(")"):
            try:
                values[key[2:-1]] = float(value.split()[0])
            except (ValueError, IndexError):
                continue
    return values
