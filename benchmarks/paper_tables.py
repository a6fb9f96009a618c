"""The energy-derived tables of docs/results.md and docs/macro.md, printed from one paper.json.

Why: those tables quote the paper report; when the energy rule or step changes they go stale
(issue 17 moved every energy by -2.6..-4.4 %). Regenerate them from the report's own output
instead of by hand.

Usage: python benchmarks/paper_tables.py PAPER_JSON [OLD_PAPER_JSON]
With OLD_PAPER_JSON, also prints what moved between the two runs (energies and ratios in %,
the sampled metrics as differences).
"""

from __future__ import annotations

import json
import sys

TABLE = [("tops_per_w", "energy efficiency (TOPS/W, array only)", ".2f"), ("gops_per_mm2", "area efficiency (GOPS/mm^2)", ".0f"),
         ("dot_snr_db", "dot-product SNR, kT/C noise (dB)", ".1f"),
         ("accuracy_under_noise", "digits-MLP accuracy, 0.03 LSB^2", ".3f"),
         ("accuracy_under_strong_noise", "digits-MLP accuracy, 0.3 LSB^2 (integer grid)", ".3f")]


def comparison_rows(doc: dict) -> list[str]:
    out = ["| metric | " + " | ".join(doc["schemes"]) + " |", "|---|" + "---|" * len(doc["schemes"])]
    for key, title, spec in TABLE:
        vals = doc["table"].get(key, {})
        out.append(f"| {title} | " + " | ".join(format(vals[s], spec) if s in vals else "—" for s in doc["schemes"]) + " |")
    e = doc["measured"]
    out.append("| energy per cycle (fJ) | " + " | ".join(f"{e[s]['energy_per_cycle_fj']:.2f}" for s in doc["schemes"]) + " |")
    return out


def macro_rows(m: dict) -> list[str]:
    out = ["| ADC model | policy | bits (8-8 2c / ZEBRA-I / ZEBRA-II) | vs two's-complement 8-8 | vs sign-magnitude 8-8 |",
           "|---|---|---|---|---|"]
    for model, pols in m["by_model"].items():
        for policy, blk in pols.items():
            b, r = blk["bits"], blk["ratios"]
            out.append(f"| {model} | {policy} | {b['int8-2c']} / {b['zebra-i']} / {b['zebra-ii']} | "
                       f"{r['zebra-i/int8-2c']['tops_per_w']:.2f} / {r['zebra-ii/int8-2c']['tops_per_w']:.2f} | "
                       f"{r['zebra-i/int8']['tops_per_w']:.2f} / {r['zebra-ii/int8']['tops_per_w']:.2f} |")
    out += ["", "seeds' check (policy same): model, R, pair, TOPS/W ratio, GOPS/mm^2 ratio, ADC share of the baseline"]
    for c in m["seeds_check"]:
        out.append(f"- {c['adc_model']} R={c['rows']} {c['pair']}: {c['tops_per_w']:.2f} (seeds {c['seeds_tops_per_w']:.2f}), "
                   f"{c['gops_per_mm2']:.2f} (seeds {c['seeds_gops_per_mm2']:.2f}), ADC {c['adc_share_of_baseline_energy']:.0%}, "
                   f"area ratio {c['area_ratio']:.2f}")
    per_conv = {n: (f["e_conv_fixed_j"] + f["e_conv_per_row_j"] * f["rows_simulated"]) * 1e15 for n, f in m["facts"].items()}
    out.append("array energy per conversion (fJ): " + ", ".join(f"{n} {v:.1f}" for n, v in per_conv.items()))
    return out


def moved(old: dict, new: dict) -> list[str]:
    out = ["| scheme | quantity | old | new | change |", "|---|---|---|---|---|"]
    for s in new["schemes"]:
        a, b = old["measured"][s], new["measured"][s]
        for k in ("energy_per_cycle_fj", "gain_mv_per_lsb"):
            if k in a and k in b:
                out.append(f"| {s} | {k} | {a[k]:.4g} | {b[k]:.4g} | {(b[k] / a[k] - 1) * 100:+.2f} % |")
        for k in ("offset_mv", "inl_lsb", "snr_db", "hold_snr_db"):
            if k in a and k in b:
                out.append(f"| {s} | {k} | {a[k]:.4g} | {b[k]:.4g} | {b[k] - a[k]:+.3g} |")
        for k, _, _ in TABLE:
            va, vb = old["table"].get(k, {}).get(s), new["table"].get(k, {}).get(s)
            if va is not None and vb is not None:
                out.append(f"| {s} | table {k} | {va:.4g} | {vb:.4g} | {vb - va:+.3g} ({(vb / va - 1) * 100:+.2f} %) |")
    for ra in old["ratios"]:
        rb = next((r for r in new["ratios"] if r["metric"] == ra["metric"] and r["pair"] == ra["pair"]), None)
        if rb and ra["metric"] == "tops_per_w":
            out.append(f"| ratio | {ra['pair']} TOPS/W | {ra['ours']:.3f} | {rb['ours']:.3f} | {(rb['ours'] / ra['ours'] - 1) * 100:+.2f} % |")
    return out


def main() -> None:
    new = json.load(open(sys.argv[1]))
    print(f"options: {new['options']}\n")
    print("\n".join(comparison_rows(new)), "\n")
    print("\n".join(macro_rows(new["macro"])), "\n")
    if len(sys.argv) > 2:
        print("\n".join(moved(json.load(open(sys.argv[2])), new)))


if __name__ == "__main__":
    main()
