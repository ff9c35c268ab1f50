"""Optimal tunings derived by SymPy against the literature's formulas (docs/reference.md §4.5, typed here only) and against numerics.

For kappa in {2, 10, 100, 10^4}: the derived rate equals the spectral radius maximised over a
fine h-grid at the derived hyperparameters, equals the exact worst case, and no (lr, momentum)
on a grid does better (beyond the grid's resolution).
"""
import math

import numpy as np
import pytest
import sympy

from optanalysis.symbolic.analysis import KAPPA, L, MU
from optanalysis.symbolic.derivation import derive
from optanalysis.symbolic.numeric import root_radius, worst_case_rate

from hash_seeds import json_under_hash_seeds

KAPPAS = (2, 10, 100, 10**4)
k = KAPPA


def _tuning(rule, name=None, **fixed):
    d = derive(rule, **fixed)
    return d.tunings[0] if name is None else next(t for t in d.tunings if t.name.startswith(name))


def _same(a, b):
    """Equal as functions of kappa (and mu, L): symbolic, with a numeric cross-check."""
    a, b = sympy.sympify(a), sympy.sympify(b)
    for kv in (2, 10, 100, 10**4):
        pt = {KAPPA: kv, MU: sympy.Rational(3, 7), L: sympy.Rational(3, 7) * kv}
        if abs(complex(sympy.N((a - b).subs(pt), 30))) > 1e-20:
            return False
    return sympy.simplify((a - b).subs(L, KAPPA * MU)) == 0


# docs/reference.md §4.5, typed here as oracles
ORACLES = {
    ("gd", None): {"lr": 2 / (L + MU), "rate": (k - 1) / (k + 1)},
    ("heavy_ball", None): {"lr": 4 / (sympy.sqrt(L) + sympy.sqrt(MU)) ** 2,
                           "momentum": ((sympy.sqrt(k) - 1) / (sympy.sqrt(k) + 1)) ** 2,
                           "rate": (sympy.sqrt(k) - 1) / (sympy.sqrt(k) + 1)},
    ("nesterov", "Lessard"): {"lr": 4 / (3 * L + MU),
                              "momentum": (sympy.sqrt(3 * k + 1) - 2) / (sympy.sqrt(3 * k + 1) + 2),
                              "rate": 1 - 2 / sympy.sqrt(3 * k + 1)},
    ("nesterov", "standard"): {"lr": 1 / L, "momentum": (sympy.sqrt(k) - 1) / (sympy.sqrt(k) + 1),
                               "rate": 1 - 1 / sympy.sqrt(k)},
}


@pytest.mark.parametrize("key", list(ORACLES), ids=lambda k: f"{k[0]}-{k[1]}")
def test_closed_forms_equal_reference(key):
    t = _tuning(*key)
    for name, oracle in ORACLES[key].items():
        got = t.rate if name == "rate" else t.values[name]
        assert _same(got, oracle), (name, got, oracle)


def test_lessard_recht_packard_numbers():
    t = _tuning("nesterov", "Lessard")
    for kv, want in ((10, 0.640789), (100, 0.884722), (1000, 0.963491)):
        assert float(t.rate.subs(KAPPA, kv)) == pytest.approx(want, abs=5e-7)
    s = _tuning("nesterov", "standard")
    assert float(s.rate.subs(KAPPA, 10)) == pytest.approx(0.683772, abs=5e-7)
    assert float(s.rate.subs(KAPPA, 100)) == pytest.approx(0.9, abs=1e-12)


def test_ordering_at_equal_kappa():
    """HB optimum < Lessard NAG < standard NAG < GD (docs/reference.md §4.5)."""
    for kv in (10, 100, 1000):
        r = [float(t.rate.subs(KAPPA, kv)) for t in (_tuning("heavy_ball"), _tuning("nesterov", "Lessard"),
                                                      _tuning("nesterov", "standard"), _tuning("gd"))]
        assert r == sorted(r) and len(set(r)) == 4


def _params(t, mu, Lv):
    pt = {MU: mu, L: Lv, KAPPA: Lv / mu}
    return {n: float(v.subs(pt)) for n, v in t.values.items()}


CASES = [("gd", None), ("heavy_ball", None), ("nesterov", "Lessard"), ("nesterov", "standard")]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]}-{c[1]}")
@pytest.mark.parametrize("kappa", KAPPAS)
def test_rate_is_the_worst_case_over_a_fine_grid(case, kappa):
    t = _tuning(*case)
    mu, Lv = 0.37, 0.37 * kappa
    params = _params(t, mu, Lv)
    rate = float(t.rate.subs(KAPPA, kappa))
    grid = np.geomspace(mu, Lv, 200_001)
    on_grid = float(root_radius(case[0], grid, **params).max())
    assert on_grid == pytest.approx(rate, rel=1e-7, abs=1e-9)
    # the optima sit on double roots, which floating point resolves to ~sqrt(machine eps)
    assert worst_case_rate(case[0], mu, Lv, **params) == pytest.approx(rate, rel=1e-7, abs=1e-9)


def _grid_best(rule, mu, Lv, lrs, moms):
    best = (math.inf, None)
    for lr in lrs:
        for m in moms:
            p = {"lr": lr} if m is None else {"lr": lr, "momentum": m}
            w = worst_case_rate(rule, mu, Lv, **p)
            if w < best[0]:
                best = (w, p)
    return best


@pytest.mark.parametrize("case", [("gd", None), ("heavy_ball", None), ("nesterov", "Lessard")],
                         ids=lambda c: c[0])
@pytest.mark.parametrize("kappa", KAPPAS)
def test_no_grid_point_beats_the_optimum(case, kappa):
    """The exact worst case of every (lr, momentum) on a grid around the optimum is >= the derived
    optimal rate, and the best grid point approaches it (grid resolution)."""
    rule = case[0]
    t = _tuning(*case)
    mu, Lv = 1.0, float(kappa)
    opt = _params(t, mu, Lv)
    rate = float(t.rate.subs(KAPPA, kappa))
    lrs = opt["lr"] * np.linspace(0.5, 1.5, 41)
    moms = [None] if rule == "gd" else list(np.clip(
        opt["momentum"] + np.linspace(-0.3, 0.3, 41) * (1 - opt["momentum"]), 0, 0.999))
    best, where = _grid_best(rule, mu, Lv, lrs, moms)
    assert best >= rate - 1e-7, (best, where, rate)
    assert best - rate <= 0.02 * (1 - rate) + 1e-9, (best, where, rate)
    # and over a coarse global grid too (lr*L in (0, 4], momentum in [0, 1))
    if rule != "gd":
        best_g, where_g = _grid_best(rule, mu, Lv, np.linspace(0.05, 4.0, 25) / Lv, np.linspace(0, 0.98, 25))
        assert best_g >= rate - 1e-7, (best_g, where_g, rate)


def test_tuning_checks_recorded_in_derivation():
    for rule in ("gd", "heavy_ball", "nesterov"):
        for t in derive(rule).tunings:
            assert t.check["worst_case"] == pytest.approx(t.check["rate"], rel=1e-6)


def test_tuning_with_dampening_and_weight_decay_is_the_shifted_polyak_tuning():
    """sgd_momentum: dampening rescales lr, weight decay shifts [mu, L] (derived, then checked)."""
    t = _tuning("sgd_momentum")
    dmp, wd = sympy.Symbol("dampening", positive=True), sympy.Symbol("weight_decay", positive=True)
    oracle = 4 / ((1 - dmp) * (sympy.sqrt(L + wd) + sympy.sqrt(MU + wd)) ** 2)
    pt = {MU: 0.5, L: 20.0, KAPPA: 40, dmp: 0.3, wd: 0.2}
    assert float(t.values["lr"].subs(pt)) == pytest.approx(float(oracle.subs(pt)), rel=1e-12)
    ke = (20.0 + 0.2) / (0.5 + 0.2)
    assert float(t.rate.subs(pt)) == pytest.approx((math.sqrt(ke) - 1) / (math.sqrt(ke) + 1), rel=1e-12)


def test_tuning_parameters_are_reported_in_the_same_order_whatever_the_hash_seed():
    # sgd_momentum's tuning leaves dampening and weight_decay free: they come from a set of
    # sympy symbols, whose order follows the hash seed, and end up in figures/derivations
    code = ("import json; from optanalysis.symbolic.tuning import optimal_tunings\n"
            "print(json.dumps([list(t.check['params']) for t in optimal_tunings('sgd_momentum')]))\n")
    runs = json_under_hash_seeds(code, ("1", "2", "3", "6"))
    assert {"dampening", "weight_decay"} <= set(runs[0][0])  # the premise: both are free
    assert all(run == runs[0] for run in runs)
