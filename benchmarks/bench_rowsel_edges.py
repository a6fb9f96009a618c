"""What the ideal-bits LCC row-select timing costs and moves in `netlistgen report paper` (issue 12).

The ideal-bits LCC row multiplexer (ideal switches) used to break the old SRAM row two
control edges into the reset phase and make the new one two edges later, like the
transistor fidelity's transmission gates. Those ramps add breakpoints and switch
crossings of their own. Now both selects ramp with the reset edge at the cycle start
(storage.SELECT_EDGES). This script runs the report's own LCC jobs (16-row columns, its
stimuli, its steps) under both timings, one ngspice process at a time, and prints
ngspice CPU, time points, the largest change of a sampled GBL voltage (uV and LSB of the
column's fitted gain) and the change of the delivered energy per averaged cycle.

Usage: python benchmarks/bench_rowsel_edges.py [--schemes int4,int8] [--sampled-cycles 12]
       [--energy-cycles 4] [--repeat 1] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np

from bench_paper_levers import _ideal, report_column, run_variant  # the script's own directory is on sys.path
from netlistgen.circuits import storage
from netlistgen.circuits.testbench import random_stimulus
from netlistgen.sim.energy import energy_run_cycles, steady_mean
from netlistgen.sim.simulate import Job
from netlistgen.studies import paper

TIMINGS = {"separate ramps (before)": storage.SelectEdges(2, 4), "reset edge (now)": storage.SelectEdges(0, 0)}


def jobs(scheme: str, opts: paper.PaperOptions, sampled_cycles: int, energy_cycles: int) -> list[tuple[str, Job, float]]:
    """The report's sampled and energy jobs of `scheme` (netlist built under the current timing)."""
    nl = report_column(scheme, opts)
    return [("sampled", Job(scheme, nl, random_stimulus(nl, sampled_cycles, opts.stim_seed)), 100e-12),
            ("energy", Job(f"{scheme}-energy", nl, random_stimulus(nl, energy_run_cycles(energy_cycles),
                                                                 opts.stim_seed + 1), energy=True),
             opts.energy_max_step_s)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--schemes", default="int4,int8")
    ap.add_argument("--sampled-cycles", type=int, default=12)
    ap.add_argument("--energy-cycles", type=int, default=4)
    ap.add_argument("--repeat", type=int, default=1, help="interleaved repetitions (CPU: min over them)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    opts, rows = paper.PaperOptions(), []
    with tempfile.TemporaryDirectory(prefix="rowsel_") as tmp:
        for scheme in args.schemes.split(","):
            runs: dict[tuple[str, str], list[dict]] = {}
            for rep in range(args.repeat):
                for label, timing in TIMINGS.items():
                    storage.SELECT_EDGES["ideal-bits"] = timing  # the waves read it at deck time
                    try:
                        for kind, job, step in jobs(scheme, opts, args.sampled_cycles, args.energy_cycles):
                            where = Path(tmp) / f"{job.name}-{rep}-{timing.break_edges}{timing.make_edges}"
                            runs.setdefault((kind, label), []).append(run_variant(job, step, (), where) | {"job": job})
                    finally:
                        storage.SELECT_EDGES["ideal-bits"] = TIMINGS["reset edge (now)"]
            for kind in ("sampled", "energy"):
                ref = runs[(kind, next(iter(TIMINGS)))][0]
                for label in TIMINGS:
                    got = runs[(kind, label)]
                    r = got[0]
                    gain = abs(np.polyfit(np.ravel(_ideal(r["job"])), r["v"].ravel(), 1)[0])
                    row = {"scheme": scheme, "kind": kind, "timing": label, "cycles": r["job"].stimulus.cycles,
                           "cpu_s": [g["cpu_s"] for g in got], "points": r["points"],
                           "dv_uv": float(np.abs(r["v"] - ref["v"]).max() * 1e6),
                           "dv_lsb": float(np.abs(r["v"] - ref["v"]).max() / gain)}
                    if r["e_cycles_fj"]:
                        e, e0 = steady_mean(r["e_cycles_fj"]), steady_mean(ref["e_cycles_fj"])
                        row.update(e_fj=e, de_pct=(e / e0 - 1) * 100, e_cycles_fj=r["e_cycles_fj"])
                    rows.append(row)
                    print(json.dumps({k: v for k, v in row.items()}), flush=True)
    print("\n| scheme | run | row-select timing | cycles | ngspice CPU s (min of runs) | time points "
          "| max dV vs before uV (LSB) | E fJ/cycle | dE vs before % |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        e = f"{r['e_fj']:.2f} | {r['de_pct']:+.3f}" if "e_fj" in r else "— | —"
        print(f"| {r['scheme']} | {r['kind']} | {r['timing']} | {r['cycles']} | {min(r['cpu_s']):.2f} | {r['points']} "
              f"| {r['dv_uv']:.2f} ({r['dv_lsb']:.4f}) | {e} |")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
