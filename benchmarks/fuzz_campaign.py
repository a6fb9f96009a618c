"""Fuzz and fault-injection campaign (issue 6): many more hostile inputs than the CI
tests, and repeated real faults; writes the measured counts into docs/robustness.md.

    python benchmarks/fuzz_campaign.py                 # ~10 minutes on 2 cores
    python benchmarks/fuzz_campaign.py --examples 50 --faults 2 --out /tmp/r.md   # smoke run

Part 1 drives the same entry points as tests/test_fuzz.py (cli.main with argv, config
files, technology descriptors, pattern-set files, regression suites, weights files) with
`--examples` hypothesis examples per target and checks the same contract: a one-line
error with exit code 2 and nothing written, or outputs that pass the netlist oracle.
Part 2 injects simulator and environment faults (real ngspice where possible) and
checks that each is reported precisely while the other jobs finish.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import random
import re
import shutil
import signal
import sys
import tempfile
import time
import traceback
from collections import Counter, defaultdict
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from netlistgen import fuzzing as fs
from netlistgen.core import files
from netlistgen.sim import runner
from netlistgen.core.errors import NetlistgenError, SimulationError
from netlistgen.circuits.generate import GenerateOptions, build, generate
from netlistgen.sim.rawfile import read_raw
from netlistgen.sim.executor import run_jobs
from netlistgen.sim.simulate import Job
from netlistgen.circuits.testbench import random_stimulus

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"  # data files read by the campaign (no code imported from tests/)

REAL_NGSPICE = shutil.which("ngspice")


# ---------------------------------------------------------------------- part 1: fuzzing


class Tally:
    def __init__(self) -> None:
        self.outcomes: dict[str, Counter] = defaultdict(Counter)
        self.distinct: dict[str, set] = defaultdict(set)
        self.violations: list[str] = []
        self.oracle_lines = 0
        self.oracle_files = 0

    def run(self, target: str, value: object, fn) -> None:
        self.distinct[target].add(repr(value)[:2000])
        try:
            outcome = fn()
        except Exception as exc:  # a contract violation: record it, keep fuzzing
            outcome = "VIOLATION"
            self.violations.append(f"{target}: {value!r:.200}: {type(exc).__name__}: {str(exc)[:300]}")
        self.outcomes[target][outcome] += 1


def counting_oracle(tally: Tally):
    original = fs.check_output_dir

    def wrapped(out: Path) -> int:
        n = original(out)
        tally.oracle_lines += n
        tally.oracle_files += sum(1 for p in out.rglob("*") if p.suffix == ".sp" or p.name == ".spiceinit")
        return n

    return wrapped


def fuzz(examples: int, seed: int) -> Tally:
    tally = Tally()
    fs.check_output_dir = counting_oracle(tally)
    cfg = settings(max_examples=examples, deadline=None, database=None,
                   suppress_health_check=list(HealthCheck))

    def tmp():
        return tempfile.TemporaryDirectory(prefix="ngcampaign")

    @hypothesis_seed(seed)
    @cfg
    @given(flag=st.sampled_from(fs.TEXT_FLAGS), value=fs.hostile_text())
    def flags_text(flag, value):
        with tmp() as d:
            tally.run(f"generate {flag} (text)", value, lambda: fs.fuzz_flag(Path(d), flag, value))

    @hypothesis_seed(seed)
    @cfg
    @given(flag=st.sampled_from(["--rows", "--cols", "--seed", "--sram-rows-per-lcc", "--set-value"]),
           value=fs.hostile_number())
    def flags_number(flag, value):
        with tmp() as d:
            tally.run(f"generate {flag} (number)", value, lambda: fs.fuzz_flag(Path(d), flag, value))

    @hypothesis_seed(seed)
    @settings(cfg, max_examples=max(1, examples // 4))
    @given(flag=st.sampled_from(fs.SIM_FLAGS), value=fs.hostile_text().filter(lambda s: not s.strip().isdigit()))
    def sim_flags(flag, value):
        with tmp() as d:
            tally.run(f"simulate {flag}", value, lambda: fs.fuzz_flag(Path(d), flag, value, command="simulate"))

    @hypothesis_seed(seed)
    @cfg
    @given(key=st.sampled_from(fs.CONFIG_KEYS), value=st.one_of(fs.hostile_text(), fs.hostile_number(), st.floats()),
           suffix=st.sampled_from([".toml", ".yaml"]))
    def config(key, value, suffix):
        with tmp() as d:
            tally.run(f"config file {suffix} key {key}", value, lambda: fs.fuzz_config(Path(d), key, value, suffix))

    @hypothesis_seed(seed)
    @cfg
    @given(key=st.sampled_from(fs.DESCRIPTOR_KEYS),
           value=st.one_of(fs.hostile_text(), st.lists(fs.hostile_text(), max_size=2), st.floats()))
    def descriptor(key, value):
        with tmp() as d:
            tally.run(f"technology descriptor {key}", value, lambda: fs.fuzz_descriptor(Path(d), key, value, fixtures=FIXTURES))

    @hypothesis_seed(seed)
    @cfg
    @given(name=st.one_of(fs.hostile_text(), st.just("zebra_x")),
           patterns=st.one_of(st.just([[3, 2, 1, 0], [5, 4, 3, 2]]), st.lists(st.lists(
               st.one_of(st.integers(-5, 70), fs.hostile_text()), max_size=5), max_size=3)),
           suffix=st.sampled_from([".toml", ".yaml"]))
    def patterns(name, patterns, suffix):
        with tmp() as d:
            tally.run(f"pattern-set file {suffix}", (name, patterns),
                      lambda: fs.fuzz_patterns(Path(d), name, patterns, suffix))

    @hypothesis_seed(seed)
    @cfg
    @given(key=st.sampled_from(["name", "scheme", "technology", "corner", "rows", "cycles", "stim_seed", "stimulus",
                                "tolerances", "design", "<key>"]),
           value=st.one_of(fs.hostile_text(), fs.hostile_number(), st.just({"c_unit_f": "1e-15\n.end"})))
    def suite(key, value):
        with tmp() as d:
            tally.run(f"regression suite key {key}", value, lambda: fs.fuzz_suite(Path(d), key, value))

    import numpy as np

    @hypothesis_seed(seed)
    @cfg
    @given(value=st.sampled_from([np.nan, np.inf, -np.inf, 1e308, -1e-320, 0.0]),
           kind=st.sampled_from(["value", "object", "complex", "strings", "3d", "empty", "bool"]),
           text=st.one_of(st.none(), fs.hostile_text()), suffix=st.sampled_from([".npy", ".csv"]))
    def weights(value, kind, text, suffix):
        payload = text if text is not None else fs.hostile_weights(value, kind)
        with tmp() as d:
            tally.run(f"weights file {suffix}", (kind, value, text), lambda: fs.fuzz_weights(Path(d), payload, suffix))

    for fn in (flags_text, flags_number, sim_flags, config, descriptor, patterns, suite, weights):
        start = time.perf_counter()
        fn()
        print(f"  {fn.__name__}: {time.perf_counter() - start:.1f} s", flush=True)
    return tally


# -------------------------------------------------------------- part 2: fault injection


@dataclasses.dataclass
class FaultResult:
    kind: str
    injected: int = 0
    handled: int = 0  # reported precisely, other jobs finished, right exit code / exception
    notes: set = dataclasses.field(default_factory=set)
    failures: list = dataclasses.field(default_factory=list)

    def check(self, ok: bool, note: str) -> None:
        self.injected += 1
        self.handled += bool(ok)
        if ok:
            self.notes.add(note)
        else:
            self.failures.append(note)


def fake_ngspice(d: Path, version_line: str, body: str) -> str:
    exe = d / "ngspice"
    exe.write_text(f'#!/bin/sh\nREAL={REAL_NGSPICE}\nif [ "$1" = "-v" ]; then {version_line}; fi\n{body}\n')
    exe.chmod(0o755)
    return str(exe)


def with_ngspice(exe: str | None):
    class _Ctx:
        def __enter__(self):
            self.old = os.environ.get("NETLISTGEN_NGSPICE")
            if exe is None:
                os.environ.pop("NETLISTGEN_NGSPICE", None)
            else:
                os.environ["NETLISTGEN_NGSPICE"] = exe
            runner._versions.clear()

        def __exit__(self, *a):
            if self.old is None:
                os.environ.pop("NETLISTGEN_NGSPICE", None)
            else:
                os.environ["NETLISTGEN_NGSPICE"] = self.old
            runner._versions.clear()

    return _Ctx()


def small_jobs(n_cycles: int = 2):
    nl = build(GenerateOptions(scheme="zebra-i", rows=1, cols=1))
    return nl, [Job("good", nl, random_stimulus(nl, n_cycles, 1))]


def faults(n: int, rng: random.Random) -> list[FaultResult]:
    out: list[FaultResult] = []
    d = Path(tempfile.mkdtemp(prefix="ngfaults"))
    nl, base = small_jobs()

    # 1. broken installs: version strings and non-ngspice executables (checked once, exit 2)
    r = FaultResult("broken or wrong ngspice install (fake executable)")
    versions = [("echo '** ngspice-27 : Circuit level simulation program'; exit 0", "not supported"),
                ("echo '** ngspice-38 : Circuit level simulation program'; exit 0", "not supported"),
                ("echo 'Hello'; exit 0", "does not look like ngspice"),
                ("exit 3", "does not look like ngspice"),
                ("kill -SEGV $$", "does not look like ngspice")]
    for line, needle in versions:
        exe = fake_ngspice(d, line, 'exec "$REAL" "$@"')
        with with_ngspice(exe):
            code, _, err = fs.run_cli(["simulate", "--rows", "2", "--cols", "1", "--cycles", "4",
                                       "--out", str(d / "never")])
        r.check(code == 2 and needle in err and len(err.strip().splitlines()) == 1 and not (d / "never").exists(),
                f"{line[:40]!r} -> exit {code}: {err.strip()[:160]}")
    with with_ngspice(str(d / "missing" / "ngspice")):
        code, _, err = fs.run_cli(["simulate", "--rows", "2", "--cols", "1", "--out", str(d / "never")])
    r.check(code == 2 and "ngspice not found" in err, f"missing ngspice -> exit {code}")
    out.append(r)

    # 2. non-converging circuits next to a good job (real ngspice)
    r = FaultResult("non-converging / singular circuit (real ngspice)")
    # (A lone current source into an otherwise unconnected node, `Ibad gz 0 1`, is NOT an
    # error for ngspice 39: an earlier campaign run found it passes silently.)
    bad_lines = ["Vbad1 gx 0 1\nVbad2 gx 0 2\n", "Ibad gy 0 1\nCbad gy 0 1e-15\n", "Lbad gw 0 1e-9\nVbad gw 0 1\n"]
    for k in range(n):
        extra = bad_lines[k % len(bad_lines)]
        bad = dataclasses.replace(nl, text=nl.text + extra)
        jobs = [*base, Job("bad", bad, random_stimulus(nl, 2, 1))]
        results, errors = run_jobs(jobs, d / f"nc{k}", workers=2, progress=False)
        reason = errors.get("bad", "").partition("failed: ")[2].partition("; log tail")[0]
        r.check(set(results) == {"good"} and bool(reason), f"{extra.strip()!r}: {reason or 'no error'}"[:140])
    out.append(r)

    # 3. ngspice killed by a signal mid-run (real ngspice, random delay, random signal)
    r = FaultResult("ngspice killed mid-run (SIGKILL/SIGTERM/SIGSEGV at a random time, real ngspice)")
    for k in range(n):
        sig = rng.choice([signal.SIGKILL, signal.SIGTERM, signal.SIGSEGV])
        delay = rng.uniform(0.05, 1.0)
        slow = Job("slow", nl, random_stimulus(nl, 8, 2), energy=True)
        done = {}

        def run():
            done["r"] = run_jobs([*base, slow], d / f"kill{k}", workers=2, progress=False)

        import threading

        t = threading.Thread(target=run)
        t.start()
        time.sleep(delay)
        victim = None
        import psutil

        for _ in range(200):
            for p in psutil.Process().children(recursive=True):
                try:
                    if "ngspice" in p.name() and p.cwd().endswith("slow"):
                        victim = p
                except psutil.Error:
                    pass
            if victim or not t.is_alive():
                break
            time.sleep(0.02)
        if victim is not None:
            victim.send_signal(sig)
        t.join()
        results, errors = done["r"]
        ok = "good" in results and "slow" in errors and signal.Signals(sig).name in errors["slow"]
        r.check(ok if victim is not None else "good" in results,
                f"{signal.Signals(sig).name} after {delay:.2f} s: {errors.get('slow', 'finished before the kill')[:100]}")
    out.append(r)

    # 4. hung ngspice (never returns): timeout, killed, others finish
    r = FaultResult("hung ngspice job (timeout)")
    exe = fake_ngspice(d, "echo '** ngspice-39 : Circuit level'; exit 0",
                       'case "$PWD" in */hang) exec sleep 600;; esac; exec "$REAL" "$@"')
    for k in range(max(1, n // 2)):
        with with_ngspice(exe):
            jobs = [Job("good", nl, random_stimulus(nl, 2, 1)), Job("hang", nl, random_stimulus(nl, 2, 1), timeout_s=1.0)]
            start = time.perf_counter()
            results, errors = run_jobs(jobs, d / f"hang{k}", workers=2, progress=False)
        seconds = time.perf_counter() - start
        r.check(set(results) == {"good"} and "timed out after 1 s" in errors.get("hang", "") and seconds < 30,
                f"finished {sorted(results)} in {seconds:.1f} s; {errors.get('hang', 'no error')[:100]}")
    out.append(r)

    # 5. write errors at every file of a generate run and of a job (ENOSPC, EROFS, EFBIG, EDQUOT, EIO)
    r = FaultResult("write error at the k-th file written (ENOSPC/EROFS/EFBIG/EDQUOT/EIO)")
    import errno

    errnos = [errno.ENOSPC, errno.EROFS, errno.EFBIG, errno.EDQUOT, errno.EIO]
    real_replace = files.os.replace
    for k in range(n * 2):
        fail_at = rng.randint(1, 4)
        err_no = rng.choice(errnos)
        calls = {"n": 0}

        def replace(src, dst, fail_at=fail_at, err_no=err_no):
            calls["n"] += 1
            if calls["n"] == fail_at:
                raise OSError(err_no, os.strerror(err_no))
            return real_replace(src, dst)

        files.os.replace = replace
        try:
            target = d / f"gen{k}"
            try:
                generate(GenerateOptions(rows=2, cols=1, out=str(target)))
                ok, note = False, "no error raised"
            except NetlistgenError as exc:
                left = [p.name for p in target.rglob("*")] if target.exists() else []
                ok = os.strerror(err_no) in str(exc) and left == []
                note = f"generate, file {fail_at}, {errno.errorcode[err_no]}: left {left}"
            r.check(ok, note)
            calls["n"] = 0
            results, errors = run_jobs([Job("w1", nl, random_stimulus(nl, 2, 1)), Job("w2", nl, random_stimulus(nl, 2, 1))],
                                       d / f"jobw{k}", workers=1, progress=False)
            r.check(len(results) == 1 and len(errors) == 1 and os.strerror(err_no) in next(iter(errors.values())),
                    f"jobs, write {fail_at}, {errno.errorcode[err_no]}: {list(errors.values())[:1]}")
        finally:
            files.os.replace = real_replace
    out.append(r)

    # 6. truncated / corrupted raw files (disk full while ngspice writes, killed job)
    r = FaultResult("truncated or corrupted raw file")
    results, _ = run_jobs(base, d / "raw", workers=1, progress=False)
    raw = (d / "raw" / "good" / "tran.raw").read_bytes()
    for k in range(n * 10):
        data = bytearray(raw)
        mode = rng.choice(["truncate", "flip-header", "garbage"])
        if mode == "truncate":
            data = data[: rng.randint(0, len(data) - 1)]
        elif mode == "flip-header":
            pos = rng.randint(0, min(len(data), 400) - 1)
            data[pos] = rng.randint(0, 255)
        else:
            data = bytearray(rng.randbytes(rng.randint(0, 2000)))
        f = d / "bad.raw"
        f.write_bytes(bytes(data))
        try:
            read_raw(f)
            ok, note = mode == "flip-header", f"{mode}: parsed"  # a flipped digit can still parse
        except SimulationError as exc:
            ok, note = True, f"{mode}: {str(exc)[:60]}"
        except Exception as exc:  # anything else would crash a whole run
            ok, note = False, f"{mode}: {type(exc).__name__}: {exc}"
        r.check(ok, note)
    out.append(r)
    shutil.rmtree(d, ignore_errors=True)
    return out


# ------------------------------------------------ part 3: state the tool does not own (issue 13)

TAMPERS = ["edit-value", "swap-key", "drop-field", "wrong-shape", "nan", "truncate", "json", "drop-meta"]
HOSTILE_MODEL_LINES = [
    ".control\nshell touch {m}\n.endc", ".CONTROL\nshell touch {m}\n.ENDC", "  .control\nsystem touch {m}\n.endc",
    ".exec\nshell touch {m}\n.endc", "*# shell touch {m}", "  *#shell touch {m}", ".con\n+trol\nshell touch {m}\n.endc",
    ".include\n+ {m}", ".tran 1n 1u", ".meas tran x max v(1)", ".save all", "$ shell touch {m}", "@shell touch {m}",
]


def _npz_rewrite(path: Path, **changes) -> None:
    import numpy as np

    with np.load(path, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    arrays.update(changes)
    with open(path, "wb") as fh:
        np.savez(fh, **{k: v for k, v in arrays.items() if v is not None})


def _tamper(kind: str, entry: Path, other: Path) -> None:
    import numpy as np

    v = np.load(entry)["v_sample_v"]
    if kind == "edit-value":
        _npz_rewrite(entry, v_sample_v=v * 0.5)
    elif kind == "swap-key":
        shutil.copy(other, entry)
    elif kind == "drop-field":
        _npz_rewrite(entry, v_hold_v=None)
    elif kind == "wrong-shape":
        _npz_rewrite(entry, v_sample_v=v[:1])
    elif kind == "nan":
        _npz_rewrite(entry, v_sample_v=v * np.nan)
    elif kind == "truncate":
        entry.write_bytes(entry.read_bytes()[: max(1, len(entry.read_bytes()) // 3)])
    elif kind == "json":
        entry.write_text('{"v_sample_v": [[0.0]]}')
    else:
        _npz_rewrite(entry, __meta__=None)


def state_faults(n: int, rng: random.Random) -> list[FaultResult]:
    """Tampered cache entries, stale files, model-file content, planted links, resource
    bombs: each must give the solo-run result or a precise one-line error/FAILED line."""
    import warnings

    import numpy as np

    from netlistgen.sim.cache import CacheWarning, ResultCache

    out: list[FaultResult] = []
    d = Path(tempfile.mkdtemp(prefix="ngstate"))
    nl, base = small_jobs(3)
    solo, _ = run_jobs(base, d / "solo", workers=1, progress=False)
    truth = solo["good"].v_sample_v

    r = FaultResult("tampered cache entry (edited, swapped, field dropped, wrong shape, NaN, truncated, not npz)")
    other_job = Job("good", nl, random_stimulus(nl, 3, 7))
    for k in range(n * 2):
        kind = TAMPERS[k % len(TAMPERS)] if k < len(TAMPERS) else rng.choice(TAMPERS)
        cache = ResultCache(d / f"cache{k}")
        run_jobs(base, d / f"c{k}a", workers=1, progress=False, cache=cache)
        run_jobs([other_job], d / f"c{k}b", workers=1, progress=False, cache=cache)
        entries = sorted((d / f"cache{k}").rglob("*.npz"), key=lambda p: p.stat().st_mtime_ns)
        _tamper(kind, entries[0], entries[1])
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            got, errors = run_jobs(base, d / f"c{k}c", workers=1, progress=False, cache=cache)
        warned = [w for w in record if issubclass(w.category, CacheWarning)]
        ok = (not errors and not got["good"].cached and np.array_equal(got["good"].v_sample_v, truth)
              and len(warned) == 1)
        again, _ = run_jobs(base, d / f"c{k}d", workers=1, progress=False, cache=cache)
        ok = ok and again["good"].cached and np.array_equal(again["good"].v_sample_v, truth)
        r.check(ok, f"{kind}: {str(warned[0].message)[:110] if warned else 'no warning'}")
    out.append(r)

    r = FaultResult("stale files from an earlier run (simulator exits 0 without writing, old tran.raw/log present)")
    exe = fake_ngspice(d, "echo '** ngspice-39 : Circuit level'; exit 0", "exit 0")
    for k in range(max(2, n // 2)):
        run_jobs([Job("good", nl, random_stimulus(nl, 3, 100 + k))], d / f"stale{k}", workers=1, progress=False)
        with with_ngspice(exe):
            got, errors = run_jobs(base, d / f"stale{k}", workers=1, progress=False)
        r.check(not got and "tran.raw" in errors.get("good", ""), f"{errors.get('good', 'read stale values')[:110]}")
    out.append(r)

    r = FaultResult("model file with simulator commands (user technology; .control, *#, .exec, split lines, ...)")
    fixtures = FIXTURES
    for k in range(n * 2):
        tech = d / f"tech{k}"
        tech.mkdir()
        for name in ("user_tech.toml", "user_bsim4_typ.inc", "user_bsim4_slow.inc"):
            shutil.copy(fixtures / name, tech / name)
        marker = d / f"PWNED{k}"
        payload = (HOSTILE_MODEL_LINES[k] if k < len(HOSTILE_MODEL_LINES) else rng.choice(HOSTILE_MODEL_LINES))
        model = tech / rng.choice(["user_bsim4_typ.inc", "user_bsim4_slow.inc"])
        lines = model.read_text().splitlines()
        at = rng.randint(0, len(lines))
        while at < len(lines) and lines[at].lstrip().startswith("+"):
            at += 1  # insert between statements, not inside a card
        lines[at:at] = payload.format(m=marker).splitlines()
        model.write_text("\n".join(lines) + "\n")
        corner = "slow" if model.name.endswith("slow.inc") else "typ"
        code, _, err = fs.run_cli(["simulate", "--tech", str(tech / "user_tech.toml"), "--corner", corner,
                                   "--rows", "1", "--cols", "1", "--cycles", "2", "--energy-cycles", "0",
                                   "--no-cache", "--out", str(d / f"m{k}")])
        one = err.strip().splitlines()
        ok = code == 2 and len(one) == 1 and str(model) in one[0] and f"line {at + 1}" in one[0]
        r.check(ok and not marker.exists(), f"{payload.splitlines()[0][:24]!r} -> {one[0][18:130] if one else code}")
    out.append(r)

    r = FaultResult("symbolic link planted in the output or job folder")
    outside = d / "outside.txt"
    for k in range(n * 2):
        outside.write_text("precious\n")
        o = d / f"link{k}"
        job = "jobs/zebra-i-2x1"
        where = rng.choice([f"{job}/tran.raw", f"{job}/tran.log", f"{job}/tran.sp", f"{job}/array.sp",
                            f"{job}/.spiceinit", job, "jobs", "array.sp", "op.sp", ".spiceinit"])
        (o / where).parent.mkdir(parents=True, exist_ok=True)
        (o / where).symlink_to(outside if not where.endswith(("2x1", "jobs")) else d)
        if where in ("array.sp", "op.sp", ".spiceinit"):
            code, _, err = fs.run_cli(["generate", "--rows", "2", "--cols", "1", "--out", str(o)])
            text = (o / "op.sp").read_text() if code == 0 else ""
            ok = code == 0 and str(outside) not in text and not (o / where).is_symlink()
            note = f"{where}: generate exit {code}, link replaced"
        else:
            code, _, err = fs.run_cli(["simulate", "--rows", "2", "--cols", "1", "--cycles", "3",
                                       "--energy-cycles", "0", "--no-cache", "--out", str(o)])
            msgs = re.findall(r"(?:netlistgen: error:|FAILED) [^\r\n]*", err)
            ok = code == 0 or (code in (1, 2) and msgs and all("symbolic link" in m for m in msgs))
            note = f"{where}: exit {code} {msgs[0][:90] if msgs else ''}"
        r.check(ok and outside.read_text() == "precious\n", note)
    out.append(r)

    r = FaultResult("resource bombs (YAML alias bomb, deep nesting, huge .npy header, 5 MB values, huge raw header)")
    import struct

    for k in range(n * 2):
        kind = rng.choice(["alias", "deep-yaml", "deep-toml", "npy", "long", "raw"])
        f = d / f"bomb{k}"
        if kind == "alias":
            lv, w = rng.randint(6, 12), rng.randint(6, 12)
            lines = ["a0: &a0 [" + ",".join(["x"] * w) + "]"] + [
                f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * w) + "]" for i in range(1, lv)]
            f = f.with_suffix(".yaml")
            f.write_text("\n".join(lines) + "\n")
            argv = ["generate", "--config", str(f)]
        elif kind in ("deep-yaml", "deep-toml"):
            depth = rng.randint(100, 50000)
            f = f.with_suffix(".yaml" if kind == "deep-yaml" else ".toml")
            f.write_text(("rows: " if kind == "deep-yaml" else "rows = ") + "[" * depth + "]" * depth + "\n")
            argv = ["generate", "--config", str(f)]
        elif kind == "npy":
            shape = (rng.randint(10**6, 10**12), rng.randint(10**3, 10**6))
            h = "{'descr': '<f8', 'fortran_order': False, 'shape': %r, }" % (shape,)
            h += " " * (117 - len(h)) + "\n"
            f = f.with_suffix(".npy")
            f.write_bytes(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h.encode() + b"\0" * 64)
            argv = ["generate", "--weights", str(f)]
        elif kind == "long":
            argv = ["generate", "--scheme", "z" * rng.randint(10**5, 5 * 10**6)]
        else:
            raw = (d / "solo" / "good" / "tran.raw").read_bytes()
            f.write_bytes(raw.replace(b"No. Points:", b"No. Points: 99999999999 ", 1))
            try:
                read_raw(f)
                ok, note = False, "raw: parsed"
            except SimulationError as exc:
                ok, note = len(str(exc)) < 1000, f"raw: {str(exc)[-60:]}"
            r.check(ok, note)
            continue
        code, _, err = fs.run_cli([*argv, "--out", str(d / f"bo{k}")])
        one = err.strip().splitlines()
        r.check(code == 2 and len(one) == 1 and len(one[0]) <= 1100 and not (d / f"bo{k}").exists(),
                f"{kind}: {one[0][18:120] if one else code}")
    out.append(r)
    shutil.rmtree(d, ignore_errors=True)
    return out


# ----------------------------------------------------------------------------- report


def render(tally: Tally, fault_results: list[FaultResult], args, seconds: float) -> str:
    runs = sum(sum(c.values()) for c in tally.outcomes.values())
    distinct = sum(len(v) for v in tally.distinct.values())
    rejected = sum(c["rejected"] for c in tally.outcomes.values())
    accepted = sum(c["accepted"] for c in tally.outcomes.values())
    lines = [
        "# Robustness: hostile inputs and injected faults",
        "",
        "Generated by `python benchmarks/fuzz_campaign.py "
        f"--examples {args.examples} --faults {args.faults} --seed {args.seed}` "
        f"({seconds / 60:.1f} min on the project's 2-core machine, ngspice 39, other jobs running). "
        "Every number below was counted by that run; rerun the script to refresh this file.",
        "",
        "## What is checked",
        "",
        "- **Hostile inputs** (issue 6, item 1): every user-facing string and number — CLI flags of `generate` and"
        " `simulate`, config files (TOML/YAML), technology descriptors, pattern-set files, regression suites and"
        " weights files — is fed newlines, `.control`/`.endc`, `shell`, `.include /etc/passwd`, `$(...)`,"
        " backticks, Jinja `{{ }}`, NUL, bidi/unicode, 5000-character values, NaN/inf and random unicode"
        " (hypothesis). Contract: either one line on stderr, exit code 2 and nothing written, or success where"
        " every written SPICE file passes the *netlist oracle* (`netlistgen/fuzzing.py`: each line must match the"
        " template grammar — element lines by prefix, `.subckt/.ends/.model/.options`, quoted safe absolute"
        " `.include`/`.lib` paths, exactly one `.control` block in decks with whitelisted commands) and contains"
        " no payload marker.",
        "- **Injected faults** (item 3): broken ngspice installs, non-converging circuits, ngspice killed at random"
        " times, hung jobs, write errors at every file, corrupted raw files. *Handled* means: the failing job is"
        " reported with its reason, the other jobs finish, and the exit code / exception is the documented one.",
        "- **State the tool does not own** (issue 13; part 3 of the script): result-cache entries tampered with in"
        " eight ways (value edited, entry copied under another key, field dropped, wrong shape, NaN, truncated, not"
        " an npz, metadata dropped), an earlier run's raw file left where a simulator that writes nothing would leave"
        " it, model files of a user technology carrying simulator commands at a random line, symbolic links planted"
        " at every file and folder the tool writes, and resource bombs (YAML alias bombs, nesting up to 50000 deep,"
        " `.npy` headers claiming up to 10^18 values, 5 MB flag values, raw headers claiming 10^11 points)."
        " *Handled* means: the run gives the solo run's numbers with one cache warning and rewrites the entry, or"
        " fails with a one-line error / `FAILED` line naming the cause (file and line for model files), nothing"
        " outside the output folder is written and no planted command runs. Concurrent runs into one folder are"
        " issue 13's job-isolation work and are not injected here.",
        "",
        "## Hostile inputs",
        "",
        f"**{runs} runs, {distinct} distinct hostile values; {rejected} rejected cleanly, {accepted} accepted with"
        f" oracle-clean output ({tally.oracle_files} SPICE files, {tally.oracle_lines} lines checked);"
        f" {len(tally.violations)} contract violations.**",
        "",
        "| target | runs | distinct values | rejected (exit 2, one line, nothing written) | accepted (oracle clean) | violations |",
        "|---|---|---|---|---|---|",
    ]
    for target in sorted(tally.outcomes):
        c = tally.outcomes[target]
        lines.append(f"| {target} | {sum(c.values())} | {len(tally.distinct[target])} | {c['rejected']} | "
                     f"{c['accepted']} | {c['VIOLATION']} |")
    if tally.violations:
        lines += ["", "Violations (first 20):", ""] + [f"- `{v}`" for v in tally.violations[:20]]
    injected = sum(f.injected for f in fault_results)
    handled = sum(f.handled for f in fault_results)
    lines += [
        "",
        "## Injected faults",
        "",
        f"**{injected} faults injected, {handled} handled as specified, {injected - handled} not.**",
        "",
        "| fault | injected | handled | example of what was reported |",
        "|---|---|---|---|",
    ]
    for f in fault_results:
        example = sorted(f.notes)[0] if f.notes else ""
        lines.append(f"| {f.kind} | {f.injected} | {f.handled} | {example.replace('|', '/')[:140]} |")
    failures = [(f.kind, x) for f in fault_results for x in f.failures]
    if failures:
        lines += ["", "Not handled:", ""] + [f"- {k}: `{x[:300]}`" for k, x in failures[:20]]
    lines += [
        "",
        "## Bugs this found (fixed)",
        "",
        "- `int()`/`float()` on `--jobs`, `--tolerance-v`, `--timeout` (check), `sqnr --rows/--cols/--seed`,"
        " `plot --cycle/--row/--col/--bit`: a traceback instead of a one-line error.",
        "- argparse errors (a value starting with `-`, an unknown choice) printed usage plus an error: now one line.",
        "- An error message quoting a user path unescaped (`check DIR` hint) spanned two lines; every error is now"
        " printed on one line with newlines escaped.",
        "- Config values (rows, seed, design values, scheme, corner, technology) were validated late and the error"
        " did not name the config file or key; now `config file 'a.toml': key 'design.levels': invalid levels 16`.",
        "- Duplicate YAML keys silently kept the last value; an empty/truncated-to-nothing config ran the defaults;"
        " complex-valued weights were silently cast to real; a suite case with `design: 5` crashed.",
        "- A write error (disk full) raised a raw `OSError` traceback and could leave part of a generated set; a job"
        " whose files could not be written aborted the whole run instead of failing alone.",
        "- A truncated raw file raised `ValueError` (crashing the run) instead of failing its job; a job killed by a"
        " signal was reported as `exit code -9`, now `ngspice killed by signal SIGKILL`.",
        "- The ngspice version was never checked; now `ngspice -v` runs once per run (cached per executable):"
        " ngspice >= 39 is supported (tested: 39), older or unrecognisable executables stop the run with exit 2.",
        "- Found by the first campaign run: `--out` with a 300-character name or a NUL byte gave a traceback"
        " (`File name too long` from the new partial-write clean-up, `embedded null byte` from path resolution);"
        " `--set c_unit_f=1e308` overflowed while sizing drivers (`cannot convert float infinity to integer`):"
        " design values now have unit-based upper bounds (F <= 1e-6, m <= 1e-2, ohm <= 1e12, V <= 100,"
        " width factors <= 1e4).",
        "- Found by the second campaign run: an empty `.csv` weights file printed numpy's `loadtxt` warning as a"
        " second stderr line; the warning is silenced and an empty matrix is its own one-line error.",
        "- Also observed: ngspice 39 accepts a lone current source into an unconnected node without any error,"
        " so such a circuit cannot be caught from ngspice's output; the templates never produce one.",
        "- Issue 13 (state): an edited or swapped cache entry was returned as fact, a missing field crashed"
        " (`KeyError`), a NaN or wrong shape stopped later runs with a metrics error; a failed cache write lost the"
        " result with a traceback. The key missed includes ngspice does read (a quoted name with spaces, a relative"
        " name found in the run folder). A model file's `.control` block ran its `shell` command under `generate`,"
        " `check` and `simulate`. Links at `jobs/<job>/tran.raw` or `array.sp` were followed. A killed `--backend"
        " shared` worker, deep TOML/YAML, huge `.npy` headers, a malformed Dask address, `--out` naming a file and"
        " `pdk show | head` gave tracebacks; `--set c_unit_f=1_0e-15` was read as 1e-14; ENOSPC while ngspice"
        " wrote read as \"malformed raw file\". All fixed; each has a test in tests/ (test_cache, test_deckcheck,"
        " test_files, test_rawfile, test_config, test_runner, test_executor, test_cli).",
        "- Found by the state campaign while it was written: ngspice 39 reads every include of a `.lib` file,"
        " whatever section is selected, and looks a relative include up in the run folder, then its script folder,"
        " then the including file's folder (strace); an include continued on a `+` line is an ngspice error, and"
        " `.lib` takes its file name up to the first space even when quoted. The include walker follows exactly"
        " that (194 of 194 files for sky130's full library).",
        "",
        "## What the cache and job directories guarantee",
        "",
        "- A result-cache entry is used only if it verifies: it names its own key, holds the shapes the job expects"
        " and a sha256 of its payload, and every value is finite. Anything else is a miss, reported once per entry"
        " as `netlistgen: warning: result cache: ...`, and the fresh result overwrites it. The checksum detects"
        " damage and hand edits, not a deliberate forger who recomputes it: the cache folder must be trusted as far"
        " as the user's own files are.",
        "- The key covers the deck, the array library, `.spiceinit`, the content of every file ngspice opens through"
        " `.include`/`.inc`/`.lib` (however spelled), and the simulator's executable, `spinit` and code models."
        " Writing an entry can fail (disk full, a file in the way, no permission): that is a warning and the run"
        " keeps its result. Entries and folders take the cache root's group bits (and setgid), so a group-shared"
        " cache stays readable; files are never created 0600.",
        "- In output and job folders the tool never writes through, reads through or includes via a symbolic link"
        " it did not make: files are written by rename (a planted link is replaced), `tran.raw` and `tran.log` are"
        " removed before ngspice runs and read back with O_NOFOLLOW, and a link at `OUT/jobs` or `OUT/jobs/<job>`"
        " is a one-line error. A run never reads a raw file an earlier run left behind.",
        "- Model files a technology names, and every file they include, are checked as code before any deck is"
        " built or simulated (again just before each job runs): only comments, element lines and the dot-commands"
        " `.model .subckt .ends .param .lib .endl .include .inc .option(s) .global .func .end`.",
        "- Not guaranteed here: two runs writing into the same `--out` at once (job isolation is separate work of"
        " issue 13).",
        "",
        "## What is not covered",
        "",
        "- The `--backend shared` (libngspice) path is not version-checked; a killed worker is tested in"
        " tests/test_executor.py (its job is retried alone once, then FAILED; the others finish), not injected here.",
        "- A real full disk under ngspice: ngspice 39 ignores write errors and exits 0, so the reader blames a"
        " truncated raw file on ENOSPC when the file system has less free space than the missing bytes; this is"
        " tested with a simulated `statvfs`, not a full disk (which needs root).",
        "- Distributed (Dask) executor faults and resume after interruption belong to the result-cache/executor work.",
        "- Real disk-full runs need root (tmpfs); `tests/test_faults.py` also uses RLIMIT_FSIZE, which works unprivileged.",
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--examples", type=int, default=400, help="hypothesis examples per fuzz target")
    ap.add_argument("--faults", type=int, default=8, help="repetitions per fault kind")
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--out", default=str(ROOT / "docs" / "robustness.md"))
    ap.add_argument("--state-only", action="store_true", help="skip part 1 and the part-2 faults (quick check)")
    args = ap.parse_args()
    start = time.perf_counter()
    print(f"fuzzing: {args.examples} examples per target ...", flush=True)
    tally = Tally() if args.state_only else fuzz(args.examples, args.seed)
    print("injecting faults ...", flush=True)
    try:
        fault_results = [] if args.state_only else faults(args.faults, random.Random(args.seed))
        print("tampering with stored state ...", flush=True)
        fault_results += state_faults(args.faults, random.Random(args.seed + 1))
    except Exception:
        traceback.print_exc()
        raise
    seconds = time.perf_counter() - start
    text = render(tally, fault_results, args, seconds)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
