"""Config files (TOML or YAML) for everything the CLI flags can say.

Parsing is strict: unknown keys, wrong types and unparsable files are one-line errors
that name the file, the key and the value.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Iterable
from pathlib import Path

from netlistgen.core.errors import NetlistgenError
from netlistgen.core.suggest import did_you_mean

FORMATS = (".toml", ".yaml", ".yml")

# Limits on every user document (config, pattern sets, suites, descriptors, JSON inputs),
# checked before the parsed value is used: a hostile file costs an error, not memory.
MAX_DOCUMENT_BYTES = 16 * 1024 * 1024
MAX_NESTING = 64  # tables/lists inside each other; real files use < 6
MAX_EXPANDED_NODES = 1_000_000  # YAML nodes counted with every alias expanded (alias bombs)


class DocumentError(NetlistgenError):
    """A document over a limit (size, nesting, alias expansion) or not parsable."""


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
    """PyYAML's safe loader, rejecting duplicate keys (PyYAML silently keeps the last) and
    documents that nest deeper than MAX_NESTING or expand (aliases counted in full) to
    more than MAX_EXPANDED_NODES nodes, before any Python object is built.
    Built on first use: PyYAML is imported only when a YAML file is read."""
    import yaml

    class UniqueKeyLoader(yaml.SafeLoader):
        def compose_node(self, parent, index):  # type: ignore[override]
            self._depth = getattr(self, "_depth", 0) + 1
            try:
                if self._depth > MAX_NESTING:
                    raise yaml.composer.ComposerError(None, None, f"nesting deeper than {MAX_NESTING} levels",
                                                      self.peek_event().start_mark)
                return super().compose_node(parent, index)
            finally:
                self._depth -= 1

        def get_single_data(self):  # type: ignore[override]
            node = self.get_single_node()
            if node is None:
                return None
            _check_expansion(node)
            return self.construct_document(node)

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


def _check_expansion(root) -> None:
    """Count the nodes of a composed YAML graph as if every alias were copied out."""
    import yaml

    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(node, depth: int) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in active:
            raise yaml.composer.ComposerError(None, None, "recursive alias", node.start_mark)
        if depth > MAX_NESTING:
            raise yaml.composer.ComposerError(None, None, f"aliases nest deeper than {MAX_NESTING} levels",
                                              node.start_mark)
        active.add(key)
        total = 1
        if isinstance(node, yaml.SequenceNode):
            children = node.value
        elif isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        else:
            children = []
        for child in children:
            total += size(child, depth + 1)
            if total > MAX_EXPANDED_NODES:
                raise yaml.composer.ComposerError(
                    None, None, f"expands to more than {MAX_EXPANDED_NODES} nodes (alias bomb?)", node.start_mark)
        active.discard(key)
        sizes[key] = total
        return total

    size(root, 0)


def _depth(value, limit: int = MAX_NESTING) -> int:
    """Nesting depth of parsed lists/dicts (iterative: a deep value cannot overflow the stack)."""
    deepest = 0
    stack = [(value, 0)]
    while stack:
        v, d = stack.pop()
        if d > limit:
            return d
        deepest = max(deepest, d)
        if isinstance(v, dict):
            stack.extend((x, d + 1) for x in v.values())
        elif isinstance(v, list):
            stack.extend((x, d + 1) for x in v)
    return deepest


def parse_document(text: str, fmt: str, where: str) -> object:
    """Parse TOML, YAML or JSON text within the limits above; every failure is a one-line
    DocumentError starting with `where` (e.g. "config file 'a.toml'")."""
    if len(text) > MAX_DOCUMENT_BYTES:
        raise DocumentError(f"{where} is larger than {MAX_DOCUMENT_BYTES} bytes")
    errors: tuple[type[BaseException], ...] = (json.JSONDecodeError,)
    try:
        if fmt == "toml":
            import tomllib  # here, not at import: a simulate without a config file never parses TOML

            errors += (tomllib.TOMLDecodeError,)
            data = tomllib.loads(text)
        elif fmt == "yaml":
            import yaml

            errors += (yaml.YAMLError,)
            data = yaml.load(text, Loader=_yaml_loader())  # safe loader, bounded, duplicate keys are errors
        elif fmt == "json":
            data = json.loads(text)
        else:
            raise DocumentError(f"{where}: unknown format {fmt!r}")
    except RecursionError:
        raise DocumentError(f"{where} is not valid {fmt.upper()}: nested deeper than the parser allows") from None
    except errors as exc:
        # YAML messages span lines (problem, then "in <unicode string>, line 3, column 9"): keep one line
        detail = " ".join(str(exc).replace('in "<unicode string>", ', "").split()) or type(exc).__name__
        raise DocumentError(f"{where} is not valid {fmt.upper()}: {detail[:300]}") from None
    if _depth(data) > MAX_NESTING:
        raise DocumentError(f"{where}: nested deeper than {MAX_NESTING} levels")
    return data


def read_document(path: str | Path, what: str = "config file", *, formats: tuple[str, ...] = FORMATS) -> object:
    """Parse a TOML (.toml) or YAML (.yaml/.yml) file, whatever its top level, read
    size-capped and within the limits of parse_document; every failure is one line
    naming `what`, the file and the complaint."""
    p = existing_file(path, what)
    suffix = p.suffix.lower()
    if suffix not in formats:
        raise NetlistgenError(f"{what} {str(p)!r}: unknown format {suffix!r} (use {', '.join(formats)})")
    where = f"{what} {str(p)!r}"
    try:
        size = os.stat(p).st_size
        if size > MAX_DOCUMENT_BYTES:
            raise DocumentError(f"{where} is {size} bytes (limit {MAX_DOCUMENT_BYTES})")
        with open(p, "rb") as fh:
            raw = fh.read(MAX_DOCUMENT_BYTES + 1)
        text = raw.decode("utf-8")
    except FileNotFoundError:
        raise DocumentError(f"{where} does not exist") from None
    except (OSError, ValueError) as exc:  # ValueError: NUL in the name, UnicodeDecodeError
        raise DocumentError(f"cannot read {where}: {getattr(exc, 'strerror', None) or exc}") from None
    return parse_document(text, "toml" if suffix == ".toml" else "yaml", where)


def load_mapping(path: str | Path, what: str = "config file") -> dict:
    """Read a TOML or YAML file whose top level is a mapping (an empty file is {})."""
    data = read_document(path, what)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise NetlistgenError(f"{what} {str(path)!r}: top level must be a mapping, got {type(data).__name__}")
    return data


def check_keys(data: dict, allowed: Iterable[str], where: str, *, required: Iterable[str] = (),
               prefix: str = "") -> None:
    """Reject unknown and missing keys, naming them and where they are; `prefix` is the
    dotted path of the table (`devices.`), shown before each key it names. The one key
    checker of every document the tool reads (configs, descriptors, suites, specs)."""
    allowed = set(allowed)
    for key in data:
        if key not in allowed:
            raise NetlistgenError(f"{where}: unknown key {prefix + str(key)!r}{did_you_mean(key, allowed)}; "
                                  f"allowed: {', '.join(sorted(allowed))}")
    for key in required:
        if key not in data:
            raise NetlistgenError(f"{where}: missing required key {prefix + key!r}")
