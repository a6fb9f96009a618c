"""Simulator and environment faults (issue 6, item 3): a missing, broken or too old
ngspice, a non-converging circuit, a job killed mid-run, a hung job, a full disk. Each
failed job is reported with its reason, the others finish, and the exit code says so
(1: some jobs failed, 2: the environment or input is unusable).

Real ngspice runs the circuits; fake `ngspice` scripts (via NETLISTGEN_NGSPICE) stand
for broken installations, which is what they test: the tool's reaction to them.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from netlistgen.fuzzing import run_cli
from netlistgen.sim import runner
from netlistgen.core.errors import OutputError, SimulationError
from netlistgen.circuits.generate import GenerateOptions, build
from netlistgen.sim.executor import run_jobs
from netlistgen.sim.simulate import Job
from netlistgen.circuits.testbench import random_stimulus

REAL_NGSPICE = shutil.which("ngspice")
NETLISTGEN = str(Path(sys.executable).with_name("netlistgen"))
# Every run must really simulate: bypass the result cache where the CLI has one.
NO_CACHE = ["--no-cache"] if importlib.util.find_spec("netlistgen.sim.cache") else []
SIM_ARGS = ["simulate", "--rows", "2", "--cols", "1", "--cycles", "4", "--jobs", "2", *NO_CACHE]


def fake_ngspice(tmp_path: Path, version_line: str, body: str = 'exec "$REAL" "$@"', name: str = "ngspice") -> str:
    """An executable standing for a (broken) ngspice install: answers `-v` with
    `version_line`, logs every call, and runs `body` otherwise."""
    exe = tmp_path / name
    exe.write_text(f"""#!/bin/sh
REAL={REAL_NGSPICE}
echo "$@" >> {tmp_path}/calls.log
if [ "$1" = "-v" ]; then echo "{version_line}"; exit 0; fi
{body}
""")
    exe.chmod(0o755)
    return str(exe)


def one_line_error(code: int, err: str, *needles: str) -> str:
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("netlistgen: error:"), (code, err)
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


# ------------------------------------------------------------------ broken installs


def test_ngspice_missing(tmp_path, installed, monkeypatch):
    monkeypatch.setenv("NETLISTGEN_NGSPICE", str(tmp_path / "nope" / "ngspice"))
    out = tmp_path / "sim"
    code, _, err = run_cli([*SIM_ARGS, "--out", str(out)])
    one_line_error(code, err, "ngspice not found", "nope/ngspice")
    assert not out.exists()  # refused before any job directory was written
    monkeypatch.delenv("NETLISTGEN_NGSPICE")
    monkeypatch.setenv("PATH", str(tmp_path))  # no ngspice on PATH either
    code, _, err = run_cli([*SIM_ARGS, "--out", str(out)])
    one_line_error(code, err, "not on PATH", "apt-get install ngspice")


@pytest.mark.parametrize("version_line,needles", [
    ("** ngspice-27 : Circuit level simulation program", ["ngspice 27", ">= 39"]),
    ("Hello, I am not a simulator", ["does not look like ngspice", "Hello"]),
])
def test_wrong_or_fake_ngspice_version(tmp_path, installed, monkeypatch, version_line, needles):
    monkeypatch.setenv("NETLISTGEN_NGSPICE", fake_ngspice(tmp_path, version_line))
    out = tmp_path / "sim"
    code, _, err = run_cli([*SIM_ARGS, "--out", str(out)])
    one_line_error(code, err, *needles)
    assert not out.exists()
    gen = tmp_path / "gen"
    assert run_cli(["generate", "--rows", "1", "--cols", "1", "--out", str(gen)])[0] == 0
    code, _, err = run_cli(["check", str(gen)])  # the op-point check refuses it too
    one_line_error(code, err, *needles)


def test_ngspice_not_executable(tmp_path, installed, monkeypatch):
    exe = tmp_path / "ngspice"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o644)
    monkeypatch.setenv("NETLISTGEN_NGSPICE", str(exe))
    code, _, err = run_cli([*SIM_ARGS, "--out", str(tmp_path / "sim")])
    one_line_error(code, err, "not executable")


@pytest.mark.ngspice
def test_version_is_asked_once_per_run(tmp_path, installed, monkeypatch):
    """Two jobs and the up-front check share one `ngspice -v` (cached per executable)."""
    monkeypatch.setenv("NETLISTGEN_NGSPICE", fake_ngspice(tmp_path, "** ngspice-39 : Circuit level simulation program"))
    code, _, err = run_cli([*SIM_ARGS, "--energy-cycles", "2", "--out", str(tmp_path / "sim")])
    assert code == 0, err
    calls = (tmp_path / "calls.log").read_text().splitlines()
    assert calls.count("-v") == 1
    assert sum(c.startswith("-b ") for c in calls) == 2


# --------------------------------------------------------------- failing circuits


@pytest.mark.ngspice
def test_non_converging_job_fails_alone(tmp_path, installed):
    """Two voltage sources fighting over one node (singular matrix) and a current source
    into a capacitor-only node: both fail with ngspice's reason, the good job finishes."""
    nl = build(GenerateOptions(scheme="zebra-i", rows=1, cols=1))
    fighting = dataclasses.replace(nl, text=nl.text + "Vbad1 gx 0 1\nVbad2 gx 0 2\n")
    floating = dataclasses.replace(nl, text=nl.text + "Ibad gy 0 1\nCbad gy 0 1e-15\n")
    jobs = [Job("good", nl, random_stimulus(nl, 2, 1)),
            Job("fighting", fighting, random_stimulus(nl, 2, 1)),
            Job("floating", floating, random_stimulus(nl, 2, 1))]
    results, errors = run_jobs(jobs, tmp_path / "jobs", workers=2, progress=False)
    assert set(results) == {"good"} and set(errors) == {"fighting", "floating"}
    assert results["good"].v_sample_v.shape == (2, 4)
    assert "singular matrix" in errors["fighting"] and "vbad1" in errors["fighting"]
    assert "singular matrix" in errors["floating"] and "gy" in errors["floating"]


@pytest.mark.ngspice
def test_real_job_over_its_timeout_is_killed(tmp_path, installed):
    """A real energy run (~2 s) with a 0.5 s timeout fails as timed out; the sampling job finishes."""
    nl = build(GenerateOptions(scheme="zebra-i", rows=1, cols=1))
    jobs = [Job("quick", nl, random_stimulus(nl, 2, 1), timeout_s=300),
            Job("slow", nl, random_stimulus(nl, 6, 1), energy=True, timeout_s=0.5)]
    start = time.perf_counter()
    results, errors = run_jobs(jobs, tmp_path / "jobs", workers=2, progress=False)
    assert set(results) == {"quick"} and set(errors) == {"slow"}
    assert "timed out after 0.5 s" in errors["slow"]
    assert time.perf_counter() - start < 30


def _ngspice_children(pid: int) -> list[psutil.Process]:
    try:
        return [p for p in psutil.Process(pid).children(recursive=True) if "ngspice" in p.name()]
    except psutil.NoSuchProcess:
        return []


@pytest.mark.ngspice
def test_job_killed_mid_run(tmp_path, installed):
    """SIGKILL the energy job's ngspice while it runs: that job is reported as killed,
    the sampling job's metrics are still written, exit code 1."""
    out = tmp_path / "sim"
    proc = subprocess.Popen([NETLISTGEN, *SIM_ARGS, "--energy-cycles", "12", "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    victim = None
    deadline = time.time() + 60
    while victim is None and time.time() < deadline and proc.poll() is None:
        for p in _ngspice_children(proc.pid):
            try:
                if "-energy.run-" in p.cwd():  # the energy job's private staging directory
                    victim = p
            except psutil.Error:
                continue
        time.sleep(0.05)
    assert victim is not None, "the energy job's ngspice never showed up"
    victim.send_signal(signal.SIGKILL)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 1, (stdout, stderr)
    failed = [ln for ln in stderr.splitlines() if ln.startswith("FAILED")]
    assert len(failed) == 1 and "zebra-i-2x1-energy" in failed[0] and "SIGKILL" in failed[0], stderr
    assert (out / "results.json").is_file() and "zebra-i-2x1" in (out / "results.json").read_text()


def test_hung_jobs_time_out_and_are_killed(tmp_path, installed, monkeypatch):
    """An ngspice that never returns: every job times out after --timeout, is killed
    (no process left), and the run ends with exit code 1 listing each job."""
    marker = str(tmp_path)
    monkeypatch.setenv("NETLISTGEN_NGSPICE", fake_ngspice(
        tmp_path, "** ngspice-39 : Circuit level simulation program", body=f"HANG_MARKER={marker} exec sleep 600"))
    start = time.perf_counter()
    code, _, err = run_cli([*SIM_ARGS, "--energy-cycles", "2", "--timeout", "1", "--out", str(tmp_path / "sim")])
    assert code == 1, err
    failed = sorted(ln for ln in err.splitlines() if ln.startswith("FAILED"))
    assert len(failed) == 2 and all("timed out after 1 s" in ln for ln in failed), err
    assert time.perf_counter() - start < 30
    leftover = []
    for p in psutil.process_iter(["name"]):
        try:
            if p.info["name"] == "sleep" and p.environ().get("HANG_MARKER") == marker:
                leftover.append(p)
        except psutil.Error:
            continue
    assert leftover == []


def test_ngspice_crash_is_one_failed_job(tmp_path, installed, monkeypatch):
    """An ngspice that dies by SIGSEGV for energy runs only."""
    body = 'if grep -q "rusage\\|i(v" "$2" 2>/dev/null; then kill -SEGV $$; fi; exec "$REAL" "$@"'
    monkeypatch.setenv("NETLISTGEN_NGSPICE", fake_ngspice(tmp_path, "** ngspice-39 : Circuit level", body=body))
    code, _, err = run_cli([*SIM_ARGS, "--energy-cycles", "2", "--out", str(tmp_path / "sim")])
    assert code == 1, err
    failed = [ln for ln in err.splitlines() if ln.startswith("FAILED")]
    assert len(failed) == 1 and "-energy" in failed[0] and "SIGSEGV" in failed[0], err
    assert (tmp_path / "sim" / "results.json").is_file()


# ---------------------------------------------------------------------- full disk


@pytest.fixture
def tiny_disk(tmp_path):
    """A 256 KiB tmpfs (needs root and mount permission; skipped otherwise)."""
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mnt)],
                                           capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here; test_output_file_size_limit covers the same path")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_generate_on_full_disk(tiny_disk, installed):
    out = tiny_disk / "big"
    code, _, err = run_cli(["generate", "--rows", "64", "--cols", "8", "--out", str(out)])
    # the 64x8 files outgrow 256 KiB (which one fills it depends on their sizes: array.sp since
    # it holds the .param declarations); the error names the file that did not fit
    one_line_error(code, err, "No space left on device", str(out) + "/")
    assert not out.exists()  # the files written before the disk filled up were removed
    assert list(tiny_disk.iterdir()) == []


@pytest.mark.ngspice
def test_job_that_cannot_write_fails_alone(tiny_disk, installed):
    """One job's library does not fit on the disk: it fails with the reason, the small job
    (run after it: one worker, longest first) still finishes."""
    small = build(GenerateOptions(scheme="zebra-i", rows=1, cols=1))
    big = build(GenerateOptions(scheme="zebra-i", rows=128, cols=8))  # 445 kB library
    jobs = [Job("big", big, random_stimulus(big, 2, 1)), Job("small", small, random_stimulus(small, 2, 1))]
    results, errors = run_jobs(jobs, tiny_disk / "jobs", workers=1, progress=False)
    assert set(results) == {"small"} and set(errors) == {"big"}
    assert "No space left on device" in errors["big"]


def test_output_file_size_limit(tmp_path, installed):
    """Without root: RLIMIT_FSIZE makes writes fail (EFBIG) the way a full disk does."""
    import resource

    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))

    out = tmp_path / "big"
    proc = subprocess.run([NETLISTGEN, "generate", "--rows", "32", "--cols", "8", "--out", str(out)],
                          capture_output=True, text=True, preexec_fn=limit, timeout=120)
    one_line_error(proc.returncode, proc.stderr, "File too large", str(out))
    assert not out.exists()


@pytest.mark.ngspice
def test_raw_file_over_size_limit_fails_that_job(tmp_path, installed):
    """ngspice cannot write the 1 MB energy raw file under a 256 KiB limit (killed by
    SIGXFSZ or a truncated file): that job fails, the sampling job and the report survive."""
    import resource

    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (256 * 1024, 256 * 1024))

    out = tmp_path / "sim"
    proc = subprocess.run([NETLISTGEN, *SIM_ARGS, "--energy-cycles", "4", "--out", str(out)],
                          capture_output=True, text=True, preexec_fn=limit, timeout=300)
    assert proc.returncode == 1, proc.stderr
    failed = [ln for ln in proc.stderr.splitlines() if ln.startswith("FAILED")]
    assert len(failed) == 1 and "-energy" in failed[0], proc.stderr
    assert (out / "results.json").is_file()


def test_write_error_names_the_file(tmp_path, monkeypatch):
    """Any OS error while writing becomes an OutputError (a SimulationError inside jobs)."""
    from netlistgen.core import files

    def enospc(*_a, **_k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.os, "replace", enospc)
    with pytest.raises(OutputError, match=r"cannot write '.*x\.sp': No space left on device"):
        files.write_atomic(tmp_path / "x.sp", "* hi\n")
    assert list(tmp_path.iterdir()) == []  # the temporary file is gone too
    assert issubclass(OutputError, SimulationError)


def test_regress_reports_each_failed_case_and_finishes_the_others(tmp_path, installed, monkeypatch):
    """A regression case whose ngspice crashes is an "error" in report.json and junit.xml;
    the other case is still simulated and compared; exit code 1."""
    body = 'case "$PWD" in */.bad_case.run-*) kill -SEGV $$;; esac; exec "$REAL" "$@"'
    monkeypatch.setenv("NETLISTGEN_NGSPICE", fake_ngspice(tmp_path, "** ngspice-39 : Circuit level", body=body))
    suite = tmp_path / "suite.yaml"
    suite.write_text("defaults: {scheme: zebra-i, rows: 2, cols: 1, cycles: 4}\n"
                     "cases:\n  - {name: bad_case}\n  - {name: good_case}\n")
    golden = tmp_path / "golden.json"
    golden.write_text('{"cases": {}}\n')
    out = tmp_path / "rep"
    code, stdout, err = run_cli(["regress", "--suite", str(suite), "--golden", str(golden), "--jobs", "2",
                                 *NO_CACHE, "--out", str(out)])
    assert code == 1, err
    report = {c["name"]: c for c in json.loads((out / "report.json").read_text())["cases"]}
    assert report["bad_case"]["status"] == "error" and "SIGSEGV" in report["bad_case"]["message"]
    assert report["good_case"]["status"] == "fail"  # simulated; no golden values to compare with
    assert report["good_case"]["metrics"]["gain_mv_per_lsb"]["value"] > 1.0
    assert '<error message="job \'bad_case\' failed: ngspice killed by signal SIGSEGV' in (out / "junit.xml").read_text()
