"""Check a technology's flattened cards against its full library in ngspice.

`netlistgen pdk verify sky130 --corner tt` builds the same small transistor-fidelity array
twice, once on flattened cards (tech/flatten.py) and once on the PDK's own library
(`.lib ... <corner>`, devices as subcircuits), runs the same transient in ngspice and
compares every sampled GBL voltage. With a mismatch corner the per-instance draws differ
between the two decks, so `verify` compares the nominal corner only.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from netlistgen.core import validate
from netlistgen.core.errors import NetlistgenError

TOLERANCE_V = 5e-6  # issue 11: flattened decks sample within 5 uV of the full library


@dataclass(frozen=True)
class VerifyResult:
    technology: str
    corner: str
    rows: int
    cols: int
    cycles: int
    max_abs_dv_v: float
    samples: int
    seconds: dict[str, float]
    tolerance_v: float

    @property
    def ok(self) -> bool:
        return self.max_abs_dv_v <= self.tolerance_v

    def line(self) -> str:
        t = ", ".join(f"{k} {v:.1f} s" for k, v in self.seconds.items())
        return (f"{'PASS' if self.ok else 'FAIL'}: {self.technology}/{self.corner} {self.rows}x{self.cols} transistor, "
                f"{self.cycles} cycles: max |V_flat - V_full| = {self.max_abs_dv_v * 1e6:.3f} uV over {self.samples} "
                f"samples (tolerance {self.tolerance_v * 1e6:g} uV; ngspice {t})")


def verify_flat(technology: str, corner: str | None = None, *, rows: int = 2, cols: int = 1, cycles: int = 2,
                tolerance_v: float = TOLERANCE_V, workdir: str | Path | None = None) -> VerifyResult:
    """Sampled voltages of a small array on flattened cards vs the full library."""
    from netlistgen.circuits.generate import GenerateOptions, build
    from netlistgen.circuits.testbench import random_stimulus
    from netlistgen.sim.simulate import Job, run_job
    from netlistgen.tech.technology import load_technology

    tech = load_technology(technology)
    tech.with_models("flat")  # errors early, naming the technology, when it cannot be flattened
    corner = tech._check_corner(corner)
    if corner in tech.mismatch_corners:
        raise NetlistgenError(f"invalid corner {corner!r} for pdk verify: mismatch corners draw differently per deck; "
                              f"verify a nominal corner ({', '.join(tech.corners)})")
    rows = validate.integer(rows, "rows", minimum=1, maximum=64)
    cols = validate.integer(cols, "cols", minimum=1, maximum=8)
    cycles = validate.integer(cycles, "cycles", minimum=1, maximum=16)
    tolerance_v = validate.number(tolerance_v, "tolerance-v", minimum=0.0)
    samples, seconds = {}, {}
    with tempfile.TemporaryDirectory(prefix="netlistgen-verify-") as tmp:
        root = Path(workdir) if workdir is not None else Path(tmp)
        for mode in ("flat", "full"):
            nl = build(GenerateOptions(technology=technology, corner=corner, models=mode, rows=rows, cols=cols,
                                       fidelity="transistor"))
            res = run_job(Job(f"verify-{mode}", nl, random_stimulus(nl, cycles, 1)), root / mode)
            samples[mode], seconds[mode] = res.v_sample_v, res.seconds
    dv = float(np.max(np.abs(samples["flat"] - samples["full"])))
    return VerifyResult(tech.name, corner, rows, cols, cycles, dv, int(samples["flat"].size), seconds, tolerance_v)
