"""Per-cycle supply energy from raw source vectors (SPEC section 5 bookkeeping).

ngspice reports a voltage source's branch current as flowing into its + terminal, so the
power a source delivers is p = -v*i. The headline per source is the delivered energy
integral max(0, p) dt (a reference or driver cannot take energy back); the net integral
p dt is reported beside it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from netlistgen.core.errors import NetlistgenError
from netlistgen.core.arrays import as_1d, scalar

# A window edge may overshoot the simulated time span by this fraction of the span
# (tstop printed with limited digits), and is then clipped to the span.
_WINDOW_EDGE_SLACK = 1e-9

# A sample is at a breakpoint if it lies this close to it (engines place a time point
# on each PWL corner to double precision; their smallest steps are ~1e-16 s).
_BREAKPOINT_TOLERANCE_S = 1e-18

# The first simulated cycle starts from VCM with nothing to reset, so it costs far less
# than a steady cycle (SPEC section 5): it is simulated as a warm-up and never averaged.
WARMUP_CYCLES = 1

ENERGY_BOOKKEEPING = (
    "per source p = -v*i (ngspice branch current flows into the + terminal); "
    "delivered = integral of max(0, p) dt over each cycle window, summed over sources "
    "(headline); net = integral of p dt; taken per simulator step as -v_mid * (trapezoid of i; "
    "i[k+1]*h on a step starting at a PWL corner, where the integrator restarts at order 1), "
    "delivered summing the steps with positive energy (cancels trapezoidal ringing), window edges "
    "linearly interpolated; the first (warm-up) cycle is simulated and not averaged"
)


def energy_run_cycles(averaged_cycles: int) -> int:
    """Cycles an energy run simulates so that `averaged_cycles` remain after the warm-up."""
    return int(averaged_cycles) + WARMUP_CYCLES


def steady_mean(per_cycle) -> float:
    """Mean of per-cycle values after the warm-up cycle(s)."""
    x = as_1d("per-cycle energy", per_cycle)
    if x.size <= WARMUP_CYCLES:
        raise NetlistgenError(
            f"an energy run needs more than {WARMUP_CYCLES} cycle(s) (the first is a warm-up), got {x.size}"
        )
    return float(np.mean(x[WARMUP_CYCLES:]))



def _time_axis(t_s) -> np.ndarray:
    t = as_1d("t_s", t_s)
    if t.size < 2:
        raise NetlistgenError(f"t_s needs at least 2 time points, got {t.size}")
    steps = np.diff(t)
    if (steps < 0).any():
        k = int(np.flatnonzero(steps < 0)[0])
        raise NetlistgenError(
            f"t_s must be non-decreasing: t_s[{k + 1}] = {t[k + 1]:g} < t_s[{k}] = {t[k]:g}"
        )
    return t


def _window(t: np.ndarray, t0_s, t1_s) -> tuple[float, float, int, int]:
    """Validated, clipped window and the index range of samples strictly inside it."""
    t0 = scalar("window start t0_s", t0_s)
    t1 = scalar("window end t1_s", t1_s)
    if not t1 > t0:
        raise NetlistgenError(f"window ({t0:g}, {t1:g}) s is empty: end must be after start")
    slack = _WINDOW_EDGE_SLACK * (t[-1] - t[0])
    if t0 < t[0] - slack or t1 > t[-1] + slack:
        raise NetlistgenError(
            f"window ({t0:g}, {t1:g}) s lies outside the simulated span "
            f"({t[0]:g}, {t[-1]:g}) s"
        )
    t0, t1 = max(t0, float(t[0])), min(t1, float(t[-1]))
    lo = int(np.searchsorted(t, t0, side="right"))
    hi = int(np.searchsorted(t, t1, side="left"))
    return t0, t1, lo, hi


def _interp_at(t: np.ndarray, x: np.ndarray, te: float) -> float:
    """Linear interpolation of x at one time; O(log n) unlike np.interp's array pass."""
    k = int(np.searchsorted(t, te, side="right"))
    if k <= 0:
        return float(x[0])
    if k >= t.size:
        return float(x[-1])
    w = (te - t[k - 1]) / (t[k] - t[k - 1])  # t[k-1] <= te < t[k]
    return float(x[k - 1] + w * (x[k] - x[k - 1]))


def restart_steps(t: np.ndarray, breakpoints_s=()) -> np.ndarray:
    """Per simulator step: True where the step starts at a breakpoint (a PWL corner).

    Why: at a breakpoint both engines restart their integrator at order 1 (backward
    Euler), so the charge a source moves over that first step is i[k+1]*h, not the
    trapezoid. The sample at the breakpoint is the current's left limit (before a
    driver's slope changes), and a step after it can be long (VACASK: a full max step,
    ngspice: 0.1 ps); the trapezoid then misses half the current jump times the step
    (docs/vacask.md: this was the 1 % cross-engine energy gap).
    """
    restart = np.zeros(t.size - 1, dtype=bool)
    bp = np.unique(np.asarray(breakpoints_s, dtype=float))
    if bp.size:
        above = np.clip(np.searchsorted(t, bp), 0, t.size - 1)  # t[above - 1] < bp <= t[above]
        below = np.maximum(above - 1, 0)
        k = np.where(np.abs(t[above] - bp) <= np.abs(t[below] - bp), above, below)  # nearest sample
        restart[k[(np.abs(t[k] - bp) <= _BREAKPOINT_TOLERANCE_S) & (k < t.size - 1)]] = True
    return restart


def _windowed(t, v, i, t0, t1, lo, hi, restart=None):
    """Time grid [t0, samples inside, t1] with v and i on it (edges interpolated) and the
    restart flag of each step on that grid. Inside a restart step the current is its
    right-end sample, so an edge falling in one takes that value."""
    if restart is None:
        restart = np.zeros(t.size - 1, dtype=bool)
    rw = restart[lo - 1:hi]
    i0 = float(i[lo]) if rw[0] else _interp_at(t, i, t0)
    i1 = float(i[hi]) if rw[-1] else _interp_at(t, i, t1)
    tw = np.concatenate(([t0], t[lo:hi], [t1]))
    vw = np.concatenate(([_interp_at(t, v, t0)], v[lo:hi], [_interp_at(t, v, t1)]))
    iw = np.concatenate(([i0], i[lo:hi], [i1]))
    return tw, vw, iw, rw


def _step_charge(t: np.ndarray, v: np.ndarray, i: np.ndarray, restart: np.ndarray) -> tuple[float, float]:
    """(delivered, net): per simulator step, charge dq = trapezoid of i (i[k+1]*h on a step
    that starts at a breakpoint, see restart_steps), energy -v_mid*dq; delivered sums the
    steps whose energy is positive.

    Why per step: ngspice's trapezoidal integration makes a source that drives a
    capacitive node directly ring from sample to sample (i alternates around its true
    value). The trapezoid of i over a step is the charge the integration method itself
    conserves, so the ringing cancels within each step; clipping p sample by sample
    instead counted every negative swing as extra delivered energy (+3-5 % at 10 ps on
    ngspice, docs/vacask.md).
    """
    h = np.diff(t)
    dq = np.where(restart, i[1:] * h, 0.5 * (i[1:] + i[:-1]) * h)
    de = -0.5 * (v[1:] + v[:-1]) * dq
    return float(np.sum(np.maximum(de, 0.0))), float(np.sum(de))


def _pointwise(t: np.ndarray, v: np.ndarray, i: np.ndarray, restart: np.ndarray) -> tuple[float, float]:
    """(delivered, net) of p = -v*i taken linear between samples, the positive part split
    at zero crossings (restart steps ignored). Kept to show what the step-charge rule
    fixes: it turns trapezoidal ringing into delivered energy."""
    p = -v * i
    dt = np.diff(t)
    p0, p1 = p[:-1], p[1:]
    area = np.where((p0 >= 0) & (p1 >= 0), 0.5 * (p0 + p1) * dt, 0.0)
    cross = ((p0 > 0) & (p1 < 0)) | ((p0 < 0) & (p1 > 0))
    if cross.any():
        pos = np.maximum(p0[cross], p1[cross])
        span = np.abs(p0[cross]) + np.abs(p1[cross])
        area[cross] = 0.5 * pos * pos / span * dt[cross]
    return float(np.sum(area)), float(np.sum(0.5 * (p0 + p1) * dt))


# How a source's sampled (v, i) becomes (delivered, net) energy: the default, and the old
# rule kept for the step-convergence study (benchmarks/bench_step_convergence.py).
QUADRATURES = {"step-charge": _step_charge, "pointwise": _pointwise}
DEFAULT_QUADRATURE = "step-charge"


def _quadrature(name: str):
    if name not in QUADRATURES:
        raise NetlistgenError(f"unknown energy quadrature {name!r}; known: {', '.join(QUADRATURES)}")
    return QUADRATURES[name]


def _source_arrays(name: str, t: np.ndarray, v_v, i_a) -> tuple[np.ndarray, np.ndarray]:
    v = as_1d(f"{name} voltage", v_v)
    i = as_1d(f"{name} current", i_a)
    if v.size != t.size or i.size != t.size:
        raise NetlistgenError(
            f"{name}: voltage ({v.size}) and current ({i.size}) must have one value per "
            f"time point ({t.size})"
        )
    return v, i


def delivered_energy_j(t_s, v_v, i_a, t0_s, t1_s, quadrature: str = DEFAULT_QUADRATURE,
                       breakpoints_s=()) -> tuple[float, float]:
    """(delivered, net) energy in J of one source over [t0_s, t1_s].

    p = -v*i (ngspice's branch current flows into the + terminal). delivered is the
    integral of max(0, p), net the integral of p, by `quadrature` on the sample grid
    with the window edges linearly interpolated; `breakpoints_s` are the PWL corners
    (restart_steps).
    """
    rule = _quadrature(quadrature)
    t = _time_axis(t_s)
    v, i = _source_arrays("source", t, v_v, i_a)
    t0, t1, lo, hi = _window(t, t0_s, t1_s)
    return rule(*_windowed(t, v, i, t0, t1, lo, hi, restart_steps(t, breakpoints_s)))


def energy_per_cycle(
    t_s,
    sources: Mapping[str, tuple[np.ndarray, np.ndarray]],
    windows: Sequence[tuple[float, float]],
    quadrature: str = DEFAULT_QUADRATURE,
    breakpoints_s=(),
) -> dict:
    """Delivered and net energy per cycle window, total and per source.

    breakpoints_s: the bench's PWL corner times, where the engines restart their
    integrator (restart_steps); empty = every step is a trapezoid.

    sources maps a name to (v_v, i_a) sampled on t_s. The total delivered energy is
    the sum of each source's own delivered energy (one source's return current does
    not offset another's draw), per ENERGY_BOOKKEEPING.
    """
    rule = _quadrature(quadrature)
    t = _time_axis(t_s)
    if not sources:
        raise NetlistgenError("energy_per_cycle needs at least one source")
    if len(windows) == 0:
        raise NetlistgenError("energy_per_cycle needs at least one cycle window")
    arrays = {}
    for name, pair in sources.items():
        try:
            v_v, i_a = pair
        except (TypeError, ValueError):
            raise NetlistgenError(f"source {name!r} must be a (voltage, current) pair") from None
        arrays[str(name)] = _source_arrays(f"source {name!r}", t, v_v, i_a)
    spans = []
    for k, win in enumerate(windows):
        try:
            t0_s, t1_s = win
        except (TypeError, ValueError):
            raise NetlistgenError(f"window {k} must be a (t0_s, t1_s) pair, got {win!r}") from None
        try:
            spans.append(_window(t, t0_s, t1_s))
        except NetlistgenError as exc:
            raise NetlistgenError(f"cycle {k}: {exc}") from None

    restart = restart_steps(t, breakpoints_s)
    n = len(spans)
    per_delivered = {name: np.empty(n) for name in arrays}
    per_net = {name: np.empty(n) for name in arrays}
    for name, (v, i) in arrays.items():
        for k, (t0, t1, lo, hi) in enumerate(spans):
            per_delivered[name][k], per_net[name][k] = rule(*_windowed(t, v, i, t0, t1, lo, hi, restart))
    return {
        "delivered_j": np.sum(list(per_delivered.values()), axis=0),
        "net_j": np.sum(list(per_net.values()), axis=0),
        "per_source_delivered_j": per_delivered,
        "per_source_net_j": per_net,
    }


