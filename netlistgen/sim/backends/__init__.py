"""Simulator backends: one record per engine (see base.py for the protocol).

Adding an engine (e.g. VACASK) = a module with its deck writer and runner + one record
here; jobs, the cache, the executor and the CLI choices pick it up by name."""

from __future__ import annotations

import threading

from netlistgen.core.errors import NetlistgenError
from netlistgen.sim.backends.base import (AcAnalysis, Backend, BackendRecord, Bench, DeckSet, OpAnalysis,
                                          RunOutput, TranAnalysis)

__all__ = ["AcAnalysis", "Backend", "BackendRecord", "Bench", "DeckSet", "OpAnalysis", "RunOutput", "TranAnalysis",
           "BACKENDS", "DEFAULT_BACKEND", "backend_names", "get_backend"]

BACKENDS: dict[str, BackendRecord] = {
    r.name: r
    for r in (
        BackendRecord("subprocess", "netlistgen.sim.backends.ngspice", "SubprocessNgspice",
                      "ngspice -b per job (default)", xspice=True),
        BackendRecord("shared", "netlistgen.sim.backends.ngspice_shared", "SharedNgspiceBackend",
                      "libngspice in worker processes (PySpice)", xspice=True),
        BackendRecord("vacask", "netlistgen.sim.backends.vacask", "VacaskBackend",
                      "VACASK subprocess per job (extra 'vacask'; ptm45 ideal-bits transient)"),
    )
}
DEFAULT_BACKEND = "subprocess"
_instances: dict[str, Backend] = {}
_lock = threading.Lock()


def backend_names() -> tuple[str, ...]:
    return tuple(BACKENDS)


def get_backend(name: str) -> Backend:
    """The backend registered as `name` (one instance per process)."""
    record = BACKENDS.get(name) if isinstance(name, str) else None
    if record is None:
        raise NetlistgenError(f"unknown backend {name!r}; known: {', '.join(BACKENDS)}")
    with _lock:
        if name not in _instances:
            _instances[name] = record.create()
        return _instances[name]
