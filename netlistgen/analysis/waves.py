"""Waveforms of one compute cycle: re-run a finished job's deck saving every node.

Sampling runs save only the outputs (small raw files); a waveform request re-simulates
the same deck with all vectors written to `wave.raw` beside it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from netlistgen.core.errors import NetlistgenError
from netlistgen.core.files import write_atomic
from netlistgen.analysis.plots import waveforms
from netlistgen.sim.rawfile import read_raw
from netlistgen.sim.runner import run_deck


def cycle_waveforms(job_dir: str | Path, cycle: int, out: str | Path, *, row: int = 0, col: int = 0,
                    bit: int = 0, timeout_s: float = 1800.0) -> Path:
    """Plot GBL/output, plates, inputs and controls of `cycle` of the job in `job_dir`."""
    job_dir = Path(job_dir)
    meta_path, deck = job_dir / "job.json", job_dir / "tran.sp"
    if not meta_path.is_file() or not deck.is_file():
        raise NetlistgenError(f"{str(job_dir)!r} is not a finished job directory (needs job.json and tran.sp)")
    meta = json.loads(meta_path.read_text())
    windows = meta["windows_s"]
    if not 0 <= cycle < len(windows):
        raise NetlistgenError(f"cycle {cycle} out of range: the job has {len(windows)} cycles")
    for what, value, limit in (("row", row, meta["rows"]), ("col", col, meta["cols"]), ("bit", bit, meta["n_bits"])):
        if not 0 <= value < limit:
            raise NetlistgenError(f"{what} {value} out of range 0..{limit - 1}")
    wave_raw = job_dir / "wave.raw"
    if not wave_raw.is_file() or wave_raw.stat().st_mtime < deck.stat().st_mtime:
        text = re.sub(r"write tran\.raw(\n\+[^\n]*)*", "write wave.raw", deck.read_text())
        wave_deck = job_dir / "wave.sp"
        write_atomic(wave_deck, text)
        run_deck(wave_deck, timeout_s=timeout_s, name=f"{meta['name']}-waves")
    raw = read_raw(wave_raw)
    rows = meta["rows"]
    wanted = {
        "GBL": [f"v(g_{col}_{bit}_{rows - 1})", f"v(out_{col}_{bit})"],
        "plates": [f"v(xsl_{row}_{col}.xc_{bit}.b1)", f"v(xsl_{row}_{col}.xc_{bit}.b2)",
                   f"v(xsl_{row}_{col}.xc_{bit}.xw)"],
        "inputs": [f"v(inp_{row})", f"v(inn_{row})"],
        "control": ["v(rst)", "v(smp)"],
    }
    groups = {g: [n for n in names if n in raw] for g, names in wanted.items()}
    groups = {g: names for g, names in groups.items() if names}
    traces = {n: raw[n] for names in groups.values() for n in names}
    t0, t1 = windows[cycle]
    return waveforms(raw["time"], traces, out, window_s=(t0, t1), groups=groups,
                     title=f"{meta['name']}: cycle {cycle}, row {row}, column {col}, bit {bit}")
