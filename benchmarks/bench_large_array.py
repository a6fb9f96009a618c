"""The issue's large-array goal: a 256-row x 64-column ideal-bits array, one MAC cycle,
<= 10 min and <= 8 GB on this 2-core machine.

Usage: python benchmarks/bench_large_array.py [--block 2] [--workers 2] [--tech ptm45]
           [--vectors FILE.npy]

zebra-i on ptm45 (the fast deck): 256 rows x 64 weight columns = 256 GBLs and 65,536
ML-LCUs. The array is run as blocks of `--block` weight columns (run_jobs
split_columns=N; exact to settling accuracy, executor.split_reason), one
single-threaded ngspice per worker, no result cache. Prints wall time, the largest
ngspice process (RUSAGE_CHILDREN max RSS) and the load average. Block width 2 was the
cheapest per column in a probe on the same machine: one cycle of 256x1 17.2 s, 256x2
30.8 s, 256x4 64.6 s. --tech sky130 is issue 11's goal (<= 15 min on 2 workers); --tech
also takes a descriptor path. --vectors saves the sampled voltages (cycles x GBLs).
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time

from netlistgen.sim import executor, simulate
from netlistgen.circuits.generate import GenerateOptions, build
from netlistgen.circuits.testbench import random_stimulus


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--block", type=int, default=2, help="weight columns per ngspice job (default 2)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--rows", type=int, default=256)
    ap.add_argument("--cols", type=int, default=64)
    ap.add_argument("--tech", default="ptm45", help="technology name or descriptor path (default ptm45)")
    ap.add_argument("--vectors", default=None, help="save the sampled GBL voltages to this .npy")
    args = ap.parse_args()
    nl = build(GenerateOptions(scheme="zebra-i", technology=args.tech, rows=args.rows, cols=args.cols,
                               fidelity="ideal-bits"))
    job = simulate.Job("large", nl, random_stimulus(nl, 1, seed=1))
    load0 = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        results, errors = executor.run_jobs([job], tmp, workers=args.workers, progress=False,
                                            split_columns=args.block)
        wall = time.perf_counter() - start
    if errors:
        raise SystemExit(f"failed: {errors}")
    gbls = results["large"].v_sample_v.shape[1]
    if args.vectors:
        import numpy as np

        np.save(args.vectors, np.asarray(results["large"].v_sample_v))
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(f"| {args.rows}x{args.cols} ideal-bits {nl.tech.name} ({gbls} GBLs), 1 cycle | blocks of {args.block} "
          f"columns, {args.workers} workers | {wall:.1f} s wall, {ru.ru_utime + ru.ru_stime:.0f} s ngspice CPU "
          f"| {ru.ru_maxrss / 1024:.0f} MB | {load0:.1f} -> {os.getloadavg()[0]:.1f} |")


if __name__ == "__main__":
    main()
