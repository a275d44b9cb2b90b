"""PSUM traffic and access-energy model, INT32 baseline against APSQ, per dataflow.

**Traffic per output element** is counted by walking the spec's protocol (section 3) for an
address of ``n`` steps (:func:`apsq_traffic`): every step writes one stored value (a pending
PSQ value or an AP, ``q_bits`` each); an APSQ step reads the group's pending values and the
previous AP; the final AP is read once as the result. The INT32 baseline writes the running
sum at every step, reads it back at every step but the first, and reads the result once
(:func:`int32_traffic`). Both come to ``n`` writes and ``n`` reads per element, so without
spills APSQ moves ``q_bits / psum_bits`` of the INT32 bits at every group size.

**Where the bits go.** The PSUM buffer is the RAE's SRAM: ``max_group_size`` banks of
``depth`` rows of ``lanes * q_bits`` bits. With group size ``gs`` it holds
``depth * floor(max_group_size / gs)`` addresses (spec section 4; for ``gs`` above
``max_group_size``, which this engine cannot run, ``floor(depth * max_group_size / gs)`` of a
hypothetical larger one). The INT32 baseline gets the same SRAM bits, so
``depth * max_group_size * q_bits // psum_bits`` addresses. The number of addresses alive at
once depends on the dataflow: weight-stationary streams ``ws_rows`` tokens past each weight
tile (``ws_rows`` addresses alive); input-stationary holds ``is_rows`` tokens and streams all
``n_blocks = ceil(N / lanes)`` weight blocks (``is_rows * n_blocks`` alive). When more are
alive than fit, the excess fraction ``(alive - capacity) / alive`` of the addresses keeps its
PSUMs in DRAM (first-order spill model: all their PSUM accesses cost DRAM energy).

**Energy per bit** (defaults, 45 nm, from M. Horowitz, "Computing's energy problem (and what
we can do about it)", ISSCC 2014): SRAM 20 pJ per 64-bit access of a 32 KB array, 0.3125
pJ/bit; DRAM 1.3 to 2.6 nJ per 64-bit access, the low end 1300/64 = 20.3 pJ/bit. Writes cost
as much as reads. Only PSUM accesses are modelled: weights, activations and arithmetic are the
same for INT32 and APSQ and are left out, so the reductions here are of PSUM-access energy,
not of a whole accelerator's energy as the paper's 28-87 %.
"""

from dataclasses import dataclass, asdict


__all__ = ["EnergyParams", "apsq_traffic", "int32_traffic", "capacity", "int32_capacity",
           "alive", "spill_fraction", "layer_energy", "total_reduction"]


@dataclass(frozen=True)
class EnergyParams:
    """Parameters of the energy model (see the module text).

    Parameters
    ----------
    sram_pj_per_bit, dram_pj_per_bit : float
        Access energy per bit, read or write.
    psum_bits : int
        Width of an INT32-baseline PSUM.
    lanes, depth, max_group_size : int
        The engine's geometry (spec section 4); ``q_bits`` comes with each scheme.
    ws_rows : int
        Tokens streamed past a weight tile in weight-stationary order (addresses alive).
    is_rows : int
        Tokens held in the array in input-stationary order.
    """

    sram_pj_per_bit: float = 20.0 / 64
    dram_pj_per_bit: float = 1300.0 / 64
    psum_bits: int = 32
    lanes: int = 16
    depth: int = 256
    max_group_size: int = 4
    ws_rows: int = 512
    is_rows: int = 8

    def __post_init__(self):
        for name in ("sram_pj_per_bit", "dram_pj_per_bit"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} = {getattr(self, name)!r} is out of range (legal: > 0)")
        for name in ("psum_bits", "lanes", "depth", "max_group_size", "ws_rows", "is_rows"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} = {v!r} is out of range (legal: integer >= 1)")

    def as_dict(self):
        return asdict(self)


def apsq_traffic(n_steps, group_size, q_bits):
    """``(write_bits, read_bits)`` of one output element accumulated over ``n_steps`` steps
    with APSQ at ``group_size``, counted from the protocol of spec section 3."""
    writes = reads = pending = 0
    for i in range(n_steps):
        if i % group_size == group_size - 1 or i == n_steps - 1:     # APSQ step
            reads += pending + (1 if i >= group_size else 0)
            pending = 0
        else:                                                         # PSQ step
            pending += 1
        writes += 1
    reads += 1                                                        # the result
    return writes * q_bits, reads * q_bits


def int32_traffic(n_steps, psum_bits=32):
    """``(write_bits, read_bits)`` of one output element in the INT32 baseline."""
    return n_steps * psum_bits, n_steps * psum_bits


def capacity(params, group_size):
    """Addresses the RAE's buffer holds at ``group_size`` (see the module text)."""
    if group_size <= params.max_group_size:
        return params.depth * (params.max_group_size // group_size)
    return params.depth * params.max_group_size // group_size


def int32_capacity(params, q_bits):
    """Addresses an INT32 buffer of the same SRAM bits holds."""
    return params.depth * params.max_group_size * q_bits // params.psum_bits


def alive(params, dataflow, n_blocks):
    """Addresses alive at once in a layer with ``n_blocks`` output blocks."""
    return params.ws_rows if dataflow == "ws" else params.is_rows * n_blocks


def spill_fraction(n_alive, cap):
    """Fraction of the addresses whose PSUMs do not fit and live in DRAM."""
    return max(0, n_alive - cap) / n_alive if n_alive else 0.0


def _energy(bits, spill, params):
    return bits * ((1 - spill) * params.sram_pj_per_bit + spill * params.dram_pj_per_bit)


def layer_energy(params, *, n_outputs, n_steps, n_blocks, dataflow, q_bits, group_sizes):
    """PSUM traffic and energy of one layer.

    Returns
    -------
    dict
        ``int32``: ``{"bits", "spill", "pj"}``; ``apsq``: ``{gs: {"bits", "spill", "pj",
        "reduction"}}`` where ``reduction = 1 - pj / int32 pj``.
    """
    n_alive = alive(params, dataflow, n_blocks)
    w, r = int32_traffic(n_steps, params.psum_bits)
    spill = spill_fraction(n_alive, int32_capacity(params, q_bits))
    base_bits = (w + r) * n_outputs
    base = {"bits": base_bits, "spill": spill, "pj": _energy(base_bits, spill, params),
            "alive": n_alive, "capacity": int32_capacity(params, q_bits)}
    out = {}
    for gs in group_sizes:
        w, r = apsq_traffic(n_steps, gs, q_bits)
        cap = capacity(params, gs)
        spill = spill_fraction(n_alive, cap)
        bits = (w + r) * n_outputs
        pj = _energy(bits, spill, params)
        out[gs] = {"bits": bits, "spill": spill, "pj": pj, "capacity": cap,
                   "reduction": 1 - pj / base["pj"] if base["pj"] else 0.0}
    return {"int32": base, "apsq": out}


def total_reduction(layers, group_sizes):
    """Energy reduction of the sum of several :func:`layer_energy` results."""
    base = sum(l["int32"]["pj"] for l in layers)
    return {gs: 1 - sum(l["apsq"][gs]["pj"] for l in layers) / base if base else 0.0
            for gs in group_sizes}

