"""Cost of Monte Carlo mismatch and of the injected kT/C reset noise, side by side.

Why: mismatch draws and the sampled-kT/C noise are meant to cost (almost) nothing on
top of a nominal transient (trnoise would cost ~20x, SPEC section 7). One run, same
array and stimulus, the variants taking turns in each repetition so load drift hits all:
  nominal   the plain job (no mismatch, no noise),
  mismatch  the same job built with a mismatch seed (per-instance agauss / delvto),
  noise     the same job with per-GBL reset references and injected kT/C draws
            (plus, reported separately, the AC analysis that measures C_total).
Then a whole `run_mc` of N samples with 1 and 2 workers (wall time, per sample).
Usage: python benchmarks/bench_mc.py [--repeats 3] [--n 8] [--tech ptm45]
(prints Markdown tables)
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path



def main() -> None:
    from netlistgen import tech as technology
    from netlistgen.circuits.generate import GenerateOptions, build
    from netlistgen.studies.montecarlo import gbl_capacitance_f, reset_noise_for, run_mc
    from netlistgen.sim.simulate import Job, run_job
    from netlistgen.circuits.testbench import random_stimulus
    from netlistgen.circuits.variation import Noise

    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--n", type=int, default=8)
    ap.add_argument("--tech", default="ptm45")
    ap.add_argument("--rows", type=int, default=8)
    ap.add_argument("--cycles", type=int, default=16)
    args = ap.parse_args()
    technology.install(args.tech, progress=lambda *_: None)
    opts = GenerateOptions(scheme="zebra-i", technology=args.tech, rows=args.rows, cols=1)
    nominal = build(opts)
    mismatch = build(GenerateOptions(**{**opts.__dict__, "mismatch_seed": 1}))
    noisy = build(GenerateOptions(**{**opts.__dict__, "reset_noise": True}))
    stim = random_stimulus(nominal, args.cycles, seed=1)
    times: dict[str, list[float]] = {"nominal": [], "mismatch": [], "noise": [], "C_total AC": []}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for rep in range(args.repeats):
            times["nominal"].append(run_job(Job("n", nominal, stim), root / f"n{rep}").seconds)
            times["mismatch"].append(run_job(Job("m", mismatch, stim), root / f"m{rep}").seconds)
            t0 = time.perf_counter()
            rn = reset_noise_for(noisy, Noise(rep, 300.0), root / f"ac{rep}")
            times["C_total AC"].append(time.perf_counter() - t0)
            times["noise"].append(run_job(Job("z", noisy, stim, reset_noise=rn), root / f"z{rep}").seconds)
        base = statistics.mean(times["nominal"])
        print(f"zebra-i {args.tech} {args.rows}x1, {args.cycles} cycles, {args.repeats} repetitions (ngspice seconds)\n")
        print("| variant | mean s | min s | mean / nominal |")
        print("|---|---|---|---|")
        for name, t in times.items():
            print(f"| {name} | {statistics.mean(t):.3f} | {min(t):.3f} | {statistics.mean(t) / base:.2f}x |")
        c = gbl_capacitance_f(nominal, root / "c")
        print(f"\nC_total per GBL (AC): {', '.join(f'{x * 1e15:.2f}' for x in c)} fF\n")
        print(f"run_mc: {args.n} samples of the same array\n")
        print("| workers | wall s | s per sample |")
        print("|---|---|---|")
        for workers in (1, 2):
            t0 = time.perf_counter()
            res = run_mc(opts, args.n, 100, root / f"mc{workers}", cycles=args.cycles, workers=workers)
            wall = time.perf_counter() - t0
            assert not res.errors, res.errors
            print(f"| {workers} | {wall:.1f} | {wall / args.n:.2f} |")


if __name__ == "__main__":
    main()
