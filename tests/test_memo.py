"""core.memo: facts about files remembered across processes, never outliving the file."""

from __future__ import annotations

import json
import os

import pytest

from netlistgen.core import memo


@pytest.fixture()
def fresh(tmp_path, monkeypatch):
    monkeypatch.setenv("NETLISTGEN_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(memo, "_facts", None)  # this process has read no memo yet
    target = tmp_path / "tool"
    target.write_bytes(b"v1")
    return target


def test_fact_is_computed_once_then_read_back(fresh, monkeypatch):
    calls = []
    assert memo.remembered("size", str(fresh), lambda: calls.append(1) or 11, valid=int) == 11
    assert memo.remembered("size", str(fresh), lambda: calls.append(1) or 99, valid=int) == 11
    monkeypatch.setattr(memo, "_facts", None)  # a new process reads the file
    assert memo.remembered("size", str(fresh), lambda: calls.append(1) or 99, valid=int) == 11
    assert calls == [1]
    stored = json.loads((fresh.parent / "cache" / memo.MEMO_NAME).read_text())
    assert list(stored.values()) == [11] and str(fresh) in next(iter(stored))


def test_a_changed_file_is_asked_again(fresh):
    assert memo.remembered("sha", str(fresh), lambda: "old") == "old"
    fresh.write_bytes(b"v2 longer")  # size, mtime and ctime change
    assert memo.remembered("sha", str(fresh), lambda: "new") == "new"
    st = os.stat(fresh)
    os.utime(fresh, ns=(st.st_atime_ns, st.st_mtime_ns))  # same mtime set back: ctime still moves
    assert memo.remembered("sha", str(fresh), lambda: "newer") == "newer"


def test_damaged_or_unwritable_memo_only_costs_a_recomputation(fresh, monkeypatch):
    cache = fresh.parent / "cache"
    cache.mkdir()
    (cache / memo.MEMO_NAME).write_text("{not json")
    assert memo.remembered("sha", str(fresh), lambda: "a") == "a"
    assert json.loads((cache / memo.MEMO_NAME).read_text())  # rewritten whole
    monkeypatch.setattr(memo, "_facts", None)
    (cache / memo.MEMO_NAME).write_text(json.dumps({k: 5 for k in json.loads((cache / memo.MEMO_NAME).read_text())}))
    assert memo.remembered("sha", str(fresh), lambda: "b") == "b"  # a stored value of the wrong type is ignored
    monkeypatch.setenv("NETLISTGEN_CACHE", str(fresh))  # a file: the memo cannot be written
    monkeypatch.setattr(memo, "_facts", None)
    assert memo.remembered("sha", str(fresh), lambda: "c") == "c"
