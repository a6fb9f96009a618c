"""Atomic file writes: a reader never sees a half-written netlist, report or plot."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from netlistgen.core.errors import OutputError


def write_atomic(path: str | Path, text: str) -> None:
    """Write through a temporary file in the same directory, then rename.

    Any OS failure (ENOSPC, EROFS, EFBIG, ...) becomes an OutputError naming the file;
    the temporary file is removed and an existing `path` is left as it was."""
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise OutputError(f"cannot write {str(path)!r}: {exc.strerror or exc}") from None
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)  # mkstemp creates 0600; give the usual permissions
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise OutputError(f"cannot write {str(path)!r}: {exc.strerror or exc}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
