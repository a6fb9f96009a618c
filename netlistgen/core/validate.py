"""Validation of every value that may reach a netlist.

A netlist is code: ngspice executes `.control` blocks, including `shell`. So nothing
from a user is pasted into a netlist as text. Identifiers must match a strict pattern,
numbers are parsed to floats and re-formatted by `fmt`, and paths are resolved,
checked against a safe character set and quoted.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

from netlistgen.core.errors import NetlistgenError

IDENTIFIER_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
# Characters allowed in a path written into a netlist (inside double quotes).
SAFE_PATH_RE = re.compile(r"^[A-Za-z0-9_./+@=,~-]+$")


def identifier(value: object, what: str) -> str:
    """Return `value` if it is a plain identifier (letters, digits, underscore)."""
    if not isinstance(value, str) or not IDENTIFIER_RE.match(value):
        raise NetlistgenError(f"invalid {what} {value!r}: must match {IDENTIFIER_RE.pattern}")
    return value


# A value referencing `.param`s, as the generator writes it: `{name}` or `{name*number}`,
# optionally times a per-instance mismatch draw `*(1+agauss(0,sigma,1))`; and a bare draw.
_PNUM = r"[0-9]+(?:\.[0-9]*)?(?:e[+-]?[0-9]+)?"
PARAM_REF_RE = re.compile(rf"\{{([A-Za-z_][A-Za-z0-9_]{{0,63}})(?:\*{_PNUM})?(?:\*\(1\+agauss\(0,{_PNUM},1\)\))?\}}")
DRAW_RE = re.compile(rf"\{{agauss\(0,{_PNUM},1\)\}}")


def param_refs_known(text: str, known: set[str] | frozenset[str], what: str) -> None:
    """One-line error if `text` references a `.param` that is not in `known`."""
    for m in PARAM_REF_RE.finditer(text):
        if m.group(1) not in known:
            raise NetlistgenError(f"invalid {what}: {m.group(0)!r} references no declared parameter "
                                  f"(known: {', '.join(sorted(known)) or 'none'})")


NUMBER_RE = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def number(
    value: object,
    what: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    exclusive_minimum: bool = False,
) -> float:
    """Parse a finite real number within bounds; strings like '1e-15' are accepted."""
    if isinstance(value, bool):
        raise NetlistgenError(f"invalid {what} {value!r}: expected a number")
    if isinstance(value, str) and not NUMBER_RE.fullmatch(value.strip()):
        # float() also takes '1_0e-15' (= 1e-14), 'infinity', ' nan': only plain decimal notation here
        raise NetlistgenError(f"invalid {what} {value!r}: expected a number like 1e-15 or 0.5")
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise NetlistgenError(f"invalid {what} {value!r}: expected a number") from None
    if not math.isfinite(x):
        raise NetlistgenError(f"invalid {what} {value!r}: must be finite")
    if minimum is not None and (x < minimum or (exclusive_minimum and x == minimum)):
        op = ">" if exclusive_minimum else ">="
        raise NetlistgenError(f"invalid {what} {value!r}: must be {op} {minimum:g}")
    if maximum is not None and x > maximum:
        raise NetlistgenError(f"invalid {what} {value!r}: must be <= {maximum:g}")
    return x


def integer(value: object, what: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """Parse an integer within bounds (no bools, no fractional floats)."""
    if isinstance(value, bool):
        raise NetlistgenError(f"invalid {what} {value!r}: expected an integer")
    if isinstance(value, int):
        n = value
    elif isinstance(value, float) and value.is_integer():
        n = int(value)
    elif isinstance(value, str) and re.fullmatch(r"[+-]?\d{1,12}", value.strip()):
        n = int(value)
    else:
        raise NetlistgenError(f"invalid {what} {value!r}: expected an integer")
    if minimum is not None and n < minimum:
        raise NetlistgenError(f"invalid {what} {value!r}: must be >= {minimum}")
    if maximum is not None and n > maximum:
        raise NetlistgenError(f"invalid {what} {value!r}: must be <= {maximum}")
    return n


def fmt(x: float) -> str:
    """Format a number for SPICE: plain scientific notation, no unit suffixes."""
    if isinstance(x, bool) or not math.isfinite(float(x)):
        raise NetlistgenError(f"cannot write non-finite number {x!r} into a netlist")
    return format(float(x), ".10g")


def relative_spice_path(path: str, what: str) -> str:
    """A path relative to the deck's own directory (a bundle): safe characters, no '..'."""
    if not isinstance(path, str) or not SAFE_PATH_RE.match(path) or path.startswith("/") \
            or ".." in path.split("/"):
        raise NetlistgenError(f"invalid {what} {path!r}: expected a relative path inside the bundle")
    return path


def spice_path(path: str | Path, what: str, *, must_exist: bool = True, follow_links: bool = True) -> str:
    """Return an absolute path that is safe to place inside double quotes in a netlist.

    follow_links=False (the tool's own outputs, e.g. a job's array.sp) resolves only the
    folder: a symbolic link planted at the file itself is not followed into the netlist."""
    p = Path(path).expanduser()
    try:
        p = p.resolve() if follow_links else p.parent.resolve() / p.name
    except (OSError, RuntimeError, ValueError) as exc:  # ValueError: embedded NUL
        raise NetlistgenError(f"invalid {what} {str(path)!r}: {exc}") from None
    s = str(p)
    if not SAFE_PATH_RE.match(s):
        raise NetlistgenError(
            f"invalid {what} {str(path)!r}: paths written into netlists may only contain "
            "letters, digits and _ . / + @ = , ~ -"
        )
    if must_exist and not p.exists():
        raise NetlistgenError(f"{what} {s!r} does not exist")
    return s
