"""The scheme registry: every weight scheme the tool knows, presets and user pattern sets.

A `Scheme` joins a pattern set (encoding.py) with what the rest of the package needs
about it: the cell it is built on by default, its input precision (the I of I-W) and
its name in tables. The CLI's choices and every study read their scheme lists here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from netlistgen.circuits.encoding import PRESETS, PatternSet, get_pattern_set


@dataclass(frozen=True)
class Scheme:
    name: str
    pattern_set: PatternSet
    cell: str  # default cell kind (cells.BUILTIN)
    input_bits: int = 8  # activation precision of the comparison (the I of I-W)
    title: str = ""
    compared: bool = False  # one of the four columns of the seeds' comparison (paper, SNR, accuracy)
    demo: bool = False  # simulated by `netlistgen demo`


def _preset(name: str, cell: str, **kw) -> Scheme:
    return Scheme(name, PRESETS[name], cell, **kw)


SCHEMES: dict[str, Scheme] = {s.name: s for s in (
    _preset("int4", "lcc", input_bits=4, title="baseline 4-4", compared=True),
    _preset("int8", "lcc", title="baseline 8-8", compared=True, demo=True),
    _preset("zebra-i", "mllcu", title="ZEBRA I 8-8", compared=True, demo=True),
    _preset("zebra-ii", "mllcu", title="ZEBRA II 8-8", compared=True, demo=True),
    _preset("log2", "mllcu", title="log2 8-8"),
)}
PRESET_NAMES = tuple(SCHEMES)
COMPARED = tuple(name for name, s in SCHEMES.items() if s.compared)
DEMO = tuple(name for name, s in SCHEMES.items() if s.demo)
# Scheme pairs whose metric ratios the comparison reports (numerator, denominator).
RATIO_PAIRS = (("zebra-i", "int8"), ("zebra-ii", "int8"), ("zebra-i", "int4"), ("zebra-ii", "int4"), ("int4", "int8"))
DEFAULT_SCHEME = "zebra-i"  # what `generate` builds when neither a scheme nor a cell is given
DEFAULT_CELL = "mllcu"  # user pattern sets run on the ML-LCU


def get_scheme(name: str, custom: Mapping[str, PatternSet] | None = None) -> Scheme:
    """A preset scheme, or a user pattern set from `custom` (encoding.load_pattern_sets)."""
    ps = get_pattern_set(name, custom)  # one-line error for an unknown name
    if name in SCHEMES:
        return SCHEMES[name]
    return Scheme(name, ps, DEFAULT_CELL, title=name)


def default_cell(scheme: str) -> str:
    """The cell a scheme is built on when none is asked for (custom sets: the ML-LCU)."""
    return SCHEMES[scheme].cell if scheme in SCHEMES else DEFAULT_CELL
