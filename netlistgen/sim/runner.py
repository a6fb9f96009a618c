"""Run ngspice on a deck in its own job directory.

This is the subprocess backend (`ngspice -b`). Each job runs in its directory so the
`.spiceinit` written there (one OpenMP thread, technology settings) is the one read.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import threading
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from netlistgen.core.errors import NetlistgenError, SimulationError
from netlistgen.core.files import remove_stale

LOG_TAIL_LINES = 15
# ngspice majors netlistgen runs with: 39 is what it is tested with (Debian's 39.3, SPEC
# section 7); older releases are refused rather than trusted to behave the same.
MIN_NGSPICE_MAJOR = 39
VERSION_TIMEOUT_S = 30.0
_versions: dict[tuple[str, int, float], int] = {}
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


def ngspice_version(exe: str | None = None) -> int:
    """Major version of `exe` from `ngspice -v`, asked once per executable (and file
    version) per process; a missing, broken or too old ngspice is a one-line error."""
    exe = exe or ngspice_path()
    try:
        st = os.stat(exe)
    except OSError as exc:
        raise NetlistgenError(f"cannot run ngspice {exe!r}: {exc.strerror or exc}") from None
    key = (exe, st.st_ino, st.st_mtime)
    with _versions_lock:
        if key in _versions:
            return _versions[key]
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
        major = int(m.group(1))
        if major < MIN_NGSPICE_MAJOR:
            raise NetlistgenError(f"ngspice {major} at {exe!r} is not supported: netlistgen needs ngspice >= "
                                  f"{MIN_NGSPICE_MAJOR} (tested with 39)")
        _versions[key] = major
        return major


@dataclass(frozen=True)
class RunResult:
    deck: Path
    stdout: str  # the log (stdout and stderr interleaved); its last LOG_KEEP_BYTES when longer
    stderr: str  # always "": merged into the log file
    seconds: float
    log: Path | None = None  # <deck>.log beside the deck: the complete output


LOG_KEEP_BYTES = 4 * 1024 * 1024  # of a log, kept in memory for callers that parse it (op prints)
MAX_MESSAGE_CHARS = 300  # of a log line quoted in an error


def _clip(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 20] + f"... [{len(text) - limit + 20} chars cut]"


def _scan_log(path: Path) -> tuple[list[str], str, str]:
    """(fatal lines, tail, kept text) of a log file, streamed: memory stays bounded
    however much ngspice printed."""
    fatal: list[str] = []
    tail: deque[str] = deque(maxlen=LOG_TAIL_LINES)
    with open(path, "rb") as fh:
        for raw in fh:
            line = raw[:4096].decode(errors="replace").rstrip("\r\n")
            tail.append(line)
            if len(fatal) < 5 and is_fatal(line):
                fatal.append(_clip(line.strip()))
        size = fh.tell()
        fh.seek(max(0, size - LOG_KEEP_BYTES))
        kept = fh.read().decode(errors="replace")
    joined = " | ".join(t.strip() for t in tail if t.strip())
    return fatal, joined if len(joined) <= 2 * MAX_MESSAGE_CHARS else "... " + joined[-2 * MAX_MESSAGE_CHARS:], kept


def run_deck(deck: str | Path, *, timeout_s: float = 600.0, name: str | None = None) -> RunResult:
    """Run `ngspice -b deck` in the deck's directory; failures name the job and show the log tail.

    ngspice's output goes to `<deck>.log` beside the deck (never through a link planted
    there), not into memory: a run that prints gigabytes costs disk, not RAM."""
    import time

    deck = Path(deck).resolve()
    job = name or deck.stem
    exe = ngspice_path()
    ngspice_version(exe)
    log_path = deck.with_suffix(".log")
    remove_stale(log_path)
    start = time.perf_counter()
    try:
        fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o666)
    except OSError as exc:
        raise SimulationError(f"job {job!r}: cannot create log {str(log_path)!r}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as log:
            proc = subprocess.run(
                [exe, "-b", deck.name],
                cwd=deck.parent,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,  # a job never waits for a terminal
                timeout=timeout_s,
                env={**os.environ, "OMP_NUM_THREADS": "1"},
            )
    except subprocess.TimeoutExpired:  # subprocess.run has killed ngspice
        _, tail, _ = _scan_log(log_path)
        raise SimulationError(f"job {job!r} timed out after {timeout_s:g} s (killed); log tail: {tail}") from None
    except OSError as exc:  # fork/exec failed for this job (out of memory or processes)
        raise SimulationError(f"job {job!r}: cannot start ngspice {exe!r}: {exc.strerror or exc}") from None
    seconds = time.perf_counter() - start
    fatal, tail, kept = _scan_log(log_path)
    if proc.returncode != 0 or fatal:
        if proc.returncode < 0:
            try:
                reason = f"ngspice killed by signal {signal.Signals(-proc.returncode).name}"
            except ValueError:
                reason = f"ngspice killed by signal {-proc.returncode}"
        else:
            reason = fatal[0] if fatal else f"exit code {proc.returncode}"
        raise SimulationError(f"job {job!r} failed: {reason}; log tail: {tail}")
    return RunResult(deck, kept, "", seconds, log_path)


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
