"""Capture files from the explorer: the PSUM tiles of one real layer, in arrival order.

:func:`make_capture` runs a calibrated :class:`apsq_rae.explore.sweep.Explorer` on some
sentences and returns the tiles of one linear layer in the order they reach the engine (WS or
IS, see :func:`apsq_rae.explore.quant.stream_order`), as a capture ``dict``; the file format
and its reader and writer are :mod:`apsq_rae.explore.capture_file`.

The exponents are group-size independent (:func:`apsq_rae.explore.calib.safe_exps`, from the
calibration sentences), so the same file replays at every group size.
"""

import numpy as np

from .calib import safe_exps
from .quant import DATAFLOWS, stream_order, to_addresses
from .bert import float_linear


__all__ = ["make_capture"]


def make_capture(explorer, layer, sentences, *, dataflow="is", max_addresses=256, q_bits=8,
                 psum_bits=32):
    """Tiles of ``layer`` on ``sentences`` as a capture dictionary (see the module text).

    Parameters
    ----------
    explorer : apsq_rae.explore.sweep.Explorer
        A calibrated explorer (its ``lanes``, ``chunk``, ``exp_bits`` are used).
    layer : str
        A linear layer name, e.g. ``encoder.layer.0.output.dense``.
    sentences : list of str
        Input sentences; their first tokens are kept until ``max_addresses`` is reached.
    dataflow : str
        ``"ws"`` or ``"is"``.
    max_addresses : int
        Upper bound on the addresses (whole tokens of ``n_blocks`` addresses each).
    q_bits : int
        Width of the stored values the exponents are calibrated for.
    psum_bits : int
        Width of a PSUM; every tile must fit it.

    Returns
    -------
    dict
        A capture (:mod:`apsq_rae.explore.capture_file`): the arrays and ``meta`` with
        ``lanes psum_bits exp_bits q_bits layer dataflow chunk model n_addresses n_steps
        rounding``.

    Raises
    ------
    ValueError
        ``layer`` is not a linear layer of the model, ``dataflow`` is not ``ws`` or ``is``,
        ``max_addresses`` is below one token's output blocks, or a PSUM does not fit
        ``psum_bits``.
    """
    model = explorer.model
    if layer not in model.linear_names:
        raise ValueError(f"layer = {layer!r} is not a linear layer of {model.name} "
                         f"(legal: {', '.join(model.linear_names)})")
    if dataflow not in DATAFLOWS:
        raise ValueError(f"dataflow = {dataflow!r} is not legal (legal: {', '.join(DATAFLOWS)})")
    n_blocks = -(-model.linear_shape(layer)[0] // explorer.lanes)
    if isinstance(max_addresses, bool) or not isinstance(max_addresses, int) \
            or max_addresses < n_blocks:
        raise ValueError(f"max_addresses = {max_addresses!r} is out of range (legal: integer "
                         f">= {n_blocks}, the output blocks of one token)")
    grabbed = {}

    def hook(name, x, weight, bias):
        if name == layer:
            grabbed["x"] = x
        return float_linear(name, x, weight, bias)
    model.encode(sentences, linear=hook)
    n_tokens = min(grabbed["x"].shape[0], max_addresses // n_blocks)
    tiles, _ = explorer.tiles(layer, grabbed["x"][:n_tokens])
    tiles = to_addresses(tiles, explorer.lanes)            # (n_steps, n_addr, lanes)
    n_steps = tiles.shape[0]
    limit = 1 << (psum_bits - 1)
    if np.abs(tiles).max(initial=0) >= limit:
        raise ValueError(f"a PSUM does not fit psum_bits = {psum_bits}")
    exps = safe_exps(explorer.stats[layer], q_bits, explorer.exp_bits)
    addr, step = stream_order(n_tokens, n_blocks, n_steps, dataflow)
    meta = {"lanes": explorer.lanes, "psum_bits": psum_bits, "exp_bits": explorer.exp_bits,
            "q_bits": q_bits, "layer": layer, "dataflow": dataflow, "chunk": explorer.chunk,
            "model": model.name, "n_addresses": int(n_tokens * n_blocks),
            "n_steps": int(n_steps), "rounding": explorer.rounding}
    return {"addr": addr, "step": step, "last": step == n_steps - 1,
            "exp": (exps[step] if exps.ndim == 1 else exps[step, addr % n_blocks]).astype(np.int64),
            "data": tiles[step, addr].astype(np.int64), "meta": meta}

