"""Exact n-step worst case (optanalysis.theory.worst_case) against brute force and asymptotic rates."""
import json
import math

import numpy as np
import pytest

from optanalysis.rules import get_rule
from optanalysis.theory.worst_case import MAX_STEPS, transfer, worst_case

CASES = {
    "gd": {"lr": 0.15},
    "heavy_ball": {"lr": 0.12, "momentum": 0.6},
    "sgd_momentum": {"lr": 0.1, "momentum": 0.5, "dampening": 0.4},
    "nesterov": {"lr": 0.1, "momentum": 0.7},
}
MU, L = 0.5, 12.0


def brute_force(rule, params, hs, steps):
    """r_n(h) for every h of a grid: the rule's float step on n independent 1-D quadratics."""
    rule = get_rule(rule)
    vals = rule.values(rule.params(**params))
    state = rule.init(np.ones_like(hs), *vals)
    state = tuple(np.broadcast_to(s, hs.shape).astype(float) for s in state)
    for t in range(1, steps + 1):
        state = rule.step(*state, hs * rule.grad_point(*state, *vals), *vals, t)
    return state[0]


@pytest.mark.parametrize("metric", ["distance", "loss"])
@pytest.mark.parametrize("steps", [1, 6, 40])
@pytest.mark.parametrize("name", sorted(CASES))
def test_worst_case_matches_dense_brute_force(name, steps, metric):
    params = CASES[name]
    hs = np.linspace(MU, L, 200_001)
    r = brute_force(name, params, hs, steps)
    obj = r**2 if metric == "distance" else 0.5 * hs * r**2
    i = int(np.argmax(obj))
    res = worst_case(name, params, mu=MU, L=L, steps=steps, metric=metric)
    # The brute-force grid can only miss the peak: between grid points (spacing 5.8e-5) the
    # objective at a smooth maximum moves by O(f'' dh^2) < 1e-6 relative for these degrees.
    assert res.ratio >= obj[i] * (1 - 1e-12)
    assert res.ratio <= obj[i] * (1 + 1e-6)
    # the worst curvature of the exact search is the brute-force one (or an equally bad one)
    r_at = brute_force(name, params, np.array([res.h]), steps)[0]
    got = r_at**2 if metric == "distance" else 0.5 * res.h * r_at**2
    assert got == pytest.approx(res.ratio, rel=1e-10)


@pytest.mark.parametrize("name", sorted(CASES))
def test_transfer_equals_the_float_loop(name):
    hs = np.linspace(MU, L, 101)
    np.testing.assert_allclose(transfer(name, CASES[name], hs, steps=30),
                               brute_force(name, CASES[name], hs, 30), rtol=1e-9, atol=1e-13)


def test_grid_doubling_changes_nothing():
    params = {"lr": 4 / (1 + math.sqrt(50)) ** 2, "momentum": ((math.sqrt(50) - 1) / (math.sqrt(50) + 1)) ** 2}
    a = worst_case("heavy_ball", params, mu=1.0, L=50.0, steps=700)
    b = worst_case("heavy_ball", params, mu=1.0, L=50.0, steps=700, grid_factor=8)
    assert b.grid > 1.5 * a.grid
    assert a.log10_ratio == pytest.approx(b.log10_ratio, rel=1e-12)


@pytest.mark.parametrize("kappa", [10.0, 100.0])
def test_long_runs_approach_the_worst_spectral_radius(kappa):
    """ratio^(1/(2n)) -> worst-case rate.  Oracles from docs/reference.md §4.5.  The n-step ratio is
    rate^(2n) times a prefactor between n^-2 and n^2 (double roots give a factor n), so
    |log(ratio)/(2n) - log(rate)| <= (2 log n + 2)/(2n)."""
    n = 20_000
    sk = math.sqrt(kappa)
    cases = [
        ("gd", {"lr": 2 / (1 + kappa)}, (kappa - 1) / (kappa + 1)),
        ("heavy_ball", {"lr": 4 / (1 + sk) ** 2, "momentum": ((sk - 1) / (sk + 1)) ** 2}, (sk - 1) / (sk + 1)),
        ("nesterov", {"lr": 1 / kappa, "momentum": (sk - 1) / (sk + 1)}, 1 - 1 / sk),
    ]
    for name, params, rate in cases:
        res = worst_case(name, params, mu=1.0, L=kappa, steps=n)
        per_step = res.log10_ratio * math.log(10) / (2 * n)
        assert abs(per_step - math.log(rate)) <= (2 * math.log(n) + 2) / (2 * n), name


def test_single_curvature_and_underflow_free_log_ratio():
    res = worst_case("gd", {"lr": 0.1}, mu=3.0, L=3.0, steps=100_000)
    # one curvature: exactly (1 - 0.3)^(2n), far below the smallest double
    assert res.ratio == 0.0
    assert res.log10_ratio == pytest.approx(2 * 100_000 * math.log10(0.7), rel=1e-12)


def test_divergent_parameters_give_an_infinite_ratio():
    res = worst_case("gd", {"lr": 1.0}, mu=1.0, L=3.0, steps=2000)
    assert res.ratio == math.inf and res.h == 3.0


@pytest.mark.parametrize("kwargs, match", [
    ({"mu": 0.0}, "mu"),
    ({"mu": -1.0}, "mu"),
    ({"mu": 5.0, "L": 2.0}, "L must be in"),
    ({"steps": 0}, "steps"),
    ({"steps": MAX_STEPS + 1}, "steps"),
    ({"metric": "energy"}, "metric"),
    ({"rule": "rmsprop"}, "derive rmsprop --linearize"),
    ({"params": {"momentum": 1.0}}, "momentum"),
])
def test_bad_input(kwargs, match):
    base = {"rule": "heavy_ball", "params": {"lr": 0.1}, "mu": 1.0, "L": 2.0, "steps": 10}
    base.update(kwargs)
    with pytest.raises((ValueError, TypeError), match=match):
        worst_case(base.pop("rule"), base.pop("params"), **base)


def test_cli_json_and_errors(capsys):
    from optanalysis.cli import main

    assert main(["worst-case", "heavy_ball", "--mu", "0.5", "--L", "12", "--steps", "40",
                 "--param", "lr=0.12", "--param", "momentum=0.6", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    want = worst_case("heavy_ball", CASES["heavy_ball"], mu=MU, L=L, steps=40)
    assert out["ratio"] == want.ratio and out["h"] == want.h
    assert main(["worst-case", "heavy_ball", "--mu", "0", "--L", "12", "--steps", "40"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "mu" in err
    assert main(["worst-case", "adam", "--mu", "1", "--L", "12", "--steps", "40"]) == 2
    assert "--linearize" in capsys.readouterr().err


@pytest.mark.parametrize("name", sorted(CASES))
def test_long_runs_approach_the_symbolic_worst_rate(name):
    """Same limit for untuned hyperparameters, against the symbolic side's exact worst-case rate
    over [mu, L] (discriminant zeros and endpoints; an independent derivation)."""
    from optanalysis.symbolic.numeric import worst_case_rate

    n = 20_000
    rate = worst_case_rate(name, MU, L, **CASES[name])
    res = worst_case(name, CASES[name], mu=MU, L=L, steps=n)
    per_step = res.log10_ratio * math.log(10) / (2 * n)
    assert abs(per_step - math.log(rate)) <= (2 * math.log(n) + 2) / (2 * n)


def brute_force_lrs(rule, params, hs, lrs):
    """r_n(h) on a grid under an lr sequence: the rule's float step, lr replaced step by step."""
    rule = get_rule(rule)
    vals = list(rule.values(rule.params(**params)))
    state = rule.init(np.ones_like(hs), *vals)
    state = tuple(np.broadcast_to(s, hs.shape).astype(float) for s in state)
    for t, lr in enumerate(lrs, start=1):
        vals[0] = lr
        state = rule.step(*state, hs * rule.grad_point(*state, *vals), *vals, t)
    return state[0]


@pytest.mark.parametrize("name", sorted(CASES))
def test_worst_case_under_a_schedule_matches_brute_force(name):
    params = CASES[name]
    rng = np.random.default_rng(11)
    hs = np.linspace(MU, L, 200_001)
    for lrs in (params["lr"] * 0.5 ** (np.arange(30) // 10),  # step decay: three phases
                params["lr"] * rng.uniform(0.3, 1.0, 25)):  # a new lr every step
        r = brute_force_lrs(name, params, hs, lrs)
        i = int(np.argmax(r**2))
        res = worst_case(name, params, mu=MU, L=L, steps=lrs.size, lrs=lrs)
        # same grid argument as in test_worst_case_matches_dense_brute_force
        assert r[i] ** 2 * (1 - 1e-12) <= res.ratio <= r[i] ** 2 * (1 + 1e-6)
        np.testing.assert_allclose(transfer(name, params, hs[::1000], steps=lrs.size, lrs=lrs), r[::1000],
                                   rtol=1e-9, atol=1e-13)


def test_schedule_spec_and_work_limit():
    a = worst_case("gd", {"lr": 0.15}, mu=MU, L=L, steps=90, schedule="step:step_size=30,gamma=0.5")
    b = worst_case("gd", {"lr": 0.15}, mu=MU, L=L, steps=90, lrs=0.15 * 0.5 ** (np.arange(90) // 30))
    assert a.ratio == b.ratio
    # gd's r_n = prod (1 - lr_k h): the worst case is at an endpoint here (|1 - lr h| < 1 inside)
    want = max(np.prod((1 - 0.15 * 0.5 ** (np.arange(90) // 30) * h) ** 2) for h in (MU, L))
    assert a.ratio == pytest.approx(want, rel=1e-12)
    with pytest.raises(ValueError, match="schedule"):
        worst_case("gd", {"lr": 0.15}, mu=MU, L=L, steps=100_000, schedule="cosine:T_max=100000")


def test_threads_and_grid_merge_change_nothing(monkeypatch):
    """The threaded scan and refinement give the serial numbers (every grid point and bracket is
    independent), and the linear-time grid merge is np.unique of the two grids."""
    from optanalysis.theory import worst_case as wc

    params = CASES["heavy_ball"]
    monkeypatch.setattr(wc, "PARALLEL_WORK", math.inf)
    serial = worst_case("heavy_ball", params, mu=MU, L=L, steps=3000, metric="loss")
    monkeypatch.setattr(wc, "PARALLEL_WORK", 0.0)
    threaded = worst_case("heavy_ball", params, mu=MU, L=L, steps=3000, metric="loss")
    assert serial == threaded and serial.extrema > 100
    g = 4 * 3000 + wc.GRID_PAD
    cheb = np.clip(0.5 * (MU + L) - 0.5 * (L - MU) * np.cos(np.linspace(0.0, math.pi, g)), MU, L)
    np.testing.assert_array_equal(wc._grid(MU, L, g), np.unique(np.concatenate((np.linspace(MU, L, g), cheb))))
