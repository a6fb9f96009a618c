"""Malformed configs (issue 6, item 2): each is one line on stderr naming the file, the
key and the value, exit code 2, nothing written."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from netlistgen.fuzzing import run_cli

FIXTURES = Path(__file__).parent / "fixtures"

# (file name, content, words the one-line error must contain besides the file name)
GENERATE_CONFIGS = [
    ("trunc.toml", 'scheme = "zebra-i"\nrows = [2,\n', ["not valid TOML"]),
    ("trunc.yaml", "scheme: zebra-i\ndesign:\n  c_unit_f: [1e-15\n", ["not valid YAML", "line 3"]),
    ("cut.toml", 'scheme = "zebra-i\n', ["not valid TOML"]),
    ("empty.yaml", "", ["sets no options"]),
    ("comments.toml", "# rows = 4\n", ["sets no options"]),
    ("binary.toml", b"\xff\xfe\x00rows = 1", ["cannot read"]),
    ("list.yaml", "- rows\n- 2\n", ["top level must be a mapping"]),
    ("rows_str.toml", 'rows = "two"\n', ["'rows'", "'two'"]),
    ("rows_float.yaml", "rows: 2.5\n", ["'rows'", "2.5"]),
    ("rows_bool.toml", "rows = true\n", ["'rows'", "True"]),
    ("rows_zero.toml", "rows = 0\n", ["'rows'", "0", ">= 1"]),
    ("rows_huge.toml", "rows = 1e300\n", ["'rows'", "1e+300"]),
    ("cols_neg.yaml", "cols: -4\n", ["'cols'", "-4"]),
    ("seed_neg.toml", "seed = -1\n", ["'seed'", "-1"]),
    ("sram.toml", 'scheme = "int4"\nsram_rows_per_lcc = 1000\n', ["'sram_rows_per_lcc'", "1000"]),
    ("unknown.yaml", "rowz: 3\n", ["unknown key 'rowz'"]),
    ("dup.yaml", "rows: 2\nrows: 3\n", ["duplicate key 'rows'"]),
    ("dup.toml", "rows = 2\nrows = 3\n", ["not valid TOML"]),
    ("pytag.yaml", 'rows: !!python/object/apply:os.system ["id"]\n', ["python/object/apply"]),
    ("scheme_int.toml", "scheme = 3\n", ["'scheme'", "3"]),
    ("scheme_unknown.toml", 'scheme = "int9"\n', ["'scheme'", "'int9'"]),
    ("cell.toml", 'cell = "xyz"\n', ["'cell'", "'xyz'"]),
    ("fidelity.yaml", "fidelity: full\n", ["'fidelity'", "'full'"]),
    ("clip.toml", 'clip = "none"\n', ["'clip'", "'none'"]),
    ("tech.toml", 'technology = "ptm7"\n', ["'technology'", "'ptm7'"]),
    ("corner.toml", 'corner = "zz"\n', ["'corner'", "'zz'"]),
    ("weights.toml", 'weights = "/nonexistent/w.npy"\n', ["'weights'", "/nonexistent/w.npy"]),
    ("design_table.toml", "design = 3\n", ["'design'", "3"]),
    ("cap_neg.toml", "[design]\nc_unit_f = -1e-15\n", ["c_unit_f", "-1e-15"]),
    ("cap_huge.toml", "[design]\nc_unit_f = 1e308\n", ["c_unit_f", "1e+308", "<= 1e-06"]),
    ("width_huge.yaml", "design:\n  siu_width_factor: 1.0e+9\n", ["siu_width_factor", "<= 10000"]),
    ("cap_nan.toml", "[design]\nc_unit_f = nan\n", ["'design.c_unit_f'", "nan"]),
    ("vdd_inf.yaml", "design:\n  vdd_v: .inf\n", ["'design.vdd_v'", "inf"]),
    ("vdd_str.yaml", 'design:\n  vdd_v: "1.0\\n.control"\n', ["'design.vdd_v'", "\\n.control"]),
    ("levels_big.toml", "[design]\nlevels = 16\n", ["'design.levels'", "16", "<= 15"]),
    ("levels_zero.toml", "[design]\nlevels = 0\n", ["'design.levels'", "0"]),
    ("levels_frac.yaml", "design:\n  levels: 2.5\n", ["'design.levels'", "2.5"]),
    ("dv_span.toml", "[design]\nlevels = 3\ndv_v = 0.3\n", ["dv_v", "0.3"]),
    ("unknown_design.toml", "[design]\nfoo_f = 1\n", ["'foo_f'"]),
]


@pytest.mark.parametrize("name,content,needles", GENERATE_CONFIGS, ids=[c[0] for c in GENERATE_CONFIGS])
def test_generate_config_errors(tmp_path, installed, name, content, needles):
    cfg = tmp_path / name
    cfg.write_bytes(content if isinstance(content, bytes) else content.encode())
    out = tmp_path / "out"
    code, _, err = run_cli(["generate", "--config", str(cfg), "--out", str(out)])
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("netlistgen: error:"), err
    assert str(cfg) in lines[0]
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    assert not out.exists()


def test_flag_overrides_a_bad_file_value(tmp_path, installed):
    """A flag replaces the file's value, so the file's bad value is not blamed."""
    cfg = tmp_path / "a.toml"
    cfg.write_text('rows = "two"\ncols = 1\n')
    code, _, err = run_cli(["generate", "--config", str(cfg), "--rows", "1", "--out", str(tmp_path / "o")])
    assert code == 0, err
    code, _, err = run_cli(["generate", "--config", str(cfg), "--rows", "x", "--out", str(tmp_path / "p")])
    assert code == 2 and "'x'" in err and str(cfg) not in err


SUITES = [
    ("cases: []\n", ["'cases' must be a non-empty list"]),
    ("defaults: {rows: 1}\n", ["missing required key 'cases'"]),
    ("cases:\n  - {name: a, rows: 1, cols: 1, design: {c_unit_f: -1}}\n", ["case 'a'", "c_unit_f", "-1"]),
    ("cases:\n  - {name: a, cols: x}\n", ["case 'a'", "'cols'", "'x'"]),
    ("cases:\n  - {name: a, design: 5}\n", ["case 'a'", "'design'", "5"]),
    ("cases:\n  - {name: a, scheme: 7}\n", ["case 'a'", "'scheme'", "7"]),
    ("cases:\n  - {name: a, cycles: 1}\n", ["case 'a'", "cycles", "1"]),
    ("cases:\n  - {name: a, tolerances: {gain_mv_per_lsb: {rel: .nan}}}\n", ["case 'a'", "gain_mv_per_lsb", "nan"]),
    ("cases:\n  - {name: a, tolerances: {snr: {abs: 1}}}\n", ["case 'a'", "'snr'"]),
    ("cases:\n  - {name: a}\n  - {name: a}\n", ["duplicate case name 'a'"]),
    ("cases:\n  - {name: a, stimulus: ramp}\n", ["case 'a'", "'ramp'"]),
    ("defaults: {rows: 0}\ncases:\n  - {name: a}\n", ["case 'a'", "'rows'", "0"]),
    ("cases:\n  - {name: a, rows: 1\n", ["not valid YAML"]),
]


@pytest.mark.parametrize("content,needles", SUITES)
def test_regression_suite_errors(tmp_path, installed, content, needles):
    suite = tmp_path / "suite.yaml"
    suite.write_text(content)
    code, _, err = run_cli(["regress", "--suite", str(suite), "--out", str(tmp_path / "rep")])
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1, err
    assert str(suite) in lines[0]
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    assert not (tmp_path / "rep").exists()


PATTERN_FILES = [
    ("[pattern_sets.p]\npatterns = [[3, 2], [4, 3]\n", ["is not valid TOML"]),
    ("[pattern_sets.p]\npatterns = [[3, 2], [5, 3]]\n", ["pattern_sets.p.patterns"]),  # not a shift family
    ("[pattern_sets.p]\npatterns = [[3, -1]]\n", ["pattern_sets.p.patterns", "-1"]),
    ("[pattern_sets.p]\npatterns = [[3, 2]]\nextra = 1\n", ["unknown key 'extra'"]),
    ("[pattern_sets.zebra-i]\npatterns = [[3, 2]]\n", ["'zebra-i'"]),
    ('[pattern_sets."a\\n.control"]\npatterns = [[3, 2]]\n', ["\\n.control"]),
]


@pytest.mark.parametrize("content,needles", PATTERN_FILES)
def test_pattern_set_file_errors(tmp_path, installed, content, needles):
    pfile = tmp_path / "p.toml"
    pfile.write_text(content)
    code, _, err = run_cli(["generate", "--rows", "1", "--cols", "1", "--patterns", str(pfile), "--scheme", "p",
                            "--out", str(tmp_path / "o")])
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and str(pfile) in lines[0], err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


@pytest.mark.parametrize("edit,needles", [
    (("vdd_v = 1.0", "vdd_v = -1.0"), ["vdd_v", "-1"]),
    (("vdd_v = 1.0", "vdd_v = nan"), ["vdd_v", "nan"]),
    (("c_unit_f = 1e-15", 'c_unit_f = "big"'), ["c_unit_f", "'big'"]),
    (('nmos = "user_nch"', 'nmos = "n ch"'), ["nmos", "'n ch'"]),
    (('name = "user_demo"', ""), ["name"]),
    (("[wire]", "[wire]\nbogus = 1"), ["bogus"]),
    (("lmin_m = 60e-9", "lmin_m = 60e-9\nlmin_m = 1"), ["is not valid TOML"]),
])
def test_technology_descriptor_errors(tmp_path, installed, edit, needles):

    text = (FIXTURES / "user_tech.toml").read_text()
    assert edit[0] in text
    desc = tmp_path / "t.toml"
    desc.write_text(text.replace(edit[0], edit[1], 1))
    code, _, err = run_cli(["generate", "--rows", "1", "--cols", "1", "--tech", str(desc), "--out", str(tmp_path / "o")])
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and str(desc) in lines[0], err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


@pytest.mark.parametrize("suffix", [".npy", ".csv"])
def test_empty_weights_file(tmp_path, installed, suffix):
    """An empty matrix (found by the campaign: numpy's loadtxt warning leaked a second line)."""
    wfile = tmp_path / f"w{suffix}"
    np.save(wfile, np.zeros((0, 1))) if suffix == ".npy" else wfile.write_text("")
    code, _, err = run_cli(["generate", "--rows", "2", "--cols", "1", "--weights", str(wfile), "--out", str(tmp_path / "o")])
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and str(wfile) in lines[0] and "holds no values" in lines[0], err


@pytest.mark.parametrize("value,needle", [(np.nan, "nan"), (np.inf, "inf"), (-np.inf, "-inf")])
@pytest.mark.parametrize("suffix", [".npy", ".csv"])
def test_weights_with_non_finite_values(tmp_path, installed, value, needle, suffix):
    w = np.full((2, 1), 0.25)
    w[1, 0] = value
    wfile = tmp_path / f"w{suffix}"
    np.save(wfile, w) if suffix == ".npy" else np.savetxt(wfile, w, delimiter=",")
    code, _, err = run_cli(["generate", "--rows", "2", "--cols", "1", "--weights", str(wfile), "--out", str(tmp_path / "o")])
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1, err
    assert str(wfile) in lines[0] and needle in lines[0] and "row 1, column 0" in lines[0]
    assert not (tmp_path / "o").exists()
