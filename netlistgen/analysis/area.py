"""Additive area model of an array from device counts, sizes and capacitor density."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from netlistgen.core.errors import NetlistgenError
from netlistgen.core.arrays import as_1d, count, scalar



@dataclass(frozen=True)
class AreaEstimate:
    """Additive area model of an array; see area_estimate for the model."""

    cell_area_m2: float  # one computing cell incl. its SRAM bits
    array_area_m2: float  # cells * cell_area_m2
    periphery_area_m2: float
    total_area_m2: float  # array + periphery (the macro area)
    transistor_area_per_cell_m2: float
    cap_area_per_cell_m2: float
    sram_area_per_cell_m2: float
    cells: int
    n_transistors: int  # whole array: cell devices + 6 per SRAM bit
    n_caps: int
    weights_stored: int
    parameter_density_per_m2: float  # weights_stored / total_area_m2


def _transistor_area(n_transistors_per_cell, transistor_area_m2) -> tuple[float, int]:
    """(area, count) of one cell's transistors from a count and area in several forms."""
    if isinstance(n_transistors_per_cell, Mapping):
        counts = {
            str(role): count(f"n_transistors_per_cell[{role!r}]", n)
            for role, n in n_transistors_per_cell.items()
        }
        n_total = sum(counts.values())
        if isinstance(transistor_area_m2, Mapping):
            areas = {str(k): v for k, v in transistor_area_m2.items()}
            missing = sorted(set(counts) - set(areas))
            extra = sorted(set(areas) - set(counts))
            if missing or extra:
                raise NetlistgenError(
                    f"transistor_area_m2 roles {sorted(areas)} do not match "
                    f"n_transistors_per_cell roles {sorted(counts)}"
                )
            area = sum(
                counts[r] * scalar(f"transistor_area_m2[{r!r}]", areas[r], nonnegative=True)
                for r in counts
            )
            return area, n_total
        return n_total * scalar("transistor_area_m2", transistor_area_m2, nonnegative=True), n_total
    n_total = count("n_transistors_per_cell", n_transistors_per_cell)
    if isinstance(transistor_area_m2, Mapping):
        raise NetlistgenError(
            "transistor_area_m2 is given per role, so n_transistors_per_cell must be too"
        )
    if isinstance(transistor_area_m2, (Sequence, np.ndarray)) and not isinstance(
        transistor_area_m2, (str, bytes)
    ):
        areas = as_1d("transistor_area_m2", transistor_area_m2)
        if areas.size != n_total:
            raise NetlistgenError(
                f"transistor_area_m2 lists {areas.size} areas for "
                f"n_transistors_per_cell = {n_total}"
            )
        if (areas < 0).any():
            raise NetlistgenError(f"transistor_area_m2 has a negative area {areas.min():g}")
        return float(np.sum(areas)), n_total
    return n_total * scalar("transistor_area_m2", transistor_area_m2, nonnegative=True), n_total


def area_estimate(
    *,
    n_transistors_per_cell,
    transistor_area_m2,
    cap_f_per_cell: float,
    cap_density_f_per_m2: float,
    sram_cells_per_cell: int,
    sram6t_area_m2: float,
    cells: int,
    weights_stored: int,
    periphery_area_m2: float = 0.0,
    n_caps_per_cell: int = 1,
) -> AreaEstimate:
    """Additive area model: no overlap, routing or spacing beyond what the inputs hold.

    cell = sum of the cell's transistor areas (logic/switch devices, each its drawn
           footprint incl. contacts as the caller defines it)
         + cap_f_per_cell / cap_density_f_per_m2 (capacitors beside, not over, devices)
         + sram_cells_per_cell * sram6t_area_m2 (the technology's 6T bitcell);
    array = cells * cell;  total (macro) = array + periphery_area_m2;
    parameter density = weights_stored / total.

    transistor_area_m2 is one area for every transistor, a list with one area per
    transistor, or a {role: area} mapping when n_transistors_per_cell is {role: count}.
    Stacking MOM capacitors over the devices would make the cell the max, not the sum,
    of those areas; this model is deliberately the pessimistic, simple one.
    """
    tr_area, n_tr = _transistor_area(n_transistors_per_cell, transistor_area_m2)
    cap_f = scalar("cap_f_per_cell", cap_f_per_cell, nonnegative=True)
    if cap_f > 0:
        density = scalar("cap_density_f_per_m2", cap_density_f_per_m2, positive=True)
        cap_area = cap_f / density
    else:
        cap_area = 0.0
    n_sram = count("sram_cells_per_cell", sram_cells_per_cell)
    sram_area = n_sram * scalar("sram6t_area_m2", sram6t_area_m2, nonnegative=True)
    n_cells = count("cells", cells, minimum=1)
    n_weights = count("weights_stored", weights_stored)
    periphery = scalar("periphery_area_m2", periphery_area_m2, nonnegative=True)
    n_caps = count("n_caps_per_cell", n_caps_per_cell)

    cell = tr_area + cap_area + sram_area
    array = n_cells * cell
    total = array + periphery
    if total <= 0:
        raise NetlistgenError("area estimate is 0 m^2: every area input is zero")
    return AreaEstimate(
        cell_area_m2=cell,
        array_area_m2=array,
        periphery_area_m2=periphery,
        total_area_m2=total,
        transistor_area_per_cell_m2=tr_area,
        cap_area_per_cell_m2=cap_area,
        sram_area_per_cell_m2=sram_area,
        cells=n_cells,
        n_transistors=n_cells * (n_tr + 6 * n_sram),
        n_caps=n_cells * n_caps,
        weights_stored=n_weights,
        parameter_density_per_m2=n_weights / total,
    )


def area_efficiency_gops_per_mm2(ops_per_s: float, area_m2: float) -> float:
    """Throughput per area in GOPS/mm^2 (1 m^2 = 1e6 mm^2)."""
    ops = scalar("ops_per_s", ops_per_s, nonnegative=True)
    area = scalar("area_m2", area_m2, positive=True)
    return ops / 1e9 / (area * 1e6)


