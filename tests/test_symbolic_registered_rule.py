"""A rule is one file: a throw-away rule written to a temporary module, registered with the hook,
is seen by derive, simulate and predict with no other file edited."""
import importlib.util
import sys

import numpy as np
import pytest
import sympy

from optanalysis import rules
from optanalysis.rules import RULES, get_rule, register

NAME = "tmp_damped_gd"
SOURCE = '''"""Gradient descent with a damping of the iterate (a throw-away rule of the tests).

Algorithm
    x <- x - lr (g + damping x)

Theoretical guarantee on quadratics
    Gradient descent on h + damping: stable iff lr < 2/(h + damping).

Equivalences
    gd on the shifted curvature h + damping.

References
    None: written for the tests.
"""
from optanalysis.hyper import learning_rate, nonnegative
from optanalysis.rules import Rule

RULE = Rule(
    name="tmp_damped_gd",
    hyper=(learning_rate(0.1), nonnegative("damping", 0.5, "pull towards 0", symbol=r"\\gamma")),
    state=("x",),
    linear=True,
    semantics="none (a test rule)",
)


def step(x, g, lr, damping, t):
    return (x - lr * (g + damping * x),)
'''


def _import(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def damped(tmp_path, monkeypatch):
    """The rule registered from a file in ``tmp_path``; unregistered afterwards."""
    monkeypatch.setenv("OPTANALYSIS_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "user_rules" / "damped_gd.py"
    path.parent.mkdir()
    path.write_text(SOURCE)
    module = _import(path, "user_damped_gd")
    try:
        yield register(module)
    finally:
        RULES.pop(NAME, None)
        sys.modules.pop("user_damped_gd", None)


def test_registered_rule_has_the_defaults_and_is_listed(damped):
    assert get_rule(NAME) is damped and list(RULES)[-1] == NAME
    assert damped.module.grad_point is rules.grad_point  # the default: the iterate
    assert damped.init(3.0, 0.1, 0.5) == (3.0,)  # the default: x0 (no other state)
    assert rules.rule_names(linear=True)[-1] == NAME


def test_derive_sees_it(damped):
    from optanalysis.symbolic import H, derive

    d = derive(NAME)
    damping = d.hyper["damping"]
    assert sympy.simplify(d.lr_bound - 2 / (H + damping)) == 0  # gd on h + damping
    assert sympy.expand(d.charpoly - (sympy.Symbol("z") - 1 + d.hyper["lr"] * (H + damping))) == 0
    assert d.to_latex("literature").count(r"\gamma") > 0


def test_simulate_and_predict_see_it(damped):
    from optanalysis.simulation import simulate
    from optanalysis.theory.prediction import predict

    h, x0, lr, damping, steps = np.array([1.0, 2.0, 3.5]), np.array([1.0, -2.0, 0.5]), 0.3, 0.5, 25
    # x_t = (1 - lr (h + damping))^t x0 per coordinate, loss 1/2 sum h x^2
    xs = x0 * (1 - lr * (h + damping))[None, :] ** np.arange(steps + 1)[:, None]
    want = 0.5 * (h * xs**2).sum(axis=1)
    kw = dict(x0=x0, hessian_diag=h, steps=steps, record_x=True)
    sim = simulate(NAME, {"lr": lr, "damping": damping}, **kw)
    np.testing.assert_allclose(sim.xs, xs, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(sim.loss, want, rtol=1e-12, atol=1e-15)
    pred = predict(NAME, {"lr": lr, "damping": damping}, **kw)
    np.testing.assert_allclose(pred.loss, want, rtol=1e-12, atol=1e-15)


def test_register_refuses_a_module_without_rule_and_a_name_collision(tmp_path):
    path = tmp_path / "not_a_rule.py"
    path.write_text("def step(x, g, lr, t):\n    return (x,)\n")
    with pytest.raises(ValueError, match="declares no RULE"):
        register(_import(path, "user_not_a_rule"))
    clash = tmp_path / "clash.py"
    clash.write_text(SOURCE.replace('name="tmp_damped_gd"', 'name="heavy_ball"'))
    with pytest.raises(ValueError, match="'heavy_ball'.*already registered"):
        register(_import(clash, "user_clash"))
    assert RULES["heavy_ball"].module.__name__ == "optanalysis.rules.heavy_ball"
    with pytest.raises(TypeError, match="module must be a module"):
        register("heavy_ball")
    for name in ("user_not_a_rule", "user_clash"):
        sys.modules.pop(name, None)


def test_declarations_are_validated():
    from optanalysis.hyper import learning_rate
    from optanalysis.rules import Rule

    with pytest.raises(ValueError, match="preconditioner names 'w'"):
        Rule("r", (learning_rate(0.1),), ("x", "v"), False, "", preconditioner=("w",))
    with pytest.raises(ValueError, match="orbit_zero names 'eps'"):
        Rule("r", (learning_rate(0.1),), ("x",), False, "", orbit=True, orbit_zero=("eps",))
    with pytest.raises(ValueError, match="linear rule"):
        Rule("r", (learning_rate(0.1),), ("x", "v"), True, "", preconditioner=("v",))
