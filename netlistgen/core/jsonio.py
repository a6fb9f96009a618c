"""Plain-JSON conversion of results, and atomic JSON files."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from pathlib import PurePath

import numpy as np

from netlistgen.core.files import write_atomic



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


def write_json(path, obj, *, indent: int | None = 2, sort_keys: bool = False) -> None:
    """Write `obj` (through to_jsonable) as strict JSON, atomically."""
    import json

    write_atomic(path, json.dumps(to_jsonable(obj), indent=indent, allow_nan=False, sort_keys=sort_keys) + "\n")
