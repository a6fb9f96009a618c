"""Render a CIM array (or a single cell) to a hierarchical SPICE subcircuit library.

Python decides every value and every net name (which rail a stored bit sits on, which
device sizes, which ports); the Jinja templates in `templates/` only lay out structure.
The result is a `Netlist`: the library text plus the facts later stages need (ports,
encoded weights) and a manifest recording everything that went into it.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import textwrap
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import jinja2
import numpy as np

from netlistgen.core.resources import data_dir
from netlistgen import __version__
from netlistgen.core import validate
from netlistgen.circuits.cells import check_cell_text
from netlistgen.circuits.design import ArraySpec, DesignPoint, as_dict
from netlistgen.circuits.encoding import Codes, decode
from netlistgen.circuits.storage import WEIGHT_PROGRAMMING
from netlistgen.core.errors import NetlistgenError, one_line
from netlistgen.core.suggest import did_you_mean
from netlistgen.tech.technology import Technology
from netlistgen.circuits.variation import Mismatch, Variation, resolve

if TYPE_CHECKING:
    from netlistgen.tech.flatten import FlatDevice, Size


def plus_lines(names: list[str], per_line: int = 12) -> str:
    """Continuation lines ('+ a b c ...') for a long node list."""
    return "".join("\n+ " + " ".join(names[i : i + per_line]) for i in range(0, len(names), per_line))


def _bytecode_cache() -> jinja2.BytecodeCache | None:
    """Compiled templates kept in the user cache: compiling them costs more CPU than rendering
    a small array. Jinja checks each entry against the template source and writes
    atomically; no usable cache directory just means compiling every time."""
    from netlistgen.core.paths import cache_dir

    try:
        folder = cache_dir() / "jinja"
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return jinja2.FileSystemBytecodeCache(str(folder))


def spice_env(folder: str, user_dir: str = "") -> jinja2.Environment:
    """Jinja environment for SPICE text: strict undefined, no escaping, tidy blocks.
    `user_dir`: a user cell's template directory, reachable as "user/<name>"."""
    loader: jinja2.BaseLoader = jinja2.FileSystemLoader(str(data_dir(folder)))
    if user_dir:
        loader = jinja2.ChoiceLoader([loader, jinja2.PrefixLoader({"user": jinja2.FileSystemLoader(user_dir)})])
    env = jinja2.Environment(
        loader=loader,
        bytecode_cache=_bytecode_cache(),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters["plus_lines"] = plus_lines
    return env


@lru_cache(maxsize=8)
def _env(user_dir: str = "") -> jinja2.Environment:
    return spice_env("templates", user_dir)


@dataclass(frozen=True)
class Device:
    """One transistor flavour, formatted for an instance line."""

    prefix: str
    model: str
    params: str


class FlatDevices:
    """Devices of one netlist on flattened cards (tech/flatten.py): collects the sizes
    used so the netlist can load exactly their cards."""

    def __init__(self, tech: Technology, corner: str):
        self.tech, self.corner = tech, corner
        self.used: dict[Size, FlatDevice] = {}

    def device(self, model: str, w: float, l_: float, geometry: dict[str, float]) -> Device:
        from netlistgen.tech.flatten import Size  # only flat-card technologies need the flattener

        size = Size(model, float(validate.fmt(w)), float(validate.fmt(l_)))
        flat = self.tech.flat_device(self.corner, size, {k: float(validate.fmt(v)) for k, v in geometry.items()})
        self.used[size] = flat
        return Device(prefix="M", model=size.card_name, params=flat.params)

    def model_lines(self) -> tuple[str, ...]:
        deck = self.tech.flat_deck(self.corner, self.used.values())
        return (f'.include "{validate.spice_path(deck, "flattened model deck")}"',)


class DesignParams:
    """The `.param` lines of a library or deck: design values a user can change in plain
    ngspice (`alterparam name=value` + `reset`) without regenerating.

    Each value is declared as the same formatted number the line used to carry inline, and
    referenced as `{name}` (or `{name*k}` for an exact power-of-two multiple), so the
    parsed doubles, and hence the simulation, are bit-identical to inline numbers."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def ref(self, name: str, value: float, times: float = 1.0) -> str:
        """`{name}` (or `{name*times}`), declaring name = value on first use."""
        text = validate.fmt(value)
        if self.values.setdefault(validate.identifier(name, "parameter name"), text) != text:
            raise AssertionError(f"parameter {name} declared as {self.values[name]} and {text}")
        return f"{{{name}}}" if times == 1.0 else f"{{{name}*{validate.fmt(times)}}}"

    def lines(self) -> list[str]:
        return [f".param {name}={value}" for name, value in self.values.items()]


def _device(tech: Technology, model: str, w_m: float, l_m: float, var: Variation | None = None,
            flat: FlatDevices | None = None, *, params: DesignParams | None = None, role: str = "") -> Device:
    """Format W/L and explicit junction geometry (BSIM4 would otherwise pick its own),
    plus a per-instance VT draw when `var` puts VT mismatch on instance lines; with
    `flat`, an M element on the size's flattened card (the PDK's own mismatch included).
    With `params`, W and L are `.param`s (w_<role>, l_mos); the junction geometry stays
    numbers computed from the generated W."""
    unit = tech.length_unit_m
    w, l_ = w_m / unit, l_m / unit
    ext = 2.5 * tech.lmin_m / unit  # source/drain extension used for AD/AS/PD/PS
    geometry = {"ad": w * ext, "as": w * ext, "pd": 2 * (w + ext), "ps": 2 * (w + ext)}
    if flat is not None:
        return flat.device(model, w, l_, geometry)
    if params is not None:
        wl = f"w={params.ref(f'w_{role}', w)} l={params.ref('l_mos', l_)} "
    else:
        wl = f"w={validate.fmt(w)} l={validate.fmt(l_)} "
    params_text = wl + " ".join(f"{k}={validate.fmt(v)}" for k, v in geometry.items())
    if var is not None:
        params_text += var.device_suffix(model == tech.pmos_model, w_m, l_m)
    return Device(prefix=tech.device_kind, model=model, params=params_text)


# A minimum transmission gate settles about this much capacitance well within a phase;
# drivers of bigger loads are widened in proportion (plates or a GBL left short of VCM
# at release turn directly into MAC error).
# The GBL reset switch gets a larger budget (with a 2 ns reset phase): its junction
# capacitance and channel charge land on the GBL itself, costing gain and offset.
LOAD_PER_SWITCH_F = 4e-15
LOAD_PER_RESET_SWITCH_F = 16e-15


def _width_factor(load_f: float, per_switch_f: float = LOAD_PER_SWITCH_F) -> float:
    return float(max(1, math.ceil(load_f / per_switch_f)))


def drive_factors(spec: ArraySpec, dp: DesignPoint) -> dict[str, float]:
    """Width multipliers of the ML-SIU row drivers, GBL reset and sample switches."""
    caps_per_cell_f = (1 + (spec.c2_ratio if spec.has_pattern_bit else 0)) * dp.c_unit_f
    gbl_f = spec.rows * (caps_per_cell_f + dp.wire_c_per_row_f) + dp.c_sample_f
    return {
        "siu": dp.siu_width_factor or _width_factor(spec.bit_cols * caps_per_cell_f),
        "reset": dp.reset_width_factor or _width_factor(gbl_f, LOAD_PER_RESET_SWITCH_F),
        "sample": dp.sample_width_factor or _width_factor(dp.c_sample_f),
    }


def devices(tech: Technology, dp: DesignPoint, var: Variation | None = None,
            flat: FlatDevices | None = None, params: DesignParams | None = None) -> dict[str, Device]:
    """The transistor roles of the cells (switch_n/switch_p: the unit cell switch's devices,
    for cell templates that use single transistors)."""
    n, p = validate.identifier(tech.nmos_model, "nmos model"), validate.identifier(tech.pmos_model, "pmos model")
    roles = {"sram_pd": (n, dp.w_sram_pd_m), "sram_pg": (n, dp.w_sram_pg_m), "sram_pu": (p, dp.w_sram_pu_m),
             "switch_n": (n, dp.w_switch_n_m), "switch_p": (p, dp.w_switch_p_m)}
    return {role: _device(tech, model, w_m, dp.l_m, var, flat, params=params, role=role)
            for role, (model, w_m) in roles.items()}


def tg_variants(tech: Technology, dp: DesignPoint, factors: dict[str, float], var: Variation | None = None,
                flat: FlatDevices | None = None, params: DesignParams | None = None) -> list[dict]:
    """The transmission-gate subcircuits: cell switches and the widened drivers."""
    n, p = validate.identifier(tech.nmos_model, "nmos model"), validate.identifier(tech.pmos_model, "pmos model")
    variants = [("tg", 1.0, "Transmission gate: a <-> b while en=1 (enb is its complement).")]
    variants += [
        ("tgdrv", factors["siu"], "ML-SIU row driver: charges every plate of its row through the cell muxes."),
        ("tgrst", factors["reset"], "GBL reset switch to VCM: discharges the whole GBL within the reset phase."),
        ("tgsmp", factors["sample"], "Sample switch of the sample/hold capacitor."),
    ]
    return [
        {
            "name": name,
            "comment": f"{text} Width {validate.fmt(f)} x the unit switch.",
            "n": _device(tech, n, dp.w_switch_n_m * f, dp.l_m, var, flat, params=params,
                         role="switch_n" if name == "tg" else f"{name}_n"),
            "p": _device(tech, p, dp.w_switch_p_m * f, dp.l_m, var, flat, params=params,
                         role="switch_p" if name == "tg" else f"{name}_p"),
        }
        for name, f, text in variants
    ]


@dataclass(frozen=True)
class Netlist:
    """A rendered array library and what the testbench and post-processor need from it."""

    spec: ArraySpec
    design: DesignPoint
    tech: Technology
    corner: str
    codes: Codes  # encoded weights, shape (weight_rows, cols)
    scale: np.ndarray  # dequantisation scale per weight column
    text: str
    array_nets: tuple[str, ...]  # top-level nets the testbench drives or observes
    manifest: dict = field(repr=False)
    model_lines: tuple[str, ...] = ()  # statements loading the models (flat: this netlist's cards)
    body_start: int = 0  # where the top-level array body starts in `text` (after the subcircuits)

    def model_statements(self) -> list[str]:
        """What a deck of this netlist loads: its flattened cards, or the technology's deck."""
        return list(self.model_lines) or self.tech.model_statements(self.corner)

    @property
    def deck_params(self) -> dict[str, str]:
        """The level `.param`s of its decks (DesignPoint.deck_params)."""
        return self.design.deck_params()

    @property
    def temp_c(self) -> float:
        """The decks' `.temp`."""
        return self.design.temp_c

    @property
    def content_hash(self) -> str:
        return self.manifest["content_sha256"]


def slice_ports(spec: ArraySpec) -> list[str]:
    """Ports of the `slice` subcircuit (one weight in one row); the cell's storage
    convention decides the stored-bit ports (storage.py)."""
    ports = ["inp", "inn", "vcm", "vdd", "vss"] + spec.kind.storage.slice_ports(spec)
    return ports + [f"g_{i}" for i in range(spec.n_bits)]


def slice_nets(spec: ArraySpec, codes: Codes, r: int, j: int) -> list[str]:
    """Top-level nets of the slice at row r, weight column j, in `slice_ports` order."""
    nets = [f"inp_{r}", f"inn_{r}", f"vcm_{r}", f"vdd_{r}", "0"] + spec.kind.storage.slice_nets(spec, codes, r, j)
    return nets + [f"g_{j}_{i}_{r}" for i in range(spec.n_bits)]


def reset_refs(spec: ArraySpec, reset_noise: bool) -> list[list[str]]:
    """Net each GBL's reset switch returns to, [weight column][bit]: the shared VCM, or
    with injected reset noise a reference of its own (variation.py)."""
    return [[f"vcm_rst_{j}_{i}" if reset_noise else "vcm" for i in range(spec.n_bits)] for j in range(spec.cols)]


def array_nets(spec: ArraySpec, levels: int, reset_noise: bool = False) -> list[str]:
    """Top-level nets the testbench drives (every one of them) or observes (out_*).

    Supplies, VCM and SRAM row selects are per row: one net touching every cell makes
    Sparse 1.3's reordering dominate the run time (SPEC section 7)."""
    n_levels = 2 * levels + 1
    nets = [f"ref_{j}" for j in range(n_levels)]
    for r in range(spec.rows):
        nets += [f"sel_{r}_{j}" for j in range(n_levels)] + [f"selb_{r}_{j}" for j in range(n_levels)]
    nets += ["vcm", "vdd"] + [f"vdd_{r}" for r in range(spec.rows)] + [f"vcm_{r}" for r in range(spec.rows)]
    nets += ["rst", "rstb", "smp", "smpb"]
    if reset_noise:
        nets += [net for col in reset_refs(spec, True) for net in col]
    if spec.fidelity == "transistor":
        nets.append("prog")
    nets += spec.kind.storage.array_nets(spec)
    return nets + [f"out_{j}_{i}" for j in range(spec.cols) for i in range(spec.n_bits)]


# Every net family the testbench drives or observes: (name pattern, kind, role); <x> is an
# index. Kinds: ref (the ML-SIU levels), vcm/vdd (DC rails), digital (0/VDD), observed.
NET_FAMILIES = (
    ("ref_<j>", "ref", "ML-SIU reference level j: VCM + (j - L)*dV"),
    ("sel_<r>_<j>", "digital", "ML-SIU select: 1 puts reference j on IN+ of row r (its mirror on IN-); "
                               "level L (VCM) during reset, one level at a time, break before make"),
    ("selb_<r>_<j>", "digital", "complement of sel_<r>_<j>"),
    ("vcm", "vcm", "common mode: GBL reset reference"),
    ("vdd", "vdd", "supply of the drivers and periphery"),
    ("vdd_<r>", "vdd", "supply of row r's cells (stored 1s are this rail)"),
    ("vcm_<r>", "vcm", "common mode of row r's cells (unselected plates)"),
    ("rst", "digital", "GBL reset: 1 during the reset phase of every cycle"),
    ("rstb", "digital", "complement of rst"),
    ("smp", "digital", "sample switch: 1 from the cycle start to the sampling instant"),
    ("smpb", "digital", "complement of smp"),
    ("vcm_rst_<j>_<i>", "vcm", "reset reference of GBL i of weight column j (VCM + injected kT/C noise)"),
    ("prog", "digital", "SRAM programming: 1 at start-up while the 6T cells settle to their rails, then 0"),
    ("out_<j>_<i>", "observed", "sample/hold output of GBL i of weight column j"),
)


def _pattern(family: str) -> re.Pattern:
    return re.compile("^" + re.sub(r"<[a-z]>", r"[0-9]+", family) + "$")


def interface(spec: ArraySpec, design: DesignPoint, nets: tuple[str, ...] | list[str]) -> list[dict]:
    """Every net family a testbench must drive (or observes), with its role, count and levels in V.

    The manifest carries it (machine-readable) and the library's header comment repeats it."""
    vdd, vcm = design.vdd_v, design.vcm_v
    levels = {"ref": [design.ref_level_v(j) for j in range(2 * design.levels + 1)], "vcm": [vcm], "vdd": [vdd],
              "digital": [0.0, vdd], "observed": []}
    table = NET_FAMILIES + tuple((fam, "digital", role) for fam, role in spec.kind.storage.interface_roles(spec).items())
    compiled = [(_pattern(fam), fam, kind, role) for fam, kind, role in table]
    families: dict[str, dict] = {}
    by_shape: dict[str, dict] = {}  # net name with digits masked -> its family entry
    for net in nets:
        shape = re.sub(r"[0-9]+", "#", net)
        entry = by_shape.get(shape)
        if entry is None:
            fam, kind, role = next((f, k, r) for rx, f, k, r in compiled if rx.match(net))
            entry = by_shape[shape] = families.setdefault(
                fam, {"nets": fam, "count": 0, "kind": kind, "levels_v": levels[kind], "role": role})
        entry["count"] += 1
    return list(families.values())


def interface_comment(entries: list[dict]) -> list[str]:
    """The interface as comment lines (printable ASCII)."""
    lines = []
    for e in entries:
        levels = " / ".join(validate.fmt(v) for v in e["levels_v"]) or "-"
        lines.append(f"  {e['nets']} x{e['count']} [{e['kind']}, {levels} V]: {e['role']}")
    return lines


def build_netlist(
    spec: ArraySpec,
    design: DesignPoint,
    tech: Technology,
    codes: Codes,
    *,
    scale: np.ndarray | None = None,
    corner: str | None = None,
    mismatch: Mismatch | None = None,
    reset_noise: bool = False,
) -> Netlist:
    """Render the array library for `codes` (shape (spec.weight_rows, spec.cols)).

    `mismatch`: per-instance VT and capacitor draws with its seed (variation.py);
    `reset_noise`: a reset reference per GBL so the testbench can inject kT/C noise.
    Both off (the default) leave the library exactly as without them."""
    if codes.shape != (spec.weight_rows, spec.cols):
        raise NetlistgenError(
            f"weights have shape {codes.shape}, expected ({spec.weight_rows}, {spec.cols}) for {spec.rows} rows x {spec.cols} cols"
            + (f" x {spec.sram_rows_per_cell} SRAM rows per cell" if spec.sram_rows_per_cell > 1 else "")
        )
    if codes.pattern_set != spec.pattern_set:
        raise NetlistgenError(f"weights encoded with {codes.pattern_set.name!r}, array built for {spec.pattern_set.name!r}")
    corner = corner or tech.default_corner
    if corner not in tech.corners + tech.mismatch_corners:
        raise NetlistgenError(f"unknown corner {corner!r}{did_you_mean(corner, tech.corners + tech.mismatch_corners)} for {tech.name}; known: {', '.join(tech.corners + tech.mismatch_corners)}")
    var = resolve(mismatch, tech, corner) if mismatch is not None else None
    if var is not None:
        corner = var.corner
    params = DesignParams()

    def cap(name: str, c_f: float, times: float = 1.0) -> str:
        """A capacitor value: its `.param` (times an exact power of two), with a per-instance
        mismatch draw around it when `var` draws capacitors (variation.py)."""
        ref = params.ref(name, c_f, times)
        return var.cap(c_f * times, ref[1:-1]) if var is not None else ref

    kind = spec.kind
    env = _env(kind.template_dir)
    transistor = spec.fidelity == "transistor"
    factors = drive_factors(spec, design)
    flat = FlatDevices(tech, corner) if tech.flat else None
    common = dict(
        cell_template=kind.template,
        cell_subckt=kind.subckt,
        slice_template=kind.storage.slice_template,
        prelude_template=kind.storage.prelude_template,
        dev=devices(tech, design, var, flat, params),
        tg_variants=tg_variants(tech, design, factors, var, flat, params),
        rows=spec.rows,
        cols=spec.cols,
        n_bits=spec.n_bits,
        bit_cols=spec.bit_cols,
        cell=spec.cell,
        transistor=transistor,
        two_caps=spec.has_pattern_bit,
        g=spec.sram_rows_per_lcc,
        levels=design.levels,
        n_levels=2 * design.levels + 1,
        c1=cap("c_unit_f", design.c_unit_f),
        c2=cap("c_unit_f", design.c_unit_f, spec.c2_ratio),  # 2^k x C1: exact in ngspice's arithmetic
        c2_ratio=spec.c2_ratio,
        c_sample=cap("c_sample_f", design.c_sample_f),
        wire_c=params.ref("c_wire_per_row_f", design.wire_c_per_row_f) if design.wire_c_per_row_f > 0 else "",
        wire_r=params.ref("r_wire_per_row_ohm", design.wire_r_per_row_ohm),
        c_in=params.ref("c_input_line_f", design.c_input_wire_per_col_f * spec.bit_cols)
        if design.c_input_wire_per_col_f > 0 else "",
    )
    if kind.source is not None:  # a user cell: its own text must pass the grammar first
        where = f"cell template {kind.source['template_file']!r}"
        try:
            cell_text = env.get_template(kind.template).render(common)
        except jinja2.TemplateError as exc:
            raise NetlistgenError(f"{where}: {type(exc).__name__}: {one_line(exc, 200)}") from None
        check_cell_text(cell_text, kind, spec.has_pattern_bit, where, set(params.values))
    n_levels = 2 * design.levels + 1
    siu_nets = [
        [f"ref_{k}" for k in range(n_levels)] + [f"sel_{r}_{k}" for k in range(n_levels)]
        + [f"selb_{r}_{k}" for k in range(n_levels)]
        for r in range(spec.rows)
    ]
    slices = [[slice_nets(spec, codes, r, j) for j in range(spec.cols)] for r in range(spec.rows)]
    ports = array_nets(spec, design.levels, reset_noise)
    iface = interface(spec, design, ports)
    context = dict(
        common,
        interface_lines=interface_comment(iface),
        weight_lines=textwrap.wrap(f"Weights are {WEIGHT_PROGRAMMING}. Storage {kind.storage.name}: "
                                   f"{kind.storage.reading(spec)}.", 100),
        title=f"ZEBRA CIM array {spec.rows}x{spec.cols} {spec.cell}",
        version=__version__,
        tech_name=tech.name,
        corner=corner,
        fidelity=spec.fidelity,
        pattern_set=spec.pattern_set.spice_name,
        seed_line=var.seed_line if var is not None else "",
        rst_refs=reset_refs(spec, reset_noise),
        prog_vt=validate.fmt(design.vdd_v / 2),
        prog_ron=validate.fmt(design.r_prog_on_ohm),
        rowsel_ports=[f"q_{k}" for k in range(spec.sram_rows_per_lcc)]
        + [f"qb_{k}" for k in range(spec.sram_rows_per_lcc)]
        + [f"sel_{k}" for k in range(spec.sram_rows_per_lcc)]
        + [f"selb_{k}" for k in range(spec.sram_rows_per_lcc)]
        + ["vdd", "vss"],
        mlsiu_ports=[f"ref_{j}" for j in range(2 * design.levels + 1)]
        + [f"sel_{j}" for j in range(2 * design.levels + 1)]
        + [f"selb_{j}" for j in range(2 * design.levels + 1)]
        + ["vdd", "vss"],
        slice_ports=slice_ports(spec),
        siu_nets=siu_nets,
        slice_nets=slices,
    )
    body = env.get_template("array.sp.j2").render(context)  # every .param is declared by now (common)
    prelude = env.get_template("library.sp.j2").render(context, param_lines=params.lines(),
                                                         length_unit_m=validate.fmt(tech.length_unit_m))
    text = prelude + body
    if scale is None:
        scale = np.ones(spec.cols)
    model_lines = flat.model_lines() if flat is not None else ()
    manifest = make_manifest(spec, design, tech, corner, codes, np.asarray(scale, dtype=float), text, model_lines)
    manifest["derived"] = {f"{k}_width_factor": v for k, v in factors.items()}
    manifest["interface"] = iface
    if var is not None:
        manifest["mismatch"] = var.manifest(*_mismatch_targets(spec, design, tech, factors))
    if reset_noise:
        manifest["reset_noise_refs"] = [net for col in reset_refs(spec, True) for net in col]
    manifest["params"] = dict(params.values)
    return Netlist(spec, design, tech, corner, codes, np.asarray(scale, dtype=float), text, tuple(ports), manifest,
                   model_lines, len(prelude))


ARRAY_SUBCKT = "cim_array"  # the includable array's subcircuit (bundle: cim_array.sp)
# ngspice 39 stops with "ERROR, N_GLOBAL_NODES overflow" on a subcircuit of 1005 or more
# ports; 1004 run (measured with a resistor per port, tests/test_bundle.py repeats it).
NGSPICE_MAX_PORTS = 1004


def includable_text(netlist: Netlist) -> str | None:
    """The library with its array body wrapped in one `.subckt cim_array <ports>` (ports:
    every interface net, in `array_nets` order), so a testbench instantiates the array
    under its own node names; None when the array has more ports than ngspice allows
    (then the top-level library and its interface are the deliverable)."""
    ports = list(netlist.array_nets)
    if len(ports) > NGSPICE_MAX_PORTS:
        return None
    prelude, body = netlist.text[: netlist.body_start], netlist.text[netlist.body_start:]
    head = [f"* Includable array: X<name> <{len(ports)} nets in the port order below> {ARRAY_SUBCKT}",
            "* (port roles and levels: the interface above and manifest.json \"interface\")"]
    return (prelude + "\n".join(head) + f"\n.subckt {ARRAY_SUBCKT}" + plus_lines(ports) + "\n" + body
            + f".ends {ARRAY_SUBCKT}\n")


def _mismatch_targets(spec: ArraySpec, dp: DesignPoint, tech: Technology, factors: dict[str, float]):
    """Capacitor values and device sizes (pmos?, W, L) by role, for the manifest's sigmas."""
    caps = {"c1": dp.c_unit_f, "c_sample": dp.c_sample_f}
    if spec.has_pattern_bit:
        caps["c2"] = dp.c_unit_f * spec.c2_ratio
    sizes = {"sram_pd": (False, dp.w_sram_pd_m, dp.l_m), "sram_pg": (False, dp.w_sram_pg_m, dp.l_m),
             "sram_pu": (True, dp.w_sram_pu_m, dp.l_m)}
    for name, f in (("tg", 1.0), ("tgdrv", factors["siu"]), ("tgrst", factors["reset"]), ("tgsmp", factors["sample"])):
        sizes[f"{name}_n"] = (False, dp.w_switch_n_m * f, dp.l_m)
        sizes[f"{name}_p"] = (True, dp.w_switch_p_m * f, dp.l_m)
    return caps, sizes


def make_manifest(
    spec: ArraySpec, design: DesignPoint, tech: Technology, corner: str, codes: Codes, scale: np.ndarray, text: str,
    model_lines: tuple[str, ...] = (),
) -> dict:
    """Everything that went into the netlist, JSON-able, plus its content hash."""
    if model_lines:  # flattened: the deck is this netlist's own cards
        deck_sha = hashlib.sha256(Path(model_lines[0].split('"')[1]).read_bytes()).hexdigest()
    else:
        deck_sha = tech.deck_fingerprint(corner) if tech.is_installed() else None
    return {
        "generator": {"name": "netlistgen", "version": __version__},
        "spec": as_dict(spec) | {"n_bits": spec.n_bits, "bit_cols": spec.bit_cols, "weight_rows": spec.weight_rows,
                                  "c2_ratio": spec.c2_ratio},
        "design": as_dict(design),
        "cell": spec.kind.manifest(),
        "technology": {
            "name": tech.name,
            "corner": corner,
            "descriptor": str(tech.descriptor_path),
            "models": tech.models,
            "deck_sha256": deck_sha,
        },
        "weights": {
            "shape": list(codes.shape),
            "layout": "weight row r, weight column j -> bit column j*n_bits+i (MSB first)",
            "programming": WEIGHT_PROGRAMMING,
            "reading": spec.kind.storage.reading(spec),
            "sign": codes.sign.tolist(),
            "pattern": codes.pattern.tolist(),
            "bits": codes.bits.tolist(),
            "values": decode(codes).tolist(),
            "scale": scale.tolist(),
        },
        "content_sha256": hashlib.sha256(text.encode()).hexdigest(),
    }


def manifest_json(manifest: dict) -> str:
    return json.dumps(manifest, indent=1, sort_keys=True) + "\n"
