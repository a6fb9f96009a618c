"""ADC metrics: code density (DNL/INL), coherent-sine SNDR/ENOB, Walden and Schreier FOMs."""

from __future__ import annotations

import math

import numpy as np

from netlistgen.core.arrays import as_1d
from netlistgen.core.errors import NetlistgenError


def code_density(codes, bits: int) -> dict:
    """DNL/INL (LSB) from the histogram of a uniform ramp's codes; the two end codes are
    excluded (their bins are open-ended). INL is the running sum of DNL (endpoint fit)."""
    c = np.asarray(as_1d("codes", codes), dtype=int)
    n_codes = 2 ** bits
    if c.min() < 0 or c.max() >= n_codes:
        raise NetlistgenError(f"codes outside 0..{n_codes - 1}: {c.min()}..{c.max()}")
    hist = np.bincount(c, minlength=n_codes).astype(float)
    inner = hist[1:-1]
    if inner.sum() == 0:
        raise NetlistgenError("code density: no hits on inner codes (ramp outside the input range?)")
    dnl = inner / inner.mean() - 1.0
    inl = np.cumsum(dnl) - dnl / 2  # transition-level INL at each inner code centre
    inl -= np.linspace(inl[0], inl[-1], inl.size)
    return {
        "histogram": hist,
        "dnl_lsb": dnl,
        "inl_lsb": inl,
        "dnl_max_lsb": float(np.max(np.abs(dnl))),
        "inl_max_lsb": float(np.max(np.abs(inl))),
        "missing_codes": int(np.count_nonzero(inner == 0)),
        "hits_per_code": float(inner.mean()),
    }


def sine_sndr(codes, cycles: int) -> dict:
    """SNDR/ENOB of a coherently sampled sine: signal = the bin at `cycles`, everything else
    but DC is noise and distortion (rectangular window; coherent, so no leakage)."""
    x = np.asarray(as_1d("codes", codes), dtype=float)
    n = x.size
    if not 0 < cycles < n // 2:
        raise NetlistgenError(f"sine cycles {cycles} outside 1..{n // 2 - 1}")
    spec = np.abs(np.fft.rfft(x - x.mean())) ** 2
    p_sig = spec[cycles]
    p_noise = spec[1:].sum() - p_sig
    if p_noise <= 0:
        raise NetlistgenError("sine test: no noise power (is the record constant apart from the tone?)")
    sndr = 10 * math.log10(p_sig / p_noise)
    harmonics = [spec[_alias(k * cycles, n)] for k in range(2, 6)]
    sfdr = 10 * math.log10(p_sig / max(max(harmonics), spec[1:][np.arange(1, spec.size) != cycles].max()))
    amp_codes = 2 * math.sqrt(p_sig) / n
    return {
        "sndr_db": sndr,
        "enob": (sndr - 1.76) / 6.02,
        "sfdr_db": sfdr,
        "amplitude_codes": amp_codes,
        "spectrum_db": 10 * np.log10(np.maximum(spec, 1e-30) / max(p_sig, 1e-30)),
    }


def _alias(k: int, n: int) -> int:
    k %= n
    return n - k if k > n // 2 else k


def walden_fom_j(energy_j: float, enob: float) -> float:
    """Walden FOM: energy per conversion step, E / 2^ENOB (J/step)."""
    return energy_j / 2.0 ** enob


def schreier_fom_db(energy_j: float, sndr_db: float) -> float:
    """Schreier FOM (Nyquist): SNDR + 10 log10(fs/2 / P) = SNDR + 10 log10(1 / (2 E))."""
    return sndr_db + 10 * math.log10(1.0 / (2.0 * energy_j))


def plot_transfer_dnl(v_in_v, codes, dnl_lsb, inl_lsb, path, *, title: str | None = None):
    """Ramp transfer (code vs input) above DNL/INL per code."""
    from netlistgen.analysis.plots import _figure, output_target, save_figure

    p, fmt = output_target(path)
    fig = _figure(title, height_in=6.0)
    ax1, ax2 = fig.subplots(2, 1)
    ax1.step(np.asarray(v_in_v), np.asarray(codes), where="post")
    ax1.set_xlabel("input (V)")
    ax1.set_ylabel("code")
    k = np.arange(1, len(dnl_lsb) + 1)
    ax2.plot(k, dnl_lsb, ".-", label="DNL")
    ax2.plot(k, inl_lsb, ".-", label="INL")
    ax2.set_xlabel("code")
    ax2.set_ylabel("LSB")
    ax2.legend()
    return save_figure(fig, p, fmt)


def plot_spectrum(spectrum_db, path, *, title: str | None = None):
    """Sine-test spectrum (dB relative to the tone) per FFT bin."""
    from netlistgen.analysis.plots import _figure, output_target, save_figure

    p, fmt = output_target(path)
    fig = _figure(title)
    ax = fig.subplots()
    s = np.asarray(spectrum_db)
    ax.plot(np.arange(1, s.size), s[1:], ".-")
    ax.set_xlabel("FFT bin")
    ax.set_ylabel("dB re. tone")
    return save_figure(fig, p, fmt)
