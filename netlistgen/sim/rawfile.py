"""Read ngspice raw files (binary or ASCII, real or complex data) into numpy vectors.

The runner asks ngspice to `write` only the vectors a job needs, so these files stay
small; this reader is the boundary between simulation and post-processing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from netlistgen.core.errors import SimulationError


def read_raw(path: str | Path) -> dict[str, np.ndarray]:
    """Vectors of the first plot in `path`, keyed by lower-case name (`time`, `v(out_0_0)`, `i(vvdd)`)."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise SimulationError(f"raw file {str(path)!r} cannot be read: {exc.strerror or exc}") from None
    try:
        return _parse(data, path)
    except (KeyError, ValueError, IndexError) as exc:  # a raw file cut short or garbled (disk full, killed job)
        raise SimulationError(f"raw file {str(path)!r} is malformed: {exc!r}") from None


def _parse(data: bytes, path: str | Path) -> dict[str, np.ndarray]:
    pos = 0
    header: dict[str, str] = {}
    names: list[str] = []
    while True:
        end = data.find(b"\n", pos)
        if end < 0:
            raise SimulationError(f"raw file {str(path)!r} ends inside its header")
        line = data[pos:end].decode("ascii", errors="replace").rstrip("\r")
        pos = end + 1
        key, _, value = line.partition(":")
        key = key.strip().lower()
        if key == "variables":
            n_vars = int(header["no. variables"])
            for _ in range(n_vars):
                end = data.find(b"\n", pos)
                fields = data[pos:end].decode("ascii", errors="replace").split()
                pos = end + 1
                names.append(fields[1].lower())
            continue
        if key in ("binary", "values"):
            break
        header[key] = value.strip()
    complex_data = "complex" in header.get("flags", "").lower()  # AC: (real, imaginary) pairs
    n_vars, n_points = len(names), int(header["no. points"])
    if key == "binary":
        if complex_data:
            pairs = np.frombuffer(data, dtype="<f8", count=2 * n_vars * n_points, offset=pos)
            values = pairs[0::2] + 1j * pairs[1::2] if pairs.size == 2 * n_vars * n_points else pairs[:0]
        else:
            values = np.frombuffer(data, dtype="<f8", count=n_vars * n_points, offset=pos)
    else:
        tokens = data[pos:].decode("ascii").split()
        numbers = [tok for k, tok in enumerate(tokens) if k % (n_vars + 1) != 0]
        if complex_data:
            parts = [tok.split(",") for tok in numbers[: n_vars * n_points]]
            values = np.array([complex(float(a), float(b)) for a, b in parts])
        else:
            values = np.array(numbers[: n_vars * n_points], dtype=float)
    if values.size != n_vars * n_points:
        raise SimulationError(f"raw file {str(path)!r} is truncated: {values.size} of {n_vars * n_points} values")
    table = values.reshape(n_points, n_vars)
    return {name: table[:, k].copy() for k, name in enumerate(names)}
