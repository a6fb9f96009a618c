"""Command-line interface: `netlistgen <command> ...`.

Every user error becomes one line on stderr and exit code 2; failing checks exit 1.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import re
import sys
from pathlib import Path

from netlistgen import __version__
from netlistgen.core.errors import NetlistgenError, one_line
from netlistgen.core.suggest import did_you_mean


def _generate_args(p: argparse.ArgumentParser) -> None:
    from netlistgen.circuits.cells import CELL_KINDS
    from netlistgen.circuits.schemes import PRESET_NAMES

    p.add_argument("--config", help="TOML/YAML file with any of the options below")
    p.add_argument("--scheme", help=f"pattern set: {', '.join(PRESET_NAMES)} or a custom name (default zebra-i)")
    p.add_argument("--cell", choices=CELL_KINDS, help="cell kind (default: the --cell-file's, else lcc for int4/int8, "
                   "mllcu otherwise)")
    p.add_argument("--cell-file", dest="cell_file", help="a user cell: descriptor TOML/YAML with its Jinja template "
                   "(docs/cells.md)")
    p.add_argument("--rows", help="input rows (default 16)")
    p.add_argument("--cols", help="weight columns, each n_bits GBLs wide (default 8)")
    p.add_argument("--tech", dest="technology", help="technology name or descriptor file (default ptm45)")
    p.add_argument("--corner", help="process corner (default: the technology's)")
    p.add_argument("--models", choices=["full", "trimmed", "flat"],
                   help="model deck: full library, trimmed, or flattened cards (default: the technology's)")
    p.add_argument("--fidelity", choices=["transistor", "ideal-bits"], help="default ideal-bits")
    p.add_argument("--sram-rows-per-lcc", dest="sram_rows_per_lcc", help="baseline LCC sharing (default 16)")
    p.add_argument("--weights", help=".npy or .csv float matrix (weight_rows x cols)")
    p.add_argument("--seed", help="seed of the Gaussian weights used without --weights (default 0)")
    p.add_argument("--clip", choices=["max-abs", "mse"], help="weight clipping (default max-abs)")
    p.add_argument("--patterns", dest="pattern_sets", help="config file with custom pattern sets")
    p.add_argument("--temp", help="device temperature in deg C (default 27; sweep: comma list)")
    p.add_argument("--vdd", help="supply in V (default: the technology's; sweep: comma list)")
    p.add_argument("--set", dest="design", action="append", default=[], metavar="KEY=VALUE",
                   help="design-point override, e.g. --set c_unit_f=2e-15 (repeatable)")
    p.add_argument("--out", help="output directory (default out)")


GENERATE_FIELDS = ("scheme", "cell", "cell_file", "rows", "cols", "technology", "models", "corner", "fidelity",
                   "sram_rows_per_lcc",
                   "weights", "seed", "clip", "pattern_sets", "out")


def _options(args: argparse.Namespace):
    """GenerateOptions of the design flags (api.options: flags win over --config)."""
    from netlistgen import api

    design = {}
    for item in args.design:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise NetlistgenError(f"invalid --set {item!r}: expected KEY=VALUE")
        design[key.strip()] = value.strip()
    for flag, key in (("temp", "temp_c"), ("vdd", "vdd_v")):
        if getattr(args, flag, None) is not None:
            design[key] = getattr(args, flag)
    return api.options(args.config, design=design, **{k: getattr(args, k) for k in GENERATE_FIELDS})


def cmd_generate(args: argparse.Namespace) -> int:
    from netlistgen import api

    result = api.generate(_options(args), bundle=args.bundle)
    print(result.summary())
    for key, path in result.paths.items():
        print(f"  {key:10s} {path}")
    print(f"  sha256     {result.content_hash}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """Run the operating-point bench of a generated directory and check outputs sit at VCM."""
    from netlistgen import api

    result = api.check(args.dir, tolerance_v=args.tolerance_v, run=_run_settings(args))
    print(result.summary(), file=sys.stdout if result.complete else sys.stderr)
    return 0 if result.passed else 1


def cmd_pdk(args: argparse.Namespace) -> int:
    from netlistgen import tech as technology

    if args.action == "list":
        for name in technology.list_technologies():
            tech = technology.load_technology(name)
            state = "installed" if tech.is_installed() else "not installed"
            print(f"{name:10s} {state:14s} {tech.description}")
    elif args.action == "install":
        if not args.name:
            raise NetlistgenError("pdk install needs a technology name, e.g. `netlistgen pdk install ptm45`")
        for name in args.name:
            path = technology.install(name, force=args.force)
            print(f"{name}: models in {path}")
    elif args.action == "show":
        if not args.name or len(args.name) != 1:
            raise NetlistgenError("pdk show needs exactly one technology name")
        print(json.dumps(technology.show(args.name[0]), indent=2, default=str))
    elif args.action == "verify":
        from netlistgen.studies.pdk_verify import verify_flat

        if not args.name or len(args.name) != 1:
            raise NetlistgenError("pdk verify needs exactly one technology name, e.g. `netlistgen pdk verify sky130`")
        res = verify_flat(args.name[0], args.corner, rows=args.rows, cols=args.cols, cycles=args.cycles,
                          tolerance_v=args.tolerance_v)
        print(res.line())
        return 0 if res.ok else 1
    return 0


def cmd_sqnr(args: argparse.Namespace) -> int:
    import numpy as np

    from netlistgen.core import validate
    from netlistgen.circuits.encoding import sqnr_report
    from netlistgen.circuits.generate import load_weights

    if args.weights:
        x = load_weights(args.weights)
    else:
        shape = (validate.integer(args.rows, "rows", minimum=1, maximum=100_000),
                 validate.integer(args.cols, "cols", minimum=1, maximum=100_000))
        x = np.random.default_rng(validate.integer(args.seed, "seed", minimum=0)).normal(size=shape)
    report = sqnr_report(x, granularity=args.granularity, clip=args.clip, channel_axis=1)
    print(f"SQNR ({args.granularity}, {args.clip} clip, tensor {x.shape[0]}x{x.shape[1]}):")
    for name, db in report.items():
        print(f"  {name:10s} {db:7.2f} dB")
    return 0


def _cross_check(args, run) -> int:
    """`regress --cross-check ENGINE`: per-case differences between two engines (docs/vacask.md)."""
    from netlistgen.api import make_job_root
    from netlistgen.core.jsonio import write_json
    from netlistgen.sim.backends import get_backend
    from netlistgen.studies import regress

    run.require_simulator()
    get_backend(args.cross_check).identity()
    cases = regress.select(regress.load_suite(args.suite), args.k)
    out = Path(args.out)
    make_job_root(out)
    rows = regress.cross_check(cases, out / "cross-check", (run.backend, args.cross_check), workers=run.workers,
                               progress=run.progress)
    write_json(out / "cross_check.json", rows)
    print(f"| case | {run.backend} vs {args.cross_check}: max |dV| uV | LSB | note |")
    print("|---|---|---|---|")
    for r in rows:
        if r["status"] == "ok":
            print(f"| {r['name']} | {r['max_diff_uv']:.2f} | {r['max_diff_lsb']:.4f} | |")
        else:
            print(f"| {r['name']} | — | — | {r['message']} |")
    print(f"wrote {out / 'cross_check.json'}")
    return 0 if all(r["status"] == "ok" for r in rows) else 1


def _report_run(sim) -> int:
    """Print a SimulationRun's failures, tables, spec check and files; exit 1 if a job
    failed or a spec limit does not hold."""
    for name, msg in sim.errors.items():
        print(f"FAILED {name}: {msg}", file=sys.stderr)
    print(sim.job_counts(), file=sys.stderr, flush=True)
    if sim.rows:
        print(sim.table())
        print("\nheld value (after the sample switch opens):\n" + sim.hold_table())
        _print_spec_check(sim.spec_verdicts)
        print(f"\nwall time {sim.seconds:.1f} s; report: {sim.paths['json']}"
              + "".join(f"; {k}: {p}" for k, p in sim.paths.items() if k not in ("json", "markdown", "samples")))
    return 0 if sim.passed else 1


def cmd_sweep(args: argparse.Namespace) -> int:
    """One array at every corner x temperature x supply (studies.sweep), run through
    api.simulate_many with the same run settings: summary table, plots, HTML."""
    from netlistgen import api
    from netlistgen.studies import sweep
    from netlistgen.tech.technology import load_technology

    sampling, run = _sampling(args), _run_settings(args)
    base = _options(argparse.Namespace(**{**vars(args), "corner": None, "temp": None, "vdd": None}))
    tech = load_technology(base.technology)
    corners = sweep.split_list(args.corner, "corner") or [base.corner or tech.default_corner]
    temps = sweep.split_list(args.temp, "temp") or [base.design.get("temp_c", 27.0)]
    vdds = sweep.split_list(args.vdd, "vdd") or [base.design.get("vdd_v")]
    conds = sweep.matrix(corners, temps, vdds)
    specs = api.load_specs(args.spec)  # read before any netlist is built or job runs
    cases = sweep.build_cases(base, conds)
    spec = cases[0][1].spec
    title = (f"{spec.pattern_set.name} {spec.rows}x{spec.cols} on {tech.name}: {len(corners)} corners x "
             f"{len(temps)} temperatures x {len(vdds)} supplies")
    print(f"sweep {title} = {len(conds)} conditions", flush=True)
    out = args.out or base.out
    sim = api.simulate_many(dict(cases), sampling=sampling, out=out, run=run, split_columns=args.split_columns,
                            write=False, specs=specs)
    for name, msg in sim.errors.items():
        print(f"FAILED {name}: {msg}", file=sys.stderr)
    print(sim.job_counts(), file=sys.stderr, flush=True)
    paths = sweep.write_sweep(sim.rows, out, title=title, spec_verdicts=sim.spec_verdicts, errors=sim.errors)
    print(sweep.summary_markdown(sim.rows))
    _print_spec_check(sim.spec_verdicts)
    print(f"\nwall time {sim.seconds:.1f} s; wrote " + ", ".join(str(p) for p in paths.values()))
    return 0 if sim.passed else 1


def _print_spec_check(verdicts: list[dict] | None) -> None:
    if verdicts is None:
        return
    from netlistgen.analysis.specs import summary, table as spec_table

    s = summary(verdicts)
    print(f"\nspec check: {s['passed']} of {s['checked']} limits pass"
          + (f"; failing: {', '.join(s['failing_cases'])}" if s["failing_cases"] else ""))
    print(spec_table(verdicts))


def cmd_simulate(args: argparse.Namespace) -> int:
    from netlistgen import api

    sampling, run = _sampling(args), _run_settings(args)
    opts = _options(args)
    out = args.out or opts.out
    print(f"simulating {opts.scheme} ({args.jobs or 'all'} cores) ...", flush=True)
    sim = api.simulate(opts, cycles=sampling.cycles, energy_cycles=sampling.energy_cycles,
                       stim_seed=sampling.stim_seed, out=out, run=run, split_columns=args.split_columns,
                       plots=not args.no_plots, specs=args.spec)
    return _report_run(sim)


def cmd_demo(args: argparse.Namespace) -> int:
    """The main job: baseline 8-8 LCC, ZEBRA I and ZEBRA II on one technology."""
    from netlistgen import api

    sampling, run = _sampling(args), _run_settings(args)
    print(f"simulating {', '.join(api.DEMO_SCHEMES)} ({args.jobs or 'all'} cores) ...", flush=True)
    sim = api.demo(technology=args.technology, rows=args.rows, cols=args.cols, out=args.out, sampling=sampling,
                   run=run, split_columns=args.split_columns, plots=not args.no_plots,
                   specs=args.spec)
    return _report_run(sim)


# ----------------------------------------------------------------------------- flag groups
# Each group of shared flags is declared once here and read back by one function.


def _stimulus_args(p: argparse.ArgumentParser, cycles: str, energy_cycles: str | None = None) -> None:
    p.add_argument("--cycles", default=cycles, help=f"compute cycles sampled (default {cycles})")
    if energy_cycles is not None:
        p.add_argument("--energy-cycles", default=energy_cycles,
                       help=f"averaged cycles of the 5 ps energy run (plus one warm-up cycle), 0 to skip "
                            f"(default {energy_cycles})")
    p.add_argument("--stim-seed", default="1", help="seed of the random inputs (default 1)")


def _sampling(args: argparse.Namespace):
    from netlistgen import api

    return api.Sampling(args.cycles, args.energy_cycles, args.stim_seed)


def _jobs_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--jobs", help="parallel ngspice processes (default: number of cores)")


def _backend_arg(p: argparse.ArgumentParser) -> None:
    from netlistgen.sim.backends import BACKENDS, DEFAULT_BACKEND

    p.add_argument("--backend", choices=list(BACKENDS), default=DEFAULT_BACKEND,
                   help="simulator: " + "; ".join(f"{r.name}: {r.description}" for r in BACKENDS.values()))


def _run_args(p: argparse.ArgumentParser, *, timeout: bool = True) -> None:
    """--jobs, --timeout, --backend and the cache/executor flags (api.RunSettings)."""
    _jobs_arg(p)
    if timeout:
        p.add_argument("--timeout", default="1800", help="seconds per ngspice job (default 1800)")
    _backend_arg(p)
    p.add_argument("--no-cache", action="store_true", help="simulate every job even if its result is cached")
    p.add_argument("--cache-dir", help="result cache directory (default: <user cache>/netlistgen/results)")
    p.add_argument("--executor", choices=["local", "dask"], default="local",
                   help="run jobs on this machine (default) or on a Dask cluster (needs --scheduler)")
    p.add_argument("--scheduler", help="Dask scheduler address, e.g. tcp://127.0.0.1:8786")


def _run_settings(args: argparse.Namespace):
    from netlistgen import api

    return api.RunSettings(workers=args.jobs, backend=args.backend, cache=not args.no_cache,
                           cache_dir=args.cache_dir, executor=args.executor, scheduler=args.scheduler,
                           timeout_s=getattr(args, "timeout", 1800.0), progress=sys.stderr.isatty())


def _sim_args(p: argparse.ArgumentParser, cycles: str, energy_cycles: str) -> None:
    """simulate/demo/sweep: stimulus, run settings, spec, column splitting and plots."""
    _stimulus_args(p, cycles, energy_cycles)
    _run_args(p)
    p.add_argument("--spec", help="spec file (YAML/TOML) of min/typ/max limits per metric and condition set")
    p.add_argument("--split-columns", action="store_true",
                   help="simulate each weight column as its own job (exact to settling accuracy; faster on many cores)")
    p.add_argument("--no-plots", action="store_true", help="write the report without plots (faster)")


def _tech_args(p: argparse.ArgumentParser, *, corner: bool = True) -> None:
    p.add_argument("--tech", dest="technology", default="ptm45", help="technology name or descriptor file")
    if corner:
        p.add_argument("--corner", help="process corner (default: the technology's)")


def _workers(args: argparse.Namespace) -> int | None:
    from netlistgen.core import validate

    return validate.integer(args.jobs, "jobs", minimum=1, maximum=256) if args.jobs else None


def cmd_plot(args: argparse.Namespace) -> int:
    from netlistgen import api
    from netlistgen.core import validate

    if args.kind == "waveform":
        if len(args.source) != 1:
            raise NetlistgenError("plot waveform takes one job directory, e.g. out/demo/jobs/zebra-i")
        from netlistgen.analysis.waves import cycle_waveforms

        idx = {k: validate.integer(getattr(args, k), k, minimum=0) for k in ("cycle", "row", "col", "bit")}
        path = cycle_waveforms(args.source[0], idx["cycle"], args.out or "waveform.png",
                               row=idx["row"], col=idx["col"], bit=idx["bit"], resimulate=not args.saved_only,
                               log=lambda msg: print(msg, file=sys.stderr, flush=True))
    else:
        path = api.plot_transfer(args.source, args.out or f"{args.kind}.png", residual=args.kind == "residual")
    print(f"wrote {path}")
    return 0


def cmd_regress(args: argparse.Namespace) -> int:
    from netlistgen import api

    run = _run_settings(args)
    if args.cross_check:
        return _cross_check(args, run)
    print("running the regression cases ...", flush=True)
    rep = api.regress(suite=args.suite, golden=args.golden, k=args.k, out=args.out, run=run,
                      update_golden=args.update_golden, specs=args.spec)
    if args.update_golden:
        for name, msg in rep.errors.items():
            print(f"ERROR {name}: {msg}", file=sys.stderr)
        if rep.golden_diff is None:
            print("golden values not updated: some cases failed to simulate", file=sys.stderr)
            return 1
        print("\n".join(rep.golden_diff) if rep.golden_diff else "golden values unchanged")
        print(f"wrote {args.golden}")
        return 0
    print(rep.table())
    _print_spec_check(rep.spec_verdicts)
    print(f"\n{len(rep.cases) - len(rep.failed)} passed, {len(rep.failed)} failed in {rep.seconds:.1f} s; "
          f"reports: {rep.paths['json']}, {rep.paths['junit']}, {rep.paths['html']}")
    return 0 if rep.passed else 1


def cmd_mc(args: argparse.Namespace) -> int:
    """Monte Carlo mismatch: N seeded samples per scheme, distributions and raw results."""
    from netlistgen import api

    base = _options(argparse.Namespace(**{**vars(args), "scheme": None}))
    mc = api.monte_carlo(base, schemes=args.scheme or base.scheme, n=args.n, base_seed=args.base_seed, sample=args.sample,
                         vt=not args.no_vt, cap=not args.no_cap, vt_scale=args.vt_scale, cap_scale=args.cap_scale,
                         noise_temp_k=args.noise_temp, cycles=args.cycles, stim_seed=args.stim_seed,
                         out=args.out or "out/mc", run=_run_settings(args), log=_log)
    for name, msg in mc.errors.items():
        print(f"FAILED {name}: {msg}", file=sys.stderr)
    print(mc.table())
    print(f"\nwall time {mc.seconds:.1f} s; " + ", ".join(str(p) for p in mc.paths.values()))
    return 0 if mc.passed else 1


def cmd_report(args: argparse.Namespace) -> int:
    """`report paper`: the seeds' comparison table recomputed with SPICE on one technology."""
    from netlistgen import api
    from netlistgen.core import validate
    from netlistgen.studies import paper

    opts = paper.PaperOptions(
        technology=args.technology,
        rows=validate.integer(args.rows, "rows", minimum=1, maximum=256),
        cycles=validate.integer(args.cycles, "cycles", minimum=4, maximum=10000),
        energy_cycles=validate.integer(args.energy_cycles, "energy-cycles", minimum=1, maximum=100),
        energy_max_step_s=validate.number(args.energy_step_ps, "energy-step-ps", minimum=0.1, maximum=10) * 1e-12,
        workers=_workers(args),
        accuracy_seeds=validate.integer(args.accuracy_seeds, "accuracy-seeds", minimum=0, maximum=100),
        adc_model=args.adc_model,
        adc_policy=args.adc_policy,
        adc_share=validate.integer(args.adc_share, "adc-share", minimum=1, maximum=4096),
        accuracy_results=args.accuracy_results,
    )
    print(f"paper report on {opts.technology}: 8 ngspice jobs, behavioural SNR and accuracy ...", flush=True)
    rep = api.paper_report(opts, out=args.out)
    print(rep.paths["markdown"].read_text())
    print(f"wall time {rep.seconds:.1f} s; wrote " + ", ".join(str(p) for p in rep.paths.values()))
    return 0


class _Parser(argparse.ArgumentParser):
    """argparse with the same one-line error format as every other bad input (exit 2).

    """

    def error(self, message: str):  # type: ignore[override]
        choice = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
        if choice:
            message += did_you_mean(choice.group(1), re.findall(r"'([^']*)'", choice.group(2)))
        self.exit(2, f"netlistgen: error: {self.prog}: {one_line(message)} (see --help)\n")


def _warning_line(message, category, filename, lineno, line=None) -> str:
    """Warnings (e.g. a result-cache entry that did not verify) as one stderr line."""
    return f"netlistgen: warning: {one_line(message)}\n"


def _log(message: str) -> None:
    print(message, flush=True)


def _model_source(args: argparse.Namespace, rows_default: str, cycles_default: str) -> dict:
    """Keywords of api.scheme_models shared by snr and accuracy (--models, --mc, the fit)."""
    return {"schemes": args.schemes, "technology": args.technology, "corner": args.corner,
            "rows": args.rows or rows_default, "spice_cycles": args.spice_cycles or cycles_default,
            "models_dir": args.models, "mc": args.mc, "out": args.out, "workers": args.jobs,
            "progress": sys.stderr.isatty(), "log": _log}


def _print_study(report) -> int:
    print(report.table())
    print("wrote " + ", ".join(str(p) for p in report.paths.values()))
    return 0


def cmd_snr(args: argparse.Namespace) -> int:
    """SPICE-measured SNR per scheme, then behavioural SNR against injected noise."""
    from netlistgen import api

    report = api.snr(noise_v=args.noise_v, cycles=args.cycles, adc_bits=args.adc_bits or "8",
                     **_model_source(args, "8", "24"))
    print(report.table())
    print("\nSPICE rows: measured in ngspice; behavioural rows: fitted models + injected Gaussian noise.")
    print("wrote " + ", ".join(str(p) for p in report.paths.values()))
    return 0


def cmd_accuracy_cnn(args: argparse.Namespace) -> int:
    """MobileNetV2-style CNN on shipped data through SPICE-fitted columns at the macro's R and ADC policy."""
    from netlistgen import api
    from netlistgen.core import validate

    fields = {"schemes": tuple(args.schemes) if args.schemes else None,
              "datasets": tuple(args.data) if args.data else None,
              "rows": args.rows, "adc_policy": args.adc_policy,
              "adc_bits": args.adc_bits,
              "train_seeds": args.train_seeds, "noise_seeds": args.noise_seeds, "max_test": args.max_test,
              "epochs": args.epochs, "workers": args.jobs,
              "noise_refs": tuple(args.refs) if args.refs else None,
              "noise_variances": tuple(validate.number(x, "noise-var", minimum=0.0, exclusive_minimum=True)
                                       for x in args.noise_var) if args.noise_var else None}
    ints = {"rows", "adc_bits", "train_seeds", "noise_seeds", "max_test", "epochs", "workers"}
    given = {k: (validate.integer(v, k.replace("_", "-")) if k in ints else v)
             for k, v in fields.items() if v is not None}
    return _print_study(api.accuracy_cnn(quick=args.quick, technology=args.technology, corner=args.corner,
                                         spice_cycles=args.spice_cycles or 24, mc_samples=args.mc_samples,
                                         models_dir=args.models, out=args.out, progress=True, log=_log, **given))


def cmd_accuracy(args: argparse.Namespace) -> int:
    """digits MLP through each scheme's behavioural column: accuracy table and plot."""
    from netlistgen import api

    if args.net == "mobilenet":
        return cmd_accuracy_cnn(args)
    for flag in ("data", "refs", "train_seeds", "noise_seeds", "max_test", "epochs"):
        if getattr(args, flag) is not None:
            raise NetlistgenError(f"--{flag.replace('_', '-')} applies to --net mobilenet only")
    return _print_study(api.accuracy(noise_var=args.noise_var or ["0.03", "0.3", "3"], noise_ref=args.noise_ref,
                                     adc_bits=args.adc_bits or "8", seeds=args.seeds, hidden=args.hidden,
                                     **_model_source(args, "16", "16")))


def cmd_model(args: argparse.Namespace) -> int:
    """Fit and export one scheme's behavioural model (JSON, usable without ngspice)."""
    from netlistgen import api

    fit = api.fit_model(args.scheme, technology=args.technology, corner=args.corner, rows=args.rows,
                        cycles=args.cycles, mc=args.mc, out=args.out, progress=sys.stderr.isatty())
    print("\n".join(fit.column_lines()))
    print(f"wrote {fit.path}")
    return 0


def _behavioural_args(p: argparse.ArgumentParser, rows: str, cycles: str, out: str) -> None:
    from netlistgen.circuits.schemes import COMPARED

    _tech_args(p)
    p.add_argument("--rows", help=f"rows of the simulated column (default {rows})")
    p.add_argument("--spice-cycles", help=f"random compute cycles simulated per scheme (default {cycles})")
    p.add_argument("--schemes", nargs="+", choices=COMPARED, help="default: all four")
    p.add_argument("--models", help="directory of <scheme>.json behavioural models: skip ngspice")
    p.add_argument("--mc", help="Monte Carlo results JSON: adds the gain/offset mismatch distribution to the models")
    p.add_argument("--adc-bits", help="ADC resolution (default 8; accuracy --net mobilenet: B of the `same` policy, "
                                      "default the macro model's)")
    _jobs_arg(p)
    p.add_argument("--out", default=out)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The CLI parser; with `command`, the parser of that subcommand only (main: the
    invoked one), else of all of them (for --help and the list of choices)."""
    from netlistgen.circuits.schemes import COMPARED

    parser = _Parser(prog="netlistgen", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"netlistgen {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    if command is not None:
        sub.add_parser = _declaring_only(sub.add_parser, command)

    p = sub.add_parser("generate", help="generate an array netlist, its op-point deck and manifest")
    _generate_args(p)
    p.add_argument("--bundle", metavar="DIR", help="also write a self-contained bundle (model cards copied, relative "
                   "includes, example decks) that runs in plain ngspice from any directory")
    p.set_defaults(func=cmd_generate)

    p = sub.add_parser("simulate", help="generate an array, run transient cycles, report metrics and plots")
    _generate_args(p)
    _sim_args(p, "24", "4")
    p.set_defaults(func=cmd_simulate)

    p = sub.add_parser("sweep", help="simulate an array at every corner x temperature x supply: summary, plots, HTML")
    _generate_args(p)
    _sim_args(p, "16", "0")
    p.set_defaults(func=cmd_sweep, out="out/sweep")

    p = sub.add_parser("demo", help="main job: baseline LCC 8-8 vs ZEBRA I/II, metrics table and plots")
    _tech_args(p, corner=False)
    p.add_argument("--rows", default="8")
    p.add_argument("--cols", default="1")
    p.add_argument("--out", default="out/demo")
    _sim_args(p, "24", "4")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("regress", help="run the ngspice regression suite against golden values")
    p.add_argument("--suite", help="suite file (default: the shipped testbenches/regression.yaml)")
    p.add_argument("--golden", help="golden values (default: the shipped testbenches/golden.json)")
    p.add_argument("-k", help="run only cases whose name contains (or glob-matches) this")
    p.add_argument("--out", default="out/regress", help="report directory (default out/regress)")
    p.add_argument("--update-golden", action="store_true", help="store measured values as golden and print the diff")
    p.add_argument("--cross-check", metavar="ENGINE", help="run the cases on --backend and on ENGINE (e.g. vacask) "
                   "and report per-case sampled-output differences instead of golden verdicts")
    _run_args(p, timeout=False)
    p.add_argument("--spec", help="spec file (YAML/TOML): limits per metric and condition set, checked per case")
    p.set_defaults(func=cmd_regress)

    p = sub.add_parser("mc", help="Monte Carlo mismatch (and kT/C noise): seeded samples, distributions, histograms")
    _generate_args(p)
    p.add_argument("--n", default="20", help="samples per scheme (default 20); --scheme takes a comma list")
    p.add_argument("--base-seed", default="1", help="sample k uses mismatch seed base+k (default 1)")
    p.add_argument("--sample", help="rerun only sample K (same numbers as in the full run)")
    p.add_argument("--no-vt", action="store_true", help="no threshold-voltage mismatch")
    p.add_argument("--no-cap", action="store_true", help="no capacitor mismatch")
    p.add_argument("--vt-scale", help="multiply the technology's sigma(VT) (delvto technologies)")
    p.add_argument("--cap-scale", help="multiply the technology's sigma(C)/C")
    p.add_argument("--noise-temp", help="also inject kT/C reset noise at this temperature (K)")
    _stimulus_args(p, "16")
    _run_args(p)
    p.set_defaults(func=cmd_mc)

    p = sub.add_parser("report", help="paper: the seeds' comparison table recomputed on a technology")
    p.add_argument("kind", choices=["paper"])
    _tech_args(p, corner=False)
    p.add_argument("--rows", default="16", help="compute rows of each simulated column = rows per conversion R of the macro model (default 16)")
    p.add_argument("--cycles", default="12", help="sampled cycles per scheme (default 12)")
    p.add_argument("--energy-cycles", default="4", help="averaged energy cycles per scheme, plus one warm-up (default 4)")
    p.add_argument("--energy-step-ps", default="10",
                   help="maximum step of the energy runs in ps, at most 10 (default 10; `simulate` uses 5)")
    p.add_argument("--accuracy-seeds", default="3", help="noise seeds of the accuracy experiment, 0 to skip (default 3)")
    p.add_argument("--adc-model", default="hwcomponents",
                   help="ADC energy/area model of the macro numbers: hwcomponents, neurosim, walden, "
                        "spice (simulated SAR ADC, docs/adc.md) (default hwcomponents)")
    p.add_argument("--adc-policy", default="same", help="ADC bits: same, lossless, stat (default same)")
    p.add_argument("--adc-share", default="8", help="GBLs per ADC (default 8)")
    _jobs_arg(p)
    p.add_argument("--accuracy-results", metavar="FILE",
                   help="accuracy_cnn.json of a CNN study (`accuracy --net mobilenet`) at the report's R: its "
                        "accuracy-vs-noise curves and (TOPS/W, accuracy) points per ADC policy; nothing is retrained")
    p.add_argument("--out", default="out/paper", help="output directory (default out/paper)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("adc", help="SAR ADC in ngspice: ENOB, DNL/INL, energy per conversion, FOMs")
    p.add_argument("--bits", default="8", help="resolution B, 3..10 (default 8)")
    p.add_argument("--tech", dest="technology", default="ptm45")
    p.add_argument("--rate", default="50e6", help="conversions per second (default 50e6)")
    p.add_argument("--corner", help="process corner (default: the technology's)")
    p.add_argument("--hits", default="4", help="ramp hits per code (default 4)")
    p.add_argument("--sine-n", default="320", help="sine record length in conversions (default 320)")
    p.add_argument("--sine-cycles", default="37", help="sine periods in the record, coprime with --sine-n (default 37)")
    p.add_argument("--mc", default="0", help="Monte Carlo draws of comparator offset and CDAC mismatch (default 0)")
    p.add_argument("--no-cache", action="store_true", help="always simulate (no result cache)")
    p.add_argument("--out", default="out/adc", help="output directory (default out/adc)")
    p.set_defaults(func=cmd_adc)

    p = sub.add_parser("plot", help="transfer curve / residual of result dirs, or a cycle's waveforms")
    p.add_argument("kind", choices=["transfer", "residual", "waveform"])
    p.add_argument("source", nargs="+", help="result directories (transfer/residual) or one job directory (waveform)")
    p.add_argument("--out", help="output file: .png, .svg or .pdf (default KIND.png)")
    p.add_argument("--cycle", default="0", help="waveform: cycle index (default 0)")
    p.add_argument("--row", default="0")
    p.add_argument("--col", default="0")
    p.add_argument("--bit", default="0")
    p.add_argument("--saved-only", action="store_true",
                   help="waveform: plot only what the job saved (its outputs), never re-simulate")
    p.set_defaults(func=cmd_plot)

    p = sub.add_parser("check", help="simulate a generated directory's operating point (outputs at VCM?)")
    p.add_argument("dir")
    p.add_argument("--tolerance-v", default="0.005", help="allowed |V_out - VCM| (default 5 mV)")
    _run_args(p, timeout=False)
    p.add_argument("--timeout", default="600", help="seconds (default 600)")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("pdk", help="list, install, show technologies, or verify flattened cards against the full library")
    p.add_argument("action", choices=["list", "install", "show", "verify"])
    p.add_argument("name", nargs="*")
    p.add_argument("--force", action="store_true", help="re-download even if installed")
    p.add_argument("--corner", help="verify: process corner (default: the technology's)")
    p.add_argument("--rows", default="2", help="verify: array rows (default 2)")
    p.add_argument("--cols", default="1", help="verify: weight columns (default 1)")
    p.add_argument("--cycles", default="2", help="verify: MAC cycles (default 2)")
    p.add_argument("--tolerance-v", dest="tolerance_v", default="5e-6", help="verify: allowed |dV| (default 5e-6)")
    p.set_defaults(func=cmd_pdk)

    p = sub.add_parser("sqnr", help="quantization SNR of a weight tensor under every preset")
    p.add_argument("--weights", help=".npy or .csv matrix (default: seeded Gaussian)")
    p.add_argument("--rows", default="256")
    p.add_argument("--cols", default="64")
    p.add_argument("--seed", default="0")
    p.add_argument("--granularity", choices=["per-tensor", "per-channel"], default="per-channel")
    p.add_argument("--clip", choices=["max-abs", "mse"], default="mse")
    p.set_defaults(func=cmd_sqnr)

    p = sub.add_parser("snr", help="compute SNR per scheme: ngspice-measured, then behavioural vs injected noise")
    _behavioural_args(p, "8", "24", "out/snr")
    p.add_argument("--noise-v", nargs="+", help="noise sigmas at the GBL in V (default 0 1e-4 ... 5e-3)")
    p.add_argument("--cycles", default="400", help="behavioural workload cycles (default 400)")
    p.set_defaults(func=cmd_snr)

    p = sub.add_parser("accuracy", help="a network through each scheme's behavioural column: accuracy vs noise")
    _behavioural_args(p, "16", "16", "out/accuracy")
    p.add_argument("--net", choices=["mlp", "mobilenet"], default="mlp",
                   help="mlp: digits MLP (default); mobilenet: MobileNetV2-style CNN (needs netlistgen[nn])")
    p.add_argument("--noise-var", nargs="+",
                   help="noise variances in LSB^2 (default 0.03 0.3 3; mobilenet: 0.01 0.03 0.1 0.3 1)")
    p.add_argument("--data", nargs="+", choices=["digits", "mnist", "mnist1d"],
                   help="mobilenet: data sets (default mnist mnist1d; --quick: digits)")
    p.add_argument("--quick", action="store_true", help="mobilenet: CI-sized run (digits, 1 network, 2 noise seeds)")
    p.add_argument("--refs", nargs="+", choices=["unit", "adc-lsb"],
                   help="mobilenet: noise references (default both: one C1*dV step, the ADC's full-scale LSB)")
    p.add_argument("--adc-policy", choices=["same", "lossless", "stat"],
                   help="mobilenet: the macro model's ADC-bit policy with the whole noise sweep (default stat: "
                        "LSB one step, clipping at the workload's +-3 sigma); the other two run at sigma^2 0.03 "
                        "(same: one B for all, the lossless bits of an LCC column unless --adc-bits is given)")
    p.add_argument("--train-seeds", help="mobilenet: networks trained per data set (default 3)")
    p.add_argument("--noise-seeds", help="mobilenet: noise/mismatch draws per network and point (default 5)")
    p.add_argument("--max-test", help="mobilenet: test images per data set (default 300)")
    p.add_argument("--epochs", help="mobilenet: training epochs (default 12)")
    p.add_argument("--mc-samples", default="4",
                   help="mobilenet: Monte Carlo samples for the columns' gain/offset spread, 0 = none (default 4)")
    p.add_argument("--noise-ref", choices=["lsb-fs", "lsb-int", "v"], default="lsb-fs",
                   help="LSB of the column full-scale ADC (default), of the integer grid, or V^2 at the GBL")
    p.add_argument("--seeds", default="5", help="noise seeds per point (default 5)")
    p.add_argument("--hidden", default="32", help="hidden units of the MLP (default 32)")
    p.set_defaults(func=cmd_accuracy)

    p = sub.add_parser("model", help="fit one scheme's behavioural model to ngspice and export it as JSON")
    p.add_argument("--scheme", choices=COMPARED, default="zebra-i")
    _tech_args(p)
    p.add_argument("--rows", default="8")
    p.add_argument("--cycles", default="24")
    p.add_argument("--mc", help="Monte Carlo results JSON for the mismatch distribution")
    p.add_argument("--out", default="model.json")
    p.set_defaults(func=cmd_model)
    if command is not None and command not in sub.choices:  # unknown or no command: argparse lists them all
        return build_parser()
    return parser


def cmd_adc(args: argparse.Namespace) -> int:
    """SAR ADC characterization: ENOB, energy per conversion and FOMs, adc.json and plots."""
    from netlistgen.analysis import adc as adc_metrics
    from netlistgen.circuits.adc import AdcSpec
    from netlistgen.core import validate
    from netlistgen.core.jsonio import write_json
    from netlistgen.sim.cache import ResultCache
    from netlistgen.studies.adc import AdcTest, characterize, monte_carlo

    spec = AdcSpec(bits=validate.integer(args.bits, "bits", minimum=3, maximum=10),
                   rate_hz=validate.number(args.rate, "rate", minimum=1e3, maximum=5e9), corner=args.corner)
    test = AdcTest(hits_per_code=validate.integer(args.hits, "hits", minimum=1, maximum=1000),
                   sine_conversions=validate.integer(args.sine_n, "sine-n", minimum=16, maximum=65536),
                   sine_cycles=validate.integer(args.sine_cycles, "sine-cycles", minimum=1, maximum=32767))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    cache = None if args.no_cache else ResultCache()
    r = characterize(spec, args.technology, test=test, workdir=out / "jobs", cache=cache)
    n_mc = validate.integer(args.mc, "mc", minimum=0, maximum=10000)
    if n_mc:
        r["monte_carlo"] = monte_carlo(spec, args.technology, n_mc, test=test, workdir=out / "mc", cache=cache)
    title = f"{r['bits']}-bit SAR ADC, {r['technology']} {r['corner']}, {r['rate_hz']:.4g} S/s"
    adc_metrics.plot_transfer_dnl(r["ramp"]["v_in_v"], r["ramp"]["codes"], r["ramp"]["dnl_lsb"], r["ramp"]["inl_lsb"],
                                  out / "transfer_dnl.png", title=title)
    adc_metrics.plot_spectrum(r["sine"]["spectrum_db"], out / "spectrum.png", title=title)
    write_json(out / "adc.json", r)
    print(f"{title}: ENOB {r['enob']:.2f} (ideal quantizer on the same sine {r['ideal_enob']:.2f}; SNDR {r['sndr_db']:.1f} dB), DNL {r['dnl_max_lsb']:.2f} LSB, "
          f"INL {r['inl_max_lsb']:.2f} LSB, energy {r['energy_per_conversion_j'] * 1e15:.1f} fJ/conversion, "
          f"Walden {r['walden_fom_j_per_step'] * 1e15:.2f} fJ/step, Schreier {r['schreier_fom_db']:.1f} dB")
    if n_mc:
        m = r["monte_carlo"]
        print(f"Monte Carlo ({m['n']} draws): ENOB mean {m['enob_mean']:.2f}, min {m['enob_min']:.2f}")
    print(f"wrote {out / 'adc.json'}, {out / 'transfer_dnl.png'}, {out / 'spectrum.png'}")
    return 0


_NUMBER_LIST_FLAGS = ("--temp", "--vdd")


def _join_negative_values(argv: list[str]) -> list[str]:
    """`--temp -40,27,125` -> `--temp=-40,27,125`: argparse takes a value that starts
    with '-' and is not a plain number for an option."""
    out: list[str] = []
    for tok in argv:
        if out and out[-1] in _NUMBER_LIST_FLAGS and re.match(r"^-[0-9.]", tok):
            out[-1] = f"{out[-1]}={tok}"
        else:
            out.append(tok)
    return out


class _Unbuilt:
    """Stands in for the parser of a subcommand that was not invoked: every declaration
    on it is ignored (declaring all 16 parsers cost ~0.1 CPU s, a tenth of a small
    simulation)."""

    def __getattr__(self, name: str):
        return lambda *args, **kwargs: self


def _declaring_only(add_parser, command: str):
    """add_parser that builds only `command`'s parser (see build_parser)."""

    def add(name, **kwargs):
        return add_parser(name, **kwargs) if name == command else _Unbuilt()

    return add


def _invoked_command(argv: list[str]) -> str:
    """The subcommand named in argv (its first word not starting with '-'), or ''."""
    return next((a for a in argv if not a.startswith("-")), "")


def main(argv: list[str] | None = None) -> int:
    import warnings

    # numpy's OpenBLAS would start a thread per core at import, which spins for ~0.15 CPU s; the
    # tool's arrays are small and its parallelism is processes (docs/startup.md). A user's
    # own setting wins.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    # Start-up allocates many long-lived objects (imports, dataclasses); at the default threshold of 700
    # the cyclic collector scans them again and again (~7 % of import CPU). Cycles are still collected.
    gc.set_threshold(max(gc.get_threshold()[0], 20_000))

    argv = _join_negative_values(sys.argv[1:] if argv is None else list(argv))
    parser = build_parser(_invoked_command(argv))
    args = parser.parse_args(argv)
    warnings.formatwarning = _warning_line
    try:
        return args.func(args)
    except NetlistgenError as exc:
        print(f"netlistgen: error: {one_line(exc)}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("netlistgen: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `netlistgen pdk show x | head`: the reader left; stop quietly like other tools
        _silence_stdout()
        return 141  # 128 + SIGPIPE, what a shell reports for a command killed by the pipe


# Modules whose clean-up at interpreter exit must run: coverage saves its data, Dask and
# multiprocessing stop their workers. With one of them loaded, `run` exits the normal way.
NEEDS_TEARDOWN = ("coverage", "dask", "distributed", "multiprocessing")


def run() -> None:
    """Console entry point: `main()`, then end the process without the interpreter's teardown.

    Why: tearing down the ~600 modules a `simulate` loads costs about 0.05 CPU s and up to
    0.2 s wall on a loaded machine (docs/startup.md), for memory the kernel frees anyway.
    It is skipped only when nothing is left to clean up: output flushed, no simulator or
    non-daemon thread alive, none of NEEDS_TEARDOWN loaded. In-process callers of `main`
    (tests, notebooks) keep their interpreter."""
    import threading

    code = main()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:  # the reader left after the command's last write (main handles the others)
        _silence_stdout()
        code = code or 141
    except (OSError, ValueError):
        sys.exit(code)  # a closed or failing stream: let the normal exit report it
    runner = sys.modules.get("netlistgen.sim.runner")
    if runner is not None:
        runner.kill_all()
    busy = any(t is not threading.main_thread() and not t.daemon for t in threading.enumerate())
    if busy or any(m in sys.modules for m in NEEDS_TEARDOWN) or not isinstance(code, int):
        sys.exit(code)
    os._exit(code)


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot raise again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


if __name__ == "__main__":
    run()
