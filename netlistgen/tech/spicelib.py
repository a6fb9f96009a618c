"""SPICE model-library reading: logical lines, `.include`/`.lib` expansion, trimming."""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from netlistgen.core.errors import NetlistgenError


# ---------------------------------------------------------------------------------------
# SPICE deck reading: logical lines, `.include`/`.lib` expansion, trimming
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stmt:
    """One logical SPICE line: its physical lines (verbatim) and parsed tokens."""

    phys: tuple[str, ...]
    text: str  # continuation joined, inline comments removed
    tokens: tuple[str, ...]  # of `text`, with `=` split off and {expressions} collapsed

    @property
    def head(self) -> str:
        return self.tokens[0].lower() if self.tokens else ""


INLINE_COMMENT_RE = re.compile(r"(\s;|\s\$\s|^;).*$")
EXPR_RE = re.compile(r"\{[^{}]*\}|'[^']*'")


def tokens(text: str) -> tuple[str, ...]:
    return tuple(EXPR_RE.sub("{}", text).replace("=", " = ").split())


def parse_statements(text: str) -> list[Stmt]:
    """Split a deck into logical lines; '*' comment lines inside a continuation are kept
    verbatim but do not end it (ngspice does the same)."""
    out: list[Stmt] = []
    phys: list[str] = []
    joined = ""
    pending_comments: list[str] = []

    def flush() -> None:
        if phys:
            out.append(Stmt(tuple(phys), joined, tokens(joined)))

    for raw in text.splitlines():
        s = raw.strip()
        if s.startswith("+") and phys:
            phys.extend(pending_comments)
            pending_comments = []
            phys.append(raw)
            joined += " " + INLINE_COMMENT_RE.sub("", s[1:])
            continue
        if not s or s.startswith("*"):
            if phys:
                pending_comments.append(raw)
            continue
        flush()
        pending_comments = []
        phys = [raw]
        joined = INLINE_COMMENT_RE.sub("", s)
    flush()
    return out


_PARSE_CACHE: dict[tuple[str, int, int], tuple[list[Stmt], str]] = {}


def read_deck(path: Path) -> tuple[list[Stmt], str]:
    """Parsed statements and content sha256 of one file (cached by path, mtime, size)."""
    st = path.stat()
    key = (str(path), st.st_mtime_ns, st.st_size)
    hit = _PARSE_CACHE.get(key)
    if hit is None:
        data = path.read_bytes()
        hit = (parse_statements(data.decode("utf-8", errors="replace")), hashlib.sha256(data).hexdigest())
        _PARSE_CACHE[key] = hit
    return hit


def unquote(token: str) -> str:
    return token.strip().strip("\"'")


@dataclass
class Expansion:
    """A deck section flattened in load order."""

    files: list[Path] = field(default_factory=list)  # in first-visit order
    items: list[tuple[str, Any]] = field(default_factory=list)  # ("top", Stmt) | ("subckt", Subckt)
    digest: Any = field(default_factory=hashlib.sha256)

    @property
    def fingerprint(self) -> str:
        return self.digest.hexdigest()


@dataclass
class Subckt:
    name: str
    stmts: list[Stmt]


def lib_sections(path: Path) -> list[str]:
    """Names of the `.lib NAME` sections a library file defines, in file order."""
    stmts, _ = read_deck(path)
    return [s.tokens[1] for s in stmts if s.head == ".lib" and len(s.tokens) == 2]


def expand(
    path: Path,
    section: str | None,
    *,
    exp: Expansion | None = None,
    depth: int = 0,
    on_missing: Callable[[Path], bool] | None = None,
    origin: str = "",
) -> Expansion:
    """Flatten `path` (or its `.lib section`) with every `.include`/`.lib` inlined."""
    exp = exp if exp is not None else Expansion()
    if depth > 40:
        raise NetlistgenError(f"model deck include depth exceeds 40 at {str(path)!r} (include cycle?)")
    path = Path(os.path.normpath(path))
    if not path.is_file() and not (on_missing and on_missing(path)):
        raise NetlistgenError(f"model file {str(path)!r} does not exist{origin}")
    stmts, sha = read_deck(path)
    if path not in exp.files:
        exp.files.append(path)
    exp.digest.update(f"{sha}:{section or ''}\n".encode())
    inside = section is None
    found = section is None
    current: Subckt | None = None
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
            target = Path(unquote(rest))
            if not target.is_absolute():
                target = path.parent / target
            expand(
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
                current = Subckt(st.tokens[1].lower() if len(st.tokens) > 1 else "", [])
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


_EXPAND_CACHE: dict[tuple, Expansion] = {}


def expand_cached(path: Path, section: str | None) -> Expansion:
    st = path.stat()
    key = (str(path), section, st.st_mtime_ns, st.st_size)
    if key not in _EXPAND_CACHE:
        _EXPAND_CACHE[key] = expand(path, section)
    return _EXPAND_CACHE[key]


def positional(tokens: Iterable[str]) -> list[str]:
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


class TrimError(NetlistgenError):
    """The deck is not shaped as the trimmer expects (e.g. a device is not a subcircuit)."""


def trim(exp: Expansion, keep: Iterable[str]) -> tuple[list[str], list[str]]:
    """Lines of the trimmed deck and the subcircuits kept.

    Keeps every top-level statement except unreferenced `.model` cards, plus every
    definition of the needed subcircuits (closure over their X instances)."""
    blocks: dict[str, list[Subckt]] = {}
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
            raise TrimError(f"subcircuit {name!r} is not defined in the model deck; cannot build the fast deck")
        need.add(name)
        for blk in blocks[name]:
            for st in blk.stmts:
                if not st.tokens or st.head.startswith("."):
                    continue
                pos = positional(st.tokens)
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
        st: Stmt = item
        if st.head == ".model" and len(st.tokens) > 1:
            base = st.tokens[1].lower()
            if base not in refs and base.rsplit(".", 1)[0] not in refs:
                continue
        lines.extend(st.phys)
    return lines, sorted(need)


