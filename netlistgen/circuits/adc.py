"""B-bit charge-redistribution SAR ADC: netlist generator and transient testbench decks.

Architecture (docs/adc.md): bottom-plate sampling onto a binary CDAC (bit i = 2^i unit
capacitors plus one dummy unit, so the weights sum to 2^B), top plate to VCM through a
transmission gate that opens half a step before the bottom plates leave VIN; the
bottom plates then go to VREF (trial/kept bit) or ground through transistor switches;
a transistor StrongARM latch compares the top plate with VCM. The SAR sequencer and
bit registers are XSPICE digital models (d_dff/d_and/d_or/...): the successive-
approximation state is edge-triggered memory, which behavioural B-sources cannot hold
without extra analog state, and XSPICE events cost no matrix time. Their switching
energy is therefore not in the measured energy (docs/adc.md says how large it is).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from netlistgen.core import validate
from netlistgen.core.errors import NetlistgenError
from netlistgen.circuits.netlist import Device, LOAD_PER_SWITCH_F, _device, spice_env
from netlistgen.tech.technology import Technology

MIN_BITS, MAX_BITS = 3, 10
# Fractions of one SAR step: the sampling window (top plate to VCM) of the first step is
# [SAMPLE_FROM, SAMPLE_AT]; the comparator evaluates from COMPARE_AT on (the DAC settles
# before) and its decision is captured at CAPTURE_AT. The top plate opens before the
# comparator first fires and the window closes well before the sequencer advances
# (docs/adc.md: a window gated by the comparator clock re-closed for ~60 ps at the end
# of the sampling step and corrupted the sample).
SAMPLE_FROM = 0.05
SAMPLE_AT = 0.4
COMPARE_AT = 0.5
CAPTURE_AT = 0.85
READ_AT = 0.97  # the bits are read after the last capture of a conversion
T_GATE_S = 10e-12  # XSPICE gate delay
T_EDGE_FRACTION = 0.02  # control edges as a fraction of one step
# ngspice's default reltol (1e-3) lets a node be off by ~0.6 mV at VCM; on the floating top
# plate that is 0.15 LSB at B = 8, and decisions within it came out either way depending on
# the time step (docs/adc.md, fault 5). The tolerance follows the LSB instead: 1/20 of an LSB
# decided B = 8 conversions 0.1 LSB from a transition as 1/40 did, with 12 % fewer time
# points (docs/adc.md, "B = 8 characterization time").
DEFAULT_RELTOL = 1e-3
RELTOL_LSB_FRACTION = 1 / 20  # reltol * VDD <= this fraction of an LSB
SINE_PHASE_DEG = 17.0  # sine phase at the first sample: keeps samples off a symmetric grid


@dataclass(frozen=True)
class AdcSpec:
    """One SAR ADC design point; sizes are multiples of the technology's minimum device."""

    bits: int
    rate_hz: float = 50e6  # conversions per second; one conversion = bits + 1 steps
    corner: str | None = None
    vcm_ratio: float = 0.6  # top-plate / comparator reference as a fraction of VDD
    c_unit_f: float | None = None  # None: the technology's unit capacitor
    cp_top_f: float = 0.0  # extra parasitic on the top plate
    w_in_mult: float = 8.0  # StrongARM input pair width / Wmin
    w_tail_mult: float = 8.0
    w_latch_mult: float = 4.0
    w_reset_mult: float = 2.0
    comparator_offset_v: float = 0.0  # input-referred, Monte Carlo draw
    cap_scale: tuple[float, ...] = ()  # per capacitor (bit 0..B-1, then dummy) factor; () = nominal

    def __post_init__(self) -> None:
        validate.integer(self.bits, "bits", minimum=MIN_BITS, maximum=MAX_BITS)
        validate.number(self.rate_hz, "rate_hz", minimum=1e3, maximum=5e9)
        validate.number(self.vcm_ratio, "vcm_ratio", minimum=0.2, maximum=0.8)
        if self.c_unit_f is not None:
            validate.number(self.c_unit_f, "c_unit_f", minimum=1e-17, maximum=1e-12)
        validate.number(self.cp_top_f, "cp_top_f", minimum=0.0, maximum=1e-11)
        for name in ("w_in_mult", "w_tail_mult", "w_latch_mult", "w_reset_mult"):
            validate.number(getattr(self, name), name, minimum=1.0, maximum=1000.0)
        validate.number(self.comparator_offset_v, "comparator_offset_v", minimum=-0.5, maximum=0.5)
        if self.cap_scale:
            if len(self.cap_scale) != self.bits + 1:
                raise NetlistgenError(f"invalid cap_scale: {len(self.cap_scale)} factors for {self.bits + 1} capacitors")
            for k, s in enumerate(self.cap_scale):
                validate.number(s, f"cap_scale[{k}]", minimum=0.5, maximum=1.5)
        if self.corner is not None:
            validate.identifier(self.corner, "corner")

    @property
    def step_s(self) -> float:
        """One SAR step: a conversion is `steps` of them. Rounded to whole picoseconds:
        breakpoints of periodic sources at inexact periods drift apart by rounding and
        collide (ngspice 'timestep too small' at T = 3.333 ns, measured)."""
        return max(1, round(1e12 / (self.rate_hz * self.steps))) * 1e-12

    @property
    def rate_effective_hz(self) -> float:
        """The conversion rate actually simulated (after rounding the step)."""
        return 1.0 / (self.steps * self.step_s)

    @property
    def steps(self) -> int:
        """Sample, then one trial per bit; the LSB is read at the end of the last step,
        before the next sample resets the registers."""
        return self.bits + 1


@dataclass(frozen=True)
class AdcNetlist:
    """The rendered ADC library and what built it."""

    spec: AdcSpec
    tech: Technology
    corner: str
    text: str
    c_unit_f: float
    c_total_f: float = field(default=0.0)


def _scaled(tech: Technology, model: str, mult: float) -> Device:
    return _device(tech, model, mult * tech.wmin_m, tech.lmin_m)


def _switch_mult(load_f: float) -> float:
    """Switch width factor: one minimum switch per LOAD_PER_SWITCH_F of capacitor."""
    return float(max(1, math.ceil(load_f / LOAD_PER_SWITCH_F)))


@lru_cache(maxsize=1)
def _env():
    return spice_env("templates")


def build_adc(spec: AdcSpec, tech: Technology) -> AdcNetlist:
    """Render the SAR ADC library (subcircuits `strongarm` and `sar_adc`)."""
    corner = spec.corner or tech.default_corner
    if corner not in tech.corners:
        raise NetlistgenError(f"unknown corner {corner!r} for technology {tech.name!r}: expected one of "
                              f"{', '.join(tech.corners)}")
    cu = spec.c_unit_f if spec.c_unit_f is not None else tech.c_unit_f
    scale = spec.cap_scale or (1.0,) * (spec.bits + 1)
    n_sw, p_sw = tech.w_switch_n_m / tech.wmin_m, tech.w_switch_p_m / tech.wmin_m
    caps = []
    for k in range(spec.bits + 1):
        bit = k if k < spec.bits else None
        c = cu * (2 ** k if bit is not None else 1) * scale[k]
        m = _switch_mult(c)
        caps.append({
            "name": f"b{k}" if bit is not None else "dum",
            "bit": bit,
            "c_f": validate.fmt(c),
            "sw_n": _scaled(tech, tech.nmos_model, n_sw * m),
            "sw_p": _scaled(tech, tech.pmos_model, p_sw * m),
            "ref_p": _scaled(tech, tech.pmos_model, p_sw * m),
            "gnd_n": _scaled(tech, tech.nmos_model, n_sw * m),
        })
    c_total = cu * 2 ** spec.bits
    top_m = _switch_mult(c_total)
    dev = {
        "tail": _scaled(tech, tech.nmos_model, spec.w_tail_mult),
        "inp": _scaled(tech, tech.nmos_model, spec.w_in_mult),
        "inn": _scaled(tech, tech.nmos_model, spec.w_in_mult),
        "latch_n": _scaled(tech, tech.nmos_model, spec.w_latch_mult),
        "latch_p": _scaled(tech, tech.pmos_model, spec.w_latch_mult),
        "reset_p": _scaled(tech, tech.pmos_model, spec.w_reset_mult),
        "top_n": _scaled(tech, tech.nmos_model, n_sw * top_m),
        "top_p": _scaled(tech, tech.pmos_model, p_sw * top_m),
    }
    stage_of = {i: spec.bits - i for i in range(spec.bits)}  # MSB is tried in step 1
    text = _env().get_template("sar_adc.sp.j2").render(
        title=f"{spec.bits}-bit SAR ADC, {tech.name} {corner}, Cu {cu:g} F",
        dev=dev,
        caps=caps,
        cp_top_f=validate.fmt(spec.cp_top_f) if spec.cp_top_f else "",
        c_rep_f=validate.fmt(c_total + spec.cp_top_f),
        bits=list(range(spec.bits)),
        stages=list(range(spec.steps)),
        nstages=spec.steps,
        stage_of=stage_of,
        offset_v=validate.fmt(spec.comparator_offset_v),
        vdd=validate.fmt(tech.vdd_v),
        # one threshold, no unknown band: a comparator still resolving at the capture
        # edge gives a definite (at worst 1 LSB wrong) bit; with a 0.45-0.55 VDD band it
        # gave an XSPICE unknown that half-drove that bit's switches (-4/-10 LSB, docs/adc.md)
        vth_lo=validate.fmt(0.5 * tech.vdd_v),
        vth_hi=validate.fmt(0.5 * tech.vdd_v),
        t_edge=validate.fmt(T_EDGE_FRACTION * spec.step_s),
        t_gate=validate.fmt(T_GATE_S),
    )
    return AdcNetlist(spec=spec, tech=tech, corner=corner, text=text, c_unit_f=cu, c_total_f=c_total)


# --------------------------------------------------------------------------------------
# Testbench: one deck = one input waveform over `conversions` conversions
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AdcStimulus:
    """Input waveform: a ramp (code density) or a coherent sine over `conversions`."""

    kind: str  # "ramp" | "sine"
    conversions: int
    v_lo_v: float = 0.0  # ramp: start; sine: lowest point
    v_hi_v: float = 1.0  # ramp: end; sine: highest point
    cycles: int = 0  # sine: signal periods in the record (odd, coprime with its length)
    record: int = 0  # sine: length of the whole record this deck is part of (0 = conversions)
    first: int = 0  # sine: index in that record of this deck's first conversion (the record is periodic)

    def __post_init__(self) -> None:
        if self.kind not in ("ramp", "sine"):
            raise NetlistgenError(f"unknown ADC stimulus {self.kind!r}: expected ramp or sine")
        validate.integer(self.conversions, "conversions", minimum=4, maximum=1_000_000)
        validate.number(self.v_lo_v, "v_lo_v", minimum=-10.0, maximum=10.0)
        validate.number(self.v_hi_v, "v_hi_v", minimum=-10.0, maximum=10.0)
        if not self.v_hi_v > self.v_lo_v:
            raise NetlistgenError(f"invalid input range ({self.v_lo_v:g}, {self.v_hi_v:g}) V: high must exceed low")
        if self.kind == "sine":
            n = self.record_conversions
            validate.integer(n, "record", minimum=4, maximum=1_000_000)
            validate.integer(self.first, "first", minimum=-n, maximum=n)
            validate.integer(self.cycles, "cycles", minimum=1, maximum=n // 2 - 1)
            if math.gcd(self.cycles, n) != 1:
                raise NetlistgenError(f"sine cycles {self.cycles} must be coprime with {n} conversions "
                                      "(coherent sampling)")

    @property
    def record_conversions(self) -> int:
        """Length of the whole sine record (a deck may simulate one part of it)."""
        return self.record or self.conversions


def sample_times(spec: AdcSpec, conversions: int) -> np.ndarray:
    """The instant each conversion samples (the top-plate switch opens)."""
    return (np.arange(conversions) * spec.steps + SAMPLE_AT) * spec.step_s


def read_times(spec: AdcSpec, conversions: int) -> np.ndarray:
    """When each conversion's bits are read (after its last decision)."""
    return (np.arange(conversions) * spec.steps + spec.bits + READ_AT) * spec.step_s


def conversion_windows(spec: AdcSpec, conversions: int) -> list[tuple[float, float]]:
    period = spec.steps * spec.step_s
    return [(n * period, (n + 1) * period) for n in range(conversions)]


def sim_reltol(bits: int) -> float:
    """ngspice reltol for a B-bit conversion: 1/20 of an LSB relative to VDD, never looser than
    the default (so B <= 5 decks keep ngspice's 1e-3)."""
    return min(DEFAULT_RELTOL, RELTOL_LSB_FRACTION / 2 ** bits)


def _vin_wave(spec: AdcSpec, stim: AdcStimulus, tstop: float) -> str:
    f = validate.fmt
    if stim.kind == "ramp":
        # the ramp passes v_lo at the first sampling instant and v_hi at the last
        ts = sample_times(spec, stim.conversions)
        slope = (stim.v_hi_v - stim.v_lo_v) / (ts[-1] - ts[0])
        v0 = stim.v_lo_v - slope * ts[0]
        return f"PWL(0 {f(v0)} {f(tstop)} {f(v0 + slope * tstop)})"
    fs = spec.rate_effective_hz
    fin = stim.cycles * fs / stim.record_conversions
    mid, amp = (stim.v_hi_v + stim.v_lo_v) / 2, (stim.v_hi_v - stim.v_lo_v) / 2
    # phase so that the first sampling instant is not at a zero crossing of a symmetric grid;
    # a later part of the record starts where the earlier parts left off
    delay = sample_times(spec, 1)[0]
    phase = (SINE_PHASE_DEG + 360.0 * stim.cycles * stim.first / stim.record_conversions) % 360.0
    return f"SIN({f(mid)} {f(amp)} {f(fin)} {f(delay)} 0 {f(phase)})"


def _clocks(spec: AdcSpec) -> dict[str, tuple[float, float]]:
    """(delay, width) of each periodic control pulse (period = one step, edges T_EDGE_FRACTION)."""
    T = spec.step_s
    edge = T_EDGE_FRACTION * T
    return {
        "seq": (T, 0.25 * T),
        "smp": (SAMPLE_FROM * T, (SAMPLE_AT - SAMPLE_FROM) * T - 1.5 * edge),
        "cmp": (COMPARE_AT * T, (1 - COMPARE_AT) * T - 2 * edge),
        "cap": (CAPTURE_AT * T, 0.05 * T),
    }


def _init_corners_s(spec: AdcSpec) -> tuple[float, float, float]:
    T = spec.step_s
    return 0.0, 0.3 * T, 0.3 * T + T_EDGE_FRACTION * T


def deck_breakpoints_s(spec: AdcSpec, stim: AdcStimulus) -> np.ndarray:
    """Every corner of the deck's PULSE and PWL sources up to tstop: where ngspice places a
    time point and restarts its integrator (sim.energy.restart_steps, the energy corner rule)."""
    T = spec.step_s
    tstop = stim.conversions * spec.steps * T
    edge = T_EDGE_FRACTION * T
    f = validate.fmt  # the corners of the numbers the deck holds
    n = np.arange(stim.conversions * spec.steps + 1)[:, None] * float(f(T))
    corners = [np.array([float(f(x)) for x in _init_corners_s(spec)]), np.array([0.0, tstop])]
    for delay, width in _clocks(spec).values():
        d, e, w = float(f(delay)), float(f(edge)), float(f(width))
        corners.append((n + np.array([d, d + e, d + e + w, d + 2 * e + w])).ravel())
    t = np.unique(np.concatenate(corners))
    return t[t <= tstop * (1 + 1e-12)]


def adc_deck(nl: AdcNetlist, library: str, stim: AdcStimulus, raw_name: str = "adc.raw",
             points_per_step: int = 20) -> str:
    """The transient deck of one stimulus; the time step is at most one SAR step / `points_per_step`."""
    spec, tech = nl.spec, nl.tech
    T = spec.step_s
    tstop = stim.conversions * spec.steps * T
    edge = T_EDGE_FRACTION * T
    f = validate.fmt
    clocks = {k: {"delay": f(d), "width": f(w)} for k, (d, w) in _clocks(spec).items()}
    _, init_off, init_low = _init_corners_s(spec)
    return _env().get_template("adc_tran.sp.j2").render(
        title=f"{spec.bits}-bit SAR ADC {stim.kind} test, {stim.conversions} conversions at {spec.rate_hz:g} S/s",
        model_lines=tech.model_statements(nl.corner),
        library=validate.spice_path(library, "ADC library"),
        options="noopiter" + (f" reltol={f(sim_reltol(spec.bits))}" if sim_reltol(spec.bits) < DEFAULT_RELTOL else ""),
        vdd=f(tech.vdd_v),
        vref=f(tech.vdd_v),
        vcm=f(spec.vcm_ratio * tech.vdd_v),
        vin_wave=_vin_wave(spec, stim, tstop),
        edge=f(edge),
        period=f(T),
        **clocks,
        init_off=f(init_off),
        init_low=f(init_low),
        bits=list(range(spec.bits)),
        tstep=f(T / (2.5 * points_per_step)),
        tstop=f(tstop),
        tmax=f(T / points_per_step),
        raw_name=raw_name,
    )
