"""Macro model (analysis/macro.py): conversions, ADC bits, ADC models, the array-only limit."""

from __future__ import annotations

import math

import numpy as np
import pytest

from netlistgen.analysis import macro
from netlistgen.core.errors import NetlistgenError
from netlistgen.studies.accuracy import input_digits


def test_conversions_per_mac_every_scheme():
    # SPEC section 5a: bit columns x input cycles
    expected = {"int8-2c": (8, 8, 64), "int8": (7, 8, 56), "int4-2c": (4, 4, 16), "int4": (3, 4, 12),
                "zebra-i": (4, 4, 16), "zebra-ii": (4, 4, 16)}
    for name, (cols, cycles, conv) in expected.items():
        s = macro.get_scheme(name)
        assert (s.bit_cols, s.input_cycles, s.conversions_per_mac) == (cols, cycles, conv)
        # the accuracy experiment splits inputs into the same number of cycles
        _, w = input_digits(np.array([2**s.input_bits - 1]), s.cell, s.siu_levels, s.input_bits)
        assert len(w) == s.input_cycles


@pytest.mark.parametrize("rows", [1, 16, 64, 256])
def test_lossless_bits_are_log2_of_levels_from_the_encoding(rows):
    assert macro.column_levels(macro.get_scheme("int8-2c"), rows) == rows + 1
    assert macro.column_levels(macro.get_scheme("int8"), rows) == 2 * rows + 1  # sign-magnitude: -R..R
    assert macro.column_levels(macro.get_scheme("zebra-i"), rows) == 24 * rows + 1
    assert macro.column_levels(macro.get_scheme("zebra-ii"), rows) == 12 * rows + 1
    for name in macro.MACRO_SCHEMES:
        levels = macro.column_levels(macro.get_scheme(name), rows)
        assert macro.adc_bits("lossless", name, rows) == max(1, math.ceil(math.log2(levels)))


def test_lossless_levels_cover_every_reachable_column_value():
    """Brute force over a 2-row column: every value of the sum lies in the counted range."""
    s = macro.get_scheme("zebra-i")
    per_row = np.outer(s.input_values(), s.row_weight_values()).ravel()
    sums = np.add.outer(per_row, per_row).ravel()
    assert sums.max() - sums.min() + 1 == macro.column_levels(s, 2)


def test_same_and_stat_policies():
    assert {macro.adc_bits("same", n, 16) for n in macro.MACRO_SCHEMES} == {5}  # ceil(log2(17))
    assert macro.adc_bits("same", "zebra-i", 16, macro.PolicyParams(same_bits=7)) == 7
    for name in macro.MACRO_SCHEMES:
        stat = macro.adc_bits("stat", name, 64)
        assert 1 <= stat <= macro.adc_bits("lossless", name, 64)
    # clipping at +-3 sigma of a realistic workload needs fewer bits than lossless for ZEBRA-I
    assert macro.adc_bits("stat", "zebra-i", 64) < macro.adc_bits("lossless", "zebra-i", 64)
    wider = macro.PolicyParams(workload=macro.Workload(k_sigma=12.0))
    assert macro.adc_bits("stat", "zebra-i", 64, wider) > macro.adc_bits("stat", "zebra-i", 64)
    with pytest.raises(NetlistgenError, match="policy 'nope'"):
        macro.adc_bits("nope", "int8", 16)
    with pytest.raises(NetlistgenError, match="laplace"):
        macro.Workload(weights="laplace")


def test_stat_sigma_is_measured_on_the_encoded_workload():
    s = macro.get_scheme("zebra-i")
    sigma = macro.column_sum_sigma(s, 64, macro.Workload(seed=1))
    assert sigma.shape == (4,) and (sigma > 0).all()
    # Laplacian weights are sparser after max-abs/MSE scaling: their partial sums are not wider
    lap = macro.column_sum_sigma(s, 64, macro.Workload(weights="laplacian", seed=1))
    assert lap.max() < 2 * sigma.max()


# Reference values computed with hwcomponents-adc 1.0.21's own ADC class
# (ADC(n_bits, tech_node, throughput).get_energy() / .area) under Python 3.12 syntax.
HWC_REFERENCE = [
    (4, 45e-9, 1e8, 1.7535460325648784e-12, 5.564552922381425e-09),
    (8, 45e-9, 1e8, 3.2531258404028356e-12, 6.6943798462377805e-09),
    (10, 28e-9, 2e7, 2.574885431287036e-12, 2.9130777033241185e-09),
    (6, 130e-9, 5e8, 1.485735664887976e-11, 4.045516736899063e-08),
    (12, 45e-9, 1e9, 2.528731762751503e-10, 3.732077324879688e-08),
]


@pytest.mark.parametrize("bits,node,rate,energy,area", HWC_REFERENCE)
def test_hwcomponents_model_matches_the_library(bits, node, rate, energy, area):
    q = macro.AdcQuery(bits=bits, rate_hz=rate, node_m=node, vdd_v=1.0, transistor_area_m2=1e-13)
    model = macro.get_adc_model("hwcomponents")
    assert model.energy_j(q) == pytest.approx(energy, rel=1e-9)
    assert model.area_m2(q) == pytest.approx(area, rel=1e-9)


def test_neurosim_and_walden_models():
    q = macro.AdcQuery(bits=5, rate_hz=1e8, node_m=45e-9, vdd_v=1.0, transistor_area_m2=1e-13)
    # NeuroSim SAR, 45 nm HP: (2.1843*5 + 11.931) uW over 6 cycles of 1 ns
    assert macro.get_adc_model("neurosim").energy_j(q) == pytest.approx((2.1843 * 5 + 11.931) * 1e-6 * 6e-9)
    assert macro.get_adc_model("neurosim").area_m2(q) == pytest.approx((269 + 4 * 109 + 209 + 4 * 73) * 1e-13)
    assert macro.get_adc_model("walden").energy_j(q) == pytest.approx(18e-15 * 32)
    assert macro.neurosim_node_nm(28e-9) == 32 and macro.neurosim_node_nm(150e-9) == 130
    with pytest.raises(NetlistgenError, match="unknown ADC model 'no-such-adc'"):
        macro.get_adc_model("no-such-adc")


def test_one_record_adds_an_adc_model():
    rec = macro.AdcModel(name="flat-test", source="test", assumptions="1 pJ, 1000 um^2",
                         energy_j=lambda q: 1e-12, area_m2=lambda q: 1e-9)
    macro.register_adc_model(rec)
    try:
        r = macro.evaluate(_facts("int8-2c"), macro.MacroParams(rows=16), adc_model="flat-test", bits=5)
        assert r.e_mac_adc_j == pytest.approx(64 * 1e-12 / 16)
    finally:
        del macro.ADC_MODELS["flat-test"]


def _facts(scheme: str, e_fixed=2e-15, e_row=3e-15) -> macro.ArrayFacts:
    return macro.ArrayFacts(scheme=scheme, rows_simulated=16, e_conv_fixed_j=e_fixed, e_conv_per_row_j=e_row,
                            area_per_gbl_row_m2=3e-11, area_gbl_fixed_m2=1e-11, area_driver_per_row_gbl_m2=1e-12,
                            t_array_s=5e-9, node_m=45e-9, vdd_v=1.0, transistor_area_m2=8e-14)


def test_without_adc_and_digital_the_macro_is_the_array_only_number():
    """E_MAC = conversions x E_array(R) / R = E_cycle x input cycles / R: the paper
    report's array-only energy per MAC (SchemeThroughput) for a one-weight column."""
    from netlistgen.studies.paper import SchemeThroughput

    params = macro.MacroParams(rows=16, adc_energy_scale=0.0, digital_energy_scale=0.0)
    for name in ("int8", "zebra-i", "zebra-ii", "int4"):
        facts = _facts(name)
        s = macro.get_scheme(name)
        r = macro.evaluate(facts, params, adc_model="walden", bits=5)
        assert r.e_mac_adc_j == 0 and r.e_mac_digital_j == 0
        e_cycle = s.bit_cols * facts.e_array_conv_j(16)  # one simulated weight column: bit_cols GBLs
        array_only = SchemeThroughput(name, e_cycle, macs_per_cycle=16, cycle_time_s=5e-9,
                                      input_cycles=s.input_cycles)
        assert r.e_mac_j == pytest.approx(array_only.energy_per_mac_j, rel=1e-12)
        assert r.tops_per_w == pytest.approx(array_only.tops_per_w, rel=1e-12)


def test_conventions_and_throughput():
    p = macro.MacroParams(rows=16, adc_share=8, gbl_columns=256)
    z = macro.evaluate(_facts("zebra-i"), p, adc_model="walden", bits=5)
    b = macro.evaluate(_facts("int8-2c"), p, adc_model="walden", bits=5)
    assert z.gbls == b.gbls == 256 and z.adcs == 32
    # same GBLs and cycle: throughput ratio is the conversions ratio 64/16
    assert z.macs_per_s / b.macs_per_s == pytest.approx(4.0)
    assert z.t_cycle_s == pytest.approx(max(5e-9, 8 * 6 * 1e-9))
    s = macro.evaluate(_facts("zebra-i"), p, adc_model="walden", bits=5, convention="fixed-sram")
    assert s.gbls == (2**20 // 6) // (16 * 16) * 4
    with pytest.raises(NetlistgenError, match="convention"):
        macro.evaluate(_facts("zebra-i"), p, adc_model="walden", bits=5, convention="bogus")
    with pytest.raises(NetlistgenError, match="adc_share"):
        macro.MacroParams(adc_share=0)


def test_same_bits_with_a_dominant_adc_tends_to_the_conversion_ratio():
    facts = {n: _facts(n, e_fixed=0.0, e_row=0.0) for n in ("int8-2c", "zebra-i")}
    params = macro.MacroParams(rows=16, digital_energy_scale=0.0)
    blk = macro.policy_block(facts, params, "walden", "same")
    assert blk["ratios"]["zebra-i/int8-2c"]["tops_per_w"] == pytest.approx(4.0)
    lossless = macro.policy_block(facts, params, "walden", "lossless")
    # 9 vs 5 bits: Walden's 2^B makes the ADC 16x dearer per ZEBRA conversion
    assert lossless["ratios"]["zebra-i/int8-2c"]["tops_per_w"] == pytest.approx(4.0 * 2**5 / 2**9)
    sw = macro.sweep(facts, params, ("walden",), ("same",))
    assert len(sw["ratio_vs_rows"]["same / walden"]) == len(macro.SWEEP_ROWS)
    assert sw["ratio_vs_bits"]["same / walden"] == pytest.approx([4.0] * len(macro.SWEEP_BITS))


def test_missing_or_wrong_hwcomponents_is_one_clear_error(monkeypatch):
    import importlib.metadata

    def missing(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", missing)
    macro.hwc_fit.cache_clear()
    try:
        with pytest.raises(NetlistgenError, match="pip install --no-deps --ignore-requires-python hwcomponents-adc==1.0.21"):
            macro.get_adc_model("hwcomponents", check=True)
        monkeypatch.setattr(importlib.metadata, "version", lambda name: "1.0.20")
        with pytest.raises(NetlistgenError, match="pinned to hwcomponents-adc==1.0.21, found 1.0.20"):
            macro.hwc_fit()
    finally:
        macro.hwc_fit.cache_clear()
