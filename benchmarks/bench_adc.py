"""SAR ADC characterization time and the B table: `python benchmarks/bench_adc.py --tech ptm45 --bits 8 4 5 6 7`.

Imports the installed package. Prints one row per B (ENOB next to the ideal quantizer's ENOB
on the same sine record, DNL/INL, energy per conversion, Walden/Schreier FOM) with the wall
time and the ngspice CPU time of the two tests, and the hwcomponents-adc estimate at the same
node, B and rate as a ratio. Timing runs must not use `--cache` (a cached run costs nothing)."""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time

from netlistgen.analysis import macro
from netlistgen.circuits.adc import AdcSpec
from netlistgen.sim.cache import ResultCache
from netlistgen.studies.adc import AdcTest, characterize
from netlistgen.tech.technology import load_technology


def _child_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tech", default="ptm45")
    ap.add_argument("--bits", nargs="+", type=int, default=[8])
    ap.add_argument("--rate", type=float, default=50e6)
    ap.add_argument("--hits", type=int, default=2)
    ap.add_argument("--sine-n", type=int, default=AdcTest.sine_conversions)
    ap.add_argument("--sine-cycles", type=int, default=AdcTest.sine_cycles)
    ap.add_argument("--cache", action="store_true", help="use the result cache (table runs, not timing runs)")
    ap.add_argument("--chunks", type=int, default=4, help="ramp decks (run in parallel with the sine)")
    ap.add_argument("--sine-chunks", type=int, default=2,
                    help="sine decks (4 ramp + 2 sine decks give each of 2 workers 421 conversions at B = 8)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--json")
    a = ap.parse_args()
    tech = load_technology(a.tech)
    test = AdcTest(hits_per_code=a.hits, sine_conversions=a.sine_n, sine_cycles=a.sine_cycles, ramp_chunks=a.chunks,
                  sine_chunks=a.sine_chunks)
    rows = []
    print("| tech | B | rate (MS/s) | ENOB | ideal ENOB | SNDR (dB) | DNL max | INL max | E/conv (fJ) | Walden (fJ/step) | Schreier (dB) | hwc ratio | wall (s) | ngspice CPU (s) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for b in a.bits:
        t0, c0 = time.perf_counter(), _child_cpu()
        r = characterize(AdcSpec(bits=b, rate_hz=a.rate), tech, test=test, workers=a.workers,
                         workdir=tempfile.mkdtemp(prefix="bench-adc-"), cache=ResultCache() if a.cache else None)
        wall, cpu = time.perf_counter() - t0, _child_cpu() - c0
        q = macro.AdcQuery(bits=b, rate_hz=r["rate_hz"], node_m=tech.lmin_m, vdd_v=tech.vdd_v, transistor_area_m2=1e-13)
        try:
            hwc = macro.ADC_MODELS["hwcomponents"].energy_j(q)
        except Exception as exc:  # the pinned library may be missing: say so in the row
            hwc = float("nan")
            print(f"(hwcomponents unavailable: {exc})")
        e = r["energy_per_conversion_j"]
        row = {k: r[k] for k in ("technology", "bits", "enob", "ideal_enob", "sndr_db", "dnl_max_lsb", "inl_max_lsb",
                                 "energy_per_conversion_j", "walden_fom_j_per_step", "schreier_fom_db", "rate_hz")}
        row.update(hits_per_code=a.hits, sine_conversions=a.sine_n, decks=[a.chunks, a.sine_chunks], missing_codes=r["missing_codes"], sfdr_db=r["sfdr_db"],
                   hwc_energy_j=hwc, spice_over_hwc=e / hwc, wall_s=wall, ngspice_cpu_s=cpu,
                   cached=r["cached"],
                   energy_per_source_j=r["energy_per_source_j"],
                   sine_codes=r["sine"]["codes"].tolist(), ramp_codes=r["ramp"]["codes"].tolist())  # for side-by-side runs
        rows.append(row)
        print(f"| {a.tech} | {b} | {r['rate_hz'] / 1e6:.2f} | {r['enob']:.2f} | {r['ideal_enob']:.2f} | {r['sndr_db']:.2f} | "
              f"{r['dnl_max_lsb']:.2f} | {r['inl_max_lsb']:.2f} | {e * 1e15:.1f} | "
              f"{r['walden_fom_j_per_step'] * 1e15:.2f} | {r['schreier_fom_db']:.1f} | {e / hwc:.2f} | {wall:.0f} | {cpu:.0f} |",
              flush=True)
        if a.json:  # after every row, so a long run leaves its finished rows
            with open(a.json, "w") as fh:
                json.dump(rows, fh, indent=2)


if __name__ == "__main__":
    main()
