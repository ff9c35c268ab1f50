"""The noisy quadratic model (optanalysis.theory.noisy) against the paper's formulas and Monte Carlo.

Oracles typed here come from docs/reference.md §7 (Zhang et al. 2019, the authors' notebook); the
package derives everything from the rule definitions instead.
"""
import numpy as np
import pytest
import sympy

from optanalysis.comparison import min_seeds, monte_carlo
from optanalysis.theory.noisy import B, C, GAMMA, P, expected_loss, steady_state, steady_state_loss
from optanalysis.symbolic.core import H

lr, beta = sympy.symbols("lr momentum", positive=True)
SGD_ORACLE = lr * C / (2 * B * (2 - lr * H))
HB_ORACLE = (1 + beta) * lr * C / (2 * B * (1 - beta) * (2 + 2 * beta - lr * H))


def _same(expr, oracle):
    return sympy.simplify(expr - oracle) == 0


def test_steady_state_sgd_and_heavy_ball_match_the_paper():
    assert _same(steady_state_loss("gd"), SGD_ORACLE)
    assert _same(steady_state_loss("heavy_ball"), HB_ORACLE)
    # torch SGD momentum (dampening 0) has heavy ball's recursion under a constant lr
    assert _same(steady_state_loss("sgd_momentum", dampening=0, weight_decay=0), HB_ORACLE)
    # momentum 0 reduces heavy ball to SGD
    assert _same(steady_state_loss("heavy_ball", momentum=0), SGD_ORACLE)
    # the oracles really differ (the comparison can fail)
    assert not _same(steady_state_loss("heavy_ball"), SGD_ORACLE)


def test_steady_state_ema_and_preconditioning_match_the_paper():
    a = lr * H
    ema = SGD_ORACLE * (1 - GAMMA) * (1 + (1 - a) * GAMMA) / ((1 + GAMMA) * (1 - (1 - a) * GAMMA))
    assert _same(steady_state_loss("gd", ema=True), ema)
    pre = lr * C * H ** (-P) / (2 * B * (2 - lr * H ** (1 - P)))
    assert _same(steady_state_loss("gd", precondition=True), pre)


def test_sgd_transient_closed_form():
    """E l_i(t) = (1 - a h)^(2t) l_i(0) + (1 - (1 - a h)^(2t)) a c/(2B(2 - a h)) (docs/reference.md §7.3)."""
    h = np.array([0.05, 0.5, 1.5])
    x0 = np.array([2.0, -1.0, 0.5])
    a, sigma, batch = 0.4, 0.3, 8
    e = expected_loss("gd", {"lr": a}, x0=x0, hessian_diag=h, steps=300, noise=f"hessian:sigma={sigma}", batch=batch)
    t = np.arange(301)[:, None]
    q = (1 - a * h) ** (2 * t)
    want = q * 0.5 * h * x0**2 + (1 - q) * a * sigma**2 * h / (2 * batch * (2 - a * h))
    # same recursion evaluated two ways: rounding only (1e-12 relative)
    np.testing.assert_allclose(e.loss_directions, want, rtol=1e-12)


def test_heavy_ball_against_the_notebook_transition_matrix():
    """The authors' 3x3 recursion on (E theta^2, E v^2, E theta v) for v+ = beta v - a g, theta+ = theta + v+."""
    h = np.array([0.1, 1.0])
    x0 = np.array([1.0, 3.0])
    alpha, b, c, batch = 0.3, 0.8, np.array([0.2, 0.5]), 2
    e = expected_loss("heavy_ball", {"lr": alpha, "momentum": b}, x0=x0, hessian_diag=h, steps=200,
                      noise=f"diag:c=[{c[0]},{c[1]}]", batch=batch)
    for i in range(2):
        ah = alpha * h[i]
        T = np.array([[(1 - ah) ** 2, b**2, 2 * b * (1 - ah)],
                      [ah**2, b**2, -2 * ah * b],
                      [-ah * (1 - ah), b**2, b * (1 - 2 * ah)]])
        p = np.array([x0[i] ** 2, 0.0, 0.0])
        ref = [0.5 * h[i] * p[0]]
        for _ in range(200):
            p = T @ p + alpha**2 * c[i] / batch * np.ones(3)
            ref.append(0.5 * h[i] * p[0])
        np.testing.assert_allclose(e.loss_directions[:, i], ref, rtol=1e-11, atol=1e-300)


def test_piecewise_constant_schedule_piece_by_piece():
    """Under a PWC schedule the SGD second moment follows s <- s* + (1 - a h)^(2k)(s - s*) piece by piece."""
    h, x0, sigma = np.array([0.2, 1.0]), np.array([1.0, 1.0]), 0.5
    pieces = [(0.8, 40), (0.4, 60), (0.1, 100)]
    lrs = np.concatenate([np.full(k, a) for a, k in pieces])
    e = expected_loss("gd", {"lr": 0.8}, x0=x0, hessian_diag=h, steps=lrs.size, lrs=lrs,
                      noise=f"isotropic:sigma={sigma}")
    s = x0**2
    for a, k in pieces:
        star = a**2 * sigma**2 / (1 - (1 - a * h) ** 2)
        s = star + (1 - a * h) ** (2 * k) * (s - star)
    np.testing.assert_allclose(e.loss_directions[-1], 0.5 * h * s, rtol=1e-12)


@pytest.mark.parametrize("name, params", [("heavy_ball", {"lr": 0.3, "momentum": 0.6}),
                                          ("nesterov", {"lr": 0.3, "momentum": 0.6}),
                                          ("sgd_momentum", {"lr": 0.3, "momentum": 0.6, "dampening": 0.3})])
def test_recursion_converges_to_the_symbolic_steady_state(name, params):
    h = np.array([0.1, 0.7, 2.0])
    e = expected_loss(name, params, x0=np.ones(3), hessian_diag=h, steps=4000, noise="hessian:sigma=0.4", batch=3)
    ss = steady_state(name, params, hessian_diag=h, noise="hessian:sigma=0.4", batch=3)
    # slowest mode contracts by <= 0.99 per step: after 4000 steps the transient is < 1e-17 relative
    np.testing.assert_allclose(e.loss_directions[-1], ss, rtol=1e-10)


def test_unstable_direction_has_infinite_steady_state():
    ss = steady_state("gd", {"lr": 1.0}, hessian_diag=[0.5, 2.5], noise="isotropic:sigma=1")
    assert np.isfinite(ss[0]) and ss[1] == np.inf


def test_dense_hessian_equals_its_spectrum():
    rng = np.random.default_rng(4)
    h = np.array([0.1, 0.5, 1.2])
    Q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    x0, xs = rng.normal(size=3), rng.normal(size=3)
    dense = expected_loss("nesterov", {"lr": 0.4, "momentum": 0.5}, x0=x0, xstar=xs, hessian=(Q * h) @ Q.T, steps=100,
                          noise="hessian:sigma=0.3", schedule="cosine:T_max=100")
    diag = expected_loss("nesterov", {"lr": 0.4, "momentum": 0.5}, x0=Q.T @ x0, xstar=Q.T @ xs, hessian_diag=h,
                         steps=100, noise="hessian:sigma=0.3", schedule="cosine:T_max=100")
    np.testing.assert_allclose(dense.loss, diag.loss, rtol=1e-12)


# ---------------------------------------------------------------------------------------------
# Monte Carlo with the kernels

SEEDS = 1000
LEVEL = 0.99


@pytest.mark.parametrize("name, params, schedule, dense, noise", [
    ("gd", {"lr": 0.5}, "step:step_size=60,gamma=0.5", False, "hessian:sigma=0.5"),
    ("heavy_ball", {"lr": 0.2, "momentum": 0.7}, "cosine:T_max=200,eta_min=0.02", False, "hessian:sigma=0.5"),
    ("sgd_momentum", {"lr": 0.2, "momentum": 0.6, "dampening": 0.2}, "exponential:gamma=0.995", True,
     "hessian:sigma=0.5"),
    ("nesterov", {"lr": 0.2, "momentum": 0.8}, None, False, "hessian:sigma=0.5"),
    # diagonal noise on a rotated H: correlated across eigen-directions, only q_i^T C q_i matters
    ("heavy_ball", {"lr": 0.2, "momentum": 0.5}, "multistep:milestones=[50,120],gamma=0.5", True,
     "diag:c=[0.5,0.01,0.2,0.05]"),
])
def test_prediction_inside_the_monte_carlo_interval(name, params, schedule, dense, noise):
    rng = np.random.default_rng(5)
    h = np.array([0.05, 0.3, 1.0, 2.0])
    x0, xs = rng.normal(size=4), rng.normal(size=4)
    if dense:
        Q, _ = np.linalg.qr(rng.normal(size=(4, 4)))
        prob = {"hessian": (Q * h) @ Q.T}
    else:
        prob = {"hessian_diag": h}
    kw = dict(x0=x0, xstar=xs, steps=200, schedule=schedule, noise=noise, batch=2, **prob)
    mc = monte_carlo(name, params, seeds=SEEDS, level=LEVEL, **kw)
    ex = expected_loss(name, params, **kw)
    inside = (ex.loss[1:] >= mc.low[1:]) & (ex.loss[1:] <= mc.high[1:])
    # the brief's bar: inside the 99 % interval at >= 95 % of the checkpoints (step 0 has no noise)
    assert inside.mean() >= 0.95, inside.mean()
    # and the noise matters: the noiseless prediction is far outside at the end
    from optanalysis.theory.prediction import predict

    det = predict(name, params, x0=x0, xstar=xs, steps=200, schedule=schedule, **prob)
    assert det.loss[-1] < mc.low[-1]


def test_preconditioning_against_monte_carlo():
    """P = H^(-p) on a diagonal H is the rule on curvatures h^(1-p) with noise c h^(-2p); the loss
    keeps curvature h.  Kernels run the transformed problem; the final iterates give the loss."""
    from optanalysis.simulation import simulate_batch

    h, x0, sigma, p, a = np.array([0.05, 0.4, 1.0]), np.array([1.0, -1.0, 2.0]), 0.5, 0.5, 0.3
    c = sigma**2 * h * h ** (-2 * p)
    res = simulate_batch("gd", [{"lr": a}], seeds=list(range(SEEDS)), x0=x0, hessian_diag=h ** (1 - p), steps=150,
                         noise="diag:c=[" + ",".join(repr(float(v)) for v in c) + "]")
    final = 0.5 * (res.x[0] ** 2) @ h
    ex = expected_loss("gd", {"lr": a}, x0=x0, hessian_diag=h, steps=150, noise=f"hessian:sigma={sigma}",
                       precondition=p)
    z = 2.5758293035489004  # 99 % two-sided normal quantile
    assert abs(final.mean() - ex.loss[-1]) <= z * final.std(ddof=1) / np.sqrt(SEEDS)


@pytest.mark.parametrize("kwargs, match", [
    ({"noise": None}, "noise"),
    ({"ema": 1.0}, "ema"),
    ({"precondition": 1.5}, "precondition"),
    ({"batch": 0}, "batch"),
    ({"rule": "adamw"}, "--linearize"),
])
def test_bad_input(kwargs, match):
    base = {"rule": "gd", "x0": [1.0], "hessian_diag": [1.0], "steps": 5, "noise": "isotropic:sigma=1"}
    base.update(kwargs)
    with pytest.raises((ValueError, TypeError), match=match):
        expected_loss(base.pop("rule"), {"lr": 0.1}, **base)


def test_too_few_seeds_for_the_interval():
    assert min_seeds(0.99) == 1000 and min_seeds(0.95) == 200
    with pytest.raises(ValueError, match="seeds"):
        monte_carlo("gd", {"lr": 0.1}, seeds=999, level=0.99, x0=[1.0], hessian_diag=[1.0], steps=5,
                    noise="isotropic:sigma=1")
