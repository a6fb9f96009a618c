"""Config files (TOML or YAML) for everything the CLI flags can say.

Parsing is strict: unknown keys, wrong types and unparsable files are one-line errors
that name the file, the key and the value.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import yaml

from netlistgen.circuits.encoding import _UniqueKeyLoader
from netlistgen.core.errors import NetlistgenError
from netlistgen.core.suggest import did_you_mean


def existing_file(path: str | Path, what: str) -> Path:
    """`path` as a Path if it names a readable file; hostile names fail cleanly."""
    p = Path(path)
    try:
        ok = p.is_file()
    except (OSError, ValueError):  # name too long, embedded NUL, ...
        ok = False
    if not ok:
        raise NetlistgenError(f"{what} {str(path)[:200]!r} does not exist")
    return p


def load_mapping(path: str | Path) -> dict:
    """Read a TOML (.toml) or YAML (.yaml/.yml) file whose top level is a mapping."""
    p = existing_file(path, "config file")
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise NetlistgenError(f"cannot read config file {str(p)!r}: {exc}") from None
    suffix = p.suffix.lower()
    try:
        if suffix == ".toml":
            data = tomllib.loads(text)
        elif suffix in (".yaml", ".yml"):
            data = yaml.load(text, Loader=_UniqueKeyLoader)  # safe loader; duplicate keys are errors
        else:
            raise NetlistgenError(f"config file {str(p)!r}: unknown format {suffix!r} (use .toml, .yaml or .yml)")
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        # YAML messages span lines (problem, then "in <unicode string>, line 3, column 9"): keep one line
        detail = " ".join(str(exc).replace('in "<unicode string>", ', "").split()) or type(exc).__name__
        raise NetlistgenError(f"config file {str(p)!r} is not valid {suffix[1:].upper()}: {detail[:300]}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise NetlistgenError(f"config file {str(p)!r}: top level must be a mapping, got {type(data).__name__}")
    return data


def check_keys(data: dict, allowed: set[str], where: str, *, required: set[str] = frozenset()) -> None:
    """Reject unknown and missing keys, naming them and where they are."""
    for key in data:
        if key not in allowed:
            raise NetlistgenError(f"{where}: unknown key {key!r}{did_you_mean(key, allowed)}; allowed: {', '.join(sorted(allowed))}")
    for key in required:
        if key not in data:
            raise NetlistgenError(f"{where}: missing required key {key!r}")
