"""Cross-level accuracy: a small network run through each scheme's measured column (issue 4, item 5).

The network is a one-hidden-layer MLP on scikit-learn's digits (8x8 images, 64
features; shipped inside scikit-learn, nothing downloaded), trained in float with a
fixed seed. Inference per scheme follows the hardware's data path:

1. weights quantized per output channel with the scheme (encoding.quantize);
2. activations (non-negative: pixels, ReLU outputs) quantized to `act_bits` unsigned
   integers on a scale calibrated on the training set, then split into input cycles:
   binary bit-serial for the baseline LCC (int4/int8), balanced base-(2L+1) digits
   m in -L..L for the ML-SIU (L = 3: 7 levels per cycle) - SPEC section 2;
3. every cycle, every bit column's ideal value y (units of C1*dV) goes through the
   scheme's behavioural model (behavioral.BehavioralModel: gain, offset,
   nonlinearity, mismatch if the model has it) plus Gaussian noise, then an ADC of
   `adc_bits` over a range calibrated on the training set (max |y| per bit column);
4. digital calibration (offset, gain), shift-add over bit columns (2**base[i]) and
   input cycles, scales, bias, ReLU.

A layer with more inputs than the model's rows is split into row tiles whose results
are converted separately and added digitally; fewer inputs leave rows at m = 0.
Noise is given as a variance in LSB^2 of a reference (snr_study.NOISE_REFS), applied
per conversion; "0.03 LSB variance" (the seeds' table) is sigma = sqrt(0.03) LSB.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from netlistgen.core import validate
from netlistgen.analysis.behavioral import SCHEMES, BehavioralModel, characterize
from netlistgen.circuits.cells import get_cell
from netlistgen.circuits.encoding import quantize
from netlistgen.circuits.schemes import SCHEMES as SCHEME_RECORDS
from netlistgen.core.errors import NetlistgenError
from netlistgen.core.files import write_atomic
from netlistgen.core.jsonio import write_json
from netlistgen.studies.snr_study import DEFAULT_ADC_BITS, NOISE_REFS, noise_to_v

DEFAULT_ACT_BITS = 8  # activation bits of a scheme the registry does not know (a user pattern set)
DEFAULT_NOISE_LSB_VAR = (0.03, 0.3, 3.0)


@dataclass(frozen=True)
class Network:
    """A trained float MLP: weights (in, out) and biases per layer, and the test split."""

    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]
    x_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    float_accuracy: float


def train_network(*, hidden: int = 32, seed: int = 0, test_fraction: float = 0.3) -> Network:
    """Seeded MLP (64 -> hidden -> 10, ReLU) on sklearn's digits, pixels scaled to 0..1."""
    import warnings

    from sklearn.datasets import load_digits
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier

    hidden = validate.integer(hidden, "hidden", minimum=1, maximum=4096)
    digits = load_digits()
    x = digits.data / 16.0
    x_tr, x_te, y_tr, y_te = train_test_split(x, digits.target, test_size=test_fraction, random_state=seed,
                                              stratify=digits.target)
    clf = MLPClassifier(hidden_layer_sizes=(hidden,), activation="relu", max_iter=400, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(x_tr, y_tr)
    return Network(tuple(np.asarray(w) for w in clf.coefs_), tuple(np.asarray(b) for b in clf.intercepts_),
                   x_tr, x_te, y_te, float(clf.score(x_te, y_te)))


def input_digits(a: np.ndarray, cell: str, levels: int, act_bits: int,
                 signed_values: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Split integers a (..., rows) into per-cycle input levels as `cell`'s input kind
    applies them (cells.InputKind.digits: bits LSB first on a binary input - two's
    complement with `signed_values` - balanced base-(2L+1) digits on the ML-SIU).
    Returns (digits (cycles, ..., rows), cycle weights)."""
    return get_cell(cell).input.digits(a, levels, act_bits, signed_values=signed_values)


def _scheme_act_bits(scheme: str) -> int:
    """The scheme's input precision (the I of I-W) from the scheme registry."""
    return SCHEME_RECORDS[scheme].input_bits if scheme in SCHEME_RECORDS else DEFAULT_ACT_BITS


def _per_row_matrix(codes) -> np.ndarray:
    """(rows, out, n_bits) signed capacitor weight of every bit cell: b * (-1)^S * 2^k_P."""
    ps = codes.pattern_set
    ratio = np.array(ps.cap_ratios, dtype=np.int64)[codes.pattern]
    return codes.bits.astype(np.int64) * np.where(codes.sign == 1, -ratio, ratio)[..., None]


@dataclass(frozen=True)
class SchemeLayer:
    """One layer mapped onto a scheme: quantized weights per row tile and scales."""

    tiles: tuple[np.ndarray, ...]  # (tile_rows, out, n_bits) per row tile
    row_slices: tuple[slice, ...]
    w_scale: np.ndarray  # (out,)
    bias: np.ndarray
    x_scale: float  # real units per activation integer
    adc_range_lsb: tuple[np.ndarray, ...]  # per tile: (n_bits,) ADC half range in y units


class SchemeNet:
    """A network quantized for one scheme and run through its behavioural model."""

    def __init__(self, net: Network, model: BehavioralModel, *, act_bits: int | None = None,
                 adc_bits: int | None = DEFAULT_ADC_BITS, clip: str = "mse"):
        self.model = model
        self.ps = model.pattern_set
        self.act_bits = validate.integer(act_bits or _scheme_act_bits(model.scheme), "act_bits",
                                         minimum=1, maximum=16)
        self.adc_bits = None if adc_bits is None else validate.integer(adc_bits, "adc_bits", minimum=1, maximum=24)
        self.weight2 = 2.0 ** np.array(self.ps.base, dtype=float)
        self.layers: list[SchemeLayer] = []
        x = net.x_train
        for w, b in zip(net.weights, net.biases):
            qt = quantize(w, self.ps, granularity="per-channel", clip=clip, channel_axis=1)
            per_row = _per_row_matrix(qt.codes)
            slices = tuple(slice(r, min(r + model.rows, w.shape[0])) for r in range(0, w.shape[0], model.rows))
            tiles = tuple(per_row[s] for s in slices)
            x_scale = float(np.max(x)) / (2**self.act_bits - 1) if np.max(x) > 0 else 1.0
            # ADC range: largest |y| per bit column on the training set (ideal path).
            a = self._activations(x, x_scale)
            digits, _ = input_digits(a, model.cell, model.levels, self.act_bits)
            ranges = tuple(np.maximum(np.abs(np.einsum("cnr,rob->cnob", digits[..., s], t)).max(axis=(0, 1, 2)), 1.0)
                           for s, t in zip(slices, tiles))
            layer = SchemeLayer(tiles, slices, np.ravel(qt.scale), b, x_scale, ranges)
            self.layers.append(layer)
            x = np.maximum(self._layer(layer, x, None, None, None, True), 0.0)

    def _activations(self, x: np.ndarray, x_scale: float) -> np.ndarray:
        return np.clip(np.round(x / x_scale), 0, 2**self.act_bits - 1).astype(np.int64)

    def _convert(self, y: np.ndarray, layer_tile_range: np.ndarray, noise_v, rng, mismatch, ideal: bool) -> np.ndarray:
        """Bit-column values through the analog column (unless ideal), the ADC and the
        digital calibration (nominal offset and gain of the model)."""
        if ideal:
            v_to_y = y
        else:
            m = self.model
            gain, offset = (None, None) if mismatch is None else mismatch
            v = m.predict_v(y, noise_sigma_v=noise_v, rng=rng, column_gain=gain, column_offset_v=offset)
            v_to_y = (v - m.offset_v) / m.gain_v_per_lsb
        if self.adc_bits is None:
            return v_to_y
        step = 2.0 * layer_tile_range / 2**self.adc_bits
        half = 2 ** (self.adc_bits - 1)
        return np.clip(np.round(v_to_y / step), -half, half - 1) * step

    def _layer(self, layer: SchemeLayer, x: np.ndarray, noise_v, rng, mismatch, ideal: bool) -> np.ndarray:
        a = self._activations(x, layer.x_scale)
        digits, cycle_w = input_digits(a, self.model.cell, self.model.levels, self.act_bits)
        acc = np.zeros((x.shape[0], layer.w_scale.size))
        for t, (s, tile) in enumerate(zip(layer.row_slices, layer.tiles)):
            y = np.einsum("cnr,rob->cnob", digits[..., s], tile).astype(float)
            mm = None if mismatch is None else (mismatch[0][t], mismatch[1][t])
            y_hat = self._convert(y, layer.adc_range_lsb[t], noise_v, rng, mm, ideal)
            acc += np.einsum("cnob,b,c->no", y_hat, self.weight2, cycle_w.astype(float))
        return acc * layer.x_scale * layer.w_scale + layer.bias

    def predict(self, x: np.ndarray, *, noise_v=None, rng=None, mismatch_rng=None, ideal: bool = False) -> np.ndarray:
        """Class predictions. ideal: quantized network without the analog model (ADC kept)."""
        for k, layer in enumerate(self.layers):
            mismatch = None
            if mismatch_rng is not None and self.model.mismatch is not None:
                draws = [self.model.draw_mismatch(mismatch_rng, (layer.w_scale.size,)) for _ in layer.tiles]
                mismatch = ([d[0] for d in draws], [d[1] for d in draws])
            x = self._layer(layer, x, noise_v, rng, mismatch, ideal)
            if k < len(self.layers) - 1:
                x = np.maximum(x, 0.0)
        return np.argmax(x, axis=1)


def evaluate(
    models: Mapping[str, BehavioralModel],
    *,
    noise_lsb_var: Sequence[float] = DEFAULT_NOISE_LSB_VAR,
    noise_ref: str = "lsb-fs",
    adc_bits: int | None = DEFAULT_ADC_BITS,
    seeds: int = 5,
    hidden: int = 32,
    train_seed: int = 0,
    net: Network | None = None,
    progress: bool = False,
) -> dict:
    """Accuracy per scheme: float, quantized ideal, behavioural clean, kT/C, and each
    noise variance (mean and std over `seeds` noise draws); `progress` shows a bar per scheme."""
    from tqdm import tqdm

    if noise_ref not in NOISE_REFS:
        raise NetlistgenError(f"unknown noise reference {noise_ref!r}; known: {', '.join(NOISE_REFS)}")
    seeds = validate.integer(seeds, "seeds", minimum=1, maximum=1000)
    variances = [validate.number(v, "noise variance", minimum=0.0) for v in noise_lsb_var]
    net = net or train_network(hidden=hidden, seed=train_seed)
    ref_bits = adc_bits or DEFAULT_ADC_BITS
    rows = []
    for scheme, model in tqdm(models.items(), desc="accuracy", unit="scheme", disable=not progress, leave=False):
        sn = SchemeNet(net, model, adc_bits=adc_bits)

        def acc(**kw) -> float:
            return float(np.mean(sn.predict(net.x_test, **kw) == net.y_test))

        def over_seeds(sigma_v, tag: int) -> dict:
            vals = [acc(noise_v=sigma_v, rng=np.random.default_rng([train_seed, tag, s]),
                        mismatch_rng=np.random.default_rng([train_seed, 999, s])) for s in range(seeds)]
            return {"mean": float(np.mean(vals)), "std": float(np.std(vals)), "values": vals}

        row = {
            "scheme": scheme,
            "cell": model.cell,
            "act_bits": sn.act_bits,
            "float": net.float_accuracy,
            "quantized_ideal": acc(ideal=True),
            "behavioural_clean": acc(),
            "ktc": {**over_seeds(model.noise_sigma_v, 1), "noise_v": float(np.mean(model.noise_sigma_v))},
            "noise": [],
        }
        for k, var in enumerate(variances):
            sigma_v = noise_to_v(model, math.sqrt(var), noise_ref, ref_bits)
            row["noise"].append({"lsb_variance": var, "noise_v": float(np.mean(sigma_v)),
                                 **over_seeds(sigma_v, 10 + k)})
        rows.append(row)
    return {
        "what": {
            "dataset": "scikit-learn digits (8x8, 64 features), stratified 70/30 split",
            "network": f"MLP 64-{hidden}-10 ReLU, float training (sklearn MLPClassifier, seed {train_seed})",
            "inference": "per input cycle and bit column: behavioural model of the SPICE-measured column "
                         "+ Gaussian noise + "
                         + (f"{adc_bits}-bit ADC (range: max |y| on the training set)" if adc_bits else "no ADC")
                         + ", digital calibration (nominal gain/offset) and shift-add",
            "columns": "float: float network; quantized: quantized weights/inputs with ideal columns (ADC kept); "
                       "behavioural clean: the measured columns' gain/offset/nonlinearity without noise",
            "noise_ref": noise_ref,
            "noise_ref_meaning": {"v": "volts rms at the GBL",
                                  "lsb-fs": f"LSB of a {ref_bits}-bit ADC spanning the column's +-full scale",
                                  "lsb-int": "LSB of the common integer grid (one step of y, C1*dV)"}[noise_ref],
            "seeds": seeds,
        },
        "results": rows,
    }


def table(doc: Mapping) -> str:
    """Markdown table: accuracy in %, mean ± std over seeds."""
    rows = doc["results"]
    variances = [n["lsb_variance"] for n in rows[0]["noise"]] if rows else []
    ref = doc["what"]["noise_ref"]
    head = ["scheme", "act bits", "float", "quantized", "behavioural clean", "kT/C"] + \
        [f"{v:g} V²" if ref == "v" else f"{v:g} {ref} LSB²" for v in variances]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [r["scheme"], str(r["act_bits"]), f"{100 * r['float']:.1f}", f"{100 * r['quantized_ideal']:.1f}",
                 f"{100 * r['behavioural_clean']:.1f}", f"{100 * r['ktc']['mean']:.1f} ± {100 * r['ktc']['std']:.1f}"]
        cells += [f"{100 * n['mean']:.1f} ± {100 * n['std']:.1f}" for n in r["noise"]]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_accuracy(doc: Mapping, out: str | Path) -> dict[str, Path]:
    """accuracy.json, accuracy.md and accuracy.png (accuracy vs noise variance per scheme)."""
    from netlistgen.analysis.plots import accuracy_vs_noise

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "accuracy.json", "markdown": out / "accuracy.md", "plot": out / "accuracy.png"}
    write_json(paths["json"], doc, indent=1)
    what = doc["what"]
    write_atomic(paths["markdown"], table(doc) + "\n\n" + "\n".join(f"- {k}: {v}" for k, v in what.items()) + "\n")
    series = [{"label": r["scheme"], "noise": [n["lsb_variance"] for n in r["noise"]],
               "mean": [n["mean"] for n in r["noise"]], "std": [n["std"] for n in r["noise"]],
               "clean": r["behavioural_clean"]} for r in doc["results"]]
    accuracy_vs_noise(series, paths["plot"], noise_label=f"noise variance in LSB² ({what['noise_ref_meaning']})",
                      float_accuracy=doc["results"][0]["float"] if doc["results"] else None)
    return paths


def paper_accuracy(
    *,
    technology: str = "ptm45",
    rows: int = 16,
    noise_lsb_var: float = 0.03,
    noise_ref: str = "lsb-fs",
    adc_bits: int = DEFAULT_ADC_BITS,
    seeds: int = 5,
    spice_cycles: int = 16,
    workdir: str | Path = "out/paper/accuracy",
    models: Mapping[str, BehavioralModel] | None = None,
    workers: int | None = None,
    net: Network | None = None,
) -> dict[str, dict]:
    """Per-scheme accuracy for the paper report: {scheme: {float, quantized, clean,
    noisy_mean, noisy_std, noise_lsb_var, noise_ref}}.

    Characterises one `rows`-row column per scheme in ngspice unless models are given."""
    if models is None:
        chars = characterize(SCHEMES, technology=technology, rows=rows, cycles=spice_cycles,
                             workdir=Path(workdir) / "jobs", workers=workers)
        models = {s: c.model for s, c in chars.items()}
    doc = evaluate(models, noise_lsb_var=(noise_lsb_var,), noise_ref=noise_ref, adc_bits=adc_bits, seeds=seeds,
                   net=net)
    return {r["scheme"]: {"float": r["float"], "quantized": r["quantized_ideal"], "clean": r["behavioural_clean"],
                          "noisy_mean": r["noise"][0]["mean"], "noisy_std": r["noise"][0]["std"],
                          "noise_lsb_var": noise_lsb_var, "noise_ref": noise_ref}
            for r in doc["results"]}
