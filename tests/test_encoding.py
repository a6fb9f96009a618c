"""Tests of netlistgen.circuits.encoding: the ideal reference of SPEC section 2.

The encoder is checked against a brute force that enumerates every code (S, P, bits)
of a pattern set with plain Python integers and exact fractions, so the tests do not
share the table/searchsorted logic they are testing.
"""

from __future__ import annotations

import itertools
import re
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from netlistgen.circuits.encoding import (
    MSE_CLIP_RATIOS,
    PRESETS,
    Codes,
    PatternSet,
    QuantizedTensor,
    bit_columns,
    decode,
    encode_int,
    get_pattern_set,
    ideal_column_mac,
    load_pattern_sets,
    quantize,
    recombine,
    sqnr_db,
    sqnr_report,
)
from netlistgen.core.errors import NetlistgenError

FIXTURES = Path(__file__).parent / "fixtures"
CUSTOM = PatternSet("zebra-ii-3b", ((5, 3, 1), (6, 4, 2)))
ALL_SETS = {**PRESETS, CUSTOM.name: CUSTOM}


# --------------------------------------------------------------------------- brute force


def enumerate_codes(ps: PatternSet) -> list[tuple[int, int, tuple[int, ...], int]]:
    """Every code (S, P, bits, value) of a pattern set, from the SPEC formula."""
    codes = []
    for s in (0, 1):
        for p, pattern in enumerate(ps.patterns):
            for bits in itertools.product((0, 1), repeat=len(pattern)):
                magnitude = sum(b << pos for b, pos in zip(bits, pattern))
                codes.append((s, p, bits, -magnitude if s else magnitude))
    return codes


BRUTE = {name: enumerate_codes(ps) for name, ps in ALL_SETS.items()}


def brute_values(name: str) -> list[int]:
    return sorted({v for *_, v in BRUTE[name]})


def brute_canonical(name: str, value: int) -> tuple[int, int, tuple[int, ...]]:
    """Canonical code of a value: lowest (S, P) among its codes (S=0 for zero)."""
    s, p, bits, _ = min((c for c in BRUTE[name] if c[3] == value), key=lambda c: (c[0], c[1]))
    return s, p, bits


def brute_nearest(name: str, x: float) -> int:
    """Nearest representable value with exact arithmetic; ties to the smaller magnitude."""
    fx = Fraction(x)
    return min(brute_values(name), key=lambda v: (abs(fx - v), abs(v)))


def code_at(codes: Codes, index) -> tuple[int, int, tuple[int, ...]]:
    return int(codes.sign[index]), int(codes.pattern[index]), tuple(int(b) for b in codes.bits[index])


def make_codes(ps: PatternSet, entries) -> Codes:
    sign = np.array([e[0] for e in entries], dtype=np.uint8)
    pattern = np.array([e[1] for e in entries], dtype=np.uint8)
    bits = np.array([e[2] for e in entries], dtype=np.uint8).reshape(len(entries), ps.n_bits)
    return Codes(ps, sign, pattern, bits)


# --------------------------------------------------------------------------- presets


@pytest.mark.parametrize(
    "name, magnitudes, max_value",
    [
        ("int8", list(range(128)), 127),
        ("int4", list(range(8)), 7),
        ("zebra-i", list(range(16)) + list(range(16, 61, 4)), 60),
        ("log2", [0] + [1 << j for j in range(7)], 64),
    ],
)
def test_preset_magnitudes_match_spec_table(name, magnitudes, max_value):
    ps = PRESETS[name]
    assert ps.magnitudes.tolist() == magnitudes
    assert ps.magnitudes.dtype == np.int64
    assert ps.max_value == max_value
    assert ps.values().tolist() == sorted({-m for m in magnitudes} | set(magnitudes))


def test_zebra_ii_is_log_like_up_to_170():
    ps = PRESETS["zebra-ii"]
    mags = ps.magnitudes
    assert ps.max_value == 170 and mags[0] == 0 and mags[-1] == 170
    # Sums of {64,16,4,1} (pattern 0) and their doubles (pattern 1): steps grow with value.
    expected = {sum(c) for r in range(5) for c in itertools.combinations((64, 16, 4, 1), r)}
    expected |= {2 * v for v in expected}
    assert mags.tolist() == sorted(expected)
    steps = np.diff(mags)
    assert steps[:4].max() <= 2 and steps[-4:].min() >= 2


@pytest.mark.parametrize(
    "name, n_bits, shifts, cap_ratios, spice_name",
    [
        ("int8", 7, (0,), (1,), "int8"),
        ("int4", 3, (0,), (1,), "int4"),
        ("zebra-i", 4, (0, 2), (1, 4), "zebra_i"),
        ("zebra-ii", 4, (0, 1), (1, 2), "zebra_ii"),
        ("log2", 1, tuple(range(7)), tuple(1 << j for j in range(7)), "log2"),
    ],
)
def test_preset_geometry(name, n_bits, shifts, cap_ratios, spice_name):
    ps = PRESETS[name]
    assert ps.name == name
    assert (ps.n_bits, ps.shifts, ps.cap_ratios, ps.spice_name) == (n_bits, shifts, cap_ratios, spice_name)
    assert ps.base == ps.patterns[0]


def test_values_and_magnitudes_are_copies():
    ps = PRESETS["zebra-i"]
    v = ps.values()
    v[:] = 0
    assert ps.values()[0] == -60


# --------------------------------------------------------------------------- encoder vs brute force


@pytest.mark.parametrize("name", sorted(ALL_SETS))
def test_decode_matches_formula_for_every_code(name):
    """Including non-canonical codes (negative zero, duplicate values under another P)."""
    ps = ALL_SETS[name]
    codes = make_codes(ps, BRUTE[name])
    assert decode(codes).dtype == np.int64
    assert decode(codes).tolist() == [c[3] for c in BRUTE[name]]
    assert ps.values().tolist() == brute_values(name)


@pytest.mark.parametrize("name", sorted(ALL_SETS))
def test_every_representable_value_round_trips_to_its_canonical_code(name):
    values = brute_values(name)
    codes = encode_int(np.array(values, dtype=np.float64), ALL_SETS[name])
    assert decode(codes).tolist() == values
    for i, v in enumerate(values):
        assert code_at(codes, i) == brute_canonical(name, v)


@pytest.mark.parametrize("name", sorted(ALL_SETS))
def test_midpoints_go_to_smaller_magnitude_and_neighbours_to_nearest(name):
    ps = ALL_SETS[name]
    values = brute_values(name)
    lo, hi = np.array(values[:-1], float), np.array(values[1:], float)
    mid = (lo + hi) / 2
    smaller = np.where(np.abs(lo) < np.abs(hi), lo, hi)
    assert decode(encode_int(mid, ps)).tolist() == smaller.astype(int).tolist()
    assert decode(encode_int(np.nextafter(mid, np.inf), ps)).tolist() == hi.astype(int).tolist()
    assert decode(encode_int(np.nextafter(mid, -np.inf), ps)).tolist() == lo.astype(int).tolist()


@pytest.mark.parametrize("name", sorted(ALL_SETS))
def test_clipping_beyond_max(name):
    ps = ALL_SETS[name]
    big = [ps.max_value + 0.5, ps.max_value * 3.0, 1e300, -(ps.max_value + 0.5), -1e300]
    m = ps.max_value
    assert decode(encode_int(big, ps)).tolist() == [m, m, m, -m, -m]


@pytest.mark.parametrize("name", sorted(ALL_SETS))
def test_encode_is_nearest_canonical_code(name):
    ps = ALL_SETS[name]
    bound = 1.2 * ps.max_value
    all_codes = {(s, p, bits) for s, p, bits, _ in BRUTE[name]}

    @settings(max_examples=150, deadline=None)
    @given(st.floats(min_value=-bound, max_value=bound, allow_nan=False))
    def check(x):
        codes = encode_int(x, ps)
        assert codes.shape == ()
        code = code_at(codes, ())
        assert code in all_codes
        value = int(decode(codes))
        assert value == brute_nearest(name, x)
        assert code == brute_canonical(name, value)

    check()


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(sorted(ALL_SETS)),
    hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=0, max_dims=3, max_side=5),
        elements=st.floats(-300, 300, allow_nan=False, width=64),
    ),
)
def test_vectorised_encoding_matches_elementwise(name, x):
    ps = ALL_SETS[name]
    codes = encode_int(x, ps)
    assert codes.shape == x.shape
    assert codes.bits.shape == x.shape + (ps.n_bits,)
    assert codes.sign.dtype == codes.pattern.dtype == codes.bits.dtype == np.uint8
    for index in np.ndindex(x.shape):
        value = brute_nearest(name, float(x[index]))
        assert decode(codes)[index] == value
        assert code_at(codes, index) == brute_canonical(name, value)


def round_half_down(q: Fraction) -> int:
    return -((-2 * q + 1) // 2)  # ceil(q - 1/2)


@settings(max_examples=200, deadline=None)
@given(st.floats(min_value=-80, max_value=80, allow_nan=False))
def test_zebra_i_agrees_with_the_option_i_threshold_rule(x):
    """Option I has an exact rule: fine grid (P=0) up to 15.5, step-4 grid (P=1) above."""
    codes = encode_int(x, PRESETS["zebra-i"])
    m = Fraction(abs(x))
    if m <= Fraction(31, 2):
        expected_mag, expected_p = round_half_down(m), 0
    else:
        expected_mag, expected_p = min(60, 4 * round_half_down(m / 4)), 1
    value = int(decode(codes))
    assert abs(value) == expected_mag
    assert value == 0 or (value < 0) == (x < 0)
    if value != 0:
        assert int(codes.pattern) == expected_p


@pytest.mark.parametrize("x", [0.0, -0.0, 0.3, -0.3, 0.5, -0.5])
def test_zero_is_positive_sign_pattern_zero(x):
    for ps in ALL_SETS.values():
        codes = encode_int(x, ps)
        assert code_at(codes, ()) == (0, 0, (0,) * ps.n_bits)


def test_equal_values_take_lowest_pattern():
    zi = PRESETS["zebra-i"]
    for v in (4, 8, 12, -12):
        codes = encode_int(v, zi)
        assert int(codes.pattern) == 0 and int(decode(codes)) == v
    # 16 exists only in the range pattern.
    assert int(encode_int(16, zi).pattern) == 1


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_encode_rejects_non_finite(bad):
    with pytest.raises(NetlistgenError, match=re.escape(repr(float(bad)))):
        encode_int([1.0, bad], PRESETS["int4"])


def test_encode_rejects_non_numeric():
    with pytest.raises(NetlistgenError, match="dtype"):
        encode_int(["1"], PRESETS["int4"])
    with pytest.raises(NetlistgenError, match="PatternSet"):
        encode_int([1.0], "int4")


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    "name, patterns, fragment",
    [
        ("x", ((3, 2, 1, 0), (5, 4, 3, 1)), "pattern 1 (5, 4, 3, 1) is not pattern 0 (3, 2, 1, 0) shifted by a constant"),
        ("x", ((3, 2, 1, 0), (5, 4, 3)), "pattern 1 (5, 4, 3) has 3 bit positions but pattern 0 (3, 2, 1, 0) has 4"),
        ("x", ((3, 3, 1),), "pattern 0 (3, 3, 1) must list bit positions strictly decreasing"),
        ("x", ((0, 1, 2),), "pattern 0 (0, 1, 2) must list bit positions strictly decreasing"),
        ("x", ((2, 1, -1),), "-1: must be >= 0"),
        ("x", ((31, 0),), "31: must be <= 30"),
        ("x", ((2, True),), "True: expected an integer"),
        ("x", ((2, "1"),), "'1': expected an integer"),
        ("x", ((2.0, 1),), "2.0: expected an integer"),
        ("x", ((5, 4), (3, 2)), "pattern 1 (3, 2) is pattern 0 (5, 4) shifted by -2"),
        ("x", ((1, 0), (3, 2), (1, 0)), "pattern 2 (1, 0) duplicates pattern 0"),
        ("x", (), "must hold at least one pattern"),
        ("x", ((),), "pattern 0 () must hold at least one bit position"),
        ("x", "3210", "must be a list of patterns"),
        ("x", (3, 2), "pattern 0 3 must be a list of bit positions"),
        ("x", (tuple(range(16, -1, -1)),), "has 17 bit positions; at most 16"),
    ],
)
def test_pattern_set_validation(name, patterns, fragment):
    with pytest.raises(NetlistgenError) as info:
        PatternSet(name, patterns)
    message = str(info.value)
    assert fragment in message
    assert "'x'" in message
    assert "\n" not in message


@pytest.mark.parametrize("bad", ["a\n.control", "a b", "a.b", "", "1abc", "x" * 65, "a;b", None, 3, "zebra-i\r"])
def test_pattern_set_name_validation(bad):
    with pytest.raises(NetlistgenError) as info:
        PatternSet(bad, ((1, 0),))
    message = str(info.value)
    assert repr(bad) in message
    assert "\n" not in message and "\r" not in message


def test_pattern_set_normalises_lists_and_numpy_ints():
    ps = PatternSet("from-config", [[np.int64(3), 2], [5, 4]])
    assert ps.patterns == ((3, 2), (5, 4))
    assert all(type(p) is int for p in ps.patterns[0])
    assert ps == PatternSet("from-config", ((3, 2), (5, 4)))
    assert hash(ps) == hash(PatternSet("from-config", ((3, 2), (5, 4))))
    assert ps.spice_name == "from_config"


def test_codes_validation():
    ps = PRESETS["zebra-i"]
    good = dict(sign=np.zeros(3, np.uint8), pattern=np.zeros(3, np.uint8), bits=np.zeros((3, 4), np.uint8))
    Codes(ps, **good)
    with pytest.raises(NetlistgenError, match="sign bit 2"):
        Codes(ps, **{**good, "sign": np.array([0, 2, 0])})
    with pytest.raises(NetlistgenError, match="pattern index .* 2: must be in 0..1"):
        Codes(ps, **{**good, "pattern": np.array([0, 2, 0])})
    with pytest.raises(NetlistgenError, match="magnitude bit -1"):
        Codes(ps, **{**good, "bits": -np.ones((3, 4), int)})
    with pytest.raises(NetlistgenError, match=re.escape("bits shape (3, 3)")):
        Codes(ps, **{**good, "bits": np.zeros((3, 3), np.uint8)})
    with pytest.raises(NetlistgenError, match="dtype float64"):
        Codes(ps, **{**good, "sign": np.zeros(3)})
    source = np.zeros(3, np.uint8)
    codes = Codes(ps, **{**good, "sign": source})
    source[0] = 1
    assert codes.sign[0] == 0 and not codes.sign.flags.writeable


# --------------------------------------------------------------------------- lookup and files


def test_get_pattern_set():
    assert get_pattern_set("zebra-i") is PRESETS["zebra-i"]
    assert get_pattern_set("zebra-ii-3b", {"zebra-ii-3b": CUSTOM}) is CUSTOM
    with pytest.raises(NetlistgenError) as info:
        get_pattern_set("zebra-iii", {"zebra-ii-3b": CUSTOM})
    message = str(info.value)
    assert "'zebra-iii'" in message
    for known in [*PRESETS, "zebra-ii-3b"]:
        assert known in message
    with pytest.raises(NetlistgenError, match="may not redefine"):
        get_pattern_set("int8", {"int8": PatternSet("int8", ((3, 2, 1, 0),))})


def test_load_toml_fixture_and_yaml_twin():
    sets = load_pattern_sets(FIXTURES / "patterns_custom.toml")
    assert list(sets) == ["zebra-ii-3b", "range3_2b"]
    assert sets["zebra-ii-3b"] == CUSTOM
    assert sets["zebra-ii-3b"].cap_ratios == (1, 2)
    assert sets["range3_2b"].shifts == (0, 2, 4)
    assert sets["range3_2b"].magnitudes.tolist() == [0, 1, 2, 3, 4, 8, 12, 16, 32, 48]
    assert load_pattern_sets(str(FIXTURES / "patterns_custom.yaml")) == sets
    assert get_pattern_set("range3_2b", sets) is sets["range3_2b"]


@pytest.mark.parametrize(
    "suffix, text, fragments",
    [
        (".toml", "[pattern_sets.a\npatterns = [[1, 0]]\n", ["is not valid TOML"]),
        (".yaml", "pattern_sets: {a: [\n", ["is not valid YAML"]),
        (".yaml", "pattern_sets:\n  a: {patterns: [[1, 0]]}\n  a: {patterns: [[2, 1]]}\n", ["duplicate key 'a'"]),
        (".toml", "[pattern_set.a]\npatterns = [[1, 0]]\n", ["unknown key 'pattern_set'", "did you mean 'pattern_sets'"]),
        (".toml", "title = 'x'\n", ["unknown key 'title'", "allowed: pattern_sets"]),
        (".yaml", "- 1\n- 2\n", ["top level must be a table", "[1, 2]"]),
        (".yaml", "", ["top level must be a table", "None"]),
        (".toml", "pattern_sets = 3\n", ["pattern_sets must be a table", "3"]),
        (".toml", "[pattern_sets]\n", ["defines no pattern sets"]),
        (".toml", "[pattern_sets.a]\npatterns = [[1, 0]]\nratio = 4\n", ["pattern_sets.a", "unknown key 'ratio'"]),
        (".toml", "[pattern_sets.a]\nbits = [[1, 0]]\n", ["pattern_sets.a", "unknown key 'bits'"]),
        (".toml", "[pattern_sets.a]\n", ["pattern_sets.a", "missing required key 'patterns'"]),
        (".toml", "[pattern_sets]\na = 3\n", ["pattern_sets.a must be a table", "3"]),
        (".toml", "[pattern_sets.a]\npatterns = '3210'\n", ["pattern_sets.a.patterns", "'3210'"]),
        (".toml", "[pattern_sets.a]\npatterns = [3, 2]\n", ["pattern_sets.a.patterns", "[3, 2]"]),
        (".toml", "[pattern_sets.a]\npatterns = [[1, '0']]\n", ["pattern_sets.a.patterns", "'0'"]),
        (".toml", "[pattern_sets.a]\npatterns = [[1, 0.5]]\n", ["pattern_sets.a.patterns", "0.5"]),
        (".toml", "[pattern_sets.a]\npatterns = [[3, 2, 1, 0], [5, 4, 3, 1]]\n", ["is not pattern 0 (3, 2, 1, 0) shifted"]),
        (".yaml", "pattern_sets:\n  'a.b': {patterns: [[1, 0]]}\n", ["invalid pattern set name 'a.b'"]),
        (".yaml", "pattern_sets:\n  \"a\\n.control\": {patterns: [[1, 0]]}\n", ["'a\\n.control'"]),
        (".yaml", "pattern_sets:\n  7: {patterns: [[1, 0]]}\n", ["invalid pattern set name 7"]),
        (".toml", "[pattern_sets.int8]\npatterns = [[6, 5, 4, 3, 2, 1, 0]]\n", ["'int8' may not shadow the preset"]),
        (".toml", "[pattern_sets.zebra_i]\npatterns = [[1, 0]]\n", ["'zebra_i' and 'zebra-i'"]),
        (".toml", "[pattern_sets.a-b]\npatterns = [[1, 0]]\n[pattern_sets.a_b]\npatterns = [[2, 0]]\n", ["'a_b' and 'a-b'"]),
        (".json", "{}", ["unknown format '.json'"]),
        (".toml", b"\xff\xfe".decode("latin-1"), ["cannot read pattern-set file"]),
    ],
)
def test_load_pattern_sets_rejects_malformed_files(tmp_path, suffix, text, fragments):
    path = tmp_path / f"sets{suffix}"
    path.write_text(text, encoding="latin-1" if "\xff" in text else "utf-8")
    with pytest.raises(NetlistgenError) as info:
        load_pattern_sets(path)
    message = str(info.value)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message
    assert "\n" not in message


def test_load_pattern_sets_missing_file_and_directory(tmp_path):
    with pytest.raises(NetlistgenError, match=re.escape(f"'{tmp_path / 'nope.toml'}' does not exist")):
        load_pattern_sets(tmp_path / "nope.toml")
    folder = tmp_path / "dir.toml"
    folder.mkdir()
    with pytest.raises(NetlistgenError, match="pattern-set file .*dir.toml' is not a file"):
        load_pattern_sets(folder)


# --------------------------------------------------------------------------- quantization


def gaussian_weights(shape=(64, 256), seed=1234):
    return np.random.default_rng(seed).standard_normal(shape)


def test_per_channel_scale_shape_and_reconstruction():
    w = gaussian_weights((8, 5, 3))
    ps = PRESETS["int8"]
    for axis, shape in [(0, (8, 1, 1)), (1, (1, 5, 1)), (-1, (1, 1, 3))]:
        qt = quantize(w, ps, granularity="per-channel", channel_axis=axis)
        assert isinstance(qt, QuantizedTensor)
        assert qt.scale.shape == shape
        assert qt.channel_axis == axis % 3
        assert qt.codes.shape == w.shape
        assert qt.dequantize().shape == w.shape
        # max-abs: the largest |w| of each channel maps exactly onto max_value.
        max_abs = np.max(np.abs(w), axis=tuple(a for a in range(3) if a != axis % 3), keepdims=True)
        np.testing.assert_allclose(qt.scale * ps.max_value, max_abs)
        assert np.max(np.abs(qt.dequantize() - w) / qt.scale) <= 0.5 + 1e-9
    qt = quantize(w, ps)
    assert qt.scale.shape == () and qt.channel_axis is None


def test_all_zero_tensor_and_channel_get_scale_one():
    for clip in ("max-abs", "mse"):
        qt = quantize(np.zeros((3, 4)), PRESETS["zebra-i"], clip=clip)
        assert float(qt.scale) == 1.0 and not np.any(qt.dequantize())
        w = gaussian_weights((3, 4))
        w[1] = 0.0
        qt = quantize(w, PRESETS["zebra-i"], granularity="per-channel", clip=clip)
        assert qt.scale[1, 0] == 1.0 and np.all(qt.dequantize()[1] == 0)
        assert np.all(np.isfinite(qt.dequantize()))
    assert sqnr_db(np.zeros(3), quantize(np.zeros(3), PRESETS["int4"])) == np.inf


@pytest.mark.parametrize("granularity", ["per-tensor", "per-channel"])
@pytest.mark.parametrize("name", ["int4", "zebra-i", "zebra-ii", "log2"])
def test_mse_clipping_never_worse_than_max_abs(name, granularity):
    w = gaussian_weights((16, 64))
    ps = PRESETS[name]
    max_abs = sqnr_db(w, quantize(w, ps, granularity=granularity, clip="max-abs"))
    mse = sqnr_db(w, quantize(w, ps, granularity=granularity, clip="mse"))
    assert mse >= max_abs - 1e-9


@pytest.mark.parametrize("name", sorted(ALL_SETS))
def test_mse_clip_picks_the_best_candidate_by_direct_evaluation(name):
    """The prefix-sum MSE shortcut must choose what re-encoding every candidate would."""
    ps = ALL_SETS[name]
    rng = np.random.default_rng(5)
    w = np.concatenate([rng.standard_normal((3, 40)), rng.laplace(size=(2, 40))]) * 0.1
    w[0, :5] = 0.0  # exact zeros and duplicates exercise bin edges
    w[1, :4] = w[1, 4]
    qt = quantize(w, ps, granularity="per-channel", clip="mse")
    for r in range(w.shape[0]):
        base = np.max(np.abs(w[r])) / ps.max_value
        direct = [np.sum((decode(encode_int(w[r] / (base * k), ps)) * base * k - w[r]) ** 2) for k in MSE_CLIP_RATIOS]
        chosen = np.sum((qt.dequantize()[r] - w[r]) ** 2)
        assert chosen <= min(direct) * (1 + 1e-9) + 1e-300
        assert 0.2 * base < qt.scale[r, 0] <= base * (1 + 1e-12)


def test_zebra_i_beats_int4_on_gaussian_weights(capsys):
    w = gaussian_weights((64, 256))
    report = sqnr_report(w, granularity="per-channel", clip="mse", channel_axis=0)
    assert list(report) == list(PRESETS)
    with capsys.disabled():
        print("\nSQNR (dB), Gaussian 64x256 seed 1234, per-channel MSE clip:")
        for name, db in report.items():
            print(f"  {name:9s} {db:6.2f}")
    assert report["zebra-i"] >= report["int4"] + 6.0
    assert report["int8"] > report["zebra-i"]


def test_sqnr_report_accepts_names_sets_and_mappings():
    w = gaussian_weights((4, 32))
    by_name = sqnr_report(w, pattern_sets=["int4", CUSTOM])
    assert list(by_name) == ["int4", "zebra-ii-3b"]
    assert sqnr_report(w, pattern_sets={"zebra-ii-3b": CUSTOM}) == {"zebra-ii-3b": by_name["zebra-ii-3b"]}
    with pytest.raises(NetlistgenError, match="'nope'"):
        sqnr_report(w, pattern_sets=["nope"])


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"granularity": "per_row"}, "'per_row'"),
        ({"clip": "percentile"}, "'percentile'"),
        ({"granularity": "per-channel", "channel_axis": 2}, "channel_axis 2"),
        ({"granularity": "per-channel", "channel_axis": "x"}, "channel_axis 'x'"),
    ],
)
def test_quantize_rejects_bad_options(kwargs, fragment):
    with pytest.raises(NetlistgenError, match=re.escape(fragment)):
        quantize(gaussian_weights((2, 3)), PRESETS["int4"], **kwargs)


def test_quantize_rejects_bad_tensors():
    with pytest.raises(NetlistgenError, match="nan"):
        quantize([1.0, np.nan], PRESETS["int4"])
    with pytest.raises(NetlistgenError, match="empty"):
        quantize(np.zeros((0, 3)), PRESETS["int4"])
    with pytest.raises(NetlistgenError, match="scalar"):
        quantize(1.0, PRESETS["int4"], granularity="per-channel")
    qt = quantize([1.0, 2.0], PRESETS["int4"])
    with pytest.raises(NetlistgenError, match="shape"):
        sqnr_db([1.0, 2.0, 3.0], qt)
    with pytest.raises(NetlistgenError, match="-1.0"):
        QuantizedTensor(qt.codes, np.array(-1.0), None)
    with pytest.raises(NetlistgenError, match="does not broadcast"):
        QuantizedTensor(qt.codes, np.ones(3), None)


# --------------------------------------------------------------------------- ideal MAC


@pytest.mark.parametrize("name", sorted(ALL_SETS))
def test_recombined_bit_columns_equal_the_dot_product(name):
    ps = ALL_SETS[name]
    rng = np.random.default_rng(7)
    values = ps.values()
    for levels in (1, 3, 7):
        m = rng.integers(-levels, levels + 1, size=(20, 64))
        codes = encode_int(rng.choice(values, size=64), ps)
        y = ideal_column_mac(m, codes)
        assert y.shape == (20, ps.n_bits) and y.dtype == np.int64
        assert np.array_equal(recombine(y, ps), m @ decode(codes))
    # Non-canonical codes (every code of the set) obey the same identity.
    all_codes = make_codes(ps, BRUTE[name])
    m = rng.integers(0, 2, size=(5, all_codes.shape[0]))  # bit-serial inputs
    assert np.array_equal(recombine(ideal_column_mac(m, all_codes), ps), m @ decode(all_codes))


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(sorted(ALL_SETS)), st.data())
def test_mac_invariant_property(name, data):
    ps = ALL_SETS[name]
    rows = data.draw(st.integers(1, 12))
    cycles = data.draw(st.integers(1, 4))
    m = data.draw(hnp.arrays(np.int64, (cycles, rows), elements=st.integers(-7, 7)))
    x = data.draw(hnp.arrays(np.float64, (rows,), elements=st.floats(-1.2 * ps.max_value, 1.2 * ps.max_value)))
    codes = encode_int(x, ps)
    assert np.array_equal(recombine(ideal_column_mac(m, codes), ps), m @ decode(codes))


def test_ideal_column_mac_by_hand():
    """zebra-i: w0 = +8 (P=0, bits 1000), w1 = -20 (P=1, bits 0101 -> 16+4), inputs 2, 3."""
    ps = PRESETS["zebra-i"]
    codes = encode_int([8, -20], ps)
    assert code_at(codes, 0) == (0, 0, (1, 0, 0, 0))
    assert code_at(codes, 1) == (1, 1, (0, 1, 0, 1))
    y = ideal_column_mac([[2, 3]], codes)
    # Column i sums m * (-1)^S * b_i * 2^k: row 1 uses C2 = 4*C1.
    assert y.tolist() == [[2, -12, 0, -12]]
    assert recombine(y, ps).tolist() == [2 * 8 + 3 * -20]


def test_ideal_column_mac_carries_weight_columns():
    ps = PRESETS["zebra-ii"]
    rng = np.random.default_rng(3)
    codes = encode_int(rng.uniform(-170, 170, size=(16, 5)), ps)
    m = rng.integers(-3, 4, size=(6, 16))
    y = ideal_column_mac(m, codes)
    assert y.shape == (6, 5, ps.n_bits)
    assert np.array_equal(recombine(y, ps), m @ decode(codes))


def test_ideal_column_mac_rejects_bad_inputs():
    codes = encode_int([1, 2, 3], PRESETS["int4"])
    with pytest.raises(NetlistgenError, match=re.escape("(cycles, rows)")):
        ideal_column_mac([1, 2, 3], codes)
    with pytest.raises(NetlistgenError, match="4 rows"):
        ideal_column_mac(np.ones((2, 4), int), codes)
    with pytest.raises(NetlistgenError, match="0.5"):
        ideal_column_mac([[1, 0.5, 2]], codes)
    assert ideal_column_mac([[1.0, 0.0, 2.0]], codes).tolist() == [[0, 2, 3]]  # 1=001, 3=011
    with pytest.raises(NetlistgenError, match="n_bits=3"):
        recombine(np.zeros((2, 4)), PRESETS["int4"])


def test_recombine_float_results():
    ps = PRESETS["zebra-i"]
    assert recombine(np.array([0.5, 1.0, 0.0, 2.0]), ps) == pytest.approx(0.5 * 8 + 4 + 2)


def test_bit_columns_layout():
    ps = PRESETS["zebra-i"]
    rng = np.random.default_rng(11)
    weights = rng.choice(ps.values(), size=(6, 3))
    codes = encode_int(weights, ps)
    layout = bit_columns(codes)
    assert layout["w"].shape == (6, 3 * ps.n_bits) and layout["w"].dtype == np.uint8
    assert layout["s"].shape == layout["p"].shape == (6, 3)
    for r in range(6):
        for c in range(3):
            assert np.array_equal(layout["s"][r, c], codes.sign[r, c])
            assert np.array_equal(layout["p"][r, c], codes.pattern[r, c])
            for i in range(ps.n_bits):
                assert layout["w"][r, c * ps.n_bits + i] == codes.bits[r, c, i]
    # Rebuilding the weights from the physical layout gives the encoded values back.
    shift = np.array(ps.shifts)[layout["p"]]
    sign = 1 - 2 * layout["s"].astype(int)
    per_col = layout["w"].reshape(6, 3, ps.n_bits) @ (1 << np.array(ps.base))
    assert np.array_equal(sign * (per_col << shift), weights)
    with pytest.raises(NetlistgenError, match=re.escape("(rows, wcols)")):
        bit_columns(encode_int([1, 2], ps))
