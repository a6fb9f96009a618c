"""Behavioural column model fitted from SPICE, usable without ngspice (issue 4, item 4).

A charge-domain bit column is, to within tens of microvolts, a line plus a smooth
nonlinearity: V_GBL - VCM = gain * y + offset + inl(y) (+ noise), with y the ideal
bit-column value in units of C1*dV. The residual of the line is deterministic and
mostly quadratic in y (measured on ptm45: correlation with y^2 of -0.88..-0.99), so it
is kept as a lookup table over the codes SPICE saw, interpolated, with a cubic fit of
the same residuals for codes outside that range.

Noise is a parameter, not a measurement (ngspice has no device noise in transient):
the default is the kT/C of the column, sqrt(kT / C_total) with C_total = C1*dV/gain,
i.e. the total GBL capacitance the measured gain implies (parasitics included).
Mismatch (column-to-column gain/offset spread) comes from Monte Carlo results when
given; without them the model has none and says so.

JSON keys carry units; `schema_version` guards the format; `provenance` records the
technology, corner, scheme, rows and the netlist's sha256.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from netlistgen import __version__

from netlistgen.circuits.schemes import COMPARED
from netlistgen.core import validate
from netlistgen.circuits.encoding import PatternSet
from netlistgen.core.errors import NetlistgenError
from netlistgen.core.files import write_atomic
from netlistgen.analysis.metrics import fit_linearity, snr_db_from_error
from netlistgen.circuits.variation import ktc_sigma_v
from netlistgen.core.jsonio import to_jsonable

SCHEMA = "netlistgen.analysis.behavioral"
SCHEMA_VERSION = 1
INL_POLY_DEGREE = 3
DEFAULT_TEMPERATURE_K = 300.0


@dataclass(frozen=True)
class ColumnModel:
    """One bit column: line, INL table over ideal codes, noise and full scale."""

    index: int
    bit_position: int  # weight 2**bit_position in the digital recombination
    gain_v_per_lsb: float
    offset_v: float
    inl_code_lsb: tuple[float, ...]  # ideal codes SPICE saw, ascending
    inl_residual_v: tuple[float, ...]  # measured mean of V - (gain*y + offset) at each code
    inl_poly_v: tuple[float, ...]  # model nonlinearity in y, highest power first (no constant/linear term)
    c_total_f: float  # C1*dV/gain: the GBL capacitance the measured gain implies
    noise_sigma_v: float  # default injected noise (kT/C of c_total_f)
    full_scale_lsb: float  # largest |y| the column can produce (rows * L * largest cap ratio)
    spice_snr_db: float  # SNR of the SPICE samples the model was fitted on

    def __post_init__(self) -> None:
        if len(self.inl_code_lsb) != len(self.inl_residual_v) or not self.inl_code_lsb:
            raise NetlistgenError(f"column {self.index}: INL table needs matching, non-empty codes and residuals")
        if any(b <= a for a, b in zip(self.inl_code_lsb, self.inl_code_lsb[1:])):
            raise NetlistgenError(f"column {self.index}: INL codes must be strictly increasing")
        for name in ("gain_v_per_lsb", "c_total_f", "full_scale_lsb"):
            validate.number(getattr(self, name), f"column {self.index} {name}", minimum=0.0, exclusive_minimum=True)
        validate.number(self.noise_sigma_v, f"column {self.index} noise_sigma_v", minimum=0.0)

    def inl_v(self, y: np.ndarray) -> np.ndarray:
        """Nonlinearity at codes y (V): the scheme's pooled cubic, in this column's codes."""
        return np.polyval(np.asarray(self.inl_poly_v), y)

    def deterministic_v(self, y: np.ndarray) -> np.ndarray:
        return self.gain_v_per_lsb * y + self.offset_v + self.inl_v(y)


@dataclass(frozen=True)
class BehavioralModel:
    """Per-scheme model of one weight column's bit columns (see the module docstring)."""

    scheme: str
    patterns: tuple[tuple[int, ...], ...]
    cell: str
    rows: int
    levels: int
    dv_v: float
    c_unit_f: float
    temperature_k: float
    columns: tuple[ColumnModel, ...]
    provenance: dict = field(compare=False)
    mismatch: dict | None = None  # {"gain_rel_std", "offset_std_v", "n_samples", "source"}

    def __post_init__(self) -> None:
        if len(self.columns) != len(self.patterns[0]):
            raise NetlistgenError(
                f"model of {self.scheme!r} has {len(self.columns)} columns, pattern set has {len(self.patterns[0])} bits"
            )
        if self.mismatch is not None:
            for key in ("gain_rel_std", "offset_std_v"):
                validate.number(self.mismatch.get(key), f"mismatch {key}", minimum=0.0)

    @property
    def n_bits(self) -> int:
        return len(self.columns)

    @property
    def pattern_set(self) -> PatternSet:
        return PatternSet(self.scheme, self.patterns)

    @property
    def noise_sigma_v(self) -> np.ndarray:
        return np.array([c.noise_sigma_v for c in self.columns])

    @property
    def gain_v_per_lsb(self) -> np.ndarray:
        return np.array([c.gain_v_per_lsb for c in self.columns])

    @property
    def offset_v(self) -> np.ndarray:
        return np.array([c.offset_v for c in self.columns])

    @property
    def full_scale_lsb(self) -> np.ndarray:
        return np.array([c.full_scale_lsb for c in self.columns])

    def predict_v(
        self,
        y,
        *,
        noise_sigma_v=None,
        rng: np.random.Generator | None = None,
        column_gain=None,
        column_offset_v=None,
    ) -> np.ndarray:
        """V_GBL - VCM for ideal bit-column values y (..., n_bits).

        noise_sigma_v: None = no noise (deterministic nonlinearity only); a number or a
        per-column array adds Gaussian noise drawn from rng (required then).
        column_gain / column_offset_v: optional static mismatch draws broadcast against
        y (relative gain factor, offset in V), e.g. from draw_mismatch.
        """
        y = np.asarray(y, dtype=float)
        if y.ndim < 1 or y.shape[-1] != self.n_bits:
            raise NetlistgenError(f"y of shape {y.shape} must end in n_bits={self.n_bits}")
        v = np.stack([c.deterministic_v(y[..., i]) for i, c in enumerate(self.columns)], axis=-1)
        if column_gain is not None:
            v = self.offset_v + (v - self.offset_v) * column_gain
        if column_offset_v is not None:
            v = v + column_offset_v
        if noise_sigma_v is not None:
            sigma = np.broadcast_to(np.asarray(noise_sigma_v, dtype=float), (self.n_bits,))
            if np.any(sigma < 0) or not np.all(np.isfinite(sigma)):
                raise NetlistgenError(f"invalid noise sigma {noise_sigma_v!r} V: must be finite and >= 0")
            if rng is None:
                raise NetlistgenError("predict_v with noise needs an rng (seeded numpy Generator)")
            v = v + rng.standard_normal(v.shape) * sigma
        return v

    def draw_mismatch(self, rng: np.random.Generator, shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
        """Static (gain factor, offset V) of `shape` + (n_bits,) physical columns; ones/zeros
        when the model carries no mismatch distribution."""
        full = tuple(shape) + (self.n_bits,)
        if self.mismatch is None:
            return np.ones(full), np.zeros(full)
        return (1.0 + self.mismatch["gain_rel_std"] * rng.standard_normal(full),
                self.mismatch["offset_std_v"] * rng.standard_normal(full))

    # -- JSON ------------------------------------------------------------------------

    def to_dict(self) -> dict:
        return to_jsonable({
            "schema": SCHEMA,
            "schema_version": SCHEMA_VERSION,
            "provenance": self.provenance,
            "scheme": self.scheme,
            "patterns": [list(p) for p in self.patterns],
            "cell": self.cell,
            "rows": self.rows,
            "levels": self.levels,
            "dv_v": self.dv_v,
            "c_unit_f": self.c_unit_f,
            "temperature_k": self.temperature_k,
            "units": {"y": "ideal bit-column value in units of C1*dV (integer grid)",
                      "v": "V_GBL - VCM at the sampling instant, volts"},
            "columns": [{
                "index": c.index, "bit_position": c.bit_position, "gain_v_per_lsb": c.gain_v_per_lsb,
                "offset_v": c.offset_v, "c_total_f": c.c_total_f, "noise_sigma_v": c.noise_sigma_v,
                "full_scale_lsb": c.full_scale_lsb, "spice_snr_db": c.spice_snr_db,
                "inl": {"code_lsb": list(c.inl_code_lsb), "residual_v": list(c.inl_residual_v),
                        "poly_v_highest_first": list(c.inl_poly_v)},
            } for c in self.columns],
            "mismatch": self.mismatch,
        })

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        write_atomic(path, json.dumps(self.to_dict(), indent=1, allow_nan=False) + "\n")
        return path

    @classmethod
    def from_dict(cls, doc: Mapping) -> "BehavioralModel":
        if not isinstance(doc, Mapping) or doc.get("schema") != SCHEMA:
            raise NetlistgenError(f"not a behavioural model: schema {doc.get('schema') if isinstance(doc, Mapping) else doc!r}")
        if doc.get("schema_version") != SCHEMA_VERSION:
            raise NetlistgenError(f"behavioural model schema_version {doc.get('schema_version')!r} is not {SCHEMA_VERSION}")
        try:
            columns = tuple(ColumnModel(
                index=int(c["index"]), bit_position=int(c["bit_position"]),
                gain_v_per_lsb=float(c["gain_v_per_lsb"]), offset_v=float(c["offset_v"]),
                inl_code_lsb=tuple(float(x) for x in c["inl"]["code_lsb"]),
                inl_residual_v=tuple(float(x) for x in c["inl"]["residual_v"]),
                inl_poly_v=tuple(float(x) for x in c["inl"]["poly_v_highest_first"]),
                c_total_f=float(c["c_total_f"]), noise_sigma_v=float(c["noise_sigma_v"]),
                full_scale_lsb=float(c["full_scale_lsb"]), spice_snr_db=float(c["spice_snr_db"]),
            ) for c in doc["columns"])
            return cls(
                scheme=str(doc["scheme"]), patterns=tuple(tuple(int(b) for b in p) for p in doc["patterns"]),
                cell=str(doc["cell"]), rows=int(doc["rows"]), levels=int(doc["levels"]), dv_v=float(doc["dv_v"]),
                c_unit_f=float(doc["c_unit_f"]), temperature_k=float(doc["temperature_k"]), columns=columns,
                provenance=dict(doc["provenance"]), mismatch=doc.get("mismatch"),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise NetlistgenError(f"behavioural model is missing or has a bad field: {exc!r}") from None

    @classmethod
    def load(cls, path: str | Path) -> "BehavioralModel":
        try:
            doc = json.loads(Path(path).read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise NetlistgenError(f"cannot read behavioural model {str(path)!r}: {exc}") from None
        return cls.from_dict(doc)


# --------------------------------------------------------------------------- fitting


def _pooled_fit(y: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Per-column gain/offset plus one nonlinearity shared by the scheme's bit columns.

    The bit columns of one array are the same circuit, so their nonlinearity (GBL
    junction capacitance, switch charge) is one function of the GBL swing u = g_ref*y,
    fitted as c2*u^2 + c3*u^3 on every column's samples together. Per-column curves
    would be underdetermined: 12 cycles of a 4-row column can visit only 2-3 codes.
    Returns gain (n,), offset (n,), (c2, c3) in 1/V and 1/V^2, and the reference gain
    that defines u.
    """
    n = y.shape[1]
    # One swing scale for every column (their gains agree to ~0.1 %), so the curve is
    # one function of y across columns.
    g_ref = float(np.mean([fit_linearity(y[:, i], v[:, i]).gain_v_per_lsb for i in range(n)]))
    scale = float(np.max(np.abs(y * g_ref))) or 1.0
    # Each column's own line absorbs the constant and linear part of the curve over the
    # codes it saw, so the shared coefficients are fitted on the curve's features with
    # that part projected out (a column with two codes then adds no information).
    features, targets = [], []
    for i in range(n):
        line = np.column_stack([np.ones_like(y[:, i]), y[:, i]])
        u = y[:, i] * g_ref / scale
        f = np.column_stack([u**2, u**3])
        f_res = f - line @ np.linalg.lstsq(line, f, rcond=None)[0]
        features.append(f_res)
        targets.append(v[:, i] - line @ np.linalg.lstsq(line, v[:, i], rcond=None)[0])
    coef = np.linalg.lstsq(np.vstack(features), np.concatenate(targets), rcond=None)[0]
    c = np.array([coef[0] / scale**2, coef[1] / scale**3])
    gains, offsets = np.empty(n), np.empty(n)
    for i in range(n):
        u = y[:, i] * g_ref
        gains[i], offsets[i] = np.polyfit(y[:, i], v[:, i] - c[0] * u**2 - c[1] * u**3, 1)
    return gains, offsets, c, g_ref


def mismatch_from_samples(samples: Sequence[Mapping], source: str) -> dict:
    """Gain/offset spread across Monte Carlo samples.

    samples: one mapping per sample with "columns" (or "metrics": {"columns"}) =
    [{"gain_v_per_lsb", "offset_v"}, ...], the per-column entries of report.summarize
    as montecarlo.write_mc stores them. The spread is taken per bit column across
    samples, then averaged over columns: gain as a relative std, offset in volts."""
    gains, offsets = [], []
    for k, s in enumerate(samples):
        try:
            cols = s["columns"] if "columns" in s else s["metrics"]["columns"]
            gains.append([float(c["gain_v_per_lsb"]) for c in cols])
            offsets.append([float(c["offset_v"]) for c in cols])
        except (KeyError, TypeError, ValueError):
            raise NetlistgenError(f"Monte Carlo sample {k} lacks columns[].gain_v_per_lsb/offset_v") from None
    if len(gains) < 2 or len({len(g) for g in gains}) != 1:
        raise NetlistgenError(f"need >= 2 Monte Carlo samples with the same columns, got {len(gains)}")
    g, o = np.array(gains), np.array(offsets)
    if not (np.all(np.isfinite(g)) and np.all(np.isfinite(o))):
        raise NetlistgenError("Monte Carlo samples hold non-finite gain or offset")
    return {
        "gain_rel_std": float(np.mean(np.std(g, axis=0, ddof=1) / np.abs(np.mean(g, axis=0)))),
        "offset_std_v": float(np.mean(np.std(o, axis=0, ddof=1))),
        "n_samples": len(gains),
        "source": source,
    }


def load_mismatch(path: str | Path, label: str | None = None) -> dict:
    """Mismatch distribution from a JSON file of Monte Carlo results: `netlistgen mc`'s
    samples.json ({"samples": {label: [...]}}: the entry `label` - a scheme's spread
    never stands in for another's - or, with label None, the only one), a
    list of samples, or an object with "samples"/"results" holding such a list."""
    try:
        doc = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise NetlistgenError(f"cannot read Monte Carlo results {str(path)!r}: {exc}") from None
    source = str(path)
    if isinstance(doc, Mapping):
        doc = doc.get("samples", doc.get("results"))
    if isinstance(doc, Mapping):
        if label in doc:
            chosen = label
        elif label is None and len(doc) == 1:
            chosen = next(iter(doc))
        else:
            raise NetlistgenError(f"Monte Carlo results {source!r} hold labels {', '.join(map(str, doc))}; "
                                  f"none is {label!r}")
        doc, source = doc[chosen], f"{source} [{chosen}]"
    if not isinstance(doc, list):
        raise NetlistgenError(f"Monte Carlo results {source!r}: expected a list of samples")
    return mismatch_from_samples(doc, source=source)


def fit_model(
    result,
    *,
    temperature_k: float = DEFAULT_TEMPERATURE_K,
    noise_sigma_v: float | None = None,
    mismatch: dict | None = None,
    stim_seed: int | None = None,
) -> BehavioralModel:
    """Fit a BehavioralModel to one weight column of a SimResult (simulate.SimResult).

    noise_sigma_v: None = kT/C of each column's C_total (from its measured gain).
    """
    nl = result.job.netlist
    spec, dp = nl.spec, nl.design
    ps = spec.pattern_set
    temperature_k = validate.number(temperature_k, "temperature_k", minimum=0.0, exclusive_minimum=True)
    full_scale = float(spec.rows * dp.levels * max(ps.cap_ratios))
    for i in range(spec.n_bits):
        if np.ptp(result.y_ideal[:, i]) == 0:
            raise NetlistgenError(
                f"bit column {i} of {ps.name!r} saw one code only ({result.y_ideal[0, i]:g}); "
                "use more cycles or other weights"
            )
    gains, offsets, (c2, c3), g_lin = _pooled_fit(result.y_ideal, result.v_sample_v)
    columns = []
    for i in range(spec.n_bits):
        y, v = result.y_ideal[:, i], result.v_sample_v[:, i]
        lin = fit_linearity(y, v)
        codes, inverse = np.unique(y, return_inverse=True)
        table = np.bincount(inverse, weights=v - gains[i] * y - offsets[i]) / np.bincount(inverse)
        err = lin.residual_v / lin.gain_v_per_lsb
        snr = snr_db_from_error(y, err)
        c_total = dp.c_unit_f * dp.dv_v / abs(gains[i])
        sigma = float(ktc_sigma_v(temperature_k, c_total)) if noise_sigma_v is None else float(noise_sigma_v)
        columns.append(ColumnModel(
            index=i, bit_position=ps.base[i], gain_v_per_lsb=float(gains[i]), offset_v=float(offsets[i]),
            inl_code_lsb=tuple(codes.tolist()), inl_residual_v=tuple(table.tolist()),
            inl_poly_v=(float(c3 * g_lin**3), float(c2 * g_lin**2), 0.0, 0.0), c_total_f=c_total, noise_sigma_v=sigma,
            full_scale_lsb=full_scale, spice_snr_db=snr,
        ))
    provenance = {
        "source": "ngspice transient charge accumulation (netlistgen simulate.run_job), sampled V_GBL",
        "technology": nl.tech.name,
        "corner": nl.corner,
        "scheme": ps.name,
        "cell": spec.cell,
        "fidelity": spec.fidelity,
        "rows": spec.rows,
        "netlist_sha256": nl.content_hash,
        "fit_cycles": int(result.y_ideal.shape[0]),
        "fit_stim_seed": stim_seed,
        "noise_source": ("kT/C per column, C_total = C1*dV/gain (measured gain, parasitics included)"
                         if noise_sigma_v is None else "given by the caller"),
        "generator_version": __version__,
    }
    return BehavioralModel(
        scheme=ps.name, patterns=ps.patterns, cell=spec.cell, rows=spec.rows, levels=dp.levels, dv_v=dp.dv_v,
        c_unit_f=dp.c_unit_f, temperature_k=temperature_k, columns=tuple(columns), provenance=provenance,
        mismatch=mismatch,
    )


# --------------------------------------------------------------------------- SPICE runs


SCHEMES = COMPARED  # the four columns of the comparison (circuits/schemes.py)


@dataclass(frozen=True)
class Characterization:
    """A scheme's fitted model, the SPICE run it was fitted on and an optional held-out run."""

    model: BehavioralModel
    fit: object  # simulate.SimResult
    heldout: object | None = None  # simulate.SimResult with other input vectors, same netlist


def characterize(
    schemes: Sequence[str] = SCHEMES,
    *,
    technology: str = "ptm45",
    corner: str | None = None,
    rows: int = 8,
    cycles: int = 24,
    stim_seed: int = 1,
    heldout_seed: int | None = None,
    weight_seed: int = 0,
    workdir: str | Path = "out/characterize",
    workers: int | None = None,
    mismatch: dict | None = None,
    progress: bool = False,
) -> dict[str, Characterization]:
    """Simulate one weight column per scheme in ngspice and fit its behavioural model.

    heldout_seed: also simulate other random input vectors on the same netlist (for
    checking the model out of sample). Raises if any job fails.
    """
    from netlistgen.circuits.generate import GenerateOptions, build
    from netlistgen.sim.executor import run_jobs
    from netlistgen.sim.simulate import Job
    from netlistgen.circuits.testbench import random_stimulus

    rows = validate.integer(rows, "rows", minimum=1, maximum=4096)
    cycles = validate.integer(cycles, "cycles", minimum=4, maximum=10000)
    stim_seed = validate.integer(stim_seed, "stim_seed", minimum=0)
    seeds = [stim_seed] if heldout_seed is None else [stim_seed, validate.integer(heldout_seed, "heldout_seed", minimum=0)]
    jobs = {}
    for scheme in schemes:
        nl = build(GenerateOptions(scheme=scheme, technology=technology, corner=corner, rows=rows, cols=1,
                                   seed=weight_seed))
        for seed in seeds:
            jobs[(scheme, seed)] = Job(f"{scheme}-{rows}r-s{seed}", nl, random_stimulus(nl, cycles, seed))
    results, errors = run_jobs(list(jobs.values()), workdir, workers=workers, progress=progress)
    if errors:
        name, msg = next(iter(errors.items()))
        raise NetlistgenError(f"characterisation job {name} failed: {msg}")
    out = {}
    for scheme in schemes:
        fit = results[jobs[(scheme, stim_seed)].name]
        heldout = results[jobs[(scheme, seeds[-1])].name] if heldout_seed is not None else None
        out[scheme] = Characterization(fit_model(fit, mismatch=mismatch, stim_seed=stim_seed), fit, heldout)
    return out


def heldout_snr(model: BehavioralModel, result) -> dict:
    """SNR (dB) of SPICE samples vs the model's noiseless prediction on the same inputs.

    Both go through the same SPEC definition (per-column least-squares fit, fitted back,
    compared with y_ideal); "pooled" pools every column as metrics.column_metrics does."""
    from netlistgen.analysis.metrics import column_metrics

    per_spice, spice_overall = column_metrics(result.y_ideal, result.v_sample_v)
    per_model, model_overall = column_metrics(result.y_ideal, model.predict_v(result.y_ideal))
    return {
        "spice_snr_db": spice_overall["snr_db"],
        "model_snr_db": model_overall["snr_db"],
        "spice_column_snr_db": [c.snr_db for c in per_spice],
        "model_column_snr_db": [c.snr_db for c in per_model],
    }


def load_models(directory: str | Path, schemes: Sequence[str] = SCHEMES) -> dict[str, BehavioralModel]:
    """{scheme: model} from DIR/<scheme>.json (as written by `netlistgen snr`/`accuracy`/`model`)."""
    directory = Path(directory)
    missing = [s for s in schemes if not (directory / f"{s}.json").is_file()]
    if missing:
        raise NetlistgenError(f"no behavioural model {str(directory / (missing[0] + '.json'))!r}")
    return {s: BehavioralModel.load(directory / f"{s}.json") for s in schemes}


def save_models(models: Mapping[str, BehavioralModel], directory: str | Path) -> list[Path]:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    return [m.save(directory / f"{s}.json") for s, m in models.items()]


def ideal_model(
    scheme: str,
    *,
    rows: int,
    gain_v_per_lsb: float = 1e-3,
    offset_v: float = 0.0,
    noise_sigma_v: float = 0.0,
    quadratic_per_v: float = 0.0,
    dv_v: float = 0.5 / 3,
    c_unit_f: float = 1e-15,
) -> BehavioralModel:
    """A model not fitted to SPICE: a straight line (plus an optional quadratic
    nonlinearity quadratic_per_v * (gain*y)^2) for what-if studies and tests."""
    from netlistgen.circuits.cells import get_cell
    from netlistgen.circuits.schemes import get_scheme

    sch = get_scheme(scheme)
    ps, cell = sch.pattern_set, sch.cell
    levels = get_cell(cell).default_levels
    rows = validate.integer(rows, "rows", minimum=1, maximum=4096)
    fs = float(rows * levels * max(ps.cap_ratios))
    c_total = c_unit_f * dv_v / gain_v_per_lsb
    columns = tuple(ColumnModel(
        index=i, bit_position=ps.base[i], gain_v_per_lsb=gain_v_per_lsb, offset_v=offset_v,
        inl_code_lsb=(0.0,), inl_residual_v=(0.0,),
        inl_poly_v=(0.0, quadratic_per_v * gain_v_per_lsb**2, 0.0, 0.0), c_total_f=c_total,
        noise_sigma_v=noise_sigma_v, full_scale_lsb=fs, spice_snr_db=math.inf,
    ) for i in range(ps.n_bits))
    return BehavioralModel(
        scheme=ps.name, patterns=ps.patterns, cell=cell, rows=rows, levels=levels, dv_v=dv_v, c_unit_f=c_unit_f,
        temperature_k=DEFAULT_TEMPERATURE_K, columns=columns,
        provenance={"source": "ideal_model (not fitted to SPICE)", "scheme": ps.name, "rows": rows},
    )
