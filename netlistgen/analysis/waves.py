"""Waveforms of one compute cycle of a finished job.

The nodes come from the netlist, not from fixed names: the job's `job.json` lists the
top-level nets from the netlist objects (outputs, GBL bottoms, row inputs, controls),
and the capacitor plates of the chosen cell are found in the job's library by
connectivity (the slice on that row's input and that column's GBL, its cell on the
bit's GBL, the cell's capacitor nodes). The saved raw file is used when it holds every
node; otherwise the job's bench (stored as data in job.json) is rerun with those nodes
saved, through the executor, the chosen backend and the result cache.
 With resimulate=False (`plot --saved-only`) only the saved traces are
drawn; a rerun is announced first through `log` (it can take as long as the job did).
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable
from pathlib import Path

from netlistgen.core import validate
from netlistgen.core.errors import NetlistgenError, SimulationError
from netlistgen.analysis.plots import waveforms
from netlistgen.sim.backends import DEFAULT_BACKEND
from netlistgen.sim.rawfile import read_raw

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_PWL_PAIR_RE = re.compile(rf"^{_NUMBER} {_NUMBER}$")
_NUMBER_RE = re.compile(rf"^{_NUMBER}$")


def _subckts(text: str) -> tuple[list[list[str]], dict[str, tuple[list[str], list[list[str]]]]]:
    """Top-level card token lists and {subckt: (ports, card token lists)} of a library
    (continuation lines joined, comments dropped, lower case as ngspice names them)."""
    cards: list[list[str]] = []
    for raw in text.lower().splitlines():
        line = raw.strip()
        if not line or line.startswith("*"):
            continue
        if line.startswith("+") and cards:
            cards[-1] += line[1:].split()
        else:
            cards.append(line.split())
    top: list[list[str]] = []
    subs: dict[str, tuple[list[str], list[list[str]]]] = {}
    current = None
    for card in cards:
        if card[0] == ".subckt":
            current = card[1]
            subs[current] = ([t for t in card[2:] if "=" not in t], [])
        elif card[0] == ".ends":
            current = None
        elif current is not None:
            subs[current][1].append(card)
        else:
            top.append(card)
    return top, subs


def _has_cap(sub: str, subs: dict, depth: int = 0) -> bool:
    if sub not in subs or depth > 8:
        return False
    return any(c[0].startswith("c") or (c[0].startswith("x") and _has_cap(c[-1], subs, depth + 1)) for c in subs[sub][1])


def plate_nodes(text: str, input_net: str, gbl_bottom: str) -> list[str]:
    """Hierarchical names of the capacitor plates of the cell on row input `input_net`
    that drives the GBL ending in `gbl_bottom`, found through the library's
    connectivity: the slice instance on that input and on that GBL (the GBL's net at its
    row: same name up to the row suffix), then its cell on that GBL, then the cell's
    capacitor nodes that are not ports."""
    top, subs = _subckts(text)
    line = gbl_bottom.lower().rsplit("_", 1)[0]
    on_gbl = [n for c in top for n in c[1:-1] if n.rsplit("_", 1)[0] == line]
    slices = [c for c in top if c[0].startswith("x") and input_net.lower() in c[1:-1] and c[-1] in subs
              and len(subs[c[-1]][0]) == len(c) - 2 and any(n in on_gbl for n in c[1:-1])]
    if len(slices) != 1:
        return []
    inst = slices[0]
    ports, cards = subs[inst[-1]]
    port = ports[next(k for k, n in enumerate(inst[1:-1]) if n in on_gbl)]  # the slice port on this GBL
    cells = [c for c in cards if c[0].startswith("x") and port in c[1:-1] and _has_cap(c[-1], subs)]
    if len(cells) != 1:
        return []
    cell = cells[0]
    cell_ports = subs[cell[-1]][0]
    nodes: list[str] = []
    for card in subs[cell[-1]][1]:
        if card[0].startswith("c"):
            nodes += [n for n in card[1:3] if n not in cell_ports and n not in nodes and n != "0"]
    return [f"{inst[0]}.{cell[0]}.{n}" for n in nodes]


def wave_probes(job_dir: Path, meta: dict, row: int, col: int, bit: int) -> dict[str, list[str]]:
    """Node names per plot group for the cell (row, col, bit) of the job in `job_dir`."""
    nodes = meta["nodes"]
    k = col * meta["n_bits"] + bit
    inputs = nodes["inputs"][row]
    plates = plate_nodes((job_dir / "array.sp").read_text(), inputs[0], nodes["gbl_bottom"][k])
    return {"GBL": [nodes["gbl_bottom"][k], nodes["outputs"][k]], "plates": plates, "inputs": list(inputs),
            "control": list(nodes["controls"])}


def load_bench(job_dir: Path, meta: dict):
    """The job's bench from job.json and array.sp, every value checked before it can reach a deck."""
    from netlistgen.circuits.design import DEFAULT_TEMP_C
    from netlistgen.circuits.generate import GeneratedLibrary
    from netlistgen.circuits.testbench import Source
    from netlistgen.sim.backends import Bench, TranAnalysis
    from netlistgen.tech.technology import list_technologies, load_technology

    try:
        b, t = meta["bench"], meta["technology"]
        if b["kind"] != TranAnalysis.__name__:
            raise ValueError(f"analysis {b['kind']!r} has no waveforms")
        sources = []
        for name, node, value, pwl in b["sources"]:
            validate.identifier(name, "source name"), validate.identifier(node, "source node")
            if value and not _NUMBER_RE.match(value) or not all(_PWL_PAIR_RE.match(p) for p in pwl):
                raise ValueError(f"source {name!r} holds a non-numeric value")
            sources.append(Source(name, node, value, tuple(pwl)))
        a = b["analysis"]
        analysis = TranAnalysis(float(a["stop_s"]), float(a["max_step_s"]), tuple(a["saved"]), tuple(a["options"]))
        tech = load_technology(t["name"] if t["name"] in list_technologies() else t["descriptor"])
        spec = type("Size", (), {"rows": meta["rows"], "cols": meta["cols"], "cell": "array"})
        library = GeneratedLibrary((job_dir / "array.sp").read_text(), tech, t["corner"], spec,
                                   float(t.get("temp_c", DEFAULT_TEMP_C)))
        return Bench(f"{meta['name']}-waves", str(b["title"]), library, tuple(sources), analysis)
    except (KeyError, TypeError, ValueError, OSError) as exc:
        raise NetlistgenError(f"{str(job_dir)!r}: job.json cannot be rerun ({exc})") from None


def cycle_waveforms(job_dir: str | Path, cycle: int, out: str | Path, *, row: int = 0, col: int = 0,
                    bit: int = 0, timeout_s: float = 1800.0, backend: str = DEFAULT_BACKEND, cache=None,
                    resimulate: bool = True, log: Callable[[str], None] = print) -> Path:
    """Plot GBL/output, plates, inputs and controls of `cycle` of the job in `job_dir`,
    from the saved raw file when it holds them (see the module docstring)."""
    job_dir = Path(job_dir)
    meta_path = job_dir / "job.json"
    if not meta_path.is_file() or not (job_dir / "array.sp").is_file():
        raise NetlistgenError(f"{str(job_dir)!r} is not a finished job directory (needs job.json and array.sp)")
    meta = json.loads(meta_path.read_text())
    if "nodes" not in meta:
        raise NetlistgenError(f"{str(job_dir)!r} is not a transient job directory (job.json has no node index)")
    windows = meta["windows_s"]
    if not 0 <= cycle < len(windows):
        raise NetlistgenError(f"cycle {cycle} out of range: the job has {len(windows)} cycles")
    for what, value, limit in (("row", row, meta["rows"]), ("col", col, meta["cols"]), ("bit", bit, meta["n_bits"])):
        if not 0 <= value < limit:
            raise NetlistgenError(f"{what} {value} out of range 0..{limit - 1}")
    groups = wave_probes(job_dir, meta, row, col, bit)
    wanted = [f"v({n})" for names in groups.values() for n in names]
    tran = job_dir / "tran.raw"
    raw = read_raw(tran) if tran.is_file() else {}
    source = "saved tran.raw"
    if not all(v in raw for v in wanted) and not resimulate:
        if not raw:
            raise NetlistgenError(f"{str(job_dir)!r} has no saved raw file (its result came from the cache): "
                                  "plot it without --saved-only to re-simulate")
        source = "saved tran.raw, outputs only"
        log(f"plotting only the traces saved in {tran} (no re-simulation)")
    elif not all(v in raw for v in wanted):  # the sampling run saved only the outputs: rerun with the nodes
        from netlistgen.sim.executor import run_jobs
        from netlistgen.sim.simulate import BenchJob

        log(f"{job_dir}: tran.raw keeps only the sampled outputs: re-simulating the job with every "
            "plotted node saved ...")
        bench = load_bench(job_dir, meta)
        saved = tuple(dict.fromkeys(bench.analysis.saved + tuple(wanted)))
        bench = dataclasses.replace(bench, analysis=dataclasses.replace(bench.analysis, saved=saved))
        results, errors = run_jobs([BenchJob(bench, timeout_s)], job_dir.parent / f".{job_dir.name}-waves",
                                   workers=1, progress=False, backend=backend, cache=cache)
        if errors:
            raise SimulationError(errors[bench.name])
        raw, source = results[bench.name].vectors, "re-simulated"
    groups = {g: [n for n in names if f"v({n})" in raw] for g, names in groups.items()}
    groups = {g: [f"v({n})" for n in names] for g, names in groups.items() if names}
    traces = {n: raw[n] for names in groups.values() for n in names}
    t0, t1 = windows[cycle]
    return waveforms(raw["time"], traces, out, window_s=(t0, t1), groups=groups,
                     title=f"{meta['name']}: cycle {cycle}, row {row}, column {col}, bit {bit} (from {source})")


def _is_current(raw: Path, deck: Path, text: str) -> bool:
    """A waveform raw file written by exactly this deck text (not by an older job)."""
    try:
        return raw.is_file() and deck.read_text() == text and raw.stat().st_mtime >= deck.stat().st_mtime
    except OSError:
        return False
