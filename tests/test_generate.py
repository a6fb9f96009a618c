"""circuits.generate: options (flags over config files), weights files, written outputs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from netlistgen.circuits.generate import GenerateOptions, build, generate, load_weights
from netlistgen.core.errors import NetlistgenError


def test_config_file_values_and_overrides(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('scheme = "zebra-ii"\nrows = 8\n[design]\nc_unit_f = 2e-15\n')
    opts = GenerateOptions.from_file(cfg, rows=4, cols=None)
    assert (opts.scheme, opts.rows, opts.cols, opts.design) == ("zebra-ii", 4, 8, {"c_unit_f": 2e-15})
    cfg.write_text("rowz = 3\n")
    with pytest.raises(NetlistgenError, match="unknown key 'rowz'"):
        GenerateOptions.from_file(cfg)


def test_weights_files_round_trip(tmp_path, installed):
    w = np.random.default_rng(0).normal(size=(4, 2))
    np.save(tmp_path / "w.npy", w)
    np.savetxt(tmp_path / "w.csv", w, delimiter=",")
    assert np.array_equal(load_weights(tmp_path / "w.npy"), w)
    assert np.allclose(load_weights(tmp_path / "w.csv"), w)
    a = build(GenerateOptions(rows=4, cols=2, weights=str(tmp_path / "w.npy")))
    b = build(GenerateOptions(rows=4, cols=2, weights=str(tmp_path / "w.csv")))
    assert np.array_equal(a.codes.bits, b.codes.bits) and np.array_equal(a.codes.sign, b.codes.sign)
    (tmp_path / "bad.csv").write_text("1,2\n3,x\n")
    with pytest.raises(NetlistgenError, match="bad.csv"):
        load_weights(tmp_path / "bad.csv")


def test_generate_writes_consistent_files(tmp_path, installed):
    nl, paths = generate(GenerateOptions(scheme="int4", rows=2, cols=1, out=str(tmp_path / "g")))
    manifest = json.loads(paths["manifest"].read_text())
    assert manifest["spec"]["cell"] == "lcc" and manifest["spec"]["bit_cols"] == 3  # int4: 3 magnitude bits
    assert paths["library"].read_text() == nl.text
    assert str(paths["library"].resolve()) in paths["op_deck"].read_text()


def _level_lines(deck: str) -> list[str]:
    """The `.param` and source lines of a deck (what a level change touches)."""
    return [ln for ln in deck.splitlines() if ln.startswith((".param ", "V"))]


def test_check_decks_carry_the_generated_level_params(tmp_path, installed):
    """op.json records the decks' level params; a library read back for `check` renders the
    same `.param` and source lines as generate's own op.sp ({vdd_v}, {vcm_v}, {vref_<j>})."""
    from netlistgen.circuits.generate import load_generated
    from netlistgen.circuits.testbench import dc_sources, op_deck_text

    nl, paths = generate(GenerateOptions(scheme="zebra-i", rows=2, cols=1, out=str(tmp_path / "g")))
    assert json.loads(paths["op_bench"].read_text())["params"] == nl.deck_params
    library, levels, probes, _ = load_generated(tmp_path / "g")
    assert library.deck_params == nl.deck_params and library.temp_c == nl.temp_c
    deck = op_deck_text(library, "array.sp", dc_sources(levels), probes, raw_name="op")
    lines = _level_lines(deck)
    assert lines == _level_lines(paths["op_deck"].read_text())
    assert ".param vdd_v=1" in lines and ".param vref_0=0" in lines and "Vvdd_1 vdd_1 0 {vdd_v}" in lines
    assert "Vref_4 ref_4 0 {vref_4}" in lines and "Vrstb rstb 0 0" in lines


def test_directory_generated_before_the_params_record(tmp_path, installed, capsys):
    """No "params" in op.json (written before it existed): the deck keeps plain numbers.
    A malformed record is a one-line error naming it (it would become a .param line)."""
    from netlistgen.circuits.generate import load_generated
    from netlistgen.circuits.testbench import dc_sources, op_deck_text
    from netlistgen.cli import main

    generate(GenerateOptions(scheme="zebra-i", rows=2, cols=1, out=str(tmp_path / "g")))
    op_json = tmp_path / "g" / "op.json"
    record = json.loads(op_json.read_text())
    old = {k: v for k, v in record.items() if k != "params"}
    op_json.write_text(json.dumps(old))
    library, levels, probes, _ = load_generated(tmp_path / "g")
    assert library.deck_params == {}
    lines = _level_lines(op_deck_text(library, "array.sp", dc_sources(levels), probes, raw_name="op"))
    assert "Vvdd_1 vdd_1 0 1" in lines and "Vref_4 ref_4 0 0.6666666667" in lines
    assert not any(ln.startswith(".param") or "{" in ln for ln in lines)
    for params, needle in [({"vdd_v": "1\n.control"}, "level param 'vdd_v': expected a number"),
                           ({"vdd_v; shell": 1}, "unexpected level param 'vdd_v; shell'"),
                           ({"vref_1": True}, "level param 'vref_1': expected a number"),
                           ([1, 2], "'params' must be a mapping")]:
        op_json.write_text(json.dumps({**old, "params": params}))
        assert main(["check", str(tmp_path / "g")]) == 2
        err = capsys.readouterr().err
        assert needle in err and "op.json" in err and len(err.strip().splitlines()) == 1, err
