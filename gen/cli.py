"""The ``apsq-rae`` command line (also ``python -m gen``).

Each subcommand lives in its own module, which provides ``register(subparsers)``: it adds
its parser and sets ``func`` to a callable taking the parsed arguments. A ``ValueError``
raised by that callable is a user error: one line on standard error and exit code 2.
"""

import argparse
import importlib
import sys


__all__ = ["main"]


#: Subcommand modules, in the order ``--help`` lists them.
SUBCOMMANDS = ("gen.generate", "gen.area", "gen.explore.cli")


def build_parser():
    parser = argparse.ArgumentParser(
        prog="apsq-rae",
        description="Generate, measure and explore the Reconfigurable APSQ Engine.")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module_name in SUBCOMMANDS:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name is None or not module_name.startswith(error.name):
                raise
            continue  # subcommand not built yet
        module.register(subparsers)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args) or 0
    except ValueError as error:
        print(f"{parser.prog} {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{parser.prog} {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
