"""Parameter sets the regression simulates, with readable names.

``FAST`` runs in ``make test``; ``SLOW`` adds the nightly sweep for ``make regress``.
Every configuration is exercised at every run-time group size it supports.
"""

import itertools

from apsq_rae.hdl.params import RAEParams


__all__ = ["config_name", "FAST", "SLOW", "THROUGHPUT"]


_SHORT = {"lanes": "l", "psum_bits": "p", "q_bits": "q", "max_group_size": "g",
          "depth": "d", "exp_bits": "e", "step_bits": "s"}
_ROUND = {"half_up": "hu", "half_even": "he", "trunc": "tr"}


def config_name(params):
    """A readable, unique, file-system-safe name, e.g. ``l16p32q8g4d256e5s16hu``."""
    return "".join(f"{_SHORT[k]}{getattr(params, k)}" for k in _SHORT) + _ROUND[params.rounding]


def _p(**kwargs):
    return RAEParams(**kwargs)


#: ``make test``: defaults; max_group_size 1, 2, 4, 8; lanes 1 and 16; q_bits 4 and 8; every
#: rounding rule; plus an odd-sized and a widest-arithmetic corner. Small depths keep the
#: capacity edges reachable in a short run.
FAST = {
    "default": _p(),
    "g1": _p(max_group_size=1, depth=16, lanes=4),
    "g2": _p(max_group_size=2, depth=16, lanes=4),
    "g8": _p(max_group_size=8, depth=8, lanes=4),
    "lanes1": _p(lanes=1, depth=16),
    "q4": _p(q_bits=4, depth=16, lanes=4, psum_bits=16),
    "half_even": _p(rounding="half_even", depth=16, lanes=4),
    "trunc": _p(rounding="trunc", depth=16, lanes=4, q_bits=4, psum_bits=20),
    "odd": _p(lanes=3, psum_bits=12, q_bits=5, max_group_size=3, depth=5, exp_bits=3,
              step_bits=5, rounding="half_even"),
    "wide": _p(lanes=2, psum_bits=64, q_bits=16, max_group_size=4, depth=4, exp_bits=6,
               step_bits=8, rounding="half_up"),
}


def _slow():
    sweep = {}
    for g, rounding, q in itertools.product(
            (1, 2, 3, 4, 5, 8, 16), ("half_up", "half_even", "trunc"), (4, 8)):
        p = _p(max_group_size=g, rounding=rounding, q_bits=q, lanes=2, depth=8,
               psum_bits=24, exp_bits=4 if q == 4 else 5, step_bits=6)
        sweep[config_name(p)] = p
    for g in (1, 4, 16):       # 16 lanes: slow in Icarus, so only a few
        p = _p(max_group_size=g, lanes=16, depth=4)
        sweep[config_name(p)] = p
    for depth in (1, 2, 3, 7, 64, 100):
        p = _p(depth=depth, lanes=2, max_group_size=4)
        sweep[config_name(p)] = p
    for psum, q, e in ((2, 2, 1), (9, 9, 2), (33, 7, 6), (64, 64, 6), (48, 3, 1)):
        p = _p(psum_bits=psum, q_bits=q, exp_bits=e, lanes=3, depth=4, max_group_size=3)
        sweep[config_name(p)] = p
    return sweep


#: ``make regress`` only (``@pytest.mark.slow``).
SLOW = _slow()

#: The configuration the throughput benchmark measures (the spec defaults).
THROUGHPUT = FAST["default"]
