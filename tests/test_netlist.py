"""Structure of generated netlists: every instance matches its subcircuit, every net
name is a plain identifier, stored bits land on the right rails, and values come from
the design point."""

from __future__ import annotations

import re

import numpy as np
import pytest

from netlistgen.circuits.encoding import bit_columns
from netlistgen.core.errors import NetlistgenError
from netlistgen.circuits.netlist import drive_factors

NET_RE = re.compile(r"^[a-z_][a-z0-9_]*$|^0$", re.IGNORECASE)


def logical_lines(text: str) -> list[str]:
    """Join '+' continuation lines, drop comments."""
    out: list[str] = []
    for raw in text.splitlines():
        if not raw.strip() or raw.startswith("*"):
            continue
        if raw.startswith("+"):
            out[-1] += " " + raw[1:]
        else:
            out.append(raw)
    return out


def lint(text: str) -> dict[str, int]:
    """Check instance/port agreement; return instance counts per subcircuit."""
    lines = logical_lines(text)
    ports = {}
    for line in lines:
        tok = line.split()
        if tok[0].lower() == ".subckt":
            ports[tok[1]] = len(tok) - 2
    counts: dict[str, int] = {}
    for line in lines:
        tok = line.split()
        if tok[0][0] in "Xx":
            sub = tok[-1]
            if sub not in ports:
                continue  # technology subcircuit (sky130 devices)
            nodes = tok[1:-1]
            assert len(nodes) == ports[sub], f"{tok[0]}: {len(nodes)} nodes for {sub} with {ports[sub]} ports"
            for n in nodes:
                assert NET_RE.match(n), f"bad net name {n!r} in {tok[0]}"
            counts[sub] = counts.get(sub, 0) + 1
    return counts


def subckt_body(text: str, name: str) -> list[str]:
    lines = logical_lines(text)
    start = next(k for k, ln in enumerate(lines) if ln.split()[:2] == [".subckt", name])
    end = next(k for k, ln in enumerate(lines) if ln.split()[:2] == [".ends", name])
    return lines[start + 1 : end]


@pytest.mark.parametrize("scheme", ["int4", "int8", "zebra-i", "zebra-ii"])
@pytest.mark.parametrize("fidelity", ["ideal-bits", "transistor"])
def test_instances_match_subcircuits(build_small, scheme, fidelity):
    nl = build_small(scheme=scheme, fidelity=fidelity, rows=3, cols=2, sram_rows_per_lcc=4)
    counts = lint(nl.text)
    spec = nl.spec
    cell = "lcc" if scheme in ("int4", "int8") else "mllcu"
    assert counts["slice"] == spec.rows * spec.cols
    assert counts["mlsiu"] == spec.rows
    assert counts["gblper"] == spec.bit_cols
    body = subckt_body(nl.text, "slice")
    assert sum(ln.split()[-1] == cell for ln in body) == spec.n_bits
    srams = sum(ln.split()[-1] == "sram6t" for ln in body)
    if fidelity == "transistor":
        expected = 4 * (spec.n_bits + 1) if cell == "lcc" else spec.n_bits + 1 + int(spec.has_pattern_bit)
        assert srams == expected
    else:
        assert srams == 0


def test_ideal_bits_sit_on_rails(build_small):
    nl = build_small(scheme="zebra-ii", rows=4, cols=3)
    planes = bit_columns(nl.codes)
    n = nl.spec.n_bits
    slices = {ln.split()[0]: ln.split()[1:-1] for ln in logical_lines(nl.text) if ln.startswith("Xsl_")}
    for r in range(4):
        for j in range(3):
            nets = slices[f"Xsl_{r}_{j}"]
            assert nets[:5] == [f"inp_{r}", f"inn_{r}", f"vcm_{r}", f"vdd_{r}", "0"]
            w, wb = nets[5 : 5 + n], nets[5 + n : 5 + 2 * n]
            for i in range(n):
                bit = planes["w"][r, j * n + i]
                assert (w[i], wb[i]) == ((f"vdd_{r}", "0") if bit else ("0", f"vdd_{r}"))
            assert nets[5 + 2 * n] == (f"vdd_{r}" if planes["s"][r, j] else "0")
            assert nets[7 + 2 * n] == (f"vdd_{r}" if planes["p"][r, j] else "0")
            assert nets[-n:] == [f"g_{j}_{i}_{r}" for i in range(n)]


def test_no_subcircuit_exceeds_ngspice_port_limit(build_small):
    """ngspice 39 aborts on a subcircuit with more than 1004 ports (N_GLOBAL_NODES; measured
    in test_bundle.py)."""
    from netlistgen.circuits.netlist import NGSPICE_MAX_PORTS

    nl = build_small(scheme="int8", rows=64, cols=16, fidelity="transistor")
    for ln in logical_lines(nl.text):
        if ln.startswith(".subckt"):
            assert len(ln.split()) - 2 <= NGSPICE_MAX_PORTS


def test_capacitor_values_follow_pattern_shift(build_small):
    nl = build_small(scheme="zebra-i", design={"c_unit_f": 2e-15})
    cell = nl.text.split(".subckt mllcu")[1].split(".ends mllcu")[0]
    assert "C1 b1 gbl {c_unit_f}" in cell and "C2 b2 gbl {c_unit_f*4}" in cell  # 2^k = 4 for zebra-i
    assert ".param c_unit_f=2e-15\n" in nl.text and nl.manifest["params"]["c_unit_f"] == "2e-15"
    nl2 = build_small(scheme="zebra-ii")
    assert "C2 b2 gbl {c_unit_f*2}" in nl2.text  # zebra-ii shift 1 -> ratio 2


def test_drivers_scale_with_load(build_small):
    small_ = drive_factors(build_small(rows=4, cols=1).spec, build_small(rows=4, cols=1).design)
    wide = drive_factors(build_small(rows=4, cols=8).spec, build_small(rows=4, cols=8).design)
    assert wide["siu"] == 8 * small_["siu"]  # row load grows with bit columns
    tall = build_small(rows=64, cols=1)
    assert drive_factors(tall.spec, tall.design)["reset"] > small_["reset"]


def test_manifest_records_everything(build_small):
    nl = build_small(scheme="zebra-i", rows=4, cols=2)
    m = nl.manifest
    assert m["spec"]["rows"] == 4 and m["spec"]["bit_cols"] == 8
    assert m["design"]["vcm_v"] == pytest.approx(0.5) and m["design"]["levels"] == 3
    assert m["technology"]["name"] == "ptm45" and m["technology"]["corner"] == "nom"
    assert len(m["content_sha256"]) == 64
    assert np.array(m["weights"]["values"]).shape == (4, 2)


def test_generation_is_deterministic(build_small):
    a, b = build_small(seed=7), build_small(seed=7)
    assert a.text == b.text and a.content_hash == b.content_hash
    assert build_small(seed=8).content_hash != a.content_hash


def test_lcc_rejects_zebra_and_mllcu_rejects_log2(build_small):
    with pytest.raises(NetlistgenError, match="zebra-i"):
        build_small(scheme="zebra-i", cell="lcc")
    with pytest.raises(NetlistgenError, match="log2"):
        build_small(scheme="log2")
