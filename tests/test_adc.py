"""SAR ADC: generator structure, metrics on exact fixtures, a real B=4 ptm45 characterization, CLI errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

from netlistgen.analysis import adc as metrics
from netlistgen.circuits.adc import AdcSpec, AdcStimulus, build_adc, read_times, sample_times
from netlistgen.cli import main
from netlistgen.core import validate
from netlistgen.core.errors import NetlistgenError
from netlistgen.tech.technology import load_technology


def test_spec_rejects_bad_values():
    with pytest.raises(NetlistgenError, match="bits"):
        AdcSpec(bits=11)
    with pytest.raises(NetlistgenError, match="cap_scale"):
        AdcSpec(bits=4, cap_scale=(1.0, 1.0))
    with pytest.raises(NetlistgenError, match="coprime"):
        AdcStimulus("sine", 64, 0.0, 1.0, cycles=8)


def test_step_is_whole_picoseconds_and_reads_follow_samples():
    spec = AdcSpec(bits=6, rate_hz=37e6)
    assert spec.steps == 7
    assert abs(spec.step_s * 1e12 - round(spec.step_s * 1e12)) < 1e-6
    assert abs(spec.rate_effective_hz / 37e6 - 1) < 1e-3
    s, r = sample_times(spec, 3), read_times(spec, 3)
    assert np.all(r > s) and np.all(r[:-1] < s[1:])


def test_generator_binary_cdac_and_devices():
    tech = load_technology("ptm45")
    nl = build_adc(AdcSpec(bits=5), tech)
    caps = [ln.split() for ln in nl.text.splitlines() if ln.startswith("C") and " top " in ln]
    values = sorted(float(c[3]) for c in caps)
    assert values == pytest.approx([1e-15, 1e-15, 2e-15, 4e-15, 8e-15, 16e-15])
    assert nl.c_total_f == pytest.approx(32e-15)
    dffs = [ln for ln in nl.text.splitlines() if ln.startswith("A") and ln.endswith(" ng_dff")]
    assert len(dffs) == 5 + 6  # one register per bit, one sequencer stage per step (B + 1)
    assert sum(1 for ln in nl.text.splitlines() if ln.startswith("M")) == 11 + 2 + 2 + 5 * 4 + 3  # comparator, top switch and its replica, 4 per bit, 3 for the dummy


def test_code_density_exact():
    codes = np.repeat(np.arange(16), 4)
    cd = metrics.code_density(codes, 4)
    assert cd["dnl_max_lsb"] == 0 and cd["inl_max_lsb"] == 0 and cd["missing_codes"] == 0
    codes = np.concatenate([np.repeat(np.arange(16), 4), [5, 5]])
    cd = metrics.code_density(codes, 4)
    assert cd["dnl_lsb"][4] == pytest.approx(6 / (58 / 14) - 1)


def test_ideal_quantizer_enob_and_foms():
    n, cycles, bits = 1024, 31, 8
    x = 0.5 + 0.5 * np.sin(2 * np.pi * cycles * np.arange(n) / n + 0.3)
    codes = np.clip(np.floor(x * 2 ** bits), 0, 2 ** bits - 1)
    s = metrics.sine_sndr(codes, cycles)
    assert abs(s["enob"] - bits) < 0.15
    assert metrics.walden_fom_j(256e-15, 8.0) == pytest.approx(1e-15)
    assert metrics.schreier_fom_db(0.5e-12, 50.0) == pytest.approx(50.0 + 120.0)


def test_default_sine_record_can_show_enob_within_005_bit_of_b():
    """The sine test's own limit: an ideal quantizer on its samples (also shifted by up to
    0.1 LSB, as a small ADC offset does) must reach B - 0.05, or the test cannot judge ENOB."""
    from netlistgen.studies.adc import AdcTest, ideal_sine_enob

    test = AdcTest()
    for bits in range(4, 9):
        worst = min(ideal_sine_enob(bits, test, shift) for shift in np.linspace(-0.1, 0.1, 9))
        assert bits - 0.05 <= worst <= bits + 0.05, (bits, worst)
    short = AdcTest(sine_conversions=64, sine_cycles=7)  # the record the first passes used
    assert ideal_sine_enob(6, short) < 5.7 and ideal_sine_enob(7, short) == pytest.approx(6.92, abs=0.01)


def test_cli_bad_bits_exit_2(tmp_path, capsys):
    assert main(["adc", "--bits", "12", "--out", str(tmp_path / "o")]) == 2
    assert "bits" in capsys.readouterr().err
    assert not (tmp_path / "o" / "adc.json").exists()


@pytest.mark.slow
@pytest.mark.ngspice
def test_b4_ptm45_in_ngspice(tmp_path):
    """Real ngspice, real models: a 4-bit conversion within 0.5 bit, monotonic, finite energy."""
    from netlistgen.studies.adc import AdcTest, characterize

    r = characterize(AdcSpec(bits=4), "ptm45", test=AdcTest(hits_per_code=2, sine_conversions=32, sine_cycles=5),
                     workdir=tmp_path)
    assert abs(r["enob"] - 4) < 0.5, r["enob"]
    assert r["missing_codes"] == 0 and r["dnl_max_lsb"] < 0.6
    e = r["energy_per_conversion_j"]
    assert 1e-15 < e < 1e-11
    # VREF charges the CDAC (order C_total * VREF^2 = 16 fJ) plus the switches' junctions
    assert 0.2 * 16e-15 < r["energy_per_source_j"]["vref"] < 2 * 16e-15
    assert r["walden_fom_j_per_step"] == pytest.approx(e / 2 ** r["enob"])
    assert math.isfinite(r["schreier_fom_db"])


def test_reltol_follows_the_lsb(tmp_path):
    from netlistgen.circuits.adc import adc_deck, sim_reltol

    tech = load_technology("ptm45")
    stim = AdcStimulus("ramp", 4, 0.1, 0.9)
    lib = tmp_path / "adc.sp"
    lib.write_text("* library\n")

    def options(bits):
        deck = adc_deck(build_adc(AdcSpec(bits=bits), tech), str(lib), stim)
        return next(ln for ln in deck.splitlines() if ln.startswith(".options"))

    assert "reltol" not in options(5)  # B <= 5: ngspice's 1e-3, the regression deck is unchanged
    assert f"reltol={validate.fmt(sim_reltol(8))}" in options(8) and sim_reltol(8) * tech.vdd_v <= tech.vdd_v / 2 ** 8 / 20


@pytest.mark.slow
@pytest.mark.ngspice
def test_b8_decisions_near_a_transition_in_ngspice(tmp_path):
    """Four B = 8 ptm45 conversions 0.2-0.8 LSB from a transition give the ideal code. With
    ngspice's default reltol (1e-3, ~0.6 mV = 0.15 LSB at VCM) 63.2 gave 62 and 192.8 gave 193."""
    from netlistgen.studies import adc as study

    tech, spec = load_technology("ptm45"), AdcSpec(bits=8)
    lsb = tech.vdd_v / 2 ** 8
    run = study._simulate(build_adc(spec, tech), AdcStimulus("ramp", 4, 63.2 * lsb, 192.8 * lsb), tmp_path, None)
    assert np.allclose(run["v_in_v"] / lsb, [63.2, 106.4, 149.6, 192.8], atol=0.01)
    assert list(run["codes"]) == [63, 106, 149, 192]


def test_spice_adc_model_is_registered_and_maps_nodes():
    from netlistgen.analysis import macro
    from netlistgen.studies import adc as study

    assert "spice" in macro.ADC_MODELS
    assert study.technology_for_node(50e-9).name == "ptm45"
    assert study.technology_for_node(0.15e-6).name == "sky130"
    with pytest.raises(NetlistgenError, match="channel length"):
        study.technology_for_node(7e-9)


@pytest.mark.slow
@pytest.mark.ngspice
def test_cli_adc_writes_json_and_plots(tmp_path, capsys):
    import json

    out = tmp_path / "adc3"
    assert main(["adc", "--bits", "3", "--hits", "2", "--sine-n", "16", "--sine-cycles", "3", "--no-cache",
                 "--out", str(out)]) == 0
    assert "ENOB" in capsys.readouterr().out
    r = json.loads((out / "adc.json").read_text())
    assert abs(r["enob"] - 3) < 0.5 and r["energy_per_conversion_j"] > 0
    for name in ("transfer_dnl.png", "spectrum.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_mismatch_draws_follow_pelgrom_and_capacitor_sigmas():
    from netlistgen.studies import adc as study

    tech, spec = load_technology("ptm45"), AdcSpec(bits=5)
    rng = np.random.default_rng(11)
    draws = [study.draw_mismatch(spec, tech, rng) for _ in range(2000)]
    sig_os = tech.avt_v_m / math.sqrt(8 * tech.wmin_m * tech.lmin_m)  # input pair 8 Wmin x Lmin
    assert np.std([d.comparator_offset_v for d in draws]) == pytest.approx(sig_os, rel=0.05)
    msb = np.std([d.cap_scale[4] for d in draws])  # 16 unit capacitors: sigma / 4
    assert msb == pytest.approx(tech.c_mismatch_sigma_rel_1f / 4, rel=0.05)


@pytest.mark.slow
@pytest.mark.ngspice
def test_monte_carlo_draw_sets_the_transfer_in_ngspice(tmp_path):
    """A drawn comparator offset and CDAC mismatch (4x the technology's sigmas, so that
    they move transitions by more than the ramp's resolution) must give the codes that
    charge conservation predicts from the drawn values, and not the nominal codes."""
    from netlistgen.studies import adc as study

    tech = load_technology("ptm45")
    spec = study.draw_mismatch(AdcSpec(bits=5), tech, np.random.default_rng(5), scale=4.0)
    assert abs(spec.comparator_offset_v) > 0.5 * tech.vdd_v / 32  # the seed gives a visible offset
    nl = build_adc(spec, tech)
    (ramp,) = study._ramp(spec, tech, study.AdcTest(hits_per_code=2))
    r = study._simulate(nl, ramp, tmp_path, None)
    codes, v = r["codes"], r["v_in_v"]
    expected = study.expected_codes(spec, tech, v)
    nominal = study.expected_codes(AdcSpec(bits=5), tech, v)
    lsb = tech.vdd_v / 32

    def transitions(c):  # input (LSB) of the first ramp sample at or above each code
        return np.array([v[np.argmax(c >= k)] for k in range(1, 31)]) / lsb

    # resolution: one ramp sample (0.5 LSB); the replica's injection at VCM + offset adds ~0.25 LSB
    assert np.abs(transitions(codes) - transitions(expected)).max() <= 0.55
    assert abs(np.mean(codes - expected)) < 0.35
    assert np.mean(np.abs(codes - nominal)) > 1.0  # the draw moved the transfer by more than an LSB


def _sin_source_v(wave: str, t: np.ndarray) -> np.ndarray:
    """ngspice's SIN(vo va freq td theta phase) with theta = 0, after its delay."""
    vo, va, freq, td, _, phase = (float(x) for x in wave[wave.index("(") + 1:wave.index(")")].split())
    return vo + va * np.sin(2 * np.pi * freq * (t - td) + np.deg2rad(phase))


def test_sine_decks_continue_one_record():
    """Split into decks, each led in by the record's previous sample, the sampled inputs are
    the one record's samples in order (the phase of every deck continues the record)."""
    from netlistgen.circuits.adc import _vin_wave
    from netlistgen.studies import adc as study

    tech, spec = load_technology("ptm45"), AdcSpec(bits=6)
    test = study.AdcTest(sine_conversions=64, sine_cycles=7, sine_chunks=3)
    decks = study._sine(spec, tech, test)
    assert len(decks) == 3 and sum(d.conversions - study.LEAD_IN for d in decks) == 64
    got = np.concatenate([
        _sin_source_v(_vin_wave(spec, d, 1.0), sample_times(spec, d.conversions))[study.LEAD_IN:] for d in decks])
    k = np.arange(64)
    want = tech.vdd_v * (0.5 + 0.49 * np.sin(2 * np.pi * 7 * k / 64 + np.deg2rad(17.0)))
    assert np.allclose(got, want, atol=1e-9)
    ramp = study._ramp(spec, tech, study.AdcTest(hits_per_code=2, ramp_chunks=3))
    for a, b in zip(ramp[:-1], ramp[1:]):  # a deck's lead-in is the previous deck's last sample
        assert b.v_lo_v == pytest.approx(a.v_hi_v, abs=1e-12)


@pytest.mark.slow
@pytest.mark.ngspice
def test_deck_breakpoints_are_ngspice_time_points(tmp_path):
    """Every PULSE/PWL corner the energy rule is given (deck_breakpoints_s) is a time point
    ngspice placed: so each one restarts a step in energy.restart_steps."""
    from netlistgen.circuits.adc import deck_breakpoints_s
    from netlistgen.sim.energy import restart_steps
    from netlistgen.sim.rawfile import read_raw
    from netlistgen.studies import adc as study

    tech, spec = load_technology("ptm45"), AdcSpec(bits=3)
    stim = AdcStimulus("ramp", 4, 0.2, 0.8)
    study._simulate(build_adc(spec, tech), stim, tmp_path, None)
    t = read_raw(tmp_path / "adc.raw")["time"]
    bp = deck_breakpoints_s(spec, stim)
    assert bp.size >= 4 * 4 * (4 * spec.steps - 1)  # 4 clocks x 4 corners per step (the sequencer starts one step late)
    inside = bp[bp < t[-1]]
    assert restart_steps(t, inside).sum() == inside.size


@pytest.mark.slow
@pytest.mark.ngspice
def test_sine_split_over_decks_gives_the_same_codes_in_ngspice(tmp_path):
    """The 32-point B = 4 sine in one deck and in three: same codes (without the lead-in the
    first conversion of a deck had come out one code off), energy within 0.1 %."""
    from netlistgen.studies.adc import AdcTest, characterize

    def run(chunks):
        test = AdcTest(sine_conversions=32, sine_cycles=5, sine_chunks=chunks)
        return characterize(AdcSpec(bits=4), "ptm45", test=test, workdir=tmp_path / str(chunks), ramp=False, workers=1)

    one, three = run(1), run(3)
    assert list(three["sine"]["codes"]) == list(one["sine"]["codes"])
    assert three["energy_per_conversion_j"] == pytest.approx(one["energy_per_conversion_j"], rel=1e-3)


@pytest.mark.ngspice
def test_cached_result_is_keyed_on_the_engine_identity(tmp_path, monkeypatch):
    """A repeat run is read from the cache; a different ngspice (version or binary, its
    `identity()`) is a miss, as for every array run (the key once named only "subprocess")."""
    from netlistgen.sim.backends import get_backend
    from netlistgen.sim.cache import ResultCache
    from netlistgen.studies import adc as study

    nl, stim = build_adc(AdcSpec(bits=3), load_technology("ptm45")), AdcStimulus("ramp", 4, 0.2, 0.8)
    cache = ResultCache(tmp_path / "cache")
    first = study._simulate(nl, stim, tmp_path / "a", cache)
    again = study._simulate(nl, stim, tmp_path / "a", cache)
    assert not first["cached"] and again["cached"]
    assert list(again["codes"]) == list(first["codes"])
    engine = get_backend("subprocess")
    monkeypatch.setattr(engine, "identity", lambda: "ngspice-0 -b another-binary")
    assert not study._simulate(nl, stim, tmp_path / "a", cache)["cached"]
