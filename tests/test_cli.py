"""The CLI: one-line errors with exit code 2 for bad input, nothing written, no
user string reaching a netlist."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from netlistgen.fuzzing import run_cli

HOSTILE = [
    "x\n.control\nshell touch /tmp/pwned\n.endc",
    ".include /etc/passwd",
    "$(touch /tmp/pwned)",
    "nom; shell ls",
    "zebra-i\r\n.end",
    "ñ" * 300,
]


def assert_one_line_error(code: int, err: str, needle: str | None = None) -> None:
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("netlistgen: error:")
    if needle is not None:
        assert needle in lines[0]


def test_generate_writes_library_deck_and_manifest(tmp_path, installed):
    out = tmp_path / "arr"
    code, stdout, _ = run_cli(["generate", "--rows", "4", "--cols", "2", "--scheme", "zebra-ii", "--out", str(out)])
    assert code == 0
    assert {p.name for p in out.iterdir()} == {"array.sp", "op.sp", "op.json", ".spiceinit", "manifest.json"}
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["spec"]["pattern_set"]["name"] == "zebra-ii"
    assert manifest["spec"]["bit_cols"] == 8
    assert "sha256" in stdout


@pytest.mark.parametrize(
    "flag,value,needle",
    [
        ("--rows", "abc", "'abc'"),
        ("--rows", "0", "'0'"),
        ("--rows", "100000", "100000"),
        ("--cols", "-3", "-3"),
        ("--scheme", "int9", "'int9'"),
        ("--tech", "ptm7", "ptm7"),
        ("--corner", "tt", "'tt'"),
        ("--seed", "1.5", "1.5"),
        ("--set", "c_unit_f=-1e-15", "c_unit_f"),
        ("--set", "bogus_f=1", "bogus_f"),
        ("--set", "vcm_v=2", "vcm_v"),
    ],
)
def test_bad_values_exit_2_and_write_nothing(tmp_path, installed, flag, value, needle):
    out = tmp_path / "never"
    code, _, err = run_cli(["generate", "--rows", "2", "--cols", "1", flag, value, "--out", str(out)])
    assert_one_line_error(code, err, needle)
    assert not out.exists()


@pytest.mark.parametrize("field", ["--scheme", "--tech", "--corner", "--weights", "--patterns", "--out", "--set"])
@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_strings_are_refused(tmp_path, installed, field, value):
    arg = f"c_unit_f={value}" if field == "--set" else value
    if field == "--out":
        arg = str(tmp_path / value.replace("/", "_"))
    code, _, err = run_cli(["generate", "--rows", "2", "--cols", "1", field, arg])
    assert_one_line_error(code, err)
    for p in tmp_path.rglob("*"):
        assert p.suffix not in (".sp", ".json"), f"{p} written"


def test_hostile_config_file_values(tmp_path, installed):
    cfg = tmp_path / "bad.toml"
    cfg.write_text('scheme = "zebra-i"\ncell = "mllcu\\n.control"\nrows = 2\ncols = 1\n')
    code, _, err = run_cli(["generate", "--config", str(cfg), "--out", str(tmp_path / "o")])
    assert_one_line_error(code, err, "mllcu")
    cfg.write_text('scheme = "zebra-i"\nrowz = 2\n')
    code, _, err = run_cli(["generate", "--config", str(cfg), "--out", str(tmp_path / "o")])
    assert_one_line_error(code, err, "rowz")
    cfg.write_text('scheme = "zebra-i\nrows = 2\n')  # truncated string
    code, _, err = run_cli(["generate", "--config", str(cfg)])
    assert_one_line_error(code, err, "bad.toml")
    assert not (tmp_path / "o").exists()


def test_config_file_and_flags_agree(tmp_path, installed):
    cfg = tmp_path / "arr.yaml"
    cfg.write_text("scheme: zebra-i\nrows: 3\ncols: 2\nseed: 5\ndesign:\n  c_unit_f: 2.0e-15\n")
    code, _, _ = run_cli(["generate", "--config", str(cfg), "--out", str(tmp_path / "a")])
    assert code == 0
    code, _, _ = run_cli(["generate", "--rows", "3", "--cols", "2", "--seed", "5", "--set", "c_unit_f=2e-15",
                     "--out", str(tmp_path / "b")])
    assert code == 0
    assert (tmp_path / "a" / "array.sp").read_text() == (tmp_path / "b" / "array.sp").read_text()


def test_weights_file_shape_and_nan(tmp_path, installed):
    w = tmp_path / "w.npy"
    np.save(w, np.zeros((3, 2)))
    code, _, err = run_cli(["generate", "--rows", "4", "--cols", "2", "--weights", str(w), "--out", str(tmp_path / "o")])
    assert_one_line_error(code, err, "(3, 2)")
    bad = np.ones((4, 2))
    bad[2, 1] = np.nan
    np.save(w, bad)
    code, _, err = run_cli(["generate", "--rows", "4", "--cols", "2", "--weights", str(w), "--out", str(tmp_path / "o")])
    assert_one_line_error(code, err, "row 2, column 1")
    assert not (tmp_path / "o").exists()


def test_weights_file_is_encoded_into_the_array(tmp_path, installed):
    w = np.array([[0.5, -1.0], [1.0, 0.0], [-0.25, 0.75], [0.0, 1.0]])
    np.savetxt(tmp_path / "w.csv", w, delimiter=",")
    code, _, _ = run_cli(["generate", "--rows", "4", "--cols", "2", "--scheme", "int4", "--sram-rows-per-lcc", "1",
                     "--weights", str(tmp_path / "w.csv"), "--out", str(tmp_path / "o")])
    assert code == 0
    values = np.array(json.loads((tmp_path / "o" / "manifest.json").read_text())["weights"]["values"])
    # per-column max-abs scale 1/7; 0.5*7 = 3.5 is a tie and goes to the smaller magnitude
    assert values[:, 0].tolist() == [3, 7, -2, 0]
    assert values[:, 1].tolist() == [-7, 0, 5, 7]


def test_unwritable_output_dir(installed):
    code, _, err = run_cli(["generate", "--rows", "2", "--cols", "1", "--out", "/proc/netlistgen-out"])
    assert_one_line_error(code, err, "/proc/netlistgen-out")


def test_check_without_ngspice(tmp_path, installed, monkeypatch):
    out = tmp_path / "o"
    assert run_cli(["generate", "--rows", "2", "--cols", "1", "--out", str(out)])[0] == 0
    monkeypatch.setenv("NETLISTGEN_NGSPICE", "/nonexistent/ngspice")
    code, _, err = run_cli(["check", str(out)])
    assert_one_line_error(code, err, "ngspice")


def test_pdk_list_and_show(installed):
    code, out, _ = run_cli(["pdk", "list"])
    assert code == 0 and "ptm45" in out and "sky130" in out and "installed" in out
    code, out, _ = run_cli(["pdk", "show", "sky130"])
    assert code == 0 and json.loads(out)["name"] == "sky130"
    code, _, err = run_cli(["pdk", "show", "nope"])
    assert_one_line_error(code, err, "nope")


def test_sqnr_command():
    code, out, _ = run_cli(["sqnr", "--rows", "64", "--cols", "16"])
    assert code == 0
    db = {ln.split()[0]: float(ln.split()[1]) for ln in out.splitlines()[1:]}
    assert db["zebra-i"] > db["int4"] + 6


@pytest.mark.parametrize("flag,value,needle", [("--adc-model", "spice9", "'spice9'"),
                                               ("--adc-policy", "loose", "'loose'"),
                                               ("--adc-share", "0", "adc-share"),
                                               ("--energy-step-ps", "20", "energy-step-ps")])
def test_report_paper_bad_macro_flags_exit_2(tmp_path, installed, flag, value, needle):
    out = tmp_path / "never"
    code, _, err = run_cli(["report", "paper", flag, value, "--out", str(out)])
    assert_one_line_error(code, err, needle)
    assert not out.exists()


HEAVY = ("matplotlib", "sklearn", "dask", "distributed", "PySpice", "tqdm")
PROBE = """
import sys
from netlistgen.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
print(sorted(sys.modules), code)
"""


def imported_after(tmp_path, *argv: str) -> tuple[set[str], int]:
    """Modules (full dotted names) loaded by one CLI call in a fresh interpreter, and its exit code."""
    import ast
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, cwd=tmp_path,
                          timeout=600)
    mods, code = proc.stdout.strip().splitlines()[-1].rsplit(" ", 1)
    return set(ast.literal_eval(mods)), int(code)


def test_help_imports_nothing_heavy(tmp_path):
    mods, code = imported_after(tmp_path, "--help")
    assert code == 0
    assert not mods & {*HEAVY, "numpy", "jinja2", "yaml"}, mods


@pytest.mark.ngspice
def test_cached_simulate_without_plots_stays_light(tmp_path, installed):
    argv = ["simulate", "--scheme", "zebra-i", "--rows", "2", "--cols", "1", "--cycles", "4", "--energy-cycles", "0",
            "--cache-dir", str(tmp_path / "cache"), "--no-plots"]
    first, code = imported_after(tmp_path, *argv, "--out", "a")
    assert code == 0 and "numpy" in first
    mods, code = imported_after(tmp_path, *argv, "--out", "b")
    assert code == 0 and not mods & set(HEAVY), mods & set(HEAVY)
    assert json.loads((tmp_path / "b/results.json").read_text())["results"][0]["snr_db"] == \
        json.loads((tmp_path / "a/results.json").read_text())["results"][0]["snr_db"]
    with_plots, code = imported_after(tmp_path, *argv[:-1], "--out", "c")  # plots: matplotlib, only now
    assert code == 0 and "matplotlib" in with_plots and (tmp_path / "c/transfer.png").is_file()


@pytest.mark.ngspice
def test_simulate_loads_only_what_it_needs(tmp_path, installed):
    """Issue 10 (CLI fixed cost): a real simulate run imports no pool, Dask, installer or
    flattener plumbing, and no numpy.ma."""
    mods, code = imported_after(tmp_path, "simulate", "--scheme", "zebra-i", "--rows", "2", "--cols", "1",
                                "--cycles", "4", "--energy-cycles", "0", "--no-cache", "--no-plots", "--out", "a")
    assert code == 0 and "numpy" in mods and "netlistgen.sim.executor" in mods
    unneeded = {"multiprocessing", "concurrent.futures.process", "socket", "uuid", "difflib", "numpy.ma",
                "netlistgen.tech.installer", "netlistgen.tech.flatten", "netlistgen.analysis.specs"}
    assert not mods & unneeded, mods & unneeded



def test_openblas_threads_default_to_one_unless_the_user_set_them(monkeypatch):
    """numpy's OpenBLAS thread pool spins ~0.15 CPU s at import; the CLI's arrays are small."""
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    with pytest.raises(SystemExit):
        main(["--version"])
    assert os.environ["OPENBLAS_NUM_THREADS"] == "1"
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "3")
    with pytest.raises(SystemExit):
        main(["--version"])
    assert os.environ["OPENBLAS_NUM_THREADS"] == "3"

def test_parser_of_the_invoked_command_parses_like_the_full_one():
    from netlistgen.cli import build_parser

    argv = ["simulate", "--scheme", "int4", "--rows", "3", "--no-plots", "--jobs", "2"]
    assert vars(build_parser("simulate").parse_args(argv)) == vars(build_parser().parse_args(argv))
    assert build_parser("nonsense").format_help() == build_parser().format_help()  # unknown: every choice listed
FAST_EXIT_PROBE = """
import atexit, sys, threading, time, types
from netlistgen.cli import run
atexit.register(lambda: print("interpreter teardown ran"))
case = sys.argv.pop(1)
if case == "busy":  # a thread that lasts until the main thread has finished
    threading.Thread(target=lambda: [time.sleep(0.01) for _ in iter(threading.main_thread().is_alive, False)]).start()
elif case == "coverage":
    sys.modules.setdefault("coverage", types.ModuleType("coverage"))
run()
"""


@pytest.mark.parametrize("case, teardown", [("idle", False), ("busy", True), ("coverage", True)])
@pytest.mark.parametrize("argv, code, stream, text", [(["pdk", "list"], 0, "stdout", "ptm45"),
                                                     (["pdk", "show", "nosuch"], 2, "stderr", "nosuch")])
def test_entry_point_skips_the_teardown_only_when_nothing_needs_it(tmp_path, case, teardown, argv, code, stream,
                                                                   text):
    """Issue 10 (CLI fixed cost): `netlistgen` ends without the interpreter's teardown (0.05 CPU s), with
    its output flushed and its exit code, unless a thread or a tool that cleans up at exit is still there."""
    proc = subprocess.run([sys.executable, "-c", FAST_EXIT_PROBE, case, *argv], capture_output=True, text=True,
                          cwd=tmp_path, timeout=120)
    assert proc.returncode == code, proc.stderr
    assert text in getattr(proc, stream)
    assert ("interpreter teardown ran" in proc.stdout) == teardown


# ------------------------------------------------------------------ state the tool does not own (issue 13)

import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

from netlistgen.cli import main  # noqa: E402

NETLISTGEN = str(Path(sys.executable).parent / "netlistgen")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def test_reader_closing_the_pipe_is_not_a_traceback(installed):
    """`netlistgen pdk show sky130 | head -0`: the reader is gone before the write."""
    proc = subprocess.Popen([NETLISTGEN, "pdk", "show", "sky130"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # like `| head` exiting before the output is written
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141 and err == "", err


@pytest.mark.parametrize("var", ["NETLISTGEN_CACHE", "HOME"])
def test_unusable_cache_folder_is_named_not_pdk_install(tmp_path, capsys, monkeypatch, var):
    (tmp_path / "afile").write_text("not a folder")
    monkeypatch.delenv("NETLISTGEN_CACHE", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv(var, str(tmp_path / "afile"))
    code, _, err = run(capsys, "generate", "--out", str(tmp_path / "o"))
    assert_one_line_error(code, err, "is not a folder")
    assert "pdk install" not in err
    code, _, err = run(capsys, "pdk", "install", "ptm45")
    assert_one_line_error(code, err, "cannot install 'ptm45'")


def test_out_naming_a_file_or_holding_a_jobs_link(tmp_path, capsys, installed):
    (tmp_path / "afile").write_text("x")
    sim = ["simulate", "--rows", "2", "--cols", "1", "--cycles", "3", "--no-cache"]
    code, _, err = run(capsys, *sim, "--out", str(tmp_path / "afile"))
    assert_one_line_error(code, err, "cannot be created")
    (tmp_path / "o").mkdir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "o" / "jobs").symlink_to(tmp_path / "elsewhere")
    code, _, err = run(capsys, *sim, "--out", str(tmp_path / "o"))
    assert_one_line_error(code, err, "symbolic link")
    assert list((tmp_path / "elsewhere").iterdir()) == []


def test_check_refuses_links_in_a_generated_folder(tmp_path, capsys, installed):
    out = tmp_path / "g"
    assert main(["generate", "--rows", "2", "--cols", "1", "--out", str(out)]) == 0
    capsys.readouterr()
    (tmp_path / "evil.sp").write_text("* outside\n")
    (out / "array.sp").unlink()
    (out / "array.sp").symlink_to(tmp_path / "evil.sp")
    code, _, err = run(capsys, "check", str(out))
    assert_one_line_error(code, err, "symbolic link")


def test_generate_over_a_planted_array_link_keeps_the_netlist_inside(tmp_path, capsys, installed):
    out = tmp_path / "g"
    out.mkdir()
    (tmp_path / "evil.sp").write_text("* outside\n")
    (out / "array.sp").symlink_to(tmp_path / "evil.sp")
    assert main(["generate", "--rows", "2", "--cols", "1", "--out", str(out)]) == 0
    op = (out / "op.sp").read_text()
    assert str(tmp_path / "evil.sp") not in op and f'"{out / "array.sp"}"' in op
    assert (tmp_path / "evil.sp").read_text() == "* outside\n" and not (out / "array.sp").is_symlink()


def test_temperature_reaches_decks_and_manifest(tmp_path, installed):
    out = tmp_path / "g"
    assert run_cli(["generate", "--rows", "2", "--cols", "1", "--temp", "-40", "--vdd", "1.1", "--out", str(out)])[0] == 0
    assert ".temp -40\n" in (out / "op.sp").read_text()
    design = json.loads((out / "manifest.json").read_text())["design"]
    assert design["temp_c"] == -40.0 and design["vdd_v"] == 1.1 and design["vcm_v"] == pytest.approx(0.55)


@pytest.mark.parametrize("temp", ["-300", "500", "hot"])
def test_bad_temperature_exits_2(tmp_path, temp):
    code, _, err = run_cli(["generate", "--temp", temp, "--out", str(tmp_path / "g")])
    assert_one_line_error(code, err, "temp_c")
    assert not (tmp_path / "g").exists()
