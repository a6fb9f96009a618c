"""Result cache: a simulation is keyed by the content of everything that decides it.

The key is the sha256 of the final deck text (with the job directory replaced by a
placeholder, so the same job in another directory hits), the array library, the
`.spiceinit`, every model file the deck loads (followed through `.include`/`.lib`,
content-hashed) and the backend's identity (engine, version, binary hash). Any new Job field that changes
the deck (a Monte Carlo seed, a noise source) therefore changes the key without this
module knowing about it. The model files are exactly those ngspice opens
(tech/deckcheck.read_set; tests compare with `strace`), and the simulator's identity
covers its executable, `spinit` and code models. Entries hold the raw-derived arrays
(sampled and held voltages, per-cycle energy), not the raw file, and are written
atomically: a run killed at any point leaves either a complete entry or none, which is
what lets an interrupted run resume. Entries are self-verifying (see ResultCache).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import json
import os
import re
import stat
import warnings
import zipfile
import zlib
from pathlib import Path

import numpy as np

from netlistgen.core.errors import NetlistgenError, OutputError
from netlistgen.core.files import write_bytes_atomic
from netlistgen.tech.deckcheck import deck_includes, read_set, scripts_dir
from netlistgen.core.paths import cache_dir

KEY_VERSION = 3  # bump when the stored fields or the key recipe change
ENTRY_FORMAT = "netlistgen-cache-entry-v1"
_META = "__meta__"
_WORKDIR_PLACEHOLDER = "<jobdir>"
_SEP = "|"  # nesting separator of stored field names (energy group names contain "/")
MAX_ENTRY_BYTES = 512 * 1024 * 1024  # a corrupted size field cannot make a read allocate more


class CacheWarning(UserWarning):
    """A cache entry or write that could not be trusted or done: the run goes on without it."""


def default_cache_dir() -> Path:
    """<user cache>/results ($NETLISTGEN_CACHE or ~/.cache/netlistgen)."""
    return cache_dir() / "results"


def simulator_files() -> list[Path]:
    """Files ngspice reads at start-up besides the deck: its `spinit` script (from
    $SPICE_SCRIPTS or <prefix>/share/ngspice/scripts) and the code models it loads.
    The ngspice backends hash them into their identity (sim/backends), so a patched
    spinit or code model does not reuse old results."""
    scripts = scripts_dir()
    spinit = scripts / "spinit" if scripts is not None else None
    if spinit is None or not spinit.is_file():
        return []
    out = [spinit]
    for line in spinit.read_text(errors="replace").splitlines():
        words = line.split()
        if len(words) == 2 and words[0].lower() == "codemodel" and Path(words[1]).is_file():
            out.append(Path(words[1]))
    return out


_SET_HASHES: dict[tuple[str, str], tuple[tuple[tuple[str, tuple | None], ...], str]] = {}


def _stamp(path: str) -> tuple | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def _files_digest(target: Path, run_dir: Path) -> str:
    """sha256 over the content of every file ngspice reads for one include of the deck
    (deckcheck.read_set), memoised until one of those files changes."""
    memo = (str(target), str(run_dir))
    hit = _SET_HASHES.get(memo)
    if hit is not None and all(_stamp(p) == s for p, s in hit[0]):
        return hit[1]
    digest = hashlib.sha256()
    try:
        files = read_set(target, run_dir=run_dir, check=False)
    except NetlistgenError:  # missing or unreadable: ngspice will fail the job; key on the name
        digest.update(f"missing:{target}\n".encode())
        return digest.hexdigest()
    for f in files:
        digest.update(f"{f.path}:{hashlib.sha256(f.data).hexdigest()}\n".encode())
    value = digest.hexdigest()
    _SET_HASHES[memo] = (tuple((str(f.path), _stamp(str(f.path))) for f in files), value)
    return value


def model_fingerprint(deck_text: str, base: Path) -> str:
    """Content hash of every file ngspice reads through the deck's `.include`/`.inc`/`.lib`
    lines, any spelling (tech/deckcheck.py, checked against ngspice's own opens), except
    the job's own files in `base` (the caller hashes those by content)."""
    base = Path(base).resolve()
    digest = hashlib.sha256()
    for target in deck_includes(deck_text, base):
        if target.parent == base:
            continue
        digest.update(_files_digest(target, base).encode())
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


def _checksum(arrays: dict[str, np.ndarray]) -> str:
    """sha256 over every payload field's name, dtype, shape and bytes (sorted by name)."""
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}\0{a.dtype.str}\0{a.shape}\0".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def _shape_problem(arrays: dict[str, np.ndarray], expect: dict[str, tuple] | None) -> str | None:
    """Why the payload does not fit the job, or None. `expect` maps a field to its shape;
    a name ending in `|*` gives the shape of every field under that group (which must exist)."""
    for name, a in arrays.items():
        if a.dtype.kind not in "fiubc":  # complex: AC vectors
            return f"field {name!r} has dtype {a.dtype}"
        if a.dtype.kind in "fc" and not np.isfinite(a).all():
            return f"field {name!r} holds NaN or inf"
    if expect is None:
        return None
    groups = {k[:-2]: tuple(v) for k, v in expect.items() if k.endswith("|*")}
    plain = {k: tuple(v) for k, v in expect.items() if not k.endswith("|*")}
    for name, shape in plain.items():
        if name not in arrays:
            return f"field {name!r} is missing"
        if arrays[name].shape != shape:
            return f"field {name!r} has shape {arrays[name].shape}, the job needs {shape}"
    for group, shape in groups.items():
        members = [n for n in arrays if n.startswith(group + _SEP)]
        if not members:
            return f"group {group!r} is missing"
        for n in members:
            if arrays[n].shape != shape:
                return f"field {n!r} has shape {arrays[n].shape}, the job needs {shape}"
    for name in arrays:
        if name not in plain and not any(name.startswith(g + _SEP) for g in groups):
            return f"unexpected field {name!r}"
    return None


class ResultCache:
    """Content-addressed store of simulation results under `root` (<root>/<k[:2]>/<k>.npz).

    Entries verify themselves: each holds its own key, the shapes the job expects and a
    sha256 of its payload. An entry that does not verify (edited, copied under another
    key, truncated, a field missing, a wrong shape, NaN, not an npz) is a miss, reported
    once as a CacheWarning, and the fresh result overwrites it. A failed write is a
    warning too: the result is still returned. Files and folders take the group
    permissions of the cache root, so a cache folder shared by a group stays usable."""

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root) if root is not None else default_cache_dir()
        where = f"cache directory {str(self.root)[:200]!r}"
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            raise NetlistgenError(f"{where} is not a directory (a file is in the way)") from None
        except (OSError, ValueError) as exc:
            raise NetlistgenError(f"{where} cannot be created: {getattr(exc, 'strerror', None) or exc}") from None
        if not self.root.is_dir():
            raise NetlistgenError(f"{where} is not a directory")
        if not os.access(self.root, os.W_OK | os.X_OK):
            raise NetlistgenError(f"{where} is not writable")
        self._warned: set[str] = set()

    def path(self, key: str) -> Path:
        if not isinstance(key, str) or not re.fullmatch(r"[0-9a-f]{64}", key):
            raise NetlistgenError(f"invalid cache key {str(key)[:80]!r}")
        return self.root / key[:2] / f"{key}.npz"

    def _warn(self, key: str, what: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            warnings.warn(f"result cache: {what}", CacheWarning, stacklevel=3)

    def get(self, key: str, expect: dict[str, tuple] | None = None) -> dict | None:
        """The stored fields if the entry verifies (key, checksum, finite values and, with
        `expect`, the job's shapes), else None: a missing entry silently, a bad one with a warning."""
        path = self.path(key)
        try:
            arrays, meta = self._load(path)
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error, RuntimeError) as exc:
            self._warn(key, f"entry {path.name} is unreadable ({type(exc).__name__}); simulating again")
            return None
        problem = self._problem(key, arrays, meta, expect)
        if problem:
            self._warn(key, f"entry {path.name} does not verify ({problem}); simulating again")
            return None
        return _unflatten(arrays)

    @staticmethod
    def _load(path: Path) -> tuple[dict[str, np.ndarray], dict]:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(fd, "rb") as fh:
            if os.fstat(fh.fileno()).st_size > MAX_ENTRY_BYTES:
                raise ValueError("entry too large")
            with np.load(fh, allow_pickle=False) as data:
                if _META not in data.files:
                    raise KeyError(_META)
                meta = json.loads(str(data[_META][()]))
                arrays = {k: data[k] for k in data.files if k != _META}
        if not isinstance(meta, dict):
            raise ValueError("metadata is not a mapping")
        return arrays, meta

    @staticmethod
    def _problem(key: str, arrays: dict, meta: dict, expect: dict | None) -> str | None:
        if meta.get("format") != ENTRY_FORMAT:
            return f"format {str(meta.get('format'))[:40]!r}"
        if meta.get("key") != key:
            return f"it belongs to key {str(meta.get('key'))[:16]}..."
        if meta.get("sha256") != _checksum(arrays):
            return "payload checksum mismatch"
        stored = {k: tuple(v) for k, v in (meta.get("shapes") or {}).items()}
        if expect is not None and stored != {k: tuple(v) for k, v in expect.items()}:
            return "stored for a job of another shape"
        return _shape_problem(arrays, expect if expect is not None else None)

    def put(self, key: str, fields: dict, expect: dict[str, tuple] | None = None) -> Path | None:
        """Store nested dicts of arrays/numbers atomically (temporary file + rename) with
        their key, expected shapes and checksum. Returns the entry's path, or None after a
        CacheWarning when it cannot be stored (disk full, a folder in the way, ...)."""
        arrays: dict[str, np.ndarray] = {}
        _flatten(fields, "", arrays)
        path = self.path(key)
        problem = _shape_problem(arrays, expect)
        if problem:
            self._warn(key, f"result not stored ({problem})")
            return None
        meta = {"format": ENTRY_FORMAT, "key": key, "sha256": _checksum(arrays),
                "shapes": {k: list(v) for k, v in (expect or {}).items()}}
        buf = io.BytesIO()
        np.savez(buf, **arrays, **{_META: np.array(json.dumps(meta, sort_keys=True))})
        try:
            self._make_dir(path.parent)
            write_bytes_atomic(path, buf.getvalue(), mode=self._file_mode())
        except (OSError, OutputError) as exc:
            self._warn(key, f"cannot store entry {path.name}: {getattr(exc, 'strerror', None) or exc}; "
                            "the result is kept for this run only")
            return None
        return path

    def _group_bits(self) -> tuple[int, int]:
        """(group permission bits, setgid bit) of the cache root."""
        mode = os.stat(self.root).st_mode
        return mode & 0o070, mode & stat.S_ISGID

    def _file_mode(self) -> int:
        umask = os.umask(0)
        os.umask(umask)
        group, _ = self._group_bits()
        return (0o666 & ~umask) | (group & 0o060)

    def _make_dir(self, d: Path) -> None:
        if d.is_dir() and not d.is_symlink():
            return
        if d.is_symlink() or d.exists():
            raise OSError(errno.ENOTDIR, f"{d.name} is in the way (not a folder)")
        d.mkdir(exist_ok=True)
        umask = os.umask(0)
        os.umask(umask)
        group, setgid = self._group_bits()
        with contextlib.suppress(OSError):  # not the owner of a pre-existing folder: leave it
            os.chmod(d, (0o777 & ~umask) | group | setgid)

    def __len__(self) -> int:
        return sum(1 for _ in self.root.glob("??/*.npz"))
