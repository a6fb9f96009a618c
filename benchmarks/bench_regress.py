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

from netlistgen.studies import regress


def timed(cases, workers: int) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        rows, errors = regress.measure(cases, tmp, workers=workers, progress=False)
        return time.perf_counter() - start, len(errors)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("-k", default="ptm45", help="subset for the 1-vs-2 ratio (default: ptm45 cases)")
    ap.add_argument("--mirrored", action="store_true", help="run 1, 2, 2, 1 workers and compare the means")
    ap.add_argument("--no-full", action="store_true", help="skip the whole-suite run")
    args = ap.parse_args()
    suite = regress.load_suite()
    subset = regress.select(suite, args.k)
    print(f"cores: {os.cpu_count()}")
    print("| run | cases | workers | wall s | errors |")
    print("|---|---|---|---|---|")
    walls: dict[int, list[float]] = {1: [], 2: []}
    for workers in ([1, 2, 2, 1] if args.mirrored else [1, 2]):  # mirrored: load drift hits both alike
        t, e = timed(subset, workers)
        walls[workers].append(t)
        print(f"| subset -k {args.k} | {len(subset)} | {workers} | {t:.1f} | {e} |", flush=True)
    t1, t2 = (sum(walls[w]) / len(walls[w]) for w in (1, 2))
    print(f"\nspeed-up 2 vs 1 workers: {t1 / t2:.2f}x (means)\n", flush=True)
    if args.no_full:
        return
    tf, ef = timed(suite, 2)
    print("| run | cases | workers | wall s | errors |")
    print("|---|---|---|---|---|")
    print(f"| full default suite | {len(suite)} | 2 | {tf:.1f} | {ef} |")


if __name__ == "__main__":
    main()
