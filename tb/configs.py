"""Parameter sets the regression simulates, with readable names.

``FAST`` runs in ``make test``; ``SLOW`` adds the nightly sweep for ``make regress``.
Every configuration is exercised at every run-time group size it supports. A configuration
is built at the pipeline setting :data:`PIPELINE` gives for its name (``"default"`` if it
gives none).
"""

import itertools

from apsq_rae.hdl.params import RAEParams


__all__ = ["config_from_manifest", "config_name", "pipeline_of", "traffic_scale", "FUNCTIONAL",
           "FAST", "SLOW", "PIPELINE", "THROUGHPUT"]


_SHORT = {"lanes": "l", "psum_bits": "p", "q_bits": "q", "max_group_size": "g",
          "depth": "d", "exp_bits": "e", "step_bits": "s"}
_ROUND = {"half_up": "hu", "half_even": "he", "trunc": "tr"}


def config_name(params, pipeline="default"):
    """A readable, unique, file-system-safe name, e.g. ``l16p32q8g4d256e5s16hu``, with the
    pipeline setting appended unless it is ``"default"`` (``l2p32q8g4d8e5s16hu-min``)."""
    name = "".join(f"{_SHORT[k]}{getattr(params, k)}" for k in _SHORT) + _ROUND[params.rounding]
    return name if pipeline == "default" else f"{name}-{pipeline}"


def _p(**kwargs):
    return RAEParams(**kwargs)


#: ``make test``: defaults; max_group_size 1, 2, 4, 8; lanes 1 and 16; q_bits 4 and 8; every
#: rounding rule; plus an odd-sized and a widest-arithmetic corner, and narrow engines at the
#: ``min`` and ``max`` pipeline settings. Small depths keep the capacity edges reachable in a
#: short run.
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
    # The other pipeline settings (PIPELINE below), on narrow engines.
    "min": _p(lanes=2, depth=8),
    "odd_min": _p(lanes=3, psum_bits=12, q_bits=5, max_group_size=3, depth=5, exp_bits=3,
                  step_bits=5, rounding="half_even"),
    "max": _p(lanes=2, depth=8, rounding="trunc"),
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
    for setting in ("min", "max"):
        for g, rounding in ((1, "half_up"), (2, "trunc"), (3, "half_even"), (5, "half_up"),
                            (16, "half_even")):
            p = _p(max_group_size=g, rounding=rounding, lanes=2, depth=8, psum_bits=24,
                   step_bits=6)
            sweep[config_name(p, setting)] = p
            _SLOW_PIPELINE[config_name(p, setting)] = setting
        for psum, q, e in ((2, 2, 1), (64, 64, 6)):
            p = _p(psum_bits=psum, q_bits=q, exp_bits=e, lanes=3, depth=4, max_group_size=3)
            sweep[config_name(p, setting)] = p
            _SLOW_PIPELINE[config_name(p, setting)] = setting
        p = _p(lanes=16, depth=4)
        sweep[config_name(p, setting)] = p
        _SLOW_PIPELINE[config_name(p, setting)] = setting
    return sweep


_SLOW_PIPELINE = {}

#: ``make regress`` only (``@pytest.mark.slow``).
SLOW = _slow()

#: The pipeline setting of every configuration, by name, that is not built at ``"default"``.
PIPELINE = {"min": "min", "odd_min": "min", "max": "max", **_SLOW_PIPELINE}


def pipeline_of(name):
    """The pipeline setting of the configuration called ``name`` in :data:`FAST` or
    :data:`SLOW`."""
    return PIPELINE.get(name, "default")

#: The configuration the throughput benchmark measures (the spec defaults).
THROUGHPUT = FAST["default"]


#: cocotb tests every configuration runs (one simulator run per configuration).
FUNCTIONAL = ["orders", "stress", "errors", "midreset", "latency", "schedule"]


def traffic_scale(params, base=1.0):
    """Random traffic per configuration: the larger group sizes have longer accumulations, so
    scale them down to keep each run to seconds. Wide engines get the same traffic as narrow
    ones: the generated Verilog is written for Icarus (:mod:`apsq_rae.gen.verilog_text`: one
    concatenation per part-assigned net, one ``always`` block per clock edge), so a 16-lane
    engine simulates fast enough for the same traffic."""
    return base * min(1.0, 4 / params.max_group_size) ** 2


def config_from_manifest(manifest, seed):
    """The configuration a cocotb test reads (``APSQ_TB_CONFIG``), from the manifest of the
    Verilog under test: parameters, latency, the throughput rule's ``reread_distance``, the
    pipeline setting and its knobs,
    capacities, ``axis`` packing if present, and the seed."""
    config = {"params": manifest["parameters"], "latency": manifest["latency"],
              "reread_distance": manifest["reread_distance"], "pipeline": manifest["pipeline"],
              "capacity": manifest["capacity"], "seed": seed}
    if "axis" in manifest:
        config["axis"] = manifest["axis"]
    return config
