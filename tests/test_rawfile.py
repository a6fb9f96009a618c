"""sim.rawfile: ngspice's binary and ASCII raw files read into the same vectors."""

from __future__ import annotations

import math
import subprocess

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
    with pytest.raises(SimulationError, match="cut.raw.* is malformed"):
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
