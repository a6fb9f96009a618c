"""Cells as data (circuits/cells.py, storage.py) and the scheme registry (schemes.py):
the built-in records, user cell files (validation, grammar, end to end in ngspice)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from netlistgen.circuits import cells, schemes
from netlistgen.circuits.cells import BUILTIN, INPUT_KINDS, load_cell_file
from netlistgen.circuits.generate import GenerateOptions, build, write
from netlistgen.circuits.testbench import Timing, random_stimulus, sweep_stimulus, transient_deck
from netlistgen.cli import main
from netlistgen.core.errors import NetlistgenError

from netlistgen.fuzzing import check_netlist

FIXTURE = Path(__file__).parent / "fixtures" / "cells" / "lcc_nmos.toml"
PACKAGE = Path(cells.__file__).resolve().parents[1]


def test_no_branch_on_a_cell_or_scheme_name_outside_the_registries():
    """Issue 10: adding a cell or a scheme edits a registry, not branches across modules."""
    pattern = re.compile(r"""[!=]= *["'](lcc|mllcu|zebra[-\w]*|int[48])["']|["'](lcc|mllcu)["'] *[!=]=""")
    registries = {PACKAGE / "circuits" / "cells.py", PACKAGE / "circuits" / "schemes.py"}
    hits = [f"{p.relative_to(PACKAGE)}:{n}" for p in PACKAGE.rglob("*.py") if p not in registries
            for n, line in enumerate(p.read_text().splitlines(), 1) if pattern.search(line)]
    templates = PACKAGE / "templates"
    hits += [f"templates/{p.name}" for p in templates.glob("*.j2") if re.search(r"cell *==", p.read_text())]
    assert hits == []


def test_builtin_records_agree_with_the_schemes_they_serve():
    assert set(cells.CELL_KINDS) == {"lcc", "mllcu"}
    for name, kind in BUILTIN.items():
        assert (PACKAGE / "templates" / kind.template).is_file()
        scheme = schemes.SCHEMES[kind.default_scheme]
        assert scheme.cell == name  # a cell's default scheme is built on that cell
        kind.check_patterns(scheme.pattern_set)
    assert schemes.COMPARED == ("int4", "int8", "zebra-i", "zebra-ii")
    assert set(schemes.DEMO) < set(schemes.COMPARED)
    assert schemes.default_cell("int4") == "lcc" and schemes.default_cell("my-set") == "mllcu"
    # SPEC 5a: an 8-bit input is 8 binary cycles, or 4 balanced base-7 digits on the ML-SIU
    assert INPUT_KINDS["binary"].input_cycles(1, 8) == 8
    assert INPUT_KINDS["multilevel"].input_cycles(3, 8) == 4
    assert INPUT_KINDS["binary"].input_cycles(1, 4) == 4


def test_cell_without_a_scheme_builds_its_default_scheme():
    assert GenerateOptions(cell="lcc").scheme == "int8"
    assert GenerateOptions(cell="mllcu").scheme == "zebra-i"
    assert GenerateOptions().scheme == "zebra-i"
    assert GenerateOptions(cell_file=str(FIXTURE)).scheme == "int8"
    assert GenerateOptions(cell_file=str(FIXTURE), cell="lcc_nmos").scheme == "int8"
    with pytest.raises(NetlistgenError, match="baseline LCC has no pattern bit"):
        build(GenerateOptions(cell="lcc", scheme="zebra-i", rows=2, cols=1))


def _user_cell(tmp_path: Path, descriptor: str | None = None, template: str | None = None) -> Path:
    """A copy of the fixture cell, with the descriptor or template text replaced."""
    src = FIXTURE.parent
    path = tmp_path / "cell.toml"
    path.write_text(descriptor if descriptor is not None else FIXTURE.read_text())
    (tmp_path / "lcc_nmos.sp.j2").write_text(template if template is not None
                                             else (src / "lcc_nmos.sp.j2").read_text())
    return path


GOOD = FIXTURE.read_text()


@pytest.mark.parametrize("old,new,needle", [
    ('input = "binary"', 'input = "ternary"', "key 'input': unknown value 'ternary'"),
    ('storage = "row-select"', 'storage = "dram"', "key 'storage': unknown value 'dram'"),
    ('name = "lcc_nmos"', 'name = "mllcu"', "key 'name': 'mllcu' is taken"),
    ('name = "lcc_nmos"', 'name = "a b"', "key 'name': invalid cell name 'a b'"),
    ('template = "lcc_nmos.sp.j2"', 'template = "../../etc/passwd.j2"', "key 'template'"),
    ('template = "lcc_nmos.sp.j2"', 'template = "missing.sp.j2"', "missing.sp.j2"),
    ("pattern_bit = false", 'pattern_bit = "no"', "key 'pattern_bit': expected true or false"),
    ("tgs_per_bit = 2", "tgs_per_bit = -1", "key 'area.tgs_per_bit'"),
    ("tgs_per_bit = 2", "tgs_per_bit = 2\ncolour = 1", "unknown key 'colour'"),
    ('title = "LCC with NMOS pass gates"', 'title = "LCC with NMOS pass gates"\nswitch = "n"', "unknown key 'switch'"),
])
def test_invalid_cell_file_is_a_one_line_error_naming_file_key_and_value(tmp_path, old, new, needle):
    path = _user_cell(tmp_path, GOOD.replace(old, new))
    with pytest.raises(NetlistgenError) as exc:
        load_cell_file(path)
    msg = str(exc.value)
    assert "\n" not in msg and str(path) in msg and needle in msg


BODY = """.subckt lcc_nmos inp inn vcm w wb s sb gbl vdd vss
C1 x gbl {{ c1 }}
"""


@pytest.mark.parametrize("template,needle", [
    (BODY + ".ends lcc_nmos\nC9 inp 0 1e-15\n", "element outside the .subckt"),
    (BODY + ".include \"/etc/passwd\"\n.ends lcc_nmos\n", "not a comment, M/X/C/R/S element"),
    (BODY + ".control\nshell rm -rf x\n.endc\n.ends lcc_nmos\n", "not a comment, M/X/C/R/S element"),
    (BODY + "Vx x 0 1\n.ends lcc_nmos\n", "not a comment, M/X/C/R/S element"),
    (BODY + ".param k=2\n.ends lcc_nmos\n", "not a comment, M/X/C/R/S element"),
    (BODY + "C2 x gbl $(id)\n.ends lcc_nmos\n", "not a comment, M/X/C/R/S element"),
    (BODY.replace(" vdd vss", " vss vdd") + ".ends lcc_nmos\n", "expected one '.subckt lcc_nmos inp inn"),
    (BODY, "no complete '.subckt lcc_nmos' block"),
    (BODY + ".ends lcc\n", "expected '.ends lcc_nmos'"),
    ("* é\n" + BODY + ".ends lcc_nmos\n", "not a comment"),
    (BODY + "{{ undefined_name }}\n.ends lcc_nmos\n", "UndefinedError: 'undefined_name' is undefined"),
    (BODY + "{% if %}\n.ends lcc_nmos\n", "TemplateSyntaxError"),
])
def test_user_template_must_render_to_one_clean_subckt(tmp_path, template, needle):
    path = _user_cell(tmp_path, template=template)
    with pytest.raises(NetlistgenError) as exc:
        build(GenerateOptions(cell_file=str(path), rows=2, cols=1, sram_rows_per_lcc=2))
    assert needle in str(exc.value) and "\n" not in str(exc.value) and str(path.parent) in str(exc.value)


@pytest.mark.parametrize("fidelity", ["ideal-bits", "transistor"])
def test_user_cell_output_passes_the_netlist_oracle(tmp_path, installed, fidelity):
    """Library and transient deck of a user cell pass the same grammar as the built-ins'."""
    nl = build(GenerateOptions(cell_file=str(FIXTURE), rows=2, cols=2, sram_rows_per_lcc=2, fidelity=fidelity))
    assert nl.spec.cell == "lcc_nmos" and nl.spec.kind.storage.name == "row-select"
    assert "Xc_0 inp inn vcm" in nl.text and nl.text.count(".subckt lcc_nmos ") == 1
    assert nl.manifest["cell"]["template_sha256"] and nl.manifest["cell"]["input"] == "binary"
    paths = write(nl, tmp_path / "out")
    deck, _ = transient_deck(nl, str(paths["library"]), random_stimulus(nl, 3, 1), Timing.for_technology(nl.tech))
    assert check_netlist(paths["library"].read_text(), deck=False) > 50
    assert check_netlist(paths["op_deck"].read_text(), deck=True) > 10
    assert check_netlist(deck, deck=True) > 10
    # the same drive as the built-in cell it replaces: binary inputs, SRAM rows in turn
    stim = sweep_stimulus(nl, 4)
    assert stim.inputs.min() == 0 and stim.inputs.max() == 1
    assert random_stimulus(nl, 4, 1).sram_row.tolist() == [0, 1, 0, 1]


def test_cell_file_errors_through_the_cli_and_config(tmp_path, capsys):
    code = main(["generate", "--cell-file", str(tmp_path / "nope.toml"), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and "nope.toml" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()
    cfg = tmp_path / "run.toml"
    cfg.write_text(f'cell_file = "{_user_cell(tmp_path, GOOD.replace("binary", "analog"))}"\nrows = 2\n')
    code = main(["generate", "--config", str(cfg), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and "key 'input': unknown value 'analog'" in err and not (tmp_path / "o").exists()


def _gain_and_inl(tmp_path: Path, *argv: str) -> tuple[float, float]:
    """`netlistgen simulate` of a 4x1 int4 array; (gain mV/LSB, INL LSB) from results.json."""
    out = tmp_path / "run"
    assert main(["simulate", "--scheme", "int4", "--rows", "4", "--cols", "1", "--sram-rows-per-lcc", "2",
                 "--cycles", "12", "--stim-seed", "3", "--energy-cycles", "0", "--no-cache", "--out", str(out),
                 *argv]) == 0
    row = json.loads((out / "results.json").read_text())["results"][0]
    assert row["cell"] == ("lcc_nmos" if "--cell-file" in argv else "lcc")
    shutil.rmtree(out)
    return row["gain_mv_per_lsb"], row["inl_lsb"]


@pytest.mark.ngspice
def test_user_cell_end_to_end_in_ngspice(tmp_path, installed):
    """generate -> simulate -> metrics of the fixture cell, no package edit: with inputs
    below VDD - VT its NMOS pass gates match the built-in LCC's transmission gates; at the
    default full swing (VCM + dV = VDD) they cannot pass the high level, so gain and INL
    break down."""
    low = ["--set", "vcm_v=0.25", "--set", "dv_v=0.2"]
    gain_lcc, inl_lcc = _gain_and_inl(tmp_path, "--cell", "lcc", *low)
    gain_user, inl_user = _gain_and_inl(tmp_path, "--cell-file", str(FIXTURE), *low)
    assert gain_lcc > 5 and abs(gain_user / gain_lcc - 1) < 0.01  # measured 9.635 vs 9.635 mV/LSB
    assert inl_lcc < 0.05 and inl_user < 0.05
    gain_full, inl_full = _gain_and_inl(tmp_path, "--cell-file", str(FIXTURE))
    assert inl_full > 0.5  # measured 1.15 LSB (the built-in LCC: 0.003)
    assert gain_full < 0.7 * _gain_and_inl(tmp_path, "--cell", "lcc")[0]  # measured 10.8 vs 23.9 mV/LSB
