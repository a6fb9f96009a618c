"""The seeds' comparison table: area/throughput model and the report assembled from real ngspice runs."""

from __future__ import annotations

import dataclasses
import json

import pytest

from netlistgen.analysis import macro
from netlistgen.studies import paper
from netlistgen.core.errors import NetlistgenError
from netlistgen.tech.technology import load_technology


def test_input_cycles_follow_input_precision_and_levels():
    assert paper.input_cycles("int8", 1) == 8  # bit-serial: one cycle per bit of an unsigned 8-bit input
    assert paper.input_cycles("int4", 1) == 4
    assert paper.input_cycles("zebra-i", 3) == 4  # balanced base-7 digits: 7**3 // 2 = 171 < 255 <= 7**4 // 2
    assert paper.input_cycles("zebra-ii", 7) == 3  # base 15: 15**2 // 2 = 112 < 255 <= 15**3 // 2


@pytest.mark.parametrize("tech_name", ["ptm45", "sky130"])
def test_area_model_orders_cells_like_the_seeds(tech_name):
    tech = load_technology(tech_name)
    a = {s: paper.scheme_area(s, tech) for s in paper.SCHEMES}
    # ML-LCU with C2 = 4 C1 > with C2 = 2 C1 > the LCC's single unit capacitor
    assert a["zebra-i"].computing_cell_m2 > a["zebra-ii"].computing_cell_m2 > a["int8"].computing_cell_m2
    assert a["int4"].computing_cell_m2 == a["int8"].computing_cell_m2
    # same SRAM capacity: 4-bit weights are twice as dense as 8-bit ones, ZEBRA's 6 bits in between
    dens = {s: x.parameter_density_m_per_mm2 for s, x in a.items()}
    assert dens["int4"] / dens["int8"] == pytest.approx(2.0, rel=0.1)
    assert dens["int8"] < dens["zebra-i"] < dens["zebra-ii"] < dens["int4"]
    for x in a.values():  # the breakdown adds up to the macro area
        assert sum(x.breakdown_m2.values()) == pytest.approx(x.macro.total_area_m2, rel=1e-9)
        assert x.macro.weights_stored * x.bits_per_weight <= paper.MacroPlan().sram_bits


def test_cell_area_is_switches_plus_capacitors():
    tech = load_technology("ptm45")
    z = paper.scheme_area("zebra-i", tech)
    tg = (tech.w_switch_n_m + tech.w_switch_p_m) * tech.lmin_m * tech.transistor_area_per_wl
    assert z.computing_cell_breakdown_m2["switches"] == pytest.approx(8 * tg)
    assert z.computing_cell_breakdown_m2["capacitors"] == pytest.approx(5e-15 / tech.cap_density_f_per_m2)


def test_throughput_arithmetic():
    thr = paper.throughput_from_energy("zebra-i", 100e-15, rows=10, cols=1, timing_cycle_s=5e-9, levels=3)
    assert thr.energy_per_mac_j == pytest.approx(100e-15 * 4 / 10)
    assert thr.tops_per_w == pytest.approx(2 / 40e-15 / 1e12)
    with pytest.raises(NetlistgenError, match="energy_per_cycle_j"):
        paper.throughput_from_energy("int8", -1.0, rows=1, cols=1, timing_cycle_s=1e-9, levels=1)


def test_ratio_rows_compare_with_the_seeds():
    ours = {"tops_per_w": {"int4": 8.0, "int8": 2.0, "zebra-i": 8.0, "zebra-ii": 4.0}}
    rows = {r["pair"]: r for r in paper.ratio_rows(ours)}
    assert rows["zebra-i / int8"]["ours"] == pytest.approx(4.0)
    assert rows["zebra-i / int8"]["seeds"] == pytest.approx(64.3 / 15.9)
    assert rows["zebra-ii / int8"]["ours_over_seeds"] == pytest.approx(2.0 / (64.6 / 15.9))


def test_bad_plan_is_rejected():
    with pytest.raises(NetlistgenError, match="compute_rows"):
        paper.MacroPlan(compute_rows=0)


@pytest.mark.ngspice
def test_paper_report_from_real_runs(tmp_path, installed):
    opts = paper.PaperOptions(rows=4, cycles=12, energy_cycles=1, accuracy_seeds=0)
    doc = paper.build(opts, tmp_path / "work", progress=False)
    paths = paper.write(doc, tmp_path)
    data = json.loads(paths["json"].read_text())
    for s in paper.SCHEMES:
        assert data["table"]["tops_per_w"][s] > 0
        assert data["measured"][s]["inl_lsb"] < 0.5
        assert data["table"]["dot_snr_db"][s] > 10
    # the recombined 8-bit dot product is finer than the 4-bit one: more MAC energy per op
    assert data["measured"]["int8"]["energy_per_mac_fj"] > data["measured"]["int4"]["energy_per_mac_fj"]
    md = paths["markdown"].read_text()
    assert "ZEBRA I 8-8" in md and "ours / seeds" in md
    html = paths["html"].read_text()
    assert html.startswith("<!doctype html>") and "data:image/png;base64," in html and "<img src='ratios" not in html
    for key in ("ratios", "transfer", "energy", "macro_sweep", "macro_energy"):
        assert paths[key].stat().st_size > 1000
    m = data["macro"]
    assert m["rows"] == 4 and m["adc_model"] == "hwcomponents" and set(m["policies"]) == {"same", "lossless", "stat"}
    for policy, blk in m["policies"].items():
        for s in ("int8", "int8-2c", "zebra-i", "zebra-ii"):
            d = blk["schemes"][s]
            assert d["tops_per_w"] > 0 and d["gops_per_mm2"] > 0 and d["gops_per_mm2_fixed_sram"] > 0
            e = d["energy_per_mac_fj"]
            assert e["total"] == pytest.approx(e["array"] + e["adc"] + e["digital"])
        assert set(blk["ratios"]) >= {"zebra-i/int8", "zebra-ii/int8", "zebra-i/int8-2c", "zebra-ii/int8-2c"}
    assert m["policies"]["lossless"]["bits"]["zebra-i"] == 7  # 24*4+1 = 97 levels
    # under `same` bits the ADC dominates, so the ratio is near the conversions ratio 64/16
    assert 3.0 < m["policies"]["same"]["ratios"]["zebra-i/int8-2c"]["tops_per_w"] < 4.2
    # the macro array energy at the simulated rows is the array-only SPICE number
    arr = m["policies"]["same"]["schemes"]["int8"]["energy_per_mac_fj"]["array"]
    assert arr == pytest.approx(data["measured"]["int8"]["energy_per_mac_fj"], rel=1e-9)
    assert set(m["by_model"]) == {"hwcomponents", "neurosim", "walden"}  # spice (simulated) only when chosen
    assert "Macro model" in md and any("REPRODUCED" in f or "NOT within" in f for f in m["findings"])


def test_report_compares_a_fixed_model_set_and_the_simulated_adc_only_when_chosen(monkeypatch):
    # importing studies.paper registers `spice`; it must not be evaluated unless chosen
    assert "spice" in macro.ADC_MODELS
    assert macro.compared_adc_models("hwcomponents") == ("hwcomponents", "neurosim", "walden")
    assert macro.compared_adc_models("spice") == ("hwcomponents", "neurosim", "walden", "spice")
    calls = []
    spy = dataclasses.replace(macro.ADC_MODELS["spice"], energy_j=lambda q: calls.append(q) or 1e-13)
    monkeypatch.setitem(macro.ADC_MODELS, "spice", spy)
    assert paper.PaperOptions(adc_model="spice").adc_model == "spice"
    assert calls == []  # choosing it runs no SAR characterization before the report starts
    assert paper.PaperOptions(adc_model="walden").adc_model == "walden"
    assert calls == []


def test_paper_energy_runs_take_the_reports_own_step(installed):
    # the report's energy jobs run at PaperOptions.energy_max_step_s (10 ps, the SPEC's
    # limit); the tool's default energy step (simulate.ENERGY_MAX_STEP_S) is not changed
    from netlistgen.sim.simulate import ENERGY_MAX_STEP_S
    from netlistgen.tech.technology import load_technology as load

    _, jobs = paper.paper_jobs(paper.PaperOptions(rows=2, cycles=4, energy_cycles=1))
    steps = {j.name: j.bench().analysis.max_step_s for j in jobs}
    assert {steps[f"{s}-energy"] for s in paper.SCHEMES} == {10e-12}
    assert {steps[s] for s in paper.SCHEMES} == {load("ptm45").sample_max_step_s}
    assert ENERGY_MAX_STEP_S == 5e-12
    _, jobs = paper.paper_jobs(paper.PaperOptions(rows=2, cycles=4, energy_cycles=1, energy_max_step_s=5e-12))
    assert {j.step_s for j in jobs if j.energy} == {5e-12}
    with pytest.raises(NetlistgenError, match="energy_max_step_s"):
        paper.PaperOptions(energy_max_step_s=20e-12)
