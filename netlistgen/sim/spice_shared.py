"""ngspice through its shared library (libngspice via PySpice 1.5), one instance per process.

Why: the subprocess backend (`runner.run_deck`) pays a process start-up and a raw-file round
trip per job; here one simulator stays loaded in each worker process and vectors come back
in memory.  ngspice keeps global state, so:

- runs in one process are serialized by a lock (use one worker *process* per core);
- the deck's `.control` block is not loaded (its `quit` would ask to unload the library);
  its commands are sent one by one, analyses in ngspice's background thread so a timeout
  can `bg_halt` them, and `write` becomes "fetch these vectors";
- every run ends with `destroy all` + `remcirc` (SPEC section 7: ~1.3 GB leaks over 100
  sky130 runs otherwise) and shell variables the run changed are put back (sky130's
  `.option scale` lands in a global variable and breaks the next PTM-45 circuit);
- `.spiceinit` is read by ngspice only at library start-up, so `set num_threads=1` and the
  technology's lines are sent as commands (again whenever they change between runs);
- after an unrecoverable error ngspice asks to be unloaded (controlled exit): its state is
  then corrupt (the next load fails or crashes), so a private copy of the library is loaded.
"""

from __future__ import annotations

import collections
import glob
import logging
import os
import platform
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from netlistgen.core.errors import NetlistgenError, SimulationError
from netlistgen.sim.runner import is_fatal

__all__ = [
    "LIBRARY_NAME",
    "SharedNgspice",
    "find_libngspice",
    "parse_deck",
    "run_deck_shared",
    "shared_ngspice",
]

LIBRARY_NAME = "libngspice.so.0"
LOG_TAIL_LINES = 15
MAX_COMMAND_CHARS = 1000  # ngspice copies commands into a 1024-byte buffer
MAX_RELOADS = 8  # private library copies after controlled exits; each keeps its memory
DEFAULT_SETTINGS = ("set num_threads=1",)  # SPEC section 7: one OpenMP thread per process
ANALYSES = frozenset({"tran", "op", "dc", "ac", "noise", "pz", "sens", "tf", "disto", "pss", "sp", "run", "resume"})
# Commands that read no vectors: with only these, `save` can restrict memory to the written vectors.
_SAVE_SAFE = frozenset({"set", "unset", "option", "options", "rusage", "echo", "write", "wrdata", "quit", "exit"}) | ANALYSES
_WRITE_COMMANDS = frozenset({"write", "wrdata"})
_SV_VOLTAGE = 3  # ngspice sim.h vector types
_PYSPICE_LOGGER = "PySpice.Spice.NgSpice.Shared.NgSpiceShared"

_log = logging.getLogger(__name__)


# ---------------------------------------------------------------------------- library


def find_libngspice() -> str:
    """Path of libngspice.so.0 (Debian package libngspice0) without user configuration.

    `NETLISTGEN_LIBNGSPICE` may point elsewhere; otherwise the dynamic loader cache, then
    the usual Debian/multiarch directories are searched.
    """
    override = os.environ.get("NETLISTGEN_LIBNGSPICE")
    if override:
        if not Path(override).is_file():
            raise NetlistgenError(f"NETLISTGEN_LIBNGSPICE={override!r} is not a file")
        return override
    for path in _ldconfig_paths():
        return path
    arch = f"{platform.machine()}-linux-gnu"
    candidates = [f"/usr/lib/{arch}/{LIBRARY_NAME}", f"/lib/{arch}/{LIBRARY_NAME}"]
    candidates += sorted(glob.glob(f"/usr/lib/*/{LIBRARY_NAME}")) + sorted(glob.glob(f"/lib/*/{LIBRARY_NAME}"))
    candidates += [f"/usr/lib/{LIBRARY_NAME}", f"/usr/local/lib/{LIBRARY_NAME}", f"/usr/lib64/{LIBRARY_NAME}"]
    for path in candidates:
        if Path(path).is_file():
            return path
    raise NetlistgenError(
        f"{LIBRARY_NAME} not found: install libngspice0 (Debian: `apt-get install libngspice0`) "
        "or set NETLISTGEN_LIBNGSPICE to the library"
    )


def _ldconfig_paths() -> list[str]:
    """libngspice.so.0 entries of `ldconfig -p` for this architecture, existing files only."""
    exe = shutil.which("ldconfig") or next((p for p in ("/sbin/ldconfig", "/usr/sbin/ldconfig") if Path(p).exists()), None)
    if not exe:
        return []
    try:
        out = subprocess.run([exe, "-p"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    want64 = platform.architecture()[0] == "64bit"
    found = []
    for line in out.splitlines():
        name, _, rest = line.strip().partition(" ")
        if name != LIBRARY_NAME or "=>" not in rest:
            continue
        flags, _, path = rest.partition("=>")
        if want64 != ("64" in flags):
            continue
        path = path.strip()
        if Path(path).is_file():
            found.append(path)
    return found


class _DropUnsupportedVersion(logging.Filter):
    """PySpice 1.5 knows ngspice up to 34 and warns for 39; the API used here is unchanged."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Unsupported Ngspice version")


_BINDING_CLASS = None


def _binding_class():
    """Subclass of PySpice's NgSpiceShared (built on first use so PySpice stays optional).

    Overrides: library loading (a given path; api.h declared once so a second copy can be
    loaded), the output callback (PySpice flags every stderr line not starting with
    "Warning:" as an error; here lines are only collected and classified by the caller),
    the background-thread callback (an Event to wait on) and the exit callback (remembered,
    the instance is unusable afterwards).
    """
    global _BINDING_CLASS
    if _BINDING_CLASS is not None:
        return _BINDING_CLASS
    try:
        from PySpice.Spice.NgSpice import Shared as pyspice_shared
    except ImportError as exc:
        raise NetlistgenError(f"the shared ngspice backend needs PySpice (pip install PySpice): {exc}") from None
    logger = logging.getLogger(_PYSPICE_LOGGER)
    if not any(isinstance(f, _DropUnsupportedVersion) for f in logger.filters):
        logger.addFilter(_DropUnsupportedVersion())
    ffi = pyspice_shared.ffi

    class _Binding(pyspice_shared.NgSpiceShared):
        def __init__(self, library_path: str) -> None:
            self.ng_path = library_path
            self.ng_sink = None  # None during PySpice's start-up (it reads its own buffers), then a RunLog
            self.ng_bg_done = threading.Event()
            self.ng_exit: tuple[int, bool] | None = None  # (status, quit) of a controlled exit
            super().__init__(ngspice_id=0, send_data=False)
            self.clear_output()
            self.ng_sink = RunLog()  # bounded: output between runs is only kept for debugging

        def _load_library(self, verbose):  # noqa: ARG002 - PySpice signature
            import locale

            locale.setlocale(locale.LC_NUMERIC, "C")  # ngspice parses numbers with the C locale
            try:
                ffi.typeof("pvector_info")  # declared already (an earlier copy, or PySpice itself)
            except Exception:  # cffi.CDefError: not yet declared
                ffi.cdef((Path(pyspice_shared.__file__).parent / "api.h").read_text())
            self._library_path = self.ng_path
            self._ngspice_shared = ffi.dlopen(self.ng_path)

        @staticmethod
        def _send_char(message_c, ngspice_id, user_data):
            self = ffi.from_handle(user_data)
            text = ffi.string(message_c).decode("utf-8", errors="replace")
            stream, _, content = text.partition(" ")
            if stream not in ("stdout", "stderr"):
                stream, content = "stdout", text  # progress lines ending in '\r' carry no prefix
            sink = self.ng_sink
            if sink is not None:
                sink.add(stream, content)
            else:
                (self._stderr if stream == "stderr" else self._stdout).append(content)
            return 0

        @staticmethod
        def _background_thread_running(exited, ngspice_id, user_data):
            self = ffi.from_handle(user_data)
            if exited:  # ngspice passes its "exited" flag here
                self.ng_bg_done.set()
            return 0

        @staticmethod
        def _exit(exit_status, immediate_unloading, quit_exit, ngspice_id, user_data):
            self = ffi.from_handle(user_data)
            self.ng_exit = (int(exit_status), bool(quit_exit))
            self.ng_bg_done.set()
            return 0

    _BINDING_CLASS = (_Binding, ffi)
    return _BINDING_CLASS


# ---------------------------------------------------------------------------- output





@dataclass
class RunLog:
    """ngspice output of one run: a bounded tail and the first fatal lines."""

    tail: collections.deque = field(default_factory=lambda: collections.deque(maxlen=200))
    fatal: list[str] = field(default_factory=list)
    first_err: str | None = None  # e.g. "Expression err: 1/" before a controlled exit
    unrecoverable: bool = False  # ngspice printed that it awaits to be unloaded

    def add(self, stream: str, line: str) -> None:
        line = line.rstrip()
        if not line:
            return
        self.tail.append(line)
        if len(self.fatal) < 5 and is_fatal(line):
            self.fatal.append(line.strip())
        if self.first_err is None and stream == "stderr" and "err" in line.lower():
            self.first_err = line.strip()
        if "cannot recover" in line:
            self.unrecoverable = True

    def tail_text(self) -> str:
        return " | ".join(list(self.tail)[-LOG_TAIL_LINES:])


# ---------------------------------------------------------------------------- deck


@dataclass(frozen=True)
class ParsedDeck:
    circuit: list[str]  # netlist lines, `.control` blocks removed, ending with `.end`
    commands: list[str]  # control-block commands, continuation lines joined


_INCLUDE_RE = re.compile(r"^(\s*\.(?:include|inc|lib)\s+)(\"[^\"]*\"|'[^']*'|\S+)(.*)$", re.IGNORECASE)


def parse_deck(text: str, workdir: str | Path | None = None) -> ParsedDeck:
    """Split a deck into netlist lines and control commands.

    Relative `.include`/`.lib` paths are made absolute against `workdir`, because the
    library resolves them against the process's working directory, not the deck's.
    """
    circuit: list[str] = []
    commands: list[str] = []
    in_control = False
    for k, raw in enumerate(text.splitlines()):
        line = raw.rstrip()
        low = line.strip().lower()
        if k == 0:  # the title line is never a card
            circuit.append(line or "*")
            continue
        if low.startswith(".control"):
            in_control = True
            continue
        if in_control:
            if low.startswith(".endc"):
                in_control = False
            elif not low or low.startswith(("*", "#")):
                continue
            elif low.startswith("+") and commands:
                commands[-1] += " " + line.strip()[1:].strip()
            else:
                commands.append(line.strip())
            continue
        if not low:
            continue
        if low.split()[0] == ".end":
            break  # ngspice ignores the rest; fed line by line it would start a new circuit
        if workdir is not None:
            line = _absolute_include(line, Path(workdir))
        circuit.append(line)
    circuit.append(".end")
    return ParsedDeck(circuit, commands)


def _absolute_include(line: str, workdir: Path) -> str:
    m = _INCLUDE_RE.match(line)
    if not m:
        return line
    head, path, rest = m.groups()
    if head.strip().lower() == ".lib" and not rest.strip():
        return line  # `.lib name` opens a section inside a library file
    quote = path[0] if path[0] in "\"'" else ""
    bare = path[1:-1] if quote else path
    if not bare or os.path.isabs(bare) or bare.startswith("~"):
        return line
    return f'{head}"{(workdir / bare).as_posix()}"{rest}'


def _set_names(lines: Sequence[str]) -> list[str]:
    """Variable names set by `set a`, `set a=1`, `set a = 1` lines."""
    names = []
    for line in lines:
        parts = line.split(None, 1)
        if len(parts) == 2 and parts[0].lower() == "set":
            names.append(re.split(r"[\s=]", parts[1].strip(), maxsplit=1)[0])
    return names


def _clean_lines(lines: Sequence[str]) -> tuple[str, ...]:
    out = []
    for line in lines:
        line = line.strip()
        if line and not line.startswith(("*", "#")):
            if len(line) > MAX_COMMAND_CHARS:
                raise NetlistgenError(f"spiceinit line too long ({len(line)} characters): {line[:60]!r}...")
            out.append(line)
    return tuple(out)


# ---------------------------------------------------------------------------- simulator


class SharedNgspice:
    """One ngspice shared-library instance (create at most one per process: see
    `shared_ngspice`).  `run` is thread-safe but serialized.  The library is loaded by the
    first `run`; do that in the main thread, where Python's Ctrl-C handler can be put back
    after ngSpice_Init replaces it."""

    def __init__(self, spiceinit_lines: Sequence[str] = (), *, library_path: str | None = None) -> None:
        self.spiceinit_lines = _clean_lines(spiceinit_lines)
        self._library_path = library_path
        self._ng = None
        self._ffi = None
        self._retired: list = []  # old library copies stay referenced: their callbacks hold handles
        self._lock = threading.Lock()
        self._broken: str | None = None
        self._pristine: dict[str, str] = {}
        self._baseline: dict[str, str] = {}
        self._applied: tuple[str, ...] | None = None
        self.runs = 0
        self.last_log = ""  # log tail of the last run
        self.last_seconds: dict[str, float] = {}  # phases of the last run: settings, load, commands, cleanup

    # -- life cycle

    def _ensure(self):
        """Load the library on first use, or a fresh private copy after a controlled exit."""
        if self._ng is not None and self._broken is None:
            return self._ng
        if self._ng is not None:
            if len(self._retired) >= MAX_RELOADS:
                raise SimulationError(
                    f"ngspice shared library failed {len(self._retired) + 1} times in this process "
                    f"(last: {self._broken}); restart the worker process"
                )
            self._retired.append(self._ng)
            self._ng = None
        source = self._library_path or find_libngspice()
        if self._retired:
            self._ng = self._load_copy(source)
        else:
            self._ng = self._load(source)
        self._broken = None
        self._applied = None
        self._sanitize_startup()
        self._pristine = self._variables()
        return self._ng

    def _load(self, path: str):
        cls, ffi = _binding_class()
        self._ffi = ffi
        in_main = threading.current_thread() is threading.main_thread()
        old_sigint = signal.getsignal(signal.SIGINT) if in_main else None
        try:
            ng = cls(path)
        except (OSError, NameError) as exc:  # dlopen failure; PySpice raises NameError on init errors
            raise NetlistgenError(f"cannot load ngspice shared library {path!r}: {exc}") from None
        finally:
            if in_main and old_sigint is not None:
                signal.signal(signal.SIGINT, old_sigint)  # ngSpice_Init installs its own handler
        _log.debug("loaded %s (ngspice %s)", path, ng._ngspice_version)
        return ng

    def _load_copy(self, source: str):
        """dlopen() returns the same (corrupt) instance for the same file: load a copy."""
        tmp = tempfile.mkdtemp(prefix="netlistgen-ngspice-")
        copy = os.path.join(tmp, f"libngspice-{os.getpid()}-{len(self._retired)}.so")
        try:
            shutil.copyfile(source, copy)
            return self._load(copy)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)  # the mapping stays valid once loaded

    def _sanitize_startup(self) -> None:
        """Undo variables from the `.spiceinit` that ngspice read from the process's
        working directory (or home) at start-up: settings come from the caller only."""
        path = Path(".spiceinit")
        if not path.is_file():
            path = Path.home() / ".spiceinit"
        if not path.is_file():
            return
        try:
            names = _set_names(path.read_text(errors="replace").splitlines())
        except OSError:
            return
        for name in names:
            self._command(f"unset {name}")

    # -- commands and variables

    def _command(self, command: str) -> None:
        if len(command) > MAX_COMMAND_CHARS:
            raise NetlistgenError(f"ngspice command too long ({len(command)} characters): {command[:60]!r}...")
        rc = self._ng._ngspice_shared.ngSpice_Command(command.encode("utf-8"))
        if rc or self._ng.ng_exit is not None:
            status = self._ng.ng_exit
            self._broken = f"controlled exit {status} after {command[:60]!r}" if status else f"{command[:60]!r} returned {rc}"

    def _variables(self) -> dict[str, str]:
        """Global shell variables (`set` listing), without plot (`*`) and circuit (`+`) ones."""
        sink, previous = RunLog(tail=collections.deque()), self._ng.ng_sink
        self._ng.ng_sink = sink
        try:
            self._command("set")
        finally:
            self._ng.ng_sink = previous
        out = {}
        for line in sink.tail:
            if line[:2] in ("* ", "+ "):
                continue
            name, _, value = line.partition("\t")
            name = name.strip()
            if name and " " not in name:
                out[name] = value.strip()
        return out

    def _restore(self, target: dict[str, str]) -> None:
        current = self._variables()
        for name in current.keys() - target.keys():
            self._command(f"unset {name}")
        for name, value in target.items():
            if current.get(name) != value:
                self._command(_set_command(name, value))

    def _apply_settings(self, lines: tuple[str, ...]) -> None:
        """Make the start-up settings `lines` (after `set num_threads=1`) the baseline."""
        wanted = DEFAULT_SETTINGS + lines
        if wanted == self._applied:
            return
        self._restore(self._pristine)
        for line in wanted:
            self._command(line)
        self._baseline = self._variables()
        self._applied = wanted

    # -- running

    def run(
        self,
        deck_text: str,
        workdir: str | Path,
        name: str,
        timeout_s: float,
        *,
        spiceinit_lines: Sequence[str] | None = None,
    ) -> dict[str, np.ndarray]:
        """Simulate `deck_text`; returns the vectors its control block would `write`
        (keys like read_raw: `time`, `v(node)`, `i(vname)`).  `spiceinit_lines` (default:
        the constructor's) are applied before the circuit is loaded."""
        if not timeout_s > 0:
            raise NetlistgenError(f"timeout_s must be > 0, got {timeout_s!r}")
        deadline = time.monotonic() + float(timeout_s)
        deck = parse_deck(deck_text, workdir)
        lines = self.spiceinit_lines if spiceinit_lines is None else _clean_lines(spiceinit_lines)
        with self._lock:
            t0 = time.perf_counter()
            self._ensure()
            self._apply_settings(lines)
            self.last_seconds = {"settings": time.perf_counter() - t0}
            log = RunLog()
            self._ng.ng_sink = log
            try:
                return self._run_locked(deck, name, float(timeout_s), deadline, log)
            finally:
                self.last_log = log.tail_text()
                self._ng.ng_sink = RunLog()
                t1 = time.perf_counter()
                self._cleanup()
                self.last_seconds["cleanup"] = time.perf_counter() - t1
                self.runs += 1

    def _fail(self, name: str, log: RunLog, reason: str | None = None) -> SimulationError:
        if log.unrecoverable and not self._broken:
            self._broken = "ngspice cannot recover"  # printed before the exit callback arrives
        if reason is None and self._broken:
            reason = log.first_err or "ngspice could not recover"
        reason = reason or (log.fatal[0] if log.fatal else "ngspice reported an error")
        if self._broken:
            reason += " (ngspice asked to be unloaded; a fresh copy is loaded for the next run)"
        return SimulationError(f"job {name!r} failed: {reason}; log tail: {log.tail_text()}")

    def _timeout(self, name: str, timeout_s: float, log: RunLog) -> SimulationError:
        return SimulationError(f"job {name!r} timed out after {timeout_s:g} s; log tail: {log.tail_text()}")

    def _run_locked(self, deck: ParsedDeck, name: str, timeout_s: float, deadline: float, log: RunLog):
        ng, ffi = self._ng, self._ffi
        t0 = time.perf_counter()
        keep = [ffi.new("char[]", line.encode("utf-8")) for line in deck.circuit]
        rc = ng._ngspice_shared.ngSpice_Circ(ffi.new("char *[]", keep + [ffi.NULL]))
        t1 = time.perf_counter()
        self.last_seconds["load"] = t1 - t0
        if rc or ng.ng_exit is not None:
            self._broken = f"controlled exit {ng.ng_exit} while loading the circuit"
            raise self._fail(name, log)
        if log.fatal or log.unrecoverable:
            raise self._fail(name, log)
        if time.monotonic() > deadline:
            raise self._timeout(name, timeout_s, log)
        written = [w for cmd in deck.commands if cmd.split()[0].lower() in _WRITE_COMMANDS for w in cmd.split()[2:]]
        if written and "all" not in (w.lower() for w in written) and all(
            cmd.split()[0].lower() in _SAVE_SAFE for cmd in deck.commands
        ):
            self._save(written)
        results: dict[str, np.ndarray] = {}
        wrote = False
        for cmd in deck.commands:
            word = cmd.split()[0].lower()
            if word in ("quit", "exit"):
                continue
            if word in _WRITE_COMMANDS:
                results.update(self._fetch(cmd.split()[2:], name, log))
                wrote = True
                continue
            if len(cmd) > MAX_COMMAND_CHARS - 3:
                raise self._fail(name, log, f"control command too long for the shared library ({len(cmd)} characters)")
            if word in ANALYSES:
                self._background(cmd, name, timeout_s, deadline, log)
            else:
                self._command(cmd)
            if self._broken or log.fatal or log.unrecoverable:
                raise self._fail(name, log)
        if not wrote:
            results = self._fetch([], name, log)
        self.last_seconds["commands"] = time.perf_counter() - t1
        return results

    def _save(self, vectors: list[str]) -> None:
        """Keep only the written vectors in memory (the deck's `write` would drop the rest)."""
        chunk: list[str] = []
        for vec in vectors:
            if chunk and len("save " + " ".join(chunk + [vec])) > MAX_COMMAND_CHARS:
                self._command("save " + " ".join(chunk))
                chunk = []
            chunk.append(vec)
        if chunk:
            self._command("save " + " ".join(chunk))

    def _background(self, command: str, name: str, timeout_s: float, deadline: float, log: RunLog) -> None:
        ng = self._ng
        if ng._ngspice_shared.ngSpice_running():
            raise self._fail(name, log, "ngspice background thread still running")
        ng.ng_bg_done.clear()
        self._command("bg_" + command)
        if self._broken:
            raise self._fail(name, log)
        if ng.ng_bg_done.wait(max(deadline - time.monotonic(), 0.0)):
            if ng.ng_exit is not None:
                self._broken = f"controlled exit {ng.ng_exit} during {command[:60]!r}"
            return
        self._command("bg_halt")  # sets ngspice's interrupt flag and joins the thread (<= 1 s)
        if not ng.ng_bg_done.wait(2.0) or ng._ngspice_shared.ngSpice_running():
            self._broken = f"could not halt {command[:60]!r} after the timeout"
        raise self._timeout(name, timeout_s, log)

    def _fetch(self, names: list[str], job: str, log: RunLog) -> dict[str, np.ndarray]:
        """Vectors of the current plot, scale first, keyed like read_raw."""
        ng, ffi = self._ng, self._ffi
        lib = ng._ngspice_shared
        plot = ffi.string(lib.ngSpice_CurPlot()).decode()
        all_names = self._plot_vectors(plot)
        if plot == "const" or not all_names:
            raise self._fail(job, log, "no simulation output (did the analysis run?)")
        scale = _scale_name(plot, all_names)
        if not names or any(n.lower() == "all" for n in names):
            names = all_names
        out: dict[str, np.ndarray] = {}
        for vec in ([scale] if scale else []) + list(names):
            info = lib.ngGet_Vec_Info(vec.encode("utf-8"))
            if info == ffi.NULL:
                raise self._fail(job, log, f"vector {vec!r} not found in plot {plot!r}")
            n = int(info.v_length)
            if info.v_compdata != ffi.NULL:  # AC: ngcomplex_t pairs (real, imaginary)
                pairs = np.frombuffer(ffi.buffer(info.v_compdata, n * 16), dtype=np.float64)
                data = pairs[0::2] + 1j * pairs[1::2]
            elif info.v_realdata != ffi.NULL:
                data = np.frombuffer(ffi.buffer(info.v_realdata, n * 8), dtype=np.float64).copy()
            else:
                raise self._fail(job, log, f"vector {vec!r} holds no data")
            out[_raw_key(vec, scale, int(info.v_type))] = data
        return out

    def _plot_vectors(self, plot: str) -> list[str]:
        ffi = self._ffi
        vecs = self._ng._ngspice_shared.ngSpice_AllVecs(plot.encode())
        names = []
        if vecs != ffi.NULL:
            k = 0
            while vecs[k] != ffi.NULL:
                names.append(ffi.string(vecs[k]).decode())
                k += 1
        return names[::-1]  # ngspice lists the newest vector first

    def _cleanup(self) -> None:
        """Free the run's plots and circuit and put back the variables the deck changed."""
        if self._ng is None or self._broken:
            return
        junk = RunLog()
        self._ng.ng_sink = junk
        try:
            if self._ng._ngspice_shared.ngSpice_running():
                self._command("bg_halt")
            self._command("destroy all")
            self._command("remcirc")
            if not self._broken:
                self._restore(self._baseline)
            if not self._broken:
                self._ng._ngspice_shared.ngSpice_Command(self._ffi.NULL)  # drop command history
        finally:
            self._ng.ng_sink = RunLog()


def _set_command(name: str, value: str) -> str:
    if not value:
        return f"set {name}"
    if value.startswith("(") or re.fullmatch(r"[^\s\"']+", value):
        return f"set {name} = {value}"
    return f'set {name} = "{value}"'


def _scale_name(plot: str, names: list[str]) -> str | None:
    kind = plot.rstrip("0123456789").lower()
    lowered = {n.lower(): n for n in names}
    if kind == "tran":
        return lowered.get("time")
    if kind in ("ac", "noise", "sp"):
        return lowered.get("frequency")
    if kind == "dc":
        return next((n for n in names if n.lower().endswith("-sweep")), None)
    return None


def _raw_key(vec: str, scale: str | None, vtype: int) -> str:
    """The name ngspice's `write` puts in a raw file: bare nodes become v(node),
    `x#branch` becomes i(x)."""
    low = vec.lower()
    if low == (scale or "").lower() or "(" in low or low.startswith("@"):
        return low
    if low.endswith("#branch"):
        return f"i({low[: -len('#branch')]})"
    if vtype == _SV_VOLTAGE:
        return f"v({low})"
    return low


# ---------------------------------------------------------------------------- per process


_INSTANCE: SharedNgspice | None = None
_INSTANCE_LOCK = threading.Lock()


def shared_ngspice() -> SharedNgspice:
    """This process's instance (created on first use)."""
    global _INSTANCE
    with _INSTANCE_LOCK:
        if _INSTANCE is None:
            _INSTANCE = SharedNgspice()
        return _INSTANCE


def _after_fork_in_child() -> None:
    """A forked child inherits the loaded library but not the parent's threads: fresh locks."""
    global _INSTANCE_LOCK
    _INSTANCE_LOCK = threading.Lock()
    if _INSTANCE is not None:
        _INSTANCE._lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def clean_spiceinit_lines(lines: Sequence[str]) -> list[str]:
    """Command lines of `.spiceinit` text (comments and blank lines dropped)."""
    return list(_clean_lines(lines))


def read_spiceinit(path: str | Path) -> list[str]:
    """Command lines of a `.spiceinit` file (comments and blank lines dropped)."""
    path = Path(path)
    if not path.is_file():
        return []
    return clean_spiceinit_lines(path.read_text().splitlines())


def halt_running() -> None:
    """Stop the analysis this process's library is running, if any (a run being killed)."""
    inst = _INSTANCE
    if inst is not None and inst._ng is not None and not inst._broken:
        if inst._ng._ngspice_shared.ngSpice_running():
            inst._ng._ngspice_shared.ngSpice_Command(b"bg_halt")


def run_deck_shared(deck_path: str | Path, *, timeout_s: float = 600.0, name: str | None = None) -> dict[str, np.ndarray]:
    """Shared-library counterpart of `run_deck` + `read_raw`: the deck and the `.spiceinit`
    beside it, run in this process's ngspice; returns the written vectors."""
    deck = Path(deck_path).resolve()
    job = name or deck.stem
    try:
        text = deck.read_text()
    except OSError as exc:
        raise NetlistgenError(f"cannot read deck {str(deck)!r}: {exc.strerror}") from None
    lines = read_spiceinit(deck.parent / ".spiceinit")
    return shared_ngspice().run(text, deck.parent, job, timeout_s, spiceinit_lines=lines)
