"""W8A8 integer linear layers whose INT32 partial sums are formed in tiles.

A linear layer ``y = x @ W.T + b`` (``x``: ``(M, K)`` tokens by input channels, ``W``:
``(N, K)``) becomes

* weights: symmetric INT8, ``Wq = clip(round(W / s_w), -127, 127)`` with ``s_w = max|W| / 127``
  per tensor or per output channel (``weight_granularity = "tensor" | "channel"``);
* activations: symmetric INT8, ``xq = clip(round(x / s_x), -127, 127)`` with
  ``s_x = max|x| / 127`` either *per tensor*, static, calibrated once on the calibration
  sentences (``act_granularity = "tensor"``), or *per token*, dynamic, from each row at run
  time (``"token"``). Both scales factor out of the sum over ``K``; 127 (not 128) keeps every
  product within ``2**14``.
* the integer product is cut along ``K`` into chunks of ``chunk`` input channels (the PE
  array's depth): step ``i`` yields the PSUM tile ``Tp_i = xq[:, Ki] @ Wq[:, Ki].T``, shape
  ``(M, N)``, and ``sum_i Tp_i`` is the exact INT32 accumulation. ``K`` is zero-padded to a
  multiple of ``chunk``.
* the engine view: output channels are cut into blocks of ``lanes``; one **address** is one
  (token, block) pair, ``addr = token * n_blocks + block``, and carries ``n_steps`` tiles.

The order in which tiles reach the PSUM buffer depends on the dataflow (:func:`stream_order`):
weight-stationary (WS) keeps a weight chunk in the array and streams every token past it, so
step ``i`` of every address comes before step ``i + 1`` of any; input-stationary (IS) keeps a
token's input chunk and streams every weight block, finishing one token's addresses before
the next token's. APSQ's arithmetic per address does not depend on that order (spec
section 3); the order decides how many addresses are alive at once (the buffer's working set,
see :mod:`apsq_rae.explore.energy`) and is what a capture file records.
"""

import numpy as np


__all__ = ["QMAX", "GRANULARITIES", "quantize_weight", "act_scale", "quantize_act",
           "psum_tiles", "to_addresses", "stream_order", "DATAFLOWS"]


QMAX = 127
GRANULARITIES = {"weight": ("tensor", "channel"), "act": ("tensor", "token")}
DATAFLOWS = ("ws", "is")


def _check_choice(name, value, legal):
    if value not in legal:
        raise ValueError(f"{name} = {value!r} is not legal (legal: {', '.join(legal)})")


def _check_pos_int(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} = {value!r} is out of range (legal: integer >= 1)")
    return int(value)


def _round(x):
    """Round half away from zero (deterministic, unlike NumPy's half-to-even)."""
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


def quantize_weight(weight, granularity="channel"):
    """Symmetric INT8 weights.

    Parameters
    ----------
    weight : numpy.ndarray
        ``(N, K)`` float weights.
    granularity : str
        ``"tensor"`` (one scale) or ``"channel"`` (one scale per output channel).

    Returns
    -------
    (wq, scale)
        ``wq``: ``(N, K)`` int64 in ``-127..127``; ``scale``: ``(N,)`` float64 (the same value
        repeated for ``"tensor"``).
    """
    _check_choice("weight_granularity", granularity, GRANULARITIES["weight"])
    w = np.asarray(weight, dtype=np.float64)
    if granularity == "tensor":
        scale = np.full(w.shape[0], max(np.abs(w).max(), 1e-12) / QMAX)
    else:
        scale = np.maximum(np.abs(w).max(axis=1), 1e-12) / QMAX
    wq = np.clip(_round(w / scale[:, None]), -QMAX, QMAX).astype(np.int64)
    return wq, scale


def act_scale(x):
    """Per-tensor activation scale ``max|x| / 127`` (the calibration statistic)."""
    return max(float(np.abs(np.asarray(x, dtype=np.float64)).max(initial=0.0)), 1e-12) / QMAX


def quantize_act(x, scale=None):
    """Symmetric INT8 activations.

    Parameters
    ----------
    x : numpy.ndarray
        ``(M, K)`` float activations.
    scale : float or None
        A calibrated per-tensor scale; ``None`` means dynamic per-token scales.

    Returns
    -------
    (xq, scale)
        ``xq``: ``(M, K)`` int64 in ``-127..127`` (values beyond the calibrated range clip);
        ``scale``: ``(M,)`` float64.
    """
    x = np.asarray(x, dtype=np.float64)
    if scale is None:
        s = np.maximum(np.abs(x).max(axis=1), 1e-12) / QMAX
    else:
        s = np.full(x.shape[0], float(scale))
    xq = np.clip(_round(x / s[:, None]), -QMAX, QMAX).astype(np.int64)
    return xq, s


def psum_tiles(xq, wq, chunk):
    """The PSUM tiles of an integer matrix product, one per chunk of input channels.

    Parameters
    ----------
    xq : numpy.ndarray
        ``(M, K)`` integers, ``|xq| <= 127``.
    wq : numpy.ndarray
        ``(N, K)`` integers, ``|wq| <= 127``.
    chunk : int
        Input channels per step (``K`` is zero-padded to a multiple).

    Returns
    -------
    numpy.ndarray
        ``(n_steps, M, N)`` int64 with ``n_steps = ceil(K / chunk)``; ``tiles.sum(0)`` equals
        ``xq @ wq.T`` exactly.
    """
    chunk = _check_pos_int("chunk", chunk)
    xq = np.asarray(xq)
    wq = np.asarray(wq)
    M, K = xq.shape
    N, K2 = wq.shape
    if K != K2:
        raise ValueError(f"xq has {K} input channels but wq has {K2}")
    n_steps = -(-K // chunk)
    pad = n_steps * chunk - K
    if pad:
        xq = np.pad(xq, ((0, 0), (0, pad)))
        wq = np.pad(wq, ((0, 0), (0, pad)))
    xs = np.ascontiguousarray(xq.reshape(M, n_steps, chunk).transpose(1, 0, 2))
    ws = np.ascontiguousarray(wq.reshape(N, n_steps, chunk).transpose(1, 2, 0))
    # A chunk's sum is at most chunk * 127**2: exact in float32 below 2**24, else float64.
    dtype = np.float32 if chunk * QMAX * QMAX < 2 ** 24 else np.float64
    if chunk * QMAX * QMAX >= 2 ** 53:
        return np.matmul(xs.astype(object), ws.astype(object)).astype(np.int64)
    tiles = np.matmul(xs.astype(dtype), ws.astype(dtype))
    return np.rint(tiles).astype(np.int64)


def to_addresses(tiles, lanes):
    """Reshape ``(n_steps, M, N)`` tiles to the engine's ``(n_steps, M * n_blocks, lanes)``,
    address ``token * n_blocks + block`` (``N`` is zero-padded to a multiple of ``lanes``)."""
    lanes = _check_pos_int("lanes", lanes)
    n, M, N = tiles.shape
    n_blocks = -(-N // lanes)
    pad = n_blocks * lanes - N
    if pad:
        tiles = np.pad(tiles, ((0, 0), (0, 0), (0, pad)))
    return tiles.reshape(n, M * n_blocks, lanes)


def stream_order(n_tokens, n_blocks, n_steps, dataflow):
    """Arrival order of the tiles at the PSUM buffer.

    Parameters
    ----------
    n_tokens, n_blocks, n_steps : int
        Tokens, output blocks of ``lanes`` channels, input-channel chunks.
    dataflow : str
        ``"ws"``: ``for step: for block: for token`` (step ``i`` of every address before step
        ``i + 1`` of any); ``"is"``: ``for token: for step: for block`` (one token's
        addresses are finished before the next token's start).

    Returns
    -------
    (addr, step)
        Two int64 arrays of length ``n_tokens * n_blocks * n_steps``; the address is
        ``token * n_blocks + block``.
    """
    _check_choice("dataflow", dataflow, DATAFLOWS)
    t, b, s = np.meshgrid(np.arange(n_tokens), np.arange(n_blocks), np.arange(n_steps),
                          indexing="ij")
    if dataflow == "ws":
        axes = (2, 1, 0)      # outer: step, then block, inner: token
    else:
        axes = (0, 2, 1)      # outer: token, then step, inner: block
    t, b, s = (a.transpose(axes).ravel() for a in (t, b, s))
    return (t * n_blocks + b).astype(np.int64), s.astype(np.int64)
