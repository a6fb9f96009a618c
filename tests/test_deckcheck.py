"""Model decks checked as code, and the set of files ngspice reads (compared with strace)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from netlistgen.cli import main
from netlistgen.core.errors import NetlistgenError
from netlistgen.tech import deckcheck
from netlistgen.tech.technology import load_technology

FIXTURES = Path(__file__).parent / "fixtures"
NETLISTGEN = str(Path(sys.executable).parent / "netlistgen")


def user_tech(tmp_path: Path) -> Path:
    d = tmp_path / "tech"
    d.mkdir()
    for name in ("user_tech.toml", "user_bsim4_typ.inc", "user_bsim4_slow.inc"):
        shutil.copy(FIXTURES / name, d / name)
    return d / "user_tech.toml"


HOSTILE = {
    "control block": ".control\nshell touch {marker}\n.endc\n",
    "exec block": ".exec\nshell touch {marker}\n.endc\n",
    "star-hash control line": "*# shell touch {marker}\n",
    "control split by a continuation": ".con\n+trol\nshell touch {marker}\n.endc\n",
    "unexpected dot-command": ".tran 1n 10n\n",
    "include continued on a + line": ".include\n+ {marker}\n",
}


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_model_file_is_refused_before_any_simulator(tmp_path, kind):
    desc = user_tech(tmp_path)
    marker = tmp_path / "PWNED"
    model = desc.parent / "user_bsim4_typ.inc"
    n_before = len(model.read_text().splitlines())
    with model.open("a") as fh:
        fh.write(HOSTILE[kind].format(marker=marker))
    for argv in (["generate", "--rows", "2", "--cols", "1", "--out", str(tmp_path / "g")],
                 ["simulate", "--rows", "2", "--cols", "1", "--cycles", "3", "--energy-cycles", "0", "--no-cache",
                  "--out", str(tmp_path / "s")]):
        proc = subprocess.run([NETLISTGEN, *argv, "--tech", str(desc)], capture_output=True, text=True, timeout=300)
        lines = proc.stderr.strip().splitlines()
        assert proc.returncode == 2 and len(lines) == 1, proc.stderr
        assert str(model) in lines[0] and f"line {n_before + 1}" in lines[0], lines[0]
    assert not marker.exists() and not (tmp_path / "g").exists()


@pytest.mark.ngspice
@pytest.mark.ngspice
def test_model_file_edited_after_generate_is_checked_by_check(tmp_path):
    desc = user_tech(tmp_path)
    out = tmp_path / "g"
    assert main(["generate", "--tech", str(desc), "--rows", "2", "--cols", "1", "--out", str(out)]) == 0
    marker = tmp_path / "PWNED"
    with (desc.parent / "user_bsim4_typ.inc").open("a") as fh:
        fh.write(f".control\nshell touch {marker}\n.endc\n")
    proc = subprocess.run([NETLISTGEN, "check", str(out)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and "'.control' is not allowed" in proc.stderr, proc.stderr
    assert not marker.exists()


@pytest.mark.parametrize("name", ["ptm45", "sky130"])
def test_real_decks_pass_every_corner(installed, name):
    t = load_technology(name)
    for corner in t.corners + t.mismatch_corners:
        t.check_models(corner)


def test_missing_include_names_the_including_line(tmp_path):
    (tmp_path / "top.lib").write_text("* models\n.include 'nowhere.inc'\n")
    with pytest.raises(NetlistgenError, match=r"nowhere\.inc.*included from .*top\.lib' line 2"):
        deckcheck.read_set(tmp_path / "top.lib")


def test_fifo_or_device_is_not_read(tmp_path):
    (tmp_path / "top.lib").write_text(".include /dev/zero\n")
    with pytest.raises(NetlistgenError, match="not a regular file"):
        deckcheck.read_set(tmp_path / "top.lib")


def spellings(tmp_path: Path) -> tuple[Path, Path]:
    """A deck whose includes use every spelling ngspice accepts; returns (run dir, deck)."""
    lib, run = tmp_path / "my models", tmp_path / "run"
    (lib / "sub").mkdir(parents=True)
    run.mkdir()
    for name in ("a", "b", "c", "d", "e", "g", "h"):
        (lib / f"{name}.inc").write_text(f"* {name}\n")
    (lib / "sub" / "nest.inc").write_text("* relative to this file's folder\n.include ../g.inc\n")
    (lib / "cwd.inc").write_text("* relative: found in the run folder first\n.include fallback.inc\n")
    (run / "fallback.inc").write_text("* fallback\n")
    plain = tmp_path / "plain"  # `.lib` takes the first word as its file: no spaces there
    plain.mkdir()
    (plain / "sections.lib").write_text(f".lib one\n.include '{lib}/c.inc'\n.endl\n.lib two\n"
                                        f".include \"{lib}/d.inc\"\n.endl\n")
    deck = run / "top.sp"
    deck.write_text(f"""t
.INCLUDE "{lib}/a.inc"
.inc '{lib}/b.inc'
.Include "{lib}/sub/nest.inc" ; trailing comment
.lib "{plain}/sections.lib" one
.include "{lib}/cwd.inc"
.inc "{lib}/h.inc"
V1 1 0 1
R1 1 0 1k
.op
.end
""")
    return run, deck


@pytest.mark.ngspice
@pytest.mark.skipif(shutil.which("strace") is None, reason="strace not installed")
def test_read_set_is_what_ngspice_opens(tmp_path):
    run, deck = spellings(tmp_path)
    trace = tmp_path / "trace.txt"
    subprocess.run(["strace", "-f", "-e", "trace=openat", "-o", str(trace), "ngspice", "-b", deck.name],
                   cwd=run, capture_output=True, timeout=120, check=True)
    opened = set()
    for line in trace.read_text().splitlines():
        if "openat(" in line and "ENOENT" not in line and '"' in line:
            name = line.split('"')[1]
            p = Path(os.path.normpath(run / name))
            if str(p).startswith(str(tmp_path)) and p != deck:
                opened.add(p)
    ours = {f.path for f in deckcheck.read_set(deck, run_dir=run, check=False)} - {deck}
    assert len(ours) == 10 and ours == opened, (sorted(ours ^ opened))
