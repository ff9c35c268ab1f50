"""Exact deterministic predictions (optanalysis.theory.prediction) against independent float loops.

The reference here runs the rule's own float ``step`` in the original coordinates (dense H
included), which shares nothing with the prediction but the rule definition: no SymPy, no
eigendecomposition, no iteration matrices.
"""
import math

import numpy as np
import pytest

from optanalysis.schedules import make_schedule
from hypothesis import given, settings
from hypothesis import strategies as st

from optanalysis.theory.prediction import linear_maps, lr_sequence, predict
from optanalysis.theory.spectrum import phase_rates, spectral_radius, stall_floor
from optanalysis.rules import get_rule

LINEAR = {
    "gd": {"lr": 0.15},
    "heavy_ball": {"lr": 0.1, "momentum": 0.7},
    "sgd_momentum": {"lr": 0.1, "momentum": 0.6, "dampening": 0.3, "weight_decay": 0.05},
    "nesterov": {"lr": 0.1, "momentum": 0.8},
}
# Relative to the initial loss, the brief's bar: prediction and float loop differ only by rounding
# (each step contracts, so errors of ~steps * eps stay far below 1e-10).
TOL = 1e-10


def naive_run(rule, params, x0, H, xstar, lrs):
    """Loss after every step of the rule's float step, g = H (grad_point - x*)."""
    rule = get_rule(rule)
    vals = list(rule.values(rule.params(**params)))
    state = rule.init(np.array(x0, float), *vals)
    out = [0.5 * (state[0] - xstar) @ H @ (state[0] - xstar)]
    for k, lr in enumerate(lrs):
        vals[0] = lr
        g = H @ (rule.grad_point(*state, *vals) - xstar)
        state = rule.step(*state, g, *vals, k + 1)
        out.append(0.5 * (state[0] - xstar) @ H @ (state[0] - xstar))
    return np.array(out), state


def _problem(rng, d=6, dense=False):
    h = np.sort(rng.uniform(0.1, 4.0, d))
    if dense:
        Q, _ = np.linalg.qr(rng.normal(size=(d, d)))
        H = (Q * h) @ Q.T
    else:
        H = np.diag(h)
    return H, rng.normal(size=d), rng.normal(size=d)


def _sequences(rng, base, steps):
    return {
        "constant": np.full(steps, base),
        "piecewise": base * 0.5 ** (np.arange(steps) // 150),
        "random": base * rng.uniform(0.2, 1.0, steps),  # not piecewise constant: a new map every step
    }


@pytest.mark.parametrize("dense", [False, True])
@pytest.mark.parametrize("name", sorted(LINEAR))
def test_prediction_equals_float_loop_for_any_lr_sequence(name, dense):
    rng = np.random.default_rng(1)
    H, x0, xs = _problem(rng, dense=dense)
    kw = {"hessian": H} if dense else {"hessian_diag": np.diag(H)}
    for label, lrs in _sequences(rng, LINEAR[name]["lr"], 1000).items():
        ref, state = naive_run(name, LINEAR[name], x0, H, xs, lrs)
        p = predict(name, LINEAR[name], x0=x0, xstar=xs, steps=lrs.size, lrs=lrs, **kw)
        err = np.max(np.abs(p.loss - ref)) / ref[0]
        assert err <= TOL, (label, err)
        for got, want in zip(p.state, state):
            assert np.allclose(got, want, rtol=0, atol=1e-10 * np.linalg.norm(x0 - xs)), label


def test_torch_first_step_matters():
    """The t = 1 map (buffer = g, no dampening) is derived from the rule, not the stationary one:
    running the stationary map from the start would miss the reference by far more than TOL."""
    name, params = "sgd_momentum", LINEAR["sgd_momentum"]
    rng = np.random.default_rng(2)
    H, x0, xs = _problem(rng)
    lrs = np.full(50, params["lr"])
    ref, _ = naive_run(name, params, x0, H, xs, lrs)
    p = predict(name, params, x0=x0, hessian_diag=np.diag(H), xstar=xs, steps=50)
    assert np.max(np.abs(p.loss - ref)) / ref[0] <= TOL
    from optanalysis.theory.prediction import linear_maps

    maps = linear_maps(name, get_rule(name).params(**params))
    h = np.diag(H)
    A1 = maps.A(1, h, params["lr"], (params["momentum"], params["dampening"], params["weight_decay"]))
    A2 = maps.A(2, h, params["lr"], (params["momentum"], params["dampening"], params["weight_decay"]))
    assert np.max(np.abs(A1 - A2)) > 0.1


def test_record_every_and_iterates():
    rng = np.random.default_rng(3)
    H, x0, xs = _problem(rng, dense=True)
    full = predict("heavy_ball", LINEAR["heavy_ball"], x0=x0, hessian=H, xstar=xs, steps=60, record_x=True)
    sub = predict("heavy_ball", LINEAR["heavy_ball"], x0=x0, hessian=H, xstar=xs, steps=60, record_every=7)
    assert sub.loss.shape == (60 // 7 + 1,)
    np.testing.assert_array_equal(sub.loss, full.loss[::7][: sub.loss.size])
    assert full.xs.shape == (61, 6)
    # same numbers rotated back by a matrix product vs a vector product: equal up to rounding
    np.testing.assert_allclose(full.xs[-1], full.x, rtol=0, atol=8 * np.finfo(float).eps * np.linalg.norm(x0))
    # the loss recomputed from the iterates in the original coordinates
    e = full.xs - xs
    np.testing.assert_allclose(0.5 * np.einsum("ki,ij,kj->k", e, H, e), full.loss, rtol=1e-12, atol=1e-14)


def test_divergence_is_reported():
    p = predict("gd", {"lr": 1.0}, x0=[1.0], hessian_diag=[2.5], steps=3000)
    # |1 - 2.5| = 1.5 per step: the loss overflows once 1.25 * 1.5^(2k) > 1.8e308, k ~ 875
    k = math.ceil((math.log(np.finfo(float).max) - math.log(1.25)) / (2 * math.log(1.5)))
    assert abs(p.diverged_at - k) <= 1


@pytest.mark.parametrize("kwargs, match", [
    ({"rule": "adam"}, "derive adam --linearize"),
    ({"steps": 0}, "steps"),
    ({"record_every": 0}, "record_every"),
    ({"hessian_diag": [-1.0, 1.0]}, "hessian_diag"),
    ({"hessian_diag": None, "hessian": [[1.0, 2.0], [0.0, 1.0]]}, "symmetric"),
    ({"hessian_diag": None, "hessian": [[1.0, 0.0], [0.0, -1.0]]}, "positive semi-definite"),
    ({"x0": [1.0, np.nan]}, "x0"),
    ({"xstar": [1.0]}, "xstar"),
    ({"lrs": [0.1, 0.1]}, "lrs"),
    ({"params": {"lr": -1.0}}, "lr"),
])
def test_bad_input_names_the_argument(kwargs, match):
    base = {"rule": "gd", "params": {"lr": 0.1}, "x0": [1.0, 2.0], "hessian_diag": [1.0, 2.0], "steps": 5}
    base.update(kwargs)
    rule = base.pop("rule")
    params = base.pop("params")
    with pytest.raises((ValueError, TypeError), match=match):
        predict(rule, params, **base)


def test_closed_loop_schedule_needs_the_lr_sequence():
    # (predict itself runs a plateau closed loop; see test_predict_kernels.py)
    with pytest.raises(ValueError, match="lrs="):
        lr_sequence(0.1, 5, make_schedule("plateau:patience=2"))


# ---------------------------------------------------------------------------------------------
# Rates of phases; stall floor


def test_phase_rates_gd_equal_the_closed_form_over_the_spectrum():
    h = np.array([0.5, 1.0, 3.0])
    lrs = np.repeat([0.6, 0.3, 0.05], [10, 20, 5])
    phases = phase_rates("gd", {"lr": 0.6}, lrs, h=h)
    assert [(p.start, p.stop) for p in phases] == [(0, 10), (10, 30), (30, 35)]
    for p in phases:
        # docs/reference.md §4.1: rate max_i |1 - lr h_i|
        assert p.rate == pytest.approx(np.max(np.abs(1 - p.lr * h)), rel=1e-14)


@pytest.mark.parametrize("kappa", [10.0, 100.0])
def test_phase_rate_over_interval_matches_literature_tunings(kappa):
    mu, L = 1.0, kappa
    sk = math.sqrt(kappa)
    # docs/reference.md §4.5 (Polyak/Goh; standard Nesterov tuning) — independent oracles
    lr_hb = 4 / (math.sqrt(L) + math.sqrt(mu)) ** 2
    hb = phase_rates("heavy_ball", {"lr": lr_hb, "momentum": ((sk - 1) / (sk + 1)) ** 2}, [lr_hb], mu=mu, L=L)
    # double roots at the endpoints: eigenvalues of a defective matrix are accurate to sqrt(eps)
    assert hb[0].rate == pytest.approx((sk - 1) / (sk + 1), rel=1e-7)
    nag = phase_rates("nesterov", {"lr": 1 / L, "momentum": (sk - 1) / (sk + 1)}, [1 / L], mu=mu, L=L)
    assert nag[0].rate == pytest.approx(1 - 1 / sk, rel=1e-7)
    assert nag[0].worst_h == pytest.approx(mu, rel=1e-6)


def test_spectral_radius_gd():
    h = np.linspace(0.1, 3.0, 7)
    np.testing.assert_allclose(spectral_radius("gd", {"lr": 0.5}, h), np.abs(1 - 0.5 * h), rtol=1e-15)


@pytest.mark.parametrize("rule,params", [("heavy_ball", {"lr": 0.1, "momentum": 0.9}),
                                         ("nesterov", {"lr": 0.1, "momentum": 0.5}),
                                         ("sgd_momentum", {"lr": 0.1, "momentum": 0.9, "dampening": 0.3}),
                                         ("sgd_momentum", {"lr": 0.1, "momentum": 0.0, "dampening": 0.3})])
def test_stationary_spectral_radius_equals_the_eigenvalues_of_the_derived_matrix(rule, params):
    """t = 2 goes through the characteristic polynomial (optanalysis.symbolic.numeric); the
    eigenvalues of the separately derived matrix A_2 are an independent check.  Tolerance: the
    eigenvalues of a (nearly) defective matrix, at a double root, are accurate to sqrt(eps) ~ 1.5e-8."""
    r = get_rule(rule)
    full = r.params(**params)
    h = np.geomspace(1e-3, 1e2, 201)
    maps = linear_maps(r, full)
    eig = np.max(np.abs(np.linalg.eigvals(maps.A(2, h, full["lr"], maps.rest(full)))), axis=-1)
    np.testing.assert_allclose(spectral_radius(rule, params, h), eig, rtol=0, atol=3e-8)


def test_spectral_radius_at_a_nilpotent_map_and_at_lr_zero():
    """torch's Nesterov momentum at lr h = 1 has a nilpotent map (both roots 0): the polynomial's
    roots keep rho to a few eps (the eigenvalues of the defective matrix give 1.1e-8).  lr = 0 (a
    schedule's end) leaves every direction alone: rho = 1 (eigenvalues 1 and the momentum)."""
    assert spectral_radius("sgd_momentum", {"lr": 0.1, "momentum": 0.9, "nesterov": True}, [10.0])[0] <= 1e-15
    assert spectral_radius("heavy_ball", {"lr": 0.1, "momentum": 0.9}, [1.0, 5.0], lr=0.0) == pytest.approx(1.0, abs=1e-15)
    with pytest.raises(ValueError, match="t must be an integer >= 1"):
        spectral_radius("gd", {"lr": 0.1}, [1.0], t=0)
    with pytest.raises(ValueError, match="lr must be a finite number >= 0"):
        spectral_radius("gd", {"lr": 0.1}, [1.0], lr=-1.0)


def test_stall_floor_of_exponential_decay_is_the_infinite_product():
    h = np.array([0.2, 1.0, 2.5])
    x0 = np.array([1.0, -2.0, 0.5])
    lr0, gamma = 0.3, 0.97
    fl = stall_floor("gd", {"lr": lr0}, x0=x0, hessian_diag=h, schedule=make_schedule("exponential", gamma=gamma))
    # oracle: log prod_k (1 - lr0 gamma^k h) summed to 20000 terms (the tail beyond is < 1e-260)
    k = np.arange(20000)
    logf = np.sum(np.log1p(-lr0 * gamma ** k[:, None] * h), axis=0)
    want = 0.5 * h * x0**2 * np.exp(2 * logf)
    np.testing.assert_allclose(fl.loss_directions, want, rtol=1e-11)
    assert fl.loss > 1e-4 * 0.5 * np.sum(h * x0**2)  # sum lr = 10: stalls near exp(-2*0.2*10) loss_0


def test_stall_floor_refuses_a_divergent_lr_sum():
    with pytest.raises(ValueError, match="sum may be infinite"):
        stall_floor("gd", {"lr": 0.1}, x0=[1.0], hessian_diag=[1.0], schedule="inverse_time:decay=1",
                    max_steps=4096)


@pytest.mark.parametrize("params", [{"lr": 0.1, "momentum": 0.7, "nesterov": True},
                                    {"lr": 0.1, "momentum": 0.0, "dampening": 0.5}])
def test_flags_and_zero_momentum_branches(params):
    """torch's nesterov=True direction and its momentum = 0 branch (no buffer: d = g, dampening
    ignored) are derived with the flag / zero fixed, not from the generic symbols."""
    rng = np.random.default_rng(6)
    H, x0, xs = _problem(rng, dense=True)
    lrs = params["lr"] * rng.uniform(0.5, 1.0, 300)
    ref, _ = naive_run("sgd_momentum", params, x0, H, xs, lrs)
    p = predict("sgd_momentum", params, x0=x0, hessian=H, xstar=xs, steps=lrs.size, lrs=lrs)
    assert np.max(np.abs(p.loss - ref)) / ref[0] <= TOL


@settings(max_examples=30, deadline=None)
@given(name=st.sampled_from(sorted(LINEAR)), seed=st.integers(0, 2**32 - 1), d=st.integers(1, 4),
       momentum=st.floats(0.0, 0.95), lr=st.floats(0.01, 1.5))
def test_property_prediction_equals_float_loop(name, seed, d, momentum, lr):
    """Any hyperparameters (stable or not), any lr sequence: equal up to rounding relative to the
    largest loss seen so far (a diverging run is compared on its own growing scale)."""
    rng = np.random.default_rng(seed)
    h = rng.uniform(0.0, 3.0, d)
    x0, xs = rng.normal(size=d), rng.normal(size=d)
    params = {"lr": lr} if name == "gd" else {"lr": lr, "momentum": momentum}
    lrs = lr * rng.uniform(0.1, 1.0, 60)
    ref, _ = naive_run(name, params, x0, np.diag(h), xs, lrs)
    p = predict(name, params, x0=x0, hessian_diag=h, xstar=xs, steps=lrs.size, lrs=lrs)
    scale = np.maximum.accumulate(np.maximum(ref, 1e-300))
    assert np.all(np.abs(p.loss - ref) <= TOL * scale)
