"""A 16-job Monte Carlo on 1 and 2 local workers and on a 2-worker local Dask cluster.

Usage: python benchmarks/bench_workers.py [--n 16] [--rows 4] [--cycles 16] [--mirrored]   (Markdown table)

The jobs are mismatch samples (seeds 1..n) of a ptm45 zebra-i ROWSx1 array, built with
montecarlo.sample_options, run without the result cache, each run in a fresh
directory: workers=1, workers=2, then Dask (distributed.LocalCluster, 2 worker
processes x 1 thread, started before the timer). Results must agree to 1 uV.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np



def main() -> None:
    from distributed import LocalCluster

    from netlistgen.circuits.generate import GenerateOptions, build
    from netlistgen.studies.montecarlo import sample_options
    from netlistgen.sim.executor import run_jobs
    from netlistgen.sim.simulate import Job
    from netlistgen.circuits.testbench import random_stimulus

    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=16)
    ap.add_argument("--rows", type=int, default=4)
    ap.add_argument("--cycles", type=int, default=16)
    ap.add_argument("--mirrored", action="store_true", help="run A B C C B A and report means")
    args = ap.parse_args()
    base = GenerateOptions(scheme="zebra-i", rows=args.rows, cols=1, technology="ptm45")
    jobs = []
    for seed in range(1, args.n + 1):
        nl = build(sample_options(base, seed))
        jobs.append(Job(f"mc-s{seed}", nl, random_stimulus(nl, args.cycles, 1)))
    walls: dict[str, list[float]] = {}
    results = {}
    with tempfile.TemporaryDirectory() as d, \
            LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        runs = [("local, 1 worker", {"workers": 1}), ("local, 2 workers", {"workers": 2}),
                ("dask, 2 workers", {"executor": "dask", "scheduler": cluster.scheduler_address})]
        order = runs + runs[::-1] if args.mirrored else runs  # A B C C B A: load drift hits all alike
        for k, (label, kw) in enumerate(order):
            start = time.perf_counter()
            res, errors = run_jobs(jobs, Path(d) / f"run{k}", progress=False, **kw)
            walls.setdefault(label, []).append(time.perf_counter() - start)
            print(f"{label}: {walls[label][-1]:.1f} s (load {os.getloadavg()[0]:.1f})", flush=True)
            if errors:
                raise SystemExit(f"{label}: {errors}")
            results[label] = res
    walls = {label: sum(w) / len(w) for label, w in walls.items()}
    ref = results["local, 1 worker"]
    worst = max(np.abs(r[n].v_sample_v - ref[n].v_sample_v).max() for r in results.values() for n in ref)
    print(f"cores: {os.cpu_count()}; {args.n} Monte Carlo jobs (ptm45 zebra-i {args.rows}x1, {args.cycles} cycles)")
    print("| run | wall s | vs 1 worker | vs local 2 workers |")
    print("|---|---|---|---|")
    for label, w in walls.items():
        print(f"| {label} | {w:.1f} | {walls['local, 1 worker'] / w:.2f}x | {w / walls['local, 2 workers']:.2f} |")
    print(f"\nlargest difference of any sampled voltage between runs: {worst * 1e6:.3f} uV")


if __name__ == "__main__":
    main()
