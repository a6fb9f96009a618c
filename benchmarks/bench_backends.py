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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--case", action="append", help="tech:ROWSxCOLS:fidelity (repeatable)")
    args = ap.parse_args()
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
