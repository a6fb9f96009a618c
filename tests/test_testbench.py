"""circuits.testbench: stimuli, ideal outputs, timing and the decks built from them."""

from __future__ import annotations

import numpy as np
import pytest

from netlistgen.circuits.testbench import (Stimulus, Timing, check_stimulus, ideal_outputs, op_deck, output_nodes,
                                           random_stimulus, sweep_stimulus, transient_deck)
from netlistgen.core.errors import NetlistgenError


def test_random_stimulus_is_seeded_and_in_range(build_small):
    nl = build_small()
    a, b = random_stimulus(nl, 50, 3), random_stimulus(nl, 50, 3)
    assert np.array_equal(a.inputs, b.inputs) and not np.array_equal(a.inputs, random_stimulus(nl, 50, 4).inputs)
    levels = nl.design.levels
    assert a.inputs.shape == (50, nl.spec.rows) and a.inputs.min() >= -levels and a.inputs.max() <= levels
    lcc = build_small(scheme="int4")
    s = random_stimulus(lcc, 40, 1)
    assert set(np.unique(s.inputs)) <= {0, 1} and s.sram_row.tolist()[:17] == [*range(16), 0]


def test_ideal_outputs_are_linear_in_the_inputs(build_small):
    nl = build_small()
    sweep = sweep_stimulus(nl, 2 * nl.design.levels + 1)
    y = ideal_outputs(nl, sweep)
    assert y.shape == (sweep.cycles, nl.spec.bit_cols)
    m = sweep.inputs[:, 0]  # every row at the same level
    assert np.allclose(y, np.outer(m, y[m == 1][0]))  # y(m) = m * y(1)
    assert np.all(y[m == 0] == 0)


def test_bad_stimulus_is_rejected(build_small):
    nl = build_small()
    levels = nl.design.levels
    with pytest.raises(NetlistgenError, match="input levels must lie in"):
        check_stimulus(nl, Stimulus(np.full((2, nl.spec.rows), levels + 1), np.zeros(2, dtype=int)))
    with pytest.raises(NetlistgenError, match="expected \\(cycles, 4\\)"):
        check_stimulus(nl, Stimulus(np.zeros((2, 3), dtype=int), np.zeros(2, dtype=int)))


def test_timing_and_decks(build_small, tmp_path):
    nl = build_small(cols=1)
    t = Timing.for_technology(nl.tech)
    assert t.cycle_s == pytest.approx(t.t_reset_s + t.t_gap_s + t.t_settle_s + t.t_hold_s)
    with pytest.raises(NetlistgenError, match="t_edge_s"):
        Timing(t_edge_s=1e-9)
    stim = random_stimulus(nl, 3, 1)
    lib = str(tmp_path / "array.sp")
    deck, sched = transient_deck(nl, lib, stim, t, max_step_s=100e-12)
    assert f'.include "{lib}"' in deck and "tran " in deck and "write " in deck
    assert all(f"v({n})" in deck.lower() for n in output_nodes(nl))
    sample = [sched.sample_time(c) for c in range(3)]
    assert sample == sorted(sample) and sample[1] - sample[0] == pytest.approx(t.cycle_s)
    assert ".include" in op_deck(nl, lib) and "op" in op_deck(nl, lib)
