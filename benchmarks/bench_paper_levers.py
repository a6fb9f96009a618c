"""What each speed lever of `netlistgen report paper` costs in ngspice CPU and moves in its numbers (issue 12).

The report runs, per scheme, one sampled job (random cycles, 100 ps step) and one energy
job (a warm-up cycle + averaged cycles at the energy step). This script runs the same
jobs (same netlists and stimuli as `paper.simulate_schemes`) under named variants, one
ngspice process at a time, and prints per scheme and variant: ngspice CPU seconds (the
children's rusage, so load moves wall time but hardly CPU), time points, and the change
of what the report quotes against the reference variant (the first one named):
delivered energy per averaged cycle (%) and the sampled GBL voltages (uV, and in LSB of
the column's fitted gain).

Usage: python benchmarks/bench_paper_levers.py [--schemes int4,int8,zebra-i,zebra-ii]
       [--energy-cycles 1] [--sampled-cycles 6]
       [--energy-variants 5:,10:,10:bypass=1] [--sampled-variants 100:,100:bypass=1] [--json FILE]
A variant is `<max step in ps>:<comma-free .options words joined by +>`.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import resource
import tempfile
from pathlib import Path

import numpy as np

from netlistgen.circuits.generate import GenerateOptions, build
from netlistgen.circuits.testbench import random_stimulus
from netlistgen.sim.backends import get_backend
from netlistgen.sim.energy import energy_run_cycles, steady_mean
from netlistgen.sim.simulate import Job
from netlistgen.studies import paper


def parse_variant(text: str) -> tuple[float, tuple[str, ...]]:
    step, _, opts = text.partition(":")
    return float(step) * 1e-12, tuple(o for o in opts.split("+") if o)


def report_column(scheme: str, opts: paper.PaperOptions):
    """The report's simulated column of `scheme` (as `paper.paper_jobs` builds it)."""
    return build(GenerateOptions(scheme=scheme, technology=opts.technology, rows=opts.rows, cols=1,
                                 sram_rows_per_lcc=opts.plan.sram_rows_per_cell))


def run_variant(job: Job, step_s: float, options: tuple[str, ...], workdir: Path) -> dict:
    """One ngspice run of `job` at `step_s` with extra `.options`: CPU s, points, samples, energy."""
    bench = job.bench()
    analysis = dataclasses.replace(bench.analysis, max_step_s=step_s, options=bench.analysis.options + options)
    bench = dataclasses.replace(bench, analysis=analysis)
    eng = get_backend("subprocess")
    decks = eng.decks(bench)
    workdir.mkdir(parents=True)
    decks.write(workdir)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = eng.run(decks, workdir, timeout_s=7200, name=job.name)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    fields = job.reduce(out.vectors, bench.meta)
    e = fields.get("energy")
    return {"cpu_s": (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime),
            "points": int(out.vectors["time"].size),
            "v": np.asarray(fields["v_sample_v"]),
            "e_cycles_fj": (np.asarray(e["delivered_j"]) * 1e15).tolist() if e else None}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--schemes", default=",".join(paper.SCHEMES))
    ap.add_argument("--energy-cycles", type=int, default=1, help="averaged energy cycles (a warm-up is added)")
    ap.add_argument("--sampled-cycles", type=int, default=6)
    ap.add_argument("--energy-variants", default="5:,10:,10:bypass=1")
    ap.add_argument("--sampled-variants", default="100:,100:bypass=1")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    opts = paper.PaperOptions()
    rows = []
    with tempfile.TemporaryDirectory(prefix="levers_") as tmp:
        for scheme in args.schemes.split(","):
            nl = report_column(scheme, opts)
            kinds = []
            if args.sampled_cycles and args.sampled_variants:
                kinds.append(("sampled", Job(scheme, nl, random_stimulus(nl, args.sampled_cycles, opts.stim_seed)),
                              args.sampled_variants))
            if args.energy_cycles and args.energy_variants:
                stim = random_stimulus(nl, energy_run_cycles(args.energy_cycles), opts.stim_seed + 1)
                kinds.append(("energy", Job(f"{scheme}-energy", nl, stim, energy=True), args.energy_variants))
            for kind, job, variants in kinds:
                ref = None
                for k, text in enumerate(variants.split(",")):
                    step, options = parse_variant(text)
                    r = run_variant(job, step, options, Path(tmp) / f"{job.name}-{k}")
                    ref = ref or r
                    gain = abs(np.polyfit(np.ravel(_ideal(job)), r["v"].ravel(), 1)[0])
                    row = {"scheme": scheme, "kind": kind, "variant": text, "cycles": job.stimulus.cycles,
                           "cpu_s": r["cpu_s"], "points": r["points"],
                           "dv_uv": float(np.abs(r["v"] - ref["v"]).max() * 1e6),
                           "dv_lsb": float(np.abs(r["v"] - ref["v"]).max() / gain)}
                    if r["e_cycles_fj"]:
                        e, e0 = r["e_cycles_fj"], ref["e_cycles_fj"]
                        row.update(e_fj=steady_mean(e), e_cycles_fj=e,
                                   de_mean_pct=(steady_mean(e) / steady_mean(e0) - 1) * 100,
                                   de_worst_pct=float(np.max(np.abs(np.array(e[1:]) / np.array(e0[1:]) - 1)) * 100))
                    rows.append(row)
                    print(json.dumps(row), flush=True)
    print("\n| scheme | run | variant (ps:options) | cycles | ngspice CPU s | points | max dV vs first uV (LSB) "
          "| E fJ/cycle | dE mean % | dE worst cycle % |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        e = (f"{r['e_fj']:.2f} | {r['de_mean_pct']:+.3f} | {r['de_worst_pct']:.3f}" if "e_fj" in r else "— | — | —")
        print(f"| {r['scheme']} | {r['kind']} | {r['variant']} | {r['cycles']} | {r['cpu_s']:.1f} | {r['points']} "
              f"| {r['dv_uv']:.2f} ({r['dv_lsb']:.4f}) | {e} |")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


def _ideal(job: Job) -> np.ndarray:
    from netlistgen.circuits.testbench import ideal_outputs

    return ideal_outputs(job.netlist, job.stimulus)


if __name__ == "__main__":
    main()
