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


# ------------------------------------------------------------------ check, mc, studies, model

NO_CACHE = api.RunSettings(cache=False, progress=False)


@pytest.mark.ngspice
def test_check_reports_outputs_at_vcm(tmp_path, installed):
    gen = api.generate(scheme="int4", rows=2, cols=1, out=str(tmp_path / "g"))
    res = api.check(tmp_path / "g", run=NO_CACHE)
    assert res.complete and len(res.outputs) == gen.spec.bit_cols == 3  # int4: 3 GBLs per weight column
    assert res.vcm_v == pytest.approx(gen.netlist.design.vcm_v)
    assert 0 <= res.worst_v < 0.005 and res.passed and not res.cached
    assert res.summary().startswith("PASS: 3 outputs, max |V - VCM| = ")
    strict = api.check(tmp_path / "g", tolerance_v=0.0, run=NO_CACHE)
    assert strict.worst_v == pytest.approx(res.worst_v) and strict.passed == (res.worst_v == 0.0)
    with pytest.raises(NetlistgenError, match="has no manifest.json"):
        api.check(tmp_path / "nothing-here")
    with pytest.raises(NetlistgenError, match="invalid tolerance-v 'x'"):
        api.check(tmp_path / "g", tolerance_v="x")


@pytest.mark.ngspice
def test_check_deck_has_params_and_an_older_directory_still_checks(tmp_path, installed):
    """The check deck declares op.json's level params ({vdd_v} on the rails); a directory
    written before that record runs with plain numbers and gives the same outputs."""
    import json

    api.generate(scheme="zebra-i", rows=2, cols=1, out=str(tmp_path / "g"))
    new = api.check(tmp_path / "g", run=NO_CACHE)
    deck = (tmp_path / "g" / "jobs" / "check" / "op.sp").read_text()
    assert ".param vdd_v=1" in deck and " {vdd_v}" in deck and new.passed
    op_json = tmp_path / "g" / "op.json"
    op_json.write_text(json.dumps({k: v for k, v in json.loads(op_json.read_text()).items() if k != "params"}))
    old = api.check(tmp_path / "g", run=NO_CACHE)
    deck = (tmp_path / "g" / "jobs" / "check" / "op.sp").read_text()
    assert ".param" not in deck and "{" not in deck and old.passed
    assert old.outputs.keys() == new.outputs.keys()
    assert max(abs(old.outputs[k] - new.outputs[k]) for k in new.outputs) < 1e-9


@pytest.mark.ngspice
def test_monte_carlo_returns_distributions(tmp_path, installed):
    lines: list[str] = []
    mc = api.monte_carlo(scheme="int4", rows=2, cols=1, schemes="int4,zebra-i", n=2, base_seed=5, cycles=4,
                         out=tmp_path / "mc", run=NO_CACHE, log=lines.append)
    assert mc.passed and lines == ["Monte Carlo: int4, zebra-i x 2 samples ..."]
    summary = mc.summary()
    assert set(summary) == {"int4", "zebra-i"}
    gains = [s.metrics["gain_mv_per_lsb"] for s in mc.result.samples["int4"]]
    assert len(gains) == 2 and gains[0] != gains[1]  # two mismatch draws
    assert summary["int4"]["gain_mv_per_lsb"]["mean"] == pytest.approx(sum(gains) / 2)
    assert "| int4 | 2 |" in mc.table()
    assert json.loads(mc.paths["summary"].read_text())["summary"]["int4"]["gain_mv_per_lsb"]["min"] == min(gains)
    for kw, needle in (({"sample": 2}, "invalid sample 2"), ({"schemes": "int4,int4"}, "distinct"),
                       ({"vt_scale": "big"}, "invalid vt-scale")):
        with pytest.raises(NetlistgenError, match=needle):
            api.monte_carlo(scheme="int4", rows=2, cols=1, n=2, out=tmp_path / "bad", **kw)
    assert not (tmp_path / "bad").exists()


@pytest.fixture()
def saved_models(tmp_path):
    from netlistgen.analysis.behavioral import ideal_model, save_models

    save_models({s: ideal_model(s, rows=16, gain_v_per_lsb=3e-3, noise_sigma_v=2e-4) for s in ("int4", "zebra-i")},
                tmp_path / "models")
    return tmp_path / "models"


def test_scheme_models_load_a_directory(saved_models):
    got = api.scheme_models(["zebra-i"], models_dir=saved_models)
    assert list(got.models) == ["zebra-i"] and got.fits == {} and got.directory == saved_models
    assert got.models["zebra-i"].rows == 16
    with pytest.raises(NetlistgenError):
        api.scheme_models(["zebra-ii"], models_dir=saved_models)  # no zebra-ii.json there


def test_snr_study_from_saved_models(tmp_path, saved_models):
    rep = api.snr(["int4", "zebra-i"], models_dir=saved_models, noise_v=["0", "1e-3"], cycles=100,
                  out=tmp_path / "snr")
    sweep = rep.doc["sweep"]
    assert set(sweep) == {"int4", "zebra-i"} and rep.doc["spice"] == {}
    noisy = [p for p in sweep["zebra-i"] if p.get("noise_v") == pytest.approx(1e-3) and p["label"] != "kT/C"]
    clean = [p for p in sweep["zebra-i"] if p["label"] == "0 V"]
    assert noisy[0]["dot_snr_db"] < clean[0]["dot_snr_db"]  # injected noise costs SNR
    assert "| zebra-i | behavioural | 0.001 V |" in rep.table()
    assert json.loads(rep.paths["json"].read_text())["rows"] == 16
    with pytest.raises(NetlistgenError, match="invalid adc-bits '99'"):
        api.snr(models_dir=saved_models, adc_bits="99", out=tmp_path / "bad")
    assert not (tmp_path / "bad").exists()  # refused before anything ran


def test_accuracy_study_from_saved_models(tmp_path, saved_models):
    rep = api.accuracy(["int4"], models_dir=saved_models, noise_var=["0.03", "30"], seeds=1, hidden=16,
                       out=tmp_path / "acc")
    (row,) = rep.doc["results"]
    assert row["scheme"] == "int4" and 0.5 < row["float"] <= 1.0
    assert row["noise"][1]["mean"] < row["behavioural_clean"]  # 30 LSB^2 of noise costs accuracy
    assert "int4" in rep.table() and rep.paths["json"].is_file()
    with pytest.raises(NetlistgenError, match="invalid noise-var '-1'"):
        api.accuracy(["int4"], models_dir=saved_models, noise_var=["-1"], out=tmp_path / "bad")


def test_accuracy_cnn_rejects_mixed_options(saved_models):
    from netlistgen.studies.accuracy_cnn import StudyOptions

    with pytest.raises(NetlistgenError, match="either a StudyOptions or its fields"):
        api.accuracy_cnn(StudyOptions.quick(), epochs=2, models_dir=saved_models)
    with pytest.raises(NetlistgenError, match="unknown data set 'imagenet'"):
        api.accuracy_cnn(datasets=("imagenet",), models_dir=saved_models)


@pytest.mark.ngspice
def test_fit_model_exports_json(tmp_path, installed):
    fit = api.fit_model("int4", rows=4, cycles=16, out=tmp_path / "m.json")
    assert fit.path == tmp_path / "m.json" and json.loads(fit.path.read_text())["scheme"] == "int4"
    lines = fit.column_lines()
    assert len(lines) == len(fit.model.columns) == 3 and lines[0].startswith("column 0 (2^")
    assert all(0.5 < c.gain_v_per_lsb * 1e3 < 100 for c in fit.model.columns)
    with pytest.raises(NetlistgenError, match="invalid rows 0"):
        api.fit_model("int4", rows=0, out=tmp_path / "bad.json")
