"""``optanalysis derive`` and ``optanalysis reproduce`` through ``optanalysis.cli.main``."""
import json

import pytest
import sympy

from optanalysis.cli import main
from optanalysis.symbolic.derivation import derive, parse


def _run(capsys, *argv):
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse errors (one stderr line, status 2)
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def test_text_by_default(capsys):
    code, out, err = _run(capsys, "derive", "heavy_ball")
    assert code == 0 and not err
    assert "largest stable lr: 2*(momentum + 1)/h" in out
    assert "Polyak" in out and "equivalences:" in out


@pytest.mark.parametrize("rule,params", [("gd", []), ("heavy_ball", []), ("nesterov", []),
                                         ("sgd_momentum", []), ("sgd_momentum", ["nesterov=true"])])
def test_json_parses_and_sympifies_back(capsys, rule, params):
    argv = ["derive", rule, "--json"] + [x for p in params for x in ("--param", p)]
    code, out, _ = _run(capsys, *argv)
    assert code == 0
    data = json.loads(out)
    fixed = {"nesterov": True} if params else {}
    d = derive(rule, **fixed)
    assert data["rule"] == rule and data["state"] == list(d.state)
    assert sympy.simplify(parse(data["lr_bound"], rule) - d.lr_bound) == 0
    assert sympy.expand(parse(data["charpoly"], rule) - d.charpoly) == 0
    T = sympy.Matrix([[parse(x, rule) for x in row] for row in data["iteration_matrix"]])
    assert sympy.simplify(T - d.iteration_matrix) == sympy.zeros(*T.shape)
    assert isinstance(data["stability"], list) and data["stability"]
    for key in ("lr", "momentum", "rate"):
        v = (data["optimal"] or {}).get(key)
        if v is not None:
            sympy.sympify(v)


def test_latex(capsys):
    code, out, _ = _run(capsys, "derive", "nesterov", "--latex")
    assert code == 0 and r"\begin{align*}" in out and r"\mathrm{lr}" in out


def test_param_fixes_a_special_case(capsys):
    code, out, _ = _run(capsys, "derive", "heavy_ball", "--param", "momentum=0", "--json")
    data = json.loads(out)
    assert code == 0 and data["degree"] == 1 and data["zero_roots_dropped"] == 1
    assert sympy.simplify(sympy.sympify(data["lr_bound"]) - sympy.sympify("2/h")) == 0


@pytest.mark.parametrize("argv,needle", [
    (["derive", "nope"], "unknown rule"),
    (["derive", "gd", "--bogus"], "unrecognized arguments"),
    (["derive", "gd", "--param", "momentum=0.5"], "unknown hyperparameter"),
    (["derive", "gd", "--param", "lr"], "NAME=VALUE"),
    (["derive", "heavy_ball", "--param", "momentum=1.5"], "momentum"),
    (["derive", "sgd_momentum", "--param", "nesterov=true", "--param", "dampening=0.5"], "nesterov"),
    (["derive", "rmsprop"], "--linearize"),  # adaptive, in no relation: nothing to list
    (["derive", "gd", "--json", "--latex"], "not allowed"),
])
def test_errors_are_one_line_exit_2(capsys, argv, needle):
    code, out, err = _run(capsys, *argv)
    assert code == 2 and not out
    assert len(err.strip().splitlines()) == 1 and needle in err


def test_adam_linearized_threshold(capsys):
    code, out, _ = _run(capsys, "derive", "adam", "--linearize", "--json")
    data = json.loads(out)
    b1, lr = sympy.symbols("beta1 lr", positive=True)
    got = sympy.sympify(data["threshold"], locals={"beta1": b1, "lr": lr})
    assert code == 0 and sympy.simplify(got - (2 + 2 * b1) / ((1 - b1) * lr)) == 0
    assert float(got.subs({b1: 0.9, lr: 1})) == pytest.approx(38)


def test_rmsprop_linearized_threshold(capsys):
    code, out, _ = _run(capsys, "derive", "rmsprop", "--linearize", "--param", "momentum=0", "--json")
    lr = sympy.Symbol("lr", positive=True)
    assert code == 0
    assert sympy.simplify(sympy.sympify(json.loads(out)["threshold"], locals={"lr": lr}) - 2 / lr) == 0
    code, out, _ = _run(capsys, "derive", "adam", "--linearize")
    assert code == 0 and "heavy_ball" in out


def test_reproduce_writes_derivations_and_figure(capsys, tmp_path):
    code, _, err = _run(capsys, "reproduce", "--out", str(tmp_path), "--only", "derivations",
                        "--only", "stability_regions", "--quick")
    assert code == 0 and "done:" in err, err
    for stem in ("gd", "heavy_ball", "nesterov", "sgd_momentum", "sgd_momentum-nesterov"):
        data = json.loads((tmp_path / "derivations" / f"{stem}.json").read_text())
        assert data["provenance"]["sympy"] == sympy.__version__
        assert (tmp_path / "derivations" / f"{stem}.md").read_text().startswith("# Derivation")
    for ext in ("png", "pdf", "csv", "json"):
        assert (tmp_path / f"stability_regions.{ext}").stat().st_size > 100
    summary = json.loads((tmp_path / "stability_regions.json").read_text())
    assert set(summary["rules"]) == {"gd", "heavy_ball", "nesterov"} and "provenance" in summary
    assert not list(tmp_path.rglob("*.tmp")) and not list(tmp_path.rglob(".*"))


def test_reproduce_unknown_job(capsys, tmp_path):
    code, out, err = _run(capsys, "reproduce", "--out", str(tmp_path), "--only", "nope")
    assert code == 2 and "unknown job" in err and len(err.strip().splitlines()) == 1
