"""core.validate: the gate every user value passes before it can reach a netlist."""

from __future__ import annotations

import math

import pytest

from netlistgen.core import validate
from netlistgen.core.errors import NetlistgenError


@pytest.mark.parametrize("good", ["a", "out_0_1", "_x", "A" * 64])
def test_identifier_accepts_plain_names(good):
    assert validate.identifier(good, "name") == good


@pytest.mark.parametrize("bad", ["", "1a", "a-b", "a b", "a\n.control", "A" * 65, 7, None])
def test_identifier_rejects_everything_else(bad):
    with pytest.raises(NetlistgenError, match="invalid name"):
        validate.identifier(bad, "name")


def test_number_parses_strings_and_checks_bounds():
    assert validate.number("1e-15", "c") == 1e-15
    assert validate.number(0.0, "c", minimum=0.0) == 0.0
    with pytest.raises(NetlistgenError, match="must be > 0"):
        validate.number(0.0, "c", minimum=0.0, exclusive_minimum=True)
    with pytest.raises(NetlistgenError, match="must be <= 2"):
        validate.number("3", "c", maximum=2)
    for bad in ("nan", "inf", math.inf, True, "1f", None):
        with pytest.raises(NetlistgenError, match=r"invalid c"):
            validate.number(bad, "c")


def test_integer_accepts_whole_values_only():
    assert validate.integer("+12", "n") == 12 and validate.integer(3.0, "n") == 3
    for bad in (2.5, "2.0", "1e3", True, "9" * 13, None):
        with pytest.raises(NetlistgenError, match="expected an integer"):
            validate.integer(bad, "n")
    with pytest.raises(NetlistgenError, match="must be >= 1"):
        validate.integer(0, "n", minimum=1)


def test_fmt_writes_plain_scientific_numbers():
    assert validate.fmt(1e-15) == "1e-15"
    assert validate.fmt(0.5) == "0.5"
    assert float(validate.fmt(1 / 3)) == pytest.approx(1 / 3, rel=1e-9)
    with pytest.raises(NetlistgenError, match="non-finite"):
        validate.fmt(float("nan"))


def test_spice_path_quotes_only_safe_absolute_paths(tmp_path):
    ok = tmp_path / "lib.sp"
    ok.write_text("* x\n")
    assert validate.spice_path(ok, "library") == str(ok.resolve())
    assert validate.spice_path(tmp_path / "later.sp", "library", must_exist=False).endswith("/later.sp")
    with pytest.raises(NetlistgenError, match="does not exist"):
        validate.spice_path(tmp_path / "missing.sp", "library")
    for bad in ("a b.sp", 'q".sp', "x\n.control", "$(id).sp"):
        with pytest.raises(NetlistgenError, match="may only contain"):
            validate.spice_path(tmp_path / bad, "library", must_exist=False)
