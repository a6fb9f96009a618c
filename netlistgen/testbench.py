"""Top-level decks around a rendered array: sources for every port, models, analyses.

The array library never contains sources or models; the testbench decides the corner,
the stimulus and what to measure, so one library serves every experiment.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import jinja2

from . import validate
from .netlist import Netlist, spice_env


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    return spice_env("testbenches")


@dataclass(frozen=True)
class Source:
    name: str
    node: str
    value: str


def static_levels(netlist: Netlist) -> dict[str, float]:
    """DC value of every driven array port for the reset/hold state (m = 0 everywhere)."""
    spec, dp = netlist.spec, netlist.design
    vdd, levels = dp.vdd_v, dp.levels
    values: dict[str, float] = {}
    for port in netlist.array_ports:
        if port.startswith("out_") or port == "vss":
            continue
        if port.startswith("ref_"):
            values[port] = dp.vcm_v + (int(port[4:]) - levels) * dp.dv_v
        elif port.startswith("sel_"):
            values[port] = vdd if int(port.rsplit("_", 1)[1]) == levels else 0.0
        elif port.startswith("selb_"):
            values[port] = 0.0 if int(port.rsplit("_", 1)[1]) == levels else vdd
        elif port == "vcm" or port.startswith("vcm_"):
            values[port] = dp.vcm_v
        elif port.startswith("vdd") or port in ("rst", "smp", "prog"):
            values[port] = vdd
        elif port in ("rstb", "smpb"):
            values[port] = 0.0
        elif port.startswith("rsel_"):
            values[port] = vdd if port == "rsel_0" else 0.0
        elif port.startswith("rselb_"):
            values[port] = 0.0 if port == "rselb_0" else vdd
        else:  # pragma: no cover - a new port kind must be given a level here
            raise AssertionError(f"no static level for port {port}")
    del spec
    return values


def output_nodes(netlist: Netlist) -> list[str]:
    return [p for p in netlist.array_ports if p.startswith("out_")]


def instance_nets(netlist: Netlist) -> list[str]:
    """Top-level nets of the array instance: port names, with vss on ground."""
    return ["0" if p == "vss" else p for p in netlist.array_ports]


def op_deck(netlist: Netlist, library_path: str) -> str:
    """A deck that loads the array and prints every output's operating point."""
    sources = [Source(p, p, validate.fmt(v)) for p, v in static_levels(netlist).items()]
    return _env().get_template("op.sp.j2").render(
        title=f"operating point of {netlist.spec.rows}x{netlist.spec.cols} {netlist.spec.cell} array",
        model_statements=netlist.tech.model_statements(netlist.corner),
        library_path=validate.spice_path(library_path, "library path", must_exist=False),
        instance_nets=instance_nets(netlist),
        sources=sources,
        probes=[f"v({n})" for n in output_nodes(netlist)],
    )


def spiceinit(netlist: Netlist) -> str:
    """`.spiceinit` for the job directory: one OpenMP thread (SPEC section 7) plus the
    technology's own start-up settings (sky130 needs ngbehavior=hsa)."""
    lines = ["set num_threads=1", *netlist.tech.spiceinit_lines]
    return "\n".join(lines) + "\n"
