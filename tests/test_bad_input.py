"""Bad input across the public API and the command line: a TypeError/ValueError naming the
argument (CLI: one line on stderr, exit 2), never a silent conversion, a traceback or evaluation."""
import datetime
import json

import numpy as np
import pytest
import sympy

from optanalysis.cli import main
from optanalysis.comparison import monte_carlo
from optanalysis.models.quadratic import make_quadratic
from optanalysis.reproduction import reproduce
from optanalysis.schedules import make_schedule
from optanalysis.simulation import simulate
from optanalysis.symbolic import characteristic_polynomial, iteration_matrix, parse
from optanalysis.theory.worst_case import transfer

H2 = [1.0, 0.5]


def _cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# ------------------------------------------------------------------ arrays hold real numbers
@pytest.mark.parametrize("x0", [np.array([1 + 1j, 1]), ["1", "2"], [True, False],
                                np.array(["2020-01-01", "2020-01-02"], dtype="datetime64[D]"),
                                np.ma.array([1.0, 2.0], mask=[0, 1]), [object(), 1.0]])
def test_arrays_that_numpy_would_convert_silently_are_type_errors(x0):
    with pytest.raises(TypeError, match="x0 must be a 1-D array of finite numbers"):
        simulate("gd", {"lr": 0.1}, x0=x0, hessian_diag=H2, steps=3)


@pytest.mark.parametrize("kw, name", [(dict(hessian_diag=[1 + 0j, 1]), "hessian_diag"),
                                      (dict(hessian=[[True, False], [False, True]]), "hessian"),
                                      (dict(hessian_diag=H2, xstar=["0", "0"]), "xstar")])
def test_hessian_and_xstar_hold_real_numbers(kw, name):
    with pytest.raises(TypeError, match=name):
        make_quadratic(**kw)


def test_an_integer_beyond_float64_is_not_finite():
    for kw, name in ((dict(x0=[10**400, 1]), "x0"), (dict(x0=[1, 1], xstar=[-(10**400), 1]), "xstar"),
                     (dict(x0=[1, 1], hessian_diag=[10**400, 1]), "hessian_diag")):
        with pytest.raises(ValueError, match=f"{name} must be finite"):
            simulate("gd", {"lr": 0.1}, **{"hessian_diag": H2, **kw}, steps=3)
    with pytest.raises(ValueError, match="h must be"):
        transfer("gd", {"lr": 0.1}, h=[10**400], steps=3)
    with pytest.raises(TypeError, match="h must be"):
        transfer("gd", {"lr": 0.1}, h=[1 + 1j], steps=3)


def test_float32_runs_take_values_within_the_float32_range():
    for kw, name in ((dict(x0=[1e39, 1]), "x0"), (dict(x0=[1, 1], hessian_diag=[1e39, 1]), "hessian_diag"),
                     (dict(x0=[1, 1], xstar=[1e39, 1e39]), "xstar")):
        with pytest.raises(ValueError, match=f"{name} must be within the float32 range"):
            simulate("gd", {"lr": 0.1}, **{"hessian_diag": H2, **kw}, steps=3, dtype="float32")
    ok = simulate("gd", {"lr": 0.1}, x0=[1e38, 1], hessian_diag=H2, steps=3, dtype="float64")
    assert ok.diverged_at is None


# ------------------------------------------------------------------ schedules give finite lrs
@pytest.mark.parametrize("spec, lr", [("exponential:gamma=1e300", "inf"),
                                      ("cosine:T_max=1,eta_min=1e308", "-inf")])
def test_a_schedule_whose_lr_overflows_is_an_error_everywhere(capsys, spec, lr):
    with pytest.raises(ValueError, match=f"the lr of step 2 is {lr}, not a finite number"):
        make_schedule(spec).lrs(0.1, 4)
    with pytest.raises(ValueError, match="not a finite number"):
        simulate("gd", {"lr": 0.1}, x0=[1, 1], hessian_diag=H2, steps=4, schedule=spec)
    for argv in (["schedules", spec, "--steps", "4", "--json"],
                 ["worst-case", "gd", "--mu", "1", "--L", "2", "--steps", "4", "--schedule", spec]):
        code, out, err = _cli(capsys, *argv)
        assert code == 2 and out == "" and err.count("\n") == 1 and "not a finite number" in err


def test_worst_case_json_writes_an_infinite_ratio_as_null(capsys):
    code, out, err = _cli(capsys, "worst-case", "gd", "--mu", "1", "--L", "2", "--steps", "10",
                          "--param", "lr=1e308", "--json")
    assert code == 0 and err == ""
    data = json.loads(out)  # standard JSON: no Infinity
    assert data["ratio"] is None and data["log10_ratio"] is None


# ------------------------------------------------------------------ the command line: one line, exit 2
@pytest.mark.parametrize("argv, words", [
    (["schedules", "step:step_size=9223372036854775808"], "step_size must be an integer >= 1"),
    (["schedules", "step:step_size=" + "9" * 400], "step_size must be an integer"),
    (["simulate", "gd", "--hessian-diag", "1,0.5", "--x0", "1", "--steps", "10",
      "--noise", "isotropic:sigma=" + "9" * 400, "--seed", "1"], "sigma"),
    (["simulate", "gd", "--spectrum", "uniform:mu=1,L=" + "9" * 400 + ",d=3", "--x0", "1", "--steps", "3"],
     "L must be in"),
    (["simulate", "gd", "--param", "lr=1_0", "--hessian-diag", "1", "--x0", "1", "--steps", "3"],
     "'1_0' is not a number"),
    (["compare", "gd", "--hessian-diag", "1,0.1", "--steps", "10", "--output", "x.txt"], "path must end in"),
    (["reproduce", "--jobs", "0", "--only", "gd_stability_and_rate"], "jobs must be an integer in [1, 1024]"),
])
def test_cli_errors_are_one_line_naming_the_argument(capsys, argv, words):
    code, out, err = _cli(capsys, *argv)
    assert code == 2 and err.count("\n") == 1 and err.startswith("error: ") and words in err, err


def test_cli_reports_an_unwritable_output_path_in_one_line(capsys, tmp_path):
    (tmp_path / "afile").write_text("")
    for argv in (["compare", "gd", "--hessian-diag", "1,0.1", "--steps", "5", "--output",
                  str(tmp_path / "afile" / "x.csv")],
                 ["reproduce", "--only", "derivations", "--quick", "--out", str(tmp_path / "afile")]):
        code, _, err = _cli(capsys, *argv)
        assert code == 2 and err.count("\n") == 1 and "afile" in err, err
    assert (tmp_path / "afile").read_text() == ""


def test_cli_reports_nesting_too_deep_for_python_in_one_line(capsys):
    spec = "constant"
    for _ in range(400):
        spec = f"sequential(schedules=[{spec};constant],milestones=[1])"
    code, _, err = _cli(capsys, "schedules", "sequential:" + spec[len("sequential("):-1], "--steps", "3")
    assert code == 2 and err.count("\n") == 1, err[:300]


def test_a_target_name_at_the_length_limit_is_written(tmp_path):
    from optanalysis.io import atomic_write

    target = tmp_path / ("a" * 250 + ".csv")  # 254 bytes: the temporary file is not named after it
    atomic_write(target, "x\n")
    assert target.read_text() == "x\n" and [p.name for p in tmp_path.iterdir()] == [target.name]


# ------------------------------------------------------------------ symbolic values are data
def test_symbolic_values_are_validated_and_never_parsed(tmp_path):
    marker = tmp_path / "evaluated"
    code = f"__import__('pathlib').Path({str(marker)!r}).touch()"
    for fn in (characteristic_polynomial, iteration_matrix):
        with pytest.raises(TypeError, match=r"momentum must be a real number in \[0, 1\)"):
            fn("heavy_ball", momentum=code)
    with pytest.raises(ValueError, match="text: '__import__' is not allowed"):
        parse(code, "heavy_ball")
    assert not marker.exists()
    for bad, error in ((float("nan"), ValueError), (5, ValueError), (True, TypeError)):
        with pytest.raises(error, match="momentum"):
            characteristic_polynomial("heavy_ball", momentum=bad)
    with pytest.raises(ValueError, match="lr must be in"):
        characteristic_polynomial("heavy_ball", lr=-1)
    for text in ("lr.__class__", "x[0]", "lambda: 1", "preview(lr)", "sympify(1)"):
        with pytest.raises(ValueError, match="is not allowed"):
            parse(text, "heavy_ball")
    half = characteristic_polynomial("heavy_ball", momentum=sympy.Rational(1, 2))
    assert half.expr == characteristic_polynomial("heavy_ball", momentum=0.5).expr
    assert parse("sqrt(momentum) + Abs(lr)*h", "heavy_ball").free_symbols  # the symbols are read


def test_linearize_is_the_function_even_after_its_module_is_imported():
    import optanalysis.symbolic.linearization  # noqa: F401
    from optanalysis.symbolic import linearize

    assert callable(linearize) and linearize.__name__ == "linearize"


# ------------------------------------------------------------------ Monte Carlo needs distinct seeds
def test_monte_carlo_needs_noise_and_distinct_seeds():
    kw = dict(x0=[1, 1], hessian_diag=H2, steps=5, level=0.9)
    with pytest.raises(ValueError, match="seeds must be distinct"):
        monte_carlo("gd", {"lr": 0.1}, seeds=[0] * 100, noise="isotropic:sigma=0.1", **kw)
    with pytest.raises(ValueError, match="noise"):
        monte_carlo("gd", {"lr": 0.1}, seeds=100, noise=None, **kw)
    with pytest.raises(TypeError, match="seeds must be a count or a sequence"):
        monte_carlo("gd", {"lr": 0.1}, seeds="abc", noise="isotropic:sigma=0.1", **kw)


def test_reproduce_checks_its_arguments_before_any_job(tmp_path):
    for jobs in (0, -1, 10**30, 1.5, True):
        with pytest.raises((TypeError, ValueError), match="jobs"):
            reproduce(tmp_path, ["derivations"], jobs=jobs)
    with pytest.raises(ValueError, match="out must be a directory"):
        reproduce("", ["derivations"])
    assert not any(tmp_path.iterdir())


def test_dates_are_not_numbers():
    with pytest.raises(TypeError):
        simulate("gd", {"lr": 0.1}, x0=[datetime.date(2020, 1, 1)] * 2, hessian_diag=H2, steps=3)


def test_boolean_options_are_bools():
    from optanalysis.theory.prediction import predict
    from optanalysis.symbolic import derive

    with pytest.raises(TypeError, match="record_x must be a bool"):
        predict("gd", {"lr": 0.1}, x0=[1, 1], hessian_diag=H2, steps=3, record_x="yes")
    with pytest.raises(TypeError, match="cache must be a bool"):
        derive("gd", cache="no")


def test_batch_seeds_are_a_flat_sequence():
    from optanalysis.simulation import simulate_batch

    for seeds in (np.array(3), np.zeros((2, 2), np.int64), [], "01"):
        with pytest.raises(TypeError, match="seeds must be a non-empty sequence"):
            simulate_batch("gd", [{"lr": 0.1}], seeds=seeds, x0=[1, 1], hessian_diag=H2, steps=3)


def test_plateau_metrics_are_numbers():
    plateau = make_schedule("plateau:patience=1")
    for metrics in (["a"], [[1.0, 2.0], [3.0]]):
        with pytest.raises(TypeError, match="metrics must be a 1-D sequence of numbers"):
            plateau.lrs_for(0.1, metrics)
