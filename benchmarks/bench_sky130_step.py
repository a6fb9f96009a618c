"""sky130 accuracy levers (issue 11): transient maximum step and model-card simplifications.

Why: a 64x8 sky130 transistor cycle spends most of its time points on the 100 ps maximum
step, and each MOSFET carries five internal nodes (rbodymod = 1, rsh x nrd/nrs). Both
levers trade accuracy for time, so this measures the trade on one small array before
anything is changed.

Usage: python benchmarks/bench_sky130_step.py [--rows 16] [--cols 1] [--fidelity transistor]
           [--cycles 3] [--steps 1000,500,200,100,50,20,10] [--levers rbodymod=0,rsh=0]
           [--lever-step 100] [--energy-rows 4] [--energy-steps 10,5,2]
           [--confirm 64x2 --confirm-steps 100,500 --confirm-params rbodymod=0]
           [--confirm-variants 100,100:bypass,500] [--json FILE]

- step: the same job (flat cards, tt, random stimulus seed 1) at each maximum step (ps,
  finest last = the reference); max |sampled GBL voltage - reference| in uV and in LSB
  (the reference's fitted gain), time points, ngspice CPU seconds (user + system).
- levers: `models.flat_params` set in a copy of the sky130 descriptor (one lever per run,
  then all together), run at --lever-step; difference against the PDK card values
  (flat_params = []) at that step.
- energy: an energy job (warm-up cycle + --cycles) of an --energy-rows x 1 array at each
  --energy-steps (finest last); delivered energy per cycle against the finest step.
  --energy-cards also runs it on the PDK's card values (flat_params = []) at the finest step.
- confirm: one cycle of a ROWSxCOLS transistor array (64x2 = the issue's 64 rows x 8 GBLs)
  at each --confirm-steps, the first being the reference, and (with --confirm-params) with
  those card parameters at the last step; ngspice CPU, peak memory and the largest
  sampled-voltage change in LSB of that array. This is the timed part (run it alone).
  --confirm-variants lists the runs explicitly; "bypass" puts back ngspice bypass=1,
  which sky130 sampling runs no longer use (docs/sky130.md, stop 21); a variant without
  parameters runs the PDK's card values, "shipped" the descriptor as shipped (since stop 22
  rbodymod=0, rsh=0). The step and energy parts run the shipped descriptor. --confirm-fidelity
  ideal-bits measures the 256 x 64 block (256x2); --vectors FILE.npz saves the samples.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import resource
import tempfile
from pathlib import Path

import numpy as np


def cpu_children_s() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def make_job(tech: str, rows: int, cols: int, fidelity: str, cycles: int, energy: bool = False,
             scheme: str = "zebra-i"):
    from netlistgen.circuits.generate import GenerateOptions, build
    from netlistgen.circuits.testbench import random_stimulus
    from netlistgen.sim.simulate import Job

    nl = build(GenerateOptions(scheme=scheme, technology=tech, rows=rows, cols=cols, fidelity=fidelity))
    return Job("step", nl, random_stimulus(nl, cycles, 1), energy=energy, timeout_s=7200)


def run_at(job, max_step_s: float, workdir: Path) -> dict:
    """Sampled outputs (and per-cycle energy of an energy job) at one maximum step."""
    from netlistgen.sim.backends import get_backend

    bench = job.bench()
    bench = dataclasses.replace(bench, analysis=dataclasses.replace(bench.analysis, max_step_s=max_step_s))
    eng = get_backend("subprocess")
    decks = eng.decks(bench)
    workdir.mkdir(parents=True)
    decks.write(workdir)
    cpu0 = cpu_children_s()
    out = eng.run(decks, workdir, timeout_s=job.timeout_s, name=job.name)
    cpu = cpu_children_s() - cpu0
    fields = job.reduce(out.vectors, bench.meta)
    res = {"v": np.asarray(fields["v_sample_v"]), "points": int(out.vectors["time"].size), "cpu_s": cpu}
    if job.energy:
        res["e"] = np.asarray(fields["energy"]["delivered_j"])
    return res


def fitted_gain_v(job, v: np.ndarray) -> float:
    from netlistgen.circuits.testbench import ideal_outputs

    return abs(float(np.polyfit(ideal_outputs(job.netlist, job.stimulus).ravel(), v.ravel(), 1)[0]))


BYPASS = "bypass"  # pseudo card parameter of a variant: the sampling runs use ngspice bypass=1
SHIPPED = "shipped"  # a variant's only "parameter": the descriptor as shipped (its own flat_params)


def descriptor_with(params: list[str], tmp: Path) -> Path:
    """A copy of the built-in sky130 descriptor with `models.flat_params = params` (so []
    means the PDK's own card values; the shipped descriptor sets rbodymod=0, rsh=0), and
    `[timing] sample_bypass = true` when "bypass" is one of them."""
    import importlib.resources
    import re

    text = (importlib.resources.files("netlistgen.pdk_models") / "sky130.toml").read_text()
    cards = [p for p in params if p != BYPASS]
    line = "flat_params = [" + ", ".join(json.dumps(p) for p in cards) + "]\n"
    text, n = re.subn(r"(?m)^flat_params = \[.*\]\n", line, text)
    if n == 0:
        text = text.replace("flatten = true\n", "flatten = true\n" + line, 1)
    if BYPASS in params:
        assert "sample_bypass = false\n" in text, "the descriptor no longer turns bypass off"
        text = text.replace("sample_bypass = false\n", "sample_bypass = true\n", 1)
    path = tmp / f"sky130-{'-'.join(p.replace('=', '') for p in params) or 'pdkcards'}.toml"
    path.write_text(text)
    return path


def confirm(args, tmp: Path) -> list[dict]:
    """One cycle of the large array at each confirm step (and card variant): CPU, memory, dV.
    --vectors keeps every run's samples, so runs made in separate processes can be compared."""
    rows, cols = (int(x) for x in args.confirm.split("x"))
    cps = [float(s) for s in args.confirm_steps.split(",") if s]
    variants = [(str(descriptor_with([], tmp)), s, []) for s in cps]
    params = [p for p in args.confirm_params.split(",") if p]
    if params:
        variants.append((str(descriptor_with(params, tmp)), cps[-1], params))
    if args.confirm_variants:  # STEP[:param+param], in this order (interleave for CPU ratios)
        variants = []
        for item in args.confirm_variants.split(","):
            step, _, ps = item.partition(":")
            ps = [p for p in ps.split("+") if p]
            tech = "sky130" if ps == [SHIPPED] else str(descriptor_with(ps, tmp))
            variants.append((tech, float(step), ps))
        cps = [variants[0][1]]
    out, ref, gain, vectors = [], None, None, {}
    for k, (tech, s, vparams) in enumerate(variants):
        job = make_job(tech, rows, cols, args.confirm_fidelity, 1, scheme=args.scheme)
        r = run_at(job, s * 1e-12, tmp / f"confirm-{k}")
        if args.vectors:
            vectors[f"{s:g}:{'+'.join(vparams)}"] = r["v"]
            np.savez(args.vectors, **vectors)
        if ref is None:
            ref, gain = r, fitted_gain_v(job, r["v"])
        dv = float(np.abs(r["v"] - ref["v"]).max())
        out.append({"step_ps": s, "params": vparams, "points": r["points"],
                    "cpu_s": r["cpu_s"], "peak_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
                    "dv_uv": dv * 1e6, "dv_lsb": dv / gain, "gain_mv_per_lsb": gain * 1e3,
                    "loadavg": Path("/proc/loadavg").read_text().split()[0]})
        print(json.dumps(out[-1]), flush=True)
    print(f"\n{rows}x{cols} {args.confirm_fidelity}, one cycle, LSB {gain * 1e3:.4f} mV; dV against the first run "
          f"({cps[0]:g} ps, {' '.join(variants[0][2]) or 'PDK cards'})\n")
    print("| max step ps | card parameters | time points | ngspice CPU s | peak MB (so far) | max dV uV | max dV LSB "
          "| load |\n|---|---|---|---|---|---|---|---|")
    for r in out:
        print(f"| {r['step_ps']:g} | {' '.join(r['params']) or 'PDK'} | {r['points']} | {r['cpu_s']:.1f} "
              f"| {r['peak_mb']:.0f} | {r['dv_uv']:.2f} | {r['dv_lsb']:.5f} | {r['loadavg']} |")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=16)
    ap.add_argument("--cols", type=int, default=1)
    ap.add_argument("--fidelity", default="transistor")
    ap.add_argument("--cycles", type=int, default=3)
    ap.add_argument("--steps", default="1000,500,200,100,50,20,10", help="max steps in ps, finest last")
    ap.add_argument("--levers", default="rbodymod=0,rsh=0", help="card parameters, comma-separated ('' = none)")
    ap.add_argument("--lever-step", type=float, default=100.0, help="max step (ps) of the lever runs")
    ap.add_argument("--energy-rows", type=int, default=4)
    ap.add_argument("--energy-steps", default="10,5,2", help="energy-run max steps in ps, finest last ('' = none)")
    ap.add_argument("--energy-cards", action="store_true",
                    help="also run the energy job on the PDK's card values (flat_params = []) at the finest step")
    ap.add_argument("--scheme", default="zebra-i", help="pattern set of every job (default zebra-i)")
    ap.add_argument("--confirm", default="", help="ROWSxCOLS of the one-cycle confirmation run ('' = none)")
    ap.add_argument("--confirm-steps", default="100,500", help="max steps in ps, the first is the reference")
    ap.add_argument("--confirm-params", default="", help="card parameters also run at the last confirm step")
    ap.add_argument("--confirm-variants", default="",
                    help="instead of the two above: STEP[:param+param] runs in order, the first the reference; "
                         "'bypass' as a param turns ngspice bypass on (e.g. 100,100:bypass,500)")
    ap.add_argument("--confirm-fidelity", default="transistor", help="fidelity of the confirmation runs")
    ap.add_argument("--vectors", type=Path, default=None,
                    help="write each confirmation run's sampled voltages to this .npz (key STEP:params)")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    report: dict = {"args": vars(args) | {"json": str(args.json)},
                    "loadavg_at_start": Path("/proc/loadavg").read_text().split()[:3]}
    with tempfile.TemporaryDirectory(prefix="sky130-step-") as tmp:
        tmp = Path(tmp)
        steps = [float(s) for s in args.steps.split(",") if s]
        if steps:
            job = make_job("sky130", args.rows, args.cols, args.fidelity, args.cycles, scheme=args.scheme)
            runs = {}
            for s in steps:
                runs[s] = run_at(job, s * 1e-12, tmp / f"step-{s:g}")
                print(f"step {s:g} ps: {runs[s]['points']} points, {runs[s]['cpu_s']:.1f} s CPU", flush=True)
            ref = runs[steps[-1]]
            gain = fitted_gain_v(job, ref["v"])
            report["gain_mv_per_lsb"] = gain * 1e3
            report["step"] = [{"step_ps": s, "points": r["points"], "cpu_s": r["cpu_s"],
                               "dv_uv": float(np.abs(r["v"] - ref["v"]).max() * 1e6),
                               "dv_lsb": float(np.abs(r["v"] - ref["v"]).max() / gain)} for s, r in runs.items()]
            print(f"\n{args.rows}x{args.cols} {args.fidelity}, {args.cycles} cycles, {ref['v'].size} samples, "
                  f"LSB {gain * 1e3:.4f} mV, reference {steps[-1]:g} ps\n")
            print("| max step ps | time points | ngspice CPU s | max dV uV | max dV LSB |\n|---|---|---|---|---|")
            for r in report["step"]:
                print(f"| {r['step_ps']:g} | {r['points']} | {r['cpu_s']:.1f} | {r['dv_uv']:.2f} | {r['dv_lsb']:.5f} |")

            levers = [p for p in args.levers.split(",") if p]
            if levers:
                pdk_job = make_job(str(descriptor_with([], tmp)), args.rows, args.cols, args.fidelity, args.cycles,
                                   scheme=args.scheme)
                base = run_at(pdk_job, args.lever_step * 1e-12, tmp / "lever-base")
                report["levers"] = []
                for params in [[p] for p in levers] + ([levers] if len(levers) > 1 else []):
                    lj = make_job(str(descriptor_with(params, tmp)), args.rows, args.cols, args.fidelity, args.cycles,
                                  scheme=args.scheme)
                    r = run_at(lj, args.lever_step * 1e-12, tmp / f"lever-{len(report['levers'])}")
                    dv = float(np.abs(r["v"] - base["v"]).max())
                    report["levers"].append({"params": params, "points": r["points"], "cpu_s": r["cpu_s"],
                                             "base_cpu_s": base["cpu_s"], "dv_uv": dv * 1e6, "dv_lsb": dv / gain})
                    print(f"lever {params}: {dv * 1e6:.2f} uV, {r['cpu_s']:.1f} s CPU (PDK cards {base['cpu_s']:.1f} s)",
                          flush=True)
                print(f"\n| card parameters | max dV uV vs PDK cards | LSB | ngspice CPU s | PDK cards CPU s |\n|---|---|---|---|---|")
                for r in report["levers"]:
                    print(f"| {' '.join(r['params'])} | {r['dv_uv']:.2f} | {r['dv_lsb']:.5f} | {r['cpu_s']:.1f} "
                          f"| {r['base_cpu_s']:.1f} |")

        esteps = [float(s) for s in args.energy_steps.split(",") if s]
        if esteps:
            from netlistgen.sim.energy import energy_run_cycles

            ej = make_job("sky130", args.energy_rows, 1, args.fidelity, energy_run_cycles(args.cycles), energy=True,
                          scheme=args.scheme)
            eruns = {s: run_at(ej, s * 1e-12, tmp / f"energy-{s:g}") for s in esteps}
            eref = eruns[esteps[-1]]
            report["energy"] = [{"step_ps": s, "points": r["points"], "cpu_s": r["cpu_s"],
                                 "e_fj": float(np.mean(r["e"][1:]) * 1e15),
                                 "de_mean_pct": float((np.mean(r["e"][1:]) / np.mean(eref["e"][1:]) - 1) * 100),
                                 "de_worst_pct": float(np.max(np.abs(r["e"][1:] / eref["e"][1:] - 1)) * 100),
                                 "dv_uv": float(np.abs(r["v"] - eref["v"]).max() * 1e6)} for s, r in eruns.items()]
            print(f"\nenergy, {args.energy_rows}x1 {args.fidelity}, {args.cycles} averaged cycles after a warm-up, "
                  f"reference {esteps[-1]:g} ps\n")
            print("| max step ps | time points | ngspice CPU s | E fJ/cycle | dE mean % | dE worst cycle % | "
                  "max dV uV |\n|---|---|---|---|---|---|---|")
            for r in report["energy"]:
                print(f"| {r['step_ps']:g} | {r['points']} | {r['cpu_s']:.1f} | {r['e_fj']:.2f} | "
                      f"{r['de_mean_pct']:+.3f} | {r['de_worst_pct']:.3f} | {r['dv_uv']:.2f} |")
            if args.energy_cards:  # the shipped card levers' effect on energy, at the finest step
                pj = make_job(str(descriptor_with([], tmp)), args.energy_rows, 1, args.fidelity,
                              energy_run_cycles(args.cycles), energy=True, scheme=args.scheme)
                r = run_at(pj, esteps[-1] * 1e-12, tmp / "energy-pdkcards")
                ratio = eref["e"][1:] / r["e"][1:]
                report["energy_cards"] = {"step_ps": esteps[-1], "e_fj_pdk_cards": float(np.mean(r["e"][1:]) * 1e15),
                                          "de_mean_pct": float((np.mean(eref["e"][1:]) / np.mean(r["e"][1:]) - 1) * 100),
                                          "de_worst_pct": float(np.max(np.abs(ratio - 1)) * 100),
                                          "dv_uv": float(np.abs(r["v"] - eref["v"]).max() * 1e6),
                                          "cpu_s_pdk_cards": r["cpu_s"], "cpu_s_shipped": eref["cpu_s"]}
                print("\nshipped cards vs PDK card values (energy run, same step):", json.dumps(report["energy_cards"]))
        if args.confirm:
            report["confirm"] = confirm(args, tmp)
    report["loadavg_at_end"] = Path("/proc/loadavg").read_text().split()[:3]
    if args.json:
        args.json.write_text(json.dumps(report, indent=1, default=str) + "\n")


if __name__ == "__main__":
    main()
