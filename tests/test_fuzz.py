"""Injection fuzzing of every user-facing string and number (issue 6, item 1).

Hypothesis drives the real entry points — `cli.main` with argv, config files, technology
descriptors, pattern-set files, regression-suite files and weights files written to temp
dirs. The contract for each hostile value: either a one-line error with exit code 2 and
nothing written, or success where every written SPICE file passes the netlist oracle
(netlistgen/fuzzing.py) and contains none of the payload markers. Example counts are
kept small here; benchmarks/fuzz_campaign.py runs many more and records the counts.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netlistgen.fuzzing import (CONFIG_KEYS, DESCRIPTOR_KEYS, SIM_FLAGS, TEXT_FLAGS, OracleError,
                          check_netlist, check_output_dir, fuzz_config, fuzz_descriptor, fuzz_flag, fuzz_patterns,
                          fuzz_suite, fuzz_weights, hostile_number, hostile_text, hostile_weights)
from netlistgen.circuits.generate import GenerateOptions, build, write

FAST = settings(max_examples=60, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def _tmp() -> tempfile.TemporaryDirectory:
    return tempfile.TemporaryDirectory(prefix="ngfuzz")


# ---------------------------------------------------------------- the oracle itself


def test_oracle_accepts_every_template_shape(tmp_path, installed):
    """Real outputs of both cells, both fidelities, three technologies pass the oracle."""
    total = 0
    for scheme, fidelity, tech in [("zebra-i", "transistor", "ptm45"), ("int4", "transistor", "sky130"),
                                   ("zebra-ii", "ideal-bits", str(Path(__file__).parent / "fixtures/user_tech.toml")),
                                   ("int8", "ideal-bits", "ptm45")]:
        nl = build(GenerateOptions(scheme=scheme, fidelity=fidelity, technology=tech, rows=2, cols=1,
                                   sram_rows_per_lcc=2))
        out = tmp_path / f"{scheme}-{fidelity}"
        write(nl, out)
        from netlistgen.circuits.testbench import Timing, random_stimulus, transient_deck

        deck, _ = transient_deck(nl, str(out / "array.sp"), random_stimulus(nl, 2, 1), Timing.for_technology(nl.tech),
                                 max_step_s=1e-10, save_currents=True)
        (out / "tran.sp").write_text(deck)
        total += check_output_dir(out)
    files = [p for p in tmp_path.rglob("*") if p.suffix == ".sp" or p.name == ".spiceinit"]
    assert len(files) == 16
    assert total == sum(len(p.read_text().splitlines()) for p in files) > 1000  # every line was checked


@pytest.mark.parametrize("inject", [
    "* ok\n.control\nshell touch /tmp/x\n.endc",  # a second control block
    "Xa a b c sub\n.include /etc/passwd",  # unquoted include
    'Xa a b c sub\n.include "/tmp/a b"',  # unsafe path
    "Ma d g s b nmos w=$(id)",
    "Xa a b\r\n.end",
    "* comment ñ",
    "Vx a 0 1",  # a source in the library
    "Ma d g s b nmos w={w_undeclared}",  # a reference to no declared .param
    ".param x={y}",
    ".param x={x}",
    ".param x=1\n.param x=2",  # declared twice
    ".param x='1'",
    ".param x=1 y=2",
    ".param x=1\nMa d g s b nmos w={x+1}",  # only {name} and {name*number}
    ".param x=1\nMa d g s b nmos w={x*y}",
    ".param x=1\nMa d g s b nmos w={x}}",
    ".param x=1\nMa d g s b nmos w={shell}",
    ".PARAM x=1",
    ".param .control=1",
])
def test_oracle_rejects_injected_lines(inject):
    good = "* title\n.subckt tg a b en enb vdd vss\nMn a en b vss nch w=1e-07 l=5e-08\n.ends tg\n"
    assert check_netlist(good, deck=False) == 4
    with pytest.raises(OracleError):
        check_netlist(good + inject + "\n", deck=False)


def test_oracle_accepts_declared_params_only_in_the_generated_forms():
    good = ("* t\n.param w_tg=1e-07\n.param c_unit_f=1e-15\n.subckt tg a b en enb vdd vss\n"
            "Mn a en b vss nch w={w_tg} l=5e-08 delvto={agauss(0,0.01,1)}\nC2 a b {c_unit_f*4}\n"
            "C1 a b {c_unit_f*4*(1+agauss(0,0.01,1))}\n.ends tg\n")
    assert check_netlist(good, deck=False) == 8
    with pytest.raises(OracleError, match="undeclared"):  # declared below its use
        check_netlist(good.replace(".param w_tg=1e-07\n", "") + ".param w_tg=1e-07\n", deck=False)


def test_oracle_rejects_extra_control_commands():
    deck = ('* t\n.include "/tmp/a.sp"\nVa a 0 1\n.control\nop\nprint v(a)\n{}quit 0\n.endc\n.end\n')
    assert check_netlist(deck.format(""), deck=True) == 9
    for cmd in ("shell ls\n", "source /etc/passwd\n", "set sourcepath=/\n", "print v(a); shell\n"):
        with pytest.raises(OracleError):
            check_netlist(deck.format(cmd), deck=True)


# ----------------------------------------------------------------- CLI flags


@FAST
@given(flag=st.sampled_from(TEXT_FLAGS), value=hostile_text())
def test_generate_flags_hostile_text(installed, flag, value):
    with _tmp() as d:
        fuzz_flag(Path(d), flag, value)


@FAST
@given(flag=st.sampled_from(["--rows", "--cols", "--seed", "--sram-rows-per-lcc", "--set-value"]),
       value=hostile_number())
def test_generate_flags_hostile_numbers(installed, flag, value):
    with _tmp() as d:
        fuzz_flag(Path(d), flag, value)


@settings(FAST, max_examples=15)
@given(flag=st.sampled_from(SIM_FLAGS), value=hostile_text().filter(lambda s: not s.strip().isdigit()))
def test_simulate_flags_hostile(installed, flag, value):
    """Simulation flags are validated before any ngspice job starts (exit 2, nothing written)."""
    with _tmp() as d:
        assert fuzz_flag(Path(d), flag, value, command="simulate") == "rejected"


@pytest.mark.parametrize("argv", [
    ["sqnr", "--rows", "x\n.end"], ["sqnr", "--seed", "nan"], ["sqnr", "--cols", "1e999"],
    ["check", "/nonexistent\n.control"], ["check", "{d}", "--tolerance-v", "$(id)"], ["check", "{d}", "--timeout", "-1"],
    ["regress", "--jobs", "two"], ["plot", "waveform", "{d}", "--cycle", "x"],
    ["plot", "transfer", "/nonexistent/$(id)"], ["pdk", "show", ".include /etc/passwd"],
    ["pdk", "install", "x\n.control"],
])
def test_other_commands_refuse_hostile_values(tmp_path, installed, argv):
    from netlistgen.fuzzing import run_cli

    d = tmp_path / "gen"
    assert run_cli(["generate", "--rows", "1", "--cols", "1", "--out", str(d)])[0] == 0
    before = sorted(p.name for p in tmp_path.rglob("*"))
    code, _, err = run_cli([a.replace("{d}", str(d)) for a in argv])
    assert code == 2, (argv, code, err)
    assert len(err.strip().splitlines()) == 1 and err.startswith("netlistgen: error:"), err
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


@pytest.mark.parametrize("name", ["x" * 300, "a\x00b", "a\nb", "\udcff"])
def test_output_names_the_os_refuses(tmp_path, installed, name):
    """Too long, NUL, newline, unencodable: one-line error, nothing written (found by the campaign)."""
    from netlistgen.fuzzing import run_cli

    code, _, err = run_cli(["generate", "--rows", "1", "--cols", "1", "--out", f"{tmp_path}/{name}"])
    assert code == 2 and len(err.strip().splitlines()) == 1 and "netlistgen: error:" in err, err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", [["simulate", "--rows", "2", "--cols", "1", "--cycles", "4"],
                                     ["regress", "-k", "zebra-i-ptm45-8x1-ss"]])
def test_simulation_output_dir_is_checked_before_any_job(tmp_path, installed, command):
    """Job decks include paths under --out: an unsafe one is refused before anything is written."""
    from netlistgen.fuzzing import run_cli

    code, _, err = run_cli([*command, "--out", f"{tmp_path}/a b\n.control"])
    assert code == 2 and len(err.strip().splitlines()) == 1 and "output directory" in err, err
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- files


@FAST
@given(key=st.sampled_from(CONFIG_KEYS), value=st.one_of(hostile_text(), hostile_number(), st.floats()),
       suffix=st.sampled_from([".toml", ".yaml"]))
def test_config_file_hostile_values(installed, key, value, suffix):
    with _tmp() as d:
        fuzz_config(Path(d), key, value, suffix)


@FAST
@given(key=st.sampled_from(DESCRIPTOR_KEYS), value=st.one_of(hostile_text(), st.lists(hostile_text(), max_size=2),
                                                             st.floats()))
def test_technology_descriptor_hostile_values(installed, key, value):
    with _tmp() as d:
        fuzz_descriptor(Path(d), key, value, fixtures=Path(__file__).parent / "fixtures")


@FAST
@given(name=st.one_of(hostile_text(), st.just("zebra_x")),
       patterns=st.one_of(st.just([[3, 2, 1, 0], [5, 4, 3, 2]]), st.lists(st.lists(
           st.one_of(st.integers(-5, 70), hostile_text()), max_size=5), max_size=3)),
       suffix=st.sampled_from([".toml", ".yaml"]))
def test_pattern_set_file_hostile(installed, name, patterns, suffix):
    with _tmp() as d:
        fuzz_patterns(Path(d), name, patterns, suffix)


@settings(FAST, max_examples=20)
@given(key=st.sampled_from(["name", "scheme", "technology", "corner", "rows", "cycles", "stim_seed", "stimulus",
                            "tolerances", "design", "<key>"]),
       value=st.one_of(hostile_text(), hostile_number(), st.just({"c_unit_f": "1e-15\n.end"})))
def test_regression_suite_hostile(installed, key, value):
    with _tmp() as d:
        fuzz_suite(Path(d), key, value)


@FAST
@given(value=st.sampled_from([np.nan, np.inf, -np.inf, 1e308, -1e-320, 0.0]),
       kind=st.sampled_from(["value", "object", "complex", "strings", "3d", "empty", "bool"]),
       text=st.one_of(st.none(), hostile_text()), suffix=st.sampled_from([".npy", ".csv"]))
def test_weights_file_hostile(installed, value, kind, text, suffix):
    with _tmp() as d:
        fuzz_weights(Path(d), text if text is not None else hostile_weights(value, kind), suffix)

