"""The `generate` job as an API: options -> encoded weights -> netlist -> files on disk.

`GenerateOptions` is what both the CLI flags and a config file say. Everything is
validated and rendered in memory first; files are written only when all of it
succeeded, each through a temporary file and an atomic rename.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import shutil
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from netlistgen.core import validate
from netlistgen.core.config import check_keys, existing_file, load_mapping
from netlistgen.core.arrays import load_npy
from netlistgen.circuits.cells import BUILTIN, CELL_KINDS, load_cell_file, resolve_cell
from netlistgen.circuits.design import (DEFAULT_TEMP_C, FIDELITIES, MAX_COLS, MAX_LEVELS, MAX_ROWS,
                                        MAX_SRAM_ROWS_PER_LCC, TEMP_RANGE_C, ArraySpec, DesignPoint)
from netlistgen.circuits.schemes import DEFAULT_SCHEME, default_cell
from netlistgen.circuits.encoding import CLIP_METHODS, PatternSet, get_pattern_set, load_pattern_sets, quantize
from netlistgen.core.errors import NetlistgenError, OutputError
from netlistgen.core.suggest import did_you_mean
from netlistgen.core.files import write_atomic
from netlistgen.circuits.netlist import (ARRAY_SUBCKT, NGSPICE_MAX_PORTS, Netlist, build_netlist, includable_text,
                                         manifest_json)
from netlistgen.tech.technology import list_technologies, load_technology
from netlistgen.circuits.testbench import Timing, op_deck, output_nodes, random_stimulus, spiceinit, static_levels, transient_deck
from netlistgen.circuits.variation import Mismatch

MAX_CELLS = 4_000_000
DESIGN_FIELDS = {f.name for f in dataclasses.fields(DesignPoint)}
STRING_KEYS = {"scheme", "cell", "cell_file", "technology", "models", "corner", "fidelity", "weights", "clip",
               "pattern_sets", "out"}


@dataclass(frozen=True)
class GenerateOptions:
    """What to generate; every field has a documented default."""

    scheme: str | None = None  # default: the cell's default scheme (int8 on the LCC), else zebra-i
    cell: str | None = None  # default: the cell_file's cell, else the scheme's (lcc for int4/int8, else mllcu)
    cell_file: str | None = None  # a user cell: descriptor file (cells.load_cell_file)
    rows: int = 16
    cols: int = 8
    technology: str = "ptm45"
    models: str | None = None  # full | trimmed | flat (default: the technology's, tech/technology.py)
    corner: str | None = None  # default: the technology's default corner
    fidelity: str = "ideal-bits"
    sram_rows_per_lcc: int = 16
    weights: str | None = None  # .npy or .csv float matrix (weight_rows x cols)
    seed: int = 0  # seeded Gaussian weights when no weights file is given
    clip: str = "max-abs"
    pattern_sets: str | None = None  # config file with custom pattern sets
    design: dict = field(default_factory=dict)  # DesignPoint overrides, e.g. {"c_unit_f": 2e-15}
    mismatch_seed: int | None = None  # Monte Carlo sample: per-instance VT/capacitor draws (variation.py)
    mismatch: dict = field(default_factory=dict)  # variation.Mismatch options: vt, cap, vt_scale, cap_scale
    reset_noise: bool = False  # per-GBL reset references, so a job can inject kT/C noise
    out: str = "out"

    def __post_init__(self) -> None:
        if self.scheme is None:
            object.__setattr__(self, "scheme", default_scheme(self.cell, self.cell_file))

    @classmethod
    def from_file(cls, path: str | Path, **overrides: object) -> "GenerateOptions":
        """Options from a TOML/YAML config; explicit overrides (CLI flags) win."""
        data = load_mapping(path)
        names = {f.name for f in dataclasses.fields(cls)}
        check_keys(data, names, f"config file {str(path)!r}")
        if not data:
            raise NetlistgenError(f"config file {str(path)!r} sets no options (empty or truncated file?)")
        merged = cls(**{**data, **{k: v for k, v in overrides.items() if v is not None}})
        check_values(merged, set(data) - {k for k, v in overrides.items() if v is not None}, f"config file {str(path)!r}")
        return merged


def default_scheme(cell: object, cell_file: object) -> str:
    """The scheme an array is built with when none is given: the cell's own default."""
    if isinstance(cell, str) and cell in BUILTIN:
        return BUILTIN[cell].default_scheme
    if isinstance(cell_file, (str, Path)):
        user = load_cell_file(cell_file)
        if cell in (None, user.name):
            return user.default_scheme
    return DEFAULT_SCHEME


@contextlib.contextmanager
def _blame(where: str, key: str):
    """Prefix an error raised while checking `key` with the config file that set it."""
    try:
        yield
    except NetlistgenError as exc:
        raise NetlistgenError(f"{where}: key {key!r}: {exc}") from None


def check_values(opts: GenerateOptions, keys: set[str], where: str) -> None:
    """Validate the option values a file set (`keys`), so each error names file, key and value.

    Runs the same resolvers as `build` (cheap ones only, nothing rendered)."""
    if "design" in keys and not isinstance(opts.design, dict):
        raise NetlistgenError(f"{where}: key 'design' must be a table, got {opts.design!r}")
    for key in STRING_KEYS & keys:
        if not isinstance(getattr(opts, key), str):
            raise NetlistgenError(f"{where}: key {key!r} must be a string, got {getattr(opts, key)!r}")
    limits = {"rows": MAX_ROWS, "cols": MAX_COLS, "sram_rows_per_lcc": MAX_SRAM_ROWS_PER_LCC, "seed": 2**32 - 1}
    for key, maximum in limits.items():
        if key in keys:
            with _blame(where, key):
                validate.integer(getattr(opts, key), key, minimum=0 if key == "seed" else 1, maximum=maximum)
    user_cell = None
    if "cell_file" in keys:
        with _blame(where, "cell_file"):
            user_cell = load_cell_file(opts.cell_file)
    choices = {"cell": CELL_KINDS + ((user_cell.name,) if user_cell else ()), "fidelity": FIDELITIES,
               "clip": CLIP_METHODS}
    for key, known in choices.items():
        if key in keys and getattr(opts, key) not in known:
            raise NetlistgenError(f"{where}: key {key!r}: unknown value {getattr(opts, key)!r}{did_you_mean(getattr(opts, key), known)}; known: {', '.join(known)}")
    if keys & {"scheme", "pattern_sets"}:
        with _blame(where, "pattern_sets" if "pattern_sets" in keys else "scheme"):
            resolve_pattern_set(opts)
    if keys & {"technology", "corner", "design"}:
        with _blame(where, "technology" if "technology" in keys else "corner" if "corner" in keys else "design"):
            tech = load_technology(opts.technology)
            tech._check_corner(opts.corner)
        if "design" in keys:
            cell = resolve_cell(opts.cell, opts.cell_file, default_cell(opts.scheme))
            overrides = dict(opts.design)
            for name, value in overrides.items():
                with _blame(where, f"design.{name}"):
                    if name == "levels":
                        validate.integer(value, "levels", minimum=1, maximum=MAX_LEVELS)
                    elif name in DESIGN_FIELDS:
                        validate.number(value, name)
            with _blame(where, "design"):
                DesignPoint.for_technology(tech, levels=overrides.pop("levels", cell.default_levels), **overrides)
    if "models" in keys and opts.models is not None:
        with _blame(where, "models"):
            load_technology(opts.technology).with_models(opts.models)
    if "weights" in keys:
        with _blame(where, "weights"):
            existing_file(opts.weights, "weights file")


def resolve_pattern_set(opts: GenerateOptions) -> PatternSet:
    custom = load_pattern_sets(opts.pattern_sets) if opts.pattern_sets else None
    return get_pattern_set(opts.scheme, custom)


MAX_CSV_BYTES = 256 * 1024 * 1024


def load_weights(path: str | Path) -> np.ndarray:
    """A float matrix from .npy or .csv; NaN/inf rejected."""
    p = existing_file(path, "weights file")
    try:
        if p.suffix == ".npy":
            w = load_npy(p, "weights file")
        elif p.suffix == ".csv":
            if p.stat().st_size > MAX_CSV_BYTES:
                raise NetlistgenError(f"weights file {str(p)!r} is larger than {MAX_CSV_BYTES} bytes")
            with warnings.catch_warnings():  # numpy warns on an empty file; the checks below say it in one line
                warnings.simplefilter("ignore")
                w = np.loadtxt(p, delimiter=",", ndmin=2)
        else:
            raise NetlistgenError(f"weights file {str(p)!r}: unknown format {p.suffix!r} (use .npy or .csv)")
    except (ValueError, OSError) as exc:
        raise NetlistgenError(f"weights file {str(p)!r} cannot be read: {str(exc).splitlines()[0]}") from None
    w = np.asarray(w)
    if w.ndim != 2 or not (np.issubdtype(w.dtype, np.floating) or np.issubdtype(w.dtype, np.integer)):  # no complex
        raise NetlistgenError(f"weights file {str(p)!r}: expected a 2-D real matrix, got shape {w.shape} of {w.dtype}")
    if w.size == 0:
        raise NetlistgenError(f"weights file {str(p)!r} holds no values (shape {w.shape})")
    bad = ~np.isfinite(w)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise NetlistgenError(f"weights file {str(p)!r}: non-finite value {w[r, c]!r} at row {r}, column {c}")
    return w.astype(float)


def build(opts: GenerateOptions) -> Netlist:
    """Resolve the options and render the netlist in memory (nothing written)."""
    ps = resolve_pattern_set(opts)
    cell = resolve_cell(opts.cell, opts.cell_file, default_cell(ps.name))
    spec = ArraySpec(
        cell=cell.name,
        kind=cell,
        pattern_set=ps,
        rows=validate.integer(opts.rows, "rows", minimum=1),
        cols=validate.integer(opts.cols, "cols", minimum=1),
        fidelity=opts.fidelity,
        sram_rows_per_lcc=validate.integer(opts.sram_rows_per_lcc, "sram_rows_per_lcc", minimum=1),
    )
    cells = spec.weight_rows * spec.bit_cols
    if cells > MAX_CELLS:
        raise NetlistgenError(f"array of {cells} bit cells ({spec.rows}x{spec.cols}) exceeds the limit of {MAX_CELLS}")
    tech = load_technology(opts.technology)
    if opts.models is not None:
        tech = tech.with_models(opts.models)
    overrides = dict(opts.design)
    levels = overrides.pop("levels", cell.default_levels)
    design = DesignPoint.for_technology(tech, levels=levels, **overrides)
    if opts.weights:
        weights = load_weights(opts.weights)
    else:
        seed = validate.integer(opts.seed, "seed", minimum=0, maximum=2**32 - 1)
        weights = np.random.default_rng(seed).normal(size=(spec.weight_rows, spec.cols))
    if weights.shape != (spec.weight_rows, spec.cols):
        raise NetlistgenError(
            f"weights have shape {weights.shape}, expected ({spec.weight_rows}, {spec.cols}) for this array"
        )
    qt = quantize(weights, ps, granularity="per-channel", clip=opts.clip, channel_axis=1)
    if opts.mismatch and opts.mismatch_seed is None:
        raise NetlistgenError(f"mismatch options {opts.mismatch!r} given without a mismatch_seed")
    mismatch = Mismatch.from_options(opts.mismatch_seed, opts.mismatch) if opts.mismatch_seed is not None else None
    if not isinstance(opts.reset_noise, bool):
        raise NetlistgenError(f"invalid reset_noise {opts.reset_noise!r}: expected true or false")
    return build_netlist(spec, design, tech, qt.codes, scale=np.broadcast_to(qt.scale, (1, spec.cols)).ravel(),
                         corner=opts.corner, mismatch=mismatch, reset_noise=opts.reset_noise)


def _check_writable(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
    except (OSError, ValueError) as exc:  # ValueError: embedded NUL
        raise NetlistgenError(f"output directory {str(out)!r} cannot be created: {getattr(exc, 'strerror', None) or exc}") from None
    if not out.is_dir() or not os.access(out, os.W_OK):
        raise NetlistgenError(f"output directory {str(out)!r} is not writable")


def write(netlist: Netlist, out: str | Path) -> dict[str, Path]:
    """Write array.sp, op.sp (+ .spiceinit), op.json (the operating-point check as data:
    port levels, the decks' level params and probed outputs, for any simulator) and
    manifest.json into `out`."""
    out = Path(out)
    library = out / "array.sp"
    files = {
        "library": (library, netlist.text),
        "op_deck": (out / "op.sp", op_deck(netlist, str(library))),
        "spiceinit": (out / ".spiceinit", spiceinit(netlist)),
        "manifest": (out / "manifest.json", manifest_json(netlist.manifest)),
        "op_bench": (out / "op.json", json.dumps({"levels": static_levels(netlist), "params": netlist.deck_params,
                                                  "probes": output_nodes(netlist),
                                                  "models": netlist.model_statements()}, indent=1) + "\n"),
    }
    try:
        created = not out.exists()
    except (OSError, ValueError):  # name too long, NUL: _check_writable names the problem
        created = False
    _check_writable(out)
    written: list[Path] = []
    try:
        for path, text in files.values():
            write_atomic(path, text)
            written.append(path)
    except OutputError:  # disk full halfway: leave no partial set of files behind
        for path in written:
            path.unlink(missing_ok=True)
        if created:
            with contextlib.suppress(OSError):
                out.rmdir()
        raise
    return {key: path for key, (path, _) in files.items()}


_INCLUDE_RE = re.compile(r'^\.include "([^"]+)"$')
BUNDLE_CYCLES = 8  # compute cycles of the example transient deck in a bundle
BUNDLE_STIM_SEED = 1


def bundle_files(netlist: Netlist) -> dict[str, str | Path]:
    """The files of a self-contained bundle: {relative name: text, or a Path to copy}.

    Model cards are copied in (models/<corner>-<k>.spice) and every include is relative to
    the deck, so the directory runs in plain `ngspice -b` from any working directory.
    tran.sp is an example transient (BUNDLE_CYCLES random cycles, seed BUNDLE_STIM_SEED)."""
    models: dict[str, Path] = {}
    for k, line in enumerate(netlist.model_statements()):
        m = _INCLUDE_RE.match(line)
        if m is None:
            raise NetlistgenError(f"technology {netlist.tech.name!r}: its models load as {line.split()[0]!r}, not a "
                                  "single self-contained file, so they cannot be copied into a bundle")
        models[f"models/{validate.identifier(netlist.corner, 'corner')}-{k}.spice"] = Path(m.group(1))
    names = tuple(models)
    stim = random_stimulus(netlist, BUNDLE_CYCLES, BUNDLE_STIM_SEED)
    deck, _ = transient_deck(netlist, "array.sp", stim, Timing.for_technology(netlist.tech), bundle_models=names)
    manifest = {**netlist.manifest, "bundle": {
        "models": list(names), "library": "array.sp", "op_deck": "op.sp",
        "tran_deck": {"file": "tran.sp", "cycles": BUNDLE_CYCLES, "stim_seed": BUNDLE_STIM_SEED,
                      "inputs": stim.inputs.tolist(), "sram_row": stim.sram_row.tolist()},
        "run": "ngspice -b op.sp (any working directory: the decks set num_threads themselves; sky130 also "
               "needs ngbehavior=hsa from .spiceinit, so run it from this directory)"}}
    subckt = includable_text(netlist)
    manifest["bundle"]["includable"] = (
        {"file": "cim_array.sp", "subckt": ARRAY_SUBCKT, "ports": list(netlist.array_nets)} if subckt is not None
        else {"file": None, "reason": f"{len(netlist.array_nets)} interface nets exceed ngspice's limit of "
                                      f"{NGSPICE_MAX_PORTS} subcircuit ports: include array.sp (top level) instead"})
    return {"array.sp": netlist.text, **({"cim_array.sp": subckt} if subckt is not None else {}), **models,
            "op.sp": op_deck(netlist, "array.sp", bundle_models=names),
            "tran.sp": deck, ".spiceinit": spiceinit(netlist), "manifest.json": manifest_json(manifest)}


def write_bundle(netlist: Netlist, out: str | Path) -> dict[str, Path]:
    """Write the bundle (bundle_files) into `out`; nothing is left half-written on failure."""
    out = Path(out)
    files = bundle_files(netlist)  # everything rendered (and every error raised) before writing
    created = not out.exists()
    _check_writable(out)
    (out / "models").mkdir(exist_ok=True)
    written: list[Path] = []
    try:
        for name, content in files.items():
            path = out / name
            write_atomic(path, content.read_text() if isinstance(content, Path) else content)
            written.append(path)
    except OutputError:
        for path in written:
            path.unlink(missing_ok=True)
        if created:
            shutil.rmtree(out, ignore_errors=True)
        raise
    return {name: out / name for name in files}


def generate(opts: GenerateOptions) -> tuple[Netlist, dict[str, Path]]:
    netlist = build(opts)
    return netlist, write(netlist, opts.out)


@dataclass(frozen=True)
class GeneratedLibrary:
    """A generated directory's array, as a simulator bench needs it (the library text,
    technology, corner and size), without rebuilding the netlist."""

    text: str
    tech: object
    corner: str
    spec: object  # rows, cols, cell (a types.SimpleNamespace from the manifest)
    temp_c: float = DEFAULT_TEMP_C  # the design point's temperature: the decks' `.temp`
    model_lines: tuple[str, ...] = ()  # what generate loaded (e.g. this array's flattened cards)
    deck_params: dict[str, str] = field(default_factory=dict)  # op.json's level params ({}: written before them)

    def model_statements(self) -> list[str]:
        return list(self.model_lines) or self.tech.model_statements(self.corner)


def load_generated(out: str | Path) -> tuple[GeneratedLibrary, dict[str, float], list[str], dict]:
    """(library, port levels, probed outputs, manifest) of a directory written by `write`;
    the library must still be the one the manifest describes (content hash)."""
    import hashlib
    import types

    out = Path(out)
    need = {name: out / name for name in ("manifest.json", "op.json", "array.sp")}
    from netlistgen.core.files import read_own

    for name, path in need.items():
        if path.is_symlink():  # the generated files are never read through a link planted in their place
            raise NetlistgenError(f"{str(path)!r} is a symbolic link, not the generated file: regenerate {str(out)!r}")
        if not path.is_file():
            raise NetlistgenError(f"{str(out)!r} has no {name}: generate it first with `netlistgen generate --out DIR`")
    try:
        manifest = json.loads(read_own(need["manifest.json"], limit=16 << 20))
        bench = json.loads(read_own(need["op.json"], limit=16 << 20))
        text = read_own(need["array.sp"], limit=256 << 20).decode("utf-8")
        levels = {validate.identifier(k, "port"): validate.number(v, "port level") for k, v in bench["levels"].items()}
        probes = [validate.identifier(n, "probe") for n in bench["probes"]]
        model_lines = tuple(_checked_model_line(line) for line in bench.get("models", []))
        params = _checked_params(bench.get("params", {}))
        tech_info, spec = manifest["technology"], manifest["spec"]
        temp_c = validate.number(manifest.get("design", {}).get("temp_c", DEFAULT_TEMP_C), "temp_c",
                                 minimum=TEMP_RANGE_C[0], maximum=TEMP_RANGE_C[1])
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise NetlistgenError(f"{str(out)!r} is not a valid generated directory: {exc}") from None
    if hashlib.sha256(text.encode()).hexdigest() != manifest.get("content_sha256"):
        raise NetlistgenError(f"{str(out / 'array.sp')!r} does not match its manifest.json (edited?): regenerate it")
    builtin = tech_info["name"] in list_technologies()
    tech = load_technology(tech_info["name"] if builtin else tech_info["descriptor"])
    view = types.SimpleNamespace(rows=spec["rows"], cols=spec["cols"], cell=spec["cell"])
    return GeneratedLibrary(text, tech, tech_info["corner"], view, temp_c, model_lines, params), levels, probes, manifest


_DECK_PARAM_RE = re.compile(r"^(?:vdd_v|vcm_v|vref_[0-9]{1,2})$")


def _checked_params(params: object) -> dict[str, str]:
    """op.json's level params: only vdd_v, vcm_v and vref_<j>, each a number (it becomes a
    `.param` line), formatted as the port levels are."""
    if not isinstance(params, dict):
        raise NetlistgenError(f"op.json: 'params' must be a mapping of level names to volts, got {str(params)[:80]!r}")
    out = {}
    for name, value in params.items():
        if not isinstance(name, str) or not _DECK_PARAM_RE.match(name):
            raise NetlistgenError(f"op.json: unexpected level param {str(name)[:40]!r} (known: vdd_v, vcm_v, vref_<j>)")
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise NetlistgenError(f"op.json: level param {name!r}: expected a number, got {str(value)[:40]!r}")
        try:
            out[name] = validate.fmt(validate.number(float(value), f"op.json level param {name}"))
        except ValueError:
            raise NetlistgenError(f"op.json: level param {name!r}: expected a number, got {str(value)[:40]!r}") from None
    return out


def _checked_model_line(line: str) -> str:
    """A model statement read back from op.json: only `.include "<checked path>"` or
    `.lib "<checked path>" <section>` (the file is code ngspice runs)."""
    m = _INCLUDE_RE.match(line) if isinstance(line, str) else None
    if m is not None:
        return f'.include "{validate.spice_path(m.group(1), "model file")}"'
    parts = line.split() if isinstance(line, str) else []
    if len(parts) == 3 and parts[0].lower() == ".lib" and parts[1].startswith('"') and parts[1].endswith('"'):
        return f'.lib "{validate.spice_path(parts[1][1:-1], "model library")}" {validate.identifier(parts[2], "corner")}'
    raise NetlistgenError(f"op.json: unexpected model statement {str(line)[:120]!r}")

