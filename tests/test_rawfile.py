"""sim.rawfile: ngspice's binary and ASCII raw files read into the same vectors; links
refused, a full disk named, an earlier run's file never read."""

from __future__ import annotations

import math
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from netlistgen.core.errors import SimulationError
from netlistgen.sim.rawfile import read_raw

RC_DECK = """* RC step response
V1 in 0 PWL(0 0 1n 0 1.001n 1)
R1 in out 1k
C1 out 0 1p
.control
set filetype={kind}
tran 10p 6n
write rc.raw v(out) i(v1)
quit 0
.endc
.end
"""


def simulate_rc(tmp_path, kind: str):
    (tmp_path / "rc.sp").write_text(RC_DECK.format(kind=kind))
    subprocess.run(["ngspice", "-b", "rc.sp"], cwd=tmp_path, capture_output=True, check=True, timeout=120)
    return read_raw(tmp_path / "rc.raw")


@pytest.mark.ngspice
@pytest.mark.parametrize("kind", ["binary", "ascii"])
def test_rc_step_matches_the_exponential(tmp_path, kind):
    raw = simulate_rc(tmp_path, kind)
    assert set(raw) == {"time", "v(out)", "i(v1)"}
    t, v = raw["time"], raw["v(out)"]
    assert t.shape == v.shape and t[0] == 0 and t[-1] == pytest.approx(6e-9)
    expected = 1 - math.exp(-(5e-9 - 1.001e-9) / 1e-9)  # tau = RC = 1 ns
    assert float(np.interp(5e-9, t, v)) == pytest.approx(expected, abs=2e-3)
    assert float(np.interp(5e-9, t, raw["i(v1)"])) == pytest.approx(-(1 - expected) / 1e3, abs=5e-6)


@pytest.mark.ngspice
def test_binary_and_ascii_agree(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "a").mkdir()
    b, a = simulate_rc(tmp_path / "b", "binary"), simulate_rc(tmp_path / "a", "ascii")
    assert np.allclose(a["time"], b["time"], rtol=1e-6) and np.allclose(a["v(out)"], b["v(out)"], atol=1e-9)


def test_truncated_and_missing_files_are_simulation_errors(tmp_path):
    header = "Title: x\nPlotname: t\nFlags: real\nNo. Variables: 2\nNo. Points: 3\nVariables:\n\t0\ttime\ttime\n\t1\tv(a)\tvoltage\nBinary:\n"
    path = tmp_path / "cut.raw"
    path.write_bytes(header.encode() + np.arange(4, dtype="<f8").tobytes())  # 4 of 6 values
    with pytest.raises(SimulationError, match="cut.raw.* is truncated"):
        read_raw(path)
    path.write_bytes(header.encode() + np.arange(6, dtype="<f8").tobytes())
    assert read_raw(path)["v(a)"].tolist() == [1.0, 3.0, 5.0]
    path.write_bytes(header.replace("Flags: real", "Flags: complex").encode())
    with pytest.raises(SimulationError, match="complex"):
        read_raw(path)
    path.write_bytes(b"Title: x\nNo. Points")
    with pytest.raises(SimulationError, match="ends inside its header"):
        read_raw(path)
    with pytest.raises(SimulationError, match="cannot be read"):
        read_raw(tmp_path / "none.raw")
from netlistgen.sim import rawfile
from netlistgen.sim.executor import run_jobs
from netlistgen.sim.simulate import Job
from netlistgen.circuits.testbench import random_stimulus


def binary_raw(path: Path, n_points: int = 4, cut: int = 0) -> None:
    header = (f"Title: t\nPlotname: Transient Analysis\nFlags: real\nNo. Variables: 2\nNo. Points: {n_points}\n"
              "Variables:\n\t0\ttime\ttime\n\t1\tv(a)\tvoltage\nBinary:\n").encode()
    data = np.arange(2 * n_points, dtype="<f8").tobytes()
    path.write_bytes(header + data[: len(data) - cut])


def test_reads_binary_vectors(tmp_path):
    binary_raw(tmp_path / "t.raw")
    got = read_raw(tmp_path / "t.raw")
    assert np.array_equal(got["time"], [0, 2, 4, 6]) and np.array_equal(got["v(a)"], [1, 3, 5, 7])


def test_link_is_refused(tmp_path):
    binary_raw(tmp_path / "real.raw")
    (tmp_path / "tran.raw").symlink_to(tmp_path / "real.raw")
    with pytest.raises(SimulationError, match="symbolic link"):
        read_raw(tmp_path / "tran.raw")


def test_truncated_file_on_a_full_disk_says_so(tmp_path, monkeypatch):
    binary_raw(tmp_path / "t.raw", cut=24)
    with pytest.raises(SimulationError, match="truncated: 5 of 8 values$"):
        read_raw(tmp_path / "t.raw")

    class Full:
        f_bavail, f_frsize = 0, 4096

    monkeypatch.setattr(rawfile.os, "statvfs", lambda _p: Full)
    with pytest.raises(SimulationError, match="truncated.*disk is full.*ENOSPC"):
        read_raw(tmp_path / "t.raw")
    (tmp_path / "e.raw").write_bytes(b"")
    with pytest.raises(SimulationError, match="empty.*ENOSPC"):
        read_raw(tmp_path / "e.raw")


def test_huge_point_count_in_header_is_not_allocated(tmp_path):
    binary_raw(tmp_path / "t.raw", n_points=4)
    text = (tmp_path / "t.raw").read_bytes().replace(b"No. Points: 4", b"No. Points: 999999999999")
    (tmp_path / "t.raw").write_bytes(text)
    with pytest.raises(SimulationError, match="truncated"):
        read_raw(tmp_path / "t.raw")


@pytest.mark.ngspice
def test_planted_links_and_stale_raw_files_in_a_job_directory(build_small, tmp_path, monkeypatch):
    """A link at jobs/<job>/tran.raw is replaced, not written through; a raw file left by an
    earlier run is never read when the simulator writes none."""
    nl = build_small(rows=2, cols=1)
    job = Job("s", nl, random_stimulus(nl, 3, 1))
    outside = tmp_path / "outside.txt"
    outside.write_text("precious\n")
    (tmp_path / "w" / "s").mkdir(parents=True)
    (tmp_path / "w" / "s" / "tran.raw").symlink_to(outside)
    (tmp_path / "w" / "s" / "tran.log").symlink_to(outside)
    results, errors = run_jobs([job], tmp_path / "w", progress=False)
    assert not errors and outside.read_text() == "precious\n"
    assert not (tmp_path / "w" / "s" / "tran.raw").is_symlink()
    # ngspice that exits 0 without writing: the earlier tran.raw must not be read as this run's
    fake = tmp_path / "ngspice"
    fake.write_text(f'#!/bin/sh\nif [ "$1" = "-v" ]; then {os.environ.get("NGSPICE", "ngspice")} -v; fi\nexit 0\n')
    fake.chmod(0o755)
    monkeypatch.setenv("NETLISTGEN_NGSPICE", str(fake))
    _, errors = run_jobs([job], tmp_path / "w", progress=False)
    assert "without writing tran.raw" in errors["s"], errors
    assert (tmp_path / "w" / "s" / "job.json").is_file()
    (tmp_path / "w" / "s").rename(tmp_path / "elsewhere")
    (tmp_path / "w" / "s").symlink_to(tmp_path / "elsewhere")  # a whole job folder planted as a link
    before = sorted(p.name for p in (tmp_path / "elsewhere").iterdir())
    run_jobs([job], tmp_path / "w", progress=False)  # the link is replaced by the run's own folder
    assert not (tmp_path / "w" / "s").is_symlink()
    assert sorted(p.name for p in (tmp_path / "elsewhere").iterdir()) == before
