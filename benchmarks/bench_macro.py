"""Cost of the macro model in `netlistgen report paper` (issue 12, goal: the report <= 2 min).

Usage: python benchmarks/bench_macro.py [--out DIR]
Runs `netlistgen report paper --out DIR` as a user would (wall time and the CPU time of the
child processes, ngspice included), then times the macro part alone (`paper.macro_section`:
every ADC model x bit policy, the seeds' check and the sweeps) from the array facts the run
wrote to paper.json, as CPU time over repeated calls.
"""

from __future__ import annotations

import argparse
import json
import os
import time

from bench_paper import run_report  # the script's own directory is on sys.path
from netlistgen.analysis import macro
from netlistgen.studies import paper


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", help="output directory (default: a temporary one)")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    out, wall, ru, load0 = run_report(args.out)
    doc = json.loads(open(os.path.join(out, "paper.json")).read())
    m = doc["macro"]
    facts = {name: macro.ArrayFacts(**f) for name, f in m["facts"].items()}
    opts = paper.PaperOptions(rows=m["rows"], adc_share=m["adc_share"], adc_model=m["adc_model"])
    macro._stat_bits_cached.cache_clear()
    c0 = time.process_time()
    for _ in range(args.repeat):
        macro._stat_bits_cached.cache_clear()
        paper.macro_section(facts, opts)
    cpu_macro = (time.process_time() - c0) / args.repeat
    print(f"| `netlistgen report paper` (defaults, macro model included) | {wall:.1f} s wall | "
          f"{ru.ru_utime + ru.ru_stime:.1f} s CPU (children) | load {load0:.1f} -> {os.getloadavg()[0]:.1f} |")
    print(f"| macro part alone (`paper.macro_section`, {len(m['by_model'])} ADC models x 3 policies + sweeps) | "
          f"{cpu_macro:.2f} s CPU (mean of {args.repeat}) | | |")
    print(f"output: {out}")


if __name__ == "__main__":
    main()
