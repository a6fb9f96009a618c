"""Import modules in a background thread while the simulator runs.

Why: a `simulate` spends most of its wall time waiting for ngspice, on one core of two.
The modules needed only after the simulator (raw-file reader, metrics, report, and
matplotlib when plots are drawn) can load on the other core meanwhile instead of after
it (docs/startup.md). Imports are thread-safe: a module the main thread needs while the
thread is loading it is simply waited for by the import lock.
"""

from __future__ import annotations

import importlib
import threading


class Preload:
    """Imports `modules` in a thread once `after` is set (e.g. the simulator has started),
    or after `wait_s`, or when `release()` is called, whichever comes first.

    Waiting matters: importing while the main thread still prepares the simulator's input
    would take the interpreter lock from that work and start the simulator later."""

    def __init__(self, *modules: str, after: threading.Event | None = None, wait_s: float = 2.0) -> None:
        self._go = threading.Event()
        self._thread = threading.Thread(target=self._load, args=(modules, after, wait_s), name="netlistgen-preload",
                                        daemon=True)
        self._thread.start()

    def _load(self, modules: tuple[str, ...], after: threading.Event | None, wait_s: float) -> None:
        if after is not None:
            for _ in range(max(1, int(wait_s / 0.05))):
                if self._go.wait(0.05) or after.is_set():
                    break
        for name in modules:
            try:
                importlib.import_module(name)
            except Exception:  # noqa: BLE001 - the caller's own import of it reports the error properly
                return

    def release(self) -> None:
        """Stop waiting (the caller needs the modules now, or the simulator will not start)."""
        self._go.set()

    def join(self, timeout_s: float | None = None) -> None:
        self._thread.join(timeout_s)
