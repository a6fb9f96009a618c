"""Model decks are code: check them before any simulator reads them, and list what it reads.

ngspice executes more than circuit cards: a `.control`/`.exec` block runs commands
(`shell`, `system`, `write` anywhere). ngspice's manual also documents `*#` lines as
control lines; ngspice 39 did not run one in our batch or interactive trials, but a model
file has no use for them, so they are refused too.
A model file a technology names (and every file it includes) may therefore only hold
what model libraries really use (the allow-list below was read off the PTM-45 and
sky130 decks): comments, element and continuation lines, and a few dot-commands.

`read_set` lists the files ngspice opens for a deck, following `.include`/`.inc`/`.lib`
the way ngspice 39 does (checked with `strace -e trace=openat`): quoted or not, any case
of the dot-command, a relative name looked up in the run folder, then ngspice's script
folder, then the including file's folder, and every include of a `.lib` file, whatever
section is selected (ngspice reads them all). An include continued on a `+` line is an
error in ngspice and is refused here. The result cache keys on exactly this set.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

from netlistgen.core.errors import NetlistgenError
from netlistgen.tech.spicelib import parse_statements, unquote

# Dot-commands of model libraries (PTM-45 cards, sky130 combined_models reachable from
# sky130.lib.spice); anything else (.control, .exec, .endc, .meas, .save, .tran, ...) is refused.
ALLOWED_DOT = frozenset({".model", ".subckt", ".ends", ".param", ".lib", ".endl", ".include", ".inc",
                         ".option", ".options", ".global", ".func", ".end"})
INCLUDE_HEADS = (".include", ".inc")
MAX_FILE_BYTES = 256 * 1024 * 1024  # the largest sky130 model file is < 10 MB
MAX_FILES = 5000
MAX_DEPTH = 40
_ELEMENT_RE = re.compile(r"[A-Za-z]")


class DeckError(NetlistgenError):
    """A model file holds something that is not a model card."""


@dataclass(frozen=True)
class DeckFile:
    path: Path  # absolute, as ngspice opens it (symlinks not resolved)
    data: bytes


def _where(path: Path, line_no: int) -> str:
    return f"model file {str(path)[:200]!r} line {line_no}"


def _read(path: Path, origin: str) -> bytes:
    """A regular file's bytes, bounded in size (a FIFO or /dev/zero would never end)."""
    try:
        st = os.stat(path)
    except (OSError, ValueError) as exc:
        raise DeckError(f"model file {str(path)[:200]!r} cannot be read{origin}: "
                        f"{getattr(exc, 'strerror', None) or exc}") from None
    if not stat.S_ISREG(st.st_mode):
        raise DeckError(f"model file {str(path)[:200]!r} is not a regular file{origin}")
    if st.st_size > MAX_FILE_BYTES:
        raise DeckError(f"model file {str(path)[:200]!r} is {st.st_size} bytes (limit {MAX_FILE_BYTES}){origin}")
    try:
        with open(path, "rb") as fh:
            return fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise DeckError(f"model file {str(path)[:200]!r} cannot be read{origin}: {exc.strerror or exc}") from None


def _include_target(head: str, text: str) -> str | None:
    """The file an include statement names, read as ngspice 39 reads it: `.include` takes
    a quoted name (spaces allowed, the rest of the line ignored) or the first word;
    `.lib FILE SECTION` always takes the first word, quotes removed (`.lib NAME` alone is
    a section header, not an include)."""
    parts = text.split(None, 1)
    if len(parts) < 2:
        return None
    rest = parts[1].strip()
    if head == ".lib":
        fields = rest.split()
        return unquote(fields[0]) if len(fields) >= 2 else None
    if rest[:1] in "\"'":
        end = rest.find(rest[0], 1)
        return rest[1:end] if end > 0 else rest[1:]
    return rest.split()[0]


def scripts_dir() -> Path | None:
    """ngspice's script folder (`spinit` lives there; it is also on its include search
    path): $SPICE_SCRIPTS, else <prefix>/share/ngspice/scripts of the ngspice in use."""
    env = os.environ.get("SPICE_SCRIPTS")
    if env:
        return Path(env)
    exe = os.environ.get("NETLISTGEN_NGSPICE") or shutil.which("ngspice")
    if not exe:
        return None
    return Path(os.path.realpath(exe)).parent.parent / "share" / "ngspice" / "scripts"


def _resolve(name: str, including: Path, run_dir: Path) -> Path:
    """ngspice 39's lookup of a relative include (seen with strace): the run folder, then
    its script folder, then the including file's folder; `~/` is the home folder."""
    p = Path(os.path.expanduser(name)) if name.startswith("~") else Path(name)
    if p.is_absolute():
        return Path(os.path.normpath(p))
    scripts = scripts_dir()
    for base in (run_dir, scripts, including.parent):
        if base is not None:
            candidate = Path(os.path.normpath(base / p))
            if candidate.is_file():
                return candidate
    return Path(os.path.normpath(including.parent / p))


def check_statements(text: str, path: Path) -> list[tuple[str, int, str]]:
    """Check one model file's text; returns its includes as (head, line, target)."""
    includes: list[tuple[str, int, str]] = []
    line_no = 0
    for raw in text.splitlines():
        line_no += 1
        s = raw.strip()
        if s.startswith("*#"):
            raise DeckError(f"{_where(path, line_no)}: '*#' lines are ngspice control lines; not allowed in "
                            f"a model file: {s[:80]!r}")
        if "\x00" in raw:
            raise DeckError(f"{_where(path, line_no)}: NUL byte")
    # statement-level checks (continuations joined, so `.con` + `+trol` cannot hide)
    first_line = _line_numbers(text)
    for st, line in zip(parse_statements(text), first_line):
        head = st.head
        if not head:
            continue
        if head.startswith("."):
            if head not in ALLOWED_DOT:
                raise DeckError(f"{_where(path, line)}: {head!r} is not allowed in a model file (allowed: "
                                f"{' '.join(sorted(ALLOWED_DOT))})")
            if head in INCLUDE_HEADS or head == ".lib":
                if len(st.phys) > 1:
                    raise DeckError(f"{_where(path, line)}: {head} continued on a '+' line (ngspice does not "
                                    "read it)")
                target = _include_target(head, st.text)
                if head in INCLUDE_HEADS and not target:
                    raise DeckError(f"{_where(path, line)}: {head} without a file name")
                if target is not None:
                    includes.append((head, line, target))
        elif not _ELEMENT_RE.match(head):
            raise DeckError(f"{_where(path, line)}: unexpected line {st.text[:80]!r}")
    return includes


def _line_numbers(text: str) -> list[int]:
    """1-based line number where each parse_statements() statement starts."""
    out = []
    in_stmt = False
    for k, raw in enumerate(text.splitlines(), start=1):
        s = raw.strip()
        if s.startswith("+") and in_stmt:
            continue
        if not s or s.startswith("*"):
            continue
        out.append(k)
        in_stmt = True
    return out


def read_set(path: str | Path, *, run_dir: str | Path | None = None, check: bool = True) -> list[DeckFile]:
    """Every file ngspice reads for model file `path` (itself first), each checked as a
    model deck (`check=True`); a missing include is an error naming the including line."""
    path = Path(os.path.normpath(Path(path).absolute()))
    run = Path(run_dir).absolute() if run_dir is not None else path.parent
    out: list[DeckFile] = []
    seen: set[Path] = set()
    todo: list[tuple[Path, int, str]] = [(path, 0, "")]
    while todo:
        p, depth, origin = todo.pop(0)
        if p in seen:
            continue
        if depth > MAX_DEPTH:
            raise DeckError(f"model file {str(p)[:200]!r}: includes nested deeper than {MAX_DEPTH}{origin}")
        if len(seen) >= MAX_FILES:
            raise DeckError(f"model deck {str(path)[:200]!r} includes more than {MAX_FILES} files")
        seen.add(p)
        data = _read(p, origin)
        text = data.decode("utf-8", errors="replace")
        includes = check_statements(text, p) if check else _includes_unchecked(text, p)
        out.append(DeckFile(p, data))
        for head, line, target in includes:
            todo.append((_resolve(target, p, run), depth + 1, f" (included from {str(p)[:200]!r} line {line})"))
    return out


def _includes_unchecked(text: str, path: Path) -> list[tuple[str, int, str]]:
    out = []
    for st, line in zip(parse_statements(text), _line_numbers(text)):
        if (st.head in INCLUDE_HEADS or st.head == ".lib") and len(st.phys) == 1:
            target = _include_target(st.head, st.text)
            if target:
                out.append((st.head, line, target))
    return out


_CHECKED: dict[tuple[str, int, int, int], tuple[Path, ...]] = {}


def check_model_files(paths, run_dir: str | Path | None = None) -> None:
    """Check every file in `paths` and all they include (memoised per file identity)."""
    for p in paths:
        p = Path(p)
        try:
            st = os.stat(p)
        except OSError:
            continue  # missing files are reported by the installer/technology checks
        memo = (str(p), st.st_ino, st.st_mtime_ns, st.st_size)
        if memo in _CHECKED and all(_unchanged(f) for f in _CHECKED[memo]):
            continue
        files = read_set(p, run_dir=run_dir)
        _CHECKED[memo] = tuple(f.path for f in files)
        _STAMPS.update({str(f.path): _stamp(f.path) for f in files})


_STAMPS: dict[str, tuple[int, int, int] | None] = {}


def _stamp(p: Path) -> tuple[int, int, int] | None:
    try:
        st = os.stat(p)
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def _unchanged(p: Path) -> bool:
    return _STAMPS.get(str(p)) == _stamp(p)


def deck_includes(text: str, run_dir: str | Path) -> list[Path]:
    """Files a deck run in `run_dir` includes directly, resolved as ngspice does."""
    run = Path(run_dir).absolute()
    here = run / "deck.sp"
    return [_resolve(target, here, run) for _, _, target in _includes_unchecked(text, here)]


def check_deck_includes(text: str, run_dir: str | Path) -> None:
    """Check, as model decks, the files a deck run in `run_dir` includes from outside that
    folder (the folder's own files are this tool's output): called just before ngspice
    runs, so a model file edited after the netlist was built is checked too."""
    run = Path(run_dir).absolute()
    check_model_files([p for p in deck_includes(text, run) if p.parent != run], run_dir=run)
