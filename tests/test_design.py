"""circuits.design: the array spec and design point, validated at construction."""

from __future__ import annotations

import dataclasses

import pytest

from netlistgen.circuits.design import ArraySpec, as_dict, default_cell, default_levels
from netlistgen.circuits.encoding import get_pattern_set
from netlistgen.core.errors import NetlistgenError


def spec(**kw) -> ArraySpec:
    base = dict(cell="mllcu", pattern_set=get_pattern_set("zebra-i"), rows=4, cols=3)
    return ArraySpec(**{**base, **kw})


def test_derived_sizes():
    s = spec()
    assert s.n_bits == get_pattern_set("zebra-i").n_bits and s.bit_cols == 3 * s.n_bits
    assert s.weight_rows == 4 and s.has_pattern_bit
    lcc = spec(cell="lcc", pattern_set=get_pattern_set("int8"), sram_rows_per_lcc=16)
    assert lcc.weight_rows == 64 and lcc.bit_cols == 3 * 7 and not lcc.has_pattern_bit and lcc.c2_ratio == 1  # 7 magnitude bits


@pytest.mark.parametrize("kw,needle", [
    ({"cell": "sram"}, "unknown cell kind 'sram'"),
    ({"fidelity": "exact"}, "unknown fidelity 'exact'"),
    ({"rows": 0}, "invalid rows 0"),
    ({"cols": "x"}, "invalid cols 'x'"),
    ({"cell": "lcc"}, "the baseline LCC has no pattern bit"),
])
def test_bad_specs_are_one_line_errors(kw, needle):
    with pytest.raises(NetlistgenError, match=needle):
        spec(**kw)


def test_defaults_per_scheme_and_cell():
    assert default_cell("int8") == "lcc" and default_cell("zebra-ii") == "mllcu"
    assert default_levels("lcc") == 1 and default_levels("mllcu") == 3


def test_design_point_validation_names_the_field(build_small):
    dp = build_small().design
    with pytest.raises(NetlistgenError, match="c_unit_f"):
        dataclasses.replace(dp, c_unit_f=-1e-15)
    d = as_dict(spec())
    assert d["pattern_set"]["name"] == "zebra-i" and d["rows"] == 4
