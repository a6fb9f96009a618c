"""Wall time and peak memory of the default `netlistgen report paper` (issue: robustness study, goal <= 20 min).

Usage: python benchmarks/bench_paper.py [--out DIR]
Runs the command exactly as a user would (default options, fresh output directory, no
result cache involved: the paper report does not use it) and prints wall time, the
peak RSS of the largest child process and the load average before and after.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time


def run_report(out: str | None) -> tuple[str, float, resource.struct_rusage, float]:
    """Run `netlistgen report paper --out OUT` as a user would (a fresh temporary directory
    if OUT is None): (out, wall s, rusage of the children, load average before)."""
    out = out or tempfile.mkdtemp(prefix="paper-")
    load0 = os.getloadavg()[0]
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "netlistgen.cli", "report", "paper", "--out", out],
                          capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"report paper failed ({proc.returncode}): {proc.stderr.strip()[-500:]}")
    return out, wall, resource.getrusage(resource.RUSAGE_CHILDREN), load0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", help="output directory (default: a temporary one)")
    args = ap.parse_args()
    out, wall, ru, load0 = run_report(args.out)
    print(f"| default `netlistgen report paper` | {wall:.1f} s | {ru.ru_maxrss / 1024:.0f} MB | "
          f"{load0:.1f} -> {os.getloadavg()[0]:.1f} |")
    print(f"output: {out}")

if __name__ == "__main__":
    main()
