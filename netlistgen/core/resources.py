"""Where the shipped data folders are: inside the installed wheel, or in a source tree.

The repository keeps `templates/`, `pdk_models/` and `testbenches/` at its top level;
the wheel installs them as `netlistgen.templates` etc. Running straight from a source
checkout (no install) falls back to the top-level folders.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

_SOURCE_ROOT = Path(__file__).resolve().parents[2]


def data_dir(name: str) -> Path:
    """Directory of the shipped data package `name` (templates, pdk_models, testbenches)."""
    try:
        return Path(str(importlib.resources.files(f"netlistgen.{name}")))
    except ModuleNotFoundError:
        candidate = _SOURCE_ROOT / name
        if candidate.is_dir():
            return candidate
        raise
