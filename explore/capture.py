"""Capture files: the PSUM tiles of one real layer, in arrival order, for replay on the engine.

An ``.npz`` holds, for ``n`` tiles in the order they reach the engine (WS or IS, see
:func:`apsq_rae.explore.quant.stream_order`):

========  ===========  ====================================================================
``addr``  (n,) int64   address, ``token * n_blocks + block``
``step``  (n,) int64   step index ``i`` of that address
``last``  (n,) bool    ``i`` is the address's final step
``exp``   (n,) int64   exponent ``e_i``, ``0 <= exp < 2**exp_bits``
``data``  (n, lanes)   ``Tp_i`` as int64, ``|value| < 2**(psum_bits - 1)``
``meta``  0-d str      JSON: ``lanes psum_bits exp_bits q_bits layer dataflow chunk model
                       n_addresses n_steps rounding``
========  ===========  ====================================================================

The exponents are group-size independent (:func:`apsq_rae.explore.calib.safe_exps`, from the
calibration sentences), so the same file replays at every group size.
"""

import json

import numpy as np

from .calib import safe_exps
from .quant import DATAFLOWS, stream_order, to_addresses
from .bert import float_linear


__all__ = ["make_capture", "write_capture", "read_capture", "KEYS"]


KEYS = ("addr", "step", "last", "exp", "data", "meta")


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
            "exp": (exps[step] if exps.ndim == 1 else exps[step, addr % n_blocks]).astype(np.int64), "data": tiles[step, addr].astype(np.int64),
            "meta": meta}


def _check(cap):
    meta = cap["meta"]
    n = len(cap["addr"])
    for key in ("addr", "step", "last", "exp"):
        if np.shape(cap[key]) != (n,):
            raise ValueError(f"capture {key} has shape {np.shape(cap[key])}, expected ({n},)")
    if np.shape(cap["data"]) != (n, meta["lanes"]):
        raise ValueError(f"capture data has shape {np.shape(cap['data'])}, "
                         f"expected ({n}, {meta['lanes']})")
    if n and (cap["exp"].min() < 0 or cap["exp"].max() >= 1 << meta["exp_bits"]):
        raise ValueError(f"capture exp out of range 0..{(1 << meta['exp_bits']) - 1}")
    if n and np.abs(cap["data"]).max() >= 1 << (meta["psum_bits"] - 1):
        raise ValueError(f"capture data does not fit psum_bits = {meta['psum_bits']}")


def write_capture(path, cap):
    """Write a capture dictionary to ``path`` (compressed ``.npz``)."""
    _check(cap)
    np.savez_compressed(path, addr=np.asarray(cap["addr"], dtype=np.int64),
                        step=np.asarray(cap["step"], dtype=np.int64),
                        last=np.asarray(cap["last"], dtype=bool),
                        exp=np.asarray(cap["exp"], dtype=np.int64),
                        data=np.asarray(cap["data"], dtype=np.int64),
                        meta=np.array(json.dumps(cap["meta"], sort_keys=True)))


def read_capture(path):
    """Read and check a capture file; ``meta`` comes back as a dict."""
    with np.load(path, allow_pickle=False) as f:
        missing = [k for k in KEYS if k not in f.files]
        if missing:
            raise ValueError(f"{path}: capture file lacks {', '.join(missing)}")
        cap = {k: f[k] for k in KEYS}
    cap["meta"] = json.loads(str(cap["meta"]))
    _check(cap)
    return cap
