"""Every generated cell (a 1x1 array at transistor fidelity) and a 16x8 array per scheme
and technology load in real ngspice and reach an operating point with every output at
VCM (reset and sample switches closed, inputs at m = 0)."""

from __future__ import annotations

from pathlib import Path

import pytest

from netlistgen.circuits.generate import GenerateOptions, generate
from netlistgen.sim.runner import parse_print, run_deck
from netlistgen.circuits.testbench import output_nodes


FIXTURES = Path(__file__).parent / "fixtures"
SCHEMES = ["int4", "int8", "zebra-i", "zebra-ii"]


def op_outputs(tmp_path: Path, **kw) -> tuple[dict[str, float], float, list[str]]:
    netlist, paths = generate(GenerateOptions(out=str(tmp_path / "gen"), **kw))
    result = run_deck(paths["op_deck"], timeout_s=600)
    values = parse_print(result.stdout)
    return values, netlist.design.vcm_v, output_nodes(netlist)


@pytest.mark.ngspice
@pytest.mark.parametrize("tech", ["ptm45", "sky130"])
@pytest.mark.parametrize("scheme", SCHEMES)
def test_cell_operating_point(tmp_path, installed, tech, scheme):
    values, vcm, outs = op_outputs(tmp_path, scheme=scheme, technology=tech, rows=1, cols=1, fidelity="transistor")
    assert sorted(k for k in values if k.startswith("out_")) == sorted(outs)
    for node in outs:
        assert values[node] == pytest.approx(vcm, abs=1e-3)


@pytest.mark.ngspice
@pytest.mark.slow
@pytest.mark.parametrize("tech", ["ptm45", "sky130"])
@pytest.mark.parametrize("scheme", SCHEMES)
def test_array_16x8_operating_point(tmp_path, installed, tech, scheme):
    values, vcm, outs = op_outputs(tmp_path, scheme=scheme, technology=tech, rows=16, cols=8)
    assert len(outs) == 8 * {"int4": 3, "int8": 7, "zebra-i": 4, "zebra-ii": 4}[scheme]
    for node in outs:
        assert values[node] == pytest.approx(vcm, abs=1e-3)


@pytest.mark.ngspice
def test_user_descriptor_array(tmp_path):
    values, vcm, outs = op_outputs(tmp_path, scheme="zebra-i", technology=str(FIXTURES / "user_tech.toml"),
                                   rows=4, cols=2, fidelity="transistor", corner="slow")
    for node in outs:
        assert values[node] == pytest.approx(vcm, abs=1e-3)
