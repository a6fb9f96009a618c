"""Typed, validated parameters of a CIM array: the single source of every netlist value.

`ArraySpec` says *what* to build (cell kind, pattern set, size, fidelity);
`DesignPoint` says *with which values* (voltages, capacitors, sizes, parasitics).
Defaults follow SPEC section 3 ("28nm-style" design point scaled to the technology)
and every field can be overridden; the manifest records the resolved values.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from netlistgen.core import validate
from netlistgen.circuits.cells import CellKind, get_cell
from netlistgen.circuits.encoding import PatternSet
from netlistgen.circuits.schemes import default_cell  # noqa: F401  (re-exported)
from netlistgen.core.errors import NetlistgenError
from netlistgen.core.suggest import did_you_mean
from netlistgen.tech.technology import Technology

FIDELITIES = ("transistor", "ideal-bits")

MAX_ROWS = 4096
MAX_COLS = 4096
MAX_LEVELS = 15
MAX_SRAM_ROWS_PER_LCC = 64
# Upper bounds by unit suffix: far beyond any real design, low enough that derived sizes
# (load in F x bit columns, widths from loads) stay finite numbers in the netlist.
MAX_BY_UNIT = {"_f": 1e-6, "_m": 1e-2, "_ohm": 1e12, "_v": 100.0, "_factor": 1e4}
# Device temperature (deg C): ngspice's default is 27; models are characterised roughly -55..150.
TEMP_RANGE_C = (-273.0, 400.0)
DEFAULT_TEMP_C = 27.0


@dataclass(frozen=True)
class DesignPoint:
    """Electrical values of the array; SI units in every name."""

    vdd_v: float
    vcm_v: float
    dv_v: float
    levels: int
    c_unit_f: float
    wire_r_per_row_ohm: float
    wire_c_per_row_f: float
    c_sample_f: float
    c_input_wire_per_col_f: float
    l_m: float
    w_sram_pd_m: float
    w_sram_pg_m: float
    w_sram_pu_m: float
    w_switch_n_m: float
    w_switch_p_m: float
    r_prog_on_ohm: float = 100.0
    # Driver widths in units of the cell switch; None: sized from their load (netlist.drive_factors).
    siu_width_factor: float | None = None
    reset_width_factor: float | None = None
    sample_width_factor: float | None = None
    # Operating temperature of every device (`.temp` in each deck): a condition, not a size,
    # but kept here so the manifest records it and `--set`/config files reach it like vdd_v.
    temp_c: float = DEFAULT_TEMP_C

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value is None and f.name.endswith("_width_factor"):
                continue
            if f.name == "temp_c":
                validate.number(value, "temp_c", minimum=TEMP_RANGE_C[0], maximum=TEMP_RANGE_C[1])
                continue
            if f.name == "levels":
                validate.integer(value, "levels", minimum=1, maximum=MAX_LEVELS)
                continue
            # Wire capacitance may be zero (no parasitics); everything else must be positive.
            allow_zero = f.name in ("wire_c_per_row_f", "c_input_wire_per_col_f")
            maximum = next((m for suffix, m in MAX_BY_UNIT.items() if f.name.endswith(suffix)), None)
            validate.number(value, f.name, minimum=0.0, exclusive_minimum=not allow_zero, maximum=maximum)
        if not 0 < self.vcm_v < self.vdd_v:
            raise NetlistgenError(f"invalid vcm_v {self.vcm_v!r}: must lie strictly between 0 and vdd_v={self.vdd_v}")
        top = self.vcm_v + self.levels * self.dv_v
        bottom = self.vcm_v - self.levels * self.dv_v
        if top > self.vdd_v + 1e-12 or bottom < -1e-12:
            raise NetlistgenError(
                f"invalid dv_v {self.dv_v!r}: levels={self.levels} span {bottom:.4g}..{top:.4g} V, outside 0..vdd_v={self.vdd_v}"
            )

    def ref_level_v(self, j: int) -> float:
        """ML-SIU reference j: VCM + (j - L)*dV (SPEC section 3), one formula for the
        interface, the port levels and the deck params."""
        return self.vcm_v + (j - self.levels) * self.dv_v

    def deck_params(self) -> dict[str, str]:
        """The decks' level `.param`s, formatted exactly as the port levels are written:
        vdd_v, vcm_v and vref_<j>."""
        refs = {f"vref_{j}": validate.fmt(self.ref_level_v(j)) for j in range(2 * self.levels + 1)}
        return {"vdd_v": validate.fmt(self.vdd_v), "vcm_v": validate.fmt(self.vcm_v), **refs}

    @classmethod
    def for_technology(cls, tech: Technology, *, levels: int = 3, **overrides: object) -> "DesignPoint":
        """The default design point scaled to `tech`, with user overrides applied."""
        levels = validate.integer(overrides.pop("levels", levels), "levels", minimum=1, maximum=MAX_LEVELS)
        vdd = validate.number(overrides.get("vdd_v", tech.vdd_v), "vdd_v", minimum=0.0, exclusive_minimum=True)
        vcm = validate.number(overrides.get("vcm_v", vdd / 2), "vcm_v")
        if not 0 < vcm < vdd:
            raise NetlistgenError(f"invalid vcm_v {overrides.get('vcm_v')!r}: must lie strictly between 0 and vdd_v={vdd}")
        values: dict[str, object] = {
            "vdd_v": vdd,
            "vcm_v": vcm,
            "dv_v": min(vcm, vdd - vcm) / levels,
            "levels": levels,
            "c_unit_f": tech.c_unit_f,
            "wire_r_per_row_ohm": tech.wire_r_per_row_ohm,
            "wire_c_per_row_f": tech.wire_c_per_row_f,
            "c_sample_f": tech.c_sample_f,
            "c_input_wire_per_col_f": tech.wire_c_per_row_f,
            "l_m": tech.lmin_m,
            "w_sram_pd_m": tech.w_sram_pd_m,
            "w_sram_pg_m": tech.w_sram_pg_m,
            "w_sram_pu_m": tech.w_sram_pu_m,
            "w_switch_n_m": tech.w_switch_n_m,
            "w_switch_p_m": tech.w_switch_p_m,
        }
        known = {f.name for f in dataclasses.fields(cls)}
        for key, value in overrides.items():
            if key not in known:
                raise NetlistgenError(f"unknown design parameter {key!r}{did_you_mean(key, known)}; known: {', '.join(sorted(known))}")
            values[key] = value
        for key in known - {"levels"}:
            if key in values and not (key.endswith("_width_factor") and values[key] is None):
                values[key] = validate.number(values[key], key)
        dp = cls(**values)  # type: ignore[arg-type]
        if dp.l_m < tech.lmin_m * (1 - 1e-9):
            raise NetlistgenError(f"invalid l_m {dp.l_m!r}: below {tech.name} Lmin {tech.lmin_m:g} m")
        for name in ("w_sram_pd_m", "w_sram_pg_m", "w_sram_pu_m", "w_switch_n_m", "w_switch_p_m"):
            if getattr(dp, name) < tech.wmin_m * (1 - 1e-9):
                raise NetlistgenError(f"invalid {name} {getattr(dp, name)!r}: below {tech.name} Wmin {tech.wmin_m:g} m")
        return dp


@dataclass(frozen=True)
class ArraySpec:
    """What to build: `rows` input rows x `cols` weight columns of one cell kind.

    Each weight column has `pattern_set.n_bits` physical bit columns (one GBL each).
    For a row-selected cell (the baseline LCC) every computing row serves
    `sram_rows_per_lcc` SRAM rows, so the weight matrix has rows * sram_rows_per_lcc rows.
    `kind` is the cell's record (cells.py); left out, the built-in cell named `cell`.
    """

    cell: str
    pattern_set: PatternSet
    rows: int
    cols: int
    fidelity: str = "ideal-bits"
    sram_rows_per_lcc: int = 16
    kind: CellKind | None = None

    def __post_init__(self) -> None:
        if self.kind is None:
            object.__setattr__(self, "kind", get_cell(self.cell))
        elif self.kind.name != self.cell:
            raise NetlistgenError(f"cell {self.cell!r} given with the record of cell {self.kind.name!r}")
        if self.fidelity not in FIDELITIES:
            raise NetlistgenError(f"unknown fidelity {self.fidelity!r}; known: {', '.join(FIDELITIES)}")
        validate.integer(self.rows, "rows", minimum=1, maximum=MAX_ROWS)
        validate.integer(self.cols, "cols", minimum=1, maximum=MAX_COLS)
        validate.integer(self.sram_rows_per_lcc, "sram_rows_per_lcc", minimum=1, maximum=MAX_SRAM_ROWS_PER_LCC)
        self.kind.check_patterns(self.pattern_set)

    @property
    def n_bits(self) -> int:
        return self.pattern_set.n_bits

    @property
    def bit_cols(self) -> int:
        return self.cols * self.n_bits

    @property
    def weight_rows(self) -> int:
        """Rows of the stored weight matrix (SRAM rows)."""
        return self.rows * self.sram_rows_per_cell

    @property
    def sram_rows_per_cell(self) -> int:
        """SRAM rows sharing one computing cell (1 unless the cell's storage row-selects)."""
        return self.kind.storage.sram_rows(self)

    @property
    def has_pattern_bit(self) -> bool:
        return len(self.pattern_set.patterns) == 2

    @property
    def c2_ratio(self) -> int:
        return self.pattern_set.cap_ratios[1] if self.has_pattern_bit else 1


def default_levels(cell: str | CellKind) -> int:
    """The cell's input kind decides: ML-SIU L=3 (7 levels), binary input bits L=1."""
    return (cell if isinstance(cell, CellKind) else get_cell(cell)).default_levels


def as_dict(obj: object) -> dict:
    """JSON-able view of a parameter dataclass (pattern sets as name + patterns)."""
    out = {}
    for f in dataclasses.fields(obj):  # type: ignore[arg-type]
        value = getattr(obj, f.name)
        if isinstance(value, CellKind):
            continue  # the manifest records the cell in its own section
        if isinstance(value, PatternSet):
            value = {"name": value.name, "patterns": [list(p) for p in value.patterns]}
        out[f.name] = value
    return out


