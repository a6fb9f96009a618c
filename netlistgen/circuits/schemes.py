"""The scheme registry: every weight scheme the tool knows, presets and user pattern sets.

A `Scheme` holds a preset's pattern positions (encoding.PRESETS is built from them) and
what the rest of the package needs about it: the cell it is built on by default, its
input precision (the I of I-W) and its name in tables. The CLI's choices and every
study read their scheme lists here. Importing this module is cheap (no numpy), so the
CLI can build its choices without loading the numerics.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from netlistgen.circuits.encoding import PatternSet


@dataclass(frozen=True)
class Scheme:
    name: str
    patterns: tuple[tuple[int, ...], ...]  # bit positions per pattern, MSB first (encoding.PatternSet)
    cell: str  # default cell kind (cells.BUILTIN)
    input_bits: int = 8  # activation precision of the comparison (the I of I-W)
    title: str = ""
    compared: bool = False  # one of the four columns of the seeds' comparison (paper, SNR, accuracy)
    demo: bool = False  # simulated by `netlistgen demo`

    @property
    def pattern_set(self) -> "PatternSet":
        from netlistgen.circuits.encoding import PRESETS, PatternSet

        preset = PRESETS.get(self.name)
        return preset if preset is not None and preset.patterns == self.patterns else PatternSet(self.name, self.patterns)


SCHEMES: dict[str, Scheme] = {s.name: s for s in (
    Scheme("int8", ((6, 5, 4, 3, 2, 1, 0),), "lcc", title="baseline 8-8", compared=True, demo=True),
    Scheme("int4", ((2, 1, 0),), "lcc", input_bits=4, title="baseline 4-4", compared=True),
    Scheme("zebra-i", ((3, 2, 1, 0), (5, 4, 3, 2)), "mllcu", title="ZEBRA I 8-8", compared=True, demo=True),
    Scheme("zebra-ii", ((6, 4, 2, 0), (7, 5, 3, 1)), "mllcu", title="ZEBRA II 8-8", compared=True, demo=True),
    # One-hot: every pattern is the single position j (k_j = j), plus zero.
    Scheme("log2", tuple((j,) for j in range(7)), "mllcu", title="log2 8-8"),
)}
PRESET_NAMES = tuple(SCHEMES)
COMPARED = ("int4", "int8", "zebra-i", "zebra-ii")  # the comparison's column order
assert set(COMPARED) == {name for name, s in SCHEMES.items() if s.compared}
DEMO = tuple(name for name, s in SCHEMES.items() if s.demo)
# Scheme pairs whose metric ratios the comparison reports (numerator, denominator).
RATIO_PAIRS = (("zebra-i", "int8"), ("zebra-ii", "int8"), ("zebra-i", "int4"), ("zebra-ii", "int4"), ("int4", "int8"))
DEFAULT_SCHEME = "zebra-i"  # what `generate` builds when neither a scheme nor a cell is given
DEFAULT_CELL = "mllcu"  # user pattern sets run on the ML-LCU


def get_scheme(name: str, custom: Mapping[str, PatternSet] | None = None) -> Scheme:
    """A preset scheme, or a user pattern set from `custom` (encoding.load_pattern_sets)."""
    from netlistgen.circuits.encoding import get_pattern_set

    ps = get_pattern_set(name, custom)  # one-line error for an unknown name
    if name in SCHEMES:
        return SCHEMES[name]
    return Scheme(name, ps.patterns, DEFAULT_CELL, title=name)


def default_cell(scheme: str) -> str:
    """The cell a scheme is built on when none is asked for (custom sets: the ML-LCU)."""
    return SCHEMES[scheme].cell if scheme in SCHEMES else DEFAULT_CELL
