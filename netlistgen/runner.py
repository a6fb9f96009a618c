"""Run ngspice on a deck in its own job directory.

This is the subprocess backend (`ngspice -b`). Each job runs in its directory so the
`.spiceinit` written there (one OpenMP thread, technology settings) is the one read.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .errors import NetlistgenError, SimulationError

LOG_TAIL_LINES = 15


def ngspice_path() -> str:
    """The ngspice executable, or a one-line error telling how to install it."""
    exe = os.environ.get("NETLISTGEN_NGSPICE") or shutil.which("ngspice")
    if not exe or not Path(exe).exists():
        raise NetlistgenError(
            "ngspice not found on PATH: install it (Debian: `apt-get install ngspice libngspice0`, or run scripts/setup.sh)"
        )
    return exe


@dataclass(frozen=True)
class RunResult:
    deck: Path
    stdout: str
    stderr: str
    seconds: float


def _tail(text: str) -> str:
    return " | ".join(text.strip().splitlines()[-LOG_TAIL_LINES:])


def run_deck(deck: str | Path, *, timeout_s: float = 600.0, name: str | None = None) -> RunResult:
    """Run `ngspice -b deck` in the deck's directory; failures name the job and show the log tail."""
    import time

    deck = Path(deck).resolve()
    job = name or deck.stem
    exe = ngspice_path()
    start = time.perf_counter()
    try:
        proc = subprocess.run(
            [exe, "-b", deck.name],
            cwd=deck.parent,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            env={**os.environ, "OMP_NUM_THREADS": "1"},
        )
    except subprocess.TimeoutExpired as exc:
        out = (exc.stdout or b"").decode(errors="replace") if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        raise SimulationError(f"job {job!r} timed out after {timeout_s:g} s; log tail: {_tail(out)}") from None
    seconds = time.perf_counter() - start
    log = proc.stdout + "\n" + proc.stderr
    fatal = [ln for ln in log.splitlines() if is_fatal(ln)]
    if proc.returncode != 0 or fatal:
        reason = fatal[0].strip() if fatal else f"exit code {proc.returncode}"
        raise SimulationError(f"job {job!r} failed: {reason}; log tail: {_tail(log)}")
    return RunResult(deck, proc.stdout, proc.stderr, seconds)


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
