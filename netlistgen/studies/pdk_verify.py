"""Check a technology's flattened cards against its full library in ngspice.

`netlistgen pdk verify sky130 --corner tt` builds the same small transistor-fidelity array
twice, once on flattened cards (tech/flatten.py) and once on the PDK's own library
(`.lib ... <corner>`, devices as subcircuits), runs the same transient in ngspice and
compares every sampled GBL voltage. With a mismatch corner the per-instance draws differ
between the two decks, so `verify` compares the nominal corner only.

Both decks run at VERIFY_MAX_STEP_S, not the technology's sampling step: verify checks the
cards, and at a coarse step each deck's own time-step error, which differs per deck, hides
them. sky130 2x1 with rbodymod=0, rsh=0 in the flat cards: 15 uV at 250 ps, 1.4-5.3 uV over
the five corners at 100 ps, 0.35-1.7 uV at 20 ps (docs/sky130.md, stop 22).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from netlistgen.core import validate
from netlistgen.core.errors import NetlistgenError

TOLERANCE_V = 5e-6  # issue 11: flattened decks sample within 5 uV of the full library
VERIFY_MAX_STEP_S = 2e-11  # fine enough that the decks' step errors do not mask the cards


@dataclass(frozen=True)
class VerifyResult:
    technology: str
    corner: str
    rows: int
    cols: int
    cycles: int
    max_step_s: float
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
                f"{self.cycles} cycles, {self.max_step_s * 1e12:g} ps max step: max |V_flat - V_full| = "
                f"{self.max_abs_dv_v * 1e6:.3f} uV over {self.samples} samples "
                f"(tolerance {self.tolerance_v * 1e6:g} uV; ngspice {t})")


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
            job = Job(f"verify-{mode}", nl, random_stimulus(nl, cycles, 1), max_step_s=VERIFY_MAX_STEP_S)
            res = run_job(job, root / mode)
            samples[mode], seconds[mode] = res.v_sample_v, res.seconds
    dv = float(np.max(np.abs(samples["flat"] - samples["full"])))
    return VerifyResult(tech.name, corner, rows, cols, cycles, VERIFY_MAX_STEP_S, dv, int(samples["flat"].size),
                        seconds, tolerance_v)


# ---------------------------------------------------------------------------------------
# Per-instance threshold voltages in a mismatch corner (flat cards vs the PDK subcircuits)
# ---------------------------------------------------------------------------------------

MAX_VTH_DEVICES = 4000  # one op deck; the subcircuit decks cost ~MBs per instance


def vth_deck(technology: str, corner: str, *, pmos: bool, n: int, models: str, seed: int) -> str:
    """An op-point deck of `n` switch transistors (the array's unit switch size, instance
    lines as the netlist writes them) at |Vgs| = |Vds| = VDD/2, printing each one's `vth`.
    `models` = flat (M elements on flattened cards) or full/trimmed (PDK subcircuits)."""
    from netlistgen.circuits.netlist import FlatDevices, _device
    from netlistgen.tech.technology import load_technology

    tech = load_technology(technology).with_models(models)
    corner = tech._check_corner(corner)
    n = validate.integer(n, "devices", minimum=2, maximum=MAX_VTH_DEVICES)
    seed = validate.integer(seed, "seed", minimum=0, maximum=2**31 - 1)
    flat = FlatDevices(tech, corner) if models == "flat" else None
    model = tech.pmos_model if pmos else tech.nmos_model
    dev = _device(tech, model, tech.w_switch_p_m if pmos else tech.w_switch_n_m, tech.l_m, flat=flat)
    bias = validate.fmt((-0.5 if pmos else 0.5) * tech.vdd_v)
    lines = [f"* per-instance VT of {n} {model} ({models} models, corner {corner})", f".options seed={seed}",
             *(flat.model_lines() if flat is not None else tech.model_statements(corner, fast=models == "trimmed")),
             f"vd d 0 {bias}", f"vg g 0 {bias}"]
    lines += [f"{dev.prefix}{i} d g 0 0 {dev.model} {dev.params}" for i in range(n)]
    inner = "" if flat is not None else f".m{model}"
    probes = [f"@m{'.x' if flat is None else ''}{i}{inner}[vth]" for i in range(n)]
    lines += [".control", "op", *(f"print {p}" for p in probes), "quit 0", ".endc", ".end"]
    return "\n".join(lines) + "\n"


def device_vth(technology: str, corner: str, *, pmos: bool, n: int, models: str, seed: int,
               workdir: str | Path) -> np.ndarray:
    """|VT| of each of `n` instances (V), from one ngspice op run of `vth_deck`."""
    import re

    from netlistgen.circuits.testbench import spiceinit_text
    from netlistgen.core.files import write_atomic
    from netlistgen.sim.runner import run_deck
    from netlistgen.tech.technology import load_technology

    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    write_atomic(workdir / ".spiceinit", spiceinit_text(load_technology(technology)))
    deck = workdir / "vth.sp"
    write_atomic(deck, vth_deck(technology, corner, pmos=pmos, n=n, models=models, seed=seed))
    res = run_deck(deck, timeout_s=1800.0)
    vals = [float(x) for x in re.findall(r"\[vth\] = ([-+0-9.eE]+)", res.stdout)]
    if len(vals) != n:
        raise NetlistgenError(f"vth deck {str(deck)!r}: {len(vals)} of {n} device thresholds printed")
    return np.abs(np.array(vals))
