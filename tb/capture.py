"""The engine that replays a capture file in the ``replay`` cocotb test.

The format, its reader and its writer are :mod:`apsq_rae.explore.capture_file`; this module
adds what only the testbench needs: :func:`capture_params`, the engine sized for a capture.
"""


__all__ = ["capture_params"]


def capture_params(capture, *, max_group_size=4):
    """Engine parameters that replay ``capture`` at every group size up to ``max_group_size``.

    ``lanes``, ``psum_bits`` and ``exp_bits`` (and ``q_bits``, ``rounding`` when present) come
    from the capture's meta; the depth makes the capacity at the largest group size cover the
    highest address; the step width holds the longest accumulation (at least the default);
    everything else takes the spec defaults.

    Parameters
    ----------
    capture : dict
        A capture, as :func:`apsq_rae.explore.capture_file.read_capture` returns it.
    max_group_size : int
        The largest group size to replay at.

    Returns
    -------
    apsq_rae.hdl.params.RAEParams

    Raises
    ------
    ValueError
        The parameters are out of the engine's ranges (see :class:`RAEParams`).
    """
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
