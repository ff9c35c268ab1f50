"""Command line: ``optanalysis COMMAND ...``.

Each command lives in its own module of this package, with ``add_parser(subparsers)``,
``run(args) -> int`` and ``EXAMPLES`` (two command lines that end its ``--help``).  Errors in user
input (``ValueError``/``TypeError``, and numbers, sizes, nesting or paths the machine cannot take)
print one line on stderr and exit with status 2, never a traceback.
"""
from __future__ import annotations

import argparse
import importlib
import os
import re
import sys
import textwrap
import warnings

COMMANDS = ("rules", "derive", "worst-case", "compare", "simulate", "reproduce", "study", "schedules", "sweep",
            "lecture")

# argparse reads only plain negative numbers ("-1", "-.5") as values; "-0.5,1", "-1e-3", "-inf" and
# "-1,0;0,2" would be taken for unknown options ("expected one argument")
_MINUS_VALUE = re.compile(r"-(\d|\.\d|inf|nan)", re.IGNORECASE)


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors, values that start with a minus, and no silently empty values."""

    def error(self, message):  # one line, exit 2 (argparse would print the usage too)
        raise SystemExit(_fail(f"{self.prog}: {message}"))

    def _parse_optional(self, arg_string):  # argparse's own classifier (no public hook for this)
        if arg_string not in self._option_string_actions and _MINUS_VALUE.match(arg_string):
            return None  # a value (a positional, or the argument of the option before it)
        return super()._parse_optional(arg_string)

    def parse_known_args(self, args=None, namespace=None):
        ns, extras = super().parse_known_args(args, namespace)
        for action in self._actions:  # each parser checks its own: a subcommand's parser parses its part
            values = getattr(ns, action.dest, None)
            for value in values if isinstance(values, list) else [values]:
                if isinstance(value, str) and not value.strip() and value is not action.default:
                    # name the flag: the library's own message would name its parameter ("spectrum")
                    raise SystemExit(_fail(f"{_name(action)}: empty"))
        return ns, extras


def _name(action: argparse.Action) -> str:
    return max(action.option_strings, key=len) if action.option_strings else action.metavar or action.dest


class _Formatter(argparse.HelpFormatter):
    """Wraps prose lines and keeps indented lines (examples, spec tables) as written."""

    def _fill_text(self, text, width, indent):
        return "\n".join(line if line[:1] in ("", " ") else
                         textwrap.fill(line, width, initial_indent=indent, subsequent_indent=indent)
                         for line in text.splitlines())


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The ``optanalysis`` parser with one subparser per name of :data:`COMMANDS`.

    Parameters
    ----------
    command : str, optional
        Build only this command's subparser in full (the others by name only, so that a run
        imports no other command's module, e.g. the lecture's topics or the sweeps' example);
        default: all of them, for ``optanalysis --help``.

    Returns
    -------
    argparse.ArgumentParser
        The parser; ``parser.commands`` maps each command name to its subparser.
    """
    from .. import __version__

    parser = _Parser(prog="optanalysis", description=__doc__.splitlines()[0], formatter_class=_Formatter)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    parser.commands = sub.choices  # name -> subparser, for main's error messages
    for name in COMMANDS:
        if command in COMMANDS and name != command:
            sub.add_parser(name)
            continue
        module = importlib.import_module(f"{__name__}.{name.replace('-', '_')}")
        module.add_parser(sub)
        _end_with_examples(sub.choices[name], getattr(module, "EXAMPLES", ()))
    return parser


def _command(argv: list) -> str | None:
    """The command named in ``argv`` (its first word that is not an option: the top-level parser
    has no option that takes a value), or None."""
    return next((a for a in argv if not a.startswith("-")), None)


def _end_with_examples(parser: argparse.ArgumentParser, examples) -> None:
    text = "examples:\n" + "\n".join(f"  {_wrapped(command)}" for command in examples)
    parser.epilog = f"{parser.epilog.rstrip()}\n\n{text}" if parser.epilog else text
    parser.formatter_class = _Formatter


def _wrapped(command: str) -> str:
    """A long command line continued with backslashes (it still pastes into a shell), never broken
    between a flag and its value."""
    glued = re.sub(r"(--\S+) (?!--)", "\\1\0", command)  # NUL: a space that textwrap does not break at
    parts = textwrap.wrap(glued, 88, break_long_words=False, break_on_hyphens=False)
    return " \\\n      ".join(parts).replace("\0", " ")


def main(argv=None) -> int:
    """Run ``optanalysis`` with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(_command(argv))
    args = parser.parse_args(argv)
    try:
        with warnings.catch_warnings():
            # overflow on the way to a reported divergence is an outcome, not a warning: stderr
            # keeps to the one line of an error
            warnings.simplefilter("ignore", RuntimeWarning)
            return args.run(args)
    except (ValueError, TypeError) as exc:
        return _fail(_in_flags(_first_line(exc), parser.commands[args.command]))
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


def _in_flags(message: str, parser: argparse.ArgumentParser) -> str:
    """``"hessian_diag must be >= 0"`` -> ``"--hessian-diag must be >= 0"``: the library names its
    parameter, the user typed the flag of the same name."""
    word = re.match(r"([A-Za-z_]\w*)(?=[ :])", message)
    flags = {a.dest: _name(a) for a in parser._actions if a.option_strings}
    return flags[word[1]] + message[word.end():] if word and word[1] in flags else message


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
