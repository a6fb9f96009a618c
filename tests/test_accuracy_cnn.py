"""The CNN accuracy study (studies/accuracy_cnn.py, datasets.py, cnn.py): quick mode end to end
on column models fitted to real ngspice, data sets from their packages, CLI errors."""

import json

import numpy as np
import pytest

from netlistgen.cli import main
from netlistgen.core.errors import NetlistgenError
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


def test_options_validate():
    with pytest.raises(NetlistgenError, match="'cifar'"):
        ac.StudyOptions(datasets=("cifar",))
    with pytest.raises(NetlistgenError, match="'bogus'"):
        ac.StudyOptions(adc_policy="bogus")
    assert ac.StudyOptions(adc_policy="stat").adc_policy == "stat"  # the macro model's policies
    with pytest.raises(NetlistgenError, match="noise variance"):
        ac.StudyOptions(noise_variances=(0.0,))
