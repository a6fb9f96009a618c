"""What a simulator backend is: analyses as data, a bench (circuit + sources + one
analysis), the deck files an engine writes for it, and the run protocol.

Why a seam here: the flow above (jobs, cache, executor) only ever holds a `Bench`
and a backend name. Each engine turns the same bench into its own deck files
(`decks`), runs them in a directory it is given (`run`), and names itself for the
cache key (`identity`). A new engine is one `BackendRecord` in `registry.py`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, Union

from netlistgen.core import validate
from netlistgen.core.errors import NetlistgenError

if TYPE_CHECKING:
    import numpy as np


_VECTOR_RE = re.compile(r"^[vi]\([A-Za-z_][A-Za-z0-9_.]{0,200}\)$")


@dataclass(frozen=True)
class OpAnalysis:
    """DC operating point; the result holds one value per probed node (`v(node)`)."""

    probes: tuple[str, ...]


@dataclass(frozen=True)
class TranAnalysis:
    """Transient from 0 to `stop_s` with at most `max_step_s` per step; `saved` are the
    vectors kept (`v(node)`, `i(vsource)`); `options` extra simulator options."""

    stop_s: float
    max_step_s: float
    saved: tuple[str, ...]
    options: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        validate.number(self.max_step_s, "max_step_s", minimum=1e-15, maximum=1e-9)
        validate.number(self.stop_s, "stop_s", minimum=0.0, exclusive_minimum=True)
        for vec in self.saved:
            if not isinstance(vec, str) or not _VECTOR_RE.match(vec):
                raise NetlistgenError(f"invalid saved vector {vec!r}: expected v(node) or i(source)")


@dataclass(frozen=True)
class AcAnalysis:
    """Small-signal response at one frequency to a 1 A AC current into every probed node,
    each node held at DC to `dc_ref` through `r_dc_ohm`; the result is complex `v(node)`."""

    freq_hz: float
    probes: tuple[str, ...]
    dc_ref: str = "vcm"
    r_dc_ohm: float = 1e9

    def __post_init__(self) -> None:
        validate.number(self.freq_hz, "freq_hz", minimum=0.0, exclusive_minimum=True)


Analysis = Union[OpAnalysis, TranAnalysis, AcAnalysis]


@dataclass(frozen=True)
class Bench:
    """One simulation, engine-neutral: the array (`netlist`, a circuits.netlist.Netlist, or
    anything with its `text`, `tech` and `corner`), sources on its ports (testbench.Source:
    DC values or PWL pairs) and one analysis. `meta` is JSON-able bookkeeping written
    to job.json (schedule, stimulus)."""

    name: str
    title: str
    netlist: object
    sources: tuple
    analysis: Analysis
    meta: dict = field(default_factory=dict, hash=False, compare=False)

    def __post_init__(self) -> None:
        validate.identifier(self.name.replace("-", "_"), "job name")
        for node in getattr(self.analysis, "probes", ()):
            validate.identifier(node.replace(".", "_"), "probe node")


@dataclass(frozen=True)
class DeckSet:
    """The files an engine needs for a bench (name -> text), which one it runs, and the
    output files the run produces (removed before a run, checked after it)."""

    files: dict[str, str]
    main: str
    outputs: tuple[str, ...]

    def write(self, directory: Path) -> None:
        """Write every file into a fresh private directory (no symlink is followed: the
        files are created exclusively)."""
        from netlistgen.core.files import write_atomic

        for name, text in self.files.items():
            write_atomic(directory / name, text)


@dataclass(frozen=True)
class RunOutput:
    """What a run returns, wherever it ran: vectors keyed like a raw file (`time`,
    `v(node)`, `i(vname)`), the log tail, the simulator seconds, and the output files'
    bytes (e.g. the raw file) so the caller can keep them in the job directory."""

    vectors: dict[str, np.ndarray]
    log: str
    seconds: float
    files: dict[str, bytes] = field(default_factory=dict)


class Backend(Protocol):
    """A simulator engine. Instances are cheap; `run` may be called from several threads
    (subprocess engines) or once at a time per process (`processes=True` engines)."""

    name: str
    processes: bool  # True: one simulator per worker process (in-process engines)

    def identity(self) -> str:
        """Engine name, version and binary fingerprint (checks the engine is usable)."""

    def check(self, netlist) -> None:
        """Raise a one-line NetlistgenError (what is unsupported and why) if this engine
        cannot simulate `netlist`; called before any job directory is made."""

    def decks(self, bench: Bench) -> DeckSet:
        """The deck files for `bench` (deterministic text: it is part of the cache key)."""

    def run(self, decks: DeckSet, workdir: Path, *, timeout_s: float, name: str,
            return_files: bool = False) -> RunOutput:
        """Run `decks` (already written into `workdir`) and return its vectors (and the
        output files' bytes with `return_files`, for a caller on another machine)."""

    def kill(self) -> None:
        """Stop every simulation this process started and has not finished."""


@dataclass(frozen=True)
class BackendRecord:
    """A registered engine: how to build it (module + class, imported on first use)."""

    name: str
    module: str
    cls: str
    description: str
    xspice: bool = False  # runs ngspice's XSPICE digital models (the SAR ADC study needs them)

    def create(self) -> Backend:
        import importlib

        try:
            return getattr(importlib.import_module(self.module), self.cls)()
        except ImportError as exc:
            raise NetlistgenError(f"backend {self.name!r} cannot be loaded: {exc}") from None
