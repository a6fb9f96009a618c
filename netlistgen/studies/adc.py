"""SAR ADC characterization: ramp (code density) and coherent-sine tests in ngspice,
energy per conversion, FOMs, a Monte Carlo of comparator offset and CDAC mismatch,
and the `spice` record of the macro model's ADC registry."""

from __future__ import annotations

import dataclasses
import hashlib
import math
import tempfile
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path

import numpy as np

from netlistgen.analysis import adc as metrics
from netlistgen.analysis import macro
from netlistgen.circuits.adc import (
    SINE_PHASE_DEG, AdcNetlist, AdcSpec, AdcStimulus, adc_deck, build_adc, conversion_windows, deck_breakpoints_s,
    read_times, sample_times,
)
from netlistgen.circuits.testbench import spiceinit_text
from netlistgen.core import validate
from netlistgen.core.errors import NetlistgenError
from netlistgen.core.files import write_atomic
from netlistgen.sim.backends import get_backend
from netlistgen.sim.cache import ResultCache, job_key
from netlistgen.sim.energy import ENERGY_BOOKKEEPING, WARMUP_CYCLES, energy_per_cycle
from netlistgen.sim.rawfile import read_raw
from netlistgen.sim.runner import run_deck
from netlistgen.tech.technology import Technology, as_technology, list_technologies, load_technology

HEADLINE_SOURCES = ("vvdd", "vref", "vcm")  # the input (GBL) source is reported beside them
RAMP_OVERRANGE_LSB = 1.0  # the ramp starts/ends this far beyond the first/last transition
# Each deck first converts the sample before its share of the test and drops it: a deck's
# first conversion starts from the DC operating point, not from a previous conversion, and
# came out one code off (sine sample 21 of 32, B = 4, when it began a deck; docs/adc.md).
# It is also the energy warm-up (sim.energy.WARMUP_CYCLES).
LEAD_IN = WARMUP_CYCLES


@dataclasses.dataclass(frozen=True)
class AdcTest:
    """How much to simulate: hits per code of the ramp, sine record length and cycles.

    The default sine (320 conversions, 37 cycles, 0.98 of full scale) is long enough that
    an ideal quantizer reaches B - 0.04 ENOB or better for B = 4..8, also with its input
    shifted by up to 0.1 LSB (docs/adc.md): a 64-point record gave 7.95 at B = 8 but 5.67
    at B = 6, so short records cannot judge an ENOB goal within 0.5 bit."""

    hits_per_code: int = 4
    sine_conversions: int = 320
    sine_cycles: int = 37
    sine_amplitude_fs: float = 0.98  # peak-to-peak as a fraction of full scale
    points_per_step: int = 20  # largest time step = one SAR step / this
    ramp_chunks: int = 1  # the ramp split into this many decks (run in parallel)
    sine_chunks: int = 1  # the sine record split into this many decks (each continues the phase)

    def __post_init__(self) -> None:
        validate.integer(self.hits_per_code, "hits_per_code", minimum=1, maximum=1000)
        validate.integer(self.points_per_step, "points_per_step", minimum=4, maximum=1000)
        validate.integer(self.ramp_chunks, "ramp_chunks", minimum=1, maximum=64)
        validate.integer(self.sine_chunks, "sine_chunks", minimum=1, maximum=64)
        validate.integer(self.sine_conversions, "sine_conversions", minimum=16, maximum=65536)
        validate.number(self.sine_amplitude_fs, "sine_amplitude_fs", minimum=0.1, maximum=1.0)


# The cached result holds extracted numbers, so the key names the extraction too: results
# cached before the energy rule took the clock corners (energy.restart_steps) are not reused.
EXTRACTION_VERSION = "adc-extract-2"


def _cache_key(job: str) -> str:
    return hashlib.sha256(f"{job}:{EXTRACTION_VERSION}".encode()).hexdigest()


def _simulate(nl: AdcNetlist, stim: AdcStimulus, workdir: Path, cache: ResultCache | None,
              timeout_s: float = 3600.0, points_per_step: int = 20) -> dict:
    """Run one stimulus (or read it from the result cache): codes, sampled input, energy."""
    spec = nl.spec
    workdir.mkdir(parents=True, exist_ok=True)
    library = workdir / "adc.sp"
    write_atomic(library, nl.text)
    spiceinit = spiceinit_text(nl.tech)
    write_atomic(workdir / ".spiceinit", spiceinit)
    deck = adc_deck(nl, str(library), stim, points_per_step=points_per_step)
    write_atomic(workdir / "tb.sp", deck)
    key = None
    if cache is not None:  # the engine's identity (version, binary) as for every other cached run
        engine = f"subprocess {get_backend('subprocess').identity()}"
        key = _cache_key(job_key(deck=deck, library=nl.text, spiceinit=spiceinit, workdir=workdir, backend=engine))
        hit = cache.get(key)
        if hit is not None:
            return {**hit, "cached": True}
    run = run_deck(workdir / "tb.sp", name=f"adc-{stim.kind}-b{spec.bits}", timeout_s=timeout_s)
    raw = read_raw(workdir / "adc.raw")
    t = raw["time"]
    half = nl.tech.vdd_v / 2
    codes = np.zeros(stim.conversions, dtype=int)
    for i in range(spec.bits):
        codes += (np.interp(read_times(spec, stim.conversions), t, raw[f"v(d{i})"]) > half).astype(int) << i
    v_in = np.interp(sample_times(spec, stim.conversions), t, raw["v(vin)"])
    volts = {"vvdd": nl.tech.vdd_v, "vref": nl.tech.vdd_v, "vcm": spec.vcm_ratio * nl.tech.vdd_v}
    sources = {name: (np.full_like(t, v), raw[f"i({name})"]) for name, v in volts.items()}
    sources["vin"] = (raw["v(vin)"], raw["i(vin)"])
    energy = energy_per_cycle(t, sources, conversion_windows(spec, stim.conversions),
                              breakpoints_s=deck_breakpoints_s(spec, stim))
    out = {
        "codes": codes,
        "v_in_v": v_in,
        "energy_per_source_j": {k: v for k, v in energy["per_source_delivered_j"].items()},
        "seconds": np.float64(run.seconds),
    }
    if cache is not None:
        cache.put(key, out)
    return {**out, "cached": False}


def _ramp(spec: AdcSpec, tech: Technology, test: AdcTest) -> list[AdcStimulus]:
    """The code-density ramp from -1 LSB to full scale, cut into `test.ramp_chunks`
    consecutive decks (each a ramp through its own share of the sampled voltages)."""
    lsb = tech.vdd_v / 2 ** spec.bits
    n = test.hits_per_code * (2 ** spec.bits + 2 * int(RAMP_OVERRANGE_LSB))
    v = np.linspace(-RAMP_OVERRANGE_LSB * lsb, tech.vdd_v + (RAMP_OVERRANGE_LSB - 1) * lsb, n)
    cuts = np.linspace(0, n, min(test.ramp_chunks, n // 4) + 1).round().astype(int)
    dv = v[1] - v[0]
    return [AdcStimulus("ramp", int(b - a) + LEAD_IN, float(v[a] - LEAD_IN * dv), float(v[b - 1]))
            for a, b in zip(cuts[:-1], cuts[1:])]


def _sine(spec: AdcSpec, tech: Technology, test: AdcTest) -> list[AdcStimulus]:
    """The coherent sine record (periodic), cut into `test.sine_chunks` consecutive decks, each
    led in by the record's sample before its first."""
    half = tech.vdd_v * (1 - test.sine_amplitude_fs) / 2
    n = test.sine_conversions
    cuts = np.linspace(0, n, min(test.sine_chunks, n // 8) + 1).round().astype(int)
    return [AdcStimulus("sine", int(b - a) + LEAD_IN, half, tech.vdd_v - half, cycles=test.sine_cycles, record=n,
                        first=int(a) - LEAD_IN)
            for a, b in zip(cuts[:-1], cuts[1:])]


def _joined(parts: list[dict]) -> dict:
    """One test's result from its consecutive decks, each deck's lead-in conversion dropped:
    codes and inputs in record order, per-source energy per conversion."""
    out = {"codes": np.concatenate([p["codes"][LEAD_IN:] for p in parts]),
           "v_in_v": np.concatenate([p["v_in_v"][LEAD_IN:] for p in parts]),
           "seconds": sum(float(p["seconds"]) for p in parts),
           "cached": all(bool(p["cached"]) for p in parts)}
    out["steady_energy_per_source_j"] = {
        k: np.concatenate([np.asarray(p["energy_per_source_j"][k])[LEAD_IN:] for p in parts])
        for k in parts[0]["energy_per_source_j"]}
    return out


def ideal_sine_enob(bits: int, test: AdcTest, shift_lsb: float = 0.0) -> float:
    """ENOB of an ideal B-bit quantizer on the test's own sine samples (optionally shifted
    by `shift_lsb`): the most the sine test can report, set by its record, not the circuit."""
    k = np.arange(test.sine_conversions)
    phase = 2 * np.pi * test.sine_cycles * k / test.sine_conversions + np.deg2rad(SINE_PHASE_DEG)
    x_fs = 0.5 + 0.5 * test.sine_amplitude_fs * np.sin(phase)
    codes = np.clip(np.floor(x_fs * 2 ** bits + shift_lsb), 0, 2 ** bits - 1)
    return metrics.sine_sndr(codes, test.sine_cycles)["enob"]


def steady_energy_j(per_source: dict) -> tuple[float, dict]:
    """(headline energy per conversion, per-source means) of steady conversions (warm-ups dropped)."""
    means = {k: float(np.mean(np.asarray(v))) for k, v in per_source.items()}
    return sum(means[k] for k in HEADLINE_SOURCES), means


def characterize(spec: AdcSpec, tech: str | Technology, *, test: AdcTest = AdcTest(), workdir: str | Path | None = None,
                 cache: ResultCache | None = None, ramp: bool = True, workers: int = 2,
                 timeout_s: float = 3600.0) -> dict:
    """Simulate the ramp and sine tests (in parallel) and extract every metric."""
    tech = as_technology(tech)
    nl = build_adc(spec, tech)
    base = Path(workdir) if workdir is not None else Path(tempfile.mkdtemp(prefix="netlistgen-adc-"))
    parts = {"sine": _sine(spec, tech, test)}
    if ramp:
        parts["ramp"] = _ramp(spec, tech, test)
    stims = {f"{name}{k}": s for name, decks in parts.items() for k, s in enumerate(decks)}
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(stims)))) as pool:
        # longest decks first, so the workers finish together
        futs = {k: pool.submit(_simulate, nl, s, base / k, cache, timeout_s, test.points_per_step)
                for k, s in sorted(stims.items(), key=lambda kv: -kv[1].conversions)}
        done = {k: f.result() for k, f in futs.items()}
    runs = {name: _joined([done[f"{name}{k}"] for k in range(len(decks))]) for name, decks in parts.items()}
    sine = metrics.sine_sndr(runs["sine"]["codes"], test.sine_cycles)
    e_conv, per_source = steady_energy_j(runs["sine"]["steady_energy_per_source_j"])
    result = {
        "technology": tech.name,
        "corner": nl.corner,
        "bits": spec.bits,
        "rate_hz": spec.rate_effective_hz,
        "rate_requested_hz": spec.rate_hz,
        "c_unit_f": nl.c_unit_f,
        "c_total_f": nl.c_total_f,
        "vdd_v": tech.vdd_v,
        "sndr_db": sine["sndr_db"],
        "enob": sine["enob"],
        "ideal_enob": ideal_sine_enob(spec.bits, test),
        "sfdr_db": sine["sfdr_db"],
        "energy_per_conversion_j": e_conv,
        "energy_per_source_j": per_source,
        "energy_bookkeeping": ENERGY_BOOKKEEPING + "; headline = vdd (comparator) + vref (CDAC) + vcm (top plate); "
                              "the input source (GBL) is listed apart; XSPICE SAR logic and switch gate drive "
                              "are ideal and not counted",
        "walden_fom_j_per_step": metrics.walden_fom_j(e_conv, sine["enob"]),
        "schreier_fom_db": metrics.schreier_fom_db(e_conv, sine["sndr_db"]),
        "sine": {"codes": runs["sine"]["codes"], "cycles": test.sine_cycles, "spectrum_db": sine["spectrum_db"]},
        "ngspice_seconds": {k: float(r["seconds"]) for k, r in runs.items()},
        "cached": {k: bool(r["cached"]) for k, r in runs.items()},
    }
    if ramp:
        cd = metrics.code_density(runs["ramp"]["codes"], spec.bits)
        result.update({"dnl_max_lsb": cd["dnl_max_lsb"], "inl_max_lsb": cd["inl_max_lsb"],
                       "missing_codes": cd["missing_codes"]})
        result["ramp"] = {"codes": runs["ramp"]["codes"], "v_in_v": runs["ramp"]["v_in_v"],
                          "dnl_lsb": cd["dnl_lsb"], "inl_lsb": cd["inl_lsb"]}
    return result


def offset_sigma_v(spec: AdcSpec, tech: Technology) -> float:
    """Pelgrom input-referred offset of the comparator's input pair (pair convention)."""
    return tech.avt_v_m / math.sqrt(spec.w_in_mult * tech.wmin_m * tech.lmin_m)


def cap_sigmas_rel(spec: AdcSpec, tech: Technology) -> list[float]:
    """Relative sigma per CDAC capacitor (bit 0..B-1, then the dummy): sigma ~ 1/sqrt(C)."""
    cu = spec.c_unit_f if spec.c_unit_f is not None else tech.c_unit_f
    units = [2 ** k for k in range(spec.bits)] + [1]
    return [tech.c_mismatch_sigma_rel_1f / math.sqrt(u * cu / 1e-15) for u in units]


def draw_mismatch(spec: AdcSpec, tech: Technology, rng: np.random.Generator, *, scale: float = 1.0) -> AdcSpec:
    """One Monte Carlo draw: comparator offset and per-capacitor factors (sigmas x `scale`)."""
    offset = float(rng.normal(0.0, scale * offset_sigma_v(spec, tech)))
    factors = tuple(float(np.clip(1 + rng.normal(0.0, scale * s), 0.5, 1.5)) for s in cap_sigmas_rel(spec, tech))
    return dataclasses.replace(spec, comparator_offset_v=offset, cap_scale=factors)


def expected_codes(spec: AdcSpec, tech: Technology, v_in_v) -> np.ndarray:
    """The codes an ideal SAR with this spec's capacitors and comparator offset gives:
    bit i is kept when VIN > (VREF * C_on - Voffset * C_all) / C_all (charge
    conservation on the top plate; top-plate parasitics neglected)."""
    cu = spec.c_unit_f if spec.c_unit_f is not None else tech.c_unit_f
    scale = np.asarray(spec.cap_scale or (1.0,) * (spec.bits + 1))
    caps = cu * np.array([2.0 ** k for k in range(spec.bits)] + [1.0]) * scale
    c_all, vref = caps.sum(), tech.vdd_v
    v = np.asarray(v_in_v, dtype=float)
    codes = np.zeros(v.size, dtype=int)
    for i in reversed(range(spec.bits)):
        trial = codes | (1 << i)
        c_on = np.array([caps[:spec.bits][[(t >> k) & 1 == 1 for k in range(spec.bits)]].sum() for t in trial])
        keep = v > (vref * c_on - spec.comparator_offset_v * c_all) / c_all
        codes = np.where(keep, trial, codes)
    return codes


def monte_carlo(spec: AdcSpec, tech: str | Technology, n: int, *, seed: int = 1, test: AdcTest = AdcTest(),
                workdir: str | Path | None = None, cache: ResultCache | None = None) -> dict:
    """ENOB over `n` draws of comparator offset (Pelgrom, input pair) and CDAC mismatch
    (per capacitor, sigma scales as 1/sqrt(C)); sine test only."""
    validate.integer(n, "monte carlo draws", minimum=1, maximum=10000)
    tech = as_technology(tech)
    rng = np.random.default_rng(seed)
    base = Path(workdir) if workdir is not None else Path(tempfile.mkdtemp(prefix="netlistgen-adcmc-"))
    draws = []
    for k in range(n):
        s_k = draw_mismatch(spec, tech, rng)
        r = characterize(s_k, tech, test=test, workdir=base / f"mc{k}", cache=cache, ramp=False, workers=1)
        draws.append({"offset_v": s_k.comparator_offset_v, "enob": r["enob"], "sndr_db": r["sndr_db"]})
    enobs = np.array([d["enob"] for d in draws])
    return {"n": n, "seed": seed, "sigma_offset_v": offset_sigma_v(spec, tech),
            "sigma_c_rel_unit": cap_sigmas_rel(spec, tech)[-1],
            "enob_mean": float(enobs.mean()), "enob_min": float(enobs.min()), "enob_std": float(enobs.std()),
            "draws": draws}


# --------------------------------------------------------------------------------------
# The macro model's `spice` ADC record
# --------------------------------------------------------------------------------------

SPICE_SINE = AdcTest(hits_per_code=1, sine_conversions=32, sine_cycles=5)  # energy-only runs


def technology_for_node(node_m: float) -> Technology:
    """The built-in technology whose minimum channel length is `node_m` (within 10 %)."""
    for name in list_technologies():
        tech = load_technology(name)
        if abs(tech.lmin_m / node_m - 1) < 0.1:
            return tech
    raise NetlistgenError(f"ADC model 'spice': no built-in technology with channel length {node_m:g} m")


@lru_cache(maxsize=256)
def spice_energy_j(tech_name: str, bits: int, rate_hz: float) -> float:
    """Measured energy per conversion (sine test, result cache), cached per technology/B/rate."""
    spec = AdcSpec(bits=min(max(bits, 3), 10), rate_hz=rate_hz)
    r = characterize(spec, tech_name, test=SPICE_SINE, cache=ResultCache(), ramp=False, workers=1)
    return r["energy_per_conversion_j"]


def _spice_energy(q: macro.AdcQuery) -> float:
    return spice_energy_j(technology_for_node(q.node_m).name, q.bits, q.rate_hz)


macro.register_adc_model(macro.AdcModel(
    name="spice",
    source="netlistgen SAR ADC simulated in ngspice on the array's own transistor models "
           "(docs/adc.md): binary CDAC of the technology's unit capacitor, StrongARM comparator, transistor switches",
    assumptions="energy = delivered by VDD + VREF + VCM per conversion (32-conversion sine, warm-up dropped); "
                "SAR logic ideal (XSPICE); 3..10 bits (outside: clamped); area as the NeuroSim SAR",
    energy_j=_spice_energy,
    area_m2=macro.ADC_MODELS["neurosim"].area_m2,
    always_compared=False,  # each point is a SAR simulation: only when chosen
))
