"""Bounded documents (core/config.py) and bounded inputs: one-line errors, exit 2, no
RecursionError/MemoryError, and no error line longer than the cap."""

from __future__ import annotations

import struct

import pytest

from netlistgen.cli import main
from netlistgen.core.errors import MAX_ERROR_CHARS
from netlistgen.core.config import MAX_EXPANDED_NODES, parse_document
from netlistgen.core.errors import NetlistgenError


def one_line(capsys, code: int, *needles: str) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("netlistgen: error:"), (code, err)
    assert len(err[0]) <= MAX_ERROR_CHARS + 40
    for n in needles:
        assert n in err[0], (n, err[0])
    return err[0]


def alias_bomb(levels: int = 10, width: int = 9) -> str:
    lines = ["a0: &a0 [" + ",".join(["x"] * width) + "]"]
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * width) + "]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


DOCUMENTS = {
    "deep.toml": ("rows = " + "[" * 3000 + "]" * 3000 + "\n", "nested deeper"),
    "deep.yaml": ("rows: " + "[" * 3000 + "]" * 3000 + "\n", "nesting deeper than 64"),
    "deepmap.yaml": ("".join(" " * k + f"k{k}:\n" for k in range(200)) + " " * 200 + "v: 1\n", "nesting deeper"),
    "bomb.yaml": (alias_bomb(), "alias bomb"),
    "recursive.yaml": ("a: &a [1, *a]\n", "recursive alias"),
}


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_hostile_documents_are_one_line_errors(tmp_path, capsys, installed, name):
    text, needle = DOCUMENTS[name]
    (tmp_path / name).write_text(text)
    code = main(["generate", "--config", str(tmp_path / name), "--out", str(tmp_path / "o")])
    one_line(capsys, code, needle, name)
    assert not (tmp_path / "o").exists()


def test_same_limits_for_pattern_sets_suites_and_descriptors(tmp_path, capsys, installed):
    (tmp_path / "p.yaml").write_text(alias_bomb())
    one_line(capsys, main(["generate", "--patterns", str(tmp_path / "p.yaml"), "--out", str(tmp_path / "o")]),
             "pattern-set file", "alias bomb")
    (tmp_path / "s.yaml").write_text("cases: " + "[" * 3000 + "]" * 3000 + "\n")
    one_line(capsys, main(["regress", "--suite", str(tmp_path / "s.yaml"), "--out", str(tmp_path / "o")]),
             "nesting deeper")
    (tmp_path / "t.toml").write_text("name = " + "[" * 3000 + "]" * 3000 + "\n")
    one_line(capsys, main(["generate", "--tech", str(tmp_path / "t.toml"), "--out", str(tmp_path / "o")]),
             "technology descriptor", "nested deeper")


def test_json_and_legit_aliases(tmp_path):
    with pytest.raises(NetlistgenError, match="nested deeper"):
        parse_document("[" * 100000 + "]" * 100000, "json", "x.json")
    small = parse_document("base: &b {rows: 4}\nother: *b\n", "yaml", "ok.yaml")  # aliases within limits are fine
    assert small["other"] == {"rows": 4}
    assert MAX_EXPANDED_NODES >= 100_000


def test_npy_header_claiming_a_huge_shape(tmp_path, capsys, installed):
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': (100000000000, 100000), }"
    header += " " * (117 - len(header)) + "\n"
    (tmp_path / "w.npy").write_bytes(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode()
                                     + b"\0" * 64)
    code = main(["generate", "--weights", str(tmp_path / "w.npy"), "--out", str(tmp_path / "o")])
    one_line(capsys, code, "shape (100000000000, 100000)", "limit")


@pytest.mark.parametrize("value", ["1_0e-15", " infinity", "0x1p-50", "1e-15f"])
def test_python_only_number_spellings_are_refused(tmp_path, capsys, installed, value):
    code = main(["generate", "--set", f"c_unit_f={value}", "--out", str(tmp_path / "o")])
    one_line(capsys, code, "c_unit_f")


def test_error_lines_are_capped(tmp_path, capsys, installed):
    code = main(["generate", "--scheme", "x" * 5_000_000, "--out", str(tmp_path / "o")])
    one_line(capsys, code, "chars cut")
