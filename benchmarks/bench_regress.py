"""Regression-suite wall time with 1 and 2 parallel ngspice jobs, side by side.

Usage: python benchmarks/bench_regress.py [-k PATTERN]   (prints a Markdown table)
Runs the shipped suite's cases (optionally a subset) once with workers=1, once with
workers=2, then the whole suite with workers=2, each in a fresh temporary directory.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

from netlistgen import regress


def timed(cases, workers: int) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        rows, errors = regress.measure(cases, tmp, workers=workers, progress=False)
        return time.perf_counter() - start, len(errors)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("-k", default="ptm45", help="subset for the 1-vs-2 ratio (default: ptm45 cases)")
    args = ap.parse_args()
    suite = regress.load_suite()
    subset = regress.select(suite, args.k)
    print(f"cores: {os.cpu_count()}")
    print("| run | cases | workers | wall s | errors |")
    print("|---|---|---|---|---|")
    t1, e1 = timed(subset, 1)
    print(f"| subset -k {args.k} | {len(subset)} | 1 | {t1:.1f} | {e1} |", flush=True)
    t2, e2 = timed(subset, 2)
    print(f"| subset -k {args.k} | {len(subset)} | 2 | {t2:.1f} | {e2} |", flush=True)
    print(f"\nspeed-up 2 vs 1 workers: {t1 / t2:.2f}x\n", flush=True)
    tf, ef = timed(suite, 2)
    print("| run | cases | workers | wall s | errors |")
    print("|---|---|---|---|---|")
    print(f"| full default suite | {len(suite)} | 2 | {tf:.1f} | {ef} |")


if __name__ == "__main__":
    main()
