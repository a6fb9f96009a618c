"""How a cell kind's stored bits reach its computing cell: the storage conventions.

A convention owns everything about the stored weight that varies between cell kinds:
the ports of the `slice` subcircuit (one weight in one row), the nets a slice instance
connects to, the extra top-level nets the testbench must drive, their levels and
waveforms, and how many SRAM rows share one computing cell. The cell templates only see
the computing-cell ports `inp inn vcm w wb s sb [p pb] gbl vdd vss`.

- `per-cell` (ML-LCU): one SRAM word per computing cell; every stored bit is a rail.
- `row-select` (baseline LCC): `sram_rows_per_lcc` SRAM rows share the computing cells
  through a row multiplexer; the testbench selects a row per compute cycle.
"""

from __future__ import annotations

from dataclasses import dataclass

from netlistgen.circuits.pwl import complement, digital


def _rail(vdd: str, bit) -> str:
    """A stored bit as a rail: the rail its 6T cell is programmed to (transistor
    fidelity) or the rail standing in for the cell (ideal-bits)."""
    return vdd if int(bit) else "0"


@dataclass(frozen=True)
class PerCell:
    """One SRAM word per computing cell (ML-LCU)."""

    name: str = "per-cell"
    shares_rows: bool = False
    slice_template: str = "slice_percell.sp.j2"
    prelude_template: str = ""  # no extra subcircuit

    def sram_rows(self, spec) -> int:
        return 1

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

    def slice_ports(self, spec) -> list[str]:
        n, g = spec.n_bits, spec.sram_rows_per_lcc
        if spec.fidelity == "transistor":
            ports = ["prog"] + [f"wv_{k}_{i}" for k in range(g) for i in range(n)] + [f"sv_{k}" for k in range(g)]
            return ports + [f"sel_{k}" for k in range(g)] + [f"selb_{k}" for k in range(g)]
        return [f"lw_{i}" for i in range(n)] + [f"lwb_{i}" for i in range(n)] + ["ls", "lsb"]

    def slice_nets(self, spec, codes, r: int, j: int) -> list[str]:
        n, g = spec.n_bits, spec.sram_rows_per_lcc
        vdd = f"vdd_{r}"
        if spec.fidelity == "transistor":
            rows = range(r * g, (r + 1) * g)
            nets = ["prog"] + [_rail(vdd, codes.bits[wr, j, i]) for wr in rows for i in range(n)]
            nets += [_rail(vdd, codes.sign[wr, j]) for wr in rows]
            return nets + [f"rsel_{r}_{k}" for k in range(g)] + [f"rselb_{r}_{k}" for k in range(g)]
        nets = [f"lw_{r}_{j}_{i}" for i in range(n)] + [f"lwb_{r}_{j}_{i}" for i in range(n)]
        return nets + [f"ls_{r}_{j}", f"lsb_{r}_{j}"]

    def array_nets(self, spec) -> list[str]:
        """Row selects per row (transistor), or the selected row's bits per slice (ideal-bits)."""
        g, n = spec.sram_rows_per_lcc, spec.n_bits
        nets: list[str] = []
        for r in range(spec.rows):
            if spec.fidelity == "transistor":
                nets += [f"rsel_{r}_{k}" for k in range(g)] + [f"rselb_{r}_{k}" for k in range(g)]
            else:
                for j in range(spec.cols):
                    nets += [f"lw_{r}_{j}_{i}" for i in range(n)] + [f"lwb_{r}_{j}_{i}" for i in range(n)]
                    nets += [f"ls_{r}_{j}", f"lsb_{r}_{j}"]
        return nets

    def interface_roles(self, spec) -> dict[str, str]:
        """Role of each storage net family (netlist.interface)."""
        if spec.fidelity == "transistor":
            return {"rsel_<r>_<k>": "SRAM row select k of row r (1 = row k drives the computing cells)",
                    "rselb_<r>_<k>": "complement of rsel_<r>_<k>"}
        return {"lw_<r>_<j>_<i>": "selected SRAM row's weight bit i, row r, weight column j (ideal-bits)",
                "lwb_<r>_<j>_<i>": "complement of lw_<r>_<j>_<i>",
                "ls_<r>_<j>": "selected SRAM row's sign bit, row r, weight column j (ideal-bits)",
                "lsb_<r>_<j>": "complement of ls_<r>_<j>"}

    @staticmethod
    def local_bits(netlist, k: int) -> dict[str, int]:
        """Ideal-bits: the bit on every lw/lwb/ls/lsb net when SRAM row k of each group
        is selected (the rails the selected latch would pass)."""
        spec, codes = netlist.spec, netlist.codes
        g = spec.sram_rows_per_lcc
        bits: dict[str, int] = {}
        for r in range(spec.rows):
            wr = r * g + k
            for j in range(spec.cols):
                s = int(codes.sign[wr, j])
                bits[f"ls_{r}_{j}"], bits[f"lsb_{r}_{j}"] = s, 1 - s
                for i in range(spec.n_bits):
                    b = int(codes.bits[wr, j, i])
                    bits[f"lw_{r}_{j}_{i}"], bits[f"lwb_{r}_{j}_{i}"] = b, 1 - b
        return bits

    def static_levels(self, netlist) -> dict[str, float]:
        """First SRAM row of each group selected."""
        spec, vdd = netlist.spec, netlist.design.vdd_v
        if spec.fidelity != "transistor":
            return {port: vdd * bit for port, bit in self.local_bits(netlist, 0).items()}
        levels: dict[str, float] = {}
        for r in range(spec.rows):
            for k in range(spec.sram_rows_per_lcc):
                levels[f"rsel_{r}_{k}"] = vdd if k == 0 else 0.0
                levels[f"rselb_{r}_{k}"] = 0.0 if k == 0 else vdd
        return levels

    def waves(self, netlist, stim, sched) -> dict[str, list[tuple[float, float]]]:
        """The selected row changes early in each reset phase: the selected bits directly
        (ideal-bits), or break-before-make row selects (transistor)."""
        spec, vdd, e = netlist.spec, netlist.design.vdd_v, sched.timing.t_edge_s
        waves: dict[str, list[tuple[float, float]]] = {}
        if spec.fidelity != "transistor":
            per_row = [self.local_bits(netlist, k) for k in range(spec.sram_rows_per_lcc)]
            for port in per_row[0]:
                edges = [(sched.cycle_start(c) + 2 * e, bool(per_row[int(stim.sram_row[c])][port]))
                         for c in range(stim.cycles)]
                waves[port] = digital(edges, bool(per_row[int(stim.sram_row[0])][port]), vdd, 2 * e)
            return waves
        for k in range(spec.sram_rows_per_lcc):
            edges = []
            for c in range(stim.cycles):
                ts = sched.cycle_start(c)
                edges += [(ts + 2 * e, False), (ts + 4 * e, int(stim.sram_row[c]) == k)]
            wave = digital(edges, k == int(stim.sram_row[0]), vdd, e)
            for r in range(spec.rows):
                waves[f"rsel_{r}_{k}"] = wave
                waves[f"rselb_{r}_{k}"] = complement(wave, vdd)
        return waves


STORAGE = {s.name: s for s in (PerCell(), RowSelect())}
