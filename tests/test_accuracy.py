"""Cross-level accuracy: input cycles, the quantized network through behavioural columns,
noise, and the accuracy command."""

from __future__ import annotations

import json

import numpy as np
import pytest

from netlistgen.studies.accuracy import SchemeNet, evaluate, input_digits, train_network
from netlistgen.analysis.behavioral import ideal_model, save_models
from netlistgen.cli import main


@pytest.fixture(scope="module")
def net():
    return train_network(hidden=16, seed=0)


def test_input_cycles_reconstruct_every_value():
    a = np.arange(256)
    bits, w = input_digits(a, "lcc", 1, 8)
    assert bits.shape == (8, 256) and set(np.unique(bits)) == {0, 1}
    assert np.array_equal(np.tensordot(w, bits, axes=1), a)
    digits, w = input_digits(a, "mllcu", 3, 8)
    # Balanced base-7 digits: 4 cycles cover 0..255 (3 reach only 171).
    assert digits.shape == (4, 256) and digits.min() == -3 and digits.max() == 3
    assert np.array_equal(np.tensordot(w, digits, axes=1), a)
    assert input_digits(np.arange(16), "mllcu", 3, 4)[0].shape[0] == 2


def test_float_and_quantized_accuracy(net):
    assert net.float_accuracy > 0.9
    model = ideal_model("int8", rows=64, gain_v_per_lsb=1e-2)
    sn = SchemeNet(net, model, adc_bits=None)
    ideal = np.mean(sn.predict(net.x_test, ideal=True) == net.y_test)
    # A linear noiseless column without an ADC is the quantized network exactly.
    assert np.array_equal(sn.predict(net.x_test), sn.predict(net.x_test, ideal=True))
    assert abs(ideal - net.float_accuracy) < 0.02


def test_noise_and_tiling_lower_accuracy(net):
    """16-row columns tile the 64 inputs; big noise ruins accuracy, seeds repeat."""
    model = ideal_model("zebra-i", rows=16, gain_v_per_lsb=4e-3)
    sn = SchemeNet(net, model, adc_bits=8)
    assert len(sn.layers[0].tiles) == 4 and len(sn.layers[1].tiles) == 1
    clean = np.mean(sn.predict(net.x_test) == net.y_test)
    noisy = [np.mean(sn.predict(net.x_test, noise_v=5e-2, rng=np.random.default_rng(s)) == net.y_test)
             for s in (1, 1, 2)]
    assert clean > 0.9
    assert noisy[0] == noisy[1]
    assert max(noisy) < clean - 0.2


def test_accuracy_command_with_saved_models(tmp_path, net):
    models = {s: ideal_model(s, rows=64, gain_v_per_lsb=3e-3, noise_sigma_v=1e-4) for s in ("int4", "zebra-ii")}
    doc = evaluate(models, noise_lsb_var=(0.03, 30.0), seeds=2, net=net)
    rows = {r["scheme"]: r for r in doc["results"]}
    assert rows["int4"]["act_bits"] == 4 and rows["zebra-ii"]["act_bits"] == 8
    for r in rows.values():
        assert len(r["noise"][0]["values"]) == 2
        assert r["noise"][1]["mean"] < r["behavioural_clean"]
    save_models(models, tmp_path / "models")
    out = tmp_path / "acc"
    rc = main(["accuracy", "--models", str(tmp_path / "models"), "--schemes", "int4", "zebra-ii",
               "--seeds", "1", "--noise-var", "0.03", "--hidden", "16", "--out", str(out)])
    assert rc == 0
    saved = json.loads((out / "accuracy.json").read_text())
    assert [r["scheme"] for r in saved["results"]] == ["int4", "zebra-ii"]
    assert "±" in (out / "accuracy.md").read_text()
    assert (out / "accuracy.png").stat().st_size > 1000
    assert main(["accuracy", "--models", str(tmp_path / "models"), "--schemes", "int4", "--noise-var", "-1",
                 "--out", str(out)]) == 2


def test_mismatch_draws_are_static_per_seed(net):
    import dataclasses

    base = ideal_model("zebra-i", rows=64, gain_v_per_lsb=4e-3)
    model = dataclasses.replace(base, mismatch={"gain_rel_std": 0.3, "offset_std_v": 4e-3, "n_samples": 10,
                                                "source": "test"})
    sn = SchemeNet(net, model, adc_bits=None)
    clean = np.mean(sn.predict(net.x_test) == net.y_test)
    a = sn.predict(net.x_test, mismatch_rng=np.random.default_rng(1))
    assert np.array_equal(a, sn.predict(net.x_test, mismatch_rng=np.random.default_rng(1)))
    assert not np.array_equal(a, sn.predict(net.x_test, mismatch_rng=np.random.default_rng(2)))
    assert np.mean(a == net.y_test) < clean
