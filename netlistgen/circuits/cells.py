"""Cell kinds as data: one record per computing cell, a registry, and user cells.

A `CellKind` says everything the rest of the package needs to know about a computing
cell, so no module branches on a cell name:

- its SPICE template (a subcircuit named after the cell with the ports `CELL_PORTS`),
- how its input is driven (`InputKind`: binary bit-serial or multi-level ML-SIU),
- how its stored bits reach it (`storage.STORAGE`: per cell or row-selected),
- whether it has a pattern bit (C1/C2 choice), and
- its area model (transmission gates per bit column, for studies/paper.py).

A user cell is a descriptor file (TOML/YAML) plus a Jinja template kept outside the
package (`load_cell_file`, the `cell_file` option / `--cell-file` flag); its rendered
text is checked line by line (`check_cell_text`) before it reaches a netlist.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from netlistgen.circuits.storage import STORAGE, PerCell, RowSelect
from netlistgen.core import validate
from netlistgen.core.errors import NetlistgenError

if TYPE_CHECKING:  # numpy and the config readers load when used: the CLI imports this for its choices
    import numpy as np


@dataclass(frozen=True)
class InputKind:
    """How a row input is applied per compute cycle: levels m in lo..hi (x dV around VCM).

    binary: bit-serial, m in 0..1 (an unsigned input split into bits, LSB first).
    multilevel: the ML-SIU's m in -L..L (balanced base-(2L+1) digits, least significant first)."""

    name: str
    default_levels: int
    signed: bool  # levels -L..L (else 0..1)

    def level_range(self, levels: int) -> tuple[int, int]:
        return (-levels, levels) if self.signed else (0, 1)

    def digits(self, a: np.ndarray, levels: int, act_bits: int,
               signed_values: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Split integers a (..., rows) into per-cycle input levels
        (encoding.split_input_digits; signed_values: two's complement on a binary input):
        (digits (cycles, ..., rows), cycle weights (cycles,))."""
        from netlistgen.circuits.encoding import split_input_digits

        return split_input_digits(a, not self.signed, levels, act_bits, signed=signed_values)

    def input_cycles(self, levels: int, act_bits: int) -> int:
        """Compute cycles per unsigned input of act_bits bits (SPEC section 5a): act_bits on a
        binary input, as few balanced base-(2L+1) digits as cover 2**act_bits - 1 otherwise."""
        from netlistgen.circuits.encoding import input_cycles

        return input_cycles(not self.signed, levels, act_bits)

    def random(self, rng: np.random.Generator, shape: tuple[int, ...], levels: int) -> np.ndarray:
        """Uniform random levels (every level equally likely)."""
        lo, hi = self.level_range(levels)
        return rng.integers(lo, hi + 1, size=shape)


INPUT_KINDS = {k.name: k for k in (InputKind("binary", 1, False), InputKind("multilevel", 3, True))}

# Ports of every computing-cell subcircuit, in order; the pattern bit (p, pb) only on a
# cell with a pattern bit in an array whose pattern set has two patterns.
CELL_PORTS = ("inp", "inn", "vcm", "w", "wb", "s", "sb", "gbl", "vdd", "vss")
PATTERN_PORTS = ("p", "pb")


@dataclass(frozen=True)
class CellArea:
    """Area model of one computing cell (one bit column): its switches in units of the
    unit transmission gate (n + p device); capacitors come from the design point."""

    tgs_per_bit: int
    tgs_per_pattern_bit: int = 0  # extra switches when the pattern bit is used

    def tgs(self, two_caps: bool) -> int:
        return self.tgs_per_bit + (self.tgs_per_pattern_bit if two_caps else 0)


@dataclass(frozen=True)
class CellKind:
    """One computing-cell kind (see the module doc)."""

    name: str
    title: str  # for messages and reports
    template: str  # Jinja template defining `.subckt <name> CELL_PORTS`
    input: InputKind
    storage: PerCell | RowSelect
    pattern_bit: bool  # has the C1/C2 pattern switch (pattern sets of up to 2 patterns)
    area: CellArea
    default_scheme: str  # what `generate --cell NAME` builds without --scheme
    template_dir: str = ""  # user cells: the directory holding the template ("" = the package's)
    source: dict | None = None  # user cells: descriptor/template paths and hashes (manifest)

    @property
    def subckt(self) -> str:
        return self.name

    @property
    def default_levels(self) -> int:
        return self.input.default_levels

    def ports(self, two_caps: bool) -> tuple[str, ...]:
        return CELL_PORTS[:7] + (PATTERN_PORTS if two_caps else ()) + CELL_PORTS[7:]

    def check_patterns(self, pattern_set) -> None:
        n = len(pattern_set.patterns)
        if self.pattern_bit and n > 2:
            raise NetlistgenError(f"pattern set {pattern_set.name!r} has {n} patterns; the {self.title} has one "
                                  "pattern bit (C1/C2), so at most 2")
        if not self.pattern_bit and n != 1:
            raise NetlistgenError(f"pattern set {pattern_set.name!r} has {n} patterns; the {self.title} has no "
                                  "pattern bit (use a single-pattern set such as int4 or int8)")

    def manifest(self) -> dict:
        return {"name": self.name, "input": self.input.name, "storage": self.storage.name,
                "pattern_bit": self.pattern_bit, "template": self.template, **(self.source or {})}


BUILTIN: dict[str, CellKind] = {c.name: c for c in (
    CellKind("lcc", "baseline LCC", "lcc.sp.j2", INPUT_KINDS["binary"], RowSelect(), False,
             CellArea(tgs_per_bit=4), default_scheme="int8"),
    CellKind("mllcu", "ML-LCU", "mllcu.sp.j2", INPUT_KINDS["multilevel"], PerCell(), True,
             CellArea(tgs_per_bit=4, tgs_per_pattern_bit=4), default_scheme="zebra-i"),
)}
CELL_KINDS = tuple(BUILTIN)


def get_cell(name: str, user: CellKind | None = None) -> CellKind:
    """A built-in cell kind by name, or `user` if it carries that name."""
    if user is not None and name == user.name:
        return user
    if isinstance(name, str) and name in BUILTIN:
        return BUILTIN[name]
    known = ", ".join([*BUILTIN, *([user.name] if user is not None else [])])
    raise NetlistgenError(f"unknown cell kind {name!r}; known: {known}")


# ---------------------------------------------------------------- user cells

CELL_FILE_KEYS = {"name", "title", "template", "input", "storage", "pattern_bit", "default_scheme", "area"}
AREA_KEYS = {"tgs_per_bit", "tgs_per_pattern_bit"}

# What a cell template may emit: comments, device/subcircuit instances (M, X, C, R, S
# lines of identifiers, numbers, references to the library's `.param`s ({name} or
# {name*number}) and name=value parameters), continuation lines, and exactly one
# .subckt/.ends pair. No sources, models, includes, controls or .param lines of its own.
_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
_NUM = r"-?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?"
_VALUE = rf"(?:{_NUM}|{validate.PARAM_REF_RE.pattern}|{validate.DRAW_RE.pattern})"
_TOKEN = rf"(?:{_IDENT}|{_VALUE}|{_IDENT}={_VALUE})"
_COMMENT = re.compile(r"^\*(?: [ -~]*)?$")
_ELEMENT = re.compile(rf"^[MXCRS][A-Za-z0-9_]*(?: {_TOKEN})+$")
_CONTINUATION = re.compile(rf"^\+(?: {_TOKEN})+$")
_SUBCKT = re.compile(rf"^\.subckt ({_IDENT})((?: {_IDENT})*)$")
_ENDS = re.compile(rf"^\.ends ({_IDENT})$")


def check_cell_text(text: str, cell: CellKind, two_caps: bool, where: str,
                    known_params: set[str] | frozenset[str] = frozenset()) -> None:
    """One-line error unless `text` is one `.subckt` of the cell with the expected ports,
    made only of lines the built-in templates can produce (parameter references only to
    the library's declared `known_params`)."""
    lines = [ln for ln in text.split("\n") if ln.strip()]
    opened = closed = 0
    for n, line in enumerate(lines, 1):
        bad = f"{where}: rendered line {n} {line[:80]!r}"
        if _COMMENT.match(line):
            continue
        if m := _SUBCKT.match(line):
            ports = tuple(m.group(2).split())
            if opened or m.group(1) != cell.subckt or ports != cell.ports(two_caps):
                raise NetlistgenError(f"{bad}: expected one '.subckt {cell.subckt} {' '.join(cell.ports(two_caps))}'")
            opened += 1
        elif m := _ENDS.match(line):
            if not opened or closed or m.group(1) != cell.subckt:
                raise NetlistgenError(f"{bad}: expected '.ends {cell.subckt}' after the .subckt line")
            closed += 1
        elif _ELEMENT.match(line) or _CONTINUATION.match(line):
            if not opened or closed:
                raise NetlistgenError(f"{bad}: element outside the .subckt {cell.subckt} block")
            validate.param_refs_known(line, known_params, bad)
        else:
            raise NetlistgenError(f"{bad}: not a comment, M/X/C/R/S element, .subckt or .ends line")
    if not (opened and closed):
        raise NetlistgenError(f"{where}: the template defines no complete '.subckt {cell.subckt}' block")


def _choice(value: object, known, key: str, where: str) -> str:
    if not isinstance(value, str) or value not in known:
        raise NetlistgenError(f"{where}: key {key!r}: unknown value {value!r}; known: {', '.join(known)}")
    return value


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_cell_file(path: str | Path) -> CellKind:
    """A user cell from its descriptor (TOML/YAML); every key checked, one-line errors
    naming the file, the key and the value. The template path is relative to the file."""
    from netlistgen.core.config import check_keys, existing_file, load_mapping

    p = existing_file(path, "cell file")
    data = load_mapping(p)
    where = f"cell file {str(p)!r}"
    check_keys(data, CELL_FILE_KEYS, where, required={"name", "template", "input", "storage", "area"})
    name = data["name"]
    if not isinstance(name, str) or not validate.IDENTIFIER_RE.match(name):
        raise NetlistgenError(f"{where}: key 'name': invalid cell name {name!r} (letters, digits, _)")
    if name.lower() in BUILTIN or name.lower() in ("tg", "tgdrv", "tgrst", "tgsmp", "sram6t", "rowsel", "mlsiu",
                                                    "gblper", "slice", "cim_array"):
        raise NetlistgenError(f"{where}: key 'name': {name!r} is taken by a built-in subcircuit")
    title = data.get("title", f"user cell {name}")
    if not isinstance(title, str) or not re.fullmatch(r"[ -~]{1,80}", title):
        raise NetlistgenError(f"{where}: key 'title': expected up to 80 printable ASCII characters, got {title!r}")
    input_kind = INPUT_KINDS[_choice(data["input"], INPUT_KINDS, "input", where)]
    storage = STORAGE[_choice(data["storage"], STORAGE, "storage", where)]
    pattern_bit = data.get("pattern_bit", False)
    if not isinstance(pattern_bit, bool):
        raise NetlistgenError(f"{where}: key 'pattern_bit': expected true or false, got {pattern_bit!r}")
    area = data["area"]
    if not isinstance(area, dict):
        raise NetlistgenError(f"{where}: key 'area' must be a table, got {area!r}")
    check_keys(area, AREA_KEYS, f"{where} [area]", required={"tgs_per_bit"})
    tgs = {}
    for key, value in area.items():
        try:
            tgs[key] = validate.integer(value, key, minimum=0, maximum=1000)
        except NetlistgenError as exc:
            raise NetlistgenError(f"{where}: key 'area.{key}': {exc}") from None
    template = data["template"]
    if not isinstance(template, str) or not re.fullmatch(r"[A-Za-z0-9_.-]{1,100}\.j2", template):
        raise NetlistgenError(f"{where}: key 'template': expected a file name ending in .j2 next to the cell file, "
                              f"got {template!r}")
    template_path = existing_file(p.parent / template, f"{where}: key 'template': template file")
    default_scheme = data.get("default_scheme", "int8" if not pattern_bit else "zebra-i")
    if not isinstance(default_scheme, str):
        raise NetlistgenError(f"{where}: key 'default_scheme': expected a scheme name, got {default_scheme!r}")
    return CellKind(
        name=name, title=title, template=f"user/{template}", input=input_kind, storage=storage,
        pattern_bit=pattern_bit, area=CellArea(**tgs), default_scheme=default_scheme,
        template_dir=str(p.parent.resolve()),
        source={"cell_file": str(p.resolve()), "cell_file_sha256": _sha256(p),
                "template_file": str(template_path.resolve()), "template_sha256": _sha256(template_path)},
    )


def resolve_cell(name: str | None, cell_file: str | Path | None, default: str) -> CellKind:
    """The cell an option set asks for: `name`, else the cell file's, else `default`."""
    user = load_cell_file(cell_file) if cell_file else None
    if name is None:
        return user if user is not None else get_cell(default)
    return get_cell(name, user)
