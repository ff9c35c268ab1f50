"""Rules from outside the package: files, modules, entry points, re-registration, contract errors.

Each rule file is written into ``tmp_path``; kernels go to a per-test cache directory so that the
"recompiled when the file changes" check sees real package directories.
"""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import optanalysis as oa
from optanalysis.rules import RULES, RuleContractError, get_rule
from optanalysis.symbolic.analysis import characteristic_polynomial, stability

ROOT = Path(__file__).resolve().parents[1]

HEADER = '''
from optanalysis import ops
from optanalysis.hyper import coefficient, learning_rate
from optanalysis.rules import Rule

RULE = Rule(
    name="{name}",
    hyper=(learning_rate(1e-3), coefficient("momentum", 0.9, "weight of the previous displacement")),
    state=("x", "x_prev"),
    linear=True,
    semantics="heavy ball, written by a user",
)


def init(x0, lr, momentum):
    return (x0, x0)

'''

HEAVY_BALL_STEP = '''
def step(x, x_prev, g, lr, momentum, t):
    return (x - lr * g + momentum * (x - x_prev), x)
'''


def write_rule(directory: Path, name: str, step: str = HEAVY_BALL_STEP) -> Path:
    path = directory / f"{name}.py"
    path.write_text(HEADER.format(name=name) + textwrap.dedent(step))
    return path


@pytest.fixture(autouse=True)
def _forget_user_rules():
    before = dict(RULES)
    yield
    for name in set(RULES) - set(before):
        del RULES[name]
    RULES.update(before)


def test_rule_from_a_file_runs_like_the_builtin(tmp_path):
    path = write_rule(tmp_path, "hb_file")
    rule = get_rule(str(path))
    assert rule.name == "hb_file" and get_rule("hb_file") is rule and get_rule(str(path)) is rule
    problem = dict(hessian_diag=[1.0, 0.1], x0=[1.0, -1.0], steps=60)
    params = {"lr": 0.3, "momentum": 0.6}
    mine, builtin = oa.simulate(str(path), params, **problem), oa.simulate("heavy_ball", params, **problem)
    np.testing.assert_array_equal(mine.loss, builtin.loss)  # the same arithmetic: the same bits
    pred = oa.predict(str(path), params, **problem)
    np.testing.assert_allclose(pred.loss, mine.loss, rtol=1e-10, atol=1e-300)
    # the derivation (its full form, tuning included, runs in test_cli_derive_a_file_as_json)
    assert characteristic_polynomial(str(path)).expr == characteristic_polynomial("heavy_ball").expr
    wc_mine = oa.worst_case(str(path), params, mu=0.1, L=1.0, steps=30).ratio
    assert wc_mine == oa.worst_case("heavy_ball", params, mu=0.1, L=1.0, steps=30).ratio
    assert all(r.verdict == "pass" for r in oa.compare(str(path), params, **problem))


@pytest.mark.slow
def test_edited_file_replaces_its_rule_and_recompiles(tmp_path, monkeypatch):
    monkeypatch.setenv("OPTANALYSIS_CACHE_DIR", str(tmp_path / "cache"))
    path = write_rule(tmp_path, "hb_edit")
    problem = dict(hessian_diag=[1.0], x0=[1.0], steps=3)
    first = oa.simulate(str(path), {"lr": 0.5, "momentum": 0.0}, **problem).loss
    packages = set((tmp_path / "cache" / "kernels").iterdir())
    # the same file with gd's step halved: a new rule, new kernels, a new derivation
    write_rule(tmp_path, "hb_edit", "def step(x, x_prev, g, lr, momentum, t):\n"
                                    "    return (x - lr * g / 2 + momentum * (x - x_prev), x)\n")
    second = oa.simulate(str(path), {"lr": 0.5, "momentum": 0.0}, **problem).loss
    assert len(set((tmp_path / "cache" / "kernels").iterdir()) - packages) == 1
    # x_k = (1 - lr h)^k vs (1 - lr h / 2)^k; loss = x^2 / 2
    np.testing.assert_allclose(first, 0.5 * 0.5 ** (2 * np.arange(4)), rtol=1e-15)
    np.testing.assert_allclose(second, 0.5 * 0.75 ** (2 * np.arange(4)), rtol=1e-15)
    np.testing.assert_allclose(oa.predict(str(path), {"lr": 0.5, "momentum": 0.0}, **problem).loss, second,
                               rtol=1e-15)  # the derived maps follow the edit too
    edited = get_rule(str(path))
    assert str(stability(edited, characteristic_polynomial(edited)).upper) == "4*(momentum + 1)/h"


def test_register_rule_module_and_dotted_name(tmp_path, monkeypatch):
    write_rule(tmp_path, "hb_dotted_mod")
    (tmp_path / "userpkg").mkdir()
    (tmp_path / "userpkg" / "__init__.py").write_text("")
    write_rule(tmp_path / "userpkg", "hb_in_pkg")
    monkeypatch.syspath_prepend(str(tmp_path))
    import hb_dotted_mod

    assert oa.register_rule(hb_dotted_mod) is get_rule("hb_dotted_mod")
    assert oa.register_rule(hb_dotted_mod.RULE) is get_rule("hb_dotted_mod")  # again: the same
    assert get_rule("userpkg.hb_in_pkg").name == "hb_in_pkg"
    with pytest.raises(ValueError, match="already registered"):
        oa.register_rule(_module_named(tmp_path, "heavy_ball"))  # a built-in name is taken
    with pytest.raises(TypeError, match="module_or_rule"):
        oa.register_rule(3)


def _module_named(tmp_path, name):
    import importlib.util

    (tmp_path / "other").mkdir()
    path = write_rule(tmp_path / "other", name)
    spec = importlib.util.spec_from_file_location(f"clash_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_entry_point_rules_are_listed(tmp_path, monkeypatch):
    """A third-party distribution on sys.path declaring the group ``optanalysis.rules``."""
    site = tmp_path / "site"
    (site / "thirdparty_rules").mkdir(parents=True)
    (site / "thirdparty_rules" / "__init__.py").write_text("")
    write_rule(site / "thirdparty_rules", "hb_entry_point")
    info = site / "thirdparty_rules-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: thirdparty-rules\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[optanalysis.rules]\nhb_entry_point = thirdparty_rules.hb_entry_point\n")
    out = subprocess.run([sys.executable, "-m", "optanalysis", "rules"], cwd=ROOT, text=True,
                         capture_output=True, env={**_env(), "PYTHONPATH": f"{ROOT}:{site}"})
    assert out.returncode == 0, out.stderr
    assert "hb_entry_point  (linear; heavy ball, written by a user)" in out.stdout


def _env():
    import os

    return dict(os.environ)


# ------------------------------------------------------------------------------------------
# Contract errors: one error naming the rule, the file and line, and the fix


BREACHES = {
    "branch": ("def step(x, x_prev, g, lr, momentum, t):\n"
               "    if g > 0:\n"
               "        g = 0.5 * g\n"
               "    return (x - lr * g + momentum * (x - x_prev), x)\n",
               r"branches on 'g'.*use ops\.where", 2),
    "unsupported": ("import math\n\n\ndef step(x, x_prev, g, lr, momentum, t):\n"
                    "    return (x - lr * math.tanh(g) + momentum * (x - x_prev), x)\n",
                    r"calls math\.tanh.*optanalysis\.ops", 5),
    "undeclared": ("def step(x, x_prev, g, lr, momentum, t):\n"
                   "    return (x - lr * g + momentum * (x - x_prev) * damping, x)\n",
                   r"uses 'damping'.*declare it as a hyperparameter in RULE\.hyper", 2),
    "undeclared_parameter": ("def step(x, x_prev, g, lr, momentum, damping, t):\n"
                             "    return (x - lr * g + momentum * (x - x_prev) * damping, x)\n",
                             r"does not follow the declaration.*declare 'damping' in RULE\.hyper", 1),
    "wrong_length": ("def step(x, x_prev, g, lr, momentum, t):\n"
                     "    return (x - lr * g + momentum * (x - x_prev), x, x)\n",
                     r"step returns 3 entries, the declared state has 2", 2),
    "ternary": ("def step(x, x_prev, g, lr, momentum, t):\n"
                "    return (x - lr * (g if g > 0 else -g) + momentum * (x - x_prev), x)\n",
                r"branches on 'g'.*ops\.where", 2),
}


@pytest.mark.parametrize("case", sorted(BREACHES))
def test_contract_breach_is_one_clear_error(tmp_path, case):
    step, message, line = BREACHES[case]
    path = write_rule(tmp_path, f"bad_{case}", step)
    first = len(HEADER.format(name=f"bad_{case}").splitlines())
    with pytest.raises(RuleContractError, match=message) as info:
        get_rule(str(path))
    assert f"rule 'bad_{case}'" in str(info.value) and f"{path}:" in str(info.value)
    assert str(info.value).split(f"{path}:")[1].startswith(f"{first + line}:")
    assert f"bad_{case}" not in RULES


@pytest.mark.slow
def test_step_that_does_not_compile(tmp_path):
    # passes the source checks (a call of a rule-module function is allowed) but Numba cannot type it
    step = ("from optanalysis.rules import heavy_ball\n\n\n"
            "def step(x, x_prev, g, lr, momentum, t):\n"
            "    return heavy_ball.step(x, x_prev, g, lr, momentum, t, 1.0)\n")
    path = write_rule(tmp_path, "bad_compile", step)
    with pytest.raises(RuleContractError, match=r"bad_compile.*on floats at the defaults fails"):
        get_rule(str(path))  # the call on floats already fails: too many arguments
    # floats and SymPy take a where() whose branches differ in type; Numba cannot unify them
    path.write_text(path.read_text().replace(
        "heavy_ball.step(x, x_prev, g, lr, momentum, t, 1.0)",
        "(ops.where(True, x - lr * g + momentum * (x - x_prev), (x, x)), x)"))
    with pytest.raises(RuleContractError, match=r"kernels do not compile.*optanalysis\.ops"):
        oa.simulate(str(path), {"lr": 0.1}, hessian_diag=[1.0], x0=[1.0], steps=2)


@pytest.mark.parametrize("case", ["branch", "undeclared", "wrong_length"])
def test_cli_prints_one_line_and_exits_2(tmp_path, case):
    path = write_rule(tmp_path, f"bad_cli_{case}", BREACHES[case][0])
    for command in (["derive", str(path), "--json"],
                    ["simulate", str(path), "--param", "lr=0.1", "--hessian-diag", "1", "--x0", "1",
                     "--steps", "2"]):
        out = subprocess.run([sys.executable, "-m", "optanalysis", *command], cwd=ROOT, text=True,
                             capture_output=True)
        assert out.returncode == 2 and out.stdout == ""
        assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr
        assert f"rule 'bad_cli_{case}'" in out.stderr


def test_file_that_does_not_import(tmp_path):
    path = tmp_path / "broken.py"
    path.write_text("x = 1\ndef step(:\n")
    with pytest.raises(RuleContractError, match=rf"rule file {path}:2: importing it fails"):
        get_rule(str(path))
    with pytest.raises(ValueError, match="does not exist"):
        get_rule(str(tmp_path / "missing.py"))
    with pytest.raises(ValueError, match="unknown rule 'no_such_rule'.*path/to/rule.py"):
        get_rule("no_such_rule")


def test_builtin_rules_keep_the_contract():
    from optanalysis.rules._contract import check_call, check_rule

    for rule in list(RULES.values()):
        if rule.module.__name__.startswith("optanalysis.rules."):
            check_rule(rule)
            check_call(rule)


def test_cli_derive_a_file_as_json(tmp_path):
    import json

    path = write_rule(tmp_path, "hb_cli")
    out = subprocess.run([sys.executable, "-m", "optanalysis", "derive", str(path), "--json"],
                         cwd=ROOT, text=True, capture_output=True)
    assert out.returncode == 0, out.stderr
    d = json.loads(out.stdout)
    assert d["rule"] == "hb_cli" and d["lr_bound"] == "2*(momentum + 1)/h"
    assert d["optimal"]["lr"] == "4/(sqrt(L) + sqrt(mu))**2"  # Polyak's tuning, derived


def test_sweep_over_a_rule_file(tmp_path):
    pytest.importorskip("pyarrow")
    pytest.importorskip("pandas")
    path = write_rule(tmp_path, "hb_sweep")
    grid = tmp_path / "grid.toml"
    grid.write_text(f'steps = 40\nseeds = 1\nquantities = ["final_loss", "predicted_final_loss"]\n\n'
                    f'[[rule]]\nname = "{path}"\nlr = [0.1, 0.5]\nmomentum = [0.5]\n\n'
                    f'[[problem]]\nname = "two"\nhessian_diag = [1.0, 0.1]\nx0 = 1.0\n')
    oa.sweep(str(grid), str(tmp_path / "out"))
    table = oa.load_sweep(str(tmp_path / "out"))
    assert list(table["rule"]) == [str(path)] * 2  # the file's path: a worker resolves it alike
    np.testing.assert_allclose(table["final_loss"], table["predicted_final_loss"], rtol=1e-10)


def test_adaptive_rule_from_a_file_is_linearised(tmp_path):
    path = tmp_path / "my_rmsprop.py"
    path.write_text(textwrap.dedent('''
        from optanalysis import ops
        from optanalysis.hyper import coefficient, learning_rate, nonnegative
        from optanalysis.rules import Rule

        RULE = Rule(
            name="my_rmsprop",
            hyper=(learning_rate(1e-2), coefficient("alpha", 0.99, "smoothing"), nonnegative("eps", 1e-8, "eps")),
            state=("x", "v"),
            linear=False,
            semantics="RMSProp (user file)",
            preconditioner=("v",),
        )


        def step(x, v, g, lr, alpha, eps, t):
            v = alpha * v + (1 - alpha) * g * g
            return (x - lr * g / (ops.sqrt(v) + eps), v)
    '''))
    lin = oa.linearize(str(path))
    # frozen v: gd on P^-1 H, stable iff lambda_max < 2/lr (the built-in RMSProp's at momentum 0)
    assert lin.equivalent == "gd" and str(lin.threshold) == "2/lr"
    assert str(oa.linearize("rmsprop", momentum=0).threshold) == "2/lr"


def test_derive_of_a_user_rule_never_hangs_on_its_tuning(tmp_path, monkeypatch):
    import time

    from optanalysis.symbolic import derivation, tuning

    def stuck(*args, **kwargs):  # stands for a SymPy solve that runs for minutes
        time.sleep(60)

    monkeypatch.setattr(tuning, "optimal_tunings", stuck)
    monkeypatch.setattr(derivation, "TUNING_BUDGET", 0.5)
    path = write_rule(tmp_path, "hb_slow_tuning")
    start = time.perf_counter()
    d = oa.derive(str(path), cache=False)
    assert time.perf_counter() - start < 30  # the derivation itself takes a few seconds
    assert d.tunings == () and "within 0.5 s" in d.methods["tuning"]
    assert str(d.lr_bound) == "2*(momentum + 1)/h"  # everything else is derived


def test_rule_declared_linear_but_not_affine(tmp_path):
    path = write_rule(tmp_path, "bad_not_linear", "def step(x, x_prev, g, lr, momentum, t):\n"
                                                  "    return (x - lr * g * abs(g) + momentum * (x - x_prev), x)\n")
    with pytest.raises(RuleContractError, match=r"bad_not_linear.*declared linear=True.*not affine"):
        oa.derive(str(path), cache=False)
