"""Time and peak memory to generate large transistor-level ML-LCU arrays.

Each case runs in a fresh process (so peak RSS is that case's alone): it encodes
seeded random weights, renders the netlist and writes library, deck and manifest.
Usage: python benchmarks/bench_generate.py  (prints a Markdown table)
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile

CASES = [
    # (rows, weight cols, scheme): 256 x 64 zebra-i = 256 x 256 bit cells; 256 x 256 = 256 x 1024
    (256, 64, "zebra-i"),
    (256, 256, "zebra-i"),
    (256, 128, "zebra-ii"),
]

CHILD = r"""
import json, resource, sys, time
from netlistgen.circuits.generate import GenerateOptions, generate
rows, cols, scheme, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
t = time.perf_counter()
nl, paths = generate(GenerateOptions(scheme=scheme, rows=rows, cols=cols, fidelity="transistor", out=out))
dt = time.perf_counter() - t
size = sum(p.stat().st_size for p in paths.values())
print(json.dumps({"seconds": dt, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "bit_cells": nl.spec.rows * nl.spec.bit_cols, "lines": nl.text.count("\n"), "bytes": size}))
"""


def main() -> None:
    print("| rows x weight cols (scheme) | bit cells | netlist lines | files MB | time s | peak RSS MB |")
    print("|---|---|---|---|---|---|")
    for rows, cols, scheme in CASES:
        with tempfile.TemporaryDirectory() as out:
            res = subprocess.run([sys.executable, "-c", CHILD, str(rows), str(cols), scheme, out],
                                 capture_output=True, text=True, check=True)
        r = json.loads(res.stdout.strip().splitlines()[-1])
        print(f"| {rows} x {cols} ({scheme}) | {r['bit_cells']} | {r['lines']} | {r['bytes'] / 1e6:.1f} | "
              f"{r['seconds']:.2f} | {r['peak_rss_mb']:.0f} |", flush=True)


if __name__ == "__main__":
    main()
