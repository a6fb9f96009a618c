"""Compute SNR per scheme against injected noise, under one physics (issue 4, item 3).

SPICE part: one weight column per scheme (int4, int8 baseline LCC; zebra-i, zebra-ii
ML-LCU) on the same technology and rows, simulated once (behavioral.characterize);
its per-column and recombined SNR are reported as measured. Behavioural part: the
fitted models evaluate a larger random workload with Gaussian noise of a given sigma
added at every GBL sample, swept over sigma.

SNR follows SPEC section 5: each bit column is fitted (least squares) and fitted back,
SNR = 10 log10(var(y_ideal) / mean((y_meas - y_ideal)^2)). The recombined dot product
is the digital shift-add sum_i 2^base[i] * y_meas_i compared with the ideal integer dot
product. Noise is referenced three ways (SPEC section 5):

- `noise_v`: sigma in volts at the GBL (the physical quantity; same for every scheme);
- `noise_lsb_fs`: sigma in LSB of the column full scale, i.e. of an `adc_bits` ADC
  spanning +-FS with FS = rows * L * (largest capacitor ratio) codes;
- `noise_lsb_int`: sigma in LSB of the common integer grid, one step of y (C1*dV).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from netlistgen.core import validate
from netlistgen.analysis.behavioral import SCHEMES, BehavioralModel, characterize
from netlistgen.circuits.cells import get_cell
from netlistgen.circuits.encoding import ideal_column_mac, quantize, recombine
from netlistgen.core.errors import NetlistgenError
from netlistgen.core.files import write_atomic
from netlistgen.analysis.metrics import column_metrics, fit_linearity, snr_db_from_error
from netlistgen.core.jsonio import write_json

DEFAULT_NOISE_V = (0.0, 1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3)
DEFAULT_ADC_BITS = 8
NOISE_REFS = ("v", "lsb-fs", "lsb-int")


def lsb_fs_v(model: BehavioralModel, adc_bits: int) -> np.ndarray:
    """Volts per LSB of an adc_bits converter spanning each column's +-full scale."""
    return 2.0 * model.full_scale_lsb * np.abs(model.gain_v_per_lsb) / 2.0**adc_bits


def noise_to_v(model: BehavioralModel, sigma: float, ref: str, adc_bits: int = DEFAULT_ADC_BITS) -> np.ndarray:
    """Per-column sigma in volts for a sigma given in reference `ref` (see NOISE_REFS)."""
    sigma = validate.number(sigma, "noise sigma", minimum=0.0)
    if ref == "v":
        return np.full(model.n_bits, sigma)
    if ref == "lsb-fs":
        return sigma * lsb_fs_v(model, adc_bits)
    if ref == "lsb-int":
        return sigma * np.abs(model.gain_v_per_lsb)
    raise NetlistgenError(f"unknown noise reference {ref!r}; known: {', '.join(NOISE_REFS)}")


def workload(model: BehavioralModel, cycles: int, wcols: int, seed: int):
    """Uniform random inputs (binary for the LCC, -L..L for the ML-SIU) on Gaussian
    weights quantized per column: (ideal y (cycles, wcols, n_bits), pattern set)."""
    ps = model.pattern_set
    rng = np.random.default_rng(seed)
    w = rng.normal(size=(model.rows, wcols))
    codes = quantize(w, ps, granularity="per-channel", channel_axis=1).codes
    m = get_cell(model.cell).input.random(rng, (cycles, model.rows), model.levels)
    return ideal_column_mac(m, codes).astype(float), ps


def snr_from_samples(y: np.ndarray, v: np.ndarray, ps) -> dict:
    """Per-column and recombined compute SNR of samples v (cycles, n_bits) against y.

    The recombined error is the shift-add of each column's fitted-back error
    (metrics.fit_linearity residual / gain, with its rounding floor), so an exact
    column gives an exact dot product."""
    per_col, overall = column_metrics(y, v)
    err = np.zeros_like(np.asarray(y, dtype=float))
    for c in per_col:
        if math.isfinite(c.gain_v_per_lsb):
            lin = fit_linearity(y[:, c.column], v[:, c.column])
            err[:, c.column] = lin.residual_v / lin.gain_v_per_lsb
    return {
        "column_snr_db": [c.snr_db for c in per_col],
        "pooled_snr_db": overall["snr_db"],
        "dot_snr_db": snr_db_from_error(recombine(y, ps), recombine(err, ps)),
    }


def sweep(
    models: Mapping[str, BehavioralModel],
    noise_v: Sequence[float] = DEFAULT_NOISE_V,
    *,
    cycles: int = 400,
    wcols: int = 8,
    seed: int = 0,
    adc_bits: int = DEFAULT_ADC_BITS,
) -> dict[str, list[dict]]:
    """Behavioural SNR per scheme at each noise sigma (V at the GBL) plus at kT/C.

    Every scheme sees its own random workload of `cycles` x `wcols` weight columns and
    the same noise draws' seed; a point per sigma gives the three noise references.
    A model with a mismatch distribution adds one static gain/offset draw per column."""
    cycles = validate.integer(cycles, "cycles", minimum=4, maximum=1_000_000)
    wcols = validate.integer(wcols, "wcols", minimum=1, maximum=4096)
    out: dict[str, list[dict]] = {}
    for scheme, model in models.items():
        y, ps = workload(model, cycles, wcols, seed)
        y2 = y.reshape(-1, model.n_bits)
        # Static mismatch (when the model has a Monte Carlo spread): one draw per physical
        # column, the same for every noise level; the per-bit-column fit pools the
        # weight columns, so their spread counts as error.
        gain, offset = model.draw_mismatch(np.random.default_rng([seed, 999]), (wcols,))
        points = []
        levels = [("kT/C", model.noise_sigma_v)] + [(f"{s:g} V", np.full(model.n_bits, float(s))) for s in noise_v]
        for k, (label, sigma) in enumerate(levels):
            rng = np.random.default_rng([seed, k])
            v = model.predict_v(y, noise_sigma_v=sigma, rng=rng, column_gain=gain, column_offset_v=offset)
            snr = snr_from_samples(y2, v.reshape(-1, model.n_bits), ps)
            s_mean = float(np.mean(sigma))
            points.append({
                "label": label,
                "noise_v": s_mean,
                "noise_lsb_fs": float(np.mean(sigma / lsb_fs_v(model, adc_bits))),
                "noise_lsb_int": float(np.mean(sigma / np.abs(model.gain_v_per_lsb))),
                **snr,
            })
        out[scheme] = points
    return out


def spice_snr(results: Mapping[str, object]) -> dict[str, dict]:
    """Measured (SPICE, no injected noise) SNR of each scheme's characterisation run."""
    out = {}
    for scheme, res in results.items():
        ps = res.job.netlist.spec.pattern_set
        out[scheme] = snr_from_samples(res.y_ideal, res.v_sample_v, ps)
    return out


def run_study(
    *,
    technology: str = "ptm45",
    corner: str | None = None,
    rows: int = 8,
    spice_cycles: int = 24,
    stim_seed: int = 1,
    noise_v: Sequence[float] = DEFAULT_NOISE_V,
    cycles: int = 400,
    adc_bits: int = DEFAULT_ADC_BITS,
    schemes: Sequence[str] = SCHEMES,
    workdir: str | Path = "out/snr",
    workers: int | None = None,
    mismatch: dict | None = None,
    models: Mapping[str, BehavioralModel] | None = None,
) -> dict:
    """SPICE characterisation (unless `models` are given) + behavioural noise sweep."""
    if models is None:
        chars = characterize(schemes, technology=technology, corner=corner, rows=rows, cycles=spice_cycles,
                             stim_seed=stim_seed, workdir=Path(workdir) / "jobs", workers=workers,
                             mismatch=mismatch)
        models = {s: c.model for s, c in chars.items()}
        measured = spice_snr({s: c.fit for s, c in chars.items()})
    else:
        measured = {}
    return {
        "what": {
            "spice": "measured: ngspice transient of one weight column per scheme, no injected noise "
                     "(column and recombined SNR of the sampled V_GBL)",
            "behavioural": "behavioural models fitted on those samples, random workload, Gaussian noise "
                           "of the given sigma added to every GBL sample",
            "noise_refs": {"noise_v": "volts rms at the GBL",
                           "noise_lsb_fs": f"LSB of a {adc_bits}-bit ADC spanning the column's +-full scale",
                           "noise_lsb_int": "LSB of the common integer grid (one step of y, C1*dV)"},
        },
        "technology": technology,
        "rows": rows,
        "adc_bits": adc_bits,
        "spice": measured,
        "models": {s: m.to_dict() for s, m in models.items()},
        "sweep": sweep(models, noise_v, cycles=cycles, adc_bits=adc_bits),
    }


def table(study: Mapping) -> str:
    """Markdown: one row per scheme and noise level, recombined and worst-column SNR."""
    lines = ["| scheme | source | noise | V rms | LSB fs | LSB int | dot SNR dB | worst column SNR dB |",
             "|---|---|---|---|---|---|---|---|"]
    for scheme, m in study["spice"].items():
        lines.append(f"| {scheme} | SPICE | none | 0 | 0 | 0 | {m['dot_snr_db']:.1f} | "
                     f"{min(m['column_snr_db']):.1f} |")
    for scheme, points in study["sweep"].items():
        for p in points:
            lines.append(f"| {scheme} | behavioural | {p['label']} | {p['noise_v']:.3g} | {p['noise_lsb_fs']:.3g} | "
                         f"{p['noise_lsb_int']:.3g} | {p['dot_snr_db']:.1f} | {min(p['column_snr_db']):.1f} |")
    return "\n".join(lines)


def write_study(study: Mapping, out: str | Path) -> dict[str, Path]:
    """snr.json, snr.md, models/<scheme>.json and one SNR-vs-noise plot per reference."""
    from netlistgen.analysis.plots import snr_vs_noise

    out = Path(out)
    (out / "models").mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "snr.json", "markdown": out / "snr.md"}
    write_json(paths["json"], study, indent=1)
    what = study["what"]
    write_atomic(paths["markdown"], table(study) + "\n\n" + "\n".join(
        f"- {k}: {v}" for k, v in [("SPICE", what["spice"]), ("behavioural", what["behavioural"])]) + "\n")
    for scheme, doc in study["models"].items():
        path = out / "models" / f"{scheme}.json"
        write_json(path, doc, indent=1)
        paths[f"model-{scheme}"] = path
    labels = {"noise_v": "noise at the GBL (V rms)", "noise_lsb_fs": study["what"]["noise_refs"]["noise_lsb_fs"],
              "noise_lsb_int": "noise in LSB of the common integer grid (C1*dV)"}
    for key, label in labels.items():
        series = []
        for scheme, points in study["sweep"].items():
            pts = [p for p in points if p["label"] != "kT/C" and p[key] > 0]
            if pts:  # zero noise has no place on the plot's axis (the table has it)
                series.append({"label": f"{scheme} (dot product)", "noise": [p[key] for p in pts],
                               "snr_db": [p["dot_snr_db"] for p in pts]})
        if not series:
            continue
        path = out / f"snr_vs_{key}.png"
        paths[key] = snr_vs_noise(series, path, noise_label=label + " [behavioural]",
                                  title=f"Recombined compute SNR vs noise ({study['technology']}, {study['rows']} rows)")
    return paths


def paper_snr(
    *,
    technology: str = "ptm45",
    rows: int = 8,
    noise: str = "ktc",
    workdir: str | Path = "out/paper/snr",
    models: Mapping[str, BehavioralModel] | None = None,
    workers: int | None = None,
) -> dict[str, dict]:
    """Per-scheme SNR for the paper report: {scheme: {spice_dot_snr_db, dot_snr_db,
    worst_column_snr_db, noise_v, noise_lsb_fs, noise_lsb_int, noise}}.

    noise "ktc": each scheme's own kT/C at the GBL (the physical default); a number:
    that sigma in volts at the GBL. ~1 min on 2 cores (4 short ngspice jobs) unless
    models are given."""
    if noise == "ktc":
        levels: Sequence[float] = ()
    else:
        levels = (validate.number(noise, "noise", minimum=0.0),)
    study = run_study(technology=technology, rows=rows, noise_v=levels, workdir=workdir, models=models,
                      workers=workers)
    out = {}
    for scheme, points in study["sweep"].items():
        p = points[0] if noise == "ktc" else points[1]
        out[scheme] = {
            "spice_dot_snr_db": study["spice"].get(scheme, {}).get("dot_snr_db"),
            "dot_snr_db": p["dot_snr_db"],
            "worst_column_snr_db": min(p["column_snr_db"]),
            "noise": p["label"],
            "noise_v": p["noise_v"],
            "noise_lsb_fs": p["noise_lsb_fs"],
            "noise_lsb_int": p["noise_lsb_int"],
        }
    return out


__all__ = ["DEFAULT_NOISE_V", "NOISE_REFS", "noise_to_v", "paper_snr", "run_study", "snr_from_samples",
           "spice_snr", "sweep", "table", "workload", "write_study", "lsb_fs_v"]
