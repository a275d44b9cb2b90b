"""The ``apsq-rae`` command line (also ``python -m apsq_rae``).

Each subpackage with commands has a ``cli`` module providing ``register(subparsers)``, which
adds its subcommands and sets, for each, ``func`` (a callable taking the parsed arguments) and
``prog`` (its name in messages). A ``ValueError`` raised by ``func`` is a user error: one line
on standard error and exit status 2. The ``cli`` modules import their heavy dependencies only
inside ``func``, so ``apsq-rae --help`` is quick and no subcommand's settings reach another.
A subcommand that needs environment variables set before its libraries load names them in
``environment`` (set only if the user has not set them).
"""

import argparse
import importlib
import os
import re
import sys


__all__ = ["main", "build_parser", "OneLineParser"]


#: Modules that register subcommands, in the order ``--help`` lists them.
SUBCOMMANDS = ("apsq_rae.gen.cli", "apsq_rae.area.cli", "apsq_rae.fpga.cli",
               "apsq_rae.explore.cli")


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (``PROG: error: MESSAGE (see PROG
    --help)``, exit status 2), like the errors of the subcommands themselves, without
    argparse's usage text in front. Subcommand parsers are of this class too, and so are the
    parsers of the ``python -m apsq_rae.X`` tools behind ``make formal``, ``make mutate`` and
    ``make waves``."""

    def error(self, message):
        # "argument --seed: --seed = 'x' is ...": an option's own message already names it.
        message = re.sub(r"^argument (\S+): (?=\1 )", "", message)
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser():
    parser = OneLineParser(
        prog="apsq-rae",
        description="Generate, measure, build and explore the Reconfigurable APSQ Engine.")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module_name in SUBCOMMANDS:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    prog = getattr(args, "prog", f"{parser.prog} {args.command}")
    for name, value in getattr(args, "environment", {}).items():
        os.environ.setdefault(name, value)
    try:
        return args.func(args) or 0
    except ValueError as error:
        print(f"{prog}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
