"""Command-line options shared by the subcommands: the engine parameters and integer lists.

The engine's options (``--lanes --psum-bits --q-bits --max-group-size --depth --exp-bits
--step-bits --rounding``) are declared here once, from :class:`apsq_rae.hdl.params.RAEParams`
(names, legal ranges in the help, the spec's defaults). A subcommand takes the subset it needs
and may pass its own defaults (a board's, say); :func:`engine_params` turns the parsed options
back into an :class:`RAEParams` and rewords its ``ValueError`` with the option's spelling.
``--pipeline`` (:func:`add_pipeline_option`), the engine's pipeline setting, is declared here
too, for every subcommand that elaborates the engine, with ``--knob NAME=VALUE`` where a
command takes single knobs over the setting (:func:`chosen_pipeline` combines the two).
"""

import argparse
import dataclasses

from apsq_rae.hdl.params import PARAM_HELP, RAEParams, ROUNDING_RULES, as_option_error
from apsq_rae.hdl.pipeline import SETTINGS, Pipeline


__all__ = ["add_engine_options", "add_pipeline_option", "engine_params", "parse_int_list",
           "int_list", "parse_knob", "chosen_pipeline"]


_SPEC_DEFAULTS = RAEParams()

#: Every engine option, in the spec's order.
ENGINE_OPTIONS = tuple(RAEParams.names())


def option_name(name):
    """``q_bits`` -> ``--q-bits``."""
    return "--" + name.replace("_", "-")


def add_engine_options(parser, *, names=ENGINE_OPTIONS, unset=False, title=None, help=None):
    """Add engine-parameter options to an :class:`argparse.ArgumentParser`.

    Parameters
    ----------
    parser : argparse.ArgumentParser
    names : iterable of str
        The parameters to offer (default: all of them), in :data:`ENGINE_OPTIONS` order.
    unset : bool
        If true, an option not given is ``None`` (:func:`engine_params` fills it from its
        ``defaults``, then from the spec); otherwise it defaults to the spec's value, which
        its help names.
    title : str, optional
        Title of the option group.
    help : dict of str to str, optional
        Help texts that replace the standard ones, by parameter name.
    """
    help = help or {}
    unknown = set(names) - set(ENGINE_OPTIONS)
    if unknown:
        raise ValueError(f"not engine parameters: {', '.join(sorted(unknown))}")
    group = parser.add_argument_group(title or "engine parameters (docs/spec.md section 4)")
    for name in ENGINE_OPTIONS:
        if name not in names:
            continue
        default = None if unset else getattr(_SPEC_DEFAULTS, name)
        text = help.get(name, PARAM_HELP.get(name, "rounding rule of the quantizer"))
        if not unset:
            text += f"; default {default}"
        if name == "rounding":
            group.add_argument(option_name(name), dest=name, default=default,
                               choices=ROUNDING_RULES, help=text)
        else:
            group.add_argument(option_name(name), dest=name, type=int, default=default,
                               metavar="N", help=text)


def add_pipeline_option(parser, *, knobs=False):
    """Add ``--pipeline min|default|max`` (the engine's pipeline setting, default ``default``;
    :class:`apsq_rae.hdl.pipeline.Pipeline`) to an :class:`argparse.ArgumentParser`, and with
    ``knobs`` the repeatable ``--knob NAME=VALUE`` that changes one knob of that setting
    (:func:`parse_knob`; :func:`chosen_pipeline` gives the result). An unknown value is argparse's
    one-line error naming the legal ones (exit 2)."""
    parser.add_argument("--pipeline", choices=tuple(SETTINGS), default="default",
                        help="pipeline setting of the engine: min (fewest registers, shortest "
                             "latency), default (the ECP5-tuned engine) or max (deepest, for "
                             "clock rate); default default")
    if knobs:
        parser.add_argument("--knob", type=parse_knob, action="append", default=[],
                            metavar="NAME=VALUE",
                            help="change one knob of the --pipeline setting (repeatable; "
                                 "docs/design.md, pipeline settings): "
                                 + ", ".join(f"{name} ({_knob_kind(name)})"
                                             for name in Pipeline.knobs()))


_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def _knob_kind(name):
    """``0..6``, ``>= 0`` or ``0|1`` for a knob's help, from its type and check."""
    if _knob_type(name) is bool:
        return "0|1"
    try:
        Pipeline(**{name: -1})
    except ValueError as error:
        return str(error).rpartition("(legal: ")[2].rstrip(")")
    return "an integer"


def _knob_type(name):
    return {f.name: f.type for f in dataclasses.fields(Pipeline)}[name]


def parse_knob(text):
    """Parse ``--knob NAME=VALUE`` into ``(name, value)``: ``NAME`` a knob of
    :class:`~apsq_rae.hdl.pipeline.Pipeline`, ``VALUE`` an integer, or for an on/off knob one
    of 1, true, yes, on, 0, false, no, off. An argparse ``type``: a bad knob is a one-line
    error naming the legal names or values (exit 2)."""
    name, eq, value = str(text).partition("=")
    name, value = name.strip().replace("-", "_"), value.strip()
    knobs = Pipeline.knobs()
    if not eq or not value:
        raise argparse.ArgumentTypeError(f"--knob = {text!r} is not NAME=VALUE "
                                         f"(e.g. decode_register=1)")
    if name not in knobs:
        raise argparse.ArgumentTypeError(f"--knob {name!r} is not a pipeline knob "
                                         f"(legal: {', '.join(knobs)})")
    if _knob_type(name) is bool:
        if value.lower() not in _TRUE + _FALSE:
            raise argparse.ArgumentTypeError(f"--knob {name} = {value!r} is not on or off "
                                             f"(legal: {', '.join(_TRUE + _FALSE)})")
        return name, value.lower() in _TRUE
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--knob {name} = {value!r} is not an integer "
                                         f"(legal: {_knob_kind(name)})") from None
    try:
        Pipeline(**{name: number})
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"--knob {error}") from None
    return name, number


def chosen_pipeline(args):
    """The pipeline of parsed ``--pipeline`` and ``--knob`` options: the setting's name when
    no knob changes it (so that labels, manifests and reports read as before), else a
    :class:`~apsq_rae.hdl.pipeline.Pipeline` (the last ``--knob`` of a name wins)."""
    knobs = dict(getattr(args, "knob", None) or [])
    if not knobs:
        return args.pipeline
    pipeline = dataclasses.replace(Pipeline.setting(args.pipeline), **knobs)
    return pipeline.name if pipeline.name != "custom" else pipeline


def engine_params(args, defaults=None):
    """The :class:`RAEParams` of parsed options.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed options; engine parameters missing from it, or ``None`` in it, take
        ``defaults``, then the spec's defaults.
    defaults : dict, optional
        Defaults over the spec's (e.g. a board's).

    Raises
    ------
    ValueError
        The first illegal option, spelled as an option (``--q-bits = 40 is out of range
        (legal: 2..32)``); the command line prints it as one line and exits 2.
    """
    values = dict(defaults or {})
    for name in ENGINE_OPTIONS:
        value = getattr(args, name, None)
        if value is not None:
            values[name] = value
    try:
        return RAEParams(**values)
    except ValueError as error:
        raise as_option_error(error) from None


def parse_int_list(text, option, lo=None, hi=None):
    """Parse a list of integers such as ``"8,6,4"`` or ``"1-8"`` (ranges are inclusive).

    Order is kept and duplicates are dropped. A tuple or list is taken as already parsed.

    Raises
    ------
    ValueError
        One line naming ``option``: not a list, empty, or a value outside ``lo..hi``.
    """
    if isinstance(text, (tuple, list)):
        values = list(text)
    else:
        values = []
        try:
            for part in str(text).split(","):
                part = part.strip()
                if not part:
                    continue
                # A leading minus is a sign; a later one separates a range's two ends.
                head, dash, tail = part[1:].partition("-")
                if dash:
                    values += list(range(int(part[0] + head), int(tail) + 1))
                else:
                    values.append(int(part))
        except ValueError:
            raise ValueError(f"{option} = {text!r} is not a list of integers "
                             f"(e.g. 1-8 or 8,6,4)") from None
    if not values:
        raise ValueError(f"{option} = {text!r} is empty")
    for value in values:
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            legal = (f"{lo}..{hi}" if lo is not None and hi is not None
                     else f">= {lo}" if lo is not None else f"<= {hi}")
            raise ValueError(f"{option} holds {value}, out of range (legal: {legal})")
    return list(dict.fromkeys(values))


def int_list(option, lo=None, hi=None):
    """An argparse ``type`` for :func:`parse_int_list`: a bad list is argparse's one-line
    error (exit 2)."""
    def parse(text):
        try:
            return parse_int_list(text, option, lo, hi)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None
    parse.__name__ = "integer list"
    return parse
