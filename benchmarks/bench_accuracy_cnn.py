"""Run time of the CNN accuracy study (issue 15 goal: whole study <= 30 min on 2 cores; quick mode < ~2 min).

Runs the column-model fit (ngspice + Monte Carlo at R rows; skipped when the fitted
JSON is already in the cache), then the study with the given options, and prints wall
time and CPU time (this process plus its worker processes). CPU time is the number to
compare on a shared machine; wall time depends on the load.

Usage: python benchmarks/bench_accuracy_cnn.py quick|full [workers] [OUT] [MC_SAMPLES]
  quick: StudyOptions.quick() (digits, 1 network, 2 noise seeds, sigma^2 in {0.03, 1})
  full:  StudyOptions() (MNIST and MNIST-1D, 3 networks x 5 noise seeds, 5 variances, 2 references)
"""

from __future__ import annotations

import resource
import shutil
import sys
import time

from netlistgen.studies import accuracy_cnn as ac


def cpu_s() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> None:
    mode = sys.argv[1] if len(sys.argv) > 1 else "quick"
    workers = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    out = sys.argv[3] if len(sys.argv) > 3 else f"out/bench-accuracy-{mode}"
    mc_samples = int(sys.argv[4]) if len(sys.argv) > 4 else 4
    opts = ac.StudyOptions.quick(workers=workers) if mode == "quick" else ac.StudyOptions(workers=workers)
    t, c = time.perf_counter(), cpu_s()
    models, where = ac.fit_models(opts.schemes, rows=opts.rows, mc_samples=mc_samples, workdir=f"{out}/jobs",
                                  workers=workers)
    t_fit, c_fit = time.perf_counter() - t, cpu_s() - c
    print(f"column models ({where}): wall {t_fit:.1f} s, CPU {c_fit:.1f} s (0 when reused from the cache)")
    t, c = time.perf_counter(), cpu_s()
    shutil.rmtree(f"{out}/runs", ignore_errors=True)  # a timed run starts from scratch (no reuse)
    doc = ac.run_study(opts, models, progress=True, runs_dir=f"{out}/runs")
    ac.write_study(doc, out)
    t_run, c_run = time.perf_counter() - t, cpu_s() - c
    print(f"study ({mode}, {workers} workers): wall {t_run:.1f} s, CPU {c_run:.1f} s; "
          f"training CPU {sum(r['train_cpu_s'] for r in doc['runs']):.1f} s over {len(doc['runs'])} networks; "
          f"load average at the end {open('/proc/loadavg').read().split()[0]}")
    print()
    print(ac.table(doc))


if __name__ == "__main__":
    main()
