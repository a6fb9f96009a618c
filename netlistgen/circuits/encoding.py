"""ZEBRA weight encoding: pattern sets, the nearest-value encoder and the ideal MAC.

This module is the ideal reference of SPEC section 2. Every SPICE measurement is
compared with `ideal_column_mac`, so it is written for exactness, not speed tricks:

- A *pattern set* lists the bit positions a weight may use. Pattern j is pattern 0
  shifted left by k_j bits; the hardware realises the factor 2**k_j as a coupling
  capacitor C_j = 2**k_j * C1, so a set that is not a shift family cannot be built.
- A *code* is sign-magnitude (S, P, b[0..n-1], MSB first): value
  (-1)**S * sum_i b_i * 2**pattern[P][i]. Zero is S=0 so it sits at VCM.
- The encoder looks the nearest value up in a sorted table of every representable
  value, which handles Option I (range/resolution) and Option II (alternating) alike;
  no threshold rule is assumed.

Integer units: "integer value" means units of the LSB 2**0 of pattern 0's grid; a
quantized tensor's `scale` converts them to real units (real = integer * scale).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from netlistgen.circuits.schemes import SCHEMES
from netlistgen.core import validate
from netlistgen.core.config import check_keys, read_document
from netlistgen.core.errors import NetlistgenError
from netlistgen.core.suggest import did_you_mean

__all__ = [
    "PatternSet",
    "PRESETS",
    "PATTERN_SET_NAME_RE",
    "MAX_POSITION",
    "MAX_BITS",
    "get_pattern_set",
    "load_pattern_sets",
    "Codes",
    "encode_int",
    "decode",
    "QuantizedTensor",
    "quantize",
    "ideal_column_mac",
    "recombine",
    "bit_columns",
    "sqnr_db",
    "sqnr_report",
]

# Names are the CLI/config spelling (`zebra-i`), so '-' is allowed; netlists use
# `spice_name`. No spaces, dots or newlines: names reach comments and manifests.
PATTERN_SET_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$")
# Largest bit position: keeps every magnitude below 2**31 and every product in int64.
MAX_POSITION = 30
# Largest pattern length: the encoder table holds len(patterns) * 2**n magnitudes, and
# a weight with more than 16 physical bit columns is not a design anyone would build.
MAX_BITS = 16

GRANULARITIES = ("per-tensor", "per-channel")
CLIP_METHODS = ("max-abs", "mse")
# Clipping ratios tried by the MSE search, largest first so ties keep less clipping.
MSE_CLIP_RATIOS = np.linspace(1.0, 0.2, 129)[:-1]  # 128 ratios in (0.2, 1]


# --------------------------------------------------------------------------- pattern sets


def _check_name(name: object) -> str:
    """Validate a pattern-set name with the strict CLI/config pattern."""
    if not isinstance(name, str) or not PATTERN_SET_NAME_RE.match(name):
        raise NetlistgenError(
            f"invalid pattern set name {name!r}: must match {PATTERN_SET_NAME_RE.pattern}"
        )
    return name


def _is_sequence(value: object) -> bool:
    return isinstance(value, (list, tuple, np.ndarray))


def _position(value: object, what: str) -> int:
    """One bit position: a true integer (no bools, strings or 3.0) in 0..MAX_POSITION."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise NetlistgenError(f"invalid {what} {value!r}: expected an integer")
    return validate.integer(int(value), what, minimum=0, maximum=MAX_POSITION)


@dataclass(frozen=True)
class PatternSet:
    """A named shift family of bit-position patterns (most significant position first).

    Validated at construction so a bad set fails where the user wrote it, not as a
    wrong capacitor ratio in a netlist.
    """

    name: str
    patterns: tuple[tuple[int, ...], ...]

    def __post_init__(self) -> None:
        name = _check_name(self.name)
        label = f"pattern set {name!r}"
        if not _is_sequence(self.patterns):
            raise NetlistgenError(f"{label}: patterns {self.patterns!r} must be a list of patterns")
        if len(self.patterns) == 0:
            raise NetlistgenError(f"{label}: patterns {self.patterns!r} must hold at least one pattern")
        normalised: list[tuple[int, ...]] = []
        for j, raw in enumerate(self.patterns):
            if not _is_sequence(raw):
                raise NetlistgenError(f"{label}: pattern {j} {raw!r} must be a list of bit positions")
            pattern = tuple(_position(v, f"bit position in {label} pattern {j}") for v in raw)
            if len(pattern) == 0:
                raise NetlistgenError(f"{label}: pattern {j} () must hold at least one bit position")
            if len(pattern) > MAX_BITS:
                raise NetlistgenError(
                    f"{label}: pattern {j} {pattern} has {len(pattern)} bit positions; "
                    f"at most {MAX_BITS} are supported"
                )
            if any(a <= b for a, b in zip(pattern, pattern[1:])):
                raise NetlistgenError(
                    f"{label}: pattern {j} {pattern} must list bit positions strictly decreasing "
                    "(most significant first)"
                )
            normalised.append(pattern)
        base = normalised[0]
        for j, pattern in enumerate(normalised[1:], start=1):
            if len(pattern) != len(base):
                raise NetlistgenError(
                    f"{label}: pattern {j} {pattern} has {len(pattern)} bit positions but "
                    f"pattern 0 {base} has {len(base)}"
                )
            offsets = {p - b for p, b in zip(pattern, base)}
            if len(offsets) != 1:
                raise NetlistgenError(
                    f"{label}: pattern {j} {pattern} is not pattern 0 {base} shifted by a constant"
                )
            (shift,) = offsets
            if shift < 0:
                raise NetlistgenError(
                    f"{label}: pattern {j} {pattern} is pattern 0 {base} shifted by {shift}; "
                    "shifts must be >= 0 (list the least significant pattern first)"
                )
            if pattern in normalised[:j]:
                first = normalised.index(pattern)
                raise NetlistgenError(f"{label}: pattern {j} {pattern} duplicates pattern {first}")
        object.__setattr__(self, "patterns", tuple(normalised))

    # -- derived geometry ------------------------------------------------------------

    @property
    def spice_name(self) -> str:
        """The name as a SPICE-safe identifier ('-' is not allowed in netlist names)."""
        return self.name.replace("-", "_")

    @property
    def n_bits(self) -> int:
        """Magnitude bits per weight = physical bit columns per weight column."""
        return len(self.patterns[0])

    @property
    def base(self) -> tuple[int, ...]:
        """Pattern 0: the bit positions the digital recombination weights column i by."""
        return self.patterns[0]

    @property
    def shifts(self) -> tuple[int, ...]:
        """k_j: pattern j = base + k_j (shifts[0] == 0)."""
        return tuple(p[0] - self.base[0] for p in self.patterns)

    @property
    def cap_ratios(self) -> tuple[int, ...]:
        """C_j / C1 = 2**k_j: the coupling capacitor each pattern selects."""
        return tuple(1 << k for k in self.shifts)

    @property
    def max_value(self) -> int:
        """Largest representable magnitude (all bits of the most shifted pattern)."""
        return sum(1 << p for p in self.base) << max(self.shifts)

    @property
    def magnitudes(self) -> np.ndarray:
        """Sorted unique representable magnitudes (int64)."""
        return self._table[0][self._table[0] >= 0].copy()

    def values(self) -> np.ndarray:
        """Sorted unique representable signed values (int64)."""
        return self._table[0].copy()

    # -- encoder table -----------------------------------------------------------------

    @cached_property
    def _table(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(value, S, P, word) of the canonical code of every representable value, sorted.

        `word` packs the magnitude bits with b[0] (MSB) as its bit n-1. Within one
        pattern the magnitude grows with `word` (positions strictly decrease), so each
        pattern's list is already sorted; a stable sort over the concatenation in P order
        followed by keeping the first of equal magnitudes yields the lowest P.
        """
        n = self.n_bits
        words = np.arange(1 << n, dtype=np.int64)
        bit_of_word = (words[:, None] >> np.arange(n - 1, -1, -1, dtype=np.int64)) & 1
        base_magnitude = bit_of_word @ (np.int64(1) << np.array(self.base, dtype=np.int64))
        mags = np.concatenate([base_magnitude << k for k in self.shifts])
        pats = np.repeat(np.arange(len(self.patterns), dtype=np.uint8), 1 << n)
        word_all = np.tile(words, len(self.patterns))
        order = np.argsort(mags, kind="stable")
        mags, pats, word_all = mags[order], pats[order], word_all[order]
        keep = np.ones(mags.size, dtype=bool)
        keep[1:] = mags[1:] != mags[:-1]
        mags, pats, word_all = mags[keep], pats[keep], word_all[keep]
        # Signed table: negatives (S=1) mirrored, then zero and positives (S=0).
        value = np.concatenate([-mags[:0:-1], mags])
        sign = np.concatenate([np.ones(mags.size - 1, np.uint8), np.zeros(mags.size, np.uint8)])
        pattern = np.concatenate([pats[:0:-1], pats])
        word = np.concatenate([word_all[:0:-1], word_all])
        for arr in (value, sign, pattern, word):
            arr.setflags(write=False)
        return value, sign, pattern, word


# The presets' positions live in the scheme registry (schemes.py), with what else the
# package knows about each scheme.
PRESETS: dict[str, PatternSet] = {name: PatternSet(name, s.patterns) for name, s in SCHEMES.items()}


def get_pattern_set(name: str, custom: Mapping[str, PatternSet] | None = None) -> PatternSet:
    """Look a pattern set up by its CLI/config name among the presets and `custom`."""
    custom = dict(custom or {})
    for key, ps in custom.items():
        if key in PRESETS and ps != PRESETS[key]:
            raise NetlistgenError(f"custom pattern set {key!r} may not redefine the preset of that name")
    if isinstance(name, str):
        if name in PRESETS:
            return PRESETS[name]
        if name in custom:
            return custom[name]
    known = ", ".join([*PRESETS, *sorted(k for k in custom if k not in PRESETS)])
    raise NetlistgenError(f"unknown pattern set {name!r}{did_you_mean(name, [*PRESETS, *custom])}; known: {known}")


def load_pattern_sets(path: str | Path) -> dict[str, PatternSet]:
    """Read custom pattern sets from TOML or YAML (by suffix).

    Format: a table `pattern_sets` whose keys are set names, each with exactly one key
    `patterns`, a list of bit-position lists, e.g.
    `[pattern_sets.my-set]` / `patterns = [[3, 2, 1, 0], [5, 4, 3, 2]]`.
    Anything else is an error, so a typo cannot silently fall back to a default.
    """
    path = Path(path)
    where = repr(str(path))  # quoted: a path may hold any character, messages stay one line
    doc = read_document(path, "pattern-set file")
    if not isinstance(doc, dict):
        raise NetlistgenError(f"{where}: top level must be a table with key 'pattern_sets', got {doc!r:.80}")
    check_keys(doc, {"pattern_sets"}, where, required={"pattern_sets"})
    sets = doc["pattern_sets"]
    if not isinstance(sets, dict):
        raise NetlistgenError(f"{where}: pattern_sets must be a table of named sets, got {sets!r:.80}")
    if not sets:
        raise NetlistgenError(f"{where}: pattern_sets defines no pattern sets")
    spice_names = {ps.spice_name: ps.name for ps in PRESETS.values()}
    result: dict[str, PatternSet] = {}
    for name, body in sets.items():
        try:
            _check_name(name)
        except NetlistgenError as exc:  # the raw name may hold newlines: quote it
            raise NetlistgenError(f"{where}: pattern_sets[{name!r}]: {exc}") from None
        key = f"pattern_sets.{name}"
        if name in PRESETS:
            raise NetlistgenError(f"{where}: {key}: custom pattern set {name!r} may not shadow the preset of that name")
        if not isinstance(body, dict):
            raise NetlistgenError(f"{where}: {key} must be a table with key 'patterns', got {body!r:.80}")
        check_keys(body, {"patterns"}, f"{where}: {key}", required={"patterns"})
        patterns = body["patterns"]
        if not isinstance(patterns, list) or not all(isinstance(p, list) for p in patterns):
            raise NetlistgenError(
                f"{where}: {key}.patterns must be a list of bit-position lists, got {patterns!r:.80}"
            )
        try:
            ps = PatternSet(name, tuple(tuple(p) for p in patterns))
        except NetlistgenError as exc:
            raise NetlistgenError(f"{where}: {key}.patterns: {exc}") from None
        clash = spice_names.get(ps.spice_name)
        if clash is not None:
            raise NetlistgenError(
                f"{where}: {key}: name {name!r} and {clash!r} are both {ps.spice_name!r} in a netlist"
            )
        spice_names[ps.spice_name] = name
        result[name] = ps
    return result


# --------------------------------------------------------------------------- codes


def _code_array(value: object, what: str, upper: int) -> np.ndarray:
    """An integer array with entries in 0..upper, as a read-only uint8 copy."""
    arr = np.asarray(value)
    if arr.dtype != np.bool_ and not np.issubdtype(arr.dtype, np.integer):
        raise NetlistgenError(f"invalid {what}: expected integers, got dtype {arr.dtype}")
    if arr.size and (arr.min() < 0 or arr.max() > upper):
        bad = arr[(arr < 0) | (arr > upper)].flat[0]
        raise NetlistgenError(f"invalid {what} {int(bad)}: must be in 0..{upper}")
    out = arr.astype(np.uint8, copy=True)
    out.setflags(write=False)
    return out


@dataclass(frozen=True, eq=False)
class Codes:
    """Sign-magnitude codes of an array of shape SHAPE under one pattern set.

    sign: S (uint8, SHAPE); pattern: P (uint8, SHAPE); bits: b (uint8, SHAPE + (n_bits,),
    MSB first, bits[..., i] weighs 2**pattern_set.patterns[P][i]). Arrays are read-only
    copies, so a Codes object cannot change under a netlist that was rendered from it.
    """

    pattern_set: PatternSet
    sign: np.ndarray
    pattern: np.ndarray
    bits: np.ndarray

    def __post_init__(self) -> None:
        ps = self.pattern_set
        if not isinstance(ps, PatternSet):
            raise NetlistgenError(f"invalid pattern set {ps!r}: expected a PatternSet")
        sign = _code_array(self.sign, "sign bit", 1)
        pattern = _code_array(self.pattern, f"pattern index for pattern set {ps.name!r}", len(ps.patterns) - 1)
        bits = _code_array(self.bits, "magnitude bit", 1)
        if pattern.shape != sign.shape:
            raise NetlistgenError(f"pattern shape {pattern.shape} does not match sign shape {sign.shape}")
        if bits.shape != sign.shape + (ps.n_bits,):
            raise NetlistgenError(
                f"bits shape {bits.shape} does not match sign shape {sign.shape} + ({ps.n_bits},) "
                f"for pattern set {ps.name!r}"
            )
        object.__setattr__(self, "sign", sign)
        object.__setattr__(self, "pattern", pattern)
        object.__setattr__(self, "bits", bits)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.sign.shape


def _real_array(values: object, what: str) -> np.ndarray:
    """A finite float64 array; NaN/inf and non-numeric input are user errors."""
    try:
        arr = np.asarray(values)
    except (TypeError, ValueError) as exc:
        raise NetlistgenError(f"invalid {what}: {exc}") from None
    if arr.dtype != np.bool_ and not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise NetlistgenError(f"invalid {what}: expected real numbers, got dtype {arr.dtype}")
    arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        bad = arr[~np.isfinite(arr)].flat[0]
        raise NetlistgenError(f"invalid {what} {bad!r}: must be finite")
    return arr


def _nearest_index(x: np.ndarray, ps: PatternSet) -> np.ndarray:
    """Index into ps._table of the nearest representable value to each finite x.

    Compares 2x with a+b (both exact in float64) instead of x-a with b-x, so exact
    midpoints are recognised without rounding and go to the smaller magnitude.
    Values beyond +-max_value land on the end points (clipping).
    """
    table = ps._table[0]
    hi = np.clip(np.searchsorted(table, x, side="left"), 1, table.size - 1)
    lo = hi - 1
    a = table[lo].astype(np.float64)
    b = table[hi].astype(np.float64)
    twice, midpoint2 = 2.0 * x, a + b
    take_hi = (twice > midpoint2) | ((twice == midpoint2) & (np.abs(b) < np.abs(a)))
    return np.where(take_hi, hi, lo)


def _codes_from_index(index: np.ndarray, ps: PatternSet) -> Codes:
    _, sign, pattern, word = ps._table
    w = word[index]
    shifts = np.arange(ps.n_bits - 1, -1, -1, dtype=np.int64)
    bits = ((w[..., None] >> shifts) & 1).astype(np.uint8)
    return Codes(ps, sign[index], pattern[index], bits)


def encode_int(values: object, ps: PatternSet) -> Codes:
    """Code of the nearest representable value for real `values` in integer units.

    Beyond +-max_value the result clips; a tie between two values goes to the smaller
    magnitude; of several codes for one value the canonical one is returned (S=0 for
    zero, else the lowest P).
    """
    if not isinstance(ps, PatternSet):
        raise NetlistgenError(f"invalid pattern set {ps!r}: expected a PatternSet")
    x = _real_array(values, "value to encode")
    return _codes_from_index(_nearest_index(x, ps), ps)


def decode(codes: Codes) -> np.ndarray:
    """Integer value of every code: (-1)**S * sum_i b_i * 2**(base[i] + k_P), int64."""
    if not isinstance(codes, Codes):
        raise NetlistgenError(f"invalid codes {type(codes).__name__}: expected Codes")
    ps = codes.pattern_set
    base_weight = np.int64(1) << np.array(ps.base, dtype=np.int64)
    shift = np.array(ps.shifts, dtype=np.int64)[codes.pattern]
    magnitude = (codes.bits.astype(np.int64) @ base_weight) << shift
    return np.where(codes.sign == 1, -magnitude, magnitude).astype(np.int64)


# --------------------------------------------------------------------------- quantization


@dataclass(frozen=True, eq=False)
class QuantizedTensor:
    """Codes plus the real-units-per-integer-LSB scale: x ~= decode(codes) * scale.

    `scale` is broadcastable to codes.shape: shape () per tensor, or all ones except
    the channel axis (keepdims layout) per channel.
    """

    codes: Codes
    scale: np.ndarray
    channel_axis: int | None

    def __post_init__(self) -> None:
        if not isinstance(self.codes, Codes):
            raise NetlistgenError(f"invalid codes {type(self.codes).__name__}: expected Codes")
        scale = _real_array(self.scale, "quantization scale")
        if np.any(scale <= 0):
            raise NetlistgenError(f"invalid quantization scale {float(scale[scale <= 0].flat[0])!r}: must be > 0")
        shape = self.codes.shape
        try:
            broadcast = np.broadcast_shapes(scale.shape, shape)
        except ValueError:
            broadcast = None
        if broadcast != shape:
            raise NetlistgenError(f"quantization scale shape {scale.shape} does not broadcast to codes shape {shape}")
        axis = self.channel_axis
        if axis is not None:
            axis = validate.integer(axis, "channel_axis", minimum=-len(shape), maximum=len(shape) - 1) % len(shape)
        scale.setflags(write=False)
        object.__setattr__(self, "scale", scale)
        object.__setattr__(self, "channel_axis", axis)

    def dequantize(self) -> np.ndarray:
        """Real-valued tensor the codes stand for (float64)."""
        return decode(self.codes) * self.scale


def _choice(value: object, what: str, allowed: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise NetlistgenError(f"invalid {what} {value!r}: expected one of {', '.join(allowed)}")
    return value


def _clip_mse(rows: np.ndarray, base_scale: np.ndarray, ps: PatternSet) -> np.ndarray:
    """Squared error sum of each row (channel) for every ratio in MSE_CLIP_RATIOS.

    Sorting |x| once per row turns each candidate into a few prefix-sum look-ups: the
    decision boundaries (midpoints between magnitudes, times the scale) split the
    sorted row into bins, and a bin quantized to v*s contributes
    sum x^2 - 2 v s sum|x| + count v^2 s^2. That costs O(candidates x levels) per row
    instead of re-encoding the whole tensor for every candidate. Values exactly on a
    boundary fall into the lower bin, as the encoder's ties do.
    """
    mags = ps.magnitudes.astype(np.float64)
    mids = (mags[:-1] + mags[1:]) / 2.0
    n_rows, n_cols = rows.shape
    err = np.empty((n_rows, MSE_CLIP_RATIOS.size))
    for r in range(n_rows):
        a = np.sort(np.abs(rows[r]))
        s1 = np.concatenate(([0.0], np.cumsum(a)))
        s2 = np.concatenate(([0.0], np.cumsum(a * a)))
        step = MSE_CLIP_RATIOS * base_scale[r]  # real units per LSB, (candidates,)
        cut = np.searchsorted(a, step[:, None] * mids[None, :], side="right")
        edges = np.concatenate(
            (np.zeros((cut.shape[0], 1), np.int64), cut, np.full((cut.shape[0], 1), n_cols)), axis=1
        )
        count = np.diff(edges, axis=1)  # (candidates, levels)
        sum1 = np.diff(s1[edges], axis=1)
        sum2 = np.diff(s2[edges], axis=1)
        level = mags[None, :] * step[:, None]
        err[r] = np.sum(sum2 - 2.0 * level * sum1 + count * level * level, axis=1)
    return err


def quantize(
    x: object,
    ps: PatternSet,
    *,
    granularity: str = "per-tensor",
    clip: str = "max-abs",
    channel_axis: int = 0,
) -> QuantizedTensor:
    """Quantize a real tensor to codes of `ps` with a per-tensor or per-channel scale.

    max-abs: scale = max|x| / max_value (no clipping). mse: the clipping ratio r in
    (0.2, 1] of max-abs (128 candidates) minimising the mean squared dequantisation
    error, chosen per channel when per-channel. An all-zero tensor or channel gets
    scale 1 so nothing divides by zero.
    """
    if not isinstance(ps, PatternSet):
        raise NetlistgenError(f"invalid pattern set {ps!r}: expected a PatternSet")
    granularity = _choice(granularity, "granularity", GRANULARITIES)
    clip = _choice(clip, "clip method", CLIP_METHODS)
    data = _real_array(x, "tensor to quantize")
    if data.size == 0:
        raise NetlistgenError(f"cannot quantize an empty tensor of shape {data.shape}")
    if granularity == "per-channel":
        if data.ndim == 0:
            raise NetlistgenError("invalid granularity 'per-channel' for a scalar: it has no channel axis")
        axis = validate.integer(channel_axis, "channel_axis", minimum=-data.ndim, maximum=data.ndim - 1) % data.ndim
        rows = np.moveaxis(data, axis, 0).reshape(data.shape[axis], -1)
    else:
        axis = None
        rows = data.reshape(1, -1)

    max_abs = np.max(np.abs(rows), axis=1)
    nonzero = max_abs > 0
    base_scale = np.where(nonzero, max_abs, 1.0) / ps.max_value
    if clip == "mse":
        best_ratio = MSE_CLIP_RATIOS[np.argmin(_clip_mse(rows, base_scale, ps), axis=1)]
        row_scale = np.where(nonzero, base_scale * best_ratio, 1.0)
    else:
        row_scale = np.where(nonzero, base_scale, 1.0)

    if axis is None:
        scale = np.asarray(row_scale[0])
    else:
        keep_shape = [1] * data.ndim
        keep_shape[axis] = data.shape[axis]
        scale = row_scale.reshape(keep_shape)
    codes = _codes_from_index(_nearest_index(data / scale, ps), ps)
    return QuantizedTensor(codes, scale, axis)


def sqnr_db(x: object, qt: QuantizedTensor) -> float:
    """Signal-to-quantization-noise ratio 10*log10(sum x^2 / sum (x - deq)^2), dB."""
    data = _real_array(x, "reference tensor")
    if not isinstance(qt, QuantizedTensor):
        raise NetlistgenError(f"invalid quantized tensor {type(qt).__name__}: expected QuantizedTensor")
    if data.shape != qt.codes.shape:
        raise NetlistgenError(f"reference shape {data.shape} does not match quantized shape {qt.codes.shape}")
    signal = float(np.sum(data**2))
    noise = float(np.sum((data - qt.dequantize()) ** 2))
    if noise == 0.0:
        return math.inf
    if signal == 0.0:
        return -math.inf
    return 10.0 * math.log10(signal / noise)


def sqnr_report(
    x: object,
    *,
    granularity: str = "per-channel",
    clip: str = "mse",
    channel_axis: int = 0,
    pattern_sets: Mapping[str, PatternSet] | Iterable[str | PatternSet] | None = None,
) -> dict[str, float]:
    """SQNR (dB) of `x` under each pattern set (every preset by default), keyed by name."""
    if pattern_sets is None:
        chosen = list(PRESETS.values())
    elif isinstance(pattern_sets, Mapping):
        chosen = list(pattern_sets.values())
    elif isinstance(pattern_sets, (str, PatternSet)):
        chosen = [pattern_sets if isinstance(pattern_sets, PatternSet) else get_pattern_set(pattern_sets)]
    else:
        chosen = [p if isinstance(p, PatternSet) else get_pattern_set(p) for p in pattern_sets]
    report: dict[str, float] = {}
    for ps in chosen:
        if not isinstance(ps, PatternSet):
            raise NetlistgenError(f"invalid pattern set {ps!r}: expected a PatternSet")
        qt = quantize(x, ps, granularity=granularity, clip=clip, channel_axis=channel_axis)
        report[ps.name] = sqnr_db(x, qt)
    return report


# --------------------------------------------------------------------------- ideal MAC


def _integer_inputs(inputs: object) -> np.ndarray:
    """Input levels m as int64 (cycles, rows); integral floats are accepted."""
    arr = np.asarray(inputs)
    if arr.dtype == np.bool_ or np.issubdtype(arr.dtype, np.integer):
        out = arr.astype(np.int64)
    elif np.issubdtype(arr.dtype, np.floating):
        if not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr)):
            bad = arr[~np.isfinite(arr) | (arr != np.round(arr))].flat[0]
            raise NetlistgenError(f"invalid input level {bad!r}: must be an integer")
        out = arr.astype(np.int64)
    else:
        raise NetlistgenError(f"invalid input levels: expected integers, got dtype {arr.dtype}")
    if out.ndim != 2:
        raise NetlistgenError(f"input levels must have shape (cycles, rows), got shape {out.shape}")
    return out


def ideal_column_mac(inputs: object, codes: Codes) -> np.ndarray:
    """Ideal per-bit-column accumulation, in units of C1*dV (SPEC section 2).

    inputs: integer levels m of shape (cycles, rows) (m in -L..L, or 0/1 bit-serial);
    codes: one weight per row, shape (rows,) (any trailing weight-column axes are
    carried through). Returns y of shape (cycles, n_bits) (or (cycles, *cols, n_bits)):
    y_i = sum_r m_r * (-1)**S_r * b_{r,i} * 2**k_{P_r}.
    """
    if not isinstance(codes, Codes):
        raise NetlistgenError(f"invalid codes {type(codes).__name__}: expected Codes")
    m = _integer_inputs(inputs)
    if codes.sign.ndim < 1 or codes.shape[0] != m.shape[1]:
        raise NetlistgenError(
            f"input levels have {m.shape[1]} rows but codes have shape {codes.shape} (expected ({m.shape[1]},))"
        )
    ps = codes.pattern_set
    cap_ratio = np.array(ps.cap_ratios, dtype=np.int64)[codes.pattern]
    signed_ratio = np.where(codes.sign == 1, -cap_ratio, cap_ratio)
    per_row = codes.bits.astype(np.int64) * signed_ratio[..., None]  # (rows, ..., n_bits)
    return np.tensordot(m, per_row, axes=([1], [0]))


def recombine(y: object, ps: PatternSet) -> np.ndarray:
    """Digital shift-add of bit columns: sum_i y_i * 2**base[i] over the last axis."""
    if not isinstance(ps, PatternSet):
        raise NetlistgenError(f"invalid pattern set {ps!r}: expected a PatternSet")
    arr = np.asarray(y)
    if arr.ndim < 1 or arr.shape[-1] != ps.n_bits:
        raise NetlistgenError(
            f"bit-column results of shape {arr.shape} do not end in n_bits={ps.n_bits} "
            f"of pattern set {ps.name!r}"
        )
    weight = np.int64(1) << np.array(ps.base, dtype=np.int64)
    if np.issubdtype(arr.dtype, np.integer) or arr.dtype == np.bool_:
        return arr.astype(np.int64) @ weight
    return arr.astype(np.float64) @ weight.astype(np.float64)


def bit_columns(codes: Codes) -> dict[str, np.ndarray]:
    """Physical layout of a weight matrix (rows, wcols) for the array generator.

    "w": SRAM bits (rows, wcols*n_bits), physical column j = wcol*n_bits + i (MSB first
    within a weight column); "s" and "p": the per-weight sign and pattern bits (rows, wcols).
    """
    if not isinstance(codes, Codes):
        raise NetlistgenError(f"invalid codes {type(codes).__name__}: expected Codes")
    if codes.sign.ndim != 2:
        raise NetlistgenError(f"bit_columns needs codes of shape (rows, wcols), got shape {codes.shape}")
    rows, wcols = codes.shape
    return {
        "w": codes.bits.reshape(rows, wcols * codes.pattern_set.n_bits).copy(),
        "s": codes.sign.copy(),
        "p": codes.pattern.copy(),
    }


def input_cycles(binary: bool, levels: int, act_bits: int) -> int:
    """Compute cycles that carry an unsigned act_bits input: one bit per cycle (binary
    inputs), else as few balanced base-(2L+1) digits as cover 2**act_bits - 1."""
    if binary:
        return act_bits
    base, cycles = 2 * levels + 1, 1
    while (base**cycles - 1) // 2 < 2**act_bits - 1:
        cycles += 1
    return cycles


def split_input_digits(a: object, binary: bool, levels: int, act_bits: int,
                       signed: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Split integers a (..., rows) into per-cycle input levels.

    Binary: bits, LSB first (cycle weight 2**c; `signed`: two's complement, the top cycle
    weighs -2**(act_bits-1)). Otherwise balanced base-(2L+1) digits in -L..L, least
    significant first (cycle weight (2L+1)**c), input_cycles() of them (signed values of
    act_bits bits fit the same cycles). Returns (digits (cycles, ..., rows), cycle weights
    (cycles,)); integer input keeps its dtype (narrow types are faster)."""
    a = np.asarray(a)
    if not np.issubdtype(a.dtype, np.integer):
        a = a.astype(np.int64)
    cycles = input_cycles(binary, levels, act_bits)
    if binary:
        weights = 2 ** np.arange(cycles)
        if signed:
            weights[-1] = -weights[-1]
        return np.stack([(a >> c) & 1 for c in range(cycles)]), weights
    base = 2 * levels + 1
    digits, rest = [], a.copy()
    for _ in range(cycles):
        d = (rest + levels) % base - levels
        digits.append(d)
        rest = (rest - d) // base
    return np.stack(digits), base ** np.arange(cycles)
