"""Storage conventions (circuits/storage.py): one weight-programming convention for every
cell kind, built-in or user, at both fidelities: the weights live in array.sp as rails,
and no testbench net carries a weight."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from netlistgen.circuits.generate import GenerateOptions, build
from netlistgen.circuits.storage import STORAGE, WEIGHT_PROGRAMMING
from netlistgen.circuits.testbench import Timing, op_deck, random_stimulus, transient_deck, transient_sources

USER_CELL = str(Path(__file__).parent / "fixtures" / "cells" / "lcc_nmos.toml")
CELLS = [{"cell": "lcc"}, {"cell": "mllcu"}, {"cell_file": USER_CELL}]


def _decks(nl) -> tuple[str, str]:
    """(op deck, transient deck) of the library at a fixed path, 3 cycles of stimulus seed 1."""
    tran, _ = transient_deck(nl, "array.sp", random_stimulus(nl, 3, 1), Timing.for_technology(nl.tech))
    return op_deck(nl, "array.sp"), tran


@pytest.mark.parametrize("fidelity", ["ideal-bits", "transistor"])
@pytest.mark.parametrize("cell", CELLS, ids=["lcc", "mllcu", "user-lcc_nmos"])
def test_weights_reach_the_circuit_only_through_the_library(installed, cell, fidelity):
    """Two arrays that differ only in their weights: different array.sp, identical decks
    (op and transient, sources and waveforms included)."""
    a, b = (build(GenerateOptions(**cell, rows=2, cols=2, sram_rows_per_lcc=2, fidelity=fidelity, seed=seed))
            for seed in (1, 2))
    assert not np.array_equal(a.codes.bits, b.codes.bits) and a.text != b.text
    assert _decks(a) == _decks(b)
    # every net the storage convention adds is a control (0/VDD), none carries a stored bit
    storage_nets = {e["nets"]: e for e in a.manifest["interface"]
                    if e["nets"] in a.spec.kind.storage.interface_roles(a.spec)}
    assert all(e["kind"] == "digital" for e in storage_nets.values())
    assert a.manifest["weights"]["programming"] == WEIGHT_PROGRAMMING
    header = " ".join(line[2:] for line in a.text.splitlines() if line.startswith("* "))
    assert "Weights are programmed in the library" in header
    assert a.manifest["weights"]["reading"] in header


@pytest.mark.parametrize("fidelity", ["ideal-bits", "transistor"])
def test_row_select_programs_every_sram_row_as_a_rail(installed, fidelity):
    """The LCC at both fidelities: each slice carries every SRAM row's bits as rails of its
    row (vdd_<r> for a 1, 0 for a 0, complements too at ideal-bits), in weight-row order,
    and the row multiplexer picks one; the testbench drives only rsel/rselb."""
    nl = build(GenerateOptions(cell="lcc", scheme="int4", rows=2, cols=1, sram_rows_per_lcc=2, fidelity=fidelity,
                               seed=3))
    g, n = 2, nl.spec.n_bits
    line = re.search(r"^Xsl_1_0\b.*?(?=^[^+])", nl.text, re.S | re.M).group(0)
    nets = line.replace("\n+", " ").split()[1:-1]
    stored = nets[5:-n - 2 * g]  # after inp inn vcm vdd vss, before the selects and the GBL taps
    if fidelity == "transistor":
        assert stored[0] == "prog"
        stored = stored[1:]
    rails = ["vdd_1" if b else "0" for b in nl.codes.bits[2:4, 0].reshape(-1)]
    signs = ["vdd_1" if s else "0" for s in nl.codes.sign[2:4, 0]]
    flip = {"vdd_1": "0", "0": "vdd_1"}
    if fidelity == "transistor":
        assert stored == rails + signs
    else:
        assert stored == rails + [flip[x] for x in rails] + signs + [flip[x] for x in signs]
    assert nets[-n - 2 * g:-n] == ["rsel_1_0", "rsel_1_1", "rselb_1_0", "rselb_1_1"]
    assert {net for net in nl.array_nets if net.startswith(("lw", "ls"))} == set()
    assert len(re.findall(r" vdd vss rowsel$", nl.text, re.M)) == n + 1  # a multiplexer per weight bit and the sign


def test_every_convention_states_how_the_cell_reads_its_weights(installed):
    readings = {}
    for cell in ("lcc", "mllcu"):
        nl = build(GenerateOptions(cell=cell, rows=1, cols=1, sram_rows_per_lcc=4))
        readings[nl.spec.kind.storage.name] = nl.manifest["weights"]["reading"]
    assert set(readings) == set(STORAGE)
    assert readings["row-select"].startswith("4 SRAM rows share each computing cell")
    assert readings["per-cell"].startswith("one SRAM word per computing cell")


def _pwl(source) -> tuple[np.ndarray, np.ndarray]:
    t, v = np.array([pair.split() for pair in source.pwl], dtype=float).T
    return t, v


@pytest.mark.parametrize("fidelity", ["ideal-bits", "transistor"])
def test_row_select_changes_rows_without_overlap(installed, fidelity):
    """Every cycle selects its SRAM row (sram_row), and no two rows conduct at once: at
    ideal-bits (switches on while sel > selb) the selects ramp together on the reset edge,
    with one corner where the switches flip; the transmission gates break before they make."""
    nl = build(GenerateOptions(cell="lcc", scheme="int4", rows=1, cols=1, sram_rows_per_lcc=3, fidelity=fidelity))
    stim = random_stimulus(nl, 5, 1)
    sources, sched = transient_sources(nl, stim, Timing.for_technology(nl.tech))
    by_node = {s.node: s for s in sources}
    t = np.linspace(0.0, sched.t_stop_s, 200_001)
    sel = np.array([np.interp(t, *_pwl(by_node[f"rsel_0_{k}"])) for k in range(3)])
    selb = np.array([np.interp(t, *_pwl(by_node[f"rselb_0_{k}"])) for k in range(3)])
    on = sel > selb if fidelity == "ideal-bits" else sel > 0.0  # a gate conducts from its first mV
    assert on.sum(axis=0).max() == 1
    for c in range(stim.cycles):  # the selected row holds through the compute phase
        assert on[:, np.searchsorted(t, sched.sample_time(c))].tolist() == [k == stim.sram_row[c] for k in range(3)]
    rsel = [_pwl(by_node[f"rsel_0_{k}"]) for k in range(3)]
    fs = lambda x: round(float(x) * 1e15)  # noqa: E731  (times to the femtosecond)
    rsel_times = {fs(x) for ts, _ in rsel for x in ts}
    rst_t, rst_v = _pwl(by_node["rst"])
    rst_times = {fs(x) for x in rst_t}
    # ideal-bits: besides the reset edge's own corners, one corner at each ramp's middle,
    # where the select equals selb (vdd/2) and the ideal switches flip
    ramp_mids = {fs((a + b) / 2) for a, b, va, vb in zip(rst_t, rst_t[1:], rst_v, rst_v[1:]) if va != vb}
    mids = {fs(x) for ts, vs in rsel for x, v in zip(ts, vs) if abs(v - nl.design.vdd_v / 2) < 1e-12}
    assert (rsel_times <= rst_times | ramp_mids) == (fidelity == "ideal-bits")
    assert bool(mids) == (fidelity == "ideal-bits") and mids <= ramp_mids
