"""Monte Carlo mismatch runs and the kT/C noise of a GBL, on top of the transient jobs.

A Monte Carlo run of one configuration is N independent netlists that differ only in
their mismatch seed (seeds base..base+N-1, recorded): sample k is the netlist built with
`mismatch_seed = base + k`, so rerunning sample k alone (same options, same stimulus)
gives the same numbers bit for bit. Every sample is a normal transient job, run in
parallel through `executor.run_jobs`, and summarised with the usual metrics.

Public API (stable; other commands build on it):
- `run_mc(opts, n, base_seed, ...) -> McResult` and `run_mc_many({label: opts}, ...)`;
- `McResult.summary()` -> mean/std/min/max of every metric per label;
- `write_mc(result, out)` -> samples.json, samples.csv, summary.json, histogram plot;
- `gbl_capacitance_f(netlist, workdir)`: C_total of every GBL (an AC analysis job);
- `ktc_noise_sigma_v(netlist, workdir, temperature_k)`: sqrt(kT/C_total) per GBL (V);
- `reset_noise_for(netlist, noise, workdir)`: the `ResetNoise` a Job injects.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from netlistgen.core import validate
from netlistgen.core.errors import NetlistgenError, SimulationError
from netlistgen.core.files import write_atomic
from netlistgen.circuits.generate import GenerateOptions, build
from netlistgen.core.jsonio import write_json
from netlistgen.circuits.netlist import Netlist
from netlistgen.analysis.report import summarize
from netlistgen.sim.backends import DEFAULT_BACKEND, AcAnalysis, Bench, get_backend
from netlistgen.sim.executor import run_jobs
from netlistgen.sim.simulate import BenchJob, Job, SimResult
from netlistgen.circuits.testbench import Stimulus, dc_sources, random_stimulus, static_levels
from netlistgen.circuits.variation import Noise, ResetNoise, ktc_sigma_v

METRICS = ("gain_mv_per_lsb", "offset_mv", "inl_lsb", "snr_db")
COLUMN_METRICS = {"gain_mv_per_lsb": ("gain_v_per_lsb", 1e3), "offset_mv": ("offset_v", 1e3),
                  "inl_lsb": ("inl_lsb", 1.0), "snr_db": ("snr_db", 1.0)}
AC_FREQ_HZ = 1e8
MAX_SAMPLES = 10_000


# ----------------------------------------------------------------- GBL capacitance, kT/C


def gbl_nodes(netlist: Netlist) -> list[str]:
    """The bottom node of every GBL (where the periphery sits), in bit-column order."""
    spec = netlist.spec
    return [f"g_{j}_{i}_{spec.rows - 1}" for j in range(spec.cols) for i in range(spec.n_bits)]


def gbl_capacitance_f(netlist: Netlist, workdir: str | Path, *, backend: str = DEFAULT_BACKEND, cache=None) -> np.ndarray:
    """C_total of every GBL right after reset release (reset open, sample switch closed,
    plates held at VCM), from one AC analysis: a 1 A AC current into every GBL at once,
    C = 1 / (2 pi f Im(-1/V)). GBLs share only driven nets, so they do not load each
    other. Mismatch draws are included (the library carries the seed). Runs as a job
    under `workdir` through the executor, the backend and the result cache."""
    dp = netlist.design
    levels = {**static_levels(netlist), "rst": 0.0, "rstb": dp.vdd_v}
    nodes = gbl_nodes(netlist)
    bench = Bench("gbl-capacitance", f"C_total of {len(nodes)} GBLs", netlist, tuple(dc_sources(levels)),
                  AcAnalysis(AC_FREQ_HZ, tuple(nodes), dc_ref="vcm", r_dc_ohm=1e9))
    results, errors = run_jobs([BenchJob(bench)], workdir, workers=1, progress=False, backend=backend, cache=cache)
    if errors:
        raise SimulationError(errors[bench.name])
    vectors = results[bench.name].vectors
    caps = []
    for n in nodes:
        v = vectors.get(f"v({n})")
        if v is None:
            raise NetlistgenError(f"AC analysis wrote no voltage for GBL node {n}")
        caps.append((1 / complex(np.ravel(v)[0])).imag / (2 * math.pi * AC_FREQ_HZ))
    return np.array(caps)


def ktc_noise_sigma_v(netlist: Netlist, workdir: str | Path, temperature_k: float = 300.0, **run_kw) -> np.ndarray:
    """sqrt(k T / C_total) per GBL (volts at the GBL), C_total from `gbl_capacitance_f`."""
    return ktc_sigma_v(temperature_k, gbl_capacitance_f(netlist, workdir, **run_kw))


def reset_noise_for(netlist: Netlist, noise: Noise, workdir: str | Path, **run_kw) -> ResetNoise:
    """What a Job needs to inject kT/C at every GBL reset (netlist built with reset_noise);
    `run_kw`: backend, cache of the capacitance job."""
    if not any(n.startswith("vcm_rst_") for n in netlist.array_nets):
        raise NetlistgenError("noise injection needs a netlist built with reset_noise=True")
    return ResetNoise.ktc(noise, gbl_capacitance_f(netlist, workdir, **run_kw))


# ----------------------------------------------------------------------------- Monte Carlo


@dataclass(frozen=True)
class McSample:
    """One Monte Carlo sample: its seed, raw samples and metrics."""

    label: str
    index: int
    seed: int
    y_ideal: np.ndarray  # (cycles, bit_cols)
    v_sample_v: np.ndarray  # (cycles, bit_cols), V(out) - VCM at the sampling instant
    metrics: dict  # report.summarize row (overall and "columns")


@dataclass(frozen=True)
class McResult:
    """Samples by label (one label per scheme/configuration), plus failures by job name."""

    samples: dict[str, list[McSample]]
    errors: dict[str, str]
    base_seed: int
    n: int
    settings: dict

    def values(self, label: str, metric: str) -> np.ndarray:
        return np.array([float(s.metrics[metric]) for s in self.samples[label]])

    def column_values(self, label: str, metric: str) -> np.ndarray:
        """(samples, bit_cols) of a per-column metric, in the summary's units."""
        key, scale = COLUMN_METRICS[metric]
        return np.array([[float(c[key]) * scale for c in s.metrics["columns"]] for s in self.samples[label]])

    def mismatch_spread(self, label: str, metric: str) -> tuple[float, int]:
        """(sigma, degrees of freedom) of a per-column metric from mismatch alone: the
        deviations of every bit column from its own mean over samples, pooled. Bit columns
        differ systematically (weights, position), and that part is not random. Columns
        that cannot be fitted (constant ideal output under the shared stimulus: nan in
        every sample) are left out."""
        cols = self.column_values(label, metric)
        cols = cols[:, np.isfinite(cols).all(axis=0)]
        if cols.shape[0] < 2 or cols.shape[1] == 0:
            raise NetlistgenError(f"{label}: {metric} spread needs >= 2 samples of a column with finite values")
        dev = cols - cols.mean(axis=0)
        dof = cols.shape[1] * (cols.shape[0] - 1)
        return float(np.sqrt(np.sum(dev**2) / dof)), dof

    def summary(self) -> dict:
        """mean/std/min/max over samples of each metric, overall and per bit column."""
        out = {}
        for label in self.samples:
            entry = {"n_samples": len(self.samples[label]), "seeds": [s.seed for s in self.samples[label]]}
            for m in METRICS:
                entry[m] = _stats(self.values(label, m))
                cols = self.column_values(label, m)
                entry[f"{m}_per_column"] = [_stats(cols[:, c]) for c in range(cols.shape[1])]
            out[label] = entry
        return out


def _stats(x: np.ndarray) -> dict:
    x = x[np.isfinite(x)]
    if x.size == 0:
        return {"mean": math.nan, "std": math.nan, "min": math.nan, "max": math.nan, "n": 0}
    return {"mean": float(x.mean()), "std": float(x.std(ddof=1)) if x.size > 1 else 0.0,
            "min": float(x.min()), "max": float(x.max()), "n": int(x.size)}


def sample_options(opts: GenerateOptions, seed: int, mismatch: dict | None = None) -> GenerateOptions:
    """The options of one sample: `opts` with its mismatch seed (and mismatch options)."""
    return dataclasses.replace(opts, mismatch_seed=seed, mismatch=dict(mismatch or opts.mismatch),
                               reset_noise=opts.reset_noise)


def run_mc_many(
    configs: dict[str, GenerateOptions],
    n: int,
    base_seed: int,
    workdir: str | Path,
    *,
    mismatch: dict | None = None,
    cycles: int = 16,
    stim_seed: int = 1,
    only: list[int] | None = None,
    noise: float | None = None,
    workers: int | None = None,
    backend: str = DEFAULT_BACKEND,
    progress: bool = False,
    timeout_s: float = 1800.0,
    cache=None,
    executor: str = "local",
    scheduler: str | None = None,
) -> McResult:
    """Monte Carlo of several configurations side by side (one run_jobs call).

    Sample k of every label uses seed base_seed + k for its mismatch (and, with
    `noise` = temperature in K, for its injected kT/C draws); every label's samples see
    the same random stimulus (stim_seed). `only` restricts the run to those sample
    indices (each gives exactly what it gives inside the full run)."""
    n = validate.integer(n, "samples", minimum=1, maximum=MAX_SAMPLES)
    base_seed = validate.integer(base_seed, "base seed", minimum=0, maximum=2**31 - 1 - n)
    cycles = validate.integer(cycles, "cycles", minimum=2, maximum=100_000)
    stim_seed = validate.integer(stim_seed, "stim seed", minimum=0)
    indices = list(range(n)) if only is None else [validate.integer(k, "sample", minimum=0, maximum=n - 1) for k in only]
    if not configs:
        raise NetlistgenError("Monte Carlo needs at least one configuration")
    for label in configs:
        validate.identifier(label.replace("-", "_"), "label")
    if noise is not None:
        noise = validate.number(noise, "noise temperature_k", minimum=0.0, exclusive_minimum=True, maximum=1000.0)
    workdir = Path(workdir)
    engine = get_backend(backend)
    jobs, meta = [], {}
    for label, opts in configs.items():
        stim: Stimulus | None = None
        for k in indices:
            seed = base_seed + k
            nl = build(sample_options(dataclasses.replace(opts, reset_noise=noise is not None), seed, mismatch))
            engine.check(nl)  # an engine that cannot run it stops here, before any file is written
            stim = stim or random_stimulus(nl, cycles, stim_seed)
            name = f"{label}-s{seed}"
            rn = reset_noise_for(nl, Noise(seed, noise), workdir / f"{name}-cap",
                                                    backend=backend, cache=cache) if noise is not None else None
            jobs.append(Job(name, nl, stim, timeout_s=timeout_s, reset_noise=rn))
            meta[name] = (label, k, seed)
    results, errors = run_jobs(jobs, workdir, workers=workers, progress=progress, backend=backend, cache=cache,
                               executor=executor, scheduler=scheduler)
    samples: dict[str, list[McSample]] = {label: [] for label in configs}
    for job in jobs:
        if job.name not in results:
            continue
        label, k, seed = meta[job.name]
        res: SimResult = results[job.name]
        samples[label].append(McSample(label, k, seed, res.y_ideal, res.v_sample_v, summarize(label, res)))
    settings = {"cycles": cycles, "stim_seed": stim_seed, "mismatch": mismatch or {}, "noise_temperature_k": noise,
                "seeds": {"base": base_seed, "indices": indices},
                "reproduce": "sample k = the netlist built with mismatch_seed = base + k (netlistgen mc --sample k)"}
    return McResult(samples, errors, base_seed, n, settings)


def run_mc(opts: GenerateOptions, n: int, base_seed: int, workdir: str | Path, *, label: str | None = None,
           **kwargs) -> McResult:
    """Monte Carlo of one configuration (see `run_mc_many` for the keyword arguments)."""
    return run_mc_many({label or opts.scheme: opts}, n, base_seed, workdir, **kwargs)


# ---------------------------------------------------------------------------------- output


def samples_csv(result: McResult) -> str:
    """One row per sample and bit column: seed and that column's metrics."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["label", "sample", "seed", "column", *METRICS])
    for label, samples in result.samples.items():
        for s in samples:
            for c in s.metrics["columns"]:
                w.writerow([label, s.index, s.seed, c["column"],
                            *(f"{float(c[COLUMN_METRICS[m][0]]) * COLUMN_METRICS[m][1]:.9g}" for m in METRICS)])
    return buf.getvalue()


def write_mc(result: McResult, out: str | Path, *, plot: bool = True) -> dict[str, Path]:
    """samples.json (per-sample raw results and metrics), samples.csv, summary.json and
    a histogram per metric (mc_hist.png), all written atomically."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"samples": out / "samples.json", "csv": out / "samples.csv", "summary": out / "summary.json"}
    doc = {"settings": result.settings, "errors": result.errors,
           "samples": {label: [{"sample": s.index, "seed": s.seed, "metrics": s.metrics,
                                "y_ideal": s.y_ideal, "v_sample_v": s.v_sample_v} for s in samples]
                       for label, samples in result.samples.items()}}
    write_json(paths["samples"], doc, indent=None)
    write_atomic(paths["csv"], samples_csv(result))
    write_json(paths["summary"], {"settings": result.settings, "summary": result.summary()}, indent=1)
    if plot and any(len(s) > 0 for s in result.samples.values()):
        paths["histogram"] = histogram_plot(result, out / "mc_hist.png")
    return paths


def histogram_plot(result: McResult, path: str | Path) -> Path:
    """Side-by-side distributions: one row per metric, one column per label (schemes
    differ in scale by 10x, so each panel gets its own range)."""
    from matplotlib.figure import Figure

    from netlistgen.analysis.plots import output_target, save_figure

    target, fmt = output_target(path)
    labels = list(result.samples)
    fig = Figure(figsize=(3.2 * len(labels) + 1, 8), layout="constrained")
    fig.suptitle(f"Monte Carlo mismatch, seeds {result.base_seed}..{result.base_seed + result.n - 1}")
    axes = np.atleast_2d(fig.subplots(len(METRICS), len(labels), squeeze=False))
    titles = {"gain_mv_per_lsb": "gain (mV/LSB)", "offset_mv": "offset (mV)", "inl_lsb": "INL (LSB)",
              "snr_db": "SNR (dB)"}
    for r, metric in enumerate(METRICS):
        for c, label in enumerate(labels):
            ax = axes[r, c]
            x = result.values(label, metric)
            x = x[np.isfinite(x)]
            if x.size:
                ax.hist(x, bins=max(5, min(30, x.size // 2)), color=f"C{c}")
                ax.axvline(float(np.mean(x)), color="k", lw=0.8)
            ax.set_xlabel(titles[metric], fontsize="small")
            ax.tick_params(labelsize="small")
            if r == 0:
                ax.set_title(f"{label} (n={len(result.samples[label])})", fontsize="medium")
            if c == 0:
                ax.set_ylabel("samples")
    return save_figure(fig, target, fmt)


def summary_table(result: McResult) -> str:
    """Markdown: mean ± std [min, max] of each metric per label."""
    head = "| label | n | " + " | ".join(METRICS) + " |"
    lines = [head, "|" + "---|" * (len(METRICS) + 2)]
    for label, entry in result.summary().items():
        cells = [f"{entry[m]['mean']:.4g} ± {entry[m]['std']:.2g} [{entry[m]['min']:.4g}, {entry[m]['max']:.4g}]"
                 for m in METRICS]
        lines.append(f"| {label} | {entry['n_samples']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
