"""Checked conversions of user or simulator numbers into arrays and scalars (one-line errors)."""

from __future__ import annotations

import math

import numpy as np

from netlistgen.core.errors import NetlistgenError, one_line


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


def distinct(values) -> np.ndarray:
    """Sorted distinct values, as np.unique; the return_inverse path of np.unique does not
    import numpy.ma (~30 ms, a tenth of a small simulate's fixed cost)."""
    return np.unique(values, return_inverse=True)[0]


def check_finite(name: str, arr: np.ndarray) -> None:
    bad = ~np.isfinite(arr)
    if bad.any():
        idx = tuple(int(k) for k in np.argwhere(bad)[0])
        where = idx[0] if len(idx) == 1 else list(idx)
        raise NetlistgenError(f"{name}[{where}] = {arr[idx]} is not finite")


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




MAX_INPUT_VALUES = 50_000_000  # of one user array file (400 MB of float64): far above any CIM weight matrix


def load_npy(path, what: str, *, max_values: int = MAX_INPUT_VALUES) -> np.ndarray:
    """A numeric .npy array; the header's shape and dtype are checked before anything is
    allocated, so a header claiming a huge shape is a one-line error, not a MemoryError."""
    readers = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
    where = f"{what} {str(path)[:200]!r}"
    try:
        with open(path, "rb") as fh:
            version = np.lib.format.read_magic(fh)
            if version not in readers:
                raise NetlistgenError(f"{where}: unsupported .npy format version {version}")
            shape, _, dtype = readers[version](fh)
    except OSError as exc:
        raise NetlistgenError(f"{where} cannot be read: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise NetlistgenError(f"{where} is not a valid .npy file: {one_line(exc, 200)}") from None
    if dtype.kind not in "fiub":
        raise NetlistgenError(f"{where}: expected a real numeric array, got dtype {dtype}")
    n = math.prod(shape)
    if n > max_values:
        raise NetlistgenError(f"{where}: shape {shape} holds {n} values (limit {max_values})")
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:  # data shorter than the header says, ...
        raise NetlistgenError(f"{where} cannot be read: {one_line(exc, 200)}") from None
