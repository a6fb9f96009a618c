"""Piecewise-linear waveforms of the testbench's digital controls."""

from __future__ import annotations

from netlistgen.core import validate


def pwl_pairs(points: list[tuple[float, float]]) -> list[str]:
    """PWL pairs, dropping points that do not change the waveform."""
    out: list[tuple[float, float]] = []
    for t, v in points:
        if len(out) >= 2 and out[-1][1] == v and out[-2][1] == v:
            out[-1] = (t, v)
        else:
            out.append((t, v))
    return [f"{validate.fmt(t)} {validate.fmt(v)}" for t, v in out]


def digital(edges: list[tuple[float, bool]], initial: bool, high_v: float, edge_s: float) -> list[tuple[float, float]]:
    """A logic waveform from (time, new level) edges; each edge ramps over edge_s."""
    level = initial
    pts = [(0.0, high_v if level else 0.0)]
    for t, new in edges:
        if new == level:
            continue
        pts.append((t, high_v if level else 0.0))
        pts.append((t + edge_s, high_v if new else 0.0))
        level = new
    return pts


def split_ramps(wave: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The same waveform with a corner at the middle of every ramp.

    Why: an ideal switch driven by a wave and its complement (vt = 0 on their difference)
    changes state exactly there. A corner makes both engines put a time point on that
    instant and restart with a short step, so the switch's sub-picosecond RC edge is
    resolved; without it ngspice flipped the switch inside a 2 ps step and its trapezoidal
    rule rang for tens of steps, counting +2..+6 % delivered energy on the LCC rails
    (docs/vacask.md, "LCC row select")."""
    out = wave[:1]
    for (t0, v0), (t1, v1) in zip(wave, wave[1:]):
        if v0 != v1:
            out.append(((t0 + t1) / 2, (v0 + v1) / 2))
        out.append((t1, v1))
    return out


def complement(wave: list[tuple[float, float]], high_v: float) -> list[tuple[float, float]]:
    """The inverted control (enb of an en)."""
    return [(t, high_v - v) for t, v in wave]
