"""Behavioural model vs ngspice, and the cost of the paper report's SNR/accuracy part.

One run, side by side: (1) ngspice characterisation of one weight column per scheme
(rows x 1, `cycles` random cycles, 2 workers), (2) the fitted models predicting the
same cycles (per-cycle cost ratio), (3) paper_snr and paper_accuracy on those models
(the part of `netlistgen report paper` this feature adds; goal <= 5 min on 2 cores).
Usage: python benchmarks/bench_behavioral.py [rows] [cycles]  (prints Markdown)
"""

from __future__ import annotations

import sys
import tempfile
import time

import numpy as np

from netlistgen.studies.accuracy import paper_accuracy
from netlistgen.analysis.behavioral import SCHEMES, characterize, heldout_snr
from netlistgen.studies.snr_study import paper_snr


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 8
    cycles = int(sys.argv[2]) if len(sys.argv) > 2 else 24
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        chars = characterize(SCHEMES, rows=rows, cycles=cycles, stim_seed=1, heldout_seed=2, workdir=tmp, workers=2)
        t_spice = time.perf_counter() - t
    models = {s: c.model for s, c in chars.items()}
    print(f"| scheme | ngspice s (sampling job) | model s (same {cycles} cycles, mean of 200) | ratio | "
          "held-out SNR SPICE dB | model dB |")
    print("|---|---|---|---|---|---|")
    for s, c in chars.items():
        reps = 200
        t = time.perf_counter()
        for _ in range(reps):
            c.model.predict_v(c.fit.y_ideal)
        t_model = (time.perf_counter() - t) / reps
        h = heldout_snr(c.model, c.heldout)
        print(f"| {s} | {c.fit.seconds:.2f} | {t_model * 1e3:.3f} ms | {c.fit.seconds / t_model:.0f}x | "
              f"{h['spice_snr_db']:.2f} | {h['model_snr_db']:.2f} |")
    print(f"\ncharacterisation wall time (8 jobs incl. held-out runs, 2 workers): {t_spice:.1f} s")
    t = time.perf_counter()
    snr = paper_snr(rows=rows, models=models, workdir=tempfile.gettempdir())
    t_snr = time.perf_counter() - t
    t = time.perf_counter()
    acc = paper_accuracy(models=models, seeds=5)
    t_acc = time.perf_counter() - t
    print(f"paper_snr (behavioural, kT/C): {t_snr:.1f} s; paper_accuracy (train MLP + 4 schemes x 5 seeds): "
          f"{t_acc:.1f} s; together {t_snr + t_acc:.1f} s")
    for s in SCHEMES:
        print(f"- {s}: dot SNR at kT/C {snr[s]['dot_snr_db']:.1f} dB; accuracy clean {100 * acc[s]['clean']:.1f}%, "
              f"0.03 LSB^2 {100 * acc[s]['noisy_mean']:.1f} ± {100 * acc[s]['noisy_std']:.1f}%")
    assert all(np.isfinite(snr[s]["dot_snr_db"]) for s in SCHEMES)


if __name__ == "__main__":
    main()
