"""Flattened model decks: one global `.model` card per device size, devices as M elements.

Why. PDKs such as sky130 wrap every transistor in a subcircuit that holds all of its
binned `.model` cards and evaluates its parameters per instance. ngspice copies the
cards into every instance: memory and model lookup grow with the device count (a 16x4
array needed 10.8 GB). An array uses a handful of sizes, so the same device physics fits
in a few global cards.

How. For each size (PDK subcircuit, W, L, nf, mult) the netlist uses:

1. the corner's top-level `.param` values are evaluated in load order (the `sw_*`
   process switches, `MC_MM_SWITCH`, ...) with a small safe evaluator (`Expr`: a
   tokenizer and precedence parser for the SPICE expression subset of model files;
   nothing from a file reaches Python's `eval`);
2. the subcircuit's own parameters are evaluated with the instance's values (the
   `swx_*` switches, `nrd`/`nrs`, ...);
3. the PDK bin is picked as ngspice does (`lmin <= L < lmax`, `wmin <= W/nf < wmax`
   where the compatibility mode divides W by nf, lengths times `.option scale`), and
   every expression of that card is evaluated to a number: one `.model` card per size;
4. the subcircuit's inner M line becomes the instance line: its parameters evaluated,
   except per-instance random terms. Those are kept per instance: every `agauss`/`gauss`
   draw of the subcircuit is linear in its unit normal z, so the value is written as
   `{c0 + c1*agauss(0,1,1)}` (c0 at z = 0, c1 the slope, checked linear). One draw per
   instance, as in the subcircuit, so `.options seed` still gives per-instance samples.

Anything outside that shape (a random process switch, a per-instance random term in a
card, an unknown function) raises `FlattenError`: callers then keep the library deck.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from itertools import accumulate
from dataclasses import dataclass, field
from typing import Callable

from netlistgen.core import validate
from netlistgen.core.errors import NetlistgenError
from netlistgen.tech.spicelib import Expansion, Stmt, Subckt

FLATTEN_VERSION = 1  # bump when the flattening rules change: cached flat decks are rebuilt


class FlattenError(NetlistgenError):
    """The deck cannot be flattened (shape, expression or randomness not supported)."""


# ---------------------------------------------------------------------------------------
# Safe expression evaluator
# ---------------------------------------------------------------------------------------

_SUFFIX = {"t": 1e12, "g": 1e9, "meg": 1e6, "k": 1e3, "mil": 25.4e-6, "m": 1e-3, "u": 1e-6, "n": 1e-9,
           "p": 1e-12, "f": 1e-15, "a": 1e-18}
_NUM_RE = re.compile(r"(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?(meg|mil|[tgkmunpfa])?[a-z]*", re.I)
_TOKEN_RE = re.compile(r"\s*(?:(?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?[A-Za-z]*)|(?P<id>[A-Za-z_][A-Za-z0-9_.]*)"
                       r"|(?P<op>\*\*|==|!=|<=|>=|&&|\|\||[-+*/^(),?:<>!]))")


def spice_number(text: str) -> float:
    """A SPICE number with its scale suffix ('1.5u', '2meg', '3e-9'); trailing letters
    after the suffix are units and ignored, as in SPICE."""
    m = _NUM_RE.fullmatch(text.strip())
    if not m:
        raise FlattenError(f"invalid number {text!r}")
    value = float(m.group(1) + (m.group(2) or ""))
    return value * _SUFFIX[m.group(3).lower()] if m.group(3) else value


def _tokenize(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = text.replace("{", "(").replace("}", ")").replace("'", " ")
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN_RE.match(text, pos)
        if not m or m.end() == pos:
            raise FlattenError(f"cannot parse expression {text.strip()!r} at {text[pos:pos + 12].strip()!r}")
        kind = m.lastgroup
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


# (left binding power, right binding power) of binary operators; '^'/'**' bind right.
_BINARY = {"||": (1, 2), "&&": (3, 4), "==": (5, 6), "!=": (5, 6), "<": (7, 8), ">": (7, 8), "<=": (7, 8),
           ">=": (7, 8), "+": (9, 10), "-": (9, 10), "*": (11, 12), "/": (11, 12), "^": (15, 14), "**": (15, 14)}
_UNARY_BP = 13


def _pow(a: float, b: float) -> float:
    return math.pow(a, b)


_FUNCS: dict[str, Callable[..., float]] = {
    "sqrt": math.sqrt, "exp": math.exp, "log": math.log, "ln": math.log, "log10": math.log10, "abs": abs,
    "min": min, "max": max, "pow": _pow, "pwr": lambda a, b: math.copysign(abs(a) ** b, a), "sin": math.sin,
    "cos": math.cos, "tan": math.tan, "atan": math.atan, "sinh": math.sinh, "cosh": math.cosh, "tanh": math.tanh,
    "sgn": lambda a: float((a > 0) - (a < 0)), "int": lambda a: float(int(a)), "floor": math.floor, "ceil": math.ceil,
}
_RANDOM = ("agauss", "gauss")  # linear in a unit normal z: handled by the caller's `draw`


@dataclass
class Scope:
    """Names -> values for one evaluation; `lookup` falls back to the parent scope.

    `draw(mean, sigma)` returns the value a random call takes (mean at z = 0)."""

    values: dict[str, float] = field(default_factory=dict)
    lazy: dict[str, str] = field(default_factory=dict)  # name -> expression, evaluated on first use
    parent: "Scope | None" = None
    draw: Callable[[float, float], float] = lambda mean, sigma: mean
    _busy: set = field(default_factory=set)

    def lookup(self, name: str) -> float:
        key = name.lower()
        if key in self.values:
            v = self.values[key]
            if isinstance(v, FlattenError):
                raise v
            return v
        if key in self.lazy:
            if key in self._busy:
                raise FlattenError(f"parameter {name!r} is defined in terms of itself")
            self._busy.add(key)
            try:
                self.values[key] = evaluate(self.lazy[key], self)
            finally:
                self._busy.discard(key)
            return self.values[key]
        if self.parent is not None:
            return self.parent.lookup(name)
        raise FlattenError(f"unknown parameter {name!r}")


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]], scope: Scope, text: str):
        self.toks, self.i, self.scope, self.text = tokens, 0, scope, text

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, op: str | None = None) -> tuple[str, str]:
        tok = self.peek()
        if tok is None or (op is not None and tok != ("op", op)):
            raise FlattenError(f"cannot parse expression {self.text.strip()!r}: expected {op or 'a value'}")
        self.i += 1
        return tok

    def expr(self, min_bp: int = 0) -> float:
        kind, tok = self.take()
        if kind == "num":
            left = spice_number(tok)
        elif kind == "id":
            left = self.call(tok) if self.peek() == ("op", "(") else self.scope.lookup(tok)
        elif tok == "(":
            left = self.expr()
            self.take(")")
        elif tok in ("-", "+", "!"):
            v = self.expr(_UNARY_BP)
            left = -v if tok == "-" else (float(not v) if tok == "!" else v)
        else:
            raise FlattenError(f"cannot parse expression {self.text.strip()!r} at {tok!r}")
        while True:
            nxt = self.peek()
            if nxt is None or nxt[0] != "op":
                return left
            op = nxt[1]
            if op == "?" and min_bp == 0:
                self.take("?")
                a = self.expr()
                self.take(":")
                b = self.expr()
                left = a if left else b
                continue
            if op not in _BINARY or _BINARY[op][0] < min_bp:
                return left
            self.take()
            right = self.expr(_BINARY[op][1])
            left = _apply(op, left, right)

    def call(self, name: str) -> float:
        self.take("(")
        args: list[float] = []
        if self.peek() != ("op", ")"):
            args.append(self.expr())
            while self.peek() == ("op", ","):
                self.take(",")
                args.append(self.expr())
        self.take(")")
        fn = name.lower()
        try:
            if fn in _RANDOM:
                mean, spread, n = (args + [0.0, 1.0])[:3] if len(args) >= 2 else (None, None, None)
                if mean is None or n == 0:
                    raise FlattenError(f"{name}() needs (mean, spread[, n sigma])")
                sigma = spread / n if fn == "agauss" else mean * spread / n
                return self.scope.draw(mean, sigma)
            if fn not in _FUNCS:
                raise FlattenError(f"unsupported function {name!r} in {self.text.strip()!r}")
            return float(_FUNCS[fn](*args))
        except (ValueError, TypeError, OverflowError, ZeroDivisionError) as exc:
            raise FlattenError(f"cannot evaluate {name}() in {self.text.strip()!r}: {exc}") from None


def _apply(op: str, a: float, b: float) -> float:
    try:
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        if op == "/":
            return a / b
        if op in ("^", "**"):
            return math.pow(a, b)
        return float({"==": a == b, "!=": a != b, "<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b,
                      "&&": bool(a) and bool(b), "||": bool(a) or bool(b)}[op])
    except (ZeroDivisionError, OverflowError, ValueError) as exc:
        raise FlattenError(f"cannot evaluate {a!r} {op} {b!r}: {exc}") from None


def evaluate(text: str, scope: Scope | None = None) -> float:
    """Value of one SPICE expression ('{...}', bare, or a concatenation like
    `{0.1} + 2*x`); names resolve in `scope`."""
    scope = scope if scope is not None else Scope()
    toks = _tokenize(text)
    if not toks:
        raise FlattenError("empty expression")
    p = _Parser(toks, scope, text)
    value = p.expr()
    if p.peek() is not None:
        raise FlattenError(f"cannot parse expression {text.strip()!r}: unexpected {p.peek()[1]!r}")
    if not math.isfinite(value):
        raise FlattenError(f"expression {text.strip()!r} is not finite ({value})")
    return value


_ASSIGN_RE = re.compile(r"(?<![=!<>\w.])([A-Za-z_][A-Za-z0-9_]*)\s*=(?!=)")


@lru_cache(maxsize=4096)
def assignments(text: str) -> list[tuple[str, str]]:
    """`name = expr` pairs of a parameter list ('a = {x} + y b = 2' -> [(a, '{x} + y'), (b, '2')]);
    an '=' inside {..} or (..) is not an assignment. Cached: cards are parsed once per size."""
    depth = list(accumulate((ch in "{(") - (ch in "})") for ch in text)) if text else []
    matches = [m for m in _ASSIGN_RE.finditer(text) if m.start() == 0 or depth[m.start() - 1] == 0]
    out = []
    for k, m in enumerate(matches):
        end = matches[k + 1].start() if k + 1 < len(matches) else len(text)
        out.append((m.group(1).lower(), text[m.end():end].strip()))
    return out


# ---------------------------------------------------------------------------------------
# The deck's parameters and device subcircuits
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Size:
    """One device size as written on instance lines (lengths in the deck's units)."""

    model: str  # PDK device subcircuit
    w: float
    l: float
    nf: int = 1
    mult: float = 1.0

    @property
    def card_name(self) -> str:
        def tag(x: float) -> str:
            return validate.fmt(x).replace(".", "p").replace("-", "m").replace("+", "")

        name = f"{self.model}__w{tag(self.w)}_l{tag(self.l)}"
        if self.nf != 1:
            name += f"_nf{self.nf}"
        if self.mult != 1:
            name += f"_m{tag(self.mult)}"
        return name.lower()


@dataclass(frozen=True)
class FlatDevice:
    """A size flattened: its global card and the instance parameters after the model name."""

    size: Size
    card_lines: tuple[str, ...]
    params: str


class Flattener:
    """Flattens devices of one expanded deck section (a corner of a library)."""

    def __init__(self, exp: Expansion, *, w_per_finger: bool = True):
        self.exp = exp
        self.w_per_finger = w_per_finger
        self.scale = 1.0
        self.options: list[str] = []
        self.preamble: list[str] = []  # top-level .param/.option lines, verbatim and in order
        self.subckts: dict[str, Subckt] = {}
        top_params: list[tuple[str, str]] = []
        for kind, item in exp.items:
            if kind == "subckt":
                self.subckts.setdefault(item.name, item)
                continue
            st: Stmt = item
            if st.head in (".param", ".option", ".options"):
                self.preamble.extend(st.phys)
            if st.head == ".param":
                top_params.extend(assignments(st.text))
            elif st.head in (".option", ".options"):
                self.options.append(st.text)
                for name, value in assignments(st.text):
                    if name == "scale":
                        self.scale = spice_number(value)
        # ngspice orders .param statements by dependency (forward references are fine) and
        # the last definition wins: evaluate lazily. Twice: every random draw at its mean and
        # at mean + sigma; a process switch that moves is random per run, which one global
        # card cannot hold.
        self.globals = Scope(lazy=dict(top_params), draw=_shift(0.0))
        moved = Scope(lazy=dict(top_params), draw=_shift(1.0))
        self.random_globals = set()
        for name in self.globals.lazy:
            try:
                if self.globals.lookup(name) != moved.lookup(name):
                    self.random_globals.add(name)
            except FlattenError as exc:  # fails only if a device needs it
                self.globals.values[name] = FlattenError(f"parameter {name!r}: {exc}")

    def _check_global_randomness(self, text: str, what: str) -> None:
        names = {m.lower() for m in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text)}
        hit = sorted(names & self.random_globals)
        if hit:
            raise FlattenError(f"{what} depends on the random process parameter {hit[0]!r}; cannot flatten")

    def flatten(self, size: Size, instance: dict[str, float], overrides: tuple[tuple[str, str], ...] = ()) -> FlatDevice:
        """The card and instance parameters of `size`; `instance` holds the other
        numeric parameters written on the instance line (ad, as, pd, ps, ...);
        `overrides` (name, number) are set in the card (e.g. rbodymod=0)."""
        sub = self.subckts.get(size.model.lower())
        if sub is None:
            raise FlattenError(f"device subcircuit {size.model!r} is not in the model deck")
        defaults: list[tuple[str, str]] = []
        mline: Stmt | None = None
        cards: list[Stmt] = []
        for st in sub.stmts:
            if st.head == ".subckt" or st.head == ".param":
                defaults.extend(assignments(st.text))
            elif st.head == ".model":
                cards.append(st)
            elif st.head.startswith("m"):
                if mline is not None:
                    raise FlattenError(f"subcircuit {size.model!r} has more than one transistor")
                mline = st
            elif st.head not in (".ends", ""):
                raise FlattenError(f"subcircuit {size.model!r} holds {st.tokens[0]!r}: only .param, .model and one M line can be flattened")
        if mline is None:
            raise FlattenError(f"subcircuit {size.model!r} has no transistor line")
        given = {"w": size.w, "l": size.l, "nf": float(size.nf), "mult": size.mult}
        given.update({k.lower(): float(v) for k, v in instance.items()})
        pos_end = _ASSIGN_RE.search(mline.text)
        head = (mline.text[: pos_end.start()] if pos_end else mline.text).split()
        if len(head) != 6:
            raise FlattenError(f"transistor line of {size.model!r} is not `M d g s b model ...`")
        base = head[5].lower()
        inst_pairs = assignments(mline.text[pos_end.start():]) if pos_end else []
        for _, expr in defaults + inst_pairs:
            self._check_global_randomness(expr, f"subcircuit {size.model!r}")

        def scope_for(draw) -> Scope:
            s = Scope(values=dict(given), parent=self.globals, draw=draw)
            for name, expr in defaults:
                if name not in given:
                    s.lazy[name] = expr
            return s

        # Per-instance parameters: linear in the draws of the subcircuit, written as c0 + c1*z.
        params = []
        for name, expr in inst_pairs:
            params.append(f"{name}={self._instance_value(expr, scope_for, size, name)}")
        card = self._pick_bin(cards, base, size, scope_for(_shift(0.0)))
        card_lines = self._card(card, size, scope_for, dict(overrides))
        return FlatDevice(size, card_lines, " ".join(params))

    def _instance_value(self, expr: str, scope_for, size: Size, name: str) -> str:
        calls: list[float] = []

        def record(mean: float, sigma: float) -> float:
            calls.append(sigma)
            return mean

        c0 = evaluate(expr, scope_for(record))
        c1 = evaluate(expr, scope_for(_shift(1.0))) - c0
        if c1 == 0:
            return _num(c0)
        # One unit-normal draw per instance, as in the subcircuit; check it enters linearly.
        if len(calls) != 1:
            raise FlattenError(f"{size.model} parameter {name!r} draws {len(calls)} random values; cannot flatten")
        cm = evaluate(expr, scope_for(_shift(-1.0))) - c0
        if not math.isclose(cm, -c1, rel_tol=1e-9, abs_tol=1e-18):
            raise FlattenError(f"{size.model} parameter {name!r} is not linear in its random draw; cannot flatten")
        return f"{{{_num(c0)}+{_num(c1)}*agauss(0,1,1)}}"

    def _pick_bin(self, cards: list[Stmt], base: str, size: Size, scope: Scope) -> Stmt:
        length = size.l * self.scale
        width = size.w / (size.nf if self.w_per_finger else 1) * self.scale
        named = [c for c in cards if len(c.tokens) > 1 and (c.tokens[1].lower() == base or c.tokens[1].lower().startswith(base + "."))]
        if not named:
            raise FlattenError(f"subcircuit {size.model!r} defines no model {base!r}")
        bounds = []
        for c in named:
            p = dict(assignments(c.text))
            try:
                b = tuple(evaluate(p[k], scope) for k in ("lmin", "lmax", "wmin", "wmax"))
            except KeyError:
                if len(named) == 1:
                    return c
                raise FlattenError(f"binned model {c.tokens[1]!r} lacks lmin/lmax/wmin/wmax") from None
            bounds.append((c, b))
        tol = 1e-9  # relative: W and L pass through `scale`, 0.15 * 1e-6 != 1.5e-7 exactly
        for closed in (False, True):
            for c, (lmin, lmax, wmin, wmax) in bounds:
                if _in(length, lmin, lmax, tol, closed) and _in(width, wmin, wmax, tol, closed):
                    return c
        raise FlattenError(f"no bin of {size.model!r} covers W={validate.fmt(size.w)} L={validate.fmt(size.l)}")

    def _card(self, card: Stmt, size: Size, scope_for, overrides: dict[str, str]) -> tuple[str, ...]:
        kind = card.tokens[2].lower() if len(card.tokens) > 2 else ""
        if kind not in ("nmos", "pmos"):
            raise FlattenError(f"model {card.tokens[1]!r} is not an nmos/pmos card")
        parts = card.text.split(None, 3)
        pairs = assignments(parts[3] if len(parts) > 3 else "")
        mean, moved = scope_for(_shift(0.0)), scope_for(_shift(1.0))
        values = []
        for name, expr in pairs:
            self._check_global_randomness(expr, f"model {card.tokens[1]!r}")
            v = evaluate(expr, mean)
            if evaluate(expr, moved) != v:
                raise FlattenError(f"model {card.tokens[1]!r} parameter {name!r} varies per instance; cannot flatten")
            values.append(f"{name}={overrides.get(name, _num(v))}")
        seen = {name for name, _ in pairs}
        values += [f"{k}={v}" for k, v in overrides.items() if k not in seen]
        lines = [f".model {size.card_name} {kind}"]
        lines += ["+ " + " ".join(values[i:i + 6]) for i in range(0, len(values), 6)]
        return tuple(lines)


def _shift(z: float):
    """A draw function: every random call at mean + z * sigma."""
    return lambda mean, sigma: mean + z * sigma


def _in(x: float, lo: float, hi: float, tol: float, closed: bool) -> bool:
    eps_lo, eps_hi = tol * abs(lo), tol * abs(hi)
    if closed:
        return lo - eps_lo <= x <= hi + eps_hi
    return lo - eps_lo <= x < hi - eps_hi


def _num(x: float) -> str:
    if not math.isfinite(x):
        raise FlattenError(f"non-finite value {x!r}")
    return repr(float(x)) if x != int(x) or abs(x) >= 1e15 else str(int(x))
