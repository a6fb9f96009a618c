"""Macro-level energy, area and throughput around the simulated array (SPEC section 5a).

The SPICE column gives the array's own energy per GBL conversion; a macro adds an ADC
per `adc_share` GBLs and a digital shift-add accumulator per ADC. Per full-precision MAC:

    E_MAC = conversions/MAC x (E_array(R) + E_ADC(B, rate, node) + E_digital(B)) / R

with R rows accumulated per conversion and B the ADC bits chosen by a bit policy. The
choices that vary are registries of records: the schemes' conversion counts
(MACRO_SCHEMES, one table so it can later point at the cells registry), the ADC models
(ADC_MODELS: adding a model is one `register_adc_model` call), the bit policies
(BIT_POLICIES) and the area/throughput conventions (CONVENTIONS).

Everything is pure arithmetic on the facts `ArrayFacts` carries (from SPICE and the area
model, assembled by studies/paper.py), so it is cheap enough to sweep.
"""

from __future__ import annotations

import functools
import importlib.metadata
import importlib.util
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from netlistgen.circuits.cells import get_cell
from netlistgen.circuits.encoding import decode, get_pattern_set, input_cycles, quantize, split_input_digits
from netlistgen.core import validate
from netlistgen.core.errors import NetlistgenError

# --------------------------------------------------------------------------------------
# Schemes: what one conversion is and how many a full-precision MAC needs
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MacroScheme:
    """One column organisation of the comparison (SPEC section 5a)."""

    name: str
    pattern_set: str  # encoding preset of the weights (also the SPICE column simulated)
    cell: str  # a cell kind (circuits/cells.py): its input kind says binary or multi-level inputs
    input_bits: int  # unsigned (post-ReLU) input precision
    twos_complement: bool = False  # weight bits as two's complement (no sign bit)
    siu_levels: int = 3  # L of the ML-SIU: inputs in -L..L (ignored by the LCC)
    title: str = ""

    def __post_init__(self) -> None:
        validate.integer(self.input_bits, "input_bits", minimum=1, maximum=16)
        validate.integer(self.siu_levels, "siu_levels", minimum=1, maximum=16)
        get_cell(self.cell)  # one-line error for an unknown cell kind
        if self.twos_complement and len(get_pattern_set(self.pattern_set).patterns) != 1:
            raise NetlistgenError(f"two's complement needs a single-pattern set, not {self.pattern_set!r}")

    @property
    def binary_inputs(self) -> bool:
        return not get_cell(self.cell).input.signed

    @property
    def bit_cols(self) -> int:
        """GBL columns of one weight: magnitude bits (+1 for the two's-complement MSB)."""
        return get_pattern_set(self.pattern_set).n_bits + (1 if self.twos_complement else 0)

    @property
    def bits_per_weight(self) -> int:
        """SRAM bits stored per weight (magnitude + S, + P for two-pattern sets)."""
        ps = get_pattern_set(self.pattern_set)
        if self.twos_complement:
            return self.bit_cols
        return ps.n_bits + 1 + (1 if len(ps.patterns) == 2 else 0)

    @property
    def input_cycles(self) -> int:
        return input_cycles(self.binary_inputs, self.siu_levels, self.input_bits)

    @property
    def conversions_per_mac(self) -> int:
        return self.bit_cols * self.input_cycles

    def input_values(self) -> np.ndarray:
        """Every input level one row can take in one cycle."""
        if self.binary_inputs:
            return np.array([0, 1])
        return np.arange(-self.siu_levels, self.siu_levels + 1)

    def row_weight_values(self) -> np.ndarray:
        """Every signed capacitor weight one row puts on one bit column: 0 or
        (-1)^S * 2^k_P in sign-magnitude; 0 or 1 per bit in two's complement (the MSB's
        negative weight is applied digitally)."""
        if self.twos_complement:
            return np.array([0, 1])
        ratios = np.array(get_pattern_set(self.pattern_set).cap_ratios)
        return np.unique(np.concatenate(([0], ratios, -ratios)))

    def recombination_weights(self) -> np.ndarray:
        """|digital weight| of every conversion of one MAC (bit column x input cycle)."""
        ps = get_pattern_set(self.pattern_set)
        if self.twos_complement:
            bit_w = 2.0 ** np.arange(self.bit_cols)
        else:
            bit_w = 2.0 ** np.array(ps.patterns[0])
        if self.binary_inputs:
            cyc_w = 2.0 ** np.arange(self.input_cycles)
        else:
            cyc_w = float(2 * self.siu_levels + 1) ** np.arange(self.input_cycles)
        return np.outer(bit_w, cyc_w).ravel()

    def bit_planes(self, codes) -> np.ndarray:
        """(..., bit_cols) per-row weight every bit column sees for encoded weights:
        b * (-1)^S * 2^k_P in sign-magnitude; the unsigned bits of the value in two's
        complement (MSB first)."""
        if self.twos_complement:
            u = np.mod(decode(codes).astype(np.int64), 2**self.bit_cols)
            return np.stack([(u >> (self.bit_cols - 1 - i)) & 1 for i in range(self.bit_cols)], axis=-1)
        ratio = np.array(codes.pattern_set.cap_ratios, dtype=np.int64)[codes.pattern]
        return codes.bits.astype(np.int64) * np.where(codes.sign == 1, -ratio, ratio)[..., None]


# One table of the schemes compared (move to the cells registry when it lands).
MACRO_SCHEMES: dict[str, MacroScheme] = {
    s.name: s
    for s in (
        MacroScheme("int4", "int4", "lcc", 4, title="baseline 4-4 (sign-magnitude, 3 columns)"),
        MacroScheme("int4-2c", "int4", "lcc", 4, twos_complement=True, title="baseline 4-4 (two's complement, 4 columns)"),
        MacroScheme("int8", "int8", "lcc", 8, title="baseline 8-8 (sign-magnitude, 7 columns)"),
        MacroScheme("int8-2c", "int8", "lcc", 8, twos_complement=True, title="baseline 8-8 (two's complement, 8 columns)"),
        MacroScheme("zebra-i", "zebra-i", "mllcu", 8, title="ZEBRA I 8-8"),
        MacroScheme("zebra-ii", "zebra-ii", "mllcu", 8, title="ZEBRA II 8-8"),
    )
}


def get_scheme(name: str) -> MacroScheme:
    try:
        return MACRO_SCHEMES[name]
    except KeyError:
        raise NetlistgenError(f"unknown macro scheme {name!r}: expected one of {', '.join(MACRO_SCHEMES)}") from None


# --------------------------------------------------------------------------------------
# ADC bits: levels from the encoding and the bit policies
# --------------------------------------------------------------------------------------


def column_levels(scheme: MacroScheme, rows: int) -> int:
    """ADC levels that resolve every value one bit column of `rows` rows can take:
    (max - min) / unit step + 1 of the sum of per-row products (input level x weight)."""
    validate.integer(rows, "rows", minimum=1, maximum=65536)
    per_row = np.unique(np.outer(scheme.input_values(), scheme.row_weight_values()))
    step = int(np.gcd.reduce(np.abs(per_row[per_row != 0]).astype(np.int64)))
    return int((per_row.max() - per_row.min()) * rows // step + 1)


def bits_for_levels(levels: int) -> int:
    return max(1, math.ceil(math.log2(levels)))


@dataclass(frozen=True)
class Workload:
    """The realistic workload of the `stat` policy."""

    weights: str = "gaussian"  # "gaussian" or "laplacian" weights, quantized by the scheme's encoder
    k_sigma: float = 3.0  # the ADC clips at +-k sigma of the column partial sums
    vectors: int = 256  # post-ReLU input vectors (ReLU of unit Gaussians, max-abs quantized)
    outputs: int = 32  # weight columns drawn
    seed: int = 0

    def __post_init__(self) -> None:
        if self.weights not in ("gaussian", "laplacian"):
            raise NetlistgenError(f"invalid workload weights {self.weights!r}: expected 'gaussian' or 'laplacian'")
        validate.number(self.k_sigma, "k_sigma", minimum=0.5, maximum=20.0)
        validate.integer(self.vectors, "vectors", minimum=8, maximum=100000)
        validate.integer(self.outputs, "outputs", minimum=1, maximum=4096)
        validate.integer(self.seed, "seed", minimum=0, maximum=2**31)


def column_sum_sigma(scheme: MacroScheme, rows: int, workload: Workload = Workload()) -> np.ndarray:
    """Standard deviation (in unit steps) of each bit column's partial sums on `workload`:
    weights through the scheme's encoder, post-ReLU inputs through its input digits."""
    rng = np.random.default_rng(workload.seed)
    shape = (rows, workload.outputs)
    w = rng.normal(size=shape) if workload.weights == "gaussian" else rng.laplace(size=shape)
    planes = scheme.bit_planes(quantize(w, get_pattern_set(scheme.pattern_set), clip="mse").codes)
    x = np.maximum(rng.normal(size=(workload.vectors, rows)), 0.0)
    top = 2**scheme.input_bits - 1
    a = np.rint(x / max(float(x.max()), 1e-30) * top).astype(np.int64)
    digits, _ = split_input_digits(a, scheme.binary_inputs, scheme.siu_levels, scheme.input_bits)
    y = np.einsum("cvr,rob->cvob", digits, planes)  # (cycles, vectors, outputs, bit_cols)
    return y.reshape(-1, scheme.bit_cols).std(axis=0)


@dataclass(frozen=True)
class PolicyParams:
    """Parameters of the bit policies."""

    same_bits: int | None = None  # `same`: None = lossless bits of the 1b x 1b LCC column (R+1 levels)
    workload: Workload = Workload()

    def __post_init__(self) -> None:
        if self.same_bits is not None:
            validate.integer(self.same_bits, "same_bits", minimum=1, maximum=24)


@dataclass(frozen=True)
class BitPolicy:
    name: str
    description: str
    bits: Callable[[MacroScheme, int, PolicyParams], int]


def _same_bits(scheme: MacroScheme, rows: int, p: PolicyParams) -> int:
    return p.same_bits if p.same_bits is not None else bits_for_levels(column_levels(MACRO_SCHEMES["int8-2c"], rows))


def _lossless_bits(scheme: MacroScheme, rows: int, p: PolicyParams) -> int:
    return bits_for_levels(column_levels(scheme, rows))


@functools.lru_cache(maxsize=256)
def _stat_bits_cached(scheme: MacroScheme, rows: int, workload: Workload) -> int:
    sigma = column_sum_sigma(scheme, rows, workload)
    levels = 2.0 * workload.k_sigma * float(sigma.max()) + 1.0
    return min(bits_for_levels(math.ceil(levels)), _lossless_bits(scheme, rows, PolicyParams()))


def _stat_bits(scheme: MacroScheme, rows: int, p: PolicyParams) -> int:
    return _stat_bits_cached(scheme, rows, p.workload)


BIT_POLICIES: dict[str, BitPolicy] = {
    p.name: p
    for p in (
        BitPolicy("same", "one B for every scheme (the seeds' implicit choice): by default the lossless bits of a "
                  "1b x 1b LCC column, ceil(log2(R+1))", _same_bits),
        BitPolicy("lossless", "B = ceil(log2(levels)) resolves every value the column can take (levels from the "
                  "encoding: input levels x signed capacitor weights, summed over R rows)", _lossless_bits),
        BitPolicy("stat", "B clips at +-k sigma of the column partial sums of a workload (Gaussian/Laplacian weights "
                  "through the scheme's encoder, post-ReLU inputs through its input digits), LSB = one unit step; "
                  "never above lossless", _stat_bits),
    )
}


def adc_bits(policy: str, scheme: str | MacroScheme, rows: int, params: PolicyParams = PolicyParams()) -> int:
    """ADC bits of one bit column of `scheme` with `rows` rows under `policy`."""
    try:
        pol = BIT_POLICIES[policy]
    except KeyError:
        raise NetlistgenError(f"unknown ADC-bit policy {policy!r}: expected one of {', '.join(BIT_POLICIES)}") from None
    sch = scheme if isinstance(scheme, MacroScheme) else get_scheme(scheme)
    validate.integer(rows, "rows", minimum=1, maximum=65536)
    return int(pol.bits(sch, rows, params))


# --------------------------------------------------------------------------------------
# ADC models
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AdcQuery:
    """What an ADC model is asked: one ADC's resolution, conversion rate and process."""

    bits: int
    rate_hz: float  # conversions per second of this one ADC
    node_m: float  # feature size of the process
    vdd_v: float
    transistor_area_m2: float  # one minimum-size logic transistor (transistor-count area models)

    def __post_init__(self) -> None:
        validate.integer(self.bits, "adc bits", minimum=1, maximum=24)
        validate.number(self.rate_hz, "rate_hz", minimum=0.0, exclusive_minimum=True)
        validate.number(self.node_m, "node_m", minimum=1e-9, maximum=1e-5)
        validate.number(self.vdd_v, "vdd_v", minimum=0.1, maximum=10.0)
        validate.number(self.transistor_area_m2, "transistor_area_m2", minimum=0.0, exclusive_minimum=True)


@dataclass(frozen=True)
class AdcModel:
    """One ADC energy/area model: a record of the registry."""

    name: str
    source: str  # citation shown in the report
    assumptions: str  # the parameters it was used with
    energy_j: Callable[[AdcQuery], float]  # per conversion
    area_m2: Callable[[AdcQuery], float]  # one ADC
    # compared in every report: True for closed-form fits (microseconds), False for a model
    # that simulates (it is evaluated only when it is the chosen model)
    always_compared: bool = True


ADC_MODELS: dict[str, AdcModel] = {}


def compared_adc_models(chosen: str) -> tuple[str, ...]:
    """The models a report compares: every cheap one plus the chosen one (in registry order),
    so what a report contains never depends on which modules happened to be imported."""
    return tuple(n for n, m in ADC_MODELS.items() if m.always_compared or n == chosen)


def register_adc_model(model: AdcModel) -> AdcModel:
    """Add (or replace) an ADC model record; this is all a new model needs."""
    if not isinstance(model, AdcModel) or not model.name:
        raise NetlistgenError(f"invalid ADC model record {model!r}")
    ADC_MODELS[model.name] = model
    return model


def get_adc_model(name: str, *, check: bool = False) -> AdcModel:
    """The registered model `name`; check=True also evaluates a closed-form model once, so a
    model whose data is not installed fails here (before any simulation) with its own message.
    A simulating model is not probed: the probe would be a whole SAR characterization."""
    try:
        model = ADC_MODELS[name]
    except KeyError:
        raise NetlistgenError(f"unknown ADC model {name!r}: expected one of {', '.join(ADC_MODELS)}") from None
    if check and model.always_compared:
        probe = AdcQuery(bits=8, rate_hz=1e8, node_m=45e-9, vdd_v=1.0, transistor_area_m2=1e-13)
        model.energy_j(probe)
        model.area_m2(probe)
    return model


# hwcomponents-adc (Accelergy / CiMLoop; T. Andrulis et al., arXiv:2404.06553), fitted to
# B. Murmann's ADC Performance Survey 1997-2023. Its ADC class needs Python >= 3.12 (its
# `hwcomponents` base package uses 3.12 syntax); below 3.12 the same fitted model file
# shipped in the pinned wheel is evaluated with the library's published equations.
HWC_PACKAGE = "hwcomponents-adc"
HWC_VERSION = "1.0.21"
HWC_INSTALL = f"pip install --no-deps --ignore-requires-python {HWC_PACKAGE}=={HWC_VERSION}"


def _hwc_library_class():
    """The library's own ADC class where it can be imported (Python >= 3.12), else None."""
    if sys.version_info < (3, 12):
        return None
    try:
        from hwcomponents_adc import ADC  # type: ignore[import-not-found]
    except ImportError:
        return None
    return ADC


@functools.lru_cache(maxsize=1)
def hwc_fit() -> dict:
    """The pinned hwcomponents-adc's fitted model (adc_data/model.yaml), read without
    importing the package (its __init__ needs Python >= 3.12)."""
    import yaml

    try:
        version = importlib.metadata.version(HWC_PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        raise NetlistgenError(f"ADC model 'hwcomponents' needs {HWC_PACKAGE}=={HWC_VERSION}: {HWC_INSTALL}") from None
    if version != HWC_VERSION:
        raise NetlistgenError(f"ADC model 'hwcomponents' is pinned to {HWC_PACKAGE}=={HWC_VERSION}, found {version}: "
                              f"{HWC_INSTALL}")
    spec = importlib.util.find_spec("hwcomponents_adc")
    if spec is None or not spec.submodule_search_locations:
        raise NetlistgenError(f"{HWC_PACKAGE} is registered but its files are missing: {HWC_INSTALL}")
    path = Path(next(iter(spec.submodule_search_locations))) / "adc_data" / "model.yaml"
    try:
        return yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise NetlistgenError(f"cannot read {HWC_PACKAGE}'s model {str(path)!r}: {exc}") from None


def hwc_energy_pj(bits: float, node_nm: float, rate_hz: float, fit: dict) -> float:
    """Energy per conversion (pJ) of the hwcomponents-adc fit: the Schreier FOM bounded by
    rate (a line in log f) and by resolution (a table per ENOB), turned into energy at the
    SNDR of `bits`, times the fitted process/resolution correction."""
    foms_fit = fit["FOMS_hf [dB]"]
    foms = foms_fit["intercept"] + foms_fit["frequency (Hz)"] * math.log(rate_hz)
    by_enob = foms_fit["max_by_enob"]
    foms = min(foms, by_enob[max(min(math.ceil(bits), len(by_enob) - 1), 0)])
    sndr_db = 20 * math.log10(2) * bits + 10 * math.log10(1.5)
    energy = 0.5 / 10 ** ((foms - sndr_db) / 10)
    return energy * math.exp(foms_fit["tech intercept"] + foms_fit["tech slope"] * math.log(node_nm)
                             + foms_fit["enob slope"] * math.log(bits) + foms_fit["energy (pJ/op) res"])


def hwc_area_um2(bits: float, node_nm: float, rate_hz: float, fit: dict) -> float:
    """Area (um^2) of one ADC of the hwcomponents-adc fit: a log-linear regression on
    process, rate and the energy per conversion."""
    a = fit["area (um^2)"]
    e_pj = hwc_energy_pj(bits, node_nm, rate_hz, fit)
    return math.exp(a["intercept"] + a["tech node (nm)"] * math.log(node_nm) + a["frequency (Hz)"] * math.log(rate_hz)
                    + a["energy (pJ/op)"] * math.log(e_pj))


HWC_MIN_BITS = 4  # the library models 4 bits or more; fewer are costed as a 4-bit ADC


def _hwc_energy(q: AdcQuery) -> float:
    bits = max(q.bits, HWC_MIN_BITS)
    lib = _hwc_library_class()
    if lib is not None:
        return float(lib(n_bits=bits, tech_node=q.node_m, throughput=q.rate_hz).get_energy())
    return hwc_energy_pj(bits, q.node_m * 1e9, q.rate_hz, hwc_fit()) * 1e-12


def _hwc_area(q: AdcQuery) -> float:
    bits = max(q.bits, HWC_MIN_BITS)
    lib = _hwc_library_class()
    if lib is not None:
        return float(lib(n_bits=bits, tech_node=q.node_m, throughput=q.rate_hz).area)
    return hwc_area_um2(bits, q.node_m * 1e9, q.rate_hz, hwc_fit()) * 1e-12


register_adc_model(AdcModel(
    name="hwcomponents",
    source=f"{HWC_PACKAGE}=={HWC_VERSION} (Accelergy/CiMLoop, T. Andrulis et al., arXiv:2404.06553; MIT), "
           "fitted to B. Murmann, ADC Performance Survey 1997-2023: the best (optimistic) ADC for the bits, rate "
           "and node; energy includes its 20 % leakage share",
    assumptions="tech node = the technology's minimum channel length; rate = this ADC's conversions per second; "
                "fewer than 4 bits costed as 4 (the library's lower limit)",
    energy_j=_hwc_energy,
    area_m2=_hwc_area,
))

# NeuroSim SAR ADC (DNN+NeuroSim V1.3, SarADC.cpp; X. Peng, S. Huang, H. Jiang, A. Lu,
# S. Yu, IEEE TCAD 2021): power (a_node * log2(levels) + b_node) uW over (log2(levels)+1)
# cycles of 1 ns; area from its transistor counts (NMOS 269 + 109 per extra bit, PMOS
# 209 + 73 per extra bit) of minimum-size devices. Coefficients (uW) of its HP roadmap,
# per node in nm; the resistive-column term does not apply to a capacitive GBL.
NEUROSIM_SAR_HP_UW = {
    130: (6.4806, 49.047), 90: (4.3474, 31.782), 65: (2.9503, 22.047), 45: (2.1843, 11.931),
    32: (1.0157, 7.6286), 22: (0.7213, 3.3041), 14: (0.4710, 1.9529), 10: (0.3076, 1.1543), 7: (0.2008, 0.6823),
}
NEUROSIM_CYCLE_S = 1e-9


def neurosim_node_nm(node_m: float) -> int:
    """NeuroSim's tabulated node nearest (in log scale) to `node_m`."""
    return min(NEUROSIM_SAR_HP_UW, key=lambda n: abs(math.log(n * 1e-9 / node_m)))


def _neurosim_energy(q: AdcQuery) -> float:
    a_uw, b_uw = NEUROSIM_SAR_HP_UW[neurosim_node_nm(q.node_m)]
    return (a_uw * q.bits + b_uw) * 1e-6 * (q.bits + 1) * NEUROSIM_CYCLE_S


def _neurosim_area(q: AdcQuery) -> float:
    n_devices = (269 + (q.bits - 1) * 109) + (209 + (q.bits - 1) * 73)
    return n_devices * q.transistor_area_m2


register_adc_model(AdcModel(
    name="neurosim",
    source="NeuroSim SAR ADC (DNN+NeuroSim V1.3 SarADC.cpp, Peng et al., IEEE TCAD 2021): fitted power "
           "(a*B + b) uW at its nearest tabulated node (HP) over B+1 cycles of 1 ns; area from its transistor counts",
    assumptions="nearest NeuroSim node to the technology's channel length; devices at the technology's "
                "minimum W x L area; no resistive-column term (capacitive GBL)",
    energy_j=_neurosim_energy,
    area_m2=_neurosim_area,
))

# Walden figure of merit: E = FOM_W * 2^B. 18 fJ/conversion-step is the median Walden FOM
# (energy / 2^ENOB) of the 95 designs at 20-65 nm and <= 1 GS/s in the Murmann survey
# snapshot shipped with hwcomponents-adc 1.0.21 (its 10th percentile: 2.6 fJ/step).
WALDEN_FOM_J = 18e-15


def _walden_energy(q: AdcQuery) -> float:
    return WALDEN_FOM_J * 2.0**q.bits


register_adc_model(AdcModel(
    name="walden",
    source="Walden figure of merit E = FOM_W * 2^B (R. H. Walden, IEEE JSAC 1999), FOM_W = 18 fJ/conv-step "
           "(median of the 20-65 nm, <= 1 GS/s designs of the Murmann survey); area as the NeuroSim SAR",
    assumptions="FOM_W independent of rate and node",
    energy_j=_walden_energy,
    area_m2=_neurosim_area,
))


# --------------------------------------------------------------------------------------
# Macro parameters, array facts and the model itself
# --------------------------------------------------------------------------------------

# Digital shift-add: a 32-bit add costs 0.1 pJ at 45 nm, 0.9 V (M. Horowitz, "Computing's
# energy problem", ISSCC 2014), i.e. 3.1 fJ per bit; scaled by node x VDD^2.
E_ADD_BIT_REF_J = 0.1e-12 / 32
E_ADD_REF_NODE_M = 45e-9
E_ADD_REF_VDD_V = 0.9
# Transistors per accumulator bit: a 28-T mirror full adder + a 24-T static flip-flop.
DIGITAL_TRANSISTORS_PER_BIT = 28 + 24


@dataclass(frozen=True)
class MacroParams:
    """How the macro around the array is built (units in names)."""

    rows: int = 16  # R: rows accumulated per conversion
    adc_share: int = 8  # k: GBLs per ADC (converted one after another)
    gbl_columns: int = 256  # computing columns (GBLs) of the fixed-columns convention
    sram_bits: int = 2**20  # SRAM capacity of the fixed-SRAM convention
    sram_rows_per_cell: int = 16  # SRAM rows per computing cell (area only)
    t_comparator_s: float = 1e-9  # one SAR bit cycle: a conversion takes (B+1) of them
    register_overhead: float = 1.0  # accumulator register write per bit, in add-bit energies
    adc_energy_scale: float = 1.0  # 0 removes the ADC energy (array-only check)
    digital_energy_scale: float = 1.0  # 0 removes the shift-add energy

    def __post_init__(self) -> None:
        validate.integer(self.rows, "rows", minimum=1, maximum=4096)
        validate.integer(self.adc_share, "adc_share", minimum=1, maximum=4096)
        validate.integer(self.gbl_columns, "gbl_columns", minimum=1, maximum=1 << 20)
        validate.integer(self.sram_bits, "sram_bits", minimum=1024, maximum=2**34)
        validate.integer(self.sram_rows_per_cell, "sram_rows_per_cell", minimum=1, maximum=64)
        validate.number(self.t_comparator_s, "t_comparator_s", minimum=1e-13, maximum=1e-3)
        for name in ("register_overhead", "adc_energy_scale", "digital_energy_scale"):
            validate.number(getattr(self, name), name, minimum=0.0, maximum=1e6)


@dataclass(frozen=True)
class ArrayFacts:
    """What SPICE and the area model say about one scheme's column (SI units)."""

    scheme: str  # MACRO_SCHEMES key
    rows_simulated: int
    e_conv_fixed_j: float  # per GBL conversion, independent of rows (GBL reset/sample control)
    e_conv_per_row_j: float  # per GBL conversion and accumulated row (inputs, cells, plates)
    area_per_gbl_row_m2: float  # one row of one GBL: its computing cell, SRAM share, row select
    area_gbl_fixed_m2: float  # one GBL's reset/sample switches and sample capacitor
    area_driver_per_row_gbl_m2: float  # input driver of one row, per GBL it drives (sized to its load)
    t_array_s: float  # compute cycle of the array (reset, settle, sample)
    node_m: float
    vdd_v: float
    transistor_area_m2: float  # one minimum-size logic transistor

    def __post_init__(self) -> None:
        get_scheme(self.scheme)
        for name in ("e_conv_fixed_j", "e_conv_per_row_j", "area_per_gbl_row_m2", "area_gbl_fixed_m2",
                     "area_driver_per_row_gbl_m2"):
            validate.number(getattr(self, name), name, minimum=0.0)
        for name in ("t_array_s", "node_m", "vdd_v", "transistor_area_m2"):
            validate.number(getattr(self, name), name, minimum=0.0, exclusive_minimum=True)

    def e_array_conv_j(self, rows: int) -> float:
        """Array energy of one conversion at `rows` rows (per-row part scaled linearly)."""
        return self.e_conv_fixed_j + self.e_conv_per_row_j * rows


def fixed_columns(scheme: MacroScheme, params: MacroParams) -> int:
    """The seeds' convention: every scheme gets the same number of GBLs (whole weights)."""
    return max(1, params.gbl_columns // scheme.bit_cols) * scheme.bit_cols


def fixed_sram(scheme: MacroScheme, params: MacroParams) -> int:
    """Every scheme stores params.sram_bits: weight columns = weights / (R x sharing)."""
    weights = params.sram_bits // scheme.bits_per_weight
    return max(1, weights // (params.rows * params.sram_rows_per_cell)) * scheme.bit_cols


CONVENTIONS: dict[str, tuple[str, Callable[[MacroScheme, MacroParams], int]]] = {
    "fixed-columns": ("same number of computing columns (GBLs) and rows for every scheme (the seeds' convention)",
                      fixed_columns),
    "fixed-sram": ("same SRAM capacity for every scheme, weights counted (the paper report's macro)", fixed_sram),
}


def accumulator_bits(scheme: MacroScheme, bits: int) -> int:
    """Width of the shift-add accumulator: B plus the growth of the recombined sum."""
    return bits + math.ceil(math.log2(float(scheme.recombination_weights().sum())))


@dataclass(frozen=True)
class MacroResult:
    """One scheme's macro under one ADC model, bit policy and convention (SI units)."""

    scheme: str
    convention: str
    adc_model: str
    bits: int
    rows: int
    adc_share: int
    gbls: int
    adcs: int
    conversions_per_mac: int
    t_cycle_s: float
    adc_rate_hz: float
    e_mac_array_j: float
    e_mac_adc_j: float
    e_mac_digital_j: float
    area_array_m2: float
    area_drivers_m2: float
    area_adc_m2: float
    area_digital_m2: float

    @property
    def e_mac_j(self) -> float:
        return self.e_mac_array_j + self.e_mac_adc_j + self.e_mac_digital_j

    @property
    def tops_per_w(self) -> float:
        return 2.0 / self.e_mac_j / 1e12

    @property
    def area_m2(self) -> float:
        return self.area_array_m2 + self.area_drivers_m2 + self.area_adc_m2 + self.area_digital_m2

    @property
    def macs_per_s(self) -> float:
        return self.gbls * self.rows / (self.conversions_per_mac * self.t_cycle_s)

    @property
    def gops_per_mm2(self) -> float:
        return 2.0 * self.macs_per_s / 1e9 / (self.area_m2 * 1e6)

    def to_dict(self) -> dict:
        return {
            "bits": self.bits, "gbls": self.gbls, "adcs": self.adcs, "conversions_per_mac": self.conversions_per_mac,
            "cycle_time_ns": self.t_cycle_s * 1e9, "adc_rate_mhz": self.adc_rate_hz / 1e6,
            "tops_per_w": self.tops_per_w, "gops_per_mm2": self.gops_per_mm2,
            "energy_per_mac_fj": {"array": self.e_mac_array_j * 1e15, "adc": self.e_mac_adc_j * 1e15,
                                  "digital": self.e_mac_digital_j * 1e15, "total": self.e_mac_j * 1e15},
            "area_mm2": {"array": self.area_array_m2 * 1e6, "row drivers": self.area_drivers_m2 * 1e6,
                         "adc": self.area_adc_m2 * 1e6, "digital": self.area_digital_m2 * 1e6,
                         "total": self.area_m2 * 1e6},
        }


def evaluate(facts: ArrayFacts, params: MacroParams, *, adc_model: str, bits: int,
             convention: str = "fixed-columns") -> MacroResult:
    """Energy, area and throughput of one scheme's macro (see the module doc)."""
    scheme = get_scheme(facts.scheme)
    model = get_adc_model(adc_model)
    try:
        _, gbls_of = CONVENTIONS[convention]
    except KeyError:
        raise NetlistgenError(f"unknown convention {convention!r}: expected one of {', '.join(CONVENTIONS)}") from None
    validate.integer(bits, "adc bits", minimum=1, maximum=24)
    rows, k = params.rows, params.adc_share
    gbls = gbls_of(scheme, params)
    adcs = math.ceil(gbls / k)
    t_conv = (bits + 1) * params.t_comparator_s
    t_cycle = max(facts.t_array_s, k * t_conv)  # the ADC converts its k GBLs while the array computes
    rate = k / t_cycle
    q = AdcQuery(bits=bits, rate_hz=rate, node_m=facts.node_m, vdd_v=facts.vdd_v,
                 transistor_area_m2=facts.transistor_area_m2)
    e_adc = model.energy_j(q) * params.adc_energy_scale
    acc_bits = accumulator_bits(scheme, bits)
    e_add_bit = E_ADD_BIT_REF_J * (facts.node_m / E_ADD_REF_NODE_M) * (facts.vdd_v / E_ADD_REF_VDD_V) ** 2
    e_dig = acc_bits * e_add_bit * (1.0 + params.register_overhead) * params.digital_energy_scale
    per_mac = scheme.conversions_per_mac / rows
    return MacroResult(
        scheme=scheme.name, convention=convention, adc_model=model.name, bits=bits, rows=rows, adc_share=k,
        gbls=gbls, adcs=adcs, conversions_per_mac=scheme.conversions_per_mac, t_cycle_s=t_cycle, adc_rate_hz=rate,
        e_mac_array_j=per_mac * facts.e_array_conv_j(rows),
        e_mac_adc_j=per_mac * e_adc,
        e_mac_digital_j=per_mac * e_dig,
        area_array_m2=gbls * (rows * facts.area_per_gbl_row_m2 + facts.area_gbl_fixed_m2),
        area_drivers_m2=rows * gbls * facts.area_driver_per_row_gbl_m2,
        area_adc_m2=adcs * model.area_m2(q),
        area_digital_m2=adcs * acc_bits * DIGITAL_TRANSISTORS_PER_BIT * facts.transistor_area_m2,
    )


# --------------------------------------------------------------------------------------
# The study the paper report shows
# --------------------------------------------------------------------------------------

BASELINES = ("int8", "int8-2c")
ZEBRAS = ("zebra-i", "zebra-ii")
SEEDS_TOPS_RATIO = {"zebra-i": 64.3 / 15.9, "zebra-ii": 64.6 / 15.9}
SEEDS_GOPS_RATIO = {"zebra-i": 346.0 / 95.25, "zebra-ii": 367.0 / 95.25}
SEEDS_AREA_RATIO = {"zebra-i": 0.36 / 0.32, "zebra-ii": 0.34 / 0.32}  # macro areas, same computing columns
SWEEP_ROWS = (16, 32, 64, 128, 256)
SWEEP_BITS = tuple(range(4, 13))


def _ratios(results: dict[str, MacroResult], sram: dict[str, MacroResult]) -> dict:
    out = {}
    for z in ZEBRAS:
        for b in BASELINES:
            if z in results and b in results:
                out[f"{z}/{b}"] = {
                    "tops_per_w": results[z].tops_per_w / results[b].tops_per_w,
                    "gops_per_mm2": results[z].gops_per_mm2 / results[b].gops_per_mm2,
                    "gops_per_mm2_fixed_sram": sram[z].gops_per_mm2 / sram[b].gops_per_mm2,
                }
    return out


def policy_block(facts: dict[str, ArrayFacts], params: MacroParams, adc_model: str, policy: str,
                 pparams: PolicyParams = PolicyParams()) -> dict:
    """Per scheme TOPS/W, GOPS/mm^2 (both conventions) and breakdowns; ZEBRA/baseline ratios."""
    cols, sram = {}, {}
    for name in facts:
        b = adc_bits(policy, name, params.rows, pparams)
        cols[name] = evaluate(facts[name], params, adc_model=adc_model, bits=b, convention="fixed-columns")
        sram[name] = evaluate(facts[name], params, adc_model=adc_model, bits=b, convention="fixed-sram")
    schemes = {}
    for name in facts:
        d = cols[name].to_dict()
        d["gops_per_mm2_fixed_sram"] = sram[name].gops_per_mm2
        d["area_mm2_fixed_sram"] = sram[name].area_m2 * 1e6
        schemes[name] = d
    return {"bits": {n: cols[n].bits for n in facts}, "schemes": schemes, "ratios": _ratios(cols, sram)}


def sweep(facts: dict[str, ArrayFacts], params: MacroParams, models: tuple[str, ...], policies: tuple[str, ...],
          pparams: PolicyParams = PolicyParams(), pair: tuple[str, str] = ("zebra-i", "int8-2c")) -> dict:
    """ZEBRA/baseline TOPS/W ratio against rows (per policy and model) and against the
    common ADC bits (policy same, per model)."""
    z, b = pair
    by_rows: dict[str, list] = {}
    for model in models:
        for policy in policies:
            ys = []
            for rows in SWEEP_ROWS:
                p = replace(params, rows=rows)
                rz = evaluate(facts[z], p, adc_model=model, bits=adc_bits(policy, z, rows, pparams))
                rb = evaluate(facts[b], p, adc_model=model, bits=adc_bits(policy, b, rows, pparams))
                ys.append(rz.tops_per_w / rb.tops_per_w)
            by_rows[f"{policy} / {model}"] = ys
    by_bits: dict[str, list] = {}
    for model in models:
        ys = []
        for bits in SWEEP_BITS:
            rz = evaluate(facts[z], params, adc_model=model, bits=bits)
            rb = evaluate(facts[b], params, adc_model=model, bits=bits)
            ys.append(rz.tops_per_w / rb.tops_per_w)
        by_bits[f"same / {model}"] = ys
    return {"pair": f"{z}/{b}", "rows": list(SWEEP_ROWS), "ratio_vs_rows": by_rows,
            "bits": list(SWEEP_BITS), "ratio_vs_bits": by_bits, "rows_at_bits": params.rows}


def seeds_check(facts: dict[str, ArrayFacts], params: MacroParams, models: tuple[str, ...],
                pparams: PolicyParams = PolicyParams(), rows_list: tuple[int, ...] = (16, 32)) -> list[dict]:
    """Policy `same` against the seeds' 4.04/4.06 (TOPS/W, within 10 %) and 3.63/3.85
    (GOPS/mm^2 at fixed columns, within 15 %), for both baselines."""
    out = []
    for model in models:
        for rows in rows_list:
            p = replace(params, rows=rows)
            for base in BASELINES:
                rb = evaluate(facts[base], p, adc_model=model, bits=adc_bits("same", base, rows, pparams))
                for z in ZEBRAS:
                    rz = evaluate(facts[z], p, adc_model=model, bits=adc_bits("same", z, rows, pparams))
                    tops = rz.tops_per_w / rb.tops_per_w
                    gops = rz.gops_per_mm2 / rb.gops_per_mm2
                    out.append({
                        "adc_model": model, "rows": rows, "pair": f"{z}/{base}", "bits": rz.bits,
                        "tops_per_w": tops, "seeds_tops_per_w": SEEDS_TOPS_RATIO[z],
                        "tops_within_10pct": abs(tops / SEEDS_TOPS_RATIO[z] - 1) <= 0.10,
                        "gops_per_mm2": gops, "seeds_gops_per_mm2": SEEDS_GOPS_RATIO[z],
                        "gops_within_15pct": abs(gops / SEEDS_GOPS_RATIO[z] - 1) <= 0.15,
                        "adc_share_of_baseline_energy": rb.e_mac_adc_j / rb.e_mac_j,
                        "area_ratio": rz.area_m2 / rb.area_m2, "seeds_area_ratio": SEEDS_AREA_RATIO[z],
                    })
    return out
