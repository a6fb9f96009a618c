"""Checked conversions of user or simulator numbers into arrays and scalars (one-line errors)."""

from __future__ import annotations

import math

import numpy as np

from netlistgen.core.errors import NetlistgenError


def as_1d(name: str, values) -> np.ndarray:
    """Finite 1-D float array, or a one-line error naming the first bad entry."""
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise NetlistgenError(f"{name} must be numeric: {one_line(exc)}") from None
    if arr.ndim != 1:
        raise NetlistgenError(f"{name} must be a 1-D array, got shape {arr.shape}")
    check_finite(name, arr)
    return arr


def as_2d(name: str, values) -> np.ndarray:
    """Finite (cycles, columns) float array; a 1-D array is one column."""
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise NetlistgenError(f"{name} must be numeric: {one_line(exc)}") from None
    if arr.ndim == 1:
        arr = arr[:, np.newaxis]
    if arr.ndim != 2:
        raise NetlistgenError(f"{name} must be a (cycles, columns) array, got shape {arr.shape}")
    check_finite(name, arr)
    return arr


def check_finite(name: str, arr: np.ndarray) -> None:
    bad = ~np.isfinite(arr)
    if bad.any():
        idx = tuple(int(k) for k in np.argwhere(bad)[0])
        where = idx[0] if len(idx) == 1 else list(idx)
        raise NetlistgenError(f"{name}[{where}] = {arr[idx]} is not finite")


def one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def pair(y_ideal, v_meas, *, min_points: int, y_name="y_ideal", v_name="v_meas"):
    y = as_1d(y_name, y_ideal)
    v = as_1d(v_name, v_meas)
    if y.shape != v.shape:
        raise NetlistgenError(
            f"{y_name} and {v_name} differ in length ({y.size} vs {v.size})"
        )
    if y.size < min_points:
        raise NetlistgenError(f"need at least {min_points} points, got {y.size}")
    return y, v


def scalar(name: str, value, *, positive=False, nonnegative=False) -> float:
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


def count(name: str, value, *, minimum: int = 0) -> int:
    """Non-negative integer count; accepts integral floats (e.g. 16.0) but not 16.5."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise NetlistgenError(f"{name} must be an integer, got {value!r}") from None
    if not math.isfinite(x) or x != int(x) or x < minimum:
        raise NetlistgenError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(x)


