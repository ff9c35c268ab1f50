"""Equivalences proven by identical characteristic polynomials, and the non-equivalences."""
import math

import pytest
import sympy

from optanalysis.rules import get_rule
from optanalysis.symbolic.equivalence import check_claim, claims
from optanalysis.symbolic.core import H

from hash_seeds import json_under_hash_seeds


def _claim(a, fixed_a, b):
    for c in claims():
        if c.rule_a == a and dict(c.fixed_a) == fixed_a and c.rule_b == b:
            return check_claim(c)
    raise LookupError((a, fixed_a, b))


def test_torch_sgd_without_dampening_is_heavy_ball():
    r = _claim("sgd_momentum", {"dampening": 0, "weight_decay": 0}, "heavy_ball")
    assert r.holds and r.identity_holds and r.mapping == {}


def test_torch_nesterov_is_sutskever_nesterov():
    r = _claim("sgd_momentum", {"nesterov": True, "weight_decay": 0}, "nesterov")
    assert r.holds and r.identity_holds


@pytest.mark.parametrize("rule", ["heavy_ball", "nesterov", "sgd_momentum"])
def test_momentum_zero_is_gd_up_to_a_zero_root(rule):
    c = next(c for c in claims() if c.rule_a == rule and dict(c.fixed_a).get("momentum") == 0)
    r = check_claim(c)
    assert r.holds and r.zero_roots == (1, 0)


def test_dampening_rescales_the_learning_rate():
    r = _claim("sgd_momentum", {"weight_decay": 0}, "heavy_ball")
    lr, d = sympy.Symbol("lr", positive=True), sympy.Symbol("dampening", positive=True)
    assert r.holds and not r.identity_holds
    assert sympy.simplify(r.mapping["lr"] - lr * (1 - d)) == 0
    assert sympy.simplify(r.mapping["momentum"] - sympy.Symbol("momentum", positive=True)) == 0
    assert r.counterexample["roots_a"] != r.counterexample["roots_b"]


def test_weight_decay_shifts_the_curvature():
    c = next(c for c in claims() if c.mapping)
    r = check_claim(c)
    assert r.holds and not r.identity_holds
    assert sympy.simplify(r.mapping["h"] - (H + sympy.Symbol("weight_decay", positive=True))) == 0


def _run(rule, fixed, lrs, h=1.0, x0=1.0, **hyper):
    """x after the steps, by calling the rule's step on Python floats (independent of sympy)."""
    rule = get_rule(rule)
    params = rule.params(**hyper, **fixed, lr=lrs[0])
    state = rule.init(x0, *rule.values(params))
    for t, lr in enumerate(lrs, start=1):
        v = rule.values({**params, "lr": lr})
        state = rule.step(*state, h * rule.grad_point(*state, *v), *v, t)
    return float(state[0])


def test_torch_and_sutskever_momentum_differ_under_a_schedule():
    r = _claim("sgd_momentum", {"dampening": 0, "weight_decay": 0}, "heavy_ball")
    s = r.schedule
    assert s["equivalent"] is False and s["lr_independent_change_of_variables"] == []
    diff = [[sympy.Rational(x) for x in row] for row in s["example"]["difference"]]
    assert any(x != 0 for row in diff for x in row)
    assert all(sympy.Rational(x) == 0 for row in s["example"]["difference_at_constant_lr"] for x in row)
    # the same fact from the rules' float steps, written independently here
    torch_x = _run("sgd_momentum", {"dampening": 0.0}, [0.1, 0.05], momentum=0.9)
    polyak_x = _run("heavy_ball", {}, [0.1, 0.05], momentum=0.9)
    assert not math.isclose(torch_x, polyak_x, rel_tol=1e-9)
    assert _run("sgd_momentum", {"dampening": 0.0}, [0.1] * 5, momentum=0.9) == pytest.approx(
        _run("heavy_ball", {}, [0.1] * 5, momentum=0.9), rel=1e-13)
    assert s["trajectory"]["schedule"]["library"] == pytest.approx(torch_x, rel=1e-13)
    assert s["trajectory"]["schedule"]["textbook"] == pytest.approx(polyak_x, rel=1e-13)


def test_torch_nesterov_differs_from_sutskever_under_a_schedule():
    r = _claim("sgd_momentum", {"nesterov": True, "weight_decay": 0}, "nesterov")
    assert r.schedule["equivalent"] is False
    assert any(sympy.Rational(x) != 0 for row in r.schedule["example"]["difference"] for x in row)


def test_sample_values_are_reported_in_the_same_order_whatever_the_hash_seed():
    # the values come from sets of sympy symbols, whose iteration order follows the hash seed;
    # they are written into figures/derivations, which must not change from run to run
    code = ("import json; from optanalysis.symbolic.equivalence import check_claim, claims\n"
            "out = []\n"
            "for c in claims():\n"
            "    r = check_claim(c)\n"
            "    out.append([list((r.counterexample or {}).get('values', {})),\n"
            "                list(((r.schedule or {}).get('example') or {}).get('values', {}))])\n"
            "print(json.dumps(out))\n")
    runs = json_under_hash_seeds(code, ("1", "2", "3", "4"))
    assert any(values for pair in runs[0] for values in pair)  # the premise: values are reported
    assert all(run == runs[0] for run in runs)
