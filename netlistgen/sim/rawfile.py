"""Read ngspice raw files (binary or ASCII, real or complex data) into numpy vectors.

The runner asks ngspice to `write` only the vectors a job needs, so these files stay
small; this reader is the boundary between simulation and post-processing.
"""

from __future__ import annotations

import mmap
import os
import stat
from pathlib import Path

import numpy as np

from netlistgen.core.errors import SimulationError

# Free space below which a cut-short raw file is blamed on a full disk: ngspice 39 ignores
# write errors (exit 0, no message), so a truncated file is the only trace of ENOSPC.
DISK_FULL_SLACK_BYTES = 1 << 20


def read_raw(path: str | Path) -> dict[str, np.ndarray]:
    """Vectors of the first plot in `path`, keyed by lower-case name (`time`, `v(out_0_0)`, `i(vvdd)`).

    The file is memory-mapped (not read into a second buffer) and opened without following
    a symbolic link: a link planted in a job directory is refused, never read through."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        why = "is a symbolic link" if exc.errno == 40 else f"cannot be read: {exc.strerror or exc}"  # ELOOP
        raise SimulationError(f"raw file {str(path)!r} {why}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise SimulationError(f"raw file {str(path)!r} is not a regular file")
        if st.st_size == 0:
            raise SimulationError(f"raw file {str(path)!r} is empty{_disk_full(path, 1)}")
        with mmap.mmap(fd, 0, access=mmap.ACCESS_READ) as data:
            try:
                return _parse(data, path)
            except (KeyError, ValueError, IndexError) as exc:  # cut short or garbled (disk full, killed job)
                raise SimulationError(f"raw file {str(path)!r} is malformed: {exc!r}{_disk_full(path, 1)}") from None
    finally:
        os.close(fd)


def _disk_full(path: str | Path, missing_bytes: int) -> str:
    """' (the disk is full: ...)' when the file system cannot hold what is missing, else ''."""
    try:
        vfs = os.statvfs(Path(path).parent)
    except OSError:
        return ""
    free = vfs.f_bavail * vfs.f_frsize
    if free < missing_bytes + DISK_FULL_SLACK_BYTES:
        return f" (the disk is full: {free} bytes free on its file system, ENOSPC while ngspice wrote it)"
    return ""


def _parse(data, path: str | Path) -> dict[str, np.ndarray]:
    pos = 0
    header: dict[str, str] = {}
    names: list[str] = []
    while True:
        end = data.find(b"\n", pos)
        if end < 0:
            raise SimulationError(f"raw file {str(path)!r} ends inside its header{_disk_full(path, 1)}")
        line = data[pos:end].decode("ascii", errors="replace").rstrip("\r")
        pos = end + 1
        key, _, value = line.partition(":")
        key = key.strip().lower()
        if key == "variables":
            n_vars = int(header["no. variables"])
            for _ in range(n_vars):
                end = data.find(b"\n", pos)
                if end < 0:
                    raise ValueError(f"variable list cut short after {len(names)} of {n_vars}")
                fields = data[pos:end].decode("ascii", errors="replace").split()
                pos = end + 1
                names.append(fields[1].lower())
            continue
        if key in ("binary", "values"):
            break
        header[key] = value.strip()
    complex_data = "complex" in header.get("flags", "").lower()  # AC: (real, imaginary) pairs
    n_vars, n_points = len(names), int(header["no. points"])
    want = n_vars * n_points
    kind = "complex " if complex_data else ""
    if key == "binary":
        width = 16 if complex_data else 8  # bytes per value: (real, imaginary) doubles for complex data
        have = max(0, (len(data) - pos) // width)
        if have < want:  # checked before viewing the map: no buffer export outlives an error
            raise SimulationError(f"raw file {str(path)!r} is truncated: {have} of {want} {kind}values"
                                  f"{_disk_full(path, width * (want - have))}")
        if complex_data:
            pairs = np.frombuffer(data, dtype="<f8", count=2 * want, offset=pos)
            values = pairs[0::2] + 1j * pairs[1::2]
            del pairs  # the complex values are a copy: release the view of the map
        else:
            values = np.frombuffer(data, dtype="<f8", count=want, offset=pos)
    else:
        tokens = data[pos:].decode("ascii").split()
        numbers = [tok for k, tok in enumerate(tokens) if k % (n_vars + 1) != 0]
        if complex_data:
            parts = [tok.split(",") for tok in numbers[:want]]
            values = np.array([complex(float(a), float(b)) for a, b in parts])
        else:
            values = np.array(numbers[:want], dtype=float)
        if values.size != want:
            width = 16 if complex_data else 8
            raise SimulationError(f"raw file {str(path)!r} is truncated: {values.size} of {want} {kind}values"
                                  f"{_disk_full(path, width * (want - values.size))}")
    table = values.reshape(n_points, n_vars)
    out = {name: table[:, k].copy() for k, name in enumerate(names)}
    del table, values  # release the view of the map before it is closed
    return out
