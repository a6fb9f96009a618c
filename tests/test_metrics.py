"""Tests of netlistgen.analysis.metrics on synthetic data whose answers are known in closed form.

Each expected value is derived by hand in the test (not by calling the code under
test), e.g. a cosine bow sampled so that it is orthogonal to the fitted line, or a
power that is linear in time so the trapezoid rule is exact.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netlistgen.core.errors import NetlistgenError
from netlistgen.sim.energy import ENERGY_BOOKKEEPING, delivered_energy_j, energy_per_cycle
from netlistgen.analysis.area import AreaEstimate, area_efficiency_gops_per_mm2, area_estimate
from netlistgen.analysis.metrics import ColumnMetrics, Linearity, column_metrics, compute_snr_db, dnl_lsb, enob_bits, fit_linearity, fitted_back, tops_per_w
from netlistgen.core.jsonio import to_jsonable

# ------------------------------------------------------------------------ linearity


def test_perfect_line_has_zero_inl_and_infinite_snr():
    y = np.arange(-40, 41, dtype=float)
    v = 0.0123 * y + 0.45
    lin = fit_linearity(y, v)
    assert lin.inl_lsb == 0.0
    assert np.all(lin.residual_v == 0.0)
    assert lin.n_points == y.size
    assert compute_snr_db(y, v) == math.inf
    assert enob_bits(compute_snr_db(y, v)) == math.inf


@settings(max_examples=60, deadline=None)
@given(
    gain=st.one_of(st.floats(1e-6, 1.0), st.floats(-1.0, -1e-6)),
    offset=st.floats(-2.0, 2.0),
    y=st.lists(st.integers(-1000, 1000), min_size=2, max_size=200, unique=True),
)
def test_any_exact_line_is_perfect(gain, offset, y):
    y = np.array(y, dtype=float)
    v = gain * y + offset
    lin = fit_linearity(y, v)
    assert lin.inl_lsb == 0.0
    assert compute_snr_db(y, v, lin) == math.inf
    assert lin.gain_v_per_lsb == pytest.approx(gain, rel=1e-9)


def test_known_gain_and_offset_recovered():
    rng = np.random.default_rng(1)
    y = rng.integers(-170, 171, size=500).astype(float)
    gain, offset = -3.71e-3, 0.5503
    lin = fit_linearity(y, gain * y + offset)
    assert abs(lin.gain_v_per_lsb - gain) < 1e-12
    assert abs(lin.offset_v - offset) < 1e-12
    y_back = fitted_back(y, gain * y + offset)
    np.testing.assert_allclose(y_back, y, rtol=0, atol=1e-9)


def test_fitted_back_uses_given_linearity():
    y = np.array([0.0, 1.0, 2.0])
    v = np.array([0.1, 0.3, 0.5])
    lin = Linearity(gain_v_per_lsb=0.1, offset_v=0.0, inl_lsb=0.0,
                    residual_v=np.zeros(3), n_points=3)
    np.testing.assert_allclose(fitted_back(y, v, lin), [1.0, 3.0, 5.0])


def test_cosine_bow_gives_inl_of_its_amplitude():
    # y = 0..N-1 with N odd and bow cos(2*pi*(y+0.5)/N): symmetric about the centre,
    # zero-sum, so orthogonal to the line; it reaches -1 exactly at y = (N-1)/2.
    n, gain, offset, amp_v = 101, 2.5e-3, -0.02, 0.7e-3
    y = np.arange(n, dtype=float)
    bow_v = amp_v * np.cos(2 * np.pi * (y + 0.5) / n)
    lin = fit_linearity(y, gain * y + offset + bow_v)
    assert lin.gain_v_per_lsb == pytest.approx(gain, rel=1e-12)
    assert lin.offset_v == pytest.approx(offset, rel=1e-10)
    assert lin.inl_lsb == pytest.approx(amp_v / gain, rel=1e-9)
    np.testing.assert_allclose(lin.residual_v, bow_v, rtol=0, atol=1e-15)


def test_inl_uses_magnitude_of_negative_gain():
    n, amp_v = 51, 1e-3
    y = np.arange(n, dtype=float)
    bow_v = amp_v * np.cos(2 * np.pi * (y + 0.5) / n)
    lin = fit_linearity(y, -4e-3 * y + bow_v)
    assert lin.inl_lsb == pytest.approx(0.25, rel=1e-9)


def test_residual_keeps_input_order_and_is_read_only():
    y = np.array([3.0, 0.0, 2.0, 1.0])
    v = 0.1 * y + np.array([0.0, 0.0, 0.01, 0.0])
    lin = fit_linearity(y, v)
    # the bump sits at index 2 (y = 2): its residual is the largest
    assert int(np.argmax(lin.residual_v)) == 2
    with pytest.raises(ValueError):
        lin.residual_v[0] = 1.0


def test_gaussian_noise_snr_matches_variance_ratio():
    rng = np.random.default_rng(7)
    y = rng.integers(-64, 65, size=200_000).astype(float)
    sigma_lsb, gain, offset = 0.8, 1.7e-3, 0.3
    v = gain * (y + sigma_lsb * rng.standard_normal(y.size)) + offset
    expected_db = 10 * math.log10(np.var(y) / sigma_lsb**2)
    snr = compute_snr_db(y, v)
    assert snr == pytest.approx(expected_db, abs=0.3)
    assert enob_bits(snr) == pytest.approx((expected_db - 1.76) / 6.02, abs=0.3 / 6.02)


def test_enob_formula():
    assert enob_bits(1.76) == pytest.approx(0.0)
    assert enob_bits(6.02 * 8 + 1.76) == pytest.approx(8.0)


# ------------------------------------------------------------------------------ DNL


def _doubled_step_sweep(n_codes=33, doubled_at=17, gain=2e-3, offset=0.1):
    """Codes 0..n-1 whose step into `doubled_at` is two LSB wide."""
    y = np.arange(n_codes, dtype=float)
    v = gain * (y + (y >= doubled_at)) + offset
    return y, v


def test_dnl_with_given_gain_is_exact():
    y, v = _doubled_step_sweep()
    dnl = dnl_lsb(y, v, gain_v_per_lsb=2e-3)
    assert dnl.shape == (32,)
    assert dnl[16] == pytest.approx(1.0, abs=1e-12)  # step 16 -> 17
    np.testing.assert_allclose(np.delete(dnl, 16), 0.0, atol=1e-12)


def test_dnl_with_fitted_gain_flags_the_doubled_step():
    y, v = _doubled_step_sweep()
    dnl = dnl_lsb(y, v)
    # The least-squares gain absorbs part of the extra LSB: over codes 0..32 the step
    # indicator (y >= 17) has slope sum_{y>=17}(y-16) / sum(y-16)^2 = 136/2992 = 1/22,
    # so gain = g*23/22, the doubled step reads 2*22/23 - 1 and the others -1/23.
    assert int(np.argmax(dnl)) == 16
    assert dnl[16] == pytest.approx(21 / 23, abs=1e-12)
    np.testing.assert_allclose(np.delete(dnl, 16), -1 / 23, atol=1e-12)


def test_dnl_sorts_and_averages_repeated_codes():
    y, v = _doubled_step_sweep()
    # each code measured twice, +-d around the true value, in shuffled order
    d = 0.3e-3
    y2 = np.concatenate([y, y])
    v2 = np.concatenate([v + d, v - d])
    order = np.random.default_rng(3).permutation(y2.size)
    dnl = dnl_lsb(y2[order], v2[order], gain_v_per_lsb=2e-3)
    assert dnl[16] == pytest.approx(1.0, abs=1e-9)
    np.testing.assert_allclose(np.delete(dnl, 16), 0.0, atol=1e-9)


def test_dnl_normalises_by_code_step():
    y = np.array([0.0, 4.0, 8.0, 12.0])
    v = 1e-3 * np.array([0.0, 4.0, 8.0, 14.0])  # last step 6 LSB instead of 4
    dnl = dnl_lsb(y, v, gain_v_per_lsb=1e-3)
    np.testing.assert_allclose(dnl, [0.0, 0.0, 0.5], atol=1e-12)


def test_dnl_needs_three_distinct_codes():
    with pytest.raises(NetlistgenError, match="3 distinct codes"):
        dnl_lsb([0.0, 1.0, 1.0, 0.0], [0.0, 1.0, 1.0, 0.0])


# -------------------------------------------------------------------- column metrics


def test_column_metrics_per_column_and_pooled():
    rng = np.random.default_rng(11)
    cycles = 4000
    y = rng.integers(-20, 21, size=(cycles, 3)).astype(float)
    gains = np.array([1e-3, 1.1e-3, 0.9e-3])
    offsets = np.array([0.01, -0.02, 0.0])
    sigma_lsb = np.array([0.0, 0.5, 1.0])
    noise = sigma_lsb * rng.standard_normal((cycles, 3))
    v = gains * (y + noise) + offsets
    cols, overall = column_metrics(y, v)

    assert [c.column for c in cols] == [0, 1, 2]
    assert all(isinstance(c, ColumnMetrics) for c in cols)
    assert cols[0].snr_db == math.inf and cols[0].inl_lsb == 0.0
    assert cols[0].gain_v_per_lsb == pytest.approx(1e-3, rel=1e-12)
    assert cols[1].gain_v_per_lsb == pytest.approx(1.1e-3, rel=1e-2)
    for c in (1, 2):
        assert cols[c].snr_db == pytest.approx(compute_snr_db(y[:, c], v[:, c]), rel=1e-12)
        assert cols[c].snr_db == pytest.approx(
            10 * math.log10(np.var(y[:, c]) / sigma_lsb[c] ** 2), abs=0.3
        )
    # every random column covers all 41 codes here, so DNL applies
    assert all(math.isfinite(c.dnl_lsb_max) for c in cols)

    # pooled: errors from per-column fits against the pooled ideal values
    err = np.concatenate(
        [fitted_back(y[:, c], v[:, c]) - y[:, c] for c in range(3)]
    )
    pooled = 10 * math.log10(np.var(y) / np.mean(err**2))
    assert overall["snr_db"] == pytest.approx(pooled, abs=1e-6)
    assert overall["snr_db_min"] == cols[2].snr_db
    assert overall["snr_db_mean"] == math.inf
    assert overall["n_columns"] == 3 and overall["unfit_columns"] == []
    assert overall["n_points"] == 3 * cycles


def test_column_metrics_dnl_only_for_uniform_sweeps():
    y = np.array([[0.0, 0.0], [1.0, 5.0], [2.0, 7.0], [3.0, 20.0]])
    v = 1e-3 * y
    cols, _ = column_metrics(y, v)
    assert cols[0].dnl_lsb_max == pytest.approx(0.0, abs=1e-9)
    assert math.isnan(cols[1].dnl_lsb_max)


def test_column_metrics_marks_constant_column_unfit():
    y = np.array([[0.0, 1.0], [1.0, 1.0], [2.0, 1.0]])
    v = np.array([[0.0, 0.5], [0.1, 0.5], [0.2, 0.5]])
    cols, overall = column_metrics(y, v)
    assert overall["unfit_columns"] == [1]
    assert overall["n_fitted_columns"] == 1
    assert math.isnan(cols[1].snr_db) and math.isnan(cols[1].gain_v_per_lsb)
    assert overall["snr_db"] == math.inf


def test_column_metrics_errors():
    with pytest.raises(NetlistgenError, match="shape"):
        column_metrics(np.zeros((4, 2)), np.zeros((4, 3)))
    with pytest.raises(NetlistgenError, match="constant"):
        column_metrics(np.ones((4, 2)), np.zeros((4, 2)))
    y = np.arange(8.0).reshape(4, 2)
    v = y.copy()
    v[:, 1] = 0.3  # dead column: y varies, V does not
    with pytest.raises(NetlistgenError, match="column 1"):
        column_metrics(y, v)


# ------------------------------------------------------------------ linearity errors


@pytest.mark.parametrize(
    "y, v, match",
    [
        ([0.0, 1.0, 2.0], [0.0, 1.0], "differ in length"),
        ([1.0], [1.0], "at least 2"),
        ([2.0, 2.0, 2.0], [0.0, 1.0, 2.0], "constant"),
        ([0.0, 1.0, 2.0], [0.0, float("nan"), 2.0], r"v_meas\[1\] = nan"),
        ([[0.0, 1.0]], [[0.0, 1.0]], "1-D"),
        ([0.0, 1.0, 2.0], [0.5, 0.5, 0.5], "gain is 0"),
        (["a", "b"], [0.0, 1.0], "numeric"),
    ],
)
def test_fit_errors(y, v, match):
    with pytest.raises(NetlistgenError, match=match):
        fit_linearity(y, v)


def test_snr_errors():
    with pytest.raises(NetlistgenError):
        compute_snr_db([1.0, 1.0], [0.0, 1.0])
    with pytest.raises(NetlistgenError):
        compute_snr_db([0.0, 1.0], [0.0, float("inf")])


def test_error_messages_are_one_line():
    for call in (lambda: fit_linearity(["x\ny"], [0.0]),
                 lambda: fit_linearity([0.0, 1.0], [0.0, 1.0, 2.0])):
        with pytest.raises(NetlistgenError) as info:
            call()
        assert "\n" not in str(info.value)


# --------------------------------------------------------------------------- energy


def test_constant_source_delivers_one_picojoule():
    t = np.linspace(0.0, 1e-9, 11)
    v = np.full(t.size, 1.0)
    i = np.full(t.size, -1e-3)  # ngspice: current into +, negative = delivering
    delivered, net = delivered_energy_j(t, v, i, 0.0, 1e-9)
    assert delivered == pytest.approx(1e-12, rel=1e-12)
    assert net == pytest.approx(1e-12, rel=1e-12)


def test_absorbing_source_delivers_nothing():
    t = np.linspace(0.0, 1e-9, 11)
    delivered, net = delivered_energy_j(t, np.ones(11), np.full(11, 1e-3), 0.0, 1e-9)
    assert delivered == 0.0
    assert net == pytest.approx(-1e-12, rel=1e-12)


def test_square_reversal_counts_only_positive_half():
    # ngspice puts a breakpoint (repeated time point) at the instant of reversal
    t = np.array([0.0, 0.5e-9, 1e-9, 1e-9, 1.5e-9, 2e-9])
    i = np.array([-1e-3, -1e-3, -1e-3, 1e-3, 1e-3, 1e-3])
    delivered, net = delivered_energy_j(t, np.ones(6), i, 0.0, 2e-9)
    assert delivered == pytest.approx(1e-12, rel=1e-12)
    assert net == pytest.approx(0.0, abs=1e-27)


def test_sinusoidal_reversal():
    period_s, amp_a, vdd_v = 2e-9, 1e-3, 0.9
    t = np.linspace(0.0, period_s, 20001)
    i = -amp_a * np.sin(2 * np.pi * t / period_s)
    delivered, net = delivered_energy_j(t, np.full(t.size, vdd_v), i, 0.0, period_s)
    # integral of max(0, V*I*sin) over one period = V*I*T/pi
    assert delivered == pytest.approx(vdd_v * amp_a * period_s / np.pi, rel=1e-6)
    assert abs(net) < 1e-9 * delivered


def test_zero_crossing_converges_with_the_step():
    # p goes linearly from +1 mW to -1 mW over 1 ns: positive area = 0.25 pJ. The step-charge
    # rule clips per step, so one step gives 0 and the error shrinks with the step
    for n, rel in ((2, None), (101, 2e-2), (1001, 2e-3)):
        t = np.linspace(0.0, 1e-9, n)
        i = np.linspace(-1e-3, 1e-3, n)
        delivered, net = delivered_energy_j(t, np.ones(n), i, 0.0, 1e-9)
        assert net == pytest.approx(0.0, abs=1e-27)
        if rel is None:
            assert delivered == 0.0
        else:
            assert delivered == pytest.approx(0.25e-12, rel=rel)
    delivered, _ = delivered_energy_j(np.array([0.0, 1e-9]), np.ones(2), np.array([-1e-3, 1e-3]), 0.0, 1e-9,
                                      quadrature="pointwise")
    assert delivered == pytest.approx(0.25e-12, rel=1e-12)  # the pointwise rule splits the segment


def test_delivered_minus_absorbed_equals_net():
    rng = np.random.default_rng(5)
    t = np.cumsum(rng.uniform(1e-12, 1e-11, size=500))
    v = rng.uniform(0.0, 1.0, t.size)
    i = rng.normal(0.0, 1e-4, t.size)
    t0, t1 = t[3] + 2e-13, t[-7] - 3e-12
    d_plus, net = delivered_energy_j(t, v, i, t0, t1)
    d_minus, _ = delivered_energy_j(t, v, -i, t0, t1)
    assert d_plus - d_minus == pytest.approx(net, rel=1e-9, abs=1e-30)
    assert d_plus >= 0 and d_minus >= 0


def test_window_edges_are_interpolated():
    # p = -v*i = 1 mW per ns of time, linear, so the trapezoid rule is exact
    t = np.array([0.0, 1e-9, 2e-9, 3e-9])
    v = np.ones(4)
    i = -1e-3 * t / 1e-9
    slope_w_per_s = 1e-3 / 1e-9

    def exact(a, b):
        return slope_w_per_s * (b * b - a * a) / 2

    for a, b in [(0.25e-9, 2.5e-9), (1.2e-9, 1.7e-9), (1e-9, 2e-9), (0.0, 3e-9)]:
        delivered, net = delivered_energy_j(t, v, i, a, b)
        assert delivered == pytest.approx(exact(a, b), rel=1e-12)
        assert net == pytest.approx(exact(a, b), rel=1e-12)


def test_window_edge_slack_is_clipped():
    t = np.linspace(0.0, 1e-9, 11)
    delivered, _ = delivered_energy_j(t, np.ones(11), np.full(11, -1e-3), 0.0, 1e-9 * (1 + 1e-12))
    assert delivered == pytest.approx(1e-12, rel=1e-9)


@pytest.mark.parametrize(
    "t, t0, t1, match",
    [
        (np.linspace(0, 1e-9, 5), 0.5e-9, 2e-9, "outside the simulated span"),
        (np.linspace(0, 1e-9, 5), -1e-9, 0.5e-9, "outside the simulated span"),
        (np.linspace(0, 1e-9, 5), 0.6e-9, 0.5e-9, "empty"),
        (np.linspace(0, 1e-9, 5), 0.5e-9, 0.5e-9, "empty"),
        (np.array([0.0, 2e-9, 1e-9, 3e-9, 4e-9]), 0.0, 1e-9, "non-decreasing"),
        (np.linspace(0, 1e-9, 5), float("nan"), 1e-9, "finite"),
    ],
)
def test_energy_window_errors(t, t0, t1, match):
    with pytest.raises(NetlistgenError, match=match):
        delivered_energy_j(t, np.ones(5), np.zeros(5), t0, t1)


def test_energy_length_mismatch():
    with pytest.raises(NetlistgenError, match="one value per time point"):
        delivered_energy_j(np.linspace(0, 1e-9, 5), np.ones(4), np.zeros(5), 0.0, 1e-9)


def test_energy_per_cycle_sums_delivered_per_source():
    t = np.linspace(0.0, 3e-9, 301)
    cycle = np.floor(t / 1e-9)
    # VDD delivers 1 mW always; VCM absorbs 0.5 mW in cycle 1 and delivers 2 mW otherwise
    vdd = (np.full(t.size, 1.0), np.full(t.size, -1e-3))
    vcm_i = np.where(cycle == 1, 1e-3, -4e-3)
    vcm = (np.full(t.size, 0.5), vcm_i)
    windows = [(0.0, 0.9e-9), (1.05e-9, 1.95e-9), (2.05e-9, 2.95e-9)]
    out = energy_per_cycle(t, {"VDD": vdd, "VCM": vcm}, windows)
    dur = 0.9e-9
    np.testing.assert_allclose(out["per_source_delivered_j"]["VDD"], 1e-3 * dur, rtol=1e-9)
    np.testing.assert_allclose(
        out["per_source_delivered_j"]["VCM"], [2e-3 * dur, 0.0, 2e-3 * dur], rtol=1e-9, atol=1e-30
    )
    np.testing.assert_allclose(
        out["per_source_net_j"]["VCM"], [2e-3 * dur, -0.5e-3 * dur, 2e-3 * dur], rtol=1e-9
    )
    # headline: the absorbing VCM does not cancel VDD's draw in cycle 1
    np.testing.assert_allclose(out["delivered_j"], [3e-3 * dur, 1e-3 * dur, 3e-3 * dur], rtol=1e-9)
    np.testing.assert_allclose(out["net_j"], [3e-3 * dur, 0.5e-3 * dur, 3e-3 * dur], rtol=1e-9)
    assert out["delivered_j"].shape == (3,)
    assert "max(0, p)" in ENERGY_BOOKKEEPING


def test_energy_per_cycle_errors():
    t = np.linspace(0.0, 1e-9, 11)
    src = {"VDD": (np.ones(11), np.zeros(11))}
    with pytest.raises(NetlistgenError, match="at least one source"):
        energy_per_cycle(t, {}, [(0.0, 1e-9)])
    with pytest.raises(NetlistgenError, match="at least one cycle"):
        energy_per_cycle(t, src, [])
    with pytest.raises(NetlistgenError, match="cycle 1"):
        energy_per_cycle(t, src, [(0.0, 0.5e-9), (0.5e-9, 2e-9)])
    with pytest.raises(NetlistgenError, match="'VSS'"):
        energy_per_cycle(t, {"VSS": (np.ones(10), np.zeros(11))}, [(0.0, 1e-9)])
    with pytest.raises(NetlistgenError, match="pair"):
        energy_per_cycle(t, {"VDD": np.ones(11)}, [(0.0, 1e-9)])


def test_tops_per_w_arithmetic():
    # 64 MACs = 128 OPs per 1 pJ -> 128e12 OP/J = 128 TOPS/W
    assert tops_per_w(1e-12, 64) == pytest.approx(128.0)
    assert tops_per_w(2e-12, 0) == 0.0
    for bad in (0.0, -1e-12, float("nan"), float("inf")):
        with pytest.raises(NetlistgenError, match="energy_per_cycle_j"):
            tops_per_w(bad, 64)
    with pytest.raises(NetlistgenError, match="macs_per_cycle"):
        tops_per_w(1e-12, -1)


# ----------------------------------------------------------------------------- area


def test_area_estimate_additive_model():
    est = area_estimate(
        n_transistors_per_cell=4,
        transistor_area_m2=0.1e-12,
        cap_f_per_cell=2e-15,
        cap_density_f_per_m2=2e-3,  # 2 fF/um^2
        sram_cells_per_cell=16,
        sram6t_area_m2=0.12e-12,
        cells=1000,
        weights_stored=4000,
        periphery_area_m2=1e-9,
    )
    assert isinstance(est, AreaEstimate)
    assert est.transistor_area_per_cell_m2 == pytest.approx(0.4e-12)
    assert est.cap_area_per_cell_m2 == pytest.approx(1e-12)
    assert est.sram_area_per_cell_m2 == pytest.approx(1.92e-12)
    assert est.cell_area_m2 == pytest.approx(3.32e-12)
    assert est.array_area_m2 == pytest.approx(3.32e-9)
    assert est.total_area_m2 == pytest.approx(4.32e-9)
    assert est.n_transistors == 1000 * (4 + 6 * 16)
    assert est.n_caps == 1000
    assert est.parameter_density_per_m2 == pytest.approx(4000 / 4.32e-9)


def test_area_estimate_per_role_and_list_forms():
    common = dict(cap_f_per_cell=0.0, cap_density_f_per_m2=0.0, sram_cells_per_cell=0,
                  sram6t_area_m2=0.0, cells=1, weights_stored=1)
    by_role = area_estimate(n_transistors_per_cell={"switch": 2, "inv": 4},
                            transistor_area_m2={"switch": 1e-13, "inv": 2e-13}, **common)
    assert by_role.cell_area_m2 == pytest.approx(1e-12)
    assert by_role.n_transistors == 6
    listed = area_estimate(n_transistors_per_cell=3,
                           transistor_area_m2=[1e-13, 2e-13, 3e-13], **common)
    assert listed.cell_area_m2 == pytest.approx(6e-13)
    with pytest.raises(NetlistgenError, match="roles"):
        area_estimate(n_transistors_per_cell={"switch": 2},
                      transistor_area_m2={"inv": 1e-13}, **common)
    with pytest.raises(NetlistgenError, match="lists 2 areas"):
        area_estimate(n_transistors_per_cell=3, transistor_area_m2=[1e-13, 2e-13], **common)
    with pytest.raises(NetlistgenError, match="cells"):
        area_estimate(n_transistors_per_cell=3, transistor_area_m2=1e-13,
                      **{**common, "cells": 0})
    with pytest.raises(NetlistgenError, match="cap_density"):
        area_estimate(n_transistors_per_cell=3, transistor_area_m2=1e-13,
                      **{**common, "cap_f_per_cell": 1e-15})


def test_area_efficiency():
    # 1e12 OP/s on 2 mm^2 -> 500 GOPS/mm^2
    assert area_efficiency_gops_per_mm2(1e12, 2e-6) == pytest.approx(500.0)
    with pytest.raises(NetlistgenError, match="area_m2"):
        area_efficiency_gops_per_mm2(1e12, 0.0)


# ----------------------------------------------------------------------------- JSON


def test_to_jsonable_is_strict_json():
    y = np.arange(5.0)
    lin = fit_linearity(y, 0.1 * y)
    cols, overall = column_metrics(np.stack([y, np.full(5, 2.0)], axis=1),
                                   np.stack([0.1 * y, np.zeros(5)], axis=1))
    payload = {"lin": lin, "cols": cols, "overall": overall, "n": np.int64(3),
               "flag": np.bool_(True), "neg": -np.inf, 7: (1, 2)}
    text = json.dumps(to_jsonable(payload), allow_nan=False)
    back = json.loads(text)
    assert back["lin"]["inl_lsb"] == 0.0
    assert back["lin"]["residual_v"] == [0.0] * 5
    assert back["overall"]["snr_db"] == "inf"
    assert back["cols"][1]["snr_db"] == "nan"
    assert back["neg"] == "-inf" and back["7"] == [1, 2]
    assert back["n"] == 3 and back["flag"] is True
    assert float(back["overall"]["snr_db"]) == math.inf
    with pytest.raises(TypeError):
        to_jsonable(object())
