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



def cache_dir_problem() -> str | None:
    """Why the user cache cannot be used (a file in the way, no permission), or None.

    Asked before telling a user to `pdk install`: with $NETLISTGEN_CACHE naming a file or
    an unwritable $HOME, installing would fail too, so the message names the real cause."""
    root = cache_dir()
    source = "$NETLISTGEN_CACHE" if os.environ.get("NETLISTGEN_CACHE") else "the user cache"
    probe = root
    while True:
        try:
            if probe.exists() or probe.is_symlink():
                break
        except OSError as exc:
            return f"{source} {str(root)[:200]!r} cannot be used: {exc.strerror or exc}"
        if probe.parent == probe:
            break
        probe = probe.parent
    if not probe.is_dir():
        return f"{source} {str(root)[:200]!r} cannot be used: {str(probe)[:200]!r} is not a folder"
    if not os.access(probe, os.W_OK | os.X_OK) and probe != root:
        return f"{source} {str(root)[:200]!r} cannot be created: {str(probe)[:200]!r} is not writable"
    if probe == root and not os.access(root, os.R_OK | os.X_OK):
        return f"{source} {str(root)[:200]!r} is not readable"
    return None
