"""Netlists as a deliverable (issue 14 part 1): the documented interface and the
self-contained bundle, run in plain ngspice and by a hand-written testbench."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from netlistgen.circuits.generate import GenerateOptions, build, bundle_files
from netlistgen.circuits.netlist import ARRAY_SUBCKT, NGSPICE_MAX_PORTS, includable_text, plus_lines
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
    return {m.group(1): float(m.group(2)) for m in re.finditer(r"^([cuh]\d_\d)\s+=\s+(\S+)", stdout, re.M)}


@pytest.mark.ngspice
def test_bundle_runs_from_any_directory_and_a_hand_written_testbench_reproduces_the_tool(tmp_path, installed):
    bundle = tmp_path / "deliver" / "bundle"
    assert main(["generate", "--scheme", "zebra-i", "--rows", "2", "--cols", "1", "--out", str(tmp_path / "gen"),
                 "--bundle", str(bundle)]) == 0
    names = sorted(p.relative_to(bundle).as_posix() for p in bundle.rglob("*") if p.is_file())
    assert names == [".spiceinit", "array.sp", "cim_array.sp", "manifest.json", "models/nom-0.spice", "op.sp",
                     "tran.sp"]
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
    op = subprocess.run(["ngspice", "-b", str(moved / "op.sp")], cwd=cwd, capture_output=True, text=True, timeout=900)
    outs = [float(v) for v in re.findall(r"^v\(out_0_\d\) = (\S+)", op.stdout, re.M)]
    assert op.returncode == 0 and len(outs) == 4 and max(abs(v - 0.5) for v in outs) < 1e-3
    tran = subprocess.run(["ngspice", "-b", str(moved / "tran.sp")], cwd=cwd, capture_output=True, text=True,
                          timeout=900)
    assert tran.returncode == 0 and (cwd / "tran.raw").stat().st_size > 1000

    # the hand-written testbench includes the bundle and drives it by its interface
    (tmp_path / "elsewhere" / "bundle").symlink_to(moved)
    shutil.copy(HAND_WRITTEN_TB, tmp_path / "elsewhere" / "tb.sp")
    hand = subprocess.run(["ngspice", "-b", str(tmp_path / "elsewhere" / "tb.sp")], cwd=cwd, capture_output=True,
                          text=True, timeout=900)
    meas = _meas(hand.stdout)
    assert hand.returncode == 0 and len(meas) == 24, hand.stdout[-2000:]
    hand_v, doubled_cu, half_dv = (np.array([[meas[f"{run}{c}_{i}"] for i in range(4)] for c in range(2)])
                                   for run in "cuh")

    nl = build(GenerateOptions(scheme="zebra-i", rows=2, cols=1))
    res = run_job(Job("tool", nl, Stimulus(np.array([[3, -1], [-2, 2]]), np.array([0, 0]))), tmp_path / "job")
    tool_v = res.v_sample_v + nl.design.vcm_v
    assert np.abs(tool_v - 0.5).max() > 0.02  # a real signal on every cycle
    # the includable subcircuit, under the testbench's own net names, reproduces the tool
    np.testing.assert_allclose(hand_v, tool_v, atol=20e-6)  # measured: agree within 1e-7 V

    # The .params are live. Halving the testbench's dV halves the signal (cycle 0 minus
    # cycle 1 cancels the offset, which does not scale with dV): measured 0.5005.
    def swing(v):
        return v[0] - v[1]
    np.testing.assert_allclose(swing(half_dv) / swing(hand_v), 0.5, atol=0.01)
    # Doubling the bundle's unit capacitor (alterparam c_unit_f): charge sharing gives
    # swing ratio 2 (5 Cu R + Cx) / (10 Cu R + Cx), R = 2 rows of C1 + C2 = 5 Cu, Cx = the
    # sample capacitor, wire and switch parasitics. The ratio implies Cx; it must lie
    # between the designed part (C_sample + R C_wire = 10.4 fF) and that plus 10 fF of junctions.
    ratio = swing(doubled_cu) / swing(hand_v)  # measured 1.46 on every GBL: C_x = 17.1 fF
    dp, rows, cu = nl.design, 2, 1e-15
    cx = (2 - ratio) ** -1 * (ratio * 10 * cu * rows - 2 * 5 * cu * rows)
    designed = dp.c_sample_f + rows * dp.wire_c_per_row_f
    assert np.all(ratio > 1.2) and np.all(ratio < 2)
    assert np.all(cx > designed) and np.all(cx < designed + 10e-15), (ratio, cx)


def _max_threads(deck: Path, cwd: Path) -> int:
    """Run `ngspice -b deck` from `cwd`; the most threads the process had at once (Linux /proc)."""
    proc = subprocess.Popen(["ngspice", "-b", str(deck)], cwd=cwd, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    most = 0
    while proc.poll() is None:
        try:
            most = max(most, len(os.listdir(f"/proc/{proc.pid}/task")))
        except OSError:  # exited between poll and listdir
            break
        time.sleep(0.005)
    assert proc.wait(timeout=600) == 0
    return most


@pytest.mark.ngspice
@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="counts threads through Linux /proc")
def test_bundle_decks_set_one_thread_from_any_working_directory(tmp_path, installed):
    """ngspice reads .spiceinit only from the working directory: the bundle's decks carry
    num_threads themselves. Without that line, the same deck run from elsewhere starts
    ngspice's default of 2 OpenMP threads (the check that the count is seen)."""
    bundle = tmp_path / "b"
    assert main(["generate", "--rows", "1", "--cols", "1", "--out", str(tmp_path / "g"), "--bundle", str(bundle)]) == 0
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    for deck in ("op.sp", "tran.sp"):
        assert "\n.options num_threads=1\n" in (bundle / deck).read_text()
    # The same operating point 200 times over, so ngspice lives ~0.4 s and the thread count
    # is sampled many times (a single op of this deck ends within a few polls on a busy CI).
    text = (bundle / "op.sp").read_text()
    assert "\nop\n" in text
    held = bundle / "op_held.sp"
    held.write_text(text.replace("\nop\n", "\nrepeat 200\nop\nend\n", 1))
    assert _max_threads(held, cwd) == 1
    bare = bundle / "op_bare.sp"
    bare.write_text(held.read_text().replace(".options num_threads=1\n", ""))
    assert _max_threads(bare, cwd) == 2
    assert _max_threads(bare, bundle) == 1  # from the bundle directory its .spiceinit applies


def test_bundle_errors_are_one_line_and_write_nothing(tmp_path, capsys):
    target = tmp_path / "file"
    target.write_text("x")
    code = main(["generate", "--rows", "1", "--cols", "1", "--out", str(tmp_path / "o"), "--bundle", str(target)])
    err = capsys.readouterr().err
    assert code == 2 and ("is not writable" in err or "cannot be created" in err)
    assert len(err.strip().splitlines()) == 1 and target.read_text() == "x"
    assert not (tmp_path / "o").exists()  # the bundle failed first: nothing written


def _port_deck(n: int) -> str:
    ports = [f"p{i}" for i in range(n)]
    lines = ["* subcircuit port limit", ".subckt wide" + plus_lines(ports)]
    lines += [f"R{i} p{i} 0 1k" for i in range(n)]
    lines += [".ends wide", "Xw" + plus_lines([f"n{i}" for i in range(n)]) + " wide", f"V1 n{n - 1} 0 1",
              ".control", "op", f"print v(n{n - 1})", "quit 0", ".endc", ".end"]
    return "\n".join(lines) + "\n"


@pytest.mark.ngspice
def test_ngspice_subcircuit_port_limit_is_the_one_the_bundle_uses(tmp_path):
    """NGSPICE_MAX_PORTS ports run; one more stops ngspice ("N_GLOBAL_NODES overflow")."""
    for n, ok in ((NGSPICE_MAX_PORTS, True), (NGSPICE_MAX_PORTS + 1, False)):
        deck = tmp_path / f"p{n}.sp"
        deck.write_text(_port_deck(n))
        run = subprocess.run(["ngspice", "-b", str(deck)], cwd=tmp_path, capture_output=True, text=True, timeout=900)
        assert (f"v(n{n - 1}) = 1.000000e+00" in run.stdout) is ok, (n, run.stdout[-500:], run.stderr[-500:])
        assert ("N_GLOBAL_NODES overflow" in run.stdout + run.stderr) is not ok


def test_array_over_the_port_limit_has_no_includable_subcircuit():
    small = build(GenerateOptions(scheme="zebra-i", rows=2, cols=1))
    text = includable_text(small)
    assert text.startswith(small.text[: small.body_start]) and text.endswith(f".ends {ARRAY_SUBCKT}\n")
    assert small.text[small.body_start:] in text
    big = build(GenerateOptions(scheme="zebra-i", rows=72, cols=1))  # 7 + 72 x 16 + 10 nets
    assert len(big.array_nets) > NGSPICE_MAX_PORTS and includable_text(big) is None
    files = bundle_files(big)
    assert "cim_array.sp" not in files and '"file": null' in files["manifest.json"]
