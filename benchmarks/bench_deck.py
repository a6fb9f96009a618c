"""sky130: trimmed model deck vs the full `.lib`, load time and sampled voltages, side by side.

Usage: python benchmarks/bench_deck.py [--repeats 3] [--corner tt]   (prints a Markdown table)

Load time: `ngspice -b` of a deck holding only the model statement and a 1 V source
(`op`), so the time is the model parse; the two decks take turns in each repetition.
Sampled voltages: the same 2x1 zebra-i array (3 compute cycles) simulated with each model
statement; the table gives the largest difference of any sampled GBL voltage.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np



def timed_load(model_line: str, tmp: Path, spiceinit: str) -> float:
    deck = tmp / "load.sp"
    deck.write_text(f"* model load only\n{model_line}\nv1 a 0 1\nr1 a 0 1k\n.control\nop\nquit 0\n.endc\n.end\n")
    (tmp / ".spiceinit").write_text(spiceinit)
    start = time.perf_counter()
    proc = subprocess.run(["ngspice", "-b", deck.name], cwd=tmp, capture_output=True, text=True,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(proc.stdout[-500:] + proc.stderr[-500:])
    return elapsed


def sampled(nl, stim, model_line: str, tmp: Path) -> np.ndarray:
    from netlistgen.sim.rawfile import read_raw
    from netlistgen.sim.runner import run_deck
    from netlistgen.circuits.testbench import Timing, output_nodes, spiceinit, transient_deck

    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "array.sp").write_text(nl.text)
    (tmp / ".spiceinit").write_text(spiceinit(nl))
    deck, sched = transient_deck(nl, str(tmp / "array.sp"), stim, Timing.for_technology(nl.tech))
    fast_lines = nl.tech.model_statements(nl.corner)
    deck = deck.replace("\n".join(fast_lines), model_line)
    (tmp / "tran.sp").write_text(deck)
    run_deck(tmp / "tran.sp", timeout_s=3600)
    raw = read_raw(tmp / "tran.raw")
    t = [sched.sample_time(c) for c in range(stim.cycles)]
    return np.stack([np.interp(t, raw["time"], raw[f"v({n})"]) for n in output_nodes(nl)], axis=1)


def main() -> None:
    from netlistgen.circuits.generate import GenerateOptions, build
    from netlistgen.tech.technology import load_technology
    from netlistgen.circuits.testbench import random_stimulus

    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--corner", default="tt")
    args = ap.parse_args()
    tech = load_technology("sky130")
    full = "\n".join(tech.model_statements(args.corner, fast=False))
    fast = "\n".join(tech.model_statements(args.corner, fast=True))
    init = "set num_threads=1\n" + "\n".join(tech.spiceinit_lines) + "\n"
    times: dict[str, list[float]] = {"full": [], "trimmed": []}
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for _ in range(args.repeats):
            times["full"].append(timed_load(full, tmp, init))
            times["trimmed"].append(timed_load(fast, tmp, init))
        nl = build(GenerateOptions(scheme="zebra-i", rows=2, cols=1, technology="sky130", corner=args.corner))
        stim = random_stimulus(nl, 3, 1)
        v_full = sampled(nl, stim, full, tmp / "full")
        v_fast = sampled(nl, stim, fast, tmp / "fast")
    mf, mt = statistics.mean(times["full"]), statistics.mean(times["trimmed"])
    print(f"sky130 corner {args.corner}, {args.repeats} repeats, cores: {os.cpu_count()}")
    print("| deck | load s (mean) | load s (min) | speed-up |")
    print("|---|---|---|---|")
    print(f"| full `.lib` | {mf:.3f} | {min(times['full']):.3f} | 1x |")
    print(f"| trimmed | {mt:.3f} | {min(times['trimmed']):.3f} | {mf / mt:.1f}x (min/min {min(times['full']) / min(times['trimmed']):.1f}x) |")
    print(f"\nsampled GBL voltages, 2x1 zebra-i, 3 cycles ({v_full.size} samples): "
          f"max |trimmed - full| = {np.abs(v_fast - v_full).max() * 1e6:.3f} uV")


if __name__ == "__main__":
    main()
