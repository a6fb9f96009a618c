"""Top-level decks around a rendered array: sources for every port, models, analyses.

The array library never contains sources or models; the testbench decides the corner,
the stimulus and what to measure, so one library serves every experiment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import jinja2
import numpy as np

from netlistgen.core import validate
from netlistgen.core.arrays import distinct
from netlistgen.circuits.encoding import Codes, ideal_column_mac
from netlistgen.core.errors import NetlistgenError
from netlistgen.circuits.netlist import Netlist, reset_refs, slice_nets, spice_env
from netlistgen.circuits.pwl import complement, digital, pwl_pairs
from netlistgen.circuits.variation import ResetNoise
from netlistgen.tech.technology import Technology


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    return spice_env("testbenches")


CONTROL_NETS = ("rst", "smp")  # reset and sample controls (with their complements "<name>b")


@dataclass(frozen=True)
class Source:
    """A voltage source from `node` to ground: a DC value or PWL pairs."""

    name: str
    node: str
    value: str
    pwl: tuple[str, ...] = ()


def static_levels(netlist: Netlist) -> dict[str, float]:
    """DC value of every driven array port for the reset/hold state (m = 0 everywhere;
    the cell's storage convention gives its own nets, e.g. the first SRAM row selected)."""
    dp = netlist.design
    vdd, levels = dp.vdd_v, dp.levels
    values: dict[str, float] = {}
    local = netlist.spec.kind.storage.static_levels(netlist)
    for port in netlist.array_nets:
        if port.startswith("out_"):
            continue
        if port in local:
            values[port] = local[port]
        elif port.startswith("ref_"):
            values[port] = dp.ref_level_v(int(port[4:]))
        elif port.startswith("sel_"):
            values[port] = vdd if int(port.rsplit("_", 1)[1]) == levels else 0.0
        elif port.startswith("selb_"):
            values[port] = 0.0 if int(port.rsplit("_", 1)[1]) == levels else vdd
        elif port == "vcm" or port.startswith("vcm_"):
            values[port] = dp.vcm_v
        elif port.startswith("vdd") or port in ("rst", "smp", "prog"):
            values[port] = vdd
        elif port in ("rstb", "smpb"):
            values[port] = 0.0
        else:  # pragma: no cover - a new port kind must be given a level here
            raise AssertionError(f"no static level for port {port}")
    return values


_RAIL_PARAMS = ((re.compile(r"^ref_([0-9]+)$"), "vref_{}"), (re.compile(r"^vdd(?:_[0-9]+)?$"), "vdd_v"),
                (re.compile(r"^vcm(?:_[0-9]+|_rst_[0-9]+_[0-9]+)?$"), "vcm_v"))


def _port_param(node: str) -> str:
    """The `.param` a source on `node` may carry: its reference or rail, else (a digital
    control) the high level vdd_v."""
    for rx, name in _RAIL_PARAMS:
        if m := rx.match(node):
            return name.format(*m.groups())
    return "vdd_v"


def parametrized(netlist: Netlist, sources: list[Source]) -> tuple[list[str], list[Source]]:
    """(`.param` lines, sources) with every level that equals its port's parameter written
    as `{name}`: the same number as before, so the simulation is unchanged, yet a user can
    `alterparam vdd_v=...` in plain ngspice. Other values (0 V, noise draws) stay numbers.
    `netlist.deck_params`: from its design point, or (a library read back by `check`) as
    op.json recorded them; a directory written before that record has none, so its
    levels stay numbers."""
    values = netlist.deck_params

    def level(node: str, text: str) -> str:
        name = _port_param(node)
        if values.get(name) == text:
            return f"{{{name}}}"
        if name in values and text == validate.fmt(float(values[name]) / 2):
            return f"{{{name}*0.5}}"  # the middle of a ramp (pwl.split_ramps); the oracle's {name*k} form
        return text

    out = []
    for src in sources:
        pwl = tuple(f"{t} {level(src.node, v)}" for t, v in (pair.split() for pair in src.pwl))
        out.append(Source(src.name, src.node, level(src.node, src.value) if src.value else src.value, pwl))
    return [f".param {k}={v}" for k, v in values.items()], out


def output_nodes(netlist: Netlist) -> list[str]:
    return [p for p in netlist.array_nets if p.startswith("out_")]


def probe_index(netlist: Netlist) -> dict:
    """Top-level nets a waveform plot looks at, from the netlist objects: every output and
    the bottom of its GBL (bit-column order), each row's input pair, the controls."""
    spec, codes = netlist.spec, netlist.codes
    n = spec.n_bits
    return {
        "outputs": output_nodes(netlist),
        "gbl_bottom": [g for j in range(spec.cols) for g in slice_nets(spec, codes, spec.rows - 1, j)[-n:]],
        "inputs": [slice_nets(spec, codes, r, 0)[:2] for r in range(spec.rows)],
        "controls": list(CONTROL_NETS),
    }


def _library_ref(library_path: str) -> str:
    """The library as the deck names it: a bare file name (`array.sp`, resolved beside the
    deck, so a job directory can move) or a checked absolute path."""
    if re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}", library_path):
        return library_path
    return validate.spice_path(library_path, "library path", must_exist=False, follow_links=False)


# ngspice's OpenMP threads (BSIM3/4 load): one, so parallel jobs do not oversubscribe the
# cores (SPEC section 7). Job directories set it in .spiceinit; a bundle's decks also carry
# it as an option, because ngspice reads .spiceinit only from the working directory (and $HOME).
NUM_THREADS = 1


def _includes(netlist: Netlist, library_path: str, bundle_models: tuple[str, ...] | None) -> dict:
    """Model statements, the library path and start-up options of a deck: the technology's
    models and the library (`_library_ref`), or (a bundle) the given paths relative to the
    deck's directory plus the thread count, so it runs alike from any working directory."""
    if bundle_models is None:
        return {"model_statements": netlist.model_statements(),
                "library_path": _library_ref(library_path), "startup_options": []}
    return {"model_statements": [f'.include "{validate.relative_spice_path(m, "model file")}"' for m in bundle_models],
            "library_path": validate.relative_spice_path(library_path, "library path"),
            "startup_options": [f"num_threads={NUM_THREADS}"]}


def op_deck(netlist: Netlist, library_path: str, *, bundle_models: tuple[str, ...] | None = None) -> str:
    """A deck that loads the array and prints every output's operating point.
    `bundle_models`: relative model files (and a relative library path) for a bundle."""
    return op_deck_text(netlist, library_path, dc_sources(static_levels(netlist)), output_nodes(netlist),
                        bundle_models=bundle_models)


def dc_sources(levels: dict[str, float]) -> list[Source]:
    """A DC source on every port named in `levels` (port -> volts)."""
    return [Source(p, p, validate.fmt(v)) for p, v in levels.items()]


def op_deck_text(netlist: Netlist, library_path: str, sources: list[Source], probes: list[str],
                 raw_name: str | None = None, bundle_models: tuple[str, ...] | None = None) -> str:
    """Operating point of the array with DC `sources` on its ports: the `probes` printed,
    or written to `raw_name` (a raw file) when given."""
    param_lines, sources = parametrized(netlist, sources)
    return _env().get_template("op.sp.j2").render(
        title=f"operating point of {netlist.spec.rows}x{netlist.spec.cols} {netlist.spec.cell} array",
        **_includes(netlist, library_path, bundle_models),
        temp_c=validate.fmt(netlist.temp_c),
        param_lines=param_lines,
        sources=sources,
        probes=[f"v({n})" for n in probes],
        raw_name=_raw_name(raw_name) if raw_name else None,
    )


def ac_deck_text(netlist: Netlist, library_path: str, sources: list[Source], probes: list[str], *,
                 freq_hz: float, dc_ref: str, r_dc_ohm: float, raw_name: str) -> str:
    """One-frequency AC analysis: 1 A AC into every probe node (held at `dc_ref` through
    `r_dc_ohm`), the probes' complex voltages written to `raw_name`."""
    validate.identifier(dc_ref, "AC reference node")
    param_lines, sources = parametrized(netlist, sources)
    return _env().get_template("ac.sp.j2").render(
        title=f"AC response of {len(probes)} nodes",
        model_statements=netlist.model_statements(),
        library_path=_library_ref(library_path),
        param_lines=param_lines,
        sources=sources,
        probes=list(probes),
        vectors=[f"v({n})" for n in probes],
        dc_ref=dc_ref,
        r_dc=validate.fmt(validate.number(r_dc_ohm, "r_dc_ohm", minimum=1.0)),
        freq=validate.fmt(validate.number(freq_hz, "freq_hz", minimum=0.0, exclusive_minimum=True)),
        raw_name=_raw_name(raw_name),
    )


def _raw_name(raw_name: str) -> str:
    return validate.identifier(raw_name.removesuffix(".raw"), "raw file name") + ".raw"


def spiceinit(netlist: Netlist) -> str:
    """`.spiceinit` for the job directory: one OpenMP thread (SPEC section 7) plus the
    technology's own start-up settings (sky130 needs ngbehavior=hsa)."""
    return spiceinit_text(netlist.tech)


def spiceinit_text(tech: Technology) -> str:
    """`.spiceinit` of any deck on `tech`'s models (see `spiceinit`)."""
    return "\n".join([f"set num_threads={NUM_THREADS}", *tech.spiceinit_lines]) + "\n"


@dataclass(frozen=True)
class Timing:
    """Phase durations of one compute cycle (SPEC section 4)."""

    t_reset_s: float = 2.0e-9
    t_gap_s: float = 0.1e-9  # release -> apply inputs
    t_settle_s: float = 2.0e-9  # apply -> sample
    t_hold_s: float = 0.5e-9  # sample -> read-out / next cycle
    t_edge_s: float = 20e-12  # rise/fall of every digital control
    t_prog_s: float = 0.5e-9  # transistor fidelity: programming switches closed from t=0
    t_start_s: float = 0.2e-9  # first cycle starts after this (plus t_prog at transistor fidelity)

    def __post_init__(self) -> None:
        for name, value in self.__dict__.items():
            validate.number(value, name, minimum=0.0, exclusive_minimum=True)
        if 4 * self.t_edge_s >= min(self.t_reset_s, self.t_settle_s):
            raise NetlistgenError(f"invalid t_edge_s {self.t_edge_s!r}: must be well below t_reset_s and t_settle_s")

    @classmethod
    def for_technology(cls, tech, **overrides: float) -> "Timing":
        """Phases long enough for the technology's switches (descriptor [timing])."""
        values = {"t_reset_s": tech.t_reset_s, "t_settle_s": tech.t_settle_s, **overrides}
        return cls(**values)

    @property
    def cycle_s(self) -> float:
        return self.t_reset_s + self.t_gap_s + self.t_settle_s + self.t_hold_s


@dataclass(frozen=True)
class Stimulus:
    """Per-cycle inputs: level m per row (ML-SIU level or binary input bit) and which of
    the SRAM rows sharing a computing cell is selected (row-selected cells)."""

    inputs: np.ndarray  # (cycles, rows) int
    sram_row: np.ndarray  # (cycles,) int in 0..spec.sram_rows_per_cell-1

    @property
    def cycles(self) -> int:
        return int(self.inputs.shape[0])


def check_stimulus(netlist: Netlist, stim: Stimulus) -> None:
    spec, levels = netlist.spec, netlist.design.levels
    lo, hi = spec.kind.input.level_range(levels)
    if stim.inputs.ndim != 2 or stim.inputs.shape[1] != spec.rows or stim.inputs.shape[0] < 1:
        raise NetlistgenError(f"inputs have shape {stim.inputs.shape}, expected (cycles, {spec.rows})")
    if stim.inputs.min() < lo or stim.inputs.max() > hi:
        raise NetlistgenError(f"input levels must lie in {lo}..{hi}, got {stim.inputs.min()}..{stim.inputs.max()}")
    g = spec.sram_rows_per_cell
    if stim.sram_row.shape != (stim.cycles,) or stim.sram_row.min() < 0 or stim.sram_row.max() >= g:
        raise NetlistgenError(f"sram_row must be {stim.cycles} values in 0..{g - 1}")


def random_stimulus(netlist: Netlist, cycles: int, seed: int) -> Stimulus:
    """Uniform random inputs (all levels equally likely); shared SRAM rows are selected in turn."""
    spec, levels = netlist.spec, netlist.design.levels
    cycles = validate.integer(cycles, "cycles", minimum=1, maximum=100_000)
    rng = np.random.default_rng(validate.integer(seed, "seed", minimum=0))
    inputs = spec.kind.input.random(rng, (cycles, spec.rows), levels)
    sram_row = np.arange(cycles) % spec.sram_rows_per_cell
    return Stimulus(inputs.astype(int), sram_row.astype(int))


def sweep_stimulus(netlist: Netlist, cycles: int) -> Stimulus:
    """Every row steps through all input levels together (-L..L, or 0/1 for binary inputs):
    a monotonic sweep of the input transfer, so DNL is defined."""
    spec, levels = netlist.spec, netlist.design.levels
    cycles = validate.integer(cycles, "cycles", minimum=1, maximum=100_000)
    lo, hi = spec.kind.input.level_range(levels)
    steps = np.arange(lo, hi + 1)
    inputs = np.repeat(steps[np.arange(cycles) % steps.size][:, None], spec.rows, axis=1)
    return Stimulus(inputs.astype(int), np.zeros(cycles, dtype=int))


def ideal_outputs(netlist: Netlist, stim: Stimulus) -> np.ndarray:
    """Ideal per-bit-column values y (cycles, bit_cols) from the encoding library: the
    reference every sampled GBL voltage is compared with (units of C1*dV)."""
    spec = netlist.spec
    g = spec.sram_rows_per_cell
    y = np.zeros((stim.cycles, spec.bit_cols))
    for k in distinct(stim.sram_row):
        cyc = np.flatnonzero(stim.sram_row == k)
        rows = np.arange(spec.rows) * g + k
        for j in range(spec.cols):
            codes = netlist.codes
            col = Codes(codes.pattern_set, codes.sign[rows, j], codes.pattern[rows, j], codes.bits[rows, j])
            y[np.ix_(cyc, range(j * spec.n_bits, (j + 1) * spec.n_bits))] = ideal_column_mac(stim.inputs[cyc], col)
    return y


@dataclass(frozen=True)
class Schedule:
    """Absolute times of one simulation: cycle windows and sample instants."""

    t0_s: float
    timing: Timing
    cycles: int

    def cycle_start(self, c: int) -> float:
        return self.t0_s + c * self.timing.cycle_s

    def sample_time(self, c: int) -> float:
        """smp starts falling here; the held value is read at read_time."""
        tm = self.timing
        return self.cycle_start(c) + tm.t_reset_s + tm.t_gap_s + tm.t_settle_s

    def read_time(self, c: int) -> float:
        return self.cycle_start(c + 1) - self.timing.t_edge_s

    def windows(self) -> list[tuple[float, float]]:
        return [(self.cycle_start(c), self.cycle_start(c + 1)) for c in range(self.cycles)]

    @property
    def t_stop_s(self) -> float:
        return self.cycle_start(self.cycles)


def reset_noise_waves(netlist: Netlist, sched: Schedule, noise: ResetNoise) -> dict[str, list[tuple[float, float]]]:
    """PWL of each GBL's reset reference: VCM + that cycle's kT/C draw, stepping early in
    the reset phase, so the GBL is released holding the draw (variation.py)."""
    spec, vcm, e = netlist.spec, netlist.design.vcm_v, sched.timing.t_edge_s
    nets = [net for col in reset_refs(spec, True) for net in col]
    if len(noise.sigma_v) != len(nets):
        raise NetlistgenError(f"reset noise has {len(noise.sigma_v)} sigmas for {len(nets)} GBLs")
    missing = [n for n in nets if n not in netlist.array_nets]
    if missing:
        raise NetlistgenError("reset noise needs a netlist built with reset_noise=True (per-GBL reset references)")
    off = noise.offsets_v(sched.cycles)
    waves = {}
    for g, net in enumerate(nets):
        pts = [(0.0, vcm + off[0, g])]
        for c in range(1, sched.cycles):
            t = sched.cycle_start(c) + e
            pts += [(t, vcm + off[c - 1, g]), (t + e, vcm + off[c, g])]
        waves[net] = pts
    return waves


def transient_sources(netlist: Netlist, stim: Stimulus, timing: Timing,
                      reset_noise: ResetNoise | None = None) -> tuple[list[Source], Schedule]:
    """Every array port's source: static supplies/references, and PWL controls."""
    spec, dp = netlist.spec, netlist.design
    transistor = spec.fidelity == "transistor"
    t0 = timing.t_start_s + (timing.t_prog_s if transistor else 0.0)
    sched = Schedule(t0, timing, stim.cycles)
    vdd, e, L = dp.vdd_v, timing.t_edge_s, dp.levels
    m_index = stim.inputs + L  # select index j = m + L (the LCC's bit 1 is level m = 1)
    static = static_levels(netlist)
    waves: dict[str, list[tuple[float, float]]] = {}

    # Reset and sample: high during reset; rst falls at release, smp falls at the sample instant.
    rst_edges, smp_edges = [], []
    for c in range(stim.cycles):
        ts = sched.cycle_start(c)
        rst_edges += [(ts, True), (ts + timing.t_reset_s, False)]
        smp_edges += [(ts, True), (sched.sample_time(c), False)]
    for name, edges in zip(CONTROL_NETS, (rst_edges, smp_edges)):
        wave = digital(edges, True, vdd, e)
        waves[name] = wave
        waves[name + "b"] = complement(wave, vdd)

    # ML-SIU selects, break-before-make: level L (m=0) during reset, then level m after release.
    apply = [sched.cycle_start(c) + timing.t_reset_s + timing.t_gap_s for c in range(stim.cycles)]
    for r in range(spec.rows):
        for j in range(2 * L + 1):
            edges: list[tuple[float, bool]] = []
            for c in range(stim.cycles):
                ts, m = sched.cycle_start(c), int(m_index[c, r])
                if j == L:  # the VCM level: on in reset, off while another level is applied
                    edges += [(ts + e, True), (apply[c], m == L)]
                else:
                    edges += [(ts, False), (apply[c] + e, m == j)]
            wave = digital(edges, j == L, vdd, e)
            waves[f"sel_{r}_{j}"] = wave
            waves[f"selb_{r}_{j}"] = complement(wave, vdd)

    waves.update(spec.kind.storage.waves(netlist, stim, sched))  # e.g. the selected SRAM row per cycle
    if transistor:
        waves["prog"] = digital([(timing.t_prog_s, False)], True, vdd, e)
    if reset_noise is not None:
        waves.update(reset_noise_waves(netlist, sched, reset_noise))

    sources = []
    for port, value in static.items():
        if port in waves:
            pts = waves[port] + [(sched.t_stop_s, waves[port][-1][1])]
            sources.append(Source(port, port, "", tuple(pwl_pairs(pts))))
        else:
            sources.append(Source(port, port, validate.fmt(value)))
    return sources, sched


_OPTION_RE = re.compile(r"^[a-z][a-z0-9_]*(=[-+]?[0-9.]+([eE][-+]?[0-9]+)?)?$")


def transient_deck(
    netlist: Netlist,
    library_path: str,
    stim: Stimulus,
    timing: Timing,
    *,
    raw_name: str = "tran.raw",
    max_step_s: float | None = None,
    save_currents: bool = False,
    save_internal: tuple[str, ...] = (),
    rusage: bool = False,
    reset_noise: ResetNoise | None = None,
    options: tuple[str, ...] = (),
    bundle_models: tuple[str, ...] | None = None,
) -> tuple[str, Schedule]:
    """The transient deck and its schedule. Energy runs pass save_currents=True and a
    max step <= 10 ps (SPEC section 5), sampling runs default to the technology's
    `sample_max_step_s`; `reset_noise` injects sampled kT/C per GBL;
    `options` are extra `.options` words (`name` or `name=number`, e.g. bypass=1)."""
    check_stimulus(netlist, stim)
    if not all(validate.IDENTIFIER_RE.match(n.replace(".", "_")) for n in save_internal):
        raise NetlistgenError(f"invalid node name in {save_internal!r}")
    sources, sched = transient_sources(netlist, stim, timing, reset_noise)
    saved = saved_vectors(netlist, sources, save_currents, save_internal)
    step = netlist.tech.sample_max_step_s if max_step_s is None else max_step_s
    deck = tran_deck_text(netlist, library_path, sources, comment=tran_comment(stim, timing),
                          stop_s=sched.t_stop_s, max_step_s=step, saved=saved, options=options,
                          raw_name=raw_name, rusage=rusage, bundle_models=bundle_models)
    return deck, sched


def saved_vectors(netlist: Netlist, sources: list[Source], save_currents: bool = False,
                  save_internal: tuple[str, ...] = ()) -> list[str]:
    """Vectors a transient keeps: the outputs, internal nodes asked for, and with
    `save_currents` every source's voltage and current (energy bookkeeping)."""
    saved = [f"v({n})" for n in output_nodes(netlist)] + [f"v({n})" for n in save_internal]
    if save_currents:
        saved += [f"v({s.node})" for s in sources] + [f"i(v{s.name})" for s in sources]
    return saved


def tran_comment(stim: Stimulus, timing: Timing) -> str:
    return f"Transient charge accumulation, {stim.cycles} compute cycles of {timing.cycle_s * 1e9:g} ns:"


def tran_deck_text(netlist: Netlist, library_path: str, sources: list[Source], *, comment: str, stop_s: float,
                   max_step_s: float, saved: list[str], options: tuple[str, ...] = (), raw_name: str = "tran.raw",
                   rusage: bool = False, bundle_models: tuple[str, ...] | None = None) -> str:
    """The transient deck text: models, library, sources, `.options`, `tran`, `write`."""
    max_step_s = validate.number(max_step_s, "max_step_s", minimum=1e-15, maximum=1e-9)
    for opt in options:
        if not isinstance(opt, str) or not _OPTION_RE.match(opt):
            raise NetlistgenError(f"invalid simulator option {opt!r}: expected name or name=number")
    param_lines, sources = parametrized(netlist, sources)
    return _env().get_template("tran.sp.j2").render(
        title=f"transient of {netlist.spec.rows}x{netlist.spec.cols} {netlist.spec.cell} array",
        comment=comment,
        **_includes(netlist, library_path, bundle_models),
        temp_c=validate.fmt(netlist.temp_c),
        param_lines=param_lines,
        sources=sources,
        options=list(options),
        tstep=validate.fmt(max_step_s),
        tstop=validate.fmt(stop_s),
        tmax=validate.fmt(max_step_s),
        raw_name=_raw_name(raw_name),
        saved=saved,
        rusage=rusage,
    )
