"""'Did you mean' hints: the helper and every kind of name the CLI checks."""

from __future__ import annotations

import pytest

from netlistgen.cli import main
from netlistgen.core.suggest import did_you_mean


def test_closest_name_case_insensitive():
    assert did_you_mean("zebra-ia", ["int8", "zebra-i", "zebra-ii"]) == " (did you mean 'zebra-i'?)"
    assert did_you_mean("PTM45", ["ptm45", "sky130"]) == " (did you mean 'ptm45'?)"


def test_no_hint_when_nothing_is_close():
    assert did_you_mean("qqqqqq", ["ptm45", "sky130"]) == ""
    assert did_you_mean("", ["a"]) == "" and did_you_mean(None, ["a"]) == ""


@pytest.mark.parametrize("argv,hint", [
    (["simulat"], "did you mean 'simulate'?"),
    (["generate", "--fidelity", "ideal-bit"], "did you mean 'ideal-bits'?"),
])
def test_argparse_choices_get_a_suggestion(capsys, argv, hint):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert hint in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("argv,hint", [
    (["--scheme", "zebra-ia"], "did you mean 'zebra-i'?"),
    (["--tech", "ptm54"], "did you mean 'ptm45'?"),
    (["--corner", "sss"], "did you mean 'ss'?"),
    (["--set", "c_unt_f=1e-15"], "did you mean 'c_unit_f'?"),
])
def test_names_get_a_suggestion_and_exit_2(tmp_path, capsys, argv, hint):
    out = tmp_path / "never"
    assert main(["generate", *argv, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert hint in err and len(err.strip().splitlines()) == 1
    assert not out.exists()  # nothing half-written


def test_config_file_key_gets_a_suggestion(tmp_path, capsys):
    cfg = tmp_path / "a.toml"
    cfg.write_text('scheme = "zebra-i"\nrowz = 4\n')
    assert main(["generate", "--config", str(cfg), "--out", str(tmp_path / "o")]) == 2
    assert "did you mean 'rows'?" in capsys.readouterr().err
