"""Hostile-input fuzzing support shared by tests/test_fuzz.py and benchmarks/fuzz_campaign.py.

It lives in the package (after the CLI it drives) so the campaign imports it like any
installed module; it needs hypothesis and PyYAML (`pip install netlistgen[test]`).

The netlist oracle: a generated file may only contain lines the templates can produce.
Every line is matched against a whitelist grammar (element lines by prefix, dot-cards
by name, `.param name=number` declarations and `{name}` references only to parameters
declared earlier in the same file, a `.control` block only where the testbench puts it,
with whitelisted commands),
so any user text that slipped through (a newline, `.control`, `shell`, `$(...)`, a
quote, unicode) makes the oracle fail, whatever its content.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path

import yaml
from hypothesis import strategies as st

from netlistgen.cli import main
from netlistgen.core.validate import SAFE_PATH_RE

IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
NUM = r"-?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?"
# References to declared `.param`s, exactly as the generator writes them: {name}, {name*k},
# and the Monte Carlo draws {name[*k]*(1+agauss(0,sigma,1))} / {agauss(0,sigma,1)}.
_AGAUSS = rf"\*\(1\+agauss\(0,{NUM},1\)\)"
REF = rf"\{{({IDENT})(?:\*{NUM})?(?:{_AGAUSS})?\}}"
DRAW = rf"\{{agauss\(0,{NUM},1\)\}}"
VALUE = rf"(?:{NUM}|{REF}|{DRAW})"
PARAM = rf"{IDENT}={VALUE}"
NODE_OR_NUM = rf"(?:{IDENT}|{VALUE})"
_tok = rf"(?:{IDENT}|{VALUE}|{PARAM})"
REF_RE = re.compile(REF)
PARAM_LINE = re.compile(rf"^\.param ({IDENT})=(?:{NUM}|\{{{IDENT}(?:\*{NUM})?\}})$")

COMMENT = re.compile(r"^\*(?: [ -~]*)?$")  # printable ASCII only
ELEMENT = re.compile(rf"^[MXCRSV][A-Za-z0-9_]*(?: {_tok})*$")
PWL_SOURCE = re.compile(rf"^V{IDENT} {IDENT} 0 PWL\($")
CONTINUATION = re.compile(rf"^\+(?: {NODE_OR_NUM})+\)?$")
MODEL = re.compile(rf"^\.model {IDENT} {IDENT}(?: {PARAM})*$")
SUBCKT = re.compile(rf"^\.subckt {IDENT}(?: {IDENT})*$")
ENDS = re.compile(rf"^\.ends {IDENT}$")
INCLUDE = re.compile(r'^\.include "([^"]*)"$')
LIB = re.compile(rf'^\.lib "([^"]*)" {IDENT}$')
OPTIONS = re.compile(rf"^\.options(?: {IDENT}(?:=(?:{IDENT}|{NUM}))?)*$")
TEMP = re.compile(rf"^\.temp {NUM}$")  # device temperature of a deck (deg C)
SAVE = re.compile(r"^\.save$")  # the vectors follow on continuation lines
SAVED = re.compile(rf"^\+(?: (?:v\({IDENT}\)|i\({IDENT}\)))+$")
CONTROL_COMMANDS = [
    re.compile(r"^op$"),
    re.compile(rf"^print(?: v\({IDENT}\))+$"),
    re.compile(r"^set filetype=binary$"),
    re.compile(rf"^tran {NUM} {NUM} 0 {NUM}$"),
    re.compile(r"^rusage all$"),
    re.compile(rf"^write {IDENT}\.raw$"),
    re.compile(rf"^\+(?: (?:time|v\({IDENT}\)|i\({IDENT}\)))+$"),
    re.compile(r"^quit 0$"),
]
SPICEINIT = re.compile(rf"^set {IDENT}(?:={IDENT}|={NUM})?$")


class OracleError(AssertionError):
    pass


def _safe_path(path: str, where: str) -> None:
    if not SAFE_PATH_RE.match(path) or not path.startswith("/"):
        raise OracleError(f"{where}: unsafe path {path!r}")


def check_netlist(text: str, *, deck: bool) -> int:
    """Raise OracleError on the first line the templates cannot produce; return the line count.

    deck=False: a library (array.sp) — no .control, no .end, no models loaded.
    deck=True: a runnable deck — exactly one .control ... .endc block, then `.end` last."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    in_control = False
    controls = 0
    pwl_open = False
    declared: set[str] = set()
    for n, line in enumerate(lines, 1):
        where = f"line {n}"
        if "\r" in line or "\x00" in line or not line.isascii():
            raise OracleError(f"{where}: control or non-ASCII character in {line[:120]!r}")
        if in_control:
            if line == ".endc":
                in_control = False
            elif not any(rx.match(line) for rx in CONTROL_COMMANDS):
                raise OracleError(f"{where}: command not produced by the testbench: {line[:120]!r}")
            continue
        if not line.startswith("*"):  # every {name} must name a .param declared above, in this file
            for m in REF_RE.finditer(line):
                if m.group(1) not in declared:
                    raise OracleError(f"{where}: reference to undeclared parameter {m.group(0)!r}")
        if pwl_open:
            if not CONTINUATION.match(line):
                raise OracleError(f"{where}: bad PWL continuation {line[:120]!r}")
            pwl_open = not line.endswith(")")
            continue
        if line == "" or COMMENT.match(line):
            continue
        if line == ".control":
            if not deck or controls:
                raise OracleError(f"{where}: unexpected .control block")
            controls += 1
            in_control = True
        elif line == ".end":
            if not deck or n != len(lines):
                raise OracleError(f"{where}: .end not at the end of a deck")
        elif (m := INCLUDE.match(line)) or (m := LIB.match(line)):
            if not deck and line.startswith(".lib"):
                raise OracleError(f"{where}: model library inside the array library")
            _safe_path(m.group(1), where)
        elif m := PARAM_LINE.match(line):
            if m.group(1) in declared:
                raise OracleError(f"{where}: parameter {m.group(1)!r} declared twice")
            declared.add(m.group(1))
        elif TEMP.match(line):
            if not deck:
                raise OracleError(f"{where}: .temp inside the library")
        elif SAVE.match(line) or SAVED.match(line):
            if not deck:
                raise OracleError(f"{where}: .save inside the library")
        elif PWL_SOURCE.match(line):
            if not deck:
                raise OracleError(f"{where}: source inside the library")
            pwl_open = True
        elif ELEMENT.match(line) or MODEL.match(line) or SUBCKT.match(line) or ENDS.match(line) \
                or CONTINUATION.match(line) or OPTIONS.match(line):
            if line.startswith("V") and not deck:
                raise OracleError(f"{where}: source inside the library")
            continue
        else:
            raise OracleError(f"{where}: line not produced by the templates: {line[:120]!r}")
    if in_control or pwl_open:
        raise OracleError("unterminated .control block or PWL source")
    if deck and (controls != 1 or not lines or lines[-1] != ".end"):
        raise OracleError(f"deck has {controls} .control blocks and ends with {lines[-1] if lines else ''!r}")
    return len(lines)


def check_spiceinit(text: str) -> int:
    lines = text.splitlines()
    for line in lines:
        if not SPICEINIT.match(line):
            raise OracleError(f".spiceinit line not produced by netlistgen: {line[:120]!r}")
    return len(lines)


def check_output_dir(out: Path) -> int:
    """Oracle over every SPICE file netlistgen wrote under `out`; returns lines checked."""
    checked = 0
    for p in sorted(out.rglob("*")):
        if p.name == ".spiceinit":
            checked += check_spiceinit(p.read_text())
        elif p.suffix == ".sp":
            try:
                checked += check_netlist(p.read_text(), deck=p.name not in ("array.sp", "cim_array.sp"))
            except OracleError as exc:
                raise OracleError(f"{p}: {exc}") from None
    return checked


# ------------------------------------------------------------------------ hostile values

PAYLOADS = [
    "\n.control\nshell touch /tmp/netlistgen-pwned\n.endc\n",
    ".include /etc/passwd",
    '" \n.include "/etc/passwd',
    "$(touch /tmp/netlistgen-pwned)",
    "`id`",
    "; shell ls",
    "\r\n.end",
    "\x00",
    "\u202e\u0430",  # bidi override, Cyrillic a
    "ñ" * 300,
    "x" * 5000,
    "{{ 7*7 }}",  # a Jinja expression must stay text
    "../../../../etc/passwd",
    "a b",
    "-1e308",
    "nan",
    "1e999",
]
# Text that must never appear in any generated file (taken from the payloads).
MARKERS = ("shell", "/etc/passwd", "netlistgen-pwned", "$(", "`", "{{", "\u202e")


def hostile_text() -> st.SearchStrategy[str]:
    """Hostile strings: known payloads, payloads glued to a valid value, random unicode."""
    valid = st.sampled_from(["zebra-i", "ptm45", "nom", "mllcu", "int4", "1e-15", "out", "x"])
    payload = st.sampled_from(PAYLOADS)
    glued = st.tuples(valid, payload, st.booleans()).map(lambda t: t[0] + t[1] if t[2] else t[1] + t[0])
    noise = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40)
    return st.one_of(payload, glued, noise, st.tuples(valid, noise).map("".join))


def hostile_number() -> st.SearchStrategy[object]:
    return st.one_of(
        st.sampled_from(["nan", "inf", "-inf", "1e999", "-0", "0x10", "1_000", "", " ", "1e-15\n.end", "2**10"]),
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
        st.integers(min_value=-(10**30), max_value=10**30).map(str),
        hostile_text(),
    )


# ------------------------------------------------------------------------------ drivers


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse's own errors (unknown option, bad choice)
            code = exc.code
    return code, out.getvalue(), err.getvalue()


def expect_clean_outcome(code: int, err: str, out_dir: Path, value: object) -> str:
    """The contract for a run fed a hostile value: either a one-line error with exit 2
    and nothing written, or success with every written file passing the oracle.
    Returns "rejected" or "accepted"."""
    if code == 2:
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("netlistgen: error:"), (value, err)
        written = [p for p in out_dir.rglob("*") if p.is_file()] if out_dir.exists() else []
        assert not written, f"{value!r}: rejected but wrote {written}"
        return "rejected"
    assert code == 0, (value, code, err)
    assert check_output_dir(out_dir) > 0
    for p in out_dir.rglob("*"):
        if p.is_file():
            text = p.read_text(errors="replace")
            for marker in MARKERS:
                assert marker not in text, (value, p, marker)
    return "accepted"


# ------------------------------------------------------------------- hostile files


def toml_value(v: object) -> str:
    """TOML for the values used here (strings keep their characters; TOML rejects what it must)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)  # nan / inf / -inf are TOML's spellings too
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{toml_key(k)} = {toml_value(x)}" for k, x in v.items()) + "}"
    return json.dumps(str(v), ensure_ascii=False)


def toml_key(k: str) -> str:
    return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else json.dumps(k, ensure_ascii=False)


def dump_toml(doc: dict) -> str:
    """Top-level scalars first, then one [table] per nested mapping (one level deep, then inline)."""
    head = [f"{toml_key(k)} = {toml_value(v)}" for k, v in doc.items() if not isinstance(v, dict)]
    body = []
    for k, v in doc.items():
        if isinstance(v, dict):
            body.append(f"[{toml_key(k)}]")
            body += [f"{toml_key(k2)} = {toml_value(v2)}" for k2, v2 in v.items()]
    return "\n".join(head + body) + "\n"


def write_config(path: Path, doc: dict) -> Path:
    if path.suffix == ".toml":
        path.write_text(dump_toml(doc), encoding="utf-8")
    else:
        path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


BASE_ARGS = ["--rows", "2", "--cols", "1"]
TEXT_FLAGS = ["--scheme", "--tech", "--corner", "--weights", "--patterns", "--config", "--rows", "--cols", "--seed",
              "--sram-rows-per-lcc", "--out", "--set-key", "--set-value"]
SIM_FLAGS = ["--cycles", "--energy-cycles", "--stim-seed", "--timeout", "--jobs"]
CONFIG_KEYS = ["scheme", "cell", "rows", "cols", "technology", "corner", "fidelity", "sram_rows_per_lcc", "weights",
               "seed", "clip", "pattern_sets", "out", "design.c_unit_f", "design.vdd_v", "design.levels",
               "design.<key>", "<key>"]
DESCRIPTOR_KEYS = ["name", "description", "vdd_v", "models.default_corner", "models.corners.typ", "models.corners.<key>",
                   "models.spiceinit", "devices.nmos", "devices.pmos", "devices.kind", "devices.lmin_m",
                   "sizing.w_switch_n_m", "capacitor.c_unit_f", "wire.r_per_row_ohm", "<key>"]


def _set_path(doc: dict, dotted: str, value: object) -> None:
    *parents, last = dotted.split(".")
    for p in parents:
        doc = doc[p]
    if last == "<key>":
        doc[str(value)] = 1 if not parents else doc.get(next(iter(doc)), 1)
    else:
        doc[last] = value


def fuzz_flag(tmp: Path, flag: str, value: str, *, command: str = "generate") -> str:
    """One CLI run with one hostile flag value; returns the outcome (asserted clean)."""
    out = tmp / "out"
    argv = [command, *BASE_ARGS, "--out", str(out)]
    if command == "simulate":
        argv += ["--rows", "1", "--cycles", "2", "--energy-cycles", "0", "--timeout", "60"]
    if flag == "--set-key":
        argv += ["--set", f"{value}=1e-15"]
    elif flag == "--set-value":
        argv += ["--set", f"c_unit_f={value}"]
    elif flag == "--out":  # inside tmp: no "/" (so no "..") in the hostile part
        out = tmp / "o"
        argv[argv.index("--out") + 1] = str(out) + "/" + value.replace("/", "_")
    else:
        argv.append(f"{flag}={value}")  # "=" form: a value may start with "-"
    code, _, err = run_cli(argv)
    return expect_clean_outcome(code, err, out, value)


def fuzz_config(tmp: Path, key: str, value: object, suffix: str) -> str:
    """A config file whose `key` holds a hostile value (or a hostile key name)."""
    doc: dict = {"scheme": "zebra-i", "rows": 2, "cols": 1, "design": {"c_unit_f": 1e-15}}
    _set_path(doc, key, value)
    cfg = tmp / f"cfg{suffix}"
    write_config(cfg, doc)
    out = tmp / "out"
    code, _, err = run_cli(["generate", "--config", str(cfg), "--out", str(out)])
    outcome = expect_clean_outcome(code, err, out, value)
    if outcome == "rejected":
        assert "config file" in err, err
    return outcome


def fuzz_descriptor(tmp: Path, key: str, value: object, *, fixtures: Path) -> str:
    """A copy of the user-technology fixture (tests/fixtures/user_tech.toml and its model
    files, in `fixtures`) with one hostile field, used with --tech."""
    import tomllib

    doc = tomllib.loads((fixtures / "user_tech.toml").read_text())
    _set_path(doc, key, value)
    for inc in ("user_bsim4_typ.inc", "user_bsim4_slow.inc"):
        (tmp / inc).write_bytes((fixtures / inc).read_bytes())
    desc = tmp / "tech.toml"
    desc.write_text(dump_toml_nested(doc), encoding="utf-8")
    out = tmp / "out"
    code, _, err = run_cli(["generate", *BASE_ARGS, "--tech", str(desc), "--out", str(out)])
    return expect_clean_outcome(code, err, out, value)


def dump_toml_nested(doc: dict, prefix: str = "") -> str:
    """TOML with nested [a.b] tables (descriptor layout)."""
    lines = [f"{toml_key(k)} = {toml_value(v)}" for k, v in doc.items() if not isinstance(v, dict)]
    for k, v in doc.items():
        if isinstance(v, dict):
            name = f"{prefix}.{toml_key(k)}" if prefix else toml_key(k)
            lines.append(f"[{name}]")
            lines.append(dump_toml_nested(v, name).rstrip("\n"))
    return "\n".join(lines) + "\n"


def fuzz_patterns(tmp: Path, name: object, patterns: object, suffix: str) -> str:
    """A pattern-set file with a hostile set name or pattern list, selected with --scheme."""
    pfile = tmp / f"patterns{suffix}"
    doc = {"pattern_sets": {str(name): {"patterns": patterns}}}
    if suffix == ".toml":
        pfile.write_text(f"[pattern_sets.{toml_key(str(name))}]\npatterns = {toml_value(patterns)}\n", encoding="utf-8")
    else:
        write_config(pfile, doc)
    out = tmp / "out"
    code, _, err = run_cli(["generate", *BASE_ARGS, "--patterns", str(pfile), "--scheme", str(name)[:4000],
                            "--out", str(out)])
    return expect_clean_outcome(code, err, out, (name, patterns))


def fuzz_suite(tmp: Path, key: str, value: object) -> str:
    """A regression-suite file with one hostile value. `-k` names no case, so a suite that
    loads is reported as "no case matches" (nothing simulated); the accepted cases are
    then built and their netlists checked by the oracle."""
    from netlistgen.circuits.generate import build, write
    from netlistgen.studies.regress import load_suite

    case = {"name": "c1", "scheme": "zebra-i", "rows": 1, "cols": 1, "cycles": 2}
    doc: dict = {"cases": [case]}
    if key == "<key>":
        case[str(value)] = 1
    else:
        case[key] = value
    suite = tmp / "suite.yaml"
    write_config(suite, doc)
    code, _, err = run_cli(["regress", "--suite", str(suite), "-k", "zz_no_such_case", "--out", str(tmp / "rep")])
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("netlistgen: error:"), (value, code, err)
    if "no case matches" not in err:
        assert "suite" in err, err
        return "rejected"
    out = tmp / "out"
    for c in load_suite(suite):
        write(build(c.options), out / c.name)
    assert check_output_dir(out) > 0
    return "accepted"


def hostile_weights(rng_value: float, kind: str) -> object:
    import numpy as np

    w = np.full((2, 1), 0.5)
    if kind == "value":
        w[1, 0] = rng_value
        return w
    return {
        "object": np.array([[{"a": 1}], ["x"]], dtype=object),
        "complex": np.array([[1 + 2j], [0.5]]),
        "strings": np.array([["1.0"], ["x"]]),
        "3d": np.zeros((2, 1, 1)),
        "empty": np.zeros((0, 1)),
        "bool": np.array([[True], [False]]),
    }[kind]


def fuzz_weights(tmp: Path, payload: object, suffix: str) -> str:
    """A weights file (.npy or .csv) with hostile content."""
    import numpy as np

    wfile = tmp / f"w{suffix}"
    if isinstance(payload, str):
        wfile.write_text(payload, encoding="utf-8")
    elif suffix == ".npy":
        np.save(wfile, payload, allow_pickle=True)
    else:
        arr = np.asarray(payload)
        rows = arr if arr.ndim == 2 else arr.reshape(arr.shape[0], -1)
        wfile.write_text("\n".join(",".join(str(x) for x in row) for row in rows) + "\n", encoding="utf-8")
    out = tmp / "out"
    code, _, err = run_cli(["generate", *BASE_ARGS, "--weights", str(wfile), "--out", str(out)])
    return expect_clean_outcome(code, err, out, payload)
