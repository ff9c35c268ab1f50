"""The command line's shared parser: values that start with a minus, empty values named by their flag,
``--version``, and two examples at the end of every subcommand's ``--help``."""
import json
import shlex
import subprocess
import sys

import pytest

import optanalysis
from optanalysis.cli import COMMANDS, build_parser, main

# the least each command needs to parse; a new command must add its own (a KeyError otherwise)
BASE = {
    "rules": [],
    "derive": ["gd"],
    "worst-case": ["gd", "--mu", "1", "--L", "2", "--steps", "3"],
    "compare": ["gd", "--hessian-diag", "1", "--steps", "3"],
    "simulate": ["gd", "--hessian-diag", "1", "--x0", "1", "--steps", "3"],
    "reproduce": [],
    "study": ["gd_stability_and_rate"],
    "schedules": [],
    "sweep": ["grid.toml"],
    "lecture": [],
}


def _cli(capsys, *argv):
    try:
        code = main(list(argv))
    except SystemExit as exc:  # errors found while parsing exit from inside argparse
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def _value_options(command):
    """(subparser, action) for every option of ``command`` that takes a value."""
    parser = build_parser().commands[command]
    return [(parser, a) for a in parser._actions if a.option_strings and a.nargs != 0]


def _argv(command, parser, action, value):
    """BASE[command] with ``action`` set to ``value``, minus what the option may not be given with."""
    base, flag = list(BASE[command]), action.option_strings[-1]
    for group in parser._mutually_exclusive_groups:
        if action in group._group_actions:
            for other in group._group_actions:
                if other is not action and other.option_strings[-1] in base:
                    i = base.index(other.option_strings[-1])
                    del base[i:i + 2]
    if flag in base:
        i = base.index(flag)
        del base[i:i + 2]
    return [command, *base, flag, value]


# a choice (--dtype, --metric) has no valid value that starts with a minus or is empty; argparse
# names the flag of a number (int, float) that is empty itself
MINUS = [(c, a.option_strings[-1]) for c in COMMANDS for _, a in _value_options(c) if a.choices is None]
EMPTY = [(c, a.option_strings[-1]) for c in COMMANDS for _, a in _value_options(c)
         if a.choices is None and a.type is None]


def _option(command, flag):
    return next((p, a) for p, a in _value_options(command) if a.option_strings[-1] == flag)


def test_every_command_has_a_base_and_value_options_to_check():
    assert set(BASE) == set(COMMANDS)
    assert {c for c, _ in MINUS} == set(COMMANDS) - {"rules"}  # `rules` takes no value
    assert {"--x0", "--xstar", "--hessian-diag", "--hessian", "--spectrum", "--schedule", "--noise", "--param",
            "--output", "--out"} <= {f for _, f in EMPTY}


@pytest.mark.parametrize("command, flag", MINUS)
def test_a_value_that_starts_with_a_minus_is_a_value(command, flag):
    parser, action = _option(command, flag)
    # plain negative numbers were values already; these were taken for unknown options
    text = {int: "-1", float: "-1e-3"}.get(action.type, "-1,-inf")
    args = build_parser().parse_args(_argv(command, parser, action, text))
    value = getattr(args, action.dest)
    expected = (action.type or str)(text)
    assert value == ([expected] if isinstance(value, list) else expected)  # --param appends


@pytest.mark.parametrize("command, flag", EMPTY)
def test_an_empty_value_names_its_flag(capsys, command, flag):
    parser, action = _option(command, flag)
    code, out, err = _cli(capsys, *_argv(command, parser, action, ""))
    assert (code, out, err) == (2, "", f"error: {flag}: empty\n")


@pytest.mark.parametrize("argv, words", [
    (["simulate", "gd", "--hessian-diag", "-1,2", "--x0", "1", "--steps", "3"], "error: --hessian-diag must be >= 0"),
    (["simulate", "gd", "--param", "lr=-1", "--hessian-diag", "1", "--x0", "1", "--steps", "3"],
     "error: lr must be in (0, inf), got -1"),
    (["worst-case", "gd", "--mu", "-1", "--L", "2", "--steps", "3"], "error: --mu must be in (0, inf)"),
    (["worst-case", "gd", "--mu", "1", "--L", "-inf", "--steps", "3"], "error: --L must be in [mu, inf)"),
    (["worst-case", "gd", "--mu", "1", "--L", "2", "--steps", "3", "--metric", "-1"],
     "error: --metric must be one of distance, loss, got '-1'"),
    (["simulate", "gd", "--hessian-diag", "1", "--x0", "-1,2", "--steps", "3"], "error: --x0 must have 1 or d = 1 values, got 2"),
    (["simulate", "gd", "--hessian-diag", "1", "--x0", "1", "--steps", "-3"], "error: --steps must be an integer >= 1"),
    (["compare", "gd", "--hessian", "-1,0;0,1", "--steps", "3"], "error: --hessian must be positive semi-definite"),
    (["compare", "gd", "--hessian-diag", "1", "--steps", "3", "--output", ""], "error: --output: empty"),
    (["schedules", "", "--steps", "3"], "error: SPEC: empty"),
])
def test_negative_and_empty_values_are_rejected_by_name(capsys, argv, words):
    code, out, err = _cli(capsys, *argv)
    assert code == 2 and out == "" and err.startswith(words) and err.count("\n") == 1, err


def test_negative_coordinates_run(capsys):
    code, out, err = _cli(capsys, "simulate", "gd", "--param", "lr=0.5", "--hessian-diag", "1,1",
                          "--x0", "-0.5,1", "--xstar", "-1e-3,0", "--steps", "1", "--json")
    assert code == 0 and err == "" and json.loads(out)["loss"][0] == pytest.approx(0.5 * (0.499**2 + 1))
    code, out, err = _cli(capsys, "simulate", "gd", "--param", "lr=0.5", "--hessian-diag", "2", "--x0", "-2",
                          "--steps", "1")
    assert code == 0 and out.startswith("gd: loss 4 -> 0 after 1 steps")


def test_an_option_that_does_not_exist_is_still_an_error(capsys):
    code, _, err = _cli(capsys, "simulate", *BASE["simulate"], "--bogus", "1")
    assert code == 2 and "unrecognized arguments: --bogus" in err


def test_building_the_parser_imports_neither_sympy_nor_numba():
    # `optanalysis --version` and every `--help` answer at once; commands import the library in run()
    code = "import sys; from optanalysis.cli import build_parser; build_parser(); " \
           "print(sorted(m for m in ('sympy', 'numba') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out == "[]\n"


def test_a_simulate_run_imports_no_sympy():
    # the kernels need Numba only: SymPy (~0.3 s of import) belongs to derivations
    code = ("import sys; from optanalysis.cli import main; "
            "main(['simulate', 'qhm', '--param', 'lr=0.1', '--hessian-diag', '1,0.1', '--x0', '1', '--steps', '3', "
            "'--json']); print('sympy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.splitlines()[-1] == "False" and '"loss"' in out


def test_version(capsys):
    code, out, err = _cli(capsys, "--version")
    assert code == 0 and out == f"optanalysis {optanalysis.__version__}\n" and err == ""


@pytest.mark.parametrize("command", COMMANDS)
def test_help_ends_with_two_examples_that_parse(capsys, command):
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    out = capsys.readouterr().out
    assert exc.value.code == 0
    _, sep, tail = out.rpartition("\nexamples:\n")
    assert sep, f"`optanalysis {command} --help` has no examples"
    examples = tail.replace(" \\\n      ", " ").splitlines()
    assert len(examples) == 2 and all(e.startswith(f"  optanalysis {command}") for e in examples), tail
    for example in examples:
        build_parser().parse_args(shlex.split(example)[1:])  # exits (status 2) if the example is stale


@pytest.mark.slow
# reproduce and study are slow (CI runs them); sweep's examples need a grid file (tests/test_sweep_cli.py);
# lecture runs studies and reports progress (tests/test_lecture.py runs it)
@pytest.mark.parametrize("command", [c for c in COMMANDS if c not in ("reproduce", "study", "sweep", "lecture")])
def test_the_examples_run(capsys, tmp_path, monkeypatch, command):
    import importlib

    monkeypatch.chdir(tmp_path)
    for example in importlib.import_module(f"optanalysis.cli.{command.replace('-', '_')}").EXAMPLES:
        code, out, err = _cli(capsys, *shlex.split(example)[1:])
        assert code == 0 and out and err == "", (example, err)


def test_the_readme_command_lines_parse(capsys):
    """Every ``optanalysis ...`` line of the README's shell blocks is a valid command line."""
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    lines = [line.split("  #")[0].strip() for block in re.findall(r"```bash\n(.*?)```", readme, re.S)
             for line in block.replace("\\\n", " ").splitlines()]
    commands = [line for line in lines if line.startswith("optanalysis ")]
    assert len(commands) >= 5
    for command in commands:
        try:
            build_parser().parse_args(shlex.split(command)[1:])
        except SystemExit as exc:  # --version and --help exit 0; a stale line exits 2
            assert exc.code == 0, (command, capsys.readouterr().err)
