"""Flattened model decks (netlistgen/tech/flatten.py): the safe evaluator, bin choice,
per-instance mismatch terms, and equivalence with the full sky130 library in ngspice."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest

from netlistgen.core.errors import NetlistgenError
from netlistgen.tech import flatten as F
from netlistgen.tech.spicelib import expand
from netlistgen.tech.technology import load_technology

# ---------------------------------------------------------------------------------------
# evaluator
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("text,value", [
    ("1+2*3", 7.0),
    ("2^3^2", 512.0),  # right-associative power
    ("-2**2", -4.0),
    ("{0.14/w}", 0.14 / 0.42),
    ("1.5u", 1.5e-6),
    ("2meg + 1k", 2.001e6),
    ("3.0E-9", 3e-9),
    ("sqrt(l*w*mult)", math.sqrt(0.15 * 0.42)),
    ("max(1, 2) + min(3, -1)", 1.0),
    ("w > 0.4 ? 10 : 20", 10.0),
    ("{4.148e-09+corner_factor*0.0} + process_mc_factor*0*AGAUSS(0,1.5e-09,1)", 4.148e-9),
    ("'w*2'", 0.84),
])
def test_evaluate(text, value):
    scope = F.Scope(values={"w": 0.42, "l": 0.15, "mult": 1.0, "corner_factor": 1.0, "process_mc_factor": 1.0})
    assert F.evaluate(text, scope) == pytest.approx(value, rel=1e-12)


@pytest.mark.parametrize("text", ["__import__('os')", "open(1)", "1 +", "(1", "1/0", "unknown_name", "foo(1)",
                                  "1 2", "sqrt(-1)"])
def test_evaluate_rejects(text):
    with pytest.raises(F.FlattenError):
        F.evaluate(text, F.Scope())


def test_evaluate_lazy_forward_references_and_cycles():
    s = F.Scope(lazy={"a": "{b*2}", "b": "3", "c": "{d}", "d": "{c}"})
    assert s.lookup("A") == 6.0
    with pytest.raises(F.FlattenError, match="itself"):
        s.lookup("c")


def test_assignments_split_expressions_with_spaces_and_concatenation():
    text = ".param sw_x = {0.0+corner_factor*0.0} + k*AGAUSS(0,1e-9,1) nrd = {0.14/w} lim = { a >= b }"
    assert F.assignments(text) == [("sw_x", "{0.0+corner_factor*0.0} + k*AGAUSS(0,1e-9,1)"),
                                   ("nrd", "{0.14/w}"), ("lim", "{ a >= b }")]


def test_random_draw_is_linear_in_unit_normal():
    s = F.Scope(values={"k": 2.0}, draw=lambda mean, sigma: mean + sigma)
    assert F.evaluate("1 + k*agauss(0, 0.5, 1)", s) == pytest.approx(2.0)
    assert F.evaluate("gauss(10, 0.1, 2)", s) == pytest.approx(10.5)


# ---------------------------------------------------------------------------------------
# flattener on a small library
# ---------------------------------------------------------------------------------------

TOY = """* toy PDK: a device subcircuit with two bins and a per-instance VT draw
.param mm_on = 1
.param sw_vt = {0.01} + 0*AGAUSS(0,1,1)
.param sw_rand = {0.0} + 1*AGAUSS(0,1,1)
.option scale=1.0u
.subckt toy_n d g s b mult=1
.param l = 1 w = 1 nf = 1 ad = 0 as = 0 pd = 0 ps = 0 nrd = {0.1/w}
+ swx_vth = {sw_vt + 0.004*mm_on*AGAUSS(0,1,1)/sqrt(l*w*mult)}
+ swx_rsh = {10*nf/w + 1}
Mtoy d g s b core l = {l} w = {w} ad = {ad} as = {as} pd = {pd} ps = {ps} nrd = {nrd} nf = {nf}
+ delvto = {swx_vth*2}
.model core.1 nmos level = 54 lmin = 1.5e-7 lmax = 1e-6 wmin = 4e-7 wmax = 1e-6 vth0 = 0.4 rsh = {swx_rsh}
.model core.2 nmos level = 54 lmin = 1e-6 lmax = 2e-5 wmin = 4e-7 wmax = 1e-6 vth0 = 0.5 rsh = {swx_rsh}
.ends toy_n
.subckt toy_bad d g s b
.param l = 1 w = 1
M1 d g s b badcard l = {l} w = {w}
.model badcard nmos level = 54 vth0 = {sw_rand}
.ends toy_bad
"""


@pytest.fixture
def toy(tmp_path):
    p = tmp_path / "toy.spice"
    p.write_text(TOY)
    return F.Flattener(expand(p, None))


def test_flatten_picks_bin_and_evaluates_card(toy):
    assert toy.scale == 1e-6 and toy.random_globals == {"sw_rand"}
    d = toy.flatten(F.Size("toy_n", 0.42, 0.15), {"ad": 0.1, "as": 0.1, "pd": 1.0, "ps": 1.0})
    card = " ".join(d.card_lines)
    assert d.card_lines[0] == ".model toy_n__w0p42_l0p15 nmos"
    assert "vth0=0.4 " in card and f"rsh={10 / 0.42 + 1!r}" in card and "{" not in card
    d2 = toy.flatten(F.Size("toy_n", 0.42, 1.0), {})  # lmin of bin 2 exactly (through scale)
    assert "vth0=0.5" in " ".join(d2.card_lines)
    # per-instance draw kept as one agauss: c0 = 2*0.01, c1 = 2*0.004/sqrt(0.15*0.42)
    m = re.search(r"delvto=\{([-0-9.e]+)\+([-0-9.e]+)\*agauss\(0,1,1\)\}", d.params)
    assert m and float(m.group(1)) == pytest.approx(0.02) and float(m.group(2)) == pytest.approx(0.008 / math.sqrt(0.063))
    assert f"nrd={0.1 / 0.42!r}" in d.params and "ad=0.1 " in d.params


def test_flatten_overrides_and_errors(toy):
    d = toy.flatten(F.Size("toy_n", 0.5, 0.15), {}, overrides=(("rbodymod", "0"), ("vth0", "0.45")))
    card = " ".join(d.card_lines)
    assert "vth0=0.45" in card and "rbodymod=0" in card and "vth0=0.4 " not in card
    with pytest.raises(F.FlattenError, match="no bin"):
        toy.flatten(F.Size("toy_n", 5.0, 0.15), {})
    with pytest.raises(F.FlattenError, match="random process parameter 'sw_rand'"):
        toy.flatten(F.Size("toy_bad", 0.5, 0.15), {})
    with pytest.raises(F.FlattenError, match="not in the model deck"):
        toy.flatten(F.Size("nope", 0.5, 0.15), {})


def test_models_mode_validation():
    t = load_technology("sky130")
    assert t.models == "flat" and t.with_models("full").models == "full"
    with pytest.raises(NetlistgenError, match="invalid models 'fast'"):
        t.with_models("fast")
    with pytest.raises(NetlistgenError, match="models.flatten"):
        load_technology("ptm45").with_models("flat")


# ---------------------------------------------------------------------------------------
# sky130 in ngspice
# ---------------------------------------------------------------------------------------


@pytest.mark.ngspice
@pytest.mark.parametrize("corner", ["tt", "ff", "sf"])
def test_flat_array_matches_full_library(installed, corner, tmp_path):
    """A 2x1 transistor array: every sampled GBL voltage within 5 uV of the full `.lib`, with
    the shipped card levers (rbodymod=0, rsh=0) in the flat deck only. Both decks run at the
    verify step, not sky130's coarser sampling step (whose own error differs per deck)."""
    from netlistgen.studies.pdk_verify import VERIFY_MAX_STEP_S, verify_flat

    res = verify_flat("sky130", corner, rows=2, cols=1, cycles=2, workdir=tmp_path)
    assert res.samples == 8
    assert res.ok and res.max_abs_dv_v <= 5e-6, res.line()
    assert load_technology("sky130").sample_max_step_s > VERIFY_MAX_STEP_S == res.max_step_s == 2e-11
    decks = {mode: next((tmp_path / mode).rglob("tran.sp")).read_text() for mode in ("flat", "full")}
    assert all("\ntran 2e-11 " in d for d in decks.values()), decks
    cards = re.search(r'\.include "([^"]*/fastdecks/[^"]*)"', decks["flat"]).group(1)
    assert "rbodymod=0" in Path(cards).read_text().replace(" ", "")


@pytest.mark.ngspice
@pytest.mark.parametrize("pmos", [False, True])
def test_mismatch_sigma_vt_matches_subcircuit_deck(installed, tmp_path, pmos):
    """tt_mm: sigma(VT) over 400 devices on flattened cards within 10 % of the PDK's
    subcircuits (each draws per instance); the means agree within a quarter sigma."""
    from netlistgen.studies.pdk_verify import device_vth, vth_deck

    vth = {m: device_vth("sky130", "tt_mm", pmos=pmos, n=400, models=m, seed=7, workdir=tmp_path / m)
           for m in ("flat", "trimmed")}
    s_flat, s_full = np.std(vth["flat"], ddof=1), np.std(vth["trimmed"], ddof=1)
    assert 0.01 < s_full < 0.1  # tens of mV at minimum size: the draws really happen
    assert abs(s_flat / s_full - 1) <= 0.10, (s_flat, s_full)
    assert abs(vth["flat"].mean() - vth["trimmed"].mean()) <= 0.25 * s_full
    # and the nominal corner has no spread at all
    assert "agauss" not in vth_deck("sky130", "tt", pmos=pmos, n=3, models="flat", seed=7)


@pytest.mark.ngspice
def test_mc_gain_and_offset_spread_match_subcircuit_deck(installed, tmp_path):
    """Monte Carlo (VT mismatch only, tt_mm) of a 2x1 transistor array on flattened cards
    and on the PDK subcircuits: both vary per sample, with mismatch spreads of column gain
    and offset (deviations from each column's mean, pooled) that agree. Cheap subset:
    8 seeds x 4 GBLs = 28 degrees of freedom per deck, so the ratio's sampling error is
    ~19 % and the band is +-45 %; a lost per-instance draw (zero spread) or a doubled sigma
    fails it. The 10 % comparison with ~1000 degrees of freedom is
    benchmarks/bench_sky130_mc.py (RESULTS.md)."""
    from netlistgen.circuits.generate import GenerateOptions
    from netlistgen.studies.montecarlo import run_mc_many

    base = dict(scheme="zebra-i", technology="sky130", rows=2, cols=1, fidelity="transistor")
    configs = {"flat": GenerateOptions(**base, models="flat"), "sub": GenerateOptions(**base, models="trimmed")}
    res = run_mc_many(configs, 8, 100, tmp_path, mismatch={"cap": False}, cycles=3, workers=2)
    assert not res.errors
    for metric in ("gain_mv_per_lsb", "offset_mv"):
        (s_flat, dof), (s_sub, _) = res.mismatch_spread("flat", metric), res.mismatch_spread("sub", metric)
        assert dof == 28
        assert s_sub > 0 and 0.55 <= s_flat / s_sub <= 1.45, (metric, s_flat, s_sub)
        flat, sub = res.column_values("flat", metric), res.column_values("sub", metric)
        assert abs(flat.mean() - sub.mean()) <= 0.8 * s_sub, (metric, flat.mean(), sub.mean(), s_sub)


def test_models_option_in_a_config_file_is_checked(tmp_path):
    from netlistgen.circuits.generate import GenerateOptions

    cfg = tmp_path / "a.toml"
    cfg.write_text('technology = "ptm45"\nmodels = "flat"\n')
    with pytest.raises(NetlistgenError, match=r"a\.toml': key 'models'.*models\.flatten"):
        GenerateOptions.from_file(cfg)
    cfg.write_text('technology = "sky130"\nmodels = "full"\n')
    assert GenerateOptions.from_file(cfg).models == "full"
