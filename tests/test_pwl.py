"""Digital control waveforms (circuits/pwl.py): ramp corners for ideal switches."""

from __future__ import annotations

from netlistgen.circuits.pwl import complement, digital, split_ramps
from netlistgen.circuits.testbench import random_stimulus
from netlistgen.sim.backends import get_backend
from netlistgen.sim.simulate import Job


def test_split_ramps_puts_a_corner_where_a_wave_and_its_complement_cross():
    wave = digital([(1e-9, True), (3e-9, False)], False, 1.2, 20e-12)
    split = split_ramps(wave)
    assert split == [(0.0, 0.0), (1e-9, 0.0), (1.01e-9, 0.6), (1.02e-9, 1.2), (3e-9, 1.2), (3.01e-9, 0.6),
                     (3.02e-9, 0.0)]
    crossings = [t for (t, a), (_, b) in zip(split, complement(split, 1.2)) if a == b]
    assert crossings == [1.01e-9, 3.01e-9]
    assert split_ramps([(0.0, 1.0), (1e-9, 1.0)]) == [(0.0, 1.0), (1e-9, 1.0)]  # no ramp, no corner


def test_lcc_row_select_edges_have_the_switching_corner_as_a_deck_parameter(build_small):
    """The row-select sources of an LCC deck carry the mid-ramp corner as {vdd_v*0.5}, so
    `alterparam vdd_v` still moves the whole waveform; the corner is a bench breakpoint."""
    nl = build_small(scheme="int4", rows=2, cols=1)
    stim = random_stimulus(nl, 3, 1)
    bench = Job("t", nl, stim).bench()
    deck = get_backend("subprocess").decks(bench)
    text = deck.files[deck.main]
    assert len(set(stim.sram_row)) > 1  # the selected row really changes
    pairs = [p.split() for src in bench.sources if src.name.startswith("rsel") for p in src.pwl]
    mids = {float(t) for t, v in pairs if float(v) == nl.design.vdd_v / 2}
    assert mids and mids <= set(bench.meta["breakpoints_s"])
    assert text.count("{vdd_v*0.5}") == sum(float(v) == nl.design.vdd_v / 2 for _, v in pairs)
