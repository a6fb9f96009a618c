"""An interrupted regression run resumes from the result cache and ends with the same report."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time

import pytest


SUITE = """
defaults: {technology: ptm45, rows: 2, cols: 1, cycles: 4, fidelity: ideal-bits}
cases:
  - {name: r-a, scheme: zebra-i, seed: 1}
  - {name: r-b, scheme: zebra-ii, seed: 2}
  - {name: r-c, scheme: zebra-i, seed: 3, rows: 3}
  - {name: r-e, scheme: zebra-i, seed: 5, cols: 2}
"""


def _cmd(tmp, out, cache, *extra):
    return [sys.executable, "-m", "netlistgen.cli", "regress", "--suite", str(tmp / "suite.yaml"),
            "--golden", str(tmp / "golden.json"), "--out", str(tmp / out), "--cache-dir", str(tmp / cache),
            "--jobs", "2", *extra]


def _cases(tmp, out) -> list:
    return json.loads((tmp / out / "report.json").read_text())["cases"]


@pytest.mark.ngspice
@pytest.mark.slow
def test_killed_runs_resume_to_the_same_report(installed, tmp_path):
    (tmp_path / "suite.yaml").write_text(SUITE)
    start = time.perf_counter()
    subprocess.run(_cmd(tmp_path, "gold", "cache-ref", "--update-golden"), check=True, capture_output=True)
    full_s = time.perf_counter() - start
    ref = subprocess.run(_cmd(tmp_path, "ref", "cache-ref"), capture_output=True, text=True)
    assert ref.returncode == 0, ref.stdout + ref.stderr
    reference = _cases(tmp_path, "ref")
    assert [c["status"] for c in reference] == ["pass"] * 4

    rng = random.Random(2024)
    partial_kills = 0
    for k, sig in enumerate((signal.SIGKILL, signal.SIGTERM)):
        cache = f"cache-{k}"
        proc = subprocess.Popen(_cmd(tmp_path, f"run-{k}", cache), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        # a random point of the run, but after the first and before the last job is stored
        # (a fixed delay raced with the run's speed on a loaded machine)
        want = rng.randint(1, 4)
        deadline = time.perf_counter() + 3 * full_s + 60
        while proc.poll() is None and time.perf_counter() < deadline:
            if len(list((tmp_path / cache).glob("??/*.npz"))) >= want:
                break
            time.sleep(0.02)
        stored_at_signal = len(list((tmp_path / cache).glob("??/*.npz")))
        proc.send_signal(sig)
        code = proc.wait(timeout=120)
        stored = len(list((tmp_path / cache).glob("??/*.npz")))
        if code == 0:  # finished before the signal: nothing to resume, still a valid check below
            assert stored == 5
        else:
            assert code in (-signal.SIGKILL, 130), code
            assert stored <= 5
            partial_kills += stored_at_signal < 5
        resumed = subprocess.run(_cmd(tmp_path, f"run-{k}", cache), capture_output=True, text=True)
        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
        assert _cases(tmp_path, f"run-{k}") == reference
        assert len(list((tmp_path / cache).glob("??/*.npz"))) == 5  # 3 single-column cases + 2 columns of r-e
    assert partial_kills >= 1  # at least one run really stopped half-way and resumed
