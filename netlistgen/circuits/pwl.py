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


def complement(wave: list[tuple[float, float]], high_v: float) -> list[tuple[float, float]]:
    """The inverted control (enb of an en)."""
    return [(t, high_v - v) for t, v in wave]
