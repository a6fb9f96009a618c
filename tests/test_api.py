"""The notebook API (netlistgen.api): the README example runs as written, result objects
carry real numbers and plots, bad settings fail before anything is written."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import netlistgen
from netlistgen import api
from netlistgen.core.errors import NetlistgenError

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_example() -> str:
    text = README.read_text()
    section = text[text.index("## Python API"):]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_lazy_attributes_are_the_api():
    assert set(netlistgen._API) == set(api.__all__)
    assert netlistgen.simulate is api.simulate and netlistgen.RunSettings is api.RunSettings
    with pytest.raises(AttributeError):
        netlistgen.no_such_function  # noqa: B018


@pytest.mark.ngspice
def test_readme_example_runs(tmp_path, monkeypatch, installed):
    monkeypatch.chdir(tmp_path)
    ns: dict = {}
    exec(compile(readme_example(), "README.md", "exec"), ns)  # noqa: S102 - the documented example
    run, report = ns["run"], ns["report"]
    assert run.labels == ["zebra-i-4x1"] and run.passed
    assert 0.5 < run.metric("gain_mv_per_lsb") < 50
    assert run.metric("snr_db") > 20
    assert run.metric("cycles") == 8
    assert "| zebra-i-4x1 |" in run.table()
    svg = (tmp_path / "out/nb/transfer.svg").read_text()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    doc = json.loads(run.to_json())
    assert doc["results"][0]["snr_db"] == pytest.approx(run.metric("snr_db"))
    on_disk = json.loads((tmp_path / "out/nb/results.json").read_text())
    assert on_disk == doc
    assert (tmp_path / "out/nb/transfer.png").stat().st_size > 1000  # the report's own plots
    assert report.passed and [c["name"] for c in report.cases] == ["mlsiu-sweep-ptm45"]
    assert (tmp_path / "out/nb-regress/junit.xml").is_file()


@pytest.mark.ngspice
def test_simulate_without_plots_and_residual_plot(tmp_path, installed):
    run = api.simulate(scheme="int4", rows=2, cols=1, cycles=6, energy_cycles=2, out=tmp_path / "o",
                       plots=False, run=api.RunSettings(cache=False, progress=False))
    assert set(run.paths) == {"json", "markdown", "samples", "html"}
    assert not (tmp_path / "o/transfer.png").exists()
    assert run.metric("energy_per_op_fj") > 0 and run.metric("tops_per_w") > 0
    assert set(run.results) == {"int4-2x1", "int4-2x1-energy"}
    path = run.plot_residual(tmp_path / "r.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(NetlistgenError, match="no metric 'nope'"):
        run.metric("nope")


def test_generate_returns_netlist_and_files(tmp_path, installed):
    res = api.generate(scheme="zebra-ii", rows=4, cols=2, out=str(tmp_path / "g"))
    assert res.spec.bit_cols == 8 and len(res.content_hash) == 64
    assert {p.name for p in res.paths.values()} >= {"array.sp", "op.sp", "manifest.json"}
    assert res.summary().startswith("generated 4x2 mllcu array (zebra-ii")
    with pytest.raises(NetlistgenError, match="either a GenerateOptions or option fields"):
        api.generate(api.options(rows=4), rows=8)


@pytest.mark.parametrize("kw,needle", [
    ({"workers": 0}, "invalid jobs 0"),
    ({"backend": "spectre"}, "unknown backend 'spectre'"),
    ({"executor": "slurm"}, "unknown executor 'slurm'"),
    ({"timeout_s": "soon"}, "invalid timeout 'soon'"),
    ({"cache": False, "cache_dir": "/tmp/x"}, "contradict"),
])
def test_run_settings_reject_bad_values(kw, needle):
    with pytest.raises(NetlistgenError, match=needle):
        api.RunSettings(**kw)


def test_settings_parse_cli_strings():
    assert api.RunSettings(workers="3", timeout_s="60").workers == 3
    assert api.Sampling("10", "0", "7") == api.Sampling(10, 0, 7)
    with pytest.raises(NetlistgenError, match="invalid energy-cycles '-1'"):
        api.Sampling(energy_cycles="-1")


def test_bad_output_directory_writes_nothing(tmp_path, installed):
    out = tmp_path / "bad dir;shell"
    with pytest.raises(NetlistgenError, match="output directory"):
        api.simulate(scheme="zebra-i", rows=2, cols=1, cycles=4, out=out)
    assert not out.exists()
