"""Facts about files (a sha256, a version) remembered across runs in the user cache.

Why: every run identifies its simulator by the sha256 of its binary (7.6 MB for ngspice)
and start-up files and by `ngspice -v`; on a 1.5 s deck that was a few percent of a
`simulate`. A fact is stored under the file's real path, inode, size, mtime and ctime.
Replacing, editing or touching the file changes its ctime, which user tools cannot set
back, so a fact never outlives the file it describes. The memo is an optimisation only:
an unreadable or damaged memo is recomputed, a failed write is ignored.
"""

from __future__ import annotations

import json
import os
import threading
from typing import Callable, TypeVar

from netlistgen.core.paths import cache_dir

MEMO_NAME = "file-facts.json"
MAX_FACTS = 64  # a handful of simulators per machine; older facts are dropped first
MAX_MEMO_BYTES = 1 << 20

T = TypeVar("T", str, int)
_lock = threading.Lock()
_facts: dict[str, object] | None = None  # this process's view of the memo file


def _stamp(path: str) -> str:
    st = os.stat(path)
    return f"{os.path.realpath(path)}|{st.st_ino}|{st.st_size}|{st.st_mtime_ns}|{st.st_ctime_ns}"


def _load() -> dict[str, object]:
    from netlistgen.core.files import read_own

    try:
        data = json.loads(read_own(cache_dir() / MEMO_NAME, limit=MAX_MEMO_BYTES))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _save(facts: dict[str, object]) -> None:
    from netlistgen.core.errors import OutputError
    from netlistgen.core.files import write_bytes_atomic

    try:
        cache_dir().mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(cache_dir() / MEMO_NAME, json.dumps(facts, indent=0).encode())
    except (OSError, OutputError):
        pass


def remembered(kind: str, path: str, compute: Callable[[], T], valid: type = str) -> T:
    """`compute()` for the file at `path`, or the value remembered for it (same kind,
    same file stamp). `valid` is the type a remembered value must have to be used."""
    global _facts
    key = f"{kind}|{_stamp(path)}"
    with _lock:
        if _facts is None:
            _facts = _load()
        value = _facts.get(key)
        if isinstance(value, valid) and not isinstance(value, bool):
            return value  # type: ignore[return-value]
    value = compute()
    with _lock:
        facts = {**_load(), key: value}  # merge with what other processes stored meanwhile
        for old in list(facts)[: max(0, len(facts) - MAX_FACTS)]:
            del facts[old]
        _facts = facts
        _save(facts)
    return value

