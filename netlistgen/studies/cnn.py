"""A small MobileNetV2-style CNN: trained with PyTorch, run in numpy with BN folded.

Topology (Sandler et al. 2018, scaled down): a 3x3 stem convolution, then inverted
residual blocks - 1x1 expansion (ReLU6), depthwise 3x3 (ReLU6), 1x1 linear projection,
with a skip connection when the shape allows - then global average pooling and a
fully connected classifier. One-dimensional signals use the same code with H = 1 and
a 1x9 kernel, so a depthwise column still sums 9 rows.

PyTorch is an optional extra (`pip install 'netlistgen[nn]'`, torch==2.13.0, CPU) used
only to train; inference - float, integer reference and compute-in-memory - is numpy
on the folded network (`FoldedNet`), so the CIM path never depends on torch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from netlistgen.core import validate
from netlistgen.core.errors import NetlistgenError

RELU6_MAX = 6.0


@dataclass(frozen=True)
class BlockSpec:
    """One inverted residual block: expansion ratio, output channels, stride."""

    expand: int
    out_ch: int
    stride: int

    def __post_init__(self) -> None:
        validate.integer(self.expand, "expand", minimum=1, maximum=16)
        validate.integer(self.out_ch, "out_ch", minimum=1, maximum=1024)
        validate.integer(self.stride, "stride", minimum=1, maximum=2)


@dataclass(frozen=True)
class CnnSpec:
    """Stem channels and stride, the blocks, and the spatial kernel (3x3 or 1xk)."""

    stem_ch: int
    stem_stride: int
    blocks: tuple[BlockSpec, ...]
    kernel: tuple[int, int] = (3, 3)

    def __post_init__(self) -> None:
        validate.integer(self.stem_ch, "stem_ch", minimum=1, maximum=1024)
        validate.integer(self.stem_stride, "stem_stride", minimum=1, maximum=2)
        if len(self.kernel) != 2 or any(k < 1 or k % 2 == 0 for k in self.kernel):
            raise NetlistgenError(f"invalid kernel {self.kernel!r}: two odd sizes >= 1")


def default_spec(kernel: tuple[int, int] = (3, 3), *, image_side: int = 14) -> CnnSpec:
    """Width 8-24, three blocks (one with a skip): trains in well under a minute per seed
    on one core and keeps the CIM forward (every bit column of every conversion) tractable."""
    stride = 2 if image_side > 8 else 1
    return CnnSpec(8, stride, (BlockSpec(2, 16, 1), BlockSpec(2, 16, 1), BlockSpec(2, 24, 2)), kernel)


@dataclass(frozen=True)
class ConvLayer:
    """A BN-folded convolution: weight (out, in/groups, kh, kw), bias (out,)."""

    name: str
    weight: np.ndarray
    bias: np.ndarray
    stride: tuple[int, int]
    depthwise: bool
    relu6: bool

    @property
    def padding(self) -> tuple[int, int]:
        return (self.weight.shape[2] // 2, self.weight.shape[3] // 2)

    @property
    def rows(self) -> int:
        """Rows a weight column sums: in_ch*kh*kw (full) or kh*kw (depthwise)."""
        return int(np.prod(self.weight.shape[1:]))


@dataclass(frozen=True)
class Block:
    expand: ConvLayer
    depthwise: ConvLayer
    project: ConvLayer
    residual: bool


@dataclass(frozen=True)
class FoldedNet:
    stem: ConvLayer
    blocks: tuple[Block, ...]
    fc: ConvLayer  # a 1x1 convolution on the pooled (N, C, 1, 1) tensor

    @property
    def layers(self) -> tuple[ConvLayer, ...]:
        return (self.stem, *(layer for b in self.blocks for layer in (b.expand, b.depthwise, b.project)), self.fc)


# ----------------------------------------------------------------------------- numpy inference


def patches(x: np.ndarray, layer: ConvLayer) -> np.ndarray:
    """im2col: (N, Ho, Wo, C, kh*kw) windows of x (N, C, H, W), zero padded ("same")."""
    kh, kw = layer.weight.shape[2:]
    ph, pw = layer.padding
    sh, sw = layer.stride
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    win = np.lib.stride_tricks.sliding_window_view(xp, (kh, kw), axis=(2, 3))[:, :, ::sh, ::sw]
    n, c, ho, wo = win.shape[:4]
    return win.reshape(n, c, ho, wo, kh * kw).transpose(0, 2, 3, 1, 4)


def float_conv(layer: ConvLayer, x: np.ndarray) -> np.ndarray:
    """Reference convolution of the folded layer (pre-activation), (N, out, Ho, Wo)."""
    p = patches(x, layer)
    n, ho, wo, c, k = p.shape
    if layer.depthwise:
        out = np.einsum("nhwck,ck->nchw", p, layer.weight.reshape(c, k))
    else:
        out = (p.reshape(n * ho * wo, c * k) @ layer.weight.reshape(layer.weight.shape[0], -1).T)
        out = out.reshape(n, ho, wo, -1).transpose(0, 3, 1, 2)
    return out + layer.bias[None, :, None, None]


Conv = Callable[[int, ConvLayer, np.ndarray], np.ndarray]


def run(net: FoldedNet, x: np.ndarray, conv: Conv) -> np.ndarray:
    """Walk the topology with `conv(index, layer, x) -> pre-activation output`; returns logits.

    One walker for the float, integer-reference and CIM forwards, so they cannot
    disagree on structure (activations, skips, pooling)."""
    def apply(k: int, layer: ConvLayer, h: np.ndarray) -> np.ndarray:
        out = conv(k, layer, h)
        return np.clip(out, 0.0, RELU6_MAX) if layer.relu6 else out

    k = 0
    h = apply(k, net.stem, x)
    for b in net.blocks:
        inp = h
        for layer in (b.expand, b.depthwise, b.project):
            k += 1
            h = apply(k, layer, h)
        if b.residual:
            h = h + inp
    pooled = h.mean(axis=(2, 3), keepdims=True)
    return apply(k + 1, net.fc, pooled)[:, :, 0, 0]


def float_forward(net: FoldedNet, x: np.ndarray) -> np.ndarray:
    return run(net, np.asarray(x, dtype=np.float64), lambda _k, layer, h: float_conv(layer, h))


def layer_inputs(net: FoldedNet, x: np.ndarray) -> list[np.ndarray]:
    """The float input of every conv layer (for activation-scale calibration)."""
    seen: list[np.ndarray] = []

    def conv(_k: int, layer: ConvLayer, h: np.ndarray) -> np.ndarray:
        seen.append(h)
        return float_conv(layer, h)

    run(net, np.asarray(x, dtype=np.float64), conv)
    return seen


# ----------------------------------------------------------------------------- training (torch)


@dataclass(frozen=True)
class TrainOptions:
    epochs: int = 12
    batch: int = 64
    lr: float = 3e-3
    weight_decay: float = 1e-4

    def __post_init__(self) -> None:
        validate.integer(self.epochs, "epochs", minimum=1, maximum=1000)
        validate.integer(self.batch, "batch", minimum=1, maximum=65536)
        validate.number(self.lr, "lr", minimum=0.0, exclusive_minimum=True)
        validate.number(self.weight_decay, "weight_decay", minimum=0.0)


def _torch():
    try:
        import torch
    except ImportError:
        raise NetlistgenError("training the CNN needs PyTorch: pip install 'netlistgen[nn]' (torch==2.13.0)") from None
    torch.set_num_threads(1)  # the machines are shared; the network is tiny
    return torch


def _module(spec: CnnSpec, in_ch: int, n_classes: int):
    torch = _torch()
    nn = torch.nn
    kh, kw = spec.kernel
    pad = (kh // 2, kw // 2)

    def cbr(cin, cout, stride, groups, relu, kernel=(kh, kw), padding=pad):
        layers = [nn.Conv2d(cin, cout, kernel, stride, padding, groups=groups, bias=False), nn.BatchNorm2d(cout)]
        return nn.Sequential(*layers, *([nn.ReLU6()] if relu else []))

    class InvertedResidual(nn.Module):
        def __init__(self, cin: int, b: BlockSpec):
            super().__init__()
            hid = cin * b.expand
            self.residual = b.stride == 1 and cin == b.out_ch
            self.stride = (b.stride, b.stride) if kh > 1 else (1, b.stride)
            self.expand = cbr(cin, hid, 1, 1, True, (1, 1), (0, 0))
            self.dw = cbr(hid, hid, self.stride, hid, True)
            self.project = cbr(hid, b.out_ch, 1, 1, False, (1, 1), (0, 0))

        def forward(self, x):
            y = self.project(self.dw(self.expand(x)))
            return x + y if self.residual else y

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            stem_stride = (spec.stem_stride, spec.stem_stride) if kh > 1 else (1, spec.stem_stride)
            self.stem = cbr(in_ch, spec.stem_ch, stem_stride, 1, True)
            blocks, cin = [], spec.stem_ch
            for b in spec.blocks:
                blocks.append(InvertedResidual(cin, b))
                cin = b.out_ch
            self.blocks = nn.Sequential(*blocks)
            self.fc = nn.Linear(cin, n_classes)

        def forward(self, x):
            return self.fc(self.blocks(self.stem(x)).mean(dim=(2, 3)))

    return Net()


def _fold(name: str, seq, relu6: bool, depthwise: bool) -> ConvLayer:
    conv, bn = seq[0], seq[1]
    w = conv.weight.detach().double().numpy()
    g = (bn.weight / (bn.running_var + bn.eps).sqrt()).detach().double().numpy()
    b = (bn.bias - bn.running_mean * bn.weight / (bn.running_var + bn.eps).sqrt()).detach().double().numpy()
    return ConvLayer(name, w * g[:, None, None, None], b, tuple(conv.stride), depthwise, relu6)


def fold(module) -> FoldedNet:
    """BatchNorm folded into each convolution's weight and bias (eval statistics)."""
    blocks = tuple(Block(_fold(f"b{i}.expand", m.expand, True, False), _fold(f"b{i}.dw", m.dw, True, True),
                         _fold(f"b{i}.project", m.project, False, False), m.residual)
                   for i, m in enumerate(module.blocks))
    fc = module.fc
    w = fc.weight.detach().double().numpy()[:, :, None, None]
    return FoldedNet(_fold("stem", module.stem, True, False), blocks,
                     ConvLayer("fc", w, fc.bias.detach().double().numpy(), (1, 1), False, False))


@dataclass(frozen=True)
class Trained:
    net: FoldedNet
    float_accuracy: float  # of the folded numpy network on the test split
    seed: int
    train_s: float  # CPU seconds spent training


def train(data, spec: CnnSpec, *, seed: int = 0, options: TrainOptions = TrainOptions()) -> Trained:
    """Seeded Adam training on the CPU (one thread), then BN folding."""
    import time

    torch = _torch()
    seed = validate.integer(seed, "seed", minimum=0)
    t0 = time.process_time()
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    model = _module(spec, data.shape[0], data.n_classes)
    opt = torch.optim.AdamW(model.parameters(), lr=options.lr, weight_decay=options.weight_decay)
    x = torch.from_numpy(np.ascontiguousarray(data.x_train, dtype=np.float32))
    y = torch.from_numpy(data.y_train)
    steps = options.epochs * -(-len(y) // options.batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=options.lr, total_steps=steps)
    model.train()
    for _ in range(options.epochs):
        order = torch.randperm(len(y), generator=gen)
        for i in range(0, len(y), options.batch):
            idx = order[i:i + options.batch]
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
            sched.step()
    model.eval()
    net = fold(model)
    acc = float(np.mean(np.argmax(float_forward(net, data.x_test), axis=1) == data.y_test))
    return Trained(net, acc, seed, time.process_time() - t0)
