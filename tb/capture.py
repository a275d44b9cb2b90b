"""PSUM capture files (``.npz``) replayed by the ``replay`` cocotb test.

Format (produced from a real transformer into ``tests/data/capture_*.npz``): arrays ``addr``
``(n,)`` int64, ``step`` ``(n,)`` int64, ``last`` ``(n,)`` bool, ``exp`` ``(n,)`` int64,
``data`` ``(n, lanes)`` int64, all in arrival order, and ``meta``: a 0-d string array holding
JSON with at least ``lanes``, ``psum_bits``, ``exp_bits`` (also ``layer``, ``dataflow``,
``chunk``).
"""

import json

import numpy as np


__all__ = ["load_capture", "save_capture", "capture_params"]


_ARRAYS = {"addr": 1, "step": 1, "last": 1, "exp": 1, "data": 2}


def load_capture(path):
    """Read and check a capture; returns a ``dict`` of arrays plus ``meta`` (a ``dict``).

    Raises
    ------
    ValueError
        A missing array, a wrong shape or a ``meta`` that is not JSON with the required keys.
    """
    with np.load(path, allow_pickle=False) as npz:
        missing = [k for k in (*_ARRAYS, "meta") if k not in npz.files]
        if missing:
            raise ValueError(f"{path}: capture lacks arrays {missing}")
        capture = {k: npz[k] for k in _ARRAYS}
        meta = json.loads(str(npz["meta"][()]))
    for key in ("lanes", "psum_bits", "exp_bits"):
        if key not in meta:
            raise ValueError(f"{path}: meta lacks {key!r}")
    n = capture["addr"].shape[0]
    for key, ndim in _ARRAYS.items():
        if capture[key].ndim != ndim or capture[key].shape[0] != n:
            raise ValueError(f"{path}: {key} has shape {capture[key].shape}, expected "
                             f"({n}{', lanes' if ndim == 2 else ''})")
    if capture["data"].shape[1] != meta["lanes"]:
        raise ValueError(f"{path}: data has {capture['data'].shape[1]} lanes, meta says "
                         f"{meta['lanes']}")
    capture["meta"] = meta
    return capture


def save_capture(path, addr, step, last, exp, data, **meta):
    """Write a capture in the format above (``meta`` keywords become the JSON)."""
    np.savez(path, addr=np.asarray(addr, dtype=np.int64), step=np.asarray(step, dtype=np.int64),
             last=np.asarray(last, dtype=bool), exp=np.asarray(exp, dtype=np.int64),
             data=np.asarray(data, dtype=np.int64), meta=np.array(json.dumps(meta)))


def capture_params(capture, *, max_group_size=4):
    """Engine parameters that replay ``capture`` at every group size up to
    ``max_group_size``: ``lanes``, ``psum_bits``, ``exp_bits`` (and ``q_bits``, ``rounding``
    when present) from its meta, a depth such that the capacity at the largest group size
    covers its highest address, a step width that holds its longest accumulation (at least
    the default), the spec defaults otherwise."""
    from apsq_rae.hdl.params import RAEParams

    meta, defaults = capture["meta"], RAEParams()
    highest = int(capture["addr"].max()) if capture["addr"].size else 0
    longest = int(capture["step"].max()) if capture["step"].size else 0
    psum_bits = int(meta["psum_bits"])
    return RAEParams(lanes=int(meta["lanes"]), psum_bits=psum_bits,
                     q_bits=int(meta.get("q_bits", min(defaults.q_bits, psum_bits))),
                     max_group_size=max_group_size,
                     depth=highest + 1,    # capacity(max_group_size) = depth
                     exp_bits=int(meta["exp_bits"]),
                     step_bits=max(defaults.step_bits, longest.bit_length()),
                     rounding=str(meta.get("rounding", defaults.rounding)))
