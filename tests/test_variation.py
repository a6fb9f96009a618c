"""Mismatch and noise parameters, their SPICE expressions and what they do to a netlist
(no simulator: the ngspice checks are in test_montecarlo.py)."""

from __future__ import annotations

import dataclasses
import math
import re

import numpy as np
import pytest

from netlistgen.core.errors import NetlistgenError
from netlistgen.circuits.generate import GenerateOptions, build
from netlistgen.circuits.netlist import build_netlist
from netlistgen.circuits.testbench import Timing, random_stimulus, transient_deck
from netlistgen.circuits.variation import (
    K_BOLTZMANN_J_PER_K,
    Mismatch,
    Noise,
    ResetNoise,
    cap_sigma_rel,
    ktc_sigma_v,
    resolve,
    vt_sigma_v,
)

AGAUSS_CAP = re.compile(r"\{([a-z_]+(?:\*[0-9]+)?)\*\(1\+agauss\(0,([0-9.eE+-]+),1\)\)\}")
DELVTO = re.compile(r" delvto=\{agauss\(0,([0-9.eE+-]+),1\)\}")


@pytest.mark.parametrize("kwargs,needle", [
    (dict(seed=-1), "mismatch seed"),
    (dict(seed=2**31), "mismatch seed"),
    (dict(seed="x"), "mismatch seed"),
    (dict(seed=1, vt_scale=0), "vt_scale"),
    (dict(seed=1, cap_scale=1e3), "cap_scale"),
    (dict(seed=1, vt="yes"), "vt"),
    (dict(seed=1, vt=False, cap=False), "varies nothing"),
])
def test_mismatch_rejects_bad_values(kwargs, needle):
    with pytest.raises(NetlistgenError, match=needle):
        Mismatch(**kwargs)


def test_mismatch_options_are_checked():
    assert Mismatch.from_options("7", {"cap_scale": "2"}) == Mismatch(7, cap_scale=2.0)
    with pytest.raises(NetlistgenError, match="unknown mismatch option 'sigma'"):
        Mismatch.from_options(1, {"sigma": 1})
    with pytest.raises(NetlistgenError, match="without a mismatch_seed"):
        build(GenerateOptions(rows=1, cols=1, mismatch={"vt": False}))
    with pytest.raises(NetlistgenError, match="reset_noise"):
        build(GenerateOptions(rows=1, cols=1, reset_noise="yes"))


def test_pelgrom_sigmas():
    assert cap_sigma_rel(0.01, 4e-15) == pytest.approx(0.005)  # 4x the area: half the sigma
    assert cap_sigma_rel(0.01, 1e-15, scale=3) == pytest.approx(0.03)
    # pair convention: one device gets A_VT / sqrt(2 W L)
    assert vt_sigma_v(2.5e-9, 180e-9, 50e-9) == pytest.approx(2.5e-9 / math.sqrt(2 * 180e-9 * 50e-9))
    assert vt_sigma_v(2.5e-9, 180e-9, 50e-9) == pytest.approx(0.018634, rel=1e-4)


def test_ktc_sigma_and_reset_noise_draws():
    # SPEC section 7: about 240 uV at 70 fF (300 K)
    assert float(ktc_sigma_v(300.0, 70e-15)) == pytest.approx(243.2e-6, rel=1e-3)
    assert float(ktc_sigma_v(300.0, 1e-15)) == pytest.approx(math.sqrt(K_BOLTZMANN_J_PER_K * 300 / 1e-15))
    with pytest.raises(NetlistgenError, match="C_total"):
        ktc_sigma_v(300.0, [1e-15, 0.0])
    with pytest.raises(NetlistgenError, match="temperature_k"):
        Noise(1, temperature_k=-3)
    rn = ResetNoise.ktc(Noise(5, 300.0), [20e-15, 80e-15])
    a, b = rn.offsets_v(4000), rn.offsets_v(4000)
    np.testing.assert_array_equal(a, b)  # seeded: the same draws every time
    assert not np.array_equal(a, ResetNoise(6, rn.sigma_v).offsets_v(4000))
    np.testing.assert_allclose(a.std(axis=0), rn.sigma_v, rtol=0.05)  # 4000 draws: 1.1 % standard error
    assert abs(np.corrcoef(a.T)[0, 1]) < 0.05  # GBLs draw independently


def strip_variation(text: str) -> str:
    """The library with every draw replaced by its nominal value and the seed lines removed."""
    text = AGAUSS_CAP.sub(lambda m: "{" + m.group(1) + "}", text)
    text = DELVTO.sub("", text)
    return "\n".join(ln for ln in text.splitlines() if not ln.startswith(".options seed")
                     and not ln.startswith("* Monte Carlo sample")) + "\n"


@pytest.mark.parametrize("scheme,fidelity", [("zebra-i", "ideal-bits"), ("int8", "transistor")])
def test_ptm45_mismatch_only_adds_draws(installed, scheme, fidelity):
    """Every MOS gets delvto with its Pelgrom sigma and every C1/C2/unit/sample capacitor an
    agauss factor with its sigma; with the draws taken out the library is the nominal one."""
    kw = dict(scheme=scheme, rows=2, cols=1, fidelity=fidelity, sram_rows_per_lcc=2)
    nominal = build(GenerateOptions(**kw))
    mc = build(GenerateOptions(**kw, mismatch_seed=42, mismatch={"cap_scale": 2.0}))
    assert ".options seed=42" in mc.text.splitlines()
    assert strip_variation(mc.text) == nominal.text
    tech, dp = mc.tech, mc.design
    mos = [ln for ln in mc.text.splitlines() if ln.startswith("M")]
    assert mos and all(DELVTO.search(ln) for ln in mos)
    for ln in mos:
        w, l_ = (float(mc.manifest["params"][re.search(rf" {k}={{(\w+)}}", ln).group(1)]) for k in ("w", "l"))
        avt = tech.avt_p_v_m if tech.pmos_model in ln else tech.avt_v_m
        assert float(DELVTO.search(ln).group(1)) == pytest.approx(avt / math.sqrt(2 * w * l_), rel=1e-8)
    caps = [ln for ln in mc.text.splitlines() if re.match(r"C(1|2|sh) ", ln)]
    assert len(caps) == (3 if scheme == "zebra-i" else 2)
    for ln in caps:
        nom_expr, sigma = AGAUSS_CAP.search(ln).groups()
        name, _, times = nom_expr.partition("*")
        value, sigma = float(mc.manifest["params"][name]) * float(times or 1), float(sigma)
        assert sigma == pytest.approx(2.0 * tech.c_mismatch_sigma_rel_1f / math.sqrt(value / 1e-15))
    assert not AGAUSS_CAP.search("\n".join(ln for ln in mc.text.splitlines() if ln.startswith("Cw")))
    rec = mc.manifest["mismatch"]
    assert rec["seed"] == 42 and rec["vt_method"] == "delvto" and rec["cap_scale"] == 2.0
    assert rec["cap_sigma_rel"]["c1"] == pytest.approx(2 * tech.c_mismatch_sigma_rel_1f * math.sqrt(1e-15 / dp.c_unit_f))
    assert rec["vt_sigma_v"]["tg_n"] == pytest.approx(vt_sigma_v(tech.avt_v_m, dp.w_switch_n_m, dp.l_m))
    assert "mismatch" not in nominal.manifest
    other = build(GenerateOptions(**kw, mismatch_seed=43, mismatch={"cap_scale": 2.0}))
    assert other.content_hash != mc.content_hash and strip_variation(other.text) == nominal.text


def test_sky130_uses_its_mismatch_corner(installed):
    kw = dict(scheme="zebra-i", technology="sky130", rows=1, cols=1)
    mc = build(GenerateOptions(**kw, mismatch_seed=3))
    assert mc.corner == "tt_mm" and mc.manifest["technology"]["corner"] == "tt_mm"
    assert mc.manifest["mismatch"]["vt_method"] == "pdk-corner" and mc.manifest["mismatch"]["vt_sigma_v"] == {}
    # flattened cards (the default): the PDK's own per-instance VT draw on each M line
    assert re.search(r"delvto=\{[-0-9.e]+\+[-0-9.e]+\*agauss\(0,1,1\)\}", mc.text)
    assert "flat-tt_mm-" in "\n".join(mc.model_statements())
    sub = build(GenerateOptions(**kw, mismatch_seed=3, models="trimmed"))
    assert "delvto" not in sub.text and "agauss" in sub.text  # caps drawn here, devices by the PDK subcircuits
    assert "tt_mm" in "\n".join(sub.model_statements())
    assert build(GenerateOptions(**kw, corner="ss", mismatch_seed=3)).corner == "ss_mm"
    caps_only = build(GenerateOptions(**kw, mismatch_seed=3, mismatch={"vt": False}))
    assert caps_only.corner == "tt" and caps_only.manifest["mismatch"]["vt_method"] == "off"
    with pytest.raises(NetlistgenError, match="vt_scale"):
        build(GenerateOptions(**kw, mismatch_seed=3, mismatch={"vt_scale": 2}))


def test_technology_without_vt_mismatch_is_an_error(installed):
    tech = dataclasses.replace(build(GenerateOptions(rows=1, cols=1)).tech, supports_delvto=False)
    with pytest.raises(NetlistgenError, match="cannot vary VT per instance"):
        resolve(Mismatch(1), tech, "nom")
    assert resolve(Mismatch(1, vt=False), tech, "nom").vt_method == "off"


def test_reset_noise_netlist_and_deck(installed):
    """reset_noise gives every GBL its own reset reference; the deck steps it to
    VCM + the cycle's draw early in each reset phase and holds it through release."""
    nominal = build(GenerateOptions(rows=2, cols=2))
    nl = build(GenerateOptions(rows=2, cols=2, reset_noise=True))
    refs = [f"vcm_rst_{j}_{i}" for j in range(2) for i in range(4)]
    assert [n for n in nl.array_nets if n.startswith("vcm_rst_")] == refs
    per = [ln for ln in nl.text.splitlines() if ln.startswith("Xper_")]
    assert [ln.split()[2] for ln in per] == refs
    def elements(text: str) -> int:  # the interface header lists one more net family
        return sum(1 for ln in text.splitlines() if not ln.startswith("*"))

    assert elements(nl.text) == elements(nominal.text)
    assert "*  vcm_rst_<j>_<i> x8 [vcm," in nl.text
    stim = random_stimulus(nl, 3, 1)
    timing = Timing.for_technology(nl.tech)
    rn = ResetNoise(9, tuple(1e-3 * (k + 1) for k in range(8)))
    deck, sched = transient_deck(nl, "/tmp/array.sp", stim, timing, reset_noise=rn)
    off = rn.offsets_v(3)
    pwl = deck.split("Vvcm_rst_0_1 vcm_rst_0_1 0 PWL(")[1].split(")")[0]
    values = [float(x) for x in re.findall(r"[-+]?\d[\d.eE+-]*", pwl)]
    t, v = np.array(values[0::2]), np.array(values[1::2])
    for c in range(3):
        release = sched.cycle_start(c) + timing.t_reset_s
        assert np.interp(release, t, v) == pytest.approx(nl.design.vcm_v + off[c, 1], abs=1e-9)
    plain, _ = transient_deck(nominal, "/tmp/array.sp", stim, timing)
    assert "vcm_rst" not in plain
    with pytest.raises(NetlistgenError, match="reset_noise=True"):
        transient_deck(nominal, "/tmp/array.sp", stim, timing, reset_noise=rn)
    with pytest.raises(NetlistgenError, match="8 GBLs"):
        transient_deck(nl, "/tmp/array.sp", stim, timing, reset_noise=ResetNoise(1, (1e-3,)))


def test_mismatch_netlist_api_defaults_off(installed):
    nl = build(GenerateOptions(rows=1, cols=1))
    again = build_netlist(nl.spec, nl.design, nl.tech, nl.codes, scale=nl.scale, corner=nl.corner,
                          mismatch=None, reset_noise=False)
    assert again.text == nl.text and "agauss" not in nl.text and ".options seed" not in nl.text


def test_monte_carlo_jobs_are_not_split_per_column(installed):
    """The column split rebuilds nominal one-column netlists: it must leave MC and noise jobs whole."""
    from netlistgen.sim.executor import split_reason
    from netlistgen.sim.simulate import Job

    for kw in (dict(mismatch_seed=3), dict(reset_noise=True)):
        nl = build(GenerateOptions(rows=1, cols=2, **kw))
        assert "Monte Carlo" in split_reason(Job("a", nl, random_stimulus(nl, 2, 1)))
    nl = build(GenerateOptions(rows=1, cols=2))
    assert split_reason(Job("a", nl, random_stimulus(nl, 2, 1))) is None
