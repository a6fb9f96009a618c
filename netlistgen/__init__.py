"""ZEBRA charge-domain compute-in-memory netlist generator and SPICE harness.

Data flows one way: core -> tech -> circuits -> sim -> analysis -> studies -> api/cli.
The notebook API (`netlistgen.generate`, `simulate`, `regress`, ...; see netlistgen.api)
is imported on first use (PEP 562), so `import netlistgen` and `netlistgen --help` stay
light.
"""

__version__ = "0.1.0"

_API = ("GenerateResult", "ModelFit", "MonteCarloRun", "OperatingPointCheck", "PaperReport", "RegressionReport",
        "RunSettings", "Sampling", "SchemeModels", "SimulationRun", "StudyReport", "accuracy", "accuracy_cnn", "check",
        "demo", "fit_model", "generate", "monte_carlo", "options", "paper_report", "plot_transfer", "regress",
        "scheme_models", "simulate", "simulate_many", "snr")


def __getattr__(name: str):
    if name in _API:
        from netlistgen import api

        return getattr(api, name)
    raise AttributeError(f"module 'netlistgen' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_API])
