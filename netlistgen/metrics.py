"""Metrics of SPEC section 5, computed from plain numpy arrays.

This module sits at the end of the data flow (raw vectors -> metrics -> report/plots)
and imports nothing from the netlist/testbench/runner side, so any caller can use it
on measured or synthetic data alike.

Definitions (the SPEC is the authority; these are its formulas):

- Linearity: least-squares line V_meas = gain * y_ideal + offset. INL (LSB) is
  max |residual| / |gain|. DNL over a sweep is the per-step deviation of the measured
  step, in units of the fitted gain, from the ideal code step.
- Compute SNR = 10*log10(var(y_ideal) / mean((y_meas - y_ideal)^2)) with
  y_meas = (V_meas - offset) / gain, the measured value fitted back onto the code grid.
  ENOB = (SNR - 1.76) / 6.02.
- Energy: ngspice reports a voltage source's branch current as flowing into its +
  terminal, so the power a source delivers is p = -v*i. The headline per source is the
  delivered energy integral max(0, p) dt (a reference or driver cannot take energy
  back); the net integral p dt is reported beside it. See ENERGY_BOOKKEEPING.
- TOPS/W counts 1 MAC = 2 OPs.

Rounding floor: a residual smaller than a few dozen ulps of the voltages involved is
indistinguishable from floating-point rounding of the fit itself, so it is set to
exactly 0. Without that a perfectly linear transfer would report SNR ~ 300 dB instead
of inf. The floor is ~1e-14 V for sub-volt signals, far below any simulator tolerance.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePath

import numpy as np

from netlistgen.errors import NetlistgenError

__all__ = [
    "ENERGY_BOOKKEEPING",
    "AreaEstimate",
    "ColumnMetrics",
    "Linearity",
    "area_efficiency_gops_per_mm2",
    "area_estimate",
    "column_metrics",
    "compute_snr_db",
    "delivered_energy_j",
    "dnl_lsb",
    "energy_per_cycle",
    "enob_bits",
    "fit_linearity",
    "fitted_back",
    "to_jsonable",
    "tops_per_w",
]

ENERGY_BOOKKEEPING = (
    "per source p = -v*i (ngspice branch current flows into the + terminal); "
    "delivered = integral of max(0, p) dt over each cycle window, summed over sources "
    "(headline); net = integral of p dt; trapezoidal rule on the simulator's time "
    "points with window edges linearly interpolated"
)

# Residuals at or below this many ulps of the signal scale are rounding, not error.
_ROUNDING_ULPS = 64.0
# A window edge may overshoot the simulated time span by this fraction of the span
# (tstop printed with limited digits), and is then clipped to the span.
_WINDOW_EDGE_SLACK = 1e-9


# --------------------------------------------------------------------------- inputs


def _as_1d(name: str, values) -> np.ndarray:
    """Finite 1-D float array, or a one-line error naming the first bad entry."""
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise NetlistgenError(f"{name} must be numeric: {_one_line(exc)}") from None
    if arr.ndim != 1:
        raise NetlistgenError(f"{name} must be a 1-D array, got shape {arr.shape}")
    _check_finite(name, arr)
    return arr


def _as_2d(name: str, values) -> np.ndarray:
    """Finite (cycles, columns) float array; a 1-D array is one column."""
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise NetlistgenError(f"{name} must be numeric: {_one_line(exc)}") from None
    if arr.ndim == 1:
        arr = arr[:, np.newaxis]
    if arr.ndim != 2:
        raise NetlistgenError(f"{name} must be a (cycles, columns) array, got shape {arr.shape}")
    _check_finite(name, arr)
    return arr


def _check_finite(name: str, arr: np.ndarray) -> None:
    bad = ~np.isfinite(arr)
    if bad.any():
        idx = tuple(int(k) for k in np.argwhere(bad)[0])
        where = idx[0] if len(idx) == 1 else list(idx)
        raise NetlistgenError(f"{name}[{where}] = {arr[idx]} is not finite")


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def _pair(y_ideal, v_meas, *, min_points: int, y_name="y_ideal", v_name="v_meas"):
    y = _as_1d(y_name, y_ideal)
    v = _as_1d(v_name, v_meas)
    if y.shape != v.shape:
        raise NetlistgenError(
            f"{y_name} and {v_name} differ in length ({y.size} vs {v.size})"
        )
    if y.size < min_points:
        raise NetlistgenError(f"need at least {min_points} points, got {y.size}")
    return y, v


def _scalar(name: str, value, *, positive=False, nonnegative=False) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise NetlistgenError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(x):
        raise NetlistgenError(f"{name} must be finite, got {x}")
    if positive and x <= 0:
        raise NetlistgenError(f"{name} must be > 0, got {x:g}")
    if nonnegative and x < 0:
        raise NetlistgenError(f"{name} must be >= 0, got {x:g}")
    return x


def _count(name: str, value, *, minimum: int = 0) -> int:
    """Non-negative integer count; accepts integral floats (e.g. 16.0) but not 16.5."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise NetlistgenError(f"{name} must be an integer, got {value!r}") from None
    if not math.isfinite(x) or x != int(x) or x < minimum:
        raise NetlistgenError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(x)


# ------------------------------------------------------------------------ linearity


@dataclass(frozen=True)
class Linearity:
    """Least-squares line V = gain * y + offset and its residuals."""

    gain_v_per_lsb: float
    offset_v: float  # V at y = 0, relative to the reference the caller subtracted
    inl_lsb: float  # max |residual| / |gain|
    # V - (gain*y + offset), input order; read-only, not compared (arrays have no truth value)
    residual_v: np.ndarray = dataclasses.field(repr=False, compare=False)
    n_points: int


def _residual_v(y: np.ndarray, v: np.ndarray, gain: float, offset: float) -> np.ndarray:
    """V - (gain*y + offset), with rounding-level residuals set to exactly 0."""
    fit = gain * y + offset
    residual = v - fit
    scale = float(np.max(np.abs(v)) + np.max(np.abs(gain * y)) + abs(offset))
    floor = _ROUNDING_ULPS * np.finfo(float).eps * scale
    residual[np.abs(residual) <= floor] = 0.0
    return residual


def fit_linearity(y_ideal, v_meas) -> Linearity:
    """Least-squares gain/offset of V_meas against y_ideal, and INL.

    Centred sums rather than a generic solver keep a known gain/offset exact to
    rounding even when the offset (e.g. VCM) dwarfs the swing.
    """
    y, v = _pair(y_ideal, v_meas, min_points=2)
    y_mean = float(np.mean(y))
    dy = y - y_mean
    sxx = float(dy @ dy)
    if sxx == 0.0 or np.ptp(y) == 0.0:
        raise NetlistgenError(
            f"y_ideal is constant ({y[0]:g} at all {y.size} points): gain is undefined"
        )
    v_mean = float(np.mean(v))
    gain = float(dy @ (v - v_mean)) / sxx
    offset = v_mean - gain * y_mean
    if gain == 0.0 or not math.isfinite(gain):
        raise NetlistgenError(
            f"fitted gain is {gain:g} V/LSB: v_meas does not vary with y_ideal"
        )
    residual = _residual_v(y, v, gain, offset)
    inl = float(np.max(np.abs(residual))) / abs(gain)
    residual.setflags(write=False)
    return Linearity(gain, float(offset), inl, residual, int(y.size))


def dnl_lsb(y_sweep, v_sweep, *, gain_v_per_lsb: float | None = None) -> np.ndarray:
    """Per-step DNL (LSB) of a code sweep: (dV / gain) / dy - 1.

    Points are sorted by code and repeated codes averaged (repeats are the same code
    measured again). The gain is the least-squares gain over those per-code averages
    (each code weighted once) unless `gain_v_per_lsb` is given, e.g. an endpoint gain.
    Element k is the step from the k-th to the (k+1)-th distinct code.
    """
    y, v = _pair(y_sweep, v_sweep, min_points=3, y_name="y_sweep", v_name="v_sweep")
    codes, inverse = np.unique(y, return_inverse=True)
    if codes.size < 3:
        raise NetlistgenError(
            f"DNL needs at least 3 distinct codes, y_sweep has {codes.size}"
        )
    v_code = np.bincount(inverse, weights=v) / np.bincount(inverse)
    if gain_v_per_lsb is None:
        gain = fit_linearity(codes, v_code).gain_v_per_lsb
    else:
        gain = _scalar("gain_v_per_lsb", gain_v_per_lsb)
        if gain == 0.0:
            raise NetlistgenError("gain_v_per_lsb must be nonzero, got 0")
    return (np.diff(v_code) / gain) / np.diff(codes) - 1.0


def _is_uniform_sweep(y: np.ndarray) -> bool:
    """True when the distinct codes are >= 3 and evenly spaced (a code sweep)."""
    codes = np.unique(y)
    if codes.size < 3:
        return False
    steps = np.diff(codes)
    return bool(np.allclose(steps, steps[0], rtol=1e-9, atol=0.0))


def fitted_back(y_ideal, v_meas, lin: Linearity | None = None) -> np.ndarray:
    """Measured value on the code grid: y_meas = (V - offset) / gain.

    `y_ideal` is only used to fit when `lin` is not given.
    """
    y, v = _pair(y_ideal, v_meas, min_points=1 if lin is not None else 2)
    if lin is None:
        lin = fit_linearity(y, v)
    if lin.gain_v_per_lsb == 0.0:
        raise NetlistgenError("Linearity gain is 0 V/LSB: cannot fit back")
    return (v - lin.offset_v) / lin.gain_v_per_lsb


def _snr_db_from_error(y: np.ndarray, err_lsb: np.ndarray) -> float:
    var_y = float(np.var(y))
    if var_y == 0.0:
        raise NetlistgenError(f"y_ideal is constant ({y[0]:g}): SNR is undefined")
    mse = float(np.mean(err_lsb * err_lsb))
    if mse == 0.0:
        return math.inf
    return 10.0 * math.log10(var_y / mse)


def compute_snr_db(y_ideal, v_meas, lin: Linearity | None = None) -> float:
    """Compute SNR (dB) of the fitted-back values; inf when the error is exactly 0.

    The error y_meas - y_ideal is taken as residual / gain (algebraically equal) so
    that the rounding floor applies and an exact line gives inf.
    """
    y, v = _pair(y_ideal, v_meas, min_points=2)
    if lin is None:
        lin = fit_linearity(y, v)
    if lin.gain_v_per_lsb == 0.0:
        raise NetlistgenError("Linearity gain is 0 V/LSB: SNR is undefined")
    err = _residual_v(y, v, lin.gain_v_per_lsb, lin.offset_v) / lin.gain_v_per_lsb
    return _snr_db_from_error(y, err)


def enob_bits(snr_db: float) -> float:
    """ENOB = (SNR - 1.76) / 6.02 (inf stays inf)."""
    return (float(snr_db) - 1.76) / 6.02


@dataclass(frozen=True)
class ColumnMetrics:
    """Linearity and SNR of one bit column (nan fields: column could not be fitted)."""

    column: int
    gain_v_per_lsb: float
    offset_v: float
    inl_lsb: float
    dnl_lsb_max: float  # max |DNL|; nan unless the column's codes form a uniform sweep
    snr_db: float
    enob_bits: float
    n_points: int


def column_metrics(y_ideal, v_meas) -> tuple[list[ColumnMetrics], dict]:
    """Per-column metrics and an overall summary for (cycles, columns) arrays.

    Each column gets its own fit (columns differ in gain/offset through parasitics).
    Overall SNR pools every fitted column's errors against the pooled y_ideal; the
    summary also gives the mean and worst column. A column whose y_ideal is constant
    (e.g. a bit column no weight uses) cannot be fitted: its fields are nan, it is
    listed under "unfit_columns" and left out of the pooled figures. DNL is reported
    when a column's distinct codes are evenly spaced (a sweep), as max |DNL|.
    """
    y = _as_2d("y_ideal", y_ideal)
    v = _as_2d("v_meas", v_meas)
    if y.shape != v.shape:
        raise NetlistgenError(f"y_ideal shape {y.shape} differs from v_meas shape {v.shape}")
    n_cycles, n_cols = y.shape
    if n_cols == 0:
        raise NetlistgenError("y_ideal has no columns")
    if n_cycles < 2:
        raise NetlistgenError(f"need at least 2 cycles per column, got {n_cycles}")

    per_column: list[ColumnMetrics] = []
    unfit: list[int] = []
    pooled_y: list[np.ndarray] = []
    pooled_err: list[np.ndarray] = []
    for c in range(n_cols):
        yc, vc = y[:, c], v[:, c]
        if np.ptp(yc) == 0.0:
            unfit.append(c)
            nan = math.nan
            per_column.append(ColumnMetrics(c, nan, nan, nan, nan, nan, nan, n_cycles))
            continue
        try:
            lin = fit_linearity(yc, vc)
            dnl_max = (
                float(np.max(np.abs(dnl_lsb(yc, vc)))) if _is_uniform_sweep(yc) else math.nan
            )
        except NetlistgenError as exc:
            raise NetlistgenError(f"column {c}: {exc}") from None
        err = lin.residual_v / lin.gain_v_per_lsb
        snr = _snr_db_from_error(yc, err)
        pooled_y.append(yc)
        pooled_err.append(err)
        per_column.append(
            ColumnMetrics(
                column=c,
                gain_v_per_lsb=lin.gain_v_per_lsb,
                offset_v=lin.offset_v,
                inl_lsb=lin.inl_lsb,
                dnl_lsb_max=dnl_max,
                snr_db=snr,
                enob_bits=enob_bits(snr),
                n_points=lin.n_points,
            )
        )
    if not pooled_y:
        raise NetlistgenError(
            f"every one of the {n_cols} columns has a constant y_ideal: nothing to fit"
        )

    fitted = [m for m in per_column if m.column not in unfit]
    snr_pooled = _snr_db_from_error(np.concatenate(pooled_y), np.concatenate(pooled_err))
    snrs = np.array([m.snr_db for m in fitted])
    gains = np.array([m.gain_v_per_lsb for m in fitted])
    offsets = np.array([m.offset_v for m in fitted])
    inls = np.array([m.inl_lsb for m in fitted])
    dnls = np.array([m.dnl_lsb_max for m in fitted])
    gain_mean = float(np.mean(gains))
    overall = {
        "n_columns": n_cols,
        "n_fitted_columns": len(fitted),
        "unfit_columns": unfit,
        "n_points": int(sum(m.n_points for m in fitted)),
        "snr_db": snr_pooled,
        "enob_bits": enob_bits(snr_pooled),
        "snr_db_mean": float(np.mean(snrs)),
        "snr_db_min": float(np.min(snrs)),
        "enob_bits_min": enob_bits(float(np.min(snrs))),
        "inl_lsb_max": float(np.max(inls)),
        "inl_lsb_mean": float(np.mean(inls)),
        "dnl_lsb_max": float(np.nanmax(dnls)) if np.isfinite(dnls).any() else math.nan,
        "gain_v_per_lsb_mean": gain_mean,
        # column-to-column gain mismatch, relative (std / |mean|)
        "gain_spread_rel": float(np.std(gains) / abs(gain_mean)),
        "offset_v_mean": float(np.mean(offsets)),
        "offset_v_spread": float(np.std(offsets)),
    }
    return per_column, overall


# --------------------------------------------------------------------------- energy


def _time_axis(t_s) -> np.ndarray:
    t = _as_1d("t_s", t_s)
    if t.size < 2:
        raise NetlistgenError(f"t_s needs at least 2 time points, got {t.size}")
    steps = np.diff(t)
    if (steps < 0).any():
        k = int(np.flatnonzero(steps < 0)[0])
        raise NetlistgenError(
            f"t_s must be non-decreasing: t_s[{k + 1}] = {t[k + 1]:g} < t_s[{k}] = {t[k]:g}"
        )
    return t


def _window(t: np.ndarray, t0_s, t1_s) -> tuple[float, float, int, int]:
    """Validated, clipped window and the index range of samples strictly inside it."""
    t0 = _scalar("window start t0_s", t0_s)
    t1 = _scalar("window end t1_s", t1_s)
    if not t1 > t0:
        raise NetlistgenError(f"window ({t0:g}, {t1:g}) s is empty: end must be after start")
    slack = _WINDOW_EDGE_SLACK * (t[-1] - t[0])
    if t0 < t[0] - slack or t1 > t[-1] + slack:
        raise NetlistgenError(
            f"window ({t0:g}, {t1:g}) s lies outside the simulated span "
            f"({t[0]:g}, {t[-1]:g}) s"
        )
    t0, t1 = max(t0, float(t[0])), min(t1, float(t[-1]))
    lo = int(np.searchsorted(t, t0, side="right"))
    hi = int(np.searchsorted(t, t1, side="left"))
    return t0, t1, lo, hi


def _interp_at(t: np.ndarray, x: np.ndarray, te: float) -> float:
    """Linear interpolation of x at one time; O(log n) unlike np.interp's array pass."""
    k = int(np.searchsorted(t, te, side="right"))
    if k <= 0:
        return float(x[0])
    if k >= t.size:
        return float(x[-1])
    w = (te - t[k - 1]) / (t[k] - t[k - 1])  # t[k-1] <= te < t[k]
    return float(x[k - 1] + w * (x[k] - x[k - 1]))


def _windowed_power(t, v, i, t0, t1, lo, hi) -> tuple[np.ndarray, np.ndarray]:
    """Time grid [t0, samples inside, t1] and delivered power p = -v*i on it."""
    tw = np.concatenate(([t0], t[lo:hi], [t1]))
    vw = np.concatenate(([_interp_at(t, v, t0)], v[lo:hi], [_interp_at(t, v, t1)]))
    iw = np.concatenate(([_interp_at(t, i, t0)], i[lo:hi], [_interp_at(t, i, t1)]))
    return tw, -vw * iw


def _positive_part_integral(t: np.ndarray, p: np.ndarray) -> float:
    """Integral of max(0, p) for p linear between samples (trapezoid, split at zeros).

    Clipping samples before the trapezoid would overcount every segment where the
    power changes sign; splitting at the crossing keeps delivered - absorbed == net.
    """
    dt = np.diff(t)
    p0, p1 = p[:-1], p[1:]
    area = np.where((p0 >= 0) & (p1 >= 0), 0.5 * (p0 + p1) * dt, 0.0)
    cross = ((p0 > 0) & (p1 < 0)) | ((p0 < 0) & (p1 > 0))
    if cross.any():
        pos = np.maximum(p0[cross], p1[cross])
        span = np.abs(p0[cross]) + np.abs(p1[cross])
        area[cross] = 0.5 * pos * pos / span * dt[cross]
    return float(np.sum(area))


def _trapezoid(t: np.ndarray, p: np.ndarray) -> float:
    return float(np.sum(0.5 * (p[:-1] + p[1:]) * np.diff(t)))


def _source_arrays(name: str, t: np.ndarray, v_v, i_a) -> tuple[np.ndarray, np.ndarray]:
    v = _as_1d(f"{name} voltage", v_v)
    i = _as_1d(f"{name} current", i_a)
    if v.size != t.size or i.size != t.size:
        raise NetlistgenError(
            f"{name}: voltage ({v.size}) and current ({i.size}) must have one value per "
            f"time point ({t.size})"
        )
    return v, i


def delivered_energy_j(t_s, v_v, i_a, t0_s, t1_s) -> tuple[float, float]:
    """(delivered, net) energy in J of one source over [t0_s, t1_s].

    p = -v*i (ngspice's branch current flows into the + terminal). delivered is the
    integral of max(0, p), net the integral of p; trapezoidal on the sample grid with
    the window edges linearly interpolated.
    """
    t = _time_axis(t_s)
    v, i = _source_arrays("source", t, v_v, i_a)
    t0, t1, lo, hi = _window(t, t0_s, t1_s)
    tw, p = _windowed_power(t, v, i, t0, t1, lo, hi)
    return _positive_part_integral(tw, p), _trapezoid(tw, p)


def energy_per_cycle(
    t_s,
    sources: Mapping[str, tuple[np.ndarray, np.ndarray]],
    windows: Sequence[tuple[float, float]],
) -> dict:
    """Delivered and net energy per cycle window, total and per source.

    sources maps a name to (v_v, i_a) sampled on t_s. The total delivered energy is
    the sum of each source's own delivered energy (one source's return current does
    not offset another's draw), per ENERGY_BOOKKEEPING.
    """
    t = _time_axis(t_s)
    if not sources:
        raise NetlistgenError("energy_per_cycle needs at least one source")
    if len(windows) == 0:
        raise NetlistgenError("energy_per_cycle needs at least one cycle window")
    arrays = {}
    for name, pair in sources.items():
        try:
            v_v, i_a = pair
        except (TypeError, ValueError):
            raise NetlistgenError(f"source {name!r} must be a (voltage, current) pair") from None
        arrays[str(name)] = _source_arrays(f"source {name!r}", t, v_v, i_a)
    spans = []
    for k, win in enumerate(windows):
        try:
            t0_s, t1_s = win
        except (TypeError, ValueError):
            raise NetlistgenError(f"window {k} must be a (t0_s, t1_s) pair, got {win!r}") from None
        try:
            spans.append(_window(t, t0_s, t1_s))
        except NetlistgenError as exc:
            raise NetlistgenError(f"cycle {k}: {exc}") from None

    n = len(spans)
    per_delivered = {name: np.empty(n) for name in arrays}
    per_net = {name: np.empty(n) for name in arrays}
    for name, (v, i) in arrays.items():
        for k, (t0, t1, lo, hi) in enumerate(spans):
            tw, p = _windowed_power(t, v, i, t0, t1, lo, hi)
            per_delivered[name][k] = _positive_part_integral(tw, p)
            per_net[name][k] = _trapezoid(tw, p)
    return {
        "delivered_j": np.sum(list(per_delivered.values()), axis=0),
        "net_j": np.sum(list(per_net.values()), axis=0),
        "per_source_delivered_j": per_delivered,
        "per_source_net_j": per_net,
    }


def tops_per_w(energy_per_cycle_j: float, macs_per_cycle: float) -> float:
    """Energy efficiency in TOPS/W: 2 OPs per MAC, 2*macs / E / 1e12."""
    e = _scalar("energy_per_cycle_j", energy_per_cycle_j, positive=True)
    macs = _scalar("macs_per_cycle", macs_per_cycle, nonnegative=True)
    return 2.0 * macs / e / 1e12


# ----------------------------------------------------------------------------- area


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
            str(role): _count(f"n_transistors_per_cell[{role!r}]", n)
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
                counts[r] * _scalar(f"transistor_area_m2[{r!r}]", areas[r], nonnegative=True)
                for r in counts
            )
            return area, n_total
        return n_total * _scalar("transistor_area_m2", transistor_area_m2, nonnegative=True), n_total
    n_total = _count("n_transistors_per_cell", n_transistors_per_cell)
    if isinstance(transistor_area_m2, Mapping):
        raise NetlistgenError(
            "transistor_area_m2 is given per role, so n_transistors_per_cell must be too"
        )
    if isinstance(transistor_area_m2, (Sequence, np.ndarray)) and not isinstance(
        transistor_area_m2, (str, bytes)
    ):
        areas = _as_1d("transistor_area_m2", transistor_area_m2)
        if areas.size != n_total:
            raise NetlistgenError(
                f"transistor_area_m2 lists {areas.size} areas for "
                f"n_transistors_per_cell = {n_total}"
            )
        if (areas < 0).any():
            raise NetlistgenError(f"transistor_area_m2 has a negative area {areas.min():g}")
        return float(np.sum(areas)), n_total
    return n_total * _scalar("transistor_area_m2", transistor_area_m2, nonnegative=True), n_total


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
    cap_f = _scalar("cap_f_per_cell", cap_f_per_cell, nonnegative=True)
    if cap_f > 0:
        density = _scalar("cap_density_f_per_m2", cap_density_f_per_m2, positive=True)
        cap_area = cap_f / density
    else:
        cap_area = 0.0
    n_sram = _count("sram_cells_per_cell", sram_cells_per_cell)
    sram_area = n_sram * _scalar("sram6t_area_m2", sram6t_area_m2, nonnegative=True)
    n_cells = _count("cells", cells, minimum=1)
    n_weights = _count("weights_stored", weights_stored)
    periphery = _scalar("periphery_area_m2", periphery_area_m2, nonnegative=True)
    n_caps = _count("n_caps_per_cell", n_caps_per_cell)

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
    ops = _scalar("ops_per_s", ops_per_s, nonnegative=True)
    area = _scalar("area_m2", area_m2, positive=True)
    return ops / 1e9 / (area * 1e6)


# ----------------------------------------------------------------------------- JSON


def to_jsonable(obj):
    """Convert metrics results to plain JSON types (json.dumps(..., allow_nan=False) safe).

    Dataclasses become dicts, numpy arrays lists, numpy scalars Python scalars, paths
    strings, mapping keys strings. Non-finite floats become the strings "inf", "-inf"
    and "nan": JSON has no such numbers, and None would conflate a perfect SNR (inf)
    with "not applicable" (nan); float("inf") etc. parse them back.
    Unsupported types raise TypeError (a programming error, not a user one).
    """
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        x = float(obj)
        if math.isnan(x):
            return "nan"
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
        return x
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, Mapping):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, PurePath):
        return str(obj)
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [to_jsonable(v) for v in obj]
    raise TypeError(f"to_jsonable: unsupported type {type(obj).__name__}")
