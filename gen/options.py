"""Command-line options for the elaboration parameters, shared by every subcommand."""

from hdl.params import RAEParams, ROUNDING_RULES


__all__ = ["add_param_options", "params_from_args"]


_DEFAULTS = RAEParams()

_HELP = {
    "lanes": "elements per tile (>= 1)",
    "psum_bits": "width of a signed PSUM element (2..64)",
    "q_bits": "width of a signed stored value (2..psum_bits)",
    "max_group_size": "number of banks, largest run-time group size (1..16)",
    "depth": "rows per bank (>= 1)",
    "exp_bits": "exponent width (1..6)",
    "step_bits": "width of the step index (1..32)",
}


def add_param_options(parser):
    """Add ``--lanes --psum-bits --q-bits --max-group-size --depth --exp-bits --step-bits
    --rounding`` to an :class:`argparse.ArgumentParser`, with the spec's defaults."""
    group = parser.add_argument_group("engine parameters (spec section 4)")
    for name, help_text in _HELP.items():
        default = getattr(_DEFAULTS, name)
        group.add_argument("--" + name.replace("_", "-"), dest=name, type=int, default=default,
                           metavar="N", help=f"{help_text}; default {default}")
    group.add_argument("--rounding", default=_DEFAULTS.rounding, choices=ROUNDING_RULES,
                       help=f"rounding rule of the quantizer; default {_DEFAULTS.rounding}")


def params_from_args(args):
    """Build :class:`RAEParams` from parsed options; raises ``ValueError`` naming the
    first illegal option (the caller turns it into one line and exit code 2)."""
    try:
        return RAEParams(**{name: getattr(args, name) for name in RAEParams.names()})
    except ValueError as error:
        # Speak the command line's language: `--q-bits`, not `q_bits`.
        message = str(error)
        for name in RAEParams.names():
            if message.startswith(name + " "):
                message = "--" + name.replace("_", "-") + message[len(name):]
                break
        raise ValueError(message) from None
