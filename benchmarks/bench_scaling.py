"""Scaling study: one MAC cycle of growing arrays, both fidelities, both technologies.

Usage: python benchmarks/bench_scaling.py [--cap-s 600] [--rows 16,64,256] [--cols 1,4,16,64]
           [--csv benchmarks/scaling.csv] [--png benchmarks/scaling.png] [--split ROWSxCOLS ...]

Every case runs in a fresh process (generate, write the deck with `rusage all`, one
single-threaded `ngspice -b`), which reports wall time, ngspice's peak program size,
circuit equations, time points and the matrix load/reorder times. Cases are run
smallest first per (technology, fidelity) series; a case whose predicted time (the
series' largest finished case scaled by bit cells, exponent 1.3) exceeds --cap-s is
recorded as skipped with that prediction. Rows are appended to the CSV as they finish
and a rerun skips cases already there, so the study can be stopped and resumed.
`--split 256x4` additionally runs that ideal-bits ptm45 array split per weight column
on all cores (run_jobs, split_columns=True) and records its wall time (`sky130:256x64/2`:
sky130, blocks of 2 weight columns). `--with OTHER.csv` adds another study's rows to the
plot and table (e.g. the ptm45 fast-deck rows next to the sky130 flat-card rows).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FIELDS = ["technology", "fidelity", "rows", "cols", "bit_cells", "mode", "status", "wall_s", "ngspice_peak_mb",
          "child_maxrss_mb", "equations", "timepoints", "s_per_timepoint", "load_s", "reorder_s", "note", "cpu_s"]
STATS = {
    "equations": "Circuit Equations",
    "timepoints": "Transient timepoints",
    "ngspice_peak_mb": "Maximum ngspice program size",
    "load_s": "Matrix load time",
    "reorder_s": "Matrix reorder time",
}


def one_case(tech: str, fidelity: str, rows: int, cols: int, timeout_s: float) -> dict:
    """Run one whole-array case in this process; returns its measurements."""
    from netlistgen.circuits.generate import GenerateOptions, build
    from netlistgen.sim.runner import run_deck
    from netlistgen.circuits.testbench import Timing, random_stimulus, spiceinit, transient_deck

    with tempfile.TemporaryDirectory(prefix="scaling-") as tmp:
        nl = build(GenerateOptions(rows=rows, cols=cols, technology=tech, fidelity=fidelity))
        lib = Path(tmp) / "array.sp"
        lib.write_text(nl.text)
        (Path(tmp) / ".spiceinit").write_text(spiceinit(nl))
        deck, _ = transient_deck(nl, str(lib), random_stimulus(nl, 1, 1), Timing.for_technology(nl.tech), rusage=True)
        (Path(tmp) / "tran.sp").write_text(deck)
        start = time.perf_counter()
        res = run_deck(Path(tmp) / "tran.sp", timeout_s=timeout_s)
        wall = time.perf_counter() - start
    out = {"wall_s": wall, "bit_cells": rows * nl.spec.bit_cols}
    for key, label in STATS.items():
        m = re.search(rf"{label} = +([\d.]+)", res.stdout)
        out[key] = float(m.group(1)) if m else None
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    out["child_maxrss_mb"], out["cpu_s"] = ru.ru_maxrss / 1024, ru.ru_utime + ru.ru_stime
    if out["timepoints"]:
        out["s_per_timepoint"] = wall / out["timepoints"]
    return out


def split_case(tech: str, rows: int, cols: int, timeout_s: float, width: int = 1) -> dict:
    """An ideal-bits array split into blocks of `width` weight columns, on all cores; the
    note and cpu_s carry the CPU time (user + system) of the worker processes and their ngspice jobs."""
    from netlistgen.circuits.generate import GenerateOptions, build
    from netlistgen.sim.executor import run_jobs
    from netlistgen.sim.simulate import Job
    from netlistgen.circuits.testbench import random_stimulus

    nl = build(GenerateOptions(rows=rows, cols=cols, technology=tech))
    job = Job("split", nl, random_stimulus(nl, 1, 1), timeout_s=timeout_s)
    with tempfile.TemporaryDirectory(prefix="scaling-split-") as tmp:
        start = time.perf_counter()
        results, errors = run_jobs([job], tmp, split_columns=width, progress=False)
        wall = time.perf_counter() - start
    if errors:
        raise RuntimeError("; ".join(errors.values()))
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"wall_s": wall, "bit_cells": rows * nl.spec.bit_cols, "child_maxrss_mb": ru.ru_maxrss / 1024,
            "cpu_s": ru.ru_utime + ru.ru_stime, "note": f"{-(-cols // width)} jobs of {width} column(s) on {os.cpu_count()} workers; "
                    f"CPU of the workers and their ngspice {ru.ru_utime + ru.ru_stime:.0f} s; load {' '.join(Path('/proc/loadavg').read_text().split()[:3])}"}


def run_isolated(args: list[str], timeout_s: float) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--one", *args], capture_output=True, text=True,
                          timeout=timeout_s + 120)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["?"]
        return {"status": "timeout" if "timed out" in tail[0] else "error", "note": tail[0][:200]}
    return {"status": "ok", **json.loads(proc.stdout.strip().splitlines()[-1])}


def load_rows(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    with path.open() as fh:
        return list(csv.DictReader(fh))


def append_row(path: Path, row: dict) -> None:
    new = not path.is_file()
    with path.open("a", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=FIELDS)
        if new:
            w.writeheader()
        w.writerow({k: row.get(k, "") for k in FIELDS})


def plot(rows: list[dict], png: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    series: dict[tuple[str, str, str], list[dict]] = {}
    for r in rows:
        if r["status"] == "ok":
            series.setdefault((r["technology"], r["fidelity"], r["mode"]), []).append(r)
    colors = {key: f"C{k}" for k, key in enumerate(sorted(series))}  # one colour per series in every panel
    for (tech, fid, mode), rs in sorted(series.items()):
        rs.sort(key=lambda r: int(r["bit_cells"]))
        x = [int(r["bit_cells"]) for r in rs]
        label = f"{tech} {fid}" + (f" ({mode} columns)" if mode.startswith("split") else "")
        style = "s--" if mode.startswith("split") else "o-"
        axes[0].plot(x, [float(r.get("cpu_s") or r["wall_s"]) for r in rs], style, label=label, color=colors[(tech, fid, mode)])
        mem = [(xi, float(r["ngspice_peak_mb"] or r["child_maxrss_mb"])) for xi, r in zip(x, rs)]
        axes[1].plot([m[0] for m in mem], [m[1] for m in mem], style, label=label, color=colors[(tech, fid, mode)])
        tp = [(xi, float(r["s_per_timepoint"])) for xi, r in zip(x, rs) if r["s_per_timepoint"]]
        if tp:
            axes[2].plot([t[0] for t in tp], [t[1] for t in tp], style, label=label, color=colors[(tech, fid, mode)])
    for ax, title in zip(axes, ("ngspice CPU (older rows: wall), one MAC cycle [s]", "ngspice peak memory [MB]", "time per time point [s]")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("bit cells (rows x GBLs)")
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
    axes[0].axhline(600, color="k", lw=0.8, ls=":")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(png, dpi=120)


def markdown(rows: list[dict]) -> str:
    lines = ["| technology | fidelity | rows x cols | bit cells | mode | status | wall s | ngspice CPU s | ngspice MB "
             "| equations | time points | s / time point | load s | reorder s | note |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]

    def f(v, fmt):
        return fmt.format(float(v)) if v not in ("", None) else "—"

    for r in rows:
        lines.append(f"| {r['technology']} | {r['fidelity']} | {r['rows']}x{r['cols']} | {r['bit_cells']} | {r['mode']} "
                     f"| {r['status']} | {f(r['wall_s'], '{:.1f}')} | {f(r.get('cpu_s'), '{:.1f}')} | {f(r['ngspice_peak_mb'] or r['child_maxrss_mb'], '{:.0f}')} "
                     f"| {f(r['equations'], '{:.0f}')} | {f(r['timepoints'], '{:.0f}')} | {f(r['s_per_timepoint'], '{:.3f}')} "
                     f"| {f(r['load_s'], '{:.1f}')} | {f(r['reorder_s'], '{:.1f}')} | {r['note'][:80]} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--one", nargs="+", help=argparse.SUPPRESS)
    ap.add_argument("--cap-s", type=float, default=600.0)
    ap.add_argument("--rows", default="16,64,256")
    ap.add_argument("--cols", default="1,4,16,64")
    ap.add_argument("--techs", default="ptm45,sky130")
    ap.add_argument("--fidelities", default="ideal-bits,transistor")
    ap.add_argument("--split", action="append", default=[],
                    help="[TECH:]ROWSxCOLS[/W]: ideal-bits array (default ptm45) split into jobs of W weight columns "
                         "(default 1)")
    ap.add_argument("--with", dest="with_csv", action="append", default=[],
                    help="another study's CSV whose rows join the plot and table (read only)")
    ap.add_argument("--csv", default=str(Path(__file__).with_name("scaling.csv")))
    ap.add_argument("--png", default=str(Path(__file__).with_name("scaling.png")))
    args = ap.parse_args()
    if args.one:
        if args.one[0] == "split":
            print(json.dumps(split_case(args.one[1], int(args.one[2]), int(args.one[3]), float(args.one[4]),
                                        int(args.one[5]))))
        else:
            tech, fid, rows, cols, cap = args.one
            print(json.dumps(one_case(tech, fid, int(rows), int(cols), float(cap))))
        return
    csv_path, png = Path(args.csv), Path(args.png)
    done = {(r["technology"], r["fidelity"], r["rows"], r["cols"], r["mode"]) for r in load_rows(csv_path)}
    sizes = sorted(((int(r), int(c)) for r in args.rows.split(",") for c in args.cols.split(",")),
                   key=lambda rc: (rc[0] * rc[1], rc[0]))
    for fid in args.fidelities.split(","):
        for tech in args.techs.split(","):
            finished = [r for r in load_rows(csv_path)
                        if (r["technology"], r["fidelity"], r["mode"], r["status"]) == (tech, fid, "whole", "ok")]
            for rows, cols in sizes:
                if (tech, fid, str(rows), str(cols), "whole") in done:
                    continue
                row = {"technology": tech, "fidelity": fid, "rows": rows, "cols": cols, "mode": "whole"}
                timed_out = [r for r in load_rows(csv_path) if (r["technology"], r["fidelity"], r["mode"],
                                                                  r["status"]) == (tech, fid, "whole", "timeout")]
                smaller = [r for r in timed_out if int(r["rows"]) * int(r["cols"]) <= rows * cols]
                if smaller:
                    row.update(status="skipped", note=f"{smaller[0]['rows']}x{smaller[0]['cols']} timed out")
                    append_row(csv_path, row)
                    print(row, flush=True)
                    continue
                if finished:
                    ref = max(finished, key=lambda r: int(r["bit_cells"]))
                    cells = rows * cols * int(ref["bit_cells"]) // (int(ref["rows"]) * int(ref["cols"]))
                    guess = float(ref["wall_s"]) * (cells / int(ref["bit_cells"])) ** 1.3
                    if guess > args.cap_s:
                        row.update(status="skipped", bit_cells=cells, note=f"predicted {guess:.0f} s > cap")
                        append_row(csv_path, row)
                        print(row, flush=True)
                        continue
                row.update(run_isolated([tech, fid, str(rows), str(cols), str(args.cap_s)], args.cap_s))
                append_row(csv_path, row)
                print(row, flush=True)
                if row["status"] == "ok":
                    finished.append({k: str(v) for k, v in row.items()})
    for spec in args.split:
        tech, _, spec = spec.lower().rpartition(":")
        tech = tech or "ptm45"
        size, _, w = spec.partition("/")
        rows, cols = (int(x) for x in size.split("x"))
        mode = "split" if not w or w == "1" else f"split/{w}"
        if (tech, "ideal-bits", str(rows), str(cols), mode) in done:
            continue
        row = {"technology": tech, "fidelity": "ideal-bits", "rows": rows, "cols": cols, "mode": mode}
        row.update(run_isolated(["split", tech, str(rows), str(cols), str(args.cap_s), w or "1"], 4 * args.cap_s))
        append_row(csv_path, row)
        print(row, flush=True)
    rows = load_rows(csv_path) + [r for extra in args.with_csv for r in load_rows(Path(extra))]
    plot(rows, png)
    print(markdown(rows))


if __name__ == "__main__":
    main()
