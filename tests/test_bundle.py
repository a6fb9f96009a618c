"""Netlists as a deliverable (issue 14 part 1): the documented interface and the
self-contained bundle, run in plain ngspice and by a hand-written testbench."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from netlistgen.circuits.generate import GenerateOptions, build
from netlistgen.circuits.testbench import Stimulus, static_levels
from netlistgen.cli import main
from netlistgen.sim.simulate import Job, run_job


HAND_WRITTEN_TB = Path(__file__).parent / "fixtures" / "bundle_tb.sp"


@pytest.mark.parametrize("kw", [
    dict(scheme="zebra-i", rows=3, cols=2),
    dict(scheme="int8", rows=2, cols=2, fidelity="transistor", sram_rows_per_lcc=2),
    dict(scheme="int4", rows=2, cols=1, sram_rows_per_lcc=3, reset_noise=True),
    dict(scheme="zebra-ii", rows=2, cols=1, fidelity="transistor"),
])
def test_interface_lists_every_array_net_with_role_and_levels(kw):
    nl = build(GenerateOptions(**kw))
    iface = nl.manifest["interface"]
    assert sum(e["count"] for e in iface) == len(nl.array_nets)
    static = static_levels(nl)
    for e in iface:
        rx = re.compile("^" + re.sub(r"<[a-z]>", "[0-9]+", e["nets"]) + "$")
        nets = [n for n in nl.array_nets if rx.match(n)]
        assert len(nets) == e["count"] and e["role"]
        # the levels the testbench actually applies at rest are among the documented ones
        for n in nets:
            if e["kind"] != "observed":
                assert min(abs(static[n] - v) for v in e["levels_v"]) < 1e-9, (n, static[n], e)
        assert f"*  {e['nets']} x{e['count']} [{e['kind']}," in nl.text  # the header comment says it too
    assert nl.text.count("\n*  ") == len(iface)


def _meas(stdout: str) -> dict[str, float]:
    return {m.group(1): float(m.group(2)) for m in re.finditer(r"^(c\d_\d)\s+=\s+(\S+)", stdout, re.M)}


@pytest.mark.ngspice
def test_bundle_runs_from_any_directory_and_a_hand_written_testbench_reproduces_the_tool(tmp_path, installed):
    bundle = tmp_path / "deliver" / "bundle"
    assert main(["generate", "--scheme", "zebra-i", "--rows", "2", "--cols", "1", "--out", str(tmp_path / "gen"),
                 "--bundle", str(bundle)]) == 0
    names = sorted(p.relative_to(bundle).as_posix() for p in bundle.rglob("*") if p.is_file())
    assert names == [".spiceinit", "array.sp", "manifest.json", "models/nom-0.spice", "op.sp", "tran.sp"]
    assert (bundle / "array.sp").read_text() == (tmp_path / "gen" / "array.sp").read_text()
    for deck in ("op.sp", "tran.sp"):  # relative includes only
        includes = re.findall(r'^\.include "([^"]+)"$', (bundle / deck).read_text(), re.M)
        assert includes == ["models/nom-0.spice", "array.sp"]

    # moved elsewhere and run from an unrelated working directory
    moved = tmp_path / "elsewhere" / "copy"
    shutil.copytree(bundle, moved)
    shutil.rmtree(tmp_path / "deliver")
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    op = subprocess.run(["ngspice", "-b", str(moved / "op.sp")], cwd=cwd, capture_output=True, text=True, timeout=300)
    outs = [float(v) for v in re.findall(r"^v\(out_0_\d\) = (\S+)", op.stdout, re.M)]
    assert op.returncode == 0 and len(outs) == 4 and max(abs(v - 0.5) for v in outs) < 1e-3
    tran = subprocess.run(["ngspice", "-b", str(moved / "tran.sp")], cwd=cwd, capture_output=True, text=True,
                          timeout=300)
    assert tran.returncode == 0 and (cwd / "tran.raw").stat().st_size > 1000

    # the hand-written testbench includes the bundle and drives it by its interface
    (tmp_path / "elsewhere" / "bundle").symlink_to(moved)
    shutil.copy(HAND_WRITTEN_TB, tmp_path / "elsewhere" / "tb.sp")
    hand = subprocess.run(["ngspice", "-b", str(tmp_path / "elsewhere" / "tb.sp")], cwd=cwd, capture_output=True,
                          text=True, timeout=300)
    meas = _meas(hand.stdout)
    assert hand.returncode == 0 and len(meas) == 8, hand.stdout[-2000:]
    hand_v = np.array([[meas[f"c{c}_{i}"] for i in range(4)] for c in range(2)])

    nl = build(GenerateOptions(scheme="zebra-i", rows=2, cols=1))
    res = run_job(Job("tool", nl, Stimulus(np.array([[3, -1], [-2, 2]]), np.array([0, 0]))), tmp_path / "job")
    tool_v = res.v_sample_v + nl.design.vcm_v
    assert np.abs(tool_v - 0.5).max() > 0.02  # a real signal on every cycle
    np.testing.assert_allclose(hand_v, tool_v, atol=20e-6)  # measured: agree within 1e-7 V


def test_bundle_errors_are_one_line_and_write_nothing(tmp_path, capsys):
    target = tmp_path / "file"
    target.write_text("x")
    code = main(["generate", "--rows", "1", "--cols", "1", "--out", str(tmp_path / "o"), "--bundle", str(target)])
    err = capsys.readouterr().err
    assert code == 2 and ("is not writable" in err or "cannot be created" in err)
    assert len(err.strip().splitlines()) == 1 and target.read_text() == "x"
    assert not (tmp_path / "o").exists()  # the bundle failed first: nothing written
