"""QHM, the triple momentum method and schedule-free SGD: the engine's derivations against the
papers' stated results (quoted below as oracles) and against the rules run as plain arithmetic.

Oracles
* Ma & Yarats (2019), Sec. 3 / Table 1: QHM "recovers" plain SGD at nu = 0, momentum
  (normalised: the buffer is an average, so the step is lr (1 - beta)) at nu = 1, and NAG at
  nu = beta.  Its stability region on quadratics is written out by hand here from the Jury
  conditions of the update as the paper states it (independent of the engine) and checked on
  random samples against ``numpy.linalg.eigvals``.
* Van Scoy, Freeman & Lynch (2018), Eq. (3)-(4): "rho = 1 - 1/sqrt(kappa), alpha = (1 + rho)/L,
  beta = rho^2/(2 - rho), gamma = rho^2/((1 + rho)(2 - rho))" converges "with rate rho".
* Defazio et al. (2024), Sec. 2: "beta = 0 ... Polyak-Ruppert averaging, beta = 1 ... primal
  averaging"; with a constant weight c the method is a momentum method: worked out by hand in
  the docstring of ``test_schedule_free_constant_weight_is_qhm`` and checked on trajectories.
"""
import math

import numpy as np
import pytest
import sympy

from optanalysis.rules import get_rule
from optanalysis.symbolic.core import H, Z, iteration_matrix
from optanalysis.symbolic.derivation import derive


def _run(rule, params, x0, h, xstar, steps):
    """The rule's plain-arithmetic step on float64 arrays (no kernel): the iterates x_0..x_steps."""
    rule = get_rule(rule)
    p = rule.params(**params)
    vals = rule.values(p)
    state = rule.init(np.asarray(x0, float), *vals)
    out = [state[0]]
    for t in range(1, steps + 1):
        g = h * (rule.grad_point(*state, *vals) - xstar)
        state = rule.step(*state, g, *vals, t)
        out.append(state[0])
    return np.array(out), state


H_DIAG = np.array([0.1, 0.7, 2.0, 4.5])
XSTAR = np.array([1.0, -2.0, 0.5, 3.0])
X0 = np.array([3.0, 1.0, -1.0, 0.0])
# The trajectories compared below are the same linear recurrences in two parametrisations: per
# step a few roundings of O(1) numbers (2^-53 each) over 100 contracting steps.
RTOL = 1e-12


# ------------------------------------------------------------------------------------ QHM
def test_qhm_characteristic_polynomial_and_stability_region():
    lr, beta, nu = sympy.symbols("lr momentum nu", positive=True)
    a = lr * H
    # by hand from buf' = beta buf + (1 - beta) h x, x' = x - lr((1 - nu) h x + nu buf'):
    hand = Z**2 - (1 + beta - a * (1 - nu * beta)) * Z + beta * (1 - a * (1 - nu))
    d = derive("qhm")
    assert sympy.expand(d.charpoly - hand) == 0
    # Jury for z^2 + c1 z + c0: p(1) = a (1 - beta) > 0, |c0| < 1 (c0 < 1 always; c0 > -1 follows
    # from p(-1) > 0 since beta < 1), p(-1) = 2(1 + beta) - a(1 + beta - 2 nu beta) > 0:
    hand_bound = 2 * (1 + beta) / (H * (1 + beta - 2 * nu * beta))
    assert sympy.simplify(d.lr_bound - hand_bound) == 0
    rng = np.random.default_rng(4)
    f = sympy.lambdify((H, lr, beta, nu), iteration_matrix("qhm"), "numpy")
    for _ in range(300):
        b, n, hh = rng.uniform(0, 0.99), rng.uniform(0, 1), rng.uniform(0.1, 10)
        bound = 2 * (1 + b) / (hh * (1 + b - 2 * n * b))
        for scale, stable in ((0.98, True), (1.02, False)):
            rho = max(abs(np.linalg.eigvals(np.array(f(hh, scale * bound, b, n), float))))
            assert (rho < 1) == stable, (b, n, hh, scale, rho)


def test_qhm_reductions_proven_by_the_engine():
    d = derive("qhm")
    statements = [e.statement for e in d.equivalences]
    assert all(e.holds for e in d.equivalences), statements
    beta, lr = sympy.symbols("momentum lr", positive=True)
    maps = {e.statement.split(" of ")[1].split()[0]: e.mapping for e in d.equivalences if e.mapping}
    # nu = 1: heavy ball with lr (1 - beta); nu = beta: Nesterov with lr (1 - beta) (Ma & Yarats)
    for other in ("heavy_ball", "nesterov"):
        assert sympy.simplify(maps[other]["lr"] - lr * (1 - beta)) == 0, maps
        assert sympy.simplify(maps[other]["momentum"] - beta) == 0
    assert any(s.startswith("qhm(nu=0, momentum=0) has the same") and s.split()[-4] == "gd"
               or "as gd" in s for s in statements), statements


@pytest.mark.parametrize("nu, other, params", [
    (0.0, "gd", {"lr": 0.3}),
    (1.0, "heavy_ball", {"lr": 0.3 * (1 - 0.8), "momentum": 0.8}),
])
def test_qhm_reductions_on_trajectories(nu, other, params):
    ours, _ = _run("qhm", {"lr": 0.3, "momentum": 0.8, "nu": nu}, X0, H_DIAG, XSTAR, 100)
    theirs, _ = _run(other, params, X0, H_DIAG, XSTAR, 100)
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=RTOL)


def test_qhm_with_nu_equal_momentum_is_nesterov_on_trajectories():
    # Sutskever's NAG holds x and v with the gradient at x + m v; QHM's x is that look-ahead
    # point: y_t = x_t + m v_t satisfies y' = y + m (y - y_prev) - lr' g(y) ... so compare
    # QHM(nu = m) with the look-ahead sequence of the nesterov rule.
    m, lr = 0.7, 0.4
    q, _ = _run("qhm", {"lr": lr, "momentum": m, "nu": m}, X0, H_DIAG, XSTAR, 100)
    rule = get_rule("nesterov")
    vals = rule.values(rule.params(lr=lr * (1 - m), momentum=m))
    state = rule.init(X0.copy(), *vals)
    ys = [rule.grad_point(*state, *vals)]
    for t in range(1, 101):
        state = rule.step(*state, H_DIAG * (rule.grad_point(*state, *vals) - XSTAR), *vals, t)
        ys.append(rule.grad_point(*state, *vals))
    np.testing.assert_allclose(q, np.array(ys), rtol=RTOL, atol=RTOL)


def test_qhm_optimal_tuning_is_polyaks_rate():
    tu = derive("qhm").optimal
    kappa = sympy.Symbol("kappa", positive=True)
    polyak = (sympy.sqrt(kappa) - 1) / (sympy.sqrt(kappa) + 1)
    assert sympy.simplify(tu.rate - polyak) == 0 and tu.values["nu"] == 1


# ------------------------------------------------------------------------------ triple momentum
def test_triple_momentum_tuning_and_rate_are_the_papers():
    d = derive("triple_momentum")
    tu = d.optimal
    assert tu.name == "Van Scoy-Freeman-Lynch"
    mu, L, kappa = sympy.symbols("mu L kappa", positive=True)
    rho = 1 - 1 / sympy.sqrt(kappa)
    paper = {"lr": (1 + rho) / L, "beta": rho**2 / (2 - rho), "gamma": rho**2 / ((1 + rho) * (2 - rho))}
    for k, v in paper.items():
        got = tu.values[k].subs(L, kappa * mu) if k == "lr" else tu.values[k]
        want = v.subs(L, kappa * mu)
        for kv in (2, 10, 1000):
            assert abs(float((got - want).subs({kappa: kv, mu: 1}))) < 1e-12, (k, kv)
    assert sympy.simplify(tu.rate - rho) == 0
    # the exact worst case over [mu, L] (the engine's, computed independently of the tuning's
    # root conditions) is the paper's rate rho at every kappa
    from optanalysis.symbolic.numeric import worst_case_rate

    for kv in (4.0, 50.0, 1e4):
        r = 1 - 1 / math.sqrt(kv)
        p = {"lr": (1 + r) / kv, "beta": r * r / (2 - r), "gamma": r * r / ((1 + r) * (2 - r))}
        assert abs(worst_case_rate("triple_momentum", 1.0, kv, **p) - r) < 1e-9


def test_triple_momentum_reduces_to_heavy_ball_and_nesterov():
    d = derive("triple_momentum")
    assert all(e.holds for e in d.equivalences), [e.statement for e in d.equivalences]
    ours, _ = _run("triple_momentum", {"lr": 0.2, "beta": 0.6, "gamma": 0.0}, X0, H_DIAG, XSTAR, 100)
    hb, _ = _run("heavy_ball", {"lr": 0.2, "momentum": 0.6}, X0, H_DIAG, XSTAR, 100)
    np.testing.assert_allclose(ours, hb, rtol=RTOL, atol=RTOL)


def test_triple_momentum_n_step_worst_case_decays_at_rho():
    from optanalysis.theory.worst_case import worst_case

    kv = 100.0
    r = 1 - 1 / math.sqrt(kv)
    p = {"lr": (1 + r) / kv, "beta": r * r / (2 - r), "gamma": r * r / ((1 + r) * (2 - r))}
    w = worst_case("triple_momentum", p, mu=1.0, L=kv, steps=400)
    # the distance ratio after n steps of a 2x2 linear recurrence with spectral radius rho is
    # C n rho^n at worst (a double root at h = mu would give the factor n): its n-th root tends to
    # rho from above, within a factor (C n)^(1/n) = 1 + O(log n / n)
    rate = 10 ** (w.log10_ratio / 800)  # the metric is the squared distance
    assert r - 1e-9 <= rate <= r * (1 + 3 * math.log(400) / 400), (rate, r)


# ------------------------------------------------------------------------------ schedule-free
def test_schedule_free_constant_weight_is_qhm():
    """y = (1 - b1) z + b1 x, z' = z - lr g(y), x' = (1 - c) x + c z'.  Then
    y' = y - lr g(y) ((1 - b1) + b1 c) + (1 - c)(y - y_prev) ... per direction the polynomial is
    z^2 - (2 - c - lr h (1 - b1 + c b1)) z + (1 - c)(1 - lr h (1 - b1)), which is QHM's with
    lr -> lr, nu -> b1, momentum -> 1 - c; QHM's x is the gradient point y (buffer 0 at start)."""
    lr, b1, c = sympy.symbols("lr b1 c", positive=True)
    hand = Z**2 - (2 - c - lr * H * (1 - b1 + c * b1)) * Z + (1 - c) * (1 - lr * H * (1 - b1))
    d = derive("schedule_free_sgd", weight_decay=0)
    assert sympy.expand(d.charpoly - hand) == 0
    assert d.equivalences and all(e.holds for e in d.equivalences)
    b, cc, g = 0.6, 0.3, 0.5
    rule = get_rule("schedule_free_sgd")
    vals = rule.values(rule.params(lr=g, b1=b, c=cc))
    state = rule.init(X0.copy(), *vals)
    ys = [rule.grad_point(*state, *vals)]
    for t in range(1, 101):
        state = rule.step(*state, H_DIAG * (rule.grad_point(*state, *vals) - XSTAR), *vals, t)
        ys.append(rule.grad_point(*state, *vals))
    q, _ = _run("qhm", {"lr": g, "nu": b, "momentum": 1 - cc}, X0, H_DIAG, XSTAR, 100)
    np.testing.assert_allclose(np.array(ys), q, rtol=RTOL, atol=RTOL)


def test_schedule_free_beta_zero_is_polyak_ruppert_averaging_of_sgd():
    xs, (x, z) = _run("schedule_free_sgd", {"lr": 0.3, "b1": 0.0}, X0, H_DIAG, XSTAR, 60)
    gd, _ = _run("gd", {"lr": 0.3}, X0, H_DIAG, XSTAR, 60)
    # c_t = 1/t: x_t is the uniform average of z_1..z_t, and z is SGD (gd) from x0
    averages = np.cumsum(gd[1:], axis=0) / np.arange(1, 61)[:, None]
    np.testing.assert_allclose(xs[1:], averages, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(z, gd[-1], rtol=RTOL)


def test_schedule_free_optimal_tuning_reaches_polyaks_rate():
    tu = derive("schedule_free_sgd", weight_decay=0).optimal
    kappa = sympy.Symbol("kappa", positive=True)
    polyak = (sympy.sqrt(kappa) - 1) / (sympy.sqrt(kappa) + 1)
    for kv in (3, 10, 1000):
        assert abs(float((tu.rate - polyak).subs(kappa, kv))) < 1e-12
    assert tu.values["b1"] == 1


def test_time_varying_weight_is_refused_by_the_time_invariant_tools():
    from optanalysis.theory.prediction import predict

    with pytest.raises(ValueError, match="c=0"):
        derive("schedule_free_sgd", c=0)
    with pytest.raises(ValueError, match="after the second step"):
        predict("schedule_free_sgd", {"lr": 0.1, "c": 0.0}, x0=X0, hessian_diag=H_DIAG,
                xstar=XSTAR, steps=10)
