"""Command-line options for the elaboration parameters, shared by every subcommand."""

from hdl.params import PARAM_HELP, RAEParams, ROUNDING_RULES, as_option_error


__all__ = ["add_param_options", "params_from_args"]


_DEFAULTS = RAEParams()


def add_param_options(parser):
    """Add ``--lanes --psum-bits --q-bits --max-group-size --depth --exp-bits --step-bits
    --rounding`` to an :class:`argparse.ArgumentParser`, with the spec's defaults."""
    group = parser.add_argument_group("engine parameters (spec section 4)")
    for name, help_text in PARAM_HELP.items():
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
        raise as_option_error(error) from None
