"""Atomic, symlink-safe file writes: a reader never sees a half-written netlist, report
or plot, and a link planted where the tool writes is never followed.

`os.replace` renames over a symbolic link instead of writing through it, the temporary
file is created with O_EXCL, and reads back of the tool's own outputs use O_NOFOLLOW.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from netlistgen.core.errors import OutputError


def _default_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_bytes_atomic(path: str | Path, data: bytes, *, mode: int | None = None) -> None:
    """Write through a temporary file in the same directory, then rename.

    Any OS failure (ENOSPC, EROFS, EFBIG, ...) becomes an OutputError naming the file;
    the temporary file is removed and an existing `path` is left as it was. `mode`
    defaults to the usual 0666 & ~umask (mkstemp alone would leave 0600)."""
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name[:100]}.", suffix=".tmp")
    except (OSError, ValueError) as exc:
        raise OutputError(f"cannot write {str(path)[:200]!r}: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        os.fchmod(fd, _default_mode() if mode is None else mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise OutputError(f"cannot write {str(path)[:200]!r}: {exc.strerror or exc}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_atomic(path: str | Path, text: str) -> None:
    """write_bytes_atomic of UTF-8 text."""
    write_bytes_atomic(path, text.encode("utf-8"))


def read_own(path: str | Path, *, limit: int | None = None) -> bytes:
    """Read back a file this tool (or its simulator) wrote, refusing a symbolic link and
    anything but a regular file; `limit` bounds the size read."""
    path = Path(path)
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise OSError(f"{str(path)[:200]!r} is not a regular file")
        if limit is not None and st.st_size > limit:
            raise OSError(f"{str(path)[:200]!r} is {st.st_size} bytes (limit {limit})")
        return fh.read()


def own_file(path: str | Path) -> Path:
    """`path` if it is a regular file and not a symbolic link (OSError otherwise)."""
    st = os.lstat(path)
    if not stat.S_ISREG(st.st_mode):
        raise OSError(f"{str(path)[:200]!r} is {'a symbolic link' if stat.S_ISLNK(st.st_mode) else 'not a regular file'}")
    return Path(path)


def real_dir(path: str | Path, what: str = "directory") -> Path:
    """Create `path` (and parents) as a real directory. A symbolic link at `path` itself,
    or a file in the way, is a one-line error: the tool never writes through a link it
    did not make."""
    path = Path(path)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        try:
            path.mkdir(parents=True, exist_ok=True)
            st = os.lstat(path)
        except (OSError, ValueError) as exc:
            raise OutputError(f"{what} {str(path)[:200]!r} cannot be created: "
                              f"{getattr(exc, 'strerror', None) or exc}") from None
    except (OSError, ValueError) as exc:
        raise OutputError(f"{what} {str(path)[:200]!r}: {getattr(exc, 'strerror', None) or exc}") from None
    if stat.S_ISLNK(st.st_mode):
        raise OutputError(f"{what} {str(path)[:200]!r} is a symbolic link; refusing to write through it")
    if not stat.S_ISDIR(st.st_mode):
        raise OutputError(f"{what} {str(path)[:200]!r} is not a directory (a file is in the way)")
    return path


def remove_stale(*paths: str | Path) -> None:
    """Remove earlier outputs (files or symbolic links; never what a link points to) so a
    simulator neither writes through a planted link nor leaves an old file to be read."""
    for p in paths:
        try:
            st = os.lstat(p)
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise OutputError(f"cannot check {str(p)[:200]!r}: {exc.strerror or exc}") from None
        if stat.S_ISDIR(st.st_mode):
            raise OutputError(f"{str(p)[:200]!r} is a directory where an output file goes")
        try:
            os.unlink(p)
        except OSError as exc:
            raise OutputError(f"cannot remove stale {str(p)[:200]!r}: {exc.strerror or exc}") from None

