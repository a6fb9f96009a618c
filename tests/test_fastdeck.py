"""Fast ptm45 deck (model-card overrides) and the sampling-run simulator options.

Unit part: `fast_params` of an include-style descriptor rewrite (or add) the flags in
every `.model` card, cached like the trimmed sky130 deck. Integration part (real
ngspice): a small transistor-fidelity array gives the same sampled voltages with the
fast cards and with bypass/noopiter as with the cards unchanged and no options.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from netlistgen.sim import simulate
import netlistgen.tech as T
from netlistgen.core.errors import NetlistgenError
from netlistgen.circuits.generate import GenerateOptions, build
from netlistgen.analysis.metrics import fit_linearity
from netlistgen.circuits.testbench import random_stimulus
from test_technology import user_descriptor, write_desc


@pytest.fixture
def fast_user_tech(tmp_path, monkeypatch):
    monkeypatch.setenv("NETLISTGEN_CACHE", str(tmp_path / "cache"))
    d = user_descriptor()
    d["models"]["fast_params"] = ["rbodymod=0", "k1=0.5"]
    return write_desc(tmp_path, d)


def test_fast_params_rewrite_and_add_flags(fast_user_tech, tmp_path):
    t = T.load_technology(fast_user_tech)
    deck = t.fast_deck("slow")
    assert deck.parent == tmp_path / "cache" / "fastdecks" / "user_demo"
    cards = [c for c in re.split(r"\n(?=\.model)", deck.read_text()) if c.startswith(".model")]
    assert len(cards) == 2
    for card in cards:
        assert re.search(r"\bk1=0\.5\b", card) and "k1=0.4" not in card  # set by the card: rewritten
        assert card.rstrip().endswith("+ rbodymod=0")  # absent from the card: added
    mtime = deck.stat().st_mtime_ns
    assert t.fast_deck("slow") == deck and deck.stat().st_mtime_ns == mtime  # cached
    assert t.model_statements("slow") == [f'.include "{deck}"']
    assert t.model_statements("slow", fast=False)[0].endswith('user_bsim4_slow.inc"')
    assert t.deck_fingerprint("slow") != t.deck_fingerprint("slow", fast=False)
    assert t.fast_deck("typ") != deck


def test_ptm45_descriptor_asks_for_no_resistor_networks():
    t = T.load_technology("ptm45")
    assert T.show(t)["models"]["fast_params"] == ["rbodymod=0", "rgatemod=0"]


@pytest.mark.parametrize("value", ["rbodymod", "rbodymod=x", "1x=0", "a=1;b"])
def test_fast_params_rejects(tmp_path, value):
    d = user_descriptor()
    d["models"]["fast_params"] = [value]
    with pytest.raises(NetlistgenError, match=re.escape(repr(value))):
        T.load_technology(write_desc(tmp_path, d))


def test_fast_params_twice_in_a_card_falls_back(tmp_path, monkeypatch):
    monkeypatch.setenv("NETLISTGEN_CACHE", str(tmp_path / "cache"))
    card = tmp_path / "twice.inc"
    card.write_text(".model user_nch nmos level=54 k1=0.4\n+ k1=0.41\n.model user_pch pmos level=54\n")
    d = user_descriptor()
    d["models"]["corners"] = {"typ": [str(card)]}
    d["models"].pop("default_corner")
    d["models"]["default_corner"] = "typ"
    d["models"]["fast_params"] = ["k1=0.5"]
    t = T.load_technology(write_desc(tmp_path, d))
    with pytest.warns(UserWarning, match="sets 'k1' 2 times"):
        assert t.model_statements("typ") == [f'.include "{card}"']


def _run(tmp_path, tag: str) -> simulate.SimResult:
    nl = build(GenerateOptions(scheme="zebra-i", technology="ptm45", rows=2, cols=1, fidelity="transistor"))
    job = simulate.Job(tag, nl, random_stimulus(nl, 3, seed=5))
    return simulate.run_job(job, tmp_path / tag)


@pytest.mark.ngspice
def test_fast_cards_and_options_keep_sampled_voltages(installed, tmp_path, monkeypatch):
    """Cards unchanged and no options vs each change alone: 2x1 zebra-i, 3 cycles."""
    orig = T.Technology.model_statements
    with monkeypatch.context() as m:
        m.setattr(T.Technology, "model_statements", lambda self, corner=None, *, fast=True: orig(self, corner, fast=False))
        m.setattr(simulate, "SAMPLE_OPTIONS", ())
        m.setattr(simulate, "TRANSISTOR_OPTIONS", ())
        ref = _run(tmp_path, "full")
    with monkeypatch.context() as m:
        m.setattr(simulate, "SAMPLE_OPTIONS", ())
        m.setattr(simulate, "TRANSISTOR_OPTIONS", ())
        fast = _run(tmp_path, "fast").v_sample_v
    shipped = _run(tmp_path, "shipped").v_sample_v
    full = ref.v_sample_v
    gain = abs(fit_linearity(ref.y_ideal.ravel(), full.ravel()).gain_v_per_lsb)
    deck = (tmp_path / "shipped" / "tran.sp").read_text()
    assert "fastdecks" in deck and re.search(r"^\.options method=trap noopiter bypass=1$", deck, re.M)
    assert np.ptp(full) > 0.05  # the cycles really differ (so equality below means something)
    d_fast, d_shipped = np.max(np.abs(fast - full)), np.max(np.abs(shipped - full))
    print(f"max |dV| fast cards {d_fast * 1e6:.2f} uV, shipped {d_shipped * 1e6:.2f} uV = {d_shipped / gain:.4f} LSB")
    assert d_fast < 10e-6  # rbodymod/rgatemod off: measured 6.9 uV here, 0.4 uV at 16x2
    assert d_shipped / gain < 0.01  # + bypass and noopiter: 24.8 uV here; 8.6 uV = 0.019 LSB at 64x8


@pytest.mark.parametrize("opt", ["bypass=1;", "reltol=1e-3 .end", "Bypass", "x=\nquit"])
def test_transient_deck_rejects_bad_option(build_small, opt):
    from netlistgen.circuits.testbench import Timing, transient_deck

    nl = build_small(rows=1, cols=1)
    with pytest.raises(NetlistgenError, match="invalid simulator option"):
        transient_deck(nl, "/tmp/array.sp", random_stimulus(nl, 1, seed=1), Timing(), options=(opt,))


def test_bypass_only_for_transistor_sampling_runs(build_small):
    ideal = build_small(rows=1, cols=1)
    trans = build_small(rows=1, cols=1, fidelity="transistor")
    stim = random_stimulus(ideal, 1, seed=1)
    assert simulate.deck_options(simulate.Job("a", ideal, stim)) == ()
    assert simulate.deck_options(simulate.Job("b", trans, stim)) == ("noopiter", "bypass=1")
    assert simulate.deck_options(simulate.Job("c", trans, stim, energy=True)) == ("noopiter",)
    sky = build_small(rows=1, cols=1, fidelity="transistor", technology="sky130")  # sample_bypass = false
    assert simulate.deck_options(simulate.Job("d", sky, stim)) == ("noopiter",)
