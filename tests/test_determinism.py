"""Determinism (issue 6, item 5): the same config and seed give byte-identical netlists
and manifests and identical metrics, across separate processes with different hash
seeds (so set/dict ordering cannot leak in). The only differences allowed are the
output directory inside `.include` lines, ngspice's raw-file date and run times."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from netlistgen.sim.rawfile import read_raw
from test_faults import NO_CACHE

NETLISTGEN = str(Path(sys.executable).with_name("netlistgen"))
FILES = ("array.sp", "op.sp", "manifest.json", ".spiceinit")


def cli(*argv: str, hash_seed: int) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONHASHSEED": str(hash_seed)}
    proc = subprocess.run([NETLISTGEN, *argv], capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return proc


CASES = {
    "zebra-ii-transistor-sky130": ["--scheme", "zebra-ii", "--tech", "sky130", "--fidelity", "transistor",
                                   "--rows", "3", "--cols", "2", "--seed", "11"],
    "int8-lcc-config": ["--config", "{cfg}"],
    "custom-patterns": ["--patterns", "{pat}", "--scheme", "my-set", "--rows", "2", "--cols", "3", "--seed", "5",
                        "--set", "c_unit_f=2e-15", "--set", "vdd_v=1.1"],
}


@pytest.mark.parametrize("case", list(CASES))
def test_generate_is_byte_identical_across_processes(tmp_path, installed, case):
    cfg = tmp_path / "arr.yaml"
    cfg.write_text("scheme: int8\nrows: 2\ncols: 2\nsram_rows_per_lcc: 4\nseed: 3\nclip: mse\n"
                   "design:\n  wire_c_per_row_f: 3.0e-16\n  c_unit_f: 1.5e-15\n")
    pat = tmp_path / "p.toml"
    pat.write_text("[pattern_sets.my-set]\npatterns = [[4, 2, 0], [5, 3, 1]]\n")
    args = [a.replace("{cfg}", str(cfg)).replace("{pat}", str(pat)) for a in CASES[case]]
    out = tmp_path / "out"
    runs = []
    for hash_seed in (1, 2):
        cli("generate", *args, "--out", str(out), hash_seed=hash_seed)
        runs.append({name: (out / name).read_bytes() for name in FILES})
        for name in FILES:
            (out / name).unlink()
    assert runs[0] == runs[1]
    # a different output directory changes only the library path in op.sp
    other = tmp_path / "elsewhere"
    cli("generate", *args, "--out", str(other), hash_seed=3)
    for name in FILES:
        mine = (other / name).read_bytes()
        if name == "op.sp":
            mine = mine.replace(str(other).encode(), str(out).encode())
        assert mine == runs[0][name], name


def _strip_timing(obj):
    """results.json without run times (the only non-deterministic numbers)."""
    if isinstance(obj, dict):
        return {k: _strip_timing(v) for k, v in obj.items() if "seconds" not in k}
    if isinstance(obj, list):
        return [_strip_timing(v) for v in obj]
    return obj


@pytest.mark.ngspice
def test_simulation_metrics_are_identical_across_runs(tmp_path, installed):
    """Two simulate runs in separate processes: identical metrics (exact float equality),
    samples, job files and raw vectors."""
    outs = [tmp_path / "r1", tmp_path / "r2"]
    for k, out in enumerate(outs):
        cli("simulate", "--rows", "2", "--cols", "1", "--cycles", "4", "--energy-cycles", "2", "--jobs", "2",
            *NO_CACHE, "--out", str(out), hash_seed=10 + k)
    r1, r2 = (json.loads((o / "results.json").read_text()) for o in outs)
    assert _strip_timing(r1) == _strip_timing(r2)
    assert r1["results"][0]["gain_mv_per_lsb"] == r2["results"][0]["gain_mv_per_lsb"]
    assert (outs[0] / "samples.json").read_bytes() == (outs[1] / "samples.json").read_bytes()
    for job in ("zebra-i-2x1", "zebra-i-2x1-energy"):
        a, b = outs[0] / "jobs" / job, outs[1] / "jobs" / job
        for name in ("array.sp", "job.json", ".spiceinit"):
            assert (a / name).read_bytes() == (b / name).read_bytes(), (job, name)
        assert (a / "tran.sp").read_text().replace(str(a), "") == (b / "tran.sp").read_text().replace(str(b), "")
        raw_a, raw_b = read_raw(a / "tran.raw"), read_raw(b / "tran.raw")
        assert raw_a.keys() == raw_b.keys()
        for vec in raw_a:
            assert np.array_equal(raw_a[vec], raw_b[vec]), (job, vec)
