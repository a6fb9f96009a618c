"""Result cache: keys follow content (deck, library, models, settings), entries round-trip exactly."""

from __future__ import annotations

import json

import numpy as np
import pytest

from netlistgen.sim.cache import ResultCache, job_key, model_fingerprint
from netlistgen.cli import main
from netlistgen.core.errors import NetlistgenError
from netlistgen.sim.executor import run_jobs
from netlistgen.sim.simulate import Job
from netlistgen.circuits.testbench import random_stimulus


def test_entries_round_trip_exactly(tmp_path):
    cache = ResultCache(tmp_path)
    rng = np.random.default_rng(0)
    fields = {"v_sample_v": rng.normal(size=(5, 4)), "seconds": 1.25,
              "energy": {"delivered_j": rng.normal(size=5),
                         "groups_delivered_j": {"reset/sample control": rng.normal(size=5)}}}
    key = "ab" + "0" * 62
    assert cache.get(key) is None
    cache.put(key, fields)
    got = cache.get(key)
    assert np.array_equal(got["v_sample_v"], fields["v_sample_v"])
    assert got["seconds"] == 1.25
    assert np.array_equal(got["energy"]["groups_delivered_j"]["reset/sample control"],
                          fields["energy"]["groups_delivered_j"]["reset/sample control"])
    assert len(cache) == 1 and not list(tmp_path.rglob("*.tmp"))


def test_damaged_entry_is_a_miss_and_bad_keys_are_refused(tmp_path):
    cache = ResultCache(tmp_path)
    key = "cd" + "1" * 62
    cache.put(key, {"x": np.arange(3)})
    cache.path(key).write_bytes(b"PK\x03\x04 truncated")
    assert cache.get(key) is None
    with pytest.raises(NetlistgenError, match="invalid cache key"):
        cache.path("../../etc/passwd")


def test_key_follows_content_not_location(tmp_path):
    models = tmp_path / "models"
    models.mkdir()
    (models / "top.lib").write_text('.include "inner.inc"\n')
    (models / "inner.inc").write_text(".model n nmos level=54\n")

    def key(workdir, deck_extra="", library="LIB", spiceinit="set num_threads=1\n", backend="subprocess"):
        deck = f'.include "{models / "top.lib"}"\n.include "{workdir}/array.sp"\n{deck_extra}'
        return job_key(deck=deck, library=library, spiceinit=spiceinit, workdir=workdir, backend=backend)

    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    k = key(a)
    assert key(b) == k  # the same job in another directory
    assert key(a, deck_extra=".options seed=2") != k
    assert key(a, library="LIB2") != k
    assert key(a, spiceinit="set num_threads=2\n") != k
    assert key(a, backend="shared") != k
    fp = model_fingerprint(f'.lib "{models / "top.lib"}" tt\n', a)
    (models / "inner.inc").write_text(".model n nmos level=54 vth0=0.4\n")  # a file included by an included file
    assert model_fingerprint(f'.lib "{models / "top.lib"}" tt\n', a) != fp
    assert key(a) != k


@pytest.mark.ngspice
def test_unchanged_jobs_are_read_back_not_resimulated(build_small, tmp_path):
    nl = build_small(rows=2, cols=1)
    jobs = [Job("s", nl, random_stimulus(nl, 3, 1)), Job("e", nl, random_stimulus(nl, 2, 2), energy=True)]
    cache = ResultCache(tmp_path / "cache")
    first, e1 = run_jobs(jobs, tmp_path / "w1", progress=False, cache=cache)
    second, e2 = run_jobs(jobs, tmp_path / "w2", progress=False, cache=cache)
    assert not e1 and not e2 and len(cache) == 2
    assert not first["s"].cached and second["s"].cached and second["e"].cached
    assert not (tmp_path / "w2" / "s" / "tran.raw").exists()  # ngspice did not run
    assert np.array_equal(first["s"].v_sample_v, second["s"].v_sample_v)
    assert np.array_equal(first["s"].v_hold_v, second["s"].v_hold_v)
    assert np.array_equal(first["e"].energy["delivered_j"], second["e"].energy["delivered_j"])
    assert first["e"].energy["groups_delivered_j"].keys() == second["e"].energy["groups_delivered_j"].keys()
    other = Job("s", nl, random_stimulus(nl, 3, 9))  # different inputs: a different deck, a miss
    third, _ = run_jobs([other], tmp_path / "w3", progress=False, cache=cache)
    assert not third["s"].cached and len(cache) == 3


@pytest.mark.ngspice
def test_cli_cache_flags(installed, tmp_path):
    base = ["simulate", "--rows", "2", "--cols", "1", "--cycles", "3", "--energy-cycles", "0",
            "--cache-dir", str(tmp_path / "c")]
    assert main(base + ["--out", str(tmp_path / "o1")]) == 0
    assert main(base + ["--out", str(tmp_path / "o2")]) == 0
    one = json.loads((tmp_path / "o1" / "results.json").read_text())
    two = json.loads((tmp_path / "o2" / "results.json").read_text())
    assert one == two
    assert not (tmp_path / "o2" / "jobs" / "zebra-i-2x1" / "tran.raw").exists()
    assert main(base[:-2] + ["--no-cache", "--out", str(tmp_path / "o3")]) == 0
    assert (tmp_path / "o3" / "jobs" / "zebra-i-2x1" / "tran.raw").exists()
    assert main(base + ["--no-cache", "--out", str(tmp_path / "o4")]) == 2
