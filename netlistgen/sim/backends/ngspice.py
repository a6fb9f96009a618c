"""ngspice as a backend: its deck writer (shared by both ways of running it) and the
`ngspice -b` subprocess engine.

The deck writer turns a Bench into `array.sp` (the library), `.spiceinit` (one OpenMP
thread plus the technology's settings) and one deck per analysis kind, each writing
its vectors to a raw file named after it. Analysis kinds are a table, not branches:
a new kind is one more entry in `_WRITERS`.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

from netlistgen.circuits.testbench import ac_deck_text, op_deck_text, spiceinit, tran_deck_text
from netlistgen.core.errors import SimulationError
from netlistgen.core.memo import remembered
from netlistgen.sim import runner
from netlistgen.sim.backends.base import AcAnalysis, Bench, DeckSet, OpAnalysis, RunOutput, TranAnalysis
from netlistgen.sim.rawfile import read_raw

LIBRARY = "array.sp"
SPICEINIT = ".spiceinit"


def _tran(bench: Bench, raw: str) -> str:
    a = bench.analysis
    return tran_deck_text(bench.netlist, LIBRARY, list(bench.sources), comment=bench.title, stop_s=a.stop_s,
                          max_step_s=a.max_step_s, saved=list(a.saved), options=a.options, raw_name=raw)


def _op(bench: Bench, raw: str) -> str:
    return op_deck_text(bench.netlist, LIBRARY, list(bench.sources), list(bench.analysis.probes), raw_name=raw)


def _ac(bench: Bench, raw: str) -> str:
    a = bench.analysis
    return ac_deck_text(bench.netlist, LIBRARY, list(bench.sources), list(a.probes), freq_hz=a.freq_hz,
                        dc_ref=a.dc_ref, r_dc_ohm=a.r_dc_ohm, raw_name=raw)


# analysis type -> (deck stem, writer)
_WRITERS = {TranAnalysis: ("tran", _tran), OpAnalysis: ("op", _op), AcAnalysis: ("ac", _ac)}


def ngspice_decks(bench: Bench) -> DeckSet:
    """ngspice files for `bench`: library, .spiceinit and `<kind>.sp` writing `<kind>.raw`."""
    stem, writer = _WRITERS[type(bench.analysis)]
    raw = f"{stem}.raw"
    files = {LIBRARY: bench.netlist.text, SPICEINIT: spiceinit(bench.netlist), f"{stem}.sp": writer(bench, raw)}
    return DeckSet(files, f"{stem}.sp", (raw, f"{stem}{runner.LOG_SUFFIX}"))


def file_sha256(path: str) -> str:
    """sha256 of an executable or library, remembered across runs by its file stamp
    (core.memo: rehashing the 7.6 MB ngspice binary each run was a visible fixed cost)."""
    return remembered("sha256", path, lambda: hashlib.sha256(Path(path).read_bytes()).hexdigest())


def startup_files_identity() -> str:
    """" name:sha256" of every file ngspice reads at start-up besides the deck (its
    `spinit` and the code models it loads: cache.simulator_files), for the identity."""
    from netlistgen.sim.cache import simulator_files

    return "".join(f" {p.name}:{file_sha256(str(p))}" for p in simulator_files())


def read_fresh_raw(path: Path, since: float, job: str) -> dict:
    """Vectors of a raw file this run wrote: it must exist and be newer than the run's
    start (a file left from an earlier run is never read)."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        raise SimulationError(f"job {job!r}: the simulator exited without writing {path.name}") from None
    if not path.is_file() or path.is_symlink():
        raise SimulationError(f"job {job!r}: {path.name} is not a regular file")
    if st.st_mtime < since:
        raise SimulationError(f"job {job!r}: {path.name} predates this run (stale output)")
    return read_raw(path)


class SubprocessNgspice:
    """`ngspice -b` per job, in the job's directory; vectors from its raw file."""

    name = "subprocess"
    processes = False

    def identity(self) -> str:
        exe = runner.ngspice_path()
        return f"ngspice-{runner.ngspice_version(exe)} -b {file_sha256(exe)}{startup_files_identity()}"

    def check(self, netlist) -> None:
        """Every generated netlist is ngspice's own dialect: nothing to refuse."""

    def decks(self, bench: Bench) -> DeckSet:
        return ngspice_decks(bench)

    def run(self, decks: DeckSet, workdir: Path, *, timeout_s: float, name: str,
            return_files: bool = False) -> RunOutput:
        workdir = Path(workdir)
        for out in decks.outputs:  # stale outputs never survive into this run
            (workdir / out).unlink(missing_ok=True)
        since = time.time() - 1.0  # file systems with coarse timestamps
        result = runner.run_deck(workdir / decks.main, timeout_s=timeout_s, name=name)
        raw_path = workdir / decks.outputs[0]
        vectors = read_fresh_raw(raw_path, since, name)
        files = {raw_path.name: raw_path.read_bytes()} if return_files else {}
        return RunOutput(vectors, runner.log_tail(result.stdout), result.seconds, files)

    def kill(self) -> None:
        runner.kill_all()
