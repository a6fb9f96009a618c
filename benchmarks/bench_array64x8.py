"""64-row x 8-GBL ML-LCU array transient at transistor fidelity (issue 3, goal <= 15 s).

Usage: python benchmarks/bench_array64x8.py [--cycles N]

zebra-i has 4 bit columns per weight, so 2 weight columns are 8 GBLs of 64 rows: 512
ML-LCUs with their 6T cells (W, S, P), every cell a real transistor circuit, ptm45.
Runs one after the other (no result cache), each line printed as it finishes:
  1. previous deck: PTM cards unchanged (rbodymod=rgatemod=1), no extra .options  <- reference
  2. shipped deck: fast cards (rbodymod=rgatemod=0), bypass=1, noopiter, whole array
  3. shipped deck split into one job per weight column on 2 workers (exact: the ML-SIU
     rows are driven by DC references once settled, executor.split_reason)
  4. as 3 with a 200 ps max step (not shipped: shown for the time-step trade-off)
Wall seconds, CPU seconds of the ngspice processes (RUSAGE_CHILDREN) and the 1-minute
load average are printed: other work shares the 2 cores, so wall time alone misleads.
The last column is the largest sampled-value change against run 1, in LSB of the gain.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import resource
import tempfile
import time

import numpy as np

from netlistgen.sim import executor, simulate

from netlistgen import tech as technology
from netlistgen.circuits.generate import GenerateOptions, build
from netlistgen.analysis.metrics import fit_linearity
from netlistgen.circuits.testbench import random_stimulus


@contextlib.contextmanager
def previous_deck():
    """The deck as it was before this work: unchanged cards and no extra options."""
    saved = (technology.Technology.model_statements, simulate.SAMPLE_OPTIONS, simulate.TRANSISTOR_OPTIONS)
    orig = saved[0]
    technology.Technology.model_statements = lambda self, corner=None, *, fast=True: orig(self, corner, fast=False)
    simulate.SAMPLE_OPTIONS = simulate.TRANSISTOR_OPTIONS = ()
    try:
        yield
    finally:
        technology.Technology.model_statements, simulate.SAMPLE_OPTIONS, simulate.TRANSISTOR_OPTIONS = saved


def cpu_children_s() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def timed(tag: str, cycles: int, tmp: str, *, max_step_s: float, split: bool = False):
    nl = build(GenerateOptions(scheme="zebra-i", technology="ptm45", rows=64, cols=2, fidelity="transistor"))
    nl = dataclasses.replace(nl, tech=dataclasses.replace(nl.tech, sample_max_step_s=max_step_s))
    job = simulate.Job(tag, nl, random_stimulus(nl, cycles, seed=7))
    cpu0, start = cpu_children_s(), time.perf_counter()
    results, errors = executor.run_jobs([job], f"{tmp}/{tag}", workers=2 if split else 1, progress=False,
                                        split_columns=split)
    if errors:
        raise SystemExit(f"{tag}: {errors}")
    return time.perf_counter() - start, cpu_children_s() - cpu0, os.getloadavg()[0], results[tag]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cycles", type=int, default=4)
    args = ap.parse_args()
    step = technology.load_technology("ptm45").sample_max_step_s
    print(f"64 rows x 8 GBLs (zebra-i, 2 weight columns), ptm45, transistor fidelity, {args.cycles} cycles")
    print("| run | max step | wall s | ngspice CPU s | load avg | max dV vs previous (LSB) |")
    print("|---|---|---|---|---|---|", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        with previous_deck():
            t0, c0, l0, base = timed("previous", args.cycles, tmp, max_step_s=step)
        gain = abs(fit_linearity(base.y_ideal.ravel(), base.v_sample_v.ravel()).gain_v_per_lsb)
        print(f"| previous: full PTM cards, whole array | {step * 1e12:.0f} ps | {t0:.1f} | {c0:.1f} | {l0:.1f} | 0 |",
              flush=True)
        runs = [("shipped: fast cards + bypass + noopiter, whole array", step, False),
                ("shipped, split per weight column, 2 workers", step, True),
                ("shipped + 200 ps max step, split, 2 workers (not shipped)", 2 * step, True)]
        for k, (label, max_step, split) in enumerate(runs):
            t, c, load, res = timed(f"run{k}", args.cycles, tmp, max_step_s=max_step, split=split)
            d = np.max(np.abs(res.v_sample_v - base.v_sample_v)) / gain
            print(f"| {label} | {max_step * 1e12:.0f} ps | {t:.1f} | {c:.1f} | {load:.1f} | {d:.4f} |", flush=True)
    print(f"\nfitted gain {gain * 1e3:.4f} mV/LSB")


if __name__ == "__main__":
    main()
