"""Mismatch (Monte Carlo) and injected noise: the parameters and the SPICE expressions.

Mismatch. Every sampled quantity is drawn by ngspice itself, per instance, with
`agauss` in the instance line of a subcircuit (each flattened instance evaluates its own
expression, so one `.subckt` gives every instance its own draw) and `.options seed=N`
in the library, so one seed reproduces one sample exactly. Python computes every sigma:

- capacitors (every C1, C2, LCC unit cap and the sample/hold cap): Pelgrom area law,
  sigma(C)/C = mismatch_sigma_rel_1f / sqrt(C / 1 fF) from the technology descriptor;
- threshold voltage of every MOS, where the technology takes instance `delvto`
  (primitive models, e.g. ptm45): sigma(VT) = A_VT / sqrt(2 W L), A_VT in the pair
  convention of the descriptor (`avt_v_m` nmos, `avt_p_v_m` pmos);
- technologies whose devices are subcircuits (sky130) ignore instance parameters, so
  their devices take the PDK's own mismatch corner instead (tt -> tt_mm): the PDK draws
  per-instance VT/mobility/... variations inside each device subcircuit with the same
  seed. The PDK decides those sigmas; `vt_scale` cannot change them.

Noise. ngspice's transient analysis has no device noise. The noise that matters for a
sampled charge-domain column is the thermal noise of the GBL reset switch frozen on the
GBL when it opens: kT/C_total per GBL, independent of the switch resistance. It is
injected as a sampled charge: each GBL's reset switch returns to its own reference
`VCM + v_n[c]` (a PWL source), a fresh Gaussian `v_n` with sigma sqrt(kT/C_total) per
cycle, so the GBL is released holding exactly the kT/C charge. Why not `trnoise` on the
switch: it costs ~20x simulation time (10 ps noise steps, SPEC section 7) and its
filtered variance reaches kT/C only if the noise density matches the switch's actual
(nonlinear) on-resistance; the sampled charge is exact, free and seeded. C_total comes
from the circuit (an AC analysis of the netlist: `montecarlo.gbl_capacitance_f`), not
from a formula.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from netlistgen.core import validate
from netlistgen.core.errors import NetlistgenError

K_BOLTZMANN_J_PER_K = 1.380649e-23
MAX_SEED = 2**31 - 1  # ngspice reads the seed as a C int
MAX_SCALE = 100.0


@dataclass(frozen=True)
class Mismatch:
    """One Monte Carlo sample: its seed and which mismatch is on (scales multiply the
    technology's sigmas; 0 < scale <= 100)."""

    seed: int
    vt: bool = True
    cap: bool = True
    vt_scale: float = 1.0
    cap_scale: float = 1.0

    def __post_init__(self) -> None:
        validate.integer(self.seed, "mismatch seed", minimum=0, maximum=MAX_SEED)
        for name in ("vt", "cap"):
            if not isinstance(getattr(self, name), bool):
                raise NetlistgenError(f"invalid mismatch {name} {getattr(self, name)!r}: expected true or false")
        for name in ("vt_scale", "cap_scale"):
            validate.number(getattr(self, name), f"mismatch {name}", minimum=0.0, exclusive_minimum=True,
                            maximum=MAX_SCALE)
        if not (self.vt or self.cap):
            raise NetlistgenError("mismatch with vt and cap both off varies nothing: leave mismatch off instead")

    @classmethod
    def from_options(cls, seed: object, options: dict | None = None) -> "Mismatch":
        """From a seed and a config mapping {vt, cap, vt_scale, cap_scale} (keys checked)."""
        options = dict(options or {})
        allowed = {"vt", "cap", "vt_scale", "cap_scale"}
        unknown = sorted(set(options) - allowed)
        if unknown:
            raise NetlistgenError(f"unknown mismatch option {unknown[0]!r}; known: {', '.join(sorted(allowed))}")
        for name in ("vt_scale", "cap_scale"):
            if name in options:
                options[name] = validate.number(options[name], f"mismatch {name}")
        return cls(seed=validate.integer(seed, "mismatch seed", minimum=0, maximum=MAX_SEED), **options)


def cap_sigma_rel(sigma_rel_1f: float, c_f: float, scale: float = 1.0) -> float:
    """sigma(C)/C of one capacitor of c_f farads (Pelgrom: 1/sqrt(area), area ~ C)."""
    return scale * sigma_rel_1f / math.sqrt(c_f / 1e-15)


def vt_sigma_v(avt_pair_v_m: float, w_m: float, l_m: float, scale: float = 1.0) -> float:
    """sigma(VT) of one device; A_VT in the pair convention (sigma of a difference)."""
    return scale * avt_pair_v_m / math.sqrt(2.0 * w_m * l_m)


def gaussian_value(nominal: float | str, sigma_rel: float) -> str:
    """SPICE value drawn per instance: nominal * (1 + N(0, sigma_rel)); `nominal` is a number
    or the generator's own expression of it (a `.param` reference such as c_unit_f*4)."""
    nom = nominal if isinstance(nominal, str) else validate.fmt(nominal)
    return f"{{{nom}*(1+agauss(0,{validate.fmt(sigma_rel)},1))}}"


def delvto_param(sigma_v: float) -> str:
    """Instance parameter drawing a VT shift per instance."""
    return f"delvto={{agauss(0,{validate.fmt(sigma_v)},1)}}"


@dataclass(frozen=True)
class Variation:
    """A Mismatch resolved for one technology and corner: what the netlist writes."""

    mismatch: Mismatch
    corner: str  # corner the models load (a *_mm corner for subcircuit devices)
    vt_method: str  # "delvto", "pdk-corner" or "off"
    cap_sigma_rel_1f: float
    avt_n_v_m: float
    avt_p_v_m: float

    @property
    def seed_line(self) -> str:
        return f".options seed={self.mismatch.seed}"

    def cap(self, c_f: float, nominal: str = "") -> str:
        """The capacitor's value: a per-instance draw around `nominal` (an expression of the
        library's `.param`s, else the number), or the plain nominal when cap is off."""
        if not self.mismatch.cap or self.cap_sigma_rel_1f == 0:
            return f"{{{nominal}}}" if nominal else validate.fmt(c_f)
        return gaussian_value(nominal or c_f, cap_sigma_rel(self.cap_sigma_rel_1f, c_f, self.mismatch.cap_scale))

    def device_suffix(self, pmos: bool, w_m: float, l_m: float) -> str:
        """Extra instance parameter of one MOS ('' unless VT goes through delvto)."""
        if self.vt_method != "delvto":
            return ""
        avt = self.avt_p_v_m if pmos else self.avt_n_v_m
        if avt == 0:
            return ""
        return " " + delvto_param(vt_sigma_v(avt, w_m, l_m, self.mismatch.vt_scale))

    def manifest(self, cap_values_f: dict[str, float], device_sizes_m: dict[str, tuple[bool, float, float]]) -> dict:
        """Seed, method and every sigma used (per capacitor and per device role)."""
        m = self.mismatch
        caps = {name: (cap_sigma_rel(self.cap_sigma_rel_1f, c, m.cap_scale) if m.cap else 0.0)
                for name, c in cap_values_f.items()}
        vts = {}
        if self.vt_method == "delvto":
            vts = {name: vt_sigma_v(self.avt_p_v_m if p else self.avt_n_v_m, w, l_, m.vt_scale)
                   for name, (p, w, l_) in device_sizes_m.items()}
        return {
            "seed": m.seed,
            "vt": m.vt,
            "cap": m.cap,
            "vt_scale": m.vt_scale,
            "cap_scale": m.cap_scale,
            "vt_method": self.vt_method,
            "corner": self.corner,
            "cap_sigma_rel": caps,
            "vt_sigma_v": vts,
            "draws": "per instance, ngspice agauss with .options seed (see netlistgen/variation.py)",
        }


def resolve(mismatch: Mismatch, tech, corner: str) -> Variation:
    """How `tech` realises `mismatch` at `corner` (errors if VT mismatch is impossible)."""
    method, model_corner = "off", corner
    if mismatch.vt:
        if tech.supports_delvto:
            method = "delvto"
        elif corner in tech.mismatch_corners:
            method = "pdk-corner"
        elif f"{corner}_mm" in tech.mismatch_corners:
            method, model_corner = "pdk-corner", f"{corner}_mm"
        else:
            raise NetlistgenError(
                f"technology {tech.name!r} corner {corner!r} cannot vary VT per instance (no instance delvto and "
                f"no {corner}_mm corner): set mismatch vt=false"
            )
        if method == "pdk-corner" and mismatch.vt_scale != 1.0:
            raise NetlistgenError(
                f"invalid mismatch vt_scale {mismatch.vt_scale!r}: {tech.name} takes VT mismatch from its PDK corner "
                f"{model_corner!r}, whose sigmas cannot be scaled"
            )
    elif corner in tech.mismatch_corners:
        raise NetlistgenError(f"corner {corner!r} varies devices per instance: it needs mismatch vt=true")
    return Variation(mismatch, model_corner, method, tech.c_mismatch_sigma_rel_1f, tech.avt_v_m, tech.avt_p_v_m)


@dataclass(frozen=True)
class Noise:
    """Injected kT/C noise of the GBL reset at `temperature_k`, drawn with `seed`."""

    seed: int
    temperature_k: float = 300.0

    def __post_init__(self) -> None:
        validate.integer(self.seed, "noise seed", minimum=0, maximum=2**63 - 1)
        validate.number(self.temperature_k, "temperature_k", minimum=0.0, exclusive_minimum=True, maximum=1000.0)


def ktc_sigma_v(temperature_k: float, c_total_f: float | np.ndarray) -> np.ndarray:
    """sqrt(k T / C): rms voltage a capacitor keeps when a switch to a reference opens."""
    c = np.asarray(c_total_f, dtype=float)
    if not np.all(np.isfinite(c)) or np.any(c <= 0):
        raise NetlistgenError(f"invalid C_total {c_total_f!r}: capacitances must be positive")
    return np.sqrt(K_BOLTZMANN_J_PER_K * temperature_k / c)


@dataclass(frozen=True)
class ResetNoise:
    """Noise of one job, ready for the testbench: seed and sigma per GBL (bit column order)."""

    seed: int
    sigma_v: tuple[float, ...]

    def __post_init__(self) -> None:
        validate.integer(self.seed, "noise seed", minimum=0, maximum=2**63 - 1)
        for s in self.sigma_v:
            validate.number(s, "noise sigma_v", minimum=0.0, maximum=1.0)

    @classmethod
    def ktc(cls, noise: Noise, c_total_f) -> "ResetNoise":
        return cls(noise.seed, tuple(float(s) for s in ktc_sigma_v(noise.temperature_k, c_total_f)))

    def offsets_v(self, cycles: int) -> np.ndarray:
        """(cycles, GBLs) voltages the reset references take, cycle by cycle."""
        z = np.random.default_rng(self.seed).standard_normal((cycles, len(self.sigma_v)))
        return z * np.asarray(self.sigma_v)[None, :]
