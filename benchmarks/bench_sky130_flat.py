"""sky130 at real array sizes: flattened model cards vs the subcircuit (trimmed) deck.

Usage: python benchmarks/bench_sky130_flat.py [--cases compare,check,64x8] [--max-step-ps P]
           [--out FILE.json]

Cases (each measured in a fresh child process, so ru_maxrss / CPU are ngspice's own):
  compare  zebra-i 16x4 (16 GBLs) transistor, tt, 2 cycles, whole array: models flat vs
           trimmed (today's deck, ~11 GB: run it alone), CPU + peak memory ratios, max
           |sampled voltage difference|.
  check    `netlistgen generate` + `netlistgen check` of a 16x8 transistor array (flat):
           peak memory of the op-point run.
  64x8     64 rows x 8 GBLs (zebra-i, 2 weight columns) transistor, one cycle, whole array.
The 256x64 ideal-bits run in column blocks is part of the scaling study
(`bench_scaling.py --split sky130:256x64/2`).
Peak memory is ru_maxrss of the child's children (ngspice); CPU is their user+system time.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _child_usage() -> dict:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"cpu_s": ru.ru_utime + ru.ru_stime, "peak_mb": ru.ru_maxrss / 1024}


def run_array(rows: int, cols: int, fidelity: str, models: str, cycles: int, samples_out: str | None,
              max_step_s: float | None = None) -> dict:
    """One whole-array transient in this process (ngspice as a child); max_step_s None =
    the descriptor's sampling step."""
    import numpy as np

    from netlistgen.circuits.generate import GenerateOptions, build
    from netlistgen.circuits.testbench import random_stimulus
    from netlistgen.sim.simulate import Job, run_job

    t0 = time.perf_counter()
    nl = build(GenerateOptions(rows=rows, cols=cols, technology="sky130", fidelity=fidelity, models=models))
    build_s = time.perf_counter() - t0
    with tempfile.TemporaryDirectory(prefix="sky130-flat-") as tmp:
        res = run_job(Job(f"{models}", nl, random_stimulus(nl, cycles, 1), timeout_s=7200, max_step_s=max_step_s), tmp)
    if samples_out:
        np.save(samples_out, res.v_sample_v)
    return {"build_s": build_s, "wall_s": res.seconds, **_child_usage(), "bit_cols": nl.spec.bit_cols}


def run_check(rows: int, cols: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="sky130-check-") as tmp:
        cli = str(Path(sys.executable).parent / "netlistgen")
        subprocess.run([cli, "generate", "--tech", "sky130", "--fidelity", "transistor",
                        "--rows", str(rows), "--cols", str(cols), "--out", tmp], check=True, capture_output=True)
        before = _child_usage()
        t0 = time.perf_counter()
        r = subprocess.run([cli, "check", tmp], capture_output=True, text=True)
        wall = time.perf_counter() - t0
    return {"wall_s": wall, **_child_usage(), "cpu_s_generate": before["cpu_s"], "rc": r.returncode,
            "stdout": r.stdout.strip()}


def child(argv: list[str]) -> dict:
    """Run one case in a fresh interpreter and return its JSON line."""
    out = subprocess.run([sys.executable, __file__, "--child", *argv], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"case {argv} failed: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", default="compare,check,64x8")
    ap.add_argument("--compare", default="16x4", help="ROWSxCOLS of the flat vs trimmed comparison (default 16x4)")
    ap.add_argument("--max-step-ps", default="", help="sampling max step of every array case (default: the descriptor's)")
    ap.add_argument("--out", default="")
    ap.add_argument("--child", nargs="*")
    args = ap.parse_args()
    if args.child is not None:
        kind, *rest = args.child
        if kind == "array":
            rows, cols, fidelity, models, cycles, samples, step_ps = rest
            res = run_array(int(rows), int(cols), fidelity, models, int(cycles), samples or None,
                            float(step_ps) * 1e-12 if step_ps else None)
        else:
            res = run_check(int(rest[0]), int(rest[1]))
        print(json.dumps(res))
        return
    import numpy as np

    load = Path("/proc/loadavg").read_text().split()[:3]
    report: dict = {"loadavg_at_start": load}
    cases = args.cases.split(",")
    with tempfile.TemporaryDirectory(prefix="sky130-bench-") as tmp:
        if "compare" in cases:
            rows, cols = args.compare.split("x")
            flat = child(["array", rows, cols, "transistor", "flat", "2", f"{tmp}/flat.npy", args.max_step_ps])
            print(f"{args.compare} flat", flat, flush=True)
            today = child(["array", rows, cols, "transistor", "trimmed", "2", f"{tmp}/trimmed.npy", args.max_step_ps])
            print(f"{args.compare} trimmed", today, flush=True)
            dv = np.abs(np.load(f"{tmp}/flat.npy") - np.load(f"{tmp}/trimmed.npy")).max()
            report[f"compare_{args.compare}"] = {"flat": flat, "trimmed": today, "max_abs_dv_uV": float(dv * 1e6),
                                                 "memory_ratio": today["peak_mb"] / flat["peak_mb"],
                                                 "cpu_ratio": today["cpu_s"] / flat["cpu_s"]}
            print(json.dumps(report[f"compare_{args.compare}"], indent=1), flush=True)
        if "check" in cases:
            report["check_16x8"] = child(["check", "16", "8"])
            print("check 16x8", report["check_16x8"], flush=True)
        if "64x8" in cases:
            report["transistor_64x8"] = child(["array", "64", "2", "transistor", "flat", "1", "", args.max_step_ps])
            print("64 rows x 8 GBLs", report["transistor_64x8"], flush=True)
    finish_report(report, args.out)


def finish_report(report: dict, out: str | None) -> None:
    """Stamp the load average, write the JSON report to `out` (if given) and print it."""
    report["loadavg_at_end"] = Path("/proc/loadavg").read_text().split()[:3]
    if out:
        Path(out).write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
