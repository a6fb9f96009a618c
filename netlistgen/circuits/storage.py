"""How a cell kind's stored bits reach its computing cell: the storage conventions.

One weight-programming convention holds for every convention (and so for every cell kind,
user cells included): **the weights live in the library**. Every stored bit is tied to
the rail it holds, its row's supply `vdd_<r>` for a 1 and ground for a 0: directly at
ideal-bits fidelity, through the 6T cell's programming switch at transistor fidelity. A
testbench drives only controls (inputs, references, reset/sample, and the row selects of
a convention that shares cells among SRAM rows), never a weight; so the decks of two
arrays that differ only in their weights are identical, and new weights mean a
regenerated `array.sp` (tests/test_storage.py checks both).

A convention owns everything about the stored weight that varies between cell kinds:
the ports of the `slice` subcircuit (one weight in one row), the nets a slice instance
connects to, the extra top-level control nets the testbench must drive, their levels and
waveforms, and how many SRAM rows share one computing cell. The cell templates only see
the computing-cell ports `inp inn vcm w wb s sb [p pb] gbl vdd vss`.

- `per-cell` (ML-LCU): one SRAM word per computing cell.
- `row-select` (baseline LCC): `sram_rows_per_lcc` SRAM rows share the computing cells
  through a row multiplexer (transmission gates at transistor fidelity, ideal switches at
  ideal-bits, where the stored bits are ideal too); the testbench selects a row per
  compute cycle.

When the selected row changes within a cycle depends on the multiplexer (`SELECT_EDGES`).
"""

from __future__ import annotations

from dataclasses import dataclass

from netlistgen.circuits.pwl import complement, digital, split_ramps


# The convention as stated in every library's header and manifest ("weights" section).
WEIGHT_PROGRAMMING = ("programmed in the library: each stored bit is tied to its row's supply "
                      "vdd_<r> (1) or to ground (0), at transistor fidelity through its 6T cell's programming "
                      "switch; no testbench net carries a weight, so new weights mean a regenerated array.sp")


def _rail(vdd: str, bit) -> str:
    """A stored bit as a rail: the rail its 6T cell is programmed to (transistor
    fidelity) or the rail standing in for the cell (ideal-bits)."""
    return vdd if int(bit) else "0"


@dataclass(frozen=True)
class SelectEdges:
    """When a row multiplexer changes the selected SRAM row: the old row's select starts to
    fall `break_edges` and the new row's starts to rise `make_edges` control edges (t_edge_s)
    after the cycle starts. Equal counts: one ramp, both selects together. `corner_at_flip`:
    a PWL corner at each ramp's middle, where ideal switches (vt = 0 on sel - selb) flip, so
    the engine puts a time point there and resolves the rail's sub-ps charging edge."""

    break_edges: int
    make_edges: int
    corner_at_flip: bool = False

    def edges(self, t_start_s: float, t_edge_s: float, selected: bool) -> list[tuple[float, bool]]:
        """One select's (time, level) edges in a cycle (pwl.digital skips those that keep its level)."""
        make = (t_start_s + self.make_edges * t_edge_s, selected)
        if self.break_edges == self.make_edges:
            return [make]
        return [(t_start_s + self.break_edges * t_edge_s, False), make]


# Transmission gates conduct while their controls ramp, so the old row breaks and the new one
# makes two edges later (break before make). The ideal-bits switches are on only while
# sel > selb, and the two rows' controls are exact complements during a shared ramp, so one
# opens in the time step the other closes, never both on; their ramp is the reset edge at the
# cycle start, which adds no breakpoints of its own (the separate ramps cost an int8 sampled
# run ~30 % more time points: docs/macro.md "Cost"). Without the corner at the flip, ngspice's
# switch flips inside a step and the trapezoidal rule rings on the bit rails, counting 2-4 %
# too much delivered energy on LCC cycles with a row change (docs/vacask.md, "LCC row select").
SELECT_EDGES = {"transistor": SelectEdges(2, 4), "ideal-bits": SelectEdges(0, 0, corner_at_flip=True)}


@dataclass(frozen=True)
class PerCell:
    """One SRAM word per computing cell (ML-LCU)."""

    name: str = "per-cell"
    shares_rows: bool = False
    slice_template: str = "slice_percell.sp.j2"
    prelude_template: str = ""  # no extra subcircuit

    def sram_rows(self, spec) -> int:
        return 1

    def reading(self, spec) -> str:
        return "one SRAM word per computing cell, always connected"

    def slice_ports(self, spec) -> list[str]:
        n = spec.n_bits
        if spec.fidelity == "transistor":
            return ["prog"] + [f"wv_{i}" for i in range(n)] + ["sv"] + (["pv"] if spec.has_pattern_bit else [])
        ports = [f"w_{i}" for i in range(n)] + [f"wb_{i}" for i in range(n)] + ["s", "sb"]
        return ports + (["p", "pb"] if spec.has_pattern_bit else [])

    def slice_nets(self, spec, codes, r: int, j: int) -> list[str]:
        vdd = f"vdd_{r}"
        bits, s, p = codes.bits[r, j], codes.sign[r, j], codes.pattern[r, j]
        if spec.fidelity == "transistor":
            nets = ["prog"] + [_rail(vdd, b) for b in bits] + [_rail(vdd, s)]
            return nets + ([_rail(vdd, p)] if spec.has_pattern_bit else [])
        nets = [_rail(vdd, b) for b in bits] + [_rail(vdd, 1 - b) for b in bits] + [_rail(vdd, s), _rail(vdd, 1 - s)]
        return nets + ([_rail(vdd, p), _rail(vdd, 1 - p)] if spec.has_pattern_bit else [])

    def array_nets(self, spec) -> list[str]:
        return []

    def interface_roles(self, spec) -> dict[str, str]:
        return {}

    def static_levels(self, netlist) -> dict[str, float]:
        return {}

    def waves(self, netlist, stim, sched) -> dict[str, list[tuple[float, float]]]:
        return {}


@dataclass(frozen=True)
class RowSelect:
    """SRAM rows sharing the computing cells through a row multiplexer (baseline LCC)."""

    name: str = "row-select"
    shares_rows: bool = True
    slice_template: str = "slice_rowsel.sp.j2"
    prelude_template: str = "rowsel.sp.j2"  # the row multiplexer subcircuit

    def sram_rows(self, spec) -> int:
        return spec.sram_rows_per_lcc

    def reading(self, spec) -> str:
        mux = "transmission-gate" if spec.fidelity == "transistor" else "ideal-switch"
        return (f"{spec.sram_rows_per_lcc} SRAM rows share each computing cell through a {mux} row "
                "multiplexer; the row selects rsel_<r>_<k> pick the row that computes")

    def slice_ports(self, spec) -> list[str]:
        """Every SRAM row's bits (a 6T cell's programming rail, or the rails themselves at
        ideal-bits: the latch's q and qb) and the row selects."""
        n, g = spec.n_bits, spec.sram_rows_per_lcc
        if spec.fidelity == "transistor":
            ports = ["prog"] + [f"wv_{k}_{i}" for k in range(g) for i in range(n)] + [f"sv_{k}" for k in range(g)]
        else:
            ports = [f"w_{k}_{i}" for k in range(g) for i in range(n)] + [f"wb_{k}_{i}" for k in range(g) for i in range(n)]
            ports += [f"s_{k}" for k in range(g)] + [f"sb_{k}" for k in range(g)]
        return ports + [f"sel_{k}" for k in range(g)] + [f"selb_{k}" for k in range(g)]

    def slice_nets(self, spec, codes, r: int, j: int) -> list[str]:
        n, g = spec.n_bits, spec.sram_rows_per_lcc
        vdd = f"vdd_{r}"
        rows = range(r * g, (r + 1) * g)
        bits = [int(codes.bits[wr, j, i]) for wr in rows for i in range(n)]
        signs = [int(codes.sign[wr, j]) for wr in rows]
        if spec.fidelity == "transistor":
            nets = ["prog"] + [_rail(vdd, b) for b in bits] + [_rail(vdd, s) for s in signs]
        else:
            nets = [_rail(vdd, b) for b in bits] + [_rail(vdd, 1 - b) for b in bits]
            nets += [_rail(vdd, s) for s in signs] + [_rail(vdd, 1 - s) for s in signs]
        return nets + [f"rsel_{r}_{k}" for k in range(g)] + [f"rselb_{r}_{k}" for k in range(g)]

    def array_nets(self, spec) -> list[str]:
        """The row selects, per row."""
        g = spec.sram_rows_per_lcc
        return [net for r in range(spec.rows)
                for net in [f"rsel_{r}_{k}" for k in range(g)] + [f"rselb_{r}_{k}" for k in range(g)]]

    def interface_roles(self, spec) -> dict[str, str]:
        """Role of each storage net family (netlist.interface)."""
        return {"rsel_<r>_<k>": "SRAM row select k of row r (1 = row k drives the computing cells)",
                "rselb_<r>_<k>": "complement of rsel_<r>_<k>"}

    def static_levels(self, netlist) -> dict[str, float]:
        """First SRAM row of each group selected."""
        spec, vdd = netlist.spec, netlist.design.vdd_v
        levels: dict[str, float] = {}
        for r in range(spec.rows):
            for k in range(spec.sram_rows_per_lcc):
                levels[f"rsel_{r}_{k}"] = vdd if k == 0 else 0.0
                levels[f"rselb_{r}_{k}"] = 0.0 if k == 0 else vdd
        return levels

    def waves(self, netlist, stim, sched) -> dict[str, list[tuple[float, float]]]:
        """The selected SRAM row changes early in each reset phase (timing: SELECT_EDGES)."""
        spec, vdd, e = netlist.spec, netlist.design.vdd_v, sched.timing.t_edge_s
        timing = SELECT_EDGES[spec.fidelity]
        waves: dict[str, list[tuple[float, float]]] = {}
        for k in range(spec.sram_rows_per_lcc):
            edges = []
            for c in range(stim.cycles):
                edges += timing.edges(sched.cycle_start(c), e, int(stim.sram_row[c]) == k)
            wave = digital(edges, k == int(stim.sram_row[0]), vdd, e)
            if timing.corner_at_flip:
                wave = split_ramps(wave)
            for r in range(spec.rows):
                waves[f"rsel_{r}_{k}"] = wave
                waves[f"rselb_{r}_{k}"] = complement(wave, vdd)
        return waves


STORAGE = {s.name: s for s in (PerCell(), RowSelect())}
