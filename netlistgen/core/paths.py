"""Where the user cache lives (model decks, fast decks, results)."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """User cache root: $NETLISTGEN_CACHE, else $XDG_CACHE_HOME/netlistgen, else ~/.cache/netlistgen."""
    env = os.environ.get("NETLISTGEN_CACHE")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        return Path(xdg).expanduser() / "netlistgen"
    return Path.home() / ".cache" / "netlistgen"

