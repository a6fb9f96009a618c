"""Config files (TOML or YAML) for everything the CLI flags can say.

Parsing is strict: unknown keys, wrong types and unparsable files are one-line errors
that name the file, the key and the value.
"""

from __future__ import annotations

import functools
import tomllib
from pathlib import Path

from netlistgen.core.errors import NetlistgenError
from netlistgen.core.suggest import did_you_mean

FORMATS = (".toml", ".yaml", ".yml")


def existing_file(path: str | Path, what: str) -> Path:
    """`path` as a Path if it names a readable file; hostile names fail cleanly."""
    p = Path(path)
    try:
        ok = p.is_file()
        there = ok or p.exists()
    except (OSError, ValueError):  # name too long, embedded NUL, ...
        ok = there = False
    if not ok:
        raise NetlistgenError(f"{what} {str(path)[:200]!r} {'is not a file' if there else 'does not exist'}")
    return p


@functools.lru_cache(maxsize=1)
def _yaml_loader():
    """PyYAML's safe loader, rejecting duplicate keys (PyYAML silently keeps the last).
    Built on first use: PyYAML is imported only when a YAML file is read."""
    import yaml

    class UniqueKeyLoader(yaml.SafeLoader):
        def construct_mapping(self, node, deep=False):  # type: ignore[override]
            seen = set()
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=deep)
                try:
                    duplicate = key in seen
                    seen.add(key)
                except TypeError:
                    duplicate = False  # unhashable key: construct_mapping reports it
                if duplicate:
                    raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
            return super().construct_mapping(node, deep=deep)

    return UniqueKeyLoader


def read_document(path: str | Path, what: str = "config file", *, formats: tuple[str, ...] = FORMATS) -> object:
    """Parse a TOML (.toml) or YAML (.yaml/.yml) file, whatever its top level; every
    failure is one line naming `what`, the file and the parser's complaint."""
    import yaml

    p = existing_file(path, what)
    suffix = p.suffix.lower()
    if suffix not in formats:
        raise NetlistgenError(f"{what} {str(p)!r}: unknown format {suffix!r} (use {', '.join(formats)})")
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise NetlistgenError(f"cannot read {what} {str(p)!r}: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        return tomllib.loads(text) if suffix == ".toml" else yaml.load(text, Loader=_yaml_loader())
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        # YAML messages span lines (problem, then "in <unicode string>, line 3, column 9"): keep one line
        detail = " ".join(str(exc).replace('in "<unicode string>", ', "").split()) or type(exc).__name__
        raise NetlistgenError(f"{what} {str(p)!r} is not valid {suffix[1:].upper()}: {detail[:300]}") from None


def load_mapping(path: str | Path, what: str = "config file") -> dict:
    """Read a TOML or YAML file whose top level is a mapping (an empty file is {})."""
    data = read_document(path, what)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise NetlistgenError(f"{what} {str(path)!r}: top level must be a mapping, got {type(data).__name__}")
    return data


def check_keys(data: dict, allowed: set[str], where: str, *, required: set[str] = frozenset()) -> None:
    """Reject unknown and missing keys, naming them and where they are."""
    for key in data:
        if key not in allowed:
            raise NetlistgenError(f"{where}: unknown key {key!r}{did_you_mean(key, allowed)}; allowed: {', '.join(sorted(allowed))}")
    for key in required:
        if key not in data:
            raise NetlistgenError(f"{where}: missing required key {key!r}")
