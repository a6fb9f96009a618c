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
    with pytest.warns(UserWarning, match="unreadable"):
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


# ------------------------------------------------------------------ trust in stored state (issue 13)

import errno  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import stat  # noqa: E402
import warnings  # noqa: E402

from netlistgen.sim.cache import CacheWarning  # noqa: E402
from test_deckcheck import spellings  # noqa: E402

EXPECT = {"v_sample_v": (3, 2), "v_hold_v": (3, 2), "seconds": ()}
KEY_A, KEY_B = "aa" + "1" * 62, "bb" + "2" * 62


def _fields(scale=1.0):
    rng = np.random.default_rng(1)
    return {"v_sample_v": scale * rng.normal(size=(3, 2)), "v_hold_v": rng.normal(size=(3, 2)), "seconds": 0.5}


def _rewrite(path, **changes):
    """Rewrite an entry's arrays, keeping its stored metadata (as a hand edit would)."""
    with np.load(path, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    arrays.update(changes)
    arrays = {k: v for k, v in arrays.items() if v is not None}
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)


TAMPER = {
    "edited value": lambda c, p: _rewrite(p, v_sample_v=np.load(p)["v_sample_v"] * 0.5),
    "swapped between keys": lambda c, p: shutil.copy(c.path(KEY_B), p),
    "missing field": lambda c, p: _rewrite(p, v_hold_v=None),
    "wrong shape": lambda c, p: _rewrite(p, v_sample_v=np.zeros((2, 2))),
    "NaN": lambda c, p: _rewrite(p, v_sample_v=np.full((3, 2), np.nan)),
    "truncated": lambda c, p: p.write_bytes(p.read_bytes()[:200]),
    "not an npz": lambda c, p: p.write_text('{"v_sample_v": [[0, 0]]}'),
    "metadata removed": lambda c, p: _rewrite(p, __meta__=None),
}


@pytest.mark.parametrize("kind", sorted(TAMPER))
def test_tampered_entry_is_a_warned_miss(tmp_path, kind):
    cache = ResultCache(tmp_path)
    cache.put(KEY_A, _fields(), EXPECT)
    cache.put(KEY_B, _fields(2.0), EXPECT)
    assert cache.get(KEY_A, EXPECT) is not None
    TAMPER[kind](cache, cache.path(KEY_A))
    with pytest.warns(CacheWarning, match="simulating again") as record:
        assert cache.get(KEY_A, EXPECT) is None
        assert cache.get(KEY_A, EXPECT) is None  # warned once per entry
    assert len(record) == 1 and "\n" not in str(record[0].message)
    cache.put(KEY_A, _fields(), EXPECT)  # the fresh result overwrites it and verifies again
    assert np.array_equal(cache.get(KEY_A, EXPECT)["v_sample_v"], _fields()["v_sample_v"])


def test_entry_of_another_job_shape_is_a_miss(tmp_path):
    cache = ResultCache(tmp_path)
    cache.put(KEY_A, _fields(), EXPECT)
    with pytest.warns(CacheWarning, match="another shape"):
        assert cache.get(KEY_A, {**EXPECT, "v_sample_v": (4, 2), "v_hold_v": (4, 2)}) is None


def test_failed_writes_are_warnings_not_lost_results(tmp_path, monkeypatch):
    cache = ResultCache(tmp_path)
    (tmp_path / KEY_A[:2]).write_text("a file where the entry folder goes")
    with pytest.warns(CacheWarning, match="cannot store entry.*in the way"):
        assert cache.put(KEY_A, _fields(), EXPECT) is None
    from netlistgen.core import files

    def enospc(*_a, **_k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files.tempfile, "mkstemp", enospc)
    with pytest.warns(CacheWarning, match="No space left on device"):
        assert cache.put(KEY_B, _fields(), EXPECT) is None
    assert not list(tmp_path.rglob("*.tmp"))


def test_entries_follow_a_shared_folder_group_permissions(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o2775)  # group-writable, setgid: the usual shared folder
    old = os.umask(0o077)  # even a private umask must not make entries unreadable to the group
    try:
        path = ResultCache(shared).put(KEY_A, _fields(), EXPECT)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) & 0o060 == 0o060
    folder = stat.S_IMODE(path.parent.stat().st_mode)
    assert folder & 0o070 == 0o070 and path.parent.stat().st_mode & stat.S_ISGID
    umask = os.umask(0)
    os.umask(umask)
    private = ResultCache(tmp_path / "private").put(KEY_A, _fields(), EXPECT)
    assert stat.S_IMODE(private.stat().st_mode) == 0o666 & ~umask  # not mkstemp's 0600


def test_key_follows_includes_ngspice_reads_however_spelled(tmp_path, monkeypatch):
    """Quoted names with spaces, names found in the run folder, includes inside a `.lib`
    section that is not selected: editing any such file changes the key."""
    run, deck = spellings(tmp_path)
    text = deck.read_text()
    base = model_fingerprint(text, run)
    for edited in [tmp_path / "my models" / "a.inc", run / "fallback.inc", tmp_path / "my models" / "d.inc",
                   tmp_path / "my models" / "g.inc"]:
        edited.write_text(edited.read_text() + "* edited\n")
        now = model_fingerprint(text, run)
        assert now != base, edited
        base = now


@pytest.mark.ngspice
def test_tampered_entry_is_resimulated_with_real_ngspice(build_small, tmp_path):
    nl = build_small(rows=2, cols=1)
    job = Job("s", nl, random_stimulus(nl, 3, 1))
    cache = ResultCache(tmp_path / "cache")
    solo, _ = run_jobs([job], tmp_path / "w1", progress=False, cache=cache)
    (entry,) = (tmp_path / "cache").rglob("*.npz")
    _rewrite(entry, v_sample_v=np.load(entry)["v_sample_v"] * 0.5)  # "gain halved"
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        again, errors = run_jobs([job], tmp_path / "w2", progress=False, cache=cache)
    assert not errors and not again["s"].cached
    assert any(issubclass(w.category, CacheWarning) for w in record)
    assert np.array_equal(again["s"].v_sample_v, solo["s"].v_sample_v)
    third, _ = run_jobs([job], tmp_path / "w3", progress=False, cache=cache)
    assert third["s"].cached and np.array_equal(third["s"].v_sample_v, solo["s"].v_sample_v)
