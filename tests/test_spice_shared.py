"""Shared-library ngspice backend: same vectors as `ngspice -b`, errors name the job,
no state carried from one run to the next, timeouts halt the background thread."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from netlistgen.sim import spice_shared
from netlistgen.core.errors import NetlistgenError, SimulationError
from netlistgen.sim.spice_shared import parse_deck, run_deck_shared, shared_ngspice


def _shared_available() -> bool:
    import importlib.util

    if importlib.util.find_spec("PySpice") is None:
        return False
    try:
        spice_shared.find_libngspice()
    except NetlistgenError:
        return False
    return True


needs_shared = pytest.mark.skipif(not _shared_available(), reason="libngspice0 or PySpice not installed")

RC_DECK = """rc test
V1 in 0 PULSE(0 1 1n 0.1n 0.1n 10n 30n)
R1 in out 1k
C1 out 0 1p
.control
set filetype=binary
tran {step} {stop} 0 {step}
write rc.raw v(out)
+ i(v1)
quit 0
.endc
.end
"""


def rc_deck(step: str = "10p", stop: str = "20n") -> str:
    return RC_DECK.format(step=step, stop=stop)


@pytest.fixture(scope="module")
def array_job(tmp_path_factory):
    """A 2x1 ZEBRA-I PTM-45 job directory (array.sp, .spiceinit, tran.sp), as simulate.py writes it."""
    from netlistgen import tech as technology
    from netlistgen.circuits.generate import GenerateOptions, build
    from netlistgen.circuits.testbench import Timing, random_stimulus, spiceinit, transient_deck

    technology.install("ptm45", progress=lambda *_: None)
    tmp_path = tmp_path_factory.mktemp("shared_array")
    nl = build(GenerateOptions(scheme="zebra-i", rows=2, cols=1))
    stim = random_stimulus(nl, 3, seed=1)
    deck, sched = transient_deck(nl, str(tmp_path / "array.sp"), stim, Timing.for_technology(nl.tech))
    (tmp_path / "array.sp").write_text(nl.text)
    (tmp_path / ".spiceinit").write_text(spiceinit(nl))
    (tmp_path / "tran.sp").write_text(deck)
    return tmp_path / "tran.sp", sched


# ---------------------------------------------------------------------------- no simulator


def test_parse_deck_strips_control_and_joins_continuations(tmp_path):
    deck = parse_deck('title\n.include "models.inc"\n.lib lib/x.lib tt\n' + rc_deck().split("\n", 1)[1], tmp_path)
    assert deck.circuit[0] == "title"
    assert deck.circuit[1] == f'.include "{tmp_path.as_posix()}/models.inc"'
    assert deck.circuit[2] == f'.lib "{tmp_path.as_posix()}/lib/x.lib" tt'
    assert deck.circuit[-1] == ".end"
    assert not any(".control" in ln or "tran" in ln for ln in deck.circuit)
    assert deck.commands == ["set filetype=binary", "tran 10p 20n 0 10p", "write rc.raw v(out) i(v1)", "quit 0"]


def test_parse_deck_adds_end_and_keeps_absolute_paths(tmp_path):
    deck = parse_deck('t\n.include "/abs/m.inc"\nR1 a 0 1', tmp_path)
    assert deck.circuit == ["t", '.include "/abs/m.inc"', "R1 a 0 1", ".end"]
    assert deck.commands == []


def test_parse_deck_stops_at_end():
    # fed line by line, text after `.end` would open a second, never-finished circuit
    deck = parse_deck("t\nR1 a 0 1\n.subckt s a\n.ends s\n.END\nR2 b 0 1\n")
    assert deck.circuit == ["t", "R1 a 0 1", ".subckt s a", ".ends s", ".end"]


def test_missing_library_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("NETLISTGEN_LIBNGSPICE", raising=False)
    monkeypatch.setattr(spice_shared, "_ldconfig_paths", lambda: [])
    monkeypatch.setattr(spice_shared, "LIBRARY_NAME", "libngspice-not-there.so.0")
    with pytest.raises(NetlistgenError, match="install libngspice0"):
        spice_shared.find_libngspice()


def test_library_override_must_exist(monkeypatch, tmp_path):
    monkeypatch.setenv("NETLISTGEN_LIBNGSPICE", str(tmp_path / "nope.so"))
    with pytest.raises(NetlistgenError, match="NETLISTGEN_LIBNGSPICE"):
        spice_shared.find_libngspice()


@needs_shared
def test_find_libngspice_finds_the_debian_library():
    path = Path(spice_shared.find_libngspice())
    assert path.is_file() and path.name.startswith("libngspice.so")


# ---------------------------------------------------------------------------- with libngspice


@pytest.mark.ngspice
@needs_shared
@pytest.mark.ngspice
def test_backends_agree_on_the_array_deck(array_job):
    from netlistgen.sim.rawfile import read_raw
    from netlistgen.sim.runner import run_deck

    deck_path, sched = array_job
    run_deck(deck_path, timeout_s=120, name="array-subprocess")
    ref = read_raw(deck_path.parent / "tran.raw")
    got = run_deck_shared(deck_path, timeout_s=120, name="array-shared")
    assert list(got) == list(ref)
    outputs = [k for k in ref if k.startswith("v(out_")]
    assert outputs
    grid = np.linspace(0.0, sched.t_stop_s, 2001)
    samples = [sched.sample_time(c) for c in range(3)]
    for key in outputs:
        a = np.interp(grid, ref["time"], ref[key])
        b = np.interp(grid, got["time"], got[key])
        assert np.max(np.abs(a - b)) <= 1e-6, key
        sa = np.interp(samples, ref["time"], ref[key])
        sb = np.interp(samples, got["time"], got[key])
        assert np.max(np.abs(sa - sb)) <= 1e-6, key


@pytest.mark.ngspice
@needs_shared
def test_consecutive_runs_are_identical(array_job):
    deck_path, _ = array_job
    first = run_deck_shared(deck_path, timeout_s=120, name="first")
    second = run_deck_shared(deck_path, timeout_s=120, name="second")
    assert list(first) == list(second)
    for key in first:
        assert np.array_equal(first[key], second[key]), key


@pytest.mark.ngspice
@needs_shared
def test_rc_vectors_are_keyed_like_read_raw(tmp_path):
    out = shared_ngspice().run(rc_deck(), tmp_path, "rc", 30)
    assert list(out) == ["time", "v(out)", "i(v1)"]
    assert out["time"][0] == 0.0 and out["time"][-1] == pytest.approx(20e-9)
    # 1k * 1p = 1 ns time constant: settled at 1 V long before the pulse falls at 11.1 ns
    assert np.interp(11e-9, out["time"], out["v(out)"]) == pytest.approx(1.0, abs=1e-3)
    assert not (tmp_path / "rc.raw").exists()  # `write` is turned into a fetch


@pytest.mark.ngspice
@needs_shared
def test_undefined_subckt_names_the_job(tmp_path):
    bad = rc_deck().replace("C1 out 0 1p", "C1 out 0 1p\nXbad out 0 nosuchcell")
    with pytest.raises(SimulationError, match=r"job 'broken-subckt' failed: .*unknown subckt"):
        shared_ngspice().run(bad, tmp_path, "broken-subckt", 30)
    assert "v(out)" in shared_ngspice().run(rc_deck(), tmp_path, "after-subckt", 30)


@pytest.mark.ngspice
@needs_shared
def test_syntax_error_names_the_job_and_the_next_run_works(tmp_path):
    # A broken expression makes ngspice ask to be unloaded; the next run gets a fresh copy.
    bad = rc_deck().replace("R1 in out 1k", ".param rr = {1/}\nR1 in out {rr}")
    with pytest.raises(SimulationError, match=r"job 'broken-syntax' failed: .*err") as exc:
        shared_ngspice().run(bad, tmp_path, "broken-syntax", 30)
    assert "\n" not in str(exc.value)
    ok = shared_ngspice().run(rc_deck(), tmp_path, "after-syntax", 30)
    assert np.interp(11e-9, ok["time"], ok["v(out)"]) == pytest.approx(1.0, abs=1e-3)


@pytest.mark.ngspice
@needs_shared
def test_missing_vector_is_an_error(tmp_path):
    with pytest.raises(SimulationError, match=r"job 'novec' failed: vector 'v\(nothere\)' not found"):
        shared_ngspice().run(rc_deck().replace("v(out)", "v(nothere)"), tmp_path, "novec", 30)


@pytest.mark.ngspice
@needs_shared
def test_timeout_halts_and_the_next_run_works(tmp_path):
    import time

    slow = rc_deck(step="1e-16", stop="1e-6")  # ~1e10 steps: never finishes
    start = time.monotonic()
    with pytest.raises(SimulationError, match=r"job 'too-slow' timed out after 0.5 s"):
        shared_ngspice().run(slow, tmp_path, "too-slow", 0.5)
    assert time.monotonic() - start < 5.0
    ok = shared_ngspice().run(rc_deck(), tmp_path, "after-timeout", 30)
    assert ok["time"][-1] == pytest.approx(20e-9)


@pytest.mark.ngspice
@needs_shared
def test_settings_and_options_do_not_leak_into_the_next_run(tmp_path):
    ng = shared_ngspice()
    ref = ng.run(rc_deck(), tmp_path, "ref", 30)
    before = ng._variables()
    # hsa mode turns `.option scale` into a global variable (sky130 decks do this)
    scaled = rc_deck().replace("C1 out 0 1p", "C1 out 0 1p\n.option scale=1e-6")
    ng.run(scaled, tmp_path, "scaled", 30, spiceinit_lines=["set ngbehavior=hsa", "set ng_nomodcheck"])
    again = ng.run(rc_deck(), tmp_path, "again", 30)
    assert ng._variables() == before
    for key in ref:
        assert np.array_equal(ref[key], again[key]), key


@pytest.mark.ngspice
@needs_shared
def test_spiceinit_beside_the_deck_is_applied(tmp_path):
    (tmp_path / ".spiceinit").write_text("* comment\nset num_threads=1\nset netlistgen_probe=7\n")
    (tmp_path / "rc.sp").write_text(rc_deck().replace("quit 0", "echo probe=$netlistgen_probe\nquit 0"))
    out = run_deck_shared(tmp_path / "rc.sp", timeout_s=30)
    assert "v(out)" in out
    assert "netlistgen_probe" in shared_ngspice()._baseline
