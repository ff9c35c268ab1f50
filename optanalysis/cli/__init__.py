"""Command line: ``optanalysis COMMAND ...``.

Each command lives in its own module of this package, with ``add_parser(subparsers)`` and
``run(args) -> int``.  Errors in user input (``ValueError``/``TypeError``, and numbers, sizes,
nesting or paths the machine cannot take) print one line on stderr and exit with status 2,
never a traceback.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
import warnings

COMMANDS = ("rules", "derive", "worst-case", "compare", "simulate", "reproduce", "study", "schedules")


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2 (argparse would print the usage too)
        raise SystemExit(_fail(f"{self.prog}: {message}"))


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="optanalysis", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name in COMMANDS:
        importlib.import_module(f"{__name__}.{name.replace('-', '_')}").add_parser(sub)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        with warnings.catch_warnings():
            # overflow on the way to a reported divergence is an outcome, not a warning: stderr
            # keeps to the one line of an error
            warnings.simplefilter("ignore", RuntimeWarning)
            return args.run(args)
    except (ValueError, TypeError) as exc:
        return _fail(_first_line(exc))
    except OverflowError as exc:  # an integer beyond what the arrays or the machine take
        return _fail(f"a number is too large ({_first_line(exc)})")
    except MemoryError:
        return _fail("not enough memory for this run (fewer steps, a smaller d or record_every)")
    except RecursionError:
        return _fail("input nested too deeply")
    except KeyboardInterrupt:
        return _fail("interrupted")
    except BrokenPipeError:  # output piped into e.g. `head`: stop quietly, as Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:  # an output path that cannot be written
        where = f"{exc.filename}: " if exc.filename else ""
        return _fail(f"{where}{exc.strerror or _first_line(exc)}")


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
