"""Fixed cost of `netlistgen simulate` against raw `ngspice -b` on the same deck.

Why: issue 10 asks the CLI (Python start-up, imports, netlist/deck writing, raw-file
read, metrics, report) to cost at most 1.2x a bare `ngspice -b` of the deck it runs.
A first `netlistgen simulate --no-cache` writes the job directory; then, in each
repetition and in rotating order, the same deck runs as
  raw        `ngspice -b tran.sp` in that job directory,
  cli        `netlistgen simulate ... --no-cache --no-plots` into a fresh directory,
  cli+plots  the same with the transfer/residual plots (matplotlib imported).
CPU time is user+sys of the whole process tree (os.wait4 rusage, which includes the
ngspice child the CLI waits for); it is the fair measure on a loaded machine. Wall time
is reported too. Usage: python benchmarks/bench_cli_overhead.py [--repeats 5] [--cycles 12]
[--baseline EXE] (--cycles sets the deck's length: the issue's goal is stated for a deck of
~1.5 CPU s; --baseline adds the two CLI modes of another build's `netlistgen`, side by side).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# zebra-i 2x1 ideal-bits on ptm45; 12 random cycles (the default) took 1.1-1.9 CPU s of ngspice here
DESIGN = ["--scheme", "zebra-i", "--rows", "2", "--cols", "1", "--tech", "ptm45"]
SAMPLING = ["--energy-cycles", "0", "--stim-seed", "1"]


def netlistgen_exe() -> str:
    exe = Path(sys.executable).with_name("netlistgen")
    return str(exe) if exe.exists() else shutil.which("netlistgen") or "netlistgen"


def timed(cmd: list[str], cwd: Path) -> tuple[float, float]:
    """(CPU s of the process tree, wall s) of one command; fails loudly on a non-zero exit."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} exited {proc.returncode}")
    return usage.ru_utime + usage.ru_stime, wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--cycles", type=int, default=12, help="random input cycles of the deck (its length)")
    ap.add_argument("--baseline", help="another build's netlistgen executable, run side by side")
    args = ap.parse_args()
    exe = netlistgen_exe()
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as tmp:
        root = Path(tmp)
        cli = [exe, "simulate", *DESIGN, *SAMPLING, "--cycles", str(args.cycles), "--no-cache", "--jobs", "1"]
        timed([*cli, "--no-plots", "--out", str(root / "first")], root)
        job_dir = root / "first" / "jobs" / "zebra-i-2x1"
        modes = {
            "raw": lambda k: (["ngspice", "-b", "tran.sp"], job_dir),
            "cli": lambda k: ([*cli, "--no-plots", "--out", str(root / f"cli{k}")], root),
            "cli+plots": lambda k: ([*cli, "--out", str(root / f"plots{k}")], root),
        }
        if args.baseline:
            base = [args.baseline, *cli[1:]]
            modes["base cli"] = lambda k: ([*base, "--no-plots", "--out", str(root / f"bcli{k}")], root)
            modes["base cli+plots"] = lambda k: ([*base, "--out", str(root / f"bplots{k}")], root)
        names = list(modes)
        cpu: dict[str, list[float]] = {m: [] for m in names}
        wall: dict[str, list[float]] = {m: [] for m in names}
        for k in range(args.repeats):
            n = k % len(names)
            for m in names[n:] + names[:n]:  # rotate the order: load drift hits every mode
                c, w = timed(*modes[m](k))
                cpu[m].append(c)
                wall[m].append(w)
    print(f"zebra-i 2x1 ptm45 ideal-bits, {args.cycles} cycles, {args.repeats} rounds (rotating order), "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}\n")
    print("| mode | CPU s mean | CPU s min | CPU / raw (mean) | CPU / raw (min) | wall s mean | wall / raw (mean) |")
    print("|---|---|---|---|---|---|---|")
    raw_c, raw_cmin, raw_w = statistics.mean(cpu["raw"]), min(cpu["raw"]), statistics.mean(wall["raw"])
    for m in names:
        c, cmin, w = statistics.mean(cpu[m]), min(cpu[m]), statistics.mean(wall[m])
        print(f"| {m} | {c:.3f} | {cmin:.3f} | {c / raw_c:.2f}x | {cmin / raw_cmin:.2f}x | {w:.2f} | {w / raw_w:.2f}x |")


if __name__ == "__main__":
    main()
