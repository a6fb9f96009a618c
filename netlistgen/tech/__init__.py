"""Technologies: descriptors (schema, corners, devices), model libraries, installation."""

from netlistgen.core.paths import cache_dir
from netlistgen.tech.technology import Technology, as_technology, list_technologies, load_technology
from netlistgen.tech.wheels import MARKER_NAME, WHEELS

__all__ = ["MARKER_NAME", "WHEELS", "Technology", "as_technology", "cache_dir", "install", "list_technologies",
           "load_technology", "show"]


def __getattr__(name: str):
    """install/show load the installer (zipfile, pip plumbing) only when asked for."""
    if name in ("install", "show"):
        from netlistgen.tech import installer

        return getattr(installer, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
