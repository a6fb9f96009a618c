"""CIM forward of the folded CNN (studies/cim.py): exactness, ADC bits, noise, mismatch."""

import numpy as np
import pytest

from netlistgen.analysis.behavioral import ideal_model
from netlistgen.core.errors import NetlistgenError
from netlistgen.studies import cim
from netlistgen.studies.cnn import Block, ConvLayer, FoldedNet, float_forward

SCHEMES = ("int4", "int8", "zebra-i", "zebra-ii")


def _layer(rng, name, out, cin, k, stride=1, depthwise=False, relu6=True):
    w = rng.normal(scale=0.5, size=(out, 1 if depthwise else cin, k[0], k[1]))
    return ConvLayer(name, w, rng.normal(scale=0.1, size=out), (stride, stride), depthwise, relu6)


def tiny_net(seed=0, kernel=(3, 3)):
    """Stem 1->4, one inverted residual block 4->8->4 with a skip, fc 4->3."""
    rng = np.random.default_rng(seed)
    block = Block(_layer(rng, "e", 8, 4, (1, 1)), _layer(rng, "d", 8, 8, kernel, depthwise=True),
                  _layer(rng, "p", 4, 8, (1, 1), relu6=False), True)
    return FoldedNet(_layer(rng, "stem", 4, 1, kernel), (block,), _layer(rng, "fc", 3, 4, (1, 1), relu6=False))


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("rows", [3, 64])
def test_ideal_lossless_noiseless_equals_integer_reference(scheme, rows):
    net = tiny_net()
    x = np.random.default_rng(1).normal(size=(6, 1, 6, 6))  # signed input: two's complement / balanced digits
    model = ideal_model(scheme, rows=rows, gain_v_per_lsb=2e-3, offset_v=0.01)
    cn = cim.CimNet(net, model, x, rows=rows)
    column = cim.Column.of(model, cim.adc_bits("lossless", scheme, rows), rows, ideal=True)
    assert column.lsb == 1.0
    assert len(cn.layers[0].chunks) == (3 if rows == 3 else 1)  # 9 stem rows split into chunks of R
    h = x
    for k, cl in enumerate(cn.layers[:-1]):
        ref_acc, ref_out = cn.int_conv(k, h)
        acc, out = cn.cim_conv(k, h, column)
        assert np.array_equal(acc, ref_acc.astype(float)), f"layer {cl.layer.name}"
        assert np.array_equal(out, ref_out)
        h = np.clip(ref_out, 0, 6) if cl.layer.relu6 else ref_out
    assert np.array_equal(cn.logits(x, column), cn.logits(x))
    # the quantized network is close to the float one (8-bit) but not identical
    if scheme == "int8":
        assert np.max(np.abs(cn.logits(x) - float_forward(net, x))) < 0.1 * np.max(np.abs(float_forward(net, x)))


def test_one_dimensional_kernel_exact():
    net = tiny_net(2, kernel=(1, 9))
    x = np.random.default_rng(3).normal(size=(4, 1, 1, 20))
    model = ideal_model("zebra-ii", rows=16)
    cn = cim.CimNet(net, model, x, rows=16)
    assert cn.layers[2].layer.rows == 9  # the depthwise column keeps its 9 rows
    column = cim.Column.of(model, cim.adc_bits("lossless", "zebra-ii", 16), 16, ideal=True)
    assert np.array_equal(cn.logits(x, column), cn.logits(x))


def test_adc_bits_come_from_the_macro_model():
    # lossless levels: LCC 2R+1 (sign-magnitude column), ZEBRA-I 24R+1, ZEBRA-II 12R+1
    assert cim.adc_bits("lossless", "int8", 64) == 8
    assert cim.adc_bits("lossless", "zebra-i", 64) == 11
    assert cim.adc_bits("lossless", "zebra-ii", 64) == 10
    assert cim.adc_bits("same", "zebra-i", 16) == cim.adc_bits("same", "int8", 16) == 5  # the LCC's R+1 levels
    assert cim.adc_bits("same", "zebra-i", 64, bits=6) == 6
    assert "stat" in cim.adc_policies()
    with pytest.raises(NetlistgenError, match="'bogus'"):
        cim.adc_bits("bogus", "int8", 64)


def test_lossy_adc_and_noise_change_results():
    net = tiny_net()
    x = np.random.default_rng(1).normal(size=(6, 1, 6, 6))
    model = ideal_model("zebra-i", rows=64)
    cn = cim.CimNet(net, model, x, rows=64)
    lossy = cim.Column.of(model, 6, 64, ideal=True)
    assert lossy.lsb == lossy.fs_lsb == pytest.approx(2 * 768 / 64)
    exact = cim.Column.of(model, 11, 64, ideal=True)
    assert exact.fs_lsb == pytest.approx(1536 / 2048) and exact.lsb == 1.0
    ref = cn.int_conv(0, x)[0]
    coarse = cn.cim_conv(0, x, lossy)[0]
    assert not np.array_equal(coarse, ref)
    noisy = cn.cim_conv(0, x, exact, noise_y=1.0, rng=np.random.default_rng(0))[0]
    err = noisy - ref
    # zebra-i: 4 bit columns (weights 2^base = 1, 2, 4, 8), 4 input cycles (1, 7, 49, 343):
    # per-conversion noise sigma 1 rounds to integers; the error is nonzero and bounded
    assert np.std(err) > 10
    assert np.max(np.abs(err)) < 1e5
    same = cn.cim_conv(0, x, exact, noise_y=1.0, rng=np.random.default_rng(0))[0]
    assert np.array_equal(noisy, same)  # seeded


def test_mismatch_draws_per_physical_column():
    net = tiny_net()
    x = np.random.default_rng(1).normal(size=(2, 1, 6, 6))
    model = ideal_model("int8", rows=64)
    cn = cim.CimNet(net, model, x, rows=64)
    assert cn.draw_mismatch(np.random.default_rng(0)) is None
    import dataclasses

    mm_model = dataclasses.replace(model, mismatch={"gain_rel_std": 0.01, "offset_std_v": 1e-3})
    cn = cim.CimNet(net, mm_model, x, rows=64)
    mm = cn.draw_mismatch(np.random.default_rng(0))
    assert [len(m) for m in mm] == [len(cl.chunks) for cl in cn.layers]
    g, o = mm[2][0]  # depthwise: one physical column per channel
    assert g.shape == (8, 7) and abs(float(np.std(g)) - 0.01) < 0.005
    assert abs(float(np.std(o)) - 1e-3 / 1e-3) < 0.5  # 1 mV at 1 mV per step = 1 step
