"""The capture file format: PSUM tiles in arrival order, for replay on the engine.

A capture is an ``.npz`` file (compressed) holding, for ``n`` tiles in the order they reach
the engine:

========  ===========  ====================================================================
``addr``  (n,) int64   address, ``0 <= addr``
``step``  (n,) int64   step index ``i`` of that address
``last``  (n,) bool    ``i`` is the address's final step
``exp``   (n,) int64   exponent ``e_i``, ``0 <= exp < 2**exp_bits``
``data``  (n, lanes)   ``Tp_i`` as int64, signed ``psum_bits``-bit values
``meta``  0-d str      JSON object with at least ``lanes``, ``psum_bits``, ``exp_bits``
                       (:func:`apsq_rae.explore.capture.make_capture` also writes ``q_bits
                       layer dataflow chunk model n_addresses n_steps rounding``)
========  ===========  ====================================================================

In memory a capture is a ``dict`` with the same keys, ``meta`` being a ``dict``. This module
depends on NumPy and the standard library only, so the testbench reads captures without
loading the explorer's model code. The writer's output is deterministic (fixed array order,
``meta`` as JSON with sorted keys), so the same capture always gives the same bytes.
"""

import json

import numpy as np


__all__ = ["ARRAYS", "KEYS", "META_KEYS", "read_capture", "write_capture"]


#: The arrays of a capture and their dtypes, in file order.
ARRAYS = {"addr": np.int64, "step": np.int64, "last": np.bool_, "exp": np.int64,
          "data": np.int64}

#: Every member of a capture file, in file order.
KEYS = (*ARRAYS, "meta")

#: The ``meta`` entries a capture must have: the engine geometry its arrays are checked against.
META_KEYS = ("lanes", "psum_bits", "exp_bits")


def _check(arrays, meta, where):
    """Raise ``ValueError`` (prefixed with ``where``) unless ``arrays`` and ``meta`` form a
    capture (see the module text); ``arrays`` hold the format's dtypes."""
    if not isinstance(meta, dict):
        raise ValueError(f"{where}: meta = {meta!r} is not a JSON object (legal: a dict with "
                         f"{', '.join(META_KEYS)})")
    for key in META_KEYS:
        if key not in meta:
            raise ValueError(f"{where}: meta lacks {key!r} (required: {', '.join(META_KEYS)})")
        value = meta[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{where}: meta {key} = {value!r} is out of range (legal: "
                             f"integer >= 1)")
    if arrays["addr"].ndim != 1:
        raise ValueError(f"{where}: addr has shape {arrays['addr'].shape}, expected (n,)")
    n, lanes = arrays["addr"].shape[0], meta["lanes"]
    for key, array in arrays.items():
        expected = (n, lanes) if key == "data" else (n,)
        if array.shape != expected:
            raise ValueError(f"{where}: {key} has shape {array.shape}, expected {expected}")
    if not n:
        return
    if arrays["addr"].min() < 0:
        raise ValueError(f"{where}: addr = {arrays['addr'].min()} is out of range (legal: >= 0)")
    if arrays["step"].min() < 0:
        raise ValueError(f"{where}: step = {arrays['step'].min()} is out of range (legal: >= 0)")
    hi = (1 << meta["exp_bits"]) - 1
    exp = arrays["exp"]
    if exp.min() < 0 or exp.max() > hi:
        bad = exp.min() if exp.min() < 0 else exp.max()
        raise ValueError(f"{where}: exp = {bad} is out of range (legal: 0..{hi}, exp_bits = "
                         f"{meta['exp_bits']})")
    lo, hi = -(1 << (meta["psum_bits"] - 1)), (1 << (meta["psum_bits"] - 1)) - 1
    data = arrays["data"]
    if int(data.min()) < lo or int(data.max()) > hi:
        bad = data.min() if int(data.min()) < lo else data.max()
        raise ValueError(f"{where}: data = {bad} is out of range (legal: {lo}..{hi}, "
                         f"psum_bits = {meta['psum_bits']})")


def write_capture(path, cap):
    """Check a capture and write it to ``path`` as a compressed ``.npz``.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write (NumPy appends ``.npz`` to a name without it).
    cap : dict
        ``addr``, ``step``, ``last``, ``exp``, ``data`` (array_like, converted to the
        format's dtypes) and ``meta`` (a ``dict``, written as JSON with sorted keys).

    Raises
    ------
    ValueError
        ``cap`` is not a capture: a ``meta`` entry missing or not a positive integer, an
        array of the wrong shape, an exponent or a PSUM out of its range.
    """
    arrays = {key: np.asarray(cap[key], dtype=dtype) for key, dtype in ARRAYS.items()}
    _check(arrays, cap["meta"], "capture")
    np.savez_compressed(path, **arrays, meta=np.array(json.dumps(cap["meta"], sort_keys=True)))


def read_capture(path):
    """Read and check a capture file.

    Parameters
    ----------
    path : str or os.PathLike
        An ``.npz`` capture file.

    Returns
    -------
    dict
        The five arrays (as stored) and ``meta`` as a ``dict``.

    Raises
    ------
    ValueError
        A missing member, ``meta`` that is not JSON, an array of the wrong dtype or shape, an
        exponent or a PSUM out of its range; the message starts with ``path``.
    """
    with np.load(path, allow_pickle=False) as f:
        missing = [key for key in KEYS if key not in f.files]
        if missing:
            raise ValueError(f"{path}: capture file lacks {', '.join(missing)} (a capture "
                             f"holds {', '.join(KEYS)})")
        arrays = {key: f[key] for key in ARRAYS}
        text = str(f["meta"][()])
    try:
        meta = json.loads(text)
    except ValueError:
        raise ValueError(f"{path}: meta = {text[:40]!r} is not JSON (legal: a JSON object "
                         f"with {', '.join(META_KEYS)})") from None
    for key, dtype in ARRAYS.items():
        if arrays[key].dtype != dtype:
            raise ValueError(f"{path}: {key} has dtype {arrays[key].dtype}, expected "
                             f"{np.dtype(dtype)}")
    _check(arrays, meta, str(path))
    return {**arrays, "meta": meta}
