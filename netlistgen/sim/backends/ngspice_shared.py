"""ngspice's shared library (libngspice through PySpice) as a backend: the same decks as
`ngspice -b`, run in this process's simulator, vectors returned in memory (no raw file)."""

from __future__ import annotations

from pathlib import Path

from netlistgen.sim.backends.base import Bench, DeckSet, RunOutput
from netlistgen.sim.backends.ngspice import SPICEINIT, file_sha256, ngspice_decks, startup_files_identity


class SharedNgspiceBackend:
    """One libngspice per worker process (runs in a process are serialized)."""

    name = "shared"
    processes = True

    def identity(self) -> str:
        from netlistgen.sim.spice_shared import find_libngspice

        return f"libngspice {file_sha256(find_libngspice())}{startup_files_identity()}"

    def check(self, netlist) -> None:
        """Every generated netlist is ngspice's own dialect: nothing to refuse."""

    def decks(self, bench: Bench) -> DeckSet:
        return ngspice_decks(bench)

    def run(self, decks: DeckSet, workdir: Path, *, timeout_s: float, name: str,
            return_files: bool = False) -> RunOutput:
        import time

        from netlistgen.sim.spice_shared import clean_spiceinit_lines, shared_ngspice

        sim = shared_ngspice()
        start = time.perf_counter()
        vectors = sim.run(decks.files[decks.main], workdir, name, timeout_s,
                          spiceinit_lines=clean_spiceinit_lines(decks.files[SPICEINIT].splitlines()))
        return RunOutput(vectors, sim.last_log, time.perf_counter() - start)

    def kill(self) -> None:
        from netlistgen.sim.spice_shared import halt_running

        halt_running()
