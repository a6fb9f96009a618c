"""Result cache: the same regression suite run twice against one fresh cache, side by side.

Usage: python benchmarks/bench_cache.py [-k PATTERN] [--workers 2]   (prints a Markdown table)

Run 1 simulates every case and fills the cache; run 2 (new job directory, same cache)
rebuilds the netlists and decks, hashes them and reads the stored results. Both runs
must give identical metrics; the table reports both wall times and their ratio.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path



def main() -> None:
    from netlistgen.studies import regress
    from netlistgen.sim.cache import ResultCache

    ap = argparse.ArgumentParser()
    ap.add_argument("-k", default=None, help="subset of the shipped suite (default: all cases)")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    cases = regress.select(regress.load_suite(), args.k)
    with tempfile.TemporaryDirectory() as d:
        cache = ResultCache(Path(d) / "cache")
        walls, rows = [], []
        for run in (1, 2):
            start = time.perf_counter()
            got, errors = regress.measure(cases, Path(d) / f"run{run}", workers=args.workers, progress=False,
                                          cache=cache)
            walls.append(time.perf_counter() - start)
            if errors:
                raise SystemExit(f"run {run} errors: {errors}")
            rows.append({n: {m: r[m] for m in (regress.ADC_METRICS if r.get("kind") == "adc" else regress.METRICS)}
                         for n, r in got.items()})
        entries = len(cache)
    same = rows[0] == rows[1]
    print(f"cores: {os.cpu_count()}, workers: {args.workers}, cases: {len(cases)}, cache entries: {entries}")
    print("| run | wall s |")
    print("|---|---|")
    print(f"| 1 (empty cache) | {walls[0]:.2f} |")
    print(f"| 2 (unchanged suite) | {walls[1]:.2f} |")
    print(f"\nspeed-up of run 2: {walls[0] / walls[1]:.1f}x; metrics identical: {same}")


if __name__ == "__main__":
    main()
