"""Compute-in-memory forward of a folded CNN through a scheme's behavioural column.

Per convolution (SPEC sections 2 and 5a):

1. the layer input is quantized to `act_bits` integers on a scale calibrated on training
   images (unsigned after ReLU6 and for non-negative pixels, symmetric signed after a
   linear projection or a skip), and split into input cycles (bits for the LCC, two's
   complement when signed; balanced base-(2L+1) digits for the ML-SIU);
2. weights are quantized per output channel with the scheme's encoder; im2col gives one
   weight column per output channel (in_ch*kh*kw rows; a depthwise channel keeps its
   true kh*kw rows), split into chunks of the macro's R rows;
3. every cycle, chunk and bit column's ideal value y (units of one C1*dV step) goes
   through the column model (fitted gain/offset, pooled cubic INL, optional Monte Carlo
   gain/offset spread per physical column) and Gaussian noise, then an ADC of the
   policy's bits over the column's full scale; the digital side calibrates the nominal
   gain/offset out (the model is in y units after that) and shift-adds over bit columns
   (2^base), input cycles and chunks.

With an ideal column, no noise and a lossless ADC the result equals the integer
reference (`int_conv`) exactly; tests/test_cim.py holds that.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from netlistgen.analysis.behavioral import BehavioralModel
from netlistgen.circuits.encoding import decode, quantize
from netlistgen.core import validate
from netlistgen.studies.accuracy import _scheme_act_bits, input_digits
from netlistgen.studies.cnn import ConvLayer, FoldedNet, layer_inputs, patches, run

# --------------------------------------------------------------------------- ADC bits


def column_full_scale(model: BehavioralModel, rows: int) -> int:
    """Largest |y| of one bit column: rows * L * largest capacitor ratio (integer grid)."""
    return int(rows * model.levels * max(model.pattern_set.cap_ratios))


def adc_bits(policy: str, scheme: str, rows: int, *, bits: int | None = None) -> int:
    """The macro model's ADC bits (analysis.macro.adc_bits), so accuracy and TOPS/W come
    from one design point; `bits` sets B of the `same` policy (None: the macro's default,
    the lossless bits of a 1b x 1b LCC column)."""
    from netlistgen.analysis.macro import PolicyParams
    from netlistgen.analysis.macro import adc_bits as macro_adc_bits

    return macro_adc_bits(policy, scheme, rows, PolicyParams(same_bits=bits))


def adc_policies() -> tuple[str, ...]:
    from netlistgen.analysis.macro import BIT_POLICIES

    return tuple(BIT_POLICIES)


# --------------------------------------------------------------------------- column


@dataclass(frozen=True)
class Column:
    """The conversion path of one scheme, in y units after digital calibration.

    inl_a3/inl_a2: per bit column cubic/quadratic INL coefficients (y units);
    fs_lsb: the ADC's full-scale LSB, 2*FS/2^B steps (the `adc-lsb` noise reference, as
    snr_study.lsb_fs_v); lsb: its quantization step, max(1, fs_lsb) - with at least as
    many codes as the column has levels it resolves every step (lossless), finer codes
    would be wasted on an integer grid; half: 2^(B-1)."""

    inl_a3: np.ndarray
    inl_a2: np.ndarray
    fs_lsb: float
    half: int

    @property
    def lsb(self) -> float:
        return max(1.0, self.fs_lsb)

    @classmethod
    def of(cls, model: BehavioralModel, bits: int, rows: int, *, ideal: bool = False,
           unit_lsb: bool = False) -> "Column":
        """unit_lsb: the ADC's LSB is one step and it clips at +-2^(B-1) steps (the macro's
        `stat` policy) instead of spanning the column's full scale."""
        g = model.gain_v_per_lsb
        poly = np.array([c.inl_poly_v for c in model.columns])  # highest power first: y^3, y^2, y, 1
        if ideal:
            a3 = a2 = np.zeros(model.n_bits)
        else:
            a3, a2 = poly[:, 0] / g, poly[:, 1] / g
        fs_lsb = 1.0 if unit_lsb else 2 * column_full_scale(model, rows) / 2**bits
        return cls(a3.astype(np.float32), a2.astype(np.float32), fs_lsb, 2 ** (bits - 1))

    def convert(self, y: np.ndarray, *, noise_y: float = 0.0, rng=None, gain=None, offset=None) -> np.ndarray:
        """Bit-column values y (..., n_bits), float32, converted in place and returned;
        noise_y is the noise sigma in steps (y units)."""
        # in place with one scratch array: this is the study's inner loop
        t = np.empty(y.shape, dtype=np.float32)
        if np.any(self.inl_a3) or np.any(self.inl_a2):
            np.multiply(y, self.inl_a3, out=t)
            t += self.inl_a2
            t *= y
            t *= y
            y += t
        if gain is not None:
            y *= gain
            y += offset
        if noise_y > 0:
            rng.standard_normal(out=t, dtype=np.float32)
            t *= np.float32(noise_y)
            y += t
        lsb = self.lsb
        if lsb != 1.0:
            y /= np.float32(lsb)
        np.rint(y, out=y)
        np.clip(y, -self.half, self.half - 1, out=y)
        if lsb != 1.0:
            y *= np.float32(lsb)
        return y


# --------------------------------------------------------------------------- layers


@dataclass(frozen=True)
class CimLayer:
    """A conv layer mapped onto a scheme: capacitor weights per row, integer weights, scales."""

    layer: ConvLayer
    cap: np.ndarray  # float32 (rows, out, n_bits) full; (channels, rows, n_bits) depthwise
    w_int: np.ndarray  # int64 (rows, out) full; (channels, rows) depthwise
    w_scale: np.ndarray  # (out,)
    x_scale: float
    signed: bool
    chunks: tuple[slice, ...]


def _per_row(codes) -> np.ndarray:
    ratio = np.array(codes.pattern_set.cap_ratios, dtype=np.int64)[codes.pattern]
    return codes.bits.astype(np.int64) * np.where(codes.sign == 1, -ratio, ratio)[..., None]


class CimNet:
    """A folded network quantized for one scheme and the macro's rows."""

    def __init__(self, net: FoldedNet, model: BehavioralModel, calib: np.ndarray, *, rows: int,
                 act_bits: int | None = None, clip: str = "mse"):
        self.net, self.model = net, model
        self.rows = validate.integer(rows, "rows", minimum=1, maximum=4096)
        self.ps = model.pattern_set
        self.act_bits = validate.integer(act_bits or _scheme_act_bits(model.scheme), "act_bits",
                                         minimum=2, maximum=16)
        self.bit_w = (2.0 ** np.array(self.ps.base, dtype=np.float64))
        self.layers: list[CimLayer] = []
        for layer, x in zip(net.layers, layer_inputs(net, calib)):
            signed = bool(x.min() < 0)
            top = float(np.max(np.abs(x))) or 1.0
            x_scale = top / (2 ** (self.act_bits - 1) - 1 if signed else 2**self.act_bits - 1)
            # one weight column per output channel (a depthwise channel is its own column)
            mat = layer.weight.reshape(layer.weight.shape[0], -1).T  # (rows, columns)
            qt = quantize(mat, self.ps, granularity="per-channel", clip=clip, channel_axis=1)
            cap, w_int = _per_row(qt.codes), decode(qt.codes)
            if layer.depthwise:
                cap, w_int = cap.transpose(1, 0, 2), w_int.T
            chunks = tuple(slice(r, min(r + self.rows, mat.shape[0])) for r in range(0, mat.shape[0], self.rows))
            self.layers.append(CimLayer(layer, cap.astype(np.float32), w_int.astype(np.int64), np.ravel(qt.scale),
                                        x_scale, signed, chunks))

    # -- pieces ---------------------------------------------------------------------

    def _quantize_input(self, cl: CimLayer, x: np.ndarray) -> np.ndarray:
        """Integer patches: (P, rows) full, (P, channels, rows) depthwise."""
        hi = 2 ** (self.act_bits - 1) - 1 if cl.signed else 2**self.act_bits - 1
        lo = -hi if cl.signed else 0
        a = np.clip(np.rint(x / cl.x_scale), lo, hi).astype(np.int64 if self.act_bits > 15 else np.int16)
        p = patches(a, cl.layer)
        n, ho, wo, c, k = p.shape
        return p.reshape(n * ho * wo, c, k) if cl.layer.depthwise else p.reshape(n * ho * wo, c * k)

    def _digits(self, cl: CimLayer, a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        d, w = input_digits(a, self.model.cell, self.model.levels, self.act_bits, signed_values=cl.signed)
        return d.astype(np.float32), w.astype(np.float64)

    def _bit_values(self, cl: CimLayer, d: np.ndarray, s: slice) -> np.ndarray:
        """Ideal bit-column values y (cycles, P, out, n_bits) of rows s, float32 (exact integers)."""
        c, p = d.shape[:2]
        nb = cl.cap.shape[-1]
        if cl.layer.depthwise:
            # (channels, c*P, rows) @ (channels, rows, n_bits)
            y = np.matmul(d[..., s].reshape(c * p, d.shape[2], -1).transpose(1, 0, 2), cl.cap[:, s])
            return y.reshape(-1, c, p, nb).transpose(1, 2, 0, 3)
        y = d[..., s].reshape(c * p, -1) @ cl.cap[s].reshape(s.stop - s.start, -1)
        return y.reshape(c, p, -1, nb)

    def _sum_dtype(self, column: Column) -> type:
        """float32 when every bit-column sum is an exact float32: ADC codes (|code| <= 2^(B-1),
        one step each) times the bit weights stay below 2^24."""
        return np.float32 if column.lsb == 1.0 and column.half * self.bit_w.sum() < 2**24 else np.float64

    def _output(self, cl: CimLayer, acc: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        n, ho, wo = shape
        out = acc * cl.x_scale * cl.w_scale + cl.layer.bias
        return out.reshape(n, ho, wo, -1).transpose(0, 3, 1, 2)

    def _shape(self, cl: CimLayer, x: np.ndarray) -> tuple[int, int, int]:
        kh, kw = cl.layer.weight.shape[2:]
        (ph, pw), (sh, sw) = cl.layer.padding, cl.layer.stride
        return (x.shape[0], (x.shape[2] + 2 * ph - kh) // sh + 1, (x.shape[3] + 2 * pw - kw) // sw + 1)

    # -- forwards -------------------------------------------------------------------

    def int_conv(self, k: int, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Integer reference of layer k: (accumulator (P, out) int64, float output)."""
        cl = self.layers[k]
        a = self._quantize_input(cl, x)
        a = a.astype(np.int64)
        acc = np.einsum("pck,ck->pc", a, cl.w_int) if cl.layer.depthwise else a @ cl.w_int
        return acc, self._output(cl, acc, self._shape(cl, x))

    def cim_conv(self, k: int, x: np.ndarray, column: Column, *, noise_y: float = 0.0, rng=None,
                 mismatch: list | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Layer k through the column: (accumulator (P, out) float64, float output)."""
        cl = self.layers[k]
        a = self._quantize_input(cl, x)
        d, cycle_w = self._digits(cl, a)
        acc = np.zeros((a.shape[0], cl.w_scale.size))
        for t, s in enumerate(cl.chunks):
            y = self._bit_values(cl, d, s)
            g, o = (None, None) if mismatch is None else mismatch[k][t]
            y = column.convert(y, noise_y=noise_y, rng=rng, gain=g, offset=o)
            # shift-add over bit columns (float32 where exact), then input cycles in float64
            per_cycle = y.reshape(-1, y.shape[-1]) @ self.bit_w.astype(self._sum_dtype(column))
            acc += (cycle_w @ per_cycle.reshape(len(cycle_w), -1).astype(np.float64)).reshape(acc.shape)
        return acc, self._output(cl, acc, self._shape(cl, x))

    def draw_mismatch(self, rng: np.random.Generator) -> list | None:
        """Static gain factor and offset (y units) of every physical column the network
        uses, from the model's Monte Carlo spread; None when the model has none."""
        m = self.model.mismatch
        if m is None:
            return None
        g_v = self.model.gain_v_per_lsb.astype(np.float32)
        out = []
        for cl in self.layers:
            cols = cl.cap.shape[0] if cl.layer.depthwise else cl.cap.shape[1]
            shape = (cols, self.model.n_bits)
            out.append([((1 + m["gain_rel_std"] * rng.standard_normal(shape)).astype(np.float32),
                         (m["offset_std_v"] * rng.standard_normal(shape) / g_v).astype(np.float32))
                        for _ in cl.chunks])
        return out

    def logits(self, x: np.ndarray, column: Column | None = None, *, noise_y: float = 0.0, rng=None,
               mismatch: list | None = None, batch: int = 128) -> np.ndarray:
        """Logits of x; column None = the integer reference (exact quantized network)."""
        def conv(k: int, _layer: ConvLayer, h: np.ndarray) -> np.ndarray:
            if column is None:
                return self.int_conv(k, h)[1]
            return self.cim_conv(k, h, column, noise_y=noise_y, rng=rng, mismatch=mismatch)[1]

        x = np.asarray(x, dtype=np.float64)
        return np.concatenate([run(self.net, x[i:i + batch], conv) for i in range(0, len(x), batch)])
