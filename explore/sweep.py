"""The explorer's experiments: per-layer PSUM-quantization error and end-to-end similarity.

An :class:`Explorer` wraps a :class:`apsq_rae.explore.bert.Bert` with W8A8 integer linear layers
(:mod:`apsq_rae.explore.quant`) whose PSUMs are accumulated by one **scheme**:

* ``INT32``: the exact sum of the tiles (``apsq_rae.golden.exact_sum``), W8A8 error only;
* ``OUT qK``: exact accumulation, then the result quantized once to ``K`` bits with the
  calibrated exponent of the final step: the error floor of any ``K``-bit stored result;
* ``PSQ qK``: every tile quantized on its own to ``K`` bits and the dequantized values summed
  (``apsq_rae.golden.psq_accumulate``);
* ``APSQ qK gsG``: APSQ with grouping (``apsq_rae.golden.apsq_accumulate``), spec section 3.

Exponents come from :mod:`apsq_rae.explore.calib` on the calibration sentences.
:meth:`Explorer.layer_sweep` feeds every linear layer the *float* model's input (teacher
forcing) so each layer's error is its own; :meth:`Explorer.end_to_end` runs the whole
network with one scheme in every linear layer and compares sentence embeddings with the float
model's.
"""

from dataclasses import dataclass
import math
import sys
import time

import numpy as np

from apsq_rae import golden

from apsq_rae.golden.apsq import apsq_step

from .bert import cosine, float_linear
from .calib import apsq_exps, collect_stats, psq_exps
from .quant import act_scale, psum_tiles, quantize_act, quantize_weight, to_addresses


__all__ = ["Scheme", "make_schemes", "Explorer", "sqnr_db"]


@dataclass(frozen=True)
class Scheme:
    """How a layer's PSUMs are accumulated: ``kind`` is ``"int32"``, ``"out"``, ``"psq"`` or
    ``"apsq"`` (see the module text)."""

    kind: str
    q_bits: int = 0
    gs: int = 0

    @property
    def label(self):
        if self.kind == "int32":
            return "INT32"
        if self.kind == "psq":
            return f"PSQ q{self.q_bits}"
        if self.kind == "out":
            return f"OUT q{self.q_bits}"
        return f"APSQ q{self.q_bits} gs{self.gs}"


def make_schemes(q_bits_list, gs_list):
    """``INT32``, then for each ``q_bits``: ``OUT``, ``PSQ`` and ``APSQ`` at every group size."""
    out = [Scheme("int32")]
    for q in q_bits_list:
        out += [Scheme("out", q), Scheme("psq", q)]
        out += [Scheme("apsq", q, gs) for gs in gs_list]
    return out


def sqnr_db(ref, approx):
    """``10 log10(sum ref^2 / sum (approx - ref)^2)``; ``None`` when the error is zero."""
    ref = np.asarray(ref, dtype=np.float64)
    err = np.asarray(approx, dtype=np.float64) - ref
    noise = float((err * err).sum())
    if noise == 0:
        return None
    return 10 * math.log10(max(float((ref * ref).sum()), 1e-300) / noise)


def _log(msg):
    print(f"[explore] {msg}", file=sys.stderr, flush=True)


class Explorer:
    """W8A8 BERT with quantized PSUM accumulation.

    Parameters
    ----------
    model : apsq_rae.explore.bert.Bert
        The float model.
    chunk : int
        Input channels per accumulation step (PE-array depth), e.g. 16, 32, 64.
    lanes : int
        Output channels per tile (engine lanes).
    weight_granularity : str
        ``"channel"`` or ``"tensor"``.
    act_granularity : str
        ``"tensor"`` (static, calibrated) or ``"token"`` (dynamic).
    exp_bits : int
        Exponent width; exponents are capped at ``2**exp_bits - 1``.
    rounding : str
        Rounding rule of the PSUM quantizer.
    percentile : float
        Calibration statistic of the exponents (100 = maximum).
    exp_granularity : str
        ``"layer"``: one exponent per layer and step; ``"block"``: one per layer, step and
        block of ``lanes`` output channels (every tile carries its exponent).
    log : callable or None
        Progress sink taking one string (default: ``[explore] ...`` lines on stderr).

    Members
    -------
    stats : dict of str to apsq_rae.explore.calib.LayerStats
        Filled by :meth:`calibrate`.
    """

    def __init__(self, model, *, chunk=32, lanes=16, weight_granularity="channel",
                 act_granularity="tensor", exp_bits=5, rounding="half_up", percentile=100.0,
                 exp_granularity="layer", log=_log):
        if act_granularity not in ("tensor", "token"):
            raise ValueError(f"act_granularity = {act_granularity!r} is not legal "
                             "(legal: tensor, token)")
        if exp_granularity not in ("layer", "block"):
            raise ValueError(f"exp_granularity = {exp_granularity!r} is not legal "
                             "(legal: layer, block)")
        self.exp_granularity = exp_granularity
        self.model = model
        self.chunk = chunk
        self.lanes = lanes
        self.act_granularity = act_granularity
        self.weight_granularity = weight_granularity
        self.exp_bits = exp_bits
        self.rounding = rounding
        self.percentile = percentile
        self.log = log or (lambda msg: None)
        self.wq = {name: quantize_weight(model.weights[name + ".weight"], weight_granularity)
                   for name in model.linear_names}
        self.stats = {}

    # -- calibration ---------------------------------------------------------------------

    def calibrate(self, sentences):
        """Activation scales and exponent statistics of every layer from ``sentences``,
        observed in the float model."""
        def hook(name, x, weight, bias):
            s = act_scale(x)
            xq, _ = quantize_act(x, s if self.act_granularity == "tensor" else None)
            tiles = psum_tiles(xq, self.wq[name][0], self.chunk)
            self.stats[name] = collect_stats(
                tiles, s, self.percentile,
                lanes=self.lanes if self.exp_granularity == "block" else None)
            return float_linear(name, x, weight, bias)
        t0 = time.time()
        self.model.encode(sentences, linear=hook)
        self.log(f"calibrated {len(self.stats)} layers on {len(sentences)} sentences "
                 f"({time.time() - t0:.1f} s)")

    # -- one layer -----------------------------------------------------------------------

    def tiles(self, name, x):
        """``(tiles, act_scales)`` of layer ``name`` on float input ``x``."""
        if name not in self.stats:
            raise ValueError(f"layer {name!r} is not calibrated (call calibrate first)")
        static = self.stats[name].act_scale if self.act_granularity == "tensor" else None
        xq, sx = quantize_act(x, static)
        return psum_tiles(xq, self.wq[name][0], self.chunk), sx

    def exps(self, name, scheme):
        """Per-step exponents of ``scheme`` in layer ``name`` (None for INT32)."""
        st = self.stats[name]
        if scheme.kind == "psq":
            return psq_exps(st, scheme.q_bits, self.exp_bits)
        if scheme.kind == "apsq":
            return apsq_exps(st, scheme.gs, scheme.q_bits, self.exp_bits)
        if scheme.kind == "out":
            return apsq_exps(st, 1, scheme.q_bits, self.exp_bits)[-1:]
        return None

    def accumulate(self, name, tiles, scheme):
        """``(acc, sat)``: the accumulated ``(M, N)`` integers under ``scheme`` and the
        fraction of addresses (token, block of ``lanes`` outputs) that saturated."""
        n, M, N = tiles.shape
        if scheme.kind == "int32":
            return np.asarray(golden.exact_sum(tiles), dtype=np.int64), 0.0
        exps = self.exps(name, scheme)
        addr = to_addresses(tiles, self.lanes)
        if exps.ndim == 2:                       # per block: broadcast over (M, n_blocks, lanes)
            addr = addr.reshape(n, M, -1, self.lanes)
            exps = exps[:, None, :, None]
        if scheme.kind == "out":
            e = exps[-1] if exps.ndim > 1 else int(exps[-1])
            q, s = golden.quantize(golden.exact_sum(addr), e, q_bits=scheme.q_bits,
                                   rounding=self.rounding)
            acc, sat = golden.dequantize(q, e), s.any(axis=-1)
        elif scheme.kind == "psq" and exps.ndim == 1:
            acc = golden.psq_accumulate(addr, exps, q_bits=scheme.q_bits, rounding=self.rounding)
            sat = np.zeros(addr.shape[1:-1], dtype=bool)
            for i in range(n):
                _, s = golden.quantize(addr[i], int(exps[i]), q_bits=scheme.q_bits,
                                       rounding=self.rounding)
                sat |= s.any(axis=-1)
        elif scheme.kind == "psq":
            acc, sat = 0, np.zeros(addr.shape[1:-1], dtype=bool)
            for i in range(n):
                q, s = golden.quantize(addr[i], exps[i], q_bits=scheme.q_bits,
                                       rounding=self.rounding)
                acc, sat = acc + golden.dequantize(q, exps[i]), sat | s.any(axis=-1)
        elif exps.ndim == 1:
            r = golden.apsq_accumulate(addr, exps, scheme.gs, q_bits=scheme.q_bits,
                                       rounding=self.rounding)
            acc, sat = r.dequantized, np.asarray(r.sat)
        else:
            # golden.apsq_accumulate takes one exponent per step for all addresses; with
            # per-block exponents, run its step function (spec section 3) with broadcast ones.
            pend, acc, sat = 0, None, np.zeros(addr.shape[1:-1], dtype=bool)
            for i in range(n):
                pend, acc, _, s = apsq_step(addr[i], exps[i], step=i, last=(i == n - 1),
                                            group_size=scheme.gs, pend_sum=pend, ap_deq=acc,
                                            q_bits=scheme.q_bits, rounding=self.rounding)
                sat |= s.any(axis=-1)
        acc = np.asarray(acc, dtype=np.int64).reshape(M, -1)[:, :N]
        return acc, float(np.mean(sat))

    def output(self, name, acc, act_scales, bias):
        """Float output of the W8A8 layer from its accumulated integers."""
        return (acc * act_scales[:, None] * self.wq[name][1][None, :] + bias).astype(np.float32)

    def hook(self, scheme, sat_sink=None):
        """A ``linear`` hook for :meth:`Bert.encode` running every layer under ``scheme``."""
        def linear(name, x, weight, bias):
            tiles, sx = self.tiles(name, x)
            acc, sat = self.accumulate(name, tiles, scheme)
            if sat_sink is not None:
                sat_sink[name] = sat
            return self.output(name, acc, sx, bias)
        return linear

    # -- experiments ---------------------------------------------------------------------

    def layer_sweep(self, sentences, schemes):
        """Per-layer errors with teacher forcing (each layer gets the float model's input).

        Returns
        -------
        list of dict
            One per linear layer in forward order: ``name``, shapes (``M K N n_steps
            n_blocks``), and per scheme label ``sqnr_db`` (output vs float layer),
            ``psum_sqnr_db`` (accumulation vs exact INT32), ``sat`` (fraction of addresses)
            and ``exps``.
        """
        rows = []
        t0 = time.time()
        n_layers = len(self.model.linear_names)

        def hook(name, x, weight, bias):
            y_float = float_linear(name, x, weight, bias)
            tiles, sx = self.tiles(name, x)
            n, M, N = tiles.shape
            exact = np.asarray(golden.exact_sum(tiles), dtype=np.int64)
            row = {"name": name, "M": M, "K": x.shape[1], "N": N, "n_steps": n,
                   "n_blocks": -(-N // self.lanes), "schemes": {}}
            for scheme in schemes:
                acc, sat = self.accumulate(name, tiles, scheme)
                exps = self.exps(name, scheme)
                row["schemes"][scheme.label] = {
                    "sqnr_db": sqnr_db(y_float, self.output(name, acc, sx, bias)),
                    "psum_sqnr_db": sqnr_db(exact, acc),
                    "sat": sat,
                    "exps": None if exps is None else exps.tolist()}
            rows.append(row)
            self.log(f"layer {len(rows)}/{n_layers} {name}: M={M} K={x.shape[1]} N={N} "
                     f"steps={n}, {len(schemes)} schemes ({time.time() - t0:.1f} s)")
            return y_float

        self.model.encode(sentences, linear=hook)
        return rows

    def end_to_end(self, sentences, schemes):
        """Cosine similarity of each scheme's sentence embeddings to the float model's.

        Returns
        -------
        dict
            Label -> ``{"cos_mean", "cos_min", "sat_mean", "sim_corr"}``; ``sim_corr`` is
            the Pearson correlation of the sentence-pair similarities (upper triangle of
            the cosine matrix) with the float model's: how well the similarity structure
            a retrieval task relies on survives.
        """
        ref = self.model.encode(sentences)
        iu = np.triu_indices(len(sentences), 1)
        ref_sim = (ref @ ref.T)[iu]
        out = {}
        t0 = time.time()
        for k, scheme in enumerate(schemes, 1):
            sats = {}
            emb = self.model.encode(sentences, linear=self.hook(scheme, sats))
            cos = cosine(emb, ref)
            sim = (emb @ emb.T)[iu]
            corr = float(np.corrcoef(sim, ref_sim)[0, 1]) if len(sim) > 1 else 1.0
            out[scheme.label] = {"cos_mean": float(cos.mean()), "cos_min": float(cos.min()),
                                 "sat_mean": float(np.mean(list(sats.values()))),
                                 "sim_corr": corr}
            self.log(f"end-to-end {k}/{len(schemes)} {scheme.label}: cos mean "
                     f"{cos.mean():.5f} min {cos.min():.5f} ({time.time() - t0:.1f} s)")
        return out
