"""Time-step convergence of sampled GBL voltages and energy per cycle, on ngspice and VACASK.

Why: a result must not depend on the engine or on its step control (issue #17). For each
ptm45 regression case (both fidelities) one energy job (the case's random stimulus, the
tool's warm-up cycle first) runs on each engine at several maximum steps; every run
gives both the sampled outputs and the per-cycle delivered energy. Each engine's value
is compared with its own finest step and with the other engine's finest step.

Energy per cycle is given by both quadratures of sim/energy.py: `step-charge` (the default)
and `pointwise` (the rule before it), to show which one converges.

Usage: python benchmarks/bench_step_convergence.py [--steps 100,10,5,2,1] [--cycles 2]
       [--cases NAME,NAME] [--fidelity ideal-bits,transistor] [--json out.json] [--engines vacask]
       python benchmarks/bench_step_convergence.py --from-logs A.log B.log  (merge split runs)
(prints Markdown tables; every number is measured in this run)
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import tempfile
import time
from pathlib import Path

import numpy as np

ENGINES = ("subprocess", "vacask")


def case_jobs(names: list[str] | None, fidelities: list[str], cycles: int):
    """(label, energy Job) for the named ptm45 array regression cases (None: all) x fidelity, each
    with `cycles` averaged cycles of its stimulus after the warm-up."""
    from netlistgen.sim.energy import energy_run_cycles
    from netlistgen.sim.simulate import Job
    from netlistgen.studies import regress

    out = []
    for case in regress.load_suite():
        if not isinstance(case, regress.Case) or case.options.technology != "ptm45" or (names and case.name not in names):
            continue
        for fid in fidelities:
            c = dataclasses.replace(case, cycles=energy_run_cycles(cycles),
                                    options=dataclasses.replace(case.options, fidelity=fid))
            job = regress.case_job(c)
            out.append((f"{case.name} {fid}", Job(job.name, job.netlist, job.stimulus, energy=True)))
    return out


def run_once(job, engine: str, max_step_s: float, workdir: Path) -> dict:
    """Sampled outputs, per-cycle delivered energy and CPU seconds of one run."""
    from netlistgen.sim.backends import get_backend
    from netlistgen.sim.energy import energy_per_cycle

    bench = job.bench()
    bench = dataclasses.replace(bench, analysis=dataclasses.replace(bench.analysis, max_step_s=max_step_s))
    eng = get_backend(engine)
    decks = eng.decks(bench)
    workdir.mkdir(parents=True)
    decks.write(workdir)
    start = time.perf_counter()
    out = eng.run(decks, workdir, timeout_s=3600, name=job.name)
    seconds = time.perf_counter() - start
    fields = job.reduce(out.vectors, bench.meta)
    vec = out.vectors
    sources = {k[3:-1]: (vec[f"v({k[3:-1]})"], vec[k]) for k in vec if k.startswith("i(v")}
    old = energy_per_cycle(vec["time"], sources, [tuple(w) for w in bench.meta["windows_s"]], quadrature="pointwise")
    e = fields["energy"]
    return {"v": np.asarray(fields["v_sample_v"]), "e": np.asarray(e["delivered_j"]),
            "e_old": np.asarray(old["delivered_j"]),
            "e_src": {k: np.asarray(x).tolist() for k, x in e["per_source_delivered_j"].items()},
            "e_src_net": {k: np.asarray(x).tolist() for k, x in e["per_source_net_j"].items()},
            "points": int(vec["time"].size), "seconds": seconds}


def gain_v(job, v: np.ndarray) -> float:
    from netlistgen.circuits.testbench import ideal_outputs

    return float(np.polyfit(ideal_outputs(job.netlist, job.stimulus).ravel(), v.ravel(), 1)[0])


def agreement_row(label: str, gain: float, runs: dict, steps: list[float]) -> dict:
    """ngspice vs VACASK at the finest step: sampled outputs, energy per averaged cycle (each
    cycle's gap, the worst reported), and each engine's own move from the next-coarser step
    (how converged the finest step is)."""
    fine = steps[-1]
    n, v = runs["subprocess", fine], runs["vacask", fine]
    gaps = (v["e"][1:] / n["e"][1:] - 1) * 100
    row = {"case": label, "step_ps": fine * 1e12, "gain_mv": gain * 1e3,
           "dv_uv": float(np.abs(v["v"] - n["v"]).max() * 1e6),
           "de_cycle_pct": gaps.tolist(), "de_worst_pct": float(np.abs(gaps).max())}
    if len(steps) > 1:
        for engine in ENGINES:
            a, b = runs[engine, steps[-2]], runs[engine, fine]
            row[f"{engine}_dv_move_uv"] = float(np.abs(a["v"] - b["v"]).max() * 1e6)
            row[f"{engine}_de_move_pct"] = float(np.abs(a["e"][1:] / b["e"][1:] - 1).max() * 100)
    return row


def print_agreement(agreement: list[dict]) -> None:
    moves = all("subprocess_dv_move_uv" in r for r in agreement)
    print("\nAgreement ngspice vs VACASK at the finest step (targets: 20 uV ideal-bits, 0.02 LSB transistor, 1 % "
          "energy per cycle; energy gap = VACASK/ngspice - 1 per averaged cycle)"
          + ("; 'move' = each engine's largest change from the next-coarser step" if moves else "") + "\n")
    head = "| case | step ps | max dV uV | max dV LSB | energy gap per cycle % | worst % |"
    if moves:
        head += " ngspice move uV / % | VACASK move uV / % |"
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for r in agreement:
        line = (f"| {r['case']} | {r['step_ps']:g} | {r['dv_uv']:.2f} | {r['dv_uv'] / (r['gain_mv'] * 1e3):.4f} "
                f"| {', '.join(f'{x:+.2f}' for x in r['de_cycle_pct'])} | {r['de_worst_pct']:.2f} |")
        if moves:
            line += "".join(f" {r[f'{e}_dv_move_uv']:.2f} / {r[f'{e}_de_move_pct']:.2f} |" for e in ENGINES)
        print(line)


def convergence_rows(label: str, gain: float, runs: dict, steps: list[float]) -> list[dict]:
    """Per engine and step: sampled outputs and energy per cycle against the same engine's
    finest step ("own") and the other engine's finest step ("other")."""
    ref_step, rows = steps[-1], []
    for engine in ENGINES:
        own, other = runs[engine, ref_step], runs[ENGINES[1 - ENGINES.index(engine)], ref_step]
        for step in steps:
            r = runs[engine, step]
            rows.append({
                "case": label, "engine": engine, "step_ps": step * 1e12, "points": r.get("points", 0),
                "seconds": r.get("seconds", 0.0), "gain_mv": gain * 1e3,
                "dv_own_uv": float(np.abs(r["v"] - own["v"]).max() * 1e6),
                "dv_other_uv": float(np.abs(r["v"] - other["v"]).max() * 1e6),
                # energy per cycle: the mean over the averaged (post-warm-up) cycles, the
                # tool's headline (energy.steady_mean), and the worst single cycle
                "e_fj": float(np.mean(r["e"][1:]) * 1e15),
                "de_mean_own_pct": float((np.mean(r["e"][1:]) / np.mean(own["e"][1:]) - 1) * 100),
                "de_mean_other_pct": float((np.mean(r["e"][1:]) / np.mean(other["e"][1:]) - 1) * 100),
                "de_own_pct": float(np.max(np.abs(r["e"][1:] / own["e"][1:] - 1)) * 100),
                "de_other_pct": float(np.max(np.abs(r["e"][1:] / other["e"][1:] - 1)) * 100),
                "e_old_fj": float(np.mean(r["e_old"][1:]) * 1e15),
                "de_old_mean_own_pct": float((np.mean(r["e_old"][1:]) / np.mean(own["e_old"][1:]) - 1) * 100),
                "de_old_own_pct": float(np.max(np.abs(r["e_old"][1:] / own["e_old"][1:] - 1)) * 100),
            })
    return rows


def print_convergence(rows: list[dict]) -> None:
    print("\nmax |dV| of the sampled outputs in uV (LSB = fitted gain); energy = delivered energy per cycle, error of "
          "the mean over the averaged cycles (the tool's headline) and of the worst cycle, in %; 'own' = against the "
          "same engine at its finest step, 'other' = against the other engine at that step\n")
    print("| case | engine | step ps | points | dV own uV | dV own LSB | dV other uV | dV other LSB | E fJ/cycle "
          "| dE mean own % | dE mean other % | dE worst own % | dE worst other % | pointwise E fJ "
          "| pointwise dE mean own % | pointwise dE worst own % |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        lsb = r["gain_mv"] * 1e3
        print(f"| {r['case']} | {r['engine']} | {r['step_ps']:g} | {r['points']} | {r['dv_own_uv']:.2f} "
              f"| {r['dv_own_uv'] / lsb:.4f} | {r['dv_other_uv']:.2f} | {r['dv_other_uv'] / lsb:.4f} | {r['e_fj']:.2f} "
              f"| {r['de_mean_own_pct']:+.2f} | {r['de_mean_other_pct']:+.2f} | {r['de_own_pct']:.2f} "
              f"| {r['de_other_pct']:.2f} | {r['e_old_fj']:.2f} | {r['de_old_mean_own_pct']:+.2f} "
              f"| {r['de_old_own_pct']:.2f} |")


def agreement_from_logs(logs: list[Path], cycles: int) -> None:
    """The agreement table from `run` lines (finest step per case = the smallest step that
    both engines finished); gains are refitted from the rebuilt jobs."""
    runs: dict[str, dict] = {}
    for log in logs:
        for line in log.read_text().splitlines():
            if line.startswith("run "):
                r = json.loads(line[4:])
                runs.setdefault(r["case"], {})[r["engine"], r["step_ps"] * 1e-12] = {
                    k: np.asarray(x) if k in ("v", "e", "e_old") else x for k, x in r.items()
                    if k in ("v", "e", "e_old", "points", "seconds")}
    labels = {label: job for label, job in case_jobs(None, ["ideal-bits", "transistor"], cycles)}
    agreement, rows = [], []
    for label, got in runs.items():
        both = sorted({s for e, s in got if all((x, s) in got for x in ENGINES)}, reverse=True)
        if not both or label not in labels:
            continue
        g = abs(gain_v(labels[label], got["subprocess", both[-1]]["v"]))
        agreement.append(agreement_row(label, g, got, both))
        if len(both) > 1:
            rows += convergence_rows(label, g, got, both)
    if rows:
        print_convergence(rows)
    if agreement:
        print_agreement(agreement)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", default="100,10,5,2,1", help="max steps in ps, finest last")
    ap.add_argument("--cycles", type=int, default=2, help="averaged cycles (a warm-up cycle is added)")
    ap.add_argument("--cases", default=None, help="comma-separated regression case names (default: every ptm45 case)")
    ap.add_argument("--fidelity", default="ideal-bits,transistor")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--engines", default=",".join(ENGINES),
                    help="run only these engines (a slow engine in its own process; merge with --from-logs)")
    ap.add_argument("--from-logs", type=Path, nargs="+", default=None,
                    help="print the agreement table from the `run` lines of earlier runs' output (runs split "
                         "over several processes; a case counts once both engines finished its finest step)")
    args = ap.parse_args()
    if args.from_logs:
        agreement_from_logs(args.from_logs, args.cycles)
        return
    steps = [float(s) * 1e-12 for s in args.steps.split(",")]
    engines = args.engines.split(",")
    if bad := sorted(set(engines) - set(ENGINES)):
        raise SystemExit(f"--engines: unknown engine {bad[0]!r} (known: {', '.join(ENGINES)})")
    rows, agreement = [], []
    with tempfile.TemporaryDirectory(prefix="stepconv_") as tmp:
        for label, job in case_jobs(args.cases.split(",") if args.cases else None, args.fidelity.split(","), args.cycles):
            runs = {}
            for step in steps:
                for engine in engines:
                    r = runs[engine, step] = run_once(job, engine, step, Path(tmp) / f"{label}-{engine}-{step:g}".replace(" ", "_"))
                    print("run", json.dumps({"case": label, "engine": engine, "step_ps": step * 1e12,
                                             **{k: x if isinstance(x, dict) else np.asarray(x).tolist()
                                                for k, x in r.items()}}), flush=True)
            if len(engines) < len(ENGINES):
                continue  # one engine only: the `run` lines are the output, tables come from --from-logs
            g = abs(gain_v(job, runs["subprocess", steps[-1]]["v"]))
            agreement.append(agreement_row(label, g, runs, steps))
            rows += convergence_rows(label, g, runs, steps)
            for row in rows[-2 * len(steps):]:
                print(json.dumps(row), flush=True)
    if not rows:
        return  # one engine only: no comparison here
    print_convergence(rows)
    print_agreement(agreement)
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "agreement": agreement}, indent=1))


if __name__ == "__main__":
    main()
