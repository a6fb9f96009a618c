"""Waveforms of one compute cycle of a finished job.

The plot reads a raw file already on disk when one holds the traces: `wave.raw` from an
earlier waveform request, or the job's own `tran.raw` (sampling runs save only the
outputs, energy runs also every source). Otherwise the same deck is re-run with all
vectors written to `wave.raw`, and the caller is told so first (it can take as long as
the job did); with resimulate=False only the saved traces are drawn.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from netlistgen.core.errors import NetlistgenError
from netlistgen.core.files import write_atomic
from netlistgen.analysis.plots import waveforms
from netlistgen.sim.rawfile import read_raw
from netlistgen.sim.runner import run_deck


def cycle_waveforms(job_dir: str | Path, cycle: int, out: str | Path, *, row: int = 0, col: int = 0,
                    bit: int = 0, timeout_s: float = 1800.0, resimulate: bool = True,
                    log: Callable[[str], None] = print) -> Path:
    """Plot GBL/output, plates, inputs and controls of `cycle` of the job in `job_dir`,
    from a saved raw file when one holds them (see the module docstring)."""
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
    rows = meta["rows"]
    wanted = {
        "GBL": [f"v(g_{col}_{bit}_{rows - 1})", f"v(out_{col}_{bit})"],
        "plates": [f"v(xsl_{row}_{col}.xc_{bit}.b1)", f"v(xsl_{row}_{col}.xc_{bit}.b2)",
                   f"v(xsl_{row}_{col}.xc_{bit}.xw)"],
        "inputs": [f"v(inp_{row})", f"v(inn_{row})"],
        "control": ["v(rst)", "v(smp)"],
    }
    wave_deck, wave_raw = job_dir / "wave.sp", job_dir / "wave.raw"
    wave_text = re.sub(r"write tran\.raw(\n\+[^\n]*)*", "write wave.raw", deck.read_text())
    if _is_current(wave_raw, wave_deck, wave_text):
        raw, source = read_raw(wave_raw), "saved wave.raw"
    elif resimulate:
        log(f"{job_dir}: tran.raw keeps only the sampled outputs and no wave.raw matches this deck: "
            f"re-simulating {deck.name} with every node saved to wave.raw ...")
        write_atomic(wave_deck, wave_text)
        run_deck(wave_deck, timeout_s=timeout_s, name=f"{meta['name']}-waves")
        raw, source = read_raw(wave_raw), "re-simulated wave.raw"
    else:
        tran = job_dir / "tran.raw"
        if not tran.is_file():
            raise NetlistgenError(f"{str(job_dir)!r} has no saved raw file (its result came from the cache): "
                                  "plot it without --saved-only to re-simulate")
        raw, source = read_raw(tran), "saved tran.raw, outputs only"
        log(f"plotting only the traces saved in {tran} (no re-simulation)")
    groups = {g: [n for n in names if n in raw] for g, names in wanted.items()}
    groups = {g: names for g, names in groups.items() if names}
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
