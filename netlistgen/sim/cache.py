"""Result cache: a simulation is keyed by the content of everything that decides it.

The key is the sha256 of the final deck text (with the job directory replaced by a
placeholder, so the same job in another directory hits), the array library, the
`.spiceinit`, every model file the deck loads (followed through `.include`/`.lib`,
content-hashed) and the backend's identity (engine, version, binary hash). Any new Job field that changes
the deck (a Monte Carlo seed, a noise source) therefore changes the key without this
module knowing about it. Entries hold the raw-derived arrays (sampled and held
voltages, per-cycle energy), not the raw file, and are written atomically: a run
killed at any point leaves either a complete entry or none, which is what lets an
interrupted run resume.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from netlistgen.core.errors import NetlistgenError
from netlistgen.core.paths import cache_dir

KEY_VERSION = 2  # bump when the stored fields or the key recipe change
_MODEL_LINE_RE = re.compile(r"""^\s*\.(?:include|inc|lib)\s+["']?([^"'\s]+)["']?""", re.IGNORECASE | re.MULTILINE)
_WORKDIR_PLACEHOLDER = "<jobdir>"
_SEP = "|"  # nesting separator of stored field names (energy group names contain "/")


def default_cache_dir() -> Path:
    """<user cache>/results ($NETLISTGEN_CACHE or ~/.cache/netlistgen)."""
    return cache_dir() / "results"


_FILE_HASHES: dict[tuple[str, int, int], tuple[str, tuple[Path, ...]]] = {}


def _file_digest(path: Path) -> tuple[str, tuple[Path, ...]]:
    """sha256 of one model file and the files it includes (memoised by path, mtime, size)."""
    st = path.stat()
    memo = (str(path), st.st_mtime_ns, st.st_size)
    hit = _FILE_HASHES.get(memo)
    if hit is None:
        data = path.read_bytes()
        text = data.decode("utf-8", errors="replace")
        children = tuple((path.parent / m).resolve() for m in _MODEL_LINE_RE.findall(text))
        hit = (hashlib.sha256(data).hexdigest(), children)
        _FILE_HASHES[memo] = hit
    return hit


def model_fingerprint(deck_text: str, base: Path) -> str:
    """Content hash of every file reachable from the deck's .include/.lib lines, except
    the job's own files in `base` (the caller hashes those by content)."""
    digest = hashlib.sha256()
    seen: set[Path] = set()
    pending = [(base / m).resolve() for m in _MODEL_LINE_RE.findall(deck_text)]
    while pending:
        path = pending.pop(0)
        if path in seen or path.parent == base:
            continue
        seen.add(path)
        if not path.is_file():
            digest.update(f"missing:{path}\n".encode())
            continue
        sha, children = _file_digest(path)
        digest.update(f"{sha}\n".encode())
        pending.extend(children)
    return digest.hexdigest()


def job_key(*, deck: str, library: str, spiceinit: str, workdir: str | Path, backend: str) -> str:
    """The cache key of one simulation (hex sha256). `backend` is the engine's identity
    (name, version, binary fingerprint: sim/backends `identity()`)."""
    base = Path(workdir).resolve()
    workdir = str(base)
    models = model_fingerprint(deck, base)
    digest = hashlib.sha256()
    for part in (f"netlistgen-result-v{KEY_VERSION}", backend, spiceinit, library,
                 deck.replace(workdir, _WORKDIR_PLACEHOLDER), models):
        digest.update(hashlib.sha256(part.encode()).digest())
    return digest.hexdigest()


def _flatten(obj, prefix: str, out: dict[str, np.ndarray]) -> None:
    if isinstance(obj, dict):
        for k, v in obj.items():
            if _SEP in str(k):
                raise ValueError(f"cache field names may not contain {_SEP!r}: {k!r}")
            _flatten(v, f"{prefix}{_SEP}{k}" if prefix else str(k), out)
    elif obj is not None:
        out[prefix] = np.asarray(obj)


def _unflatten(arrays: dict[str, np.ndarray]) -> dict:
    root: dict = {}
    for key, value in arrays.items():
        *parents, leaf = key.split(_SEP)
        node = root
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = value.item() if value.ndim == 0 else value
    return root


class ResultCache:
    """Content-addressed store of simulation results under `root` (<root>/<k[:2]>/<k>.npz)."""

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root) if root is not None else default_cache_dir()
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise NetlistgenError(f"cache directory {str(self.root)!r} cannot be created: {exc.strerror}") from None
        if not os.access(self.root, os.W_OK):
            raise NetlistgenError(f"cache directory {str(self.root)!r} is not writable")

    def path(self, key: str) -> Path:
        if not re.fullmatch(r"[0-9a-f]{64}", key):
            raise NetlistgenError(f"invalid cache key {key!r}")
        return self.root / key[:2] / f"{key}.npz"

    def get(self, key: str) -> dict | None:
        """The stored fields, or None (missing or unreadable: a damaged entry is a miss)."""
        path = self.path(key)
        try:
            with np.load(path, allow_pickle=False) as data:
                return _unflatten({k: data[k] for k in data.files})
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
            return None

    def put(self, key: str, fields: dict) -> Path:
        """Store nested dicts of arrays/numbers atomically (temporary file + rename)."""
        arrays: dict[str, np.ndarray] = {}
        _flatten(fields, "", arrays)
        buf = io.BytesIO()
        np.savez(buf, **arrays)
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(buf.getvalue())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    def __len__(self) -> int:
        return sum(1 for _ in self.root.glob("??/*.npz"))
