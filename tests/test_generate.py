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
