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
from dataclasses import dataclass

import numpy as np

from netlistgen.core.arrays import as_2d, distinct, pair, scalar
from netlistgen.core.errors import NetlistgenError

# Residuals at or below this many ulps of the signal scale are rounding, not error.
_ROUNDING_ULPS = 64.0

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
    y, v = pair(y_ideal, v_meas, min_points=2)
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
    y, v = pair(y_sweep, v_sweep, min_points=3, y_name="y_sweep", v_name="v_sweep")
    codes, inverse = np.unique(y, return_inverse=True)
    if codes.size < 3:
        raise NetlistgenError(
            f"DNL needs at least 3 distinct codes, y_sweep has {codes.size}"
        )
    v_code = np.bincount(inverse, weights=v) / np.bincount(inverse)
    if gain_v_per_lsb is None:
        gain = fit_linearity(codes, v_code).gain_v_per_lsb
    else:
        gain = scalar("gain_v_per_lsb", gain_v_per_lsb)
        if gain == 0.0:
            raise NetlistgenError("gain_v_per_lsb must be nonzero, got 0")
    return (np.diff(v_code) / gain) / np.diff(codes) - 1.0


def _is_uniform_sweep(y: np.ndarray) -> bool:
    """True when the distinct codes are >= 3 and evenly spaced (a code sweep)."""
    codes = distinct(y)
    if codes.size < 3:
        return False
    steps = np.diff(codes)
    return bool(np.allclose(steps, steps[0], rtol=1e-9, atol=0.0))


def fitted_back(y_ideal, v_meas, lin: Linearity | None = None) -> np.ndarray:
    """Measured value on the code grid: y_meas = (V - offset) / gain.

    `y_ideal` is only used to fit when `lin` is not given.
    """
    y, v = pair(y_ideal, v_meas, min_points=1 if lin is not None else 2)
    if lin is None:
        lin = fit_linearity(y, v)
    if lin.gain_v_per_lsb == 0.0:
        raise NetlistgenError("Linearity gain is 0 V/LSB: cannot fit back")
    return (v - lin.offset_v) / lin.gain_v_per_lsb


def snr_db_from_error(y: np.ndarray, err_lsb: np.ndarray) -> float:
    """10 log10(var(y) / mean(err^2)): signal power over error power, both in LSB."""
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
    y, v = pair(y_ideal, v_meas, min_points=2)
    if lin is None:
        lin = fit_linearity(y, v)
    if lin.gain_v_per_lsb == 0.0:
        raise NetlistgenError("Linearity gain is 0 V/LSB: SNR is undefined")
    err = _residual_v(y, v, lin.gain_v_per_lsb, lin.offset_v) / lin.gain_v_per_lsb
    return snr_db_from_error(y, err)


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
    y = as_2d("y_ideal", y_ideal)
    v = as_2d("v_meas", v_meas)
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
        snr = snr_db_from_error(yc, err)
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
    snr_pooled = snr_db_from_error(np.concatenate(pooled_y), np.concatenate(pooled_err))
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


def tops_per_w(energy_per_cycle_j: float, macs_per_cycle: float) -> float:
    """Energy efficiency in TOPS/W: 2 OPs per MAC, 2*macs / E / 1e12."""
    e = scalar("energy_per_cycle_j", energy_per_cycle_j, positive=True)
    macs = scalar("macs_per_cycle", macs_per_cycle, nonnegative=True)
    return 2.0 * macs / e / 1e12


