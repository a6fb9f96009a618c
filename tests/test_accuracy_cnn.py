"""The CNN accuracy study (studies/accuracy_cnn.py, datasets.py, cnn.py): quick mode end to end
on column models fitted to real ngspice, data sets from their packages, CLI errors."""

import json
from dataclasses import asdict, replace

import numpy as np
import pytest

from netlistgen.cli import main
from netlistgen.core.errors import NetlistgenError
from netlistgen.core.jsonio import to_jsonable
from netlistgen.studies import accuracy_cnn as ac
from netlistgen.studies import cnn
from netlistgen.studies.datasets import DATASETS, load_dataset


@pytest.fixture(scope="module")
def fitted(tmp_path_factory, installed):
    """Every scheme's column at R=16 fitted to ngspice (8 cycles, no Monte Carlo)."""
    d = tmp_path_factory.mktemp("models")
    models, where = ac.fit_models(rows=16, spice_cycles=12, mc_samples=0, directory=d / "m", workdir=d / "jobs")
    return models, where


@pytest.mark.parametrize("name,shape", [("digits", (1, 8, 8)), ("mnist", (1, 14, 14)), ("mnist1d", (1, 1, 40))])
def test_datasets_ship_in_packages(name, shape):
    d = load_dataset(name, max_test=100)
    assert d.shape == shape and d.n_classes == 10
    assert len(d.y_test) == 100 and np.bincount(d.y_test).min() >= 9  # stratified
    assert d.non_negative == (name != "mnist1d")
    again = load_dataset(name, max_test=100)
    assert np.array_equal(d.x_test, again.x_test)  # seeded split, generated data deterministic
    assert DATASETS[name].license


def test_mnist1d_does_not_touch_global_rng():
    np.random.seed(5)
    expected = np.random.rand()
    np.random.seed(5)
    load_dataset("mnist1d", max_test=50)
    assert np.random.rand() == expected


def test_folded_network_matches_torch():
    import torch

    data = load_dataset("digits", max_test=50)
    spec = cnn.default_spec((3, 3), image_side=8)
    model = cnn._module(spec, 1, 10)
    torch.manual_seed(0)
    for m in model.modules():  # non-trivial BN statistics
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.2, 0.2)
    model.eval()
    with torch.no_grad():
        ref = model(torch.from_numpy(data.x_test)).double().numpy()
    out = cnn.float_forward(cnn.fold(model), data.x_test)
    assert np.max(np.abs(out - ref)) < 1e-4 * max(1.0, np.max(np.abs(ref)))
    assert [layer.rows for layer in cnn.fold(model).layers][:3] == [9, 8, 9]  # stem, expand, depthwise


@pytest.mark.ngspice
@pytest.mark.slow
def test_quick_study_end_to_end(fitted, tmp_path):
    models, where = fitted
    assert all(m.provenance["rows"] == 16 for m in models.values())
    opts = ac.StudyOptions.quick(noise_variances=(0.03, 1.0, 30.0))
    assert [p for p, _ in opts.policies] == ["stat", "same"]
    doc = ac.run_study(opts, models)
    rows = {r["scheme"]: r for r in doc["results"] if r["adc_policy"] == "stat"}
    same = {r["scheme"]: r for r in doc["results"] if r["adc_policy"] == "same"}
    assert set(rows) == set(same) == {"int4", "int8", "zebra-i", "zebra-ii"}
    float_acc = rows["int8"]["float"]["mean"]
    assert float_acc > 0.85
    # 8-bit clean quantization keeps the float accuracy within 3 points
    assert abs(rows["int8"]["quantized"]["mean"] - float_acc) < 0.03
    # `stat` at R=16: 4-bit (LCC) / 6-bit (ML-LCU) ADC with a one-step LSB
    assert [rows[s]["adc_bits"] for s in ("int4", "int8", "zebra-i", "zebra-ii")] == [4, 4, 6, 6]
    for r in rows.values():
        assert r["adc_lsb_steps"] == 1.0
        assert r["clean"]["mean"] > 0.6  # every scheme well above chance at this design point
        unit = r["noise"]["unit"]
        assert [p["n"] for p in unit] == [2, 2, 2]
        assert r["noise"]["adc-lsb"] == unit  # one-step LSB: the references coincide, identical draws
        # noise does not help: at 0.03 step^2 a scheme is at most 3 points above its clean
        # accuracy (2 noise seeds); it can lose more
        assert unit[0]["mean"] <= r["clean"]["mean"] + 0.03
        # heavy noise (30 step^2 per conversion) costs accuracy
        assert unit[2]["mean"] < unit[0]["mean"] - 0.05
    # `same` at 7 bits over the column's full scale: LSB 2*FS/2^B = LCC 32/128, ZEBRA-I 384/128, ZEBRA-II 192/128
    assert [same[s]["adc_lsb_steps"] for s in ("int8", "zebra-i", "zebra-ii")] == [0.25, 3.0, 1.5]
    assert same["int8"]["clean"] == rows["int8"]["clean"]  # both lossless for an LCC column
    # a 3-step ADC LSB loses what the lossless integer reference keeps
    assert same["zebra-i"]["clean"]["mean"] < same["zebra-i"]["quantized"]["mean"] - 0.02
    # the same variance in ADC LSB^2 is 9x the noise power in step^2 for ZEBRA-I
    assert same["zebra-i"]["noise"]["adc-lsb"][1]["mean"] < same["zebra-i"]["noise"]["unit"][1]["mean"]
    paths = ac.write_study(doc, tmp_path / "out")
    assert set(paths) >= {"json", "markdown", "plot_digits_unit", "plot_digits_adc-lsb"}
    assert paths["plot_digits_unit"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    saved = json.loads(paths["json"].read_text())
    assert saved["results"][0]["noise"]["unit"][0]["variance"] == 0.03
    assert "σ²=0.03" in paths["markdown"].read_text()
    assert len(saved["ordering_at_0.03"]) == 4 and all("seeds' ordering" in v["text"] for v in saved["ordering_at_0.03"])


@pytest.mark.ngspice
def test_cli_uses_saved_models_and_rejects_bad_input(fitted, tmp_path, capsys):
    models, where = fitted
    assert main(["accuracy", "--net", "mobilenet", "--quick", "--models", str(where), "--schemes", "int8",
                 "--noise-var", "0.1", "--train-seeds", "1", "--noise-seeds", "1", "--epochs", "2",
                 "--max-test", "50", "--out", str(tmp_path / "o")]) == 0
    doc = json.loads((tmp_path / "o" / "accuracy_cnn.json").read_text())
    assert doc["options"]["max_test"] == 50 and doc["results"][0]["scheme"] == "int8"
    assert main(["accuracy", "--net", "mobilenet", "--quick", "--models", str(where), "--rows", "32",
                 "--out", str(tmp_path / "bad")]) == 2
    assert "fitted at 16 rows" in capsys.readouterr().err
    assert not (tmp_path / "bad" / "accuracy_cnn.json").exists()
    assert main(["accuracy", "--data", "mnist", "--out", str(tmp_path / "mlp")]) == 2
    assert main(["accuracy", "--net", "mobilenet", "--quick", "--models", str(where), "--train-seeds", "0"]) == 2



@pytest.mark.ngspice
def test_networks_saved_as_they_finish_and_reused(fitted, tmp_path, monkeypatch, capsys):
    """An interrupted study resumes: each network's result is saved when it finishes; a rerun
    reuses intact ones and recomputes a tampered, foreign or unreadable one."""
    models, _ = fitted
    opts = ac.StudyOptions.quick(schemes=("int8",), epochs=1, max_test=20, noise_seeds=1,
                                 noise_variances=(0.1,), compare_variances=(0.1,))
    runs = tmp_path / "runs"
    first = ac.run_study(opts, models, runs_dir=runs)
    saved = runs / "digits-seed0.json"
    assert json.loads(saved.read_text())["run"] == to_jsonable(first["runs"][0])

    def no_training(task):
        raise AssertionError("the saved network should have been reused")

    monkeypatch.setattr(ac, "evaluate_network", no_training)
    again = ac.run_study(opts, models, runs_dir=runs, progress=True)
    assert again["results"] == first["results"]
    assert "1 of 1 networks reused" in capsys.readouterr().out
    key = json.loads(saved.read_text())["key"]
    doc = json.loads(saved.read_text())
    doc["run"]["schemes"]["int8"]["quantized"] = 1.5  # tampered: not an accuracy
    saved.write_text(json.dumps(doc))
    assert ac._saved_run(saved, key, opts, "digits", 0, print) is None
    assert "int8 quantized" in capsys.readouterr().out
    saved.write_text("{not json")
    assert ac._saved_run(saved, key, opts, "digits", 0, print) is None
    other = ac._run_key(ac.StudyOptions.quick(schemes=("int8",), epochs=2, max_test=20, noise_seeds=1,
                                              noise_variances=(0.1,), compare_variances=(0.1,)),
                        "digits", 0, {"int8": models["int8"].to_dict()})
    assert other != key  # another option is another study
    assert ac._run_key(replace(opts, workers=2), "digits", 0, {"int8": models["int8"].to_dict()}) == key
    with pytest.raises(AssertionError, match="reused"):  # the unreadable file is recomputed
        ac.run_study(opts, models, runs_dir=runs)

def test_options_validate():
    with pytest.raises(NetlistgenError, match="'cifar'"):
        ac.StudyOptions(datasets=("cifar",))
    with pytest.raises(NetlistgenError, match="'bogus'"):
        ac.StudyOptions(adc_policy="bogus")
    assert ac.StudyOptions(adc_policy="stat").adc_policy == "stat"  # the macro model's policies
    with pytest.raises(NetlistgenError, match="noise variance"):
        ac.StudyOptions(noise_variances=(0.0,))


def _stored_study(tmp_path, **change):
    """A small stored study built by the real aggregation from synthetic per-network runs."""
    opts = ac.StudyOptions(datasets=("digits",), train_seeds=2, noise_seeds=2, noise_variances=(0.03, 1.0),
                           compare_policies=("same",))
    rng = np.random.default_rng(0)
    bits = {"stat": {"int4": 4, "int8": 4, "zebra-i": 6, "zebra-ii": 6}, "same": dict.fromkeys(ac.SCHEMES, 5)}

    def entry(policy, scheme, variances):
        return {"adc_bits": bits[policy][scheme], "adc_lsb_steps": 1.0, "adc_step_steps": 1.0,
                "clean": 0.9, "noise": {ref: [{"variance": v, "sigma_steps": v ** 0.5,
                                               "values": list(rng.uniform(0.5, 0.9, 2))} for v in variances]
                                        for ref in opts.noise_refs}}

    runs = [{"dataset": "digits", "train_seed": t, "float": 0.95, "schemes": {
        s: {"act_bits": 8, "quantized": 0.94, "policies": {p: entry(p, s, v) for p, v in opts.policies}}
        for s in opts.schemes}} for t in range(2)]
    rows = ac.aggregate(opts, runs)
    doc = {"options": to_jsonable(asdict(opts)), "results": rows, "ordering_at_0.03": ac.ordering_verdicts(opts, rows)}
    doc.update(change)
    path = tmp_path / "accuracy_cnn.json"
    path.write_text(json.dumps(doc))
    macro_doc = {"rows": 16, "adc_model": "walden", "policies": {
        p: {"bits": {**b, "int8-2c": 5}, "schemes": {s: {"tops_per_w": 10.0 * (k + 1)} for k, s in enumerate(b)}}
        for p, b in bits.items()}}
    return path, doc, macro_doc


def test_stored_results_feed_the_paper_report(tmp_path):
    path, doc, macro_doc = _stored_study(tmp_path)
    loaded = ac.load_results(path)
    assert [r["adc_policy"] for r in loaded["results"]] == ["stat"] * 4 + ["same"] * 4
    section = ac.paper_section(loaded, macro_doc)
    assert len(section["points"]) == 8 and len(section["curves"]) == 4
    zi = next(p for p in section["points"] if p["scheme"] == "zebra-i" and p["adc_policy"] == "same")
    row = next(r for r in loaded["results"] if r["scheme"] == "zebra-i" and r["adc_policy"] == "same")
    assert zi["tops_per_w"] == 30.0 and zi["adc_bits"] == 5
    assert zi["accuracy"] == row["noise"]["unit"][0]["mean"]  # the sigma^2 = 0.03 point, mean of 4 draws
    assert row["noise"]["unit"][0]["n"] == 4
    (tmp_path / "plots").mkdir()
    paths = ac.paper_plots(section, tmp_path / "plots")
    assert set(paths) == {"accuracy_cnn_digits", "accuracy_tops"}
    assert all(p.read_bytes()[:4] == b"\x89PNG" for p in paths.values())
    assert any("| digits | same | zebra-i | 5 | 30.0 |" in line for line in ac.paper_markdown(section))
    # not one design point: the study's ADC bits differ from the macro model's
    macro_doc["policies"]["same"]["bits"]["zebra-i"] = 7
    with pytest.raises(NetlistgenError, match="zebra-i at policy same used a 5-bit ADC, the macro model 7 bits"):
        ac.paper_section(loaded, macro_doc)
    with pytest.raises(NetlistgenError, match="R=16, the macro at R=32"):
        ac.paper_section(loaded, {**macro_doc, "rows": 32})


@pytest.mark.parametrize("change,message", [
    ({"results": []}, "non-empty list"),
    ({"options": {"datasets": ["cifar"]}}, "'cifar'"),
    ({"options": {"bogus": 1}}, "not a StudyOptions object"),
])
def test_stored_results_rejected(tmp_path, change, message):
    path, _, _ = _stored_study(tmp_path, **change)
    with pytest.raises(NetlistgenError, match=message):
        ac.load_results(path)


def test_stored_results_field_checks(tmp_path, capsys):
    path, doc, _ = _stored_study(tmp_path)
    doc["results"][2]["noise"]["unit"][1]["mean"] = 1.5
    path.write_text(json.dumps(doc))
    with pytest.raises(NetlistgenError, match=r"results\[2\] noise 'unit' mean"):
        ac.load_results(path)
    path.write_text("{not json")
    with pytest.raises(NetlistgenError, match="not readable JSON"):
        ac.load_results(path)
    # report paper refuses a bad file before simulating anything
    assert main(["report", "paper", "--accuracy-results", str(path), "--out", str(tmp_path / "p")]) == 2
    assert "not readable JSON" in capsys.readouterr().err
    assert not (tmp_path / "p" / "paper.json").exists()
