"""sky130 Monte Carlo on flattened cards vs the PDK subcircuits (issue 11): per-instance
sigma(VT) and the mismatch spread of column gain and offset, with enough samples that
the sampling error of the comparison is well below the 10 % it has to resolve.

Usage: python benchmarks/bench_sky130_mc.py [--vt-runs 4] [--vt-devices 1000]
           [--seeds 32] [--rows 2] [--cols 8] [--cycles 3] [--fidelity ideal-bits] [--workers 2]
           [--parts vt,gain] [--out FILE.json]

- VT: tt_mm, `--vt-runs` op decks of `--vt-devices` unit switch nfets (and pfets) per
  deck kind, each run its own seed; sigma of |VT| over all of them. The subcircuit deck is
  the trimmed one (the library's own device subcircuits and parameters, equal to the full
  `.lib` within 1 uV: tests/test_technology.py).
- Gain/offset: `--seeds` Monte Carlo samples (VT mismatch only: capacitor mismatch off) of
  a zebra-i `rows x cols` array per deck kind (ideal-bits by default: every switch
  transistor varies, the SRAM bits are ideal), same stimulus; the spread is the
  deviation of every GBL from its own mean over samples, pooled
  (McResult.mismatch_spread), dof = fitted GBLs x (seeds - 1).
The relative standard error of a sigma ratio is ~sqrt(1/(2 dof_a) + 1/(2 dof_b)).
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
from bench_sky130_flat import finish_report  # same directory: the shared JSON report tail


def ratio_se(dof_a: int, dof_b: int) -> float:
    return math.sqrt(1 / (2 * dof_a) + 1 / (2 * dof_b))


def vt_part(runs: int, devices: int, base_seed: int, tmp: Path) -> dict:
    from netlistgen.studies.pdk_verify import device_vth

    out = {}
    for pmos in (False, True):
        kind = "pfet" if pmos else "nfet"
        vals = {}
        for models in ("flat", "trimmed"):
            vals[models] = np.concatenate([
                device_vth("sky130", "tt_mm", pmos=pmos, n=devices, models=models, seed=base_seed + k,
                           workdir=tmp / f"vt-{kind}-{models}-{k}") for k in range(runs)])
        s = {m: float(np.std(v, ddof=1)) for m, v in vals.items()}
        n = len(vals["flat"])
        out[kind] = {"n_per_deck": n, "sigma_mv": {m: v * 1e3 for m, v in s.items()},
                     "mean_v": {m: float(v.mean()) for m, v in vals.items()},
                     "ratio": s["flat"] / s["trimmed"], "ratio_se": ratio_se(n - 1, n - 1)}
        print(kind, json.dumps(out[kind]), flush=True)
    return out


def gain_part(seeds: int, rows: int, cols: int, cycles: int, workers: int, fidelity: str, tmp: Path) -> dict:
    from netlistgen.circuits.generate import GenerateOptions
    from netlistgen.studies.montecarlo import run_mc_many

    base = dict(scheme="zebra-i", technology="sky130", rows=rows, cols=cols, fidelity=fidelity)
    configs = {"flat": GenerateOptions(**base, models="flat"), "trimmed": GenerateOptions(**base, models="trimmed")}
    t0 = time.perf_counter()
    res = run_mc_many(configs, seeds, 1000, tmp / "mc", mismatch={"cap": False}, cycles=cycles, workers=workers)
    out = {"wall_s": time.perf_counter() - t0, "errors": res.errors,
           "samples": {k: len(v) for k, v in res.samples.items()}}
    for metric in ("gain_mv_per_lsb", "offset_mv"):
        (sf, df), (st, dt) = res.mismatch_spread("flat", metric), res.mismatch_spread("trimmed", metric)
        mean = {m: float(res.column_values(m, metric).mean()) for m in configs}
        out[metric] = {"sigma": {"flat": sf, "trimmed": st}, "dof": {"flat": df, "trimmed": dt}, "mean": mean,
                       "ratio": sf / st, "ratio_se": ratio_se(df, dt)}
        print(metric, json.dumps(out[metric]), flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--vt-runs", type=int, default=4)
    ap.add_argument("--vt-devices", type=int, default=1000)
    ap.add_argument("--seeds", type=int, default=32)
    ap.add_argument("--rows", type=int, default=2)
    ap.add_argument("--cols", type=int, default=8)
    ap.add_argument("--cycles", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--fidelity", default="ideal-bits",
                    help="ideal-bits (default: the switches' VT mismatch, cheaper) or transistor (SRAM cells too)")
    ap.add_argument("--parts", default="vt,gain")
    ap.add_argument("--out", default="")
    args = ap.parse_args()
    report: dict = {"loadavg_at_start": Path("/proc/loadavg").read_text().split()[:3], "args": vars(args)}
    with tempfile.TemporaryDirectory(prefix="sky130-mc-") as tmp:
        if "vt" in args.parts:
            report["vt"] = vt_part(args.vt_runs, args.vt_devices, 7, Path(tmp))
        if "gain" in args.parts:
            report["gain"] = gain_part(args.seeds, args.rows, args.cols, args.cycles, args.workers, args.fidelity,
                                       Path(tmp))
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    report["children_cpu_s"] = ru.ru_utime + ru.ru_stime
    report["children_peak_mb"] = ru.ru_maxrss / 1024
    finish_report(report, args.out)


if __name__ == "__main__":
    main()
