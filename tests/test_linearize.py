"""Frozen-preconditioner linearisation of the adaptive rules, against literature formulas
(docs/reference.md §5.2, §6.1–§6.2) and against the rules' own floating-point step."""
import json
import math

import numpy as np
import pytest
import sympy

from optanalysis.rules import get_rule
from optanalysis.symbolic import H, T, Z, iteration_matrix
from optanalysis.symbolic.linearization import LAM, fixed_point, linearization_dict, linearize

S = {n: sympy.Symbol(n, positive=True) for n in
     ("lr", "beta1", "beta2", "b1", "eps", "momentum", "v", "nu", "eps_root")}
S["t"] = T  # the step count of the symbolic core (positive integer)


def _equal(a, b) -> bool:
    """a == b as expressions: simplify, else at random points of the valid ranges (coefficients in
    (0, 1), t a positive integer), where both sides are exact algebraic functions: agreement to
    1e-12 relative cannot happen by accident."""
    if sympy.simplify(a - b) == 0:
        return True
    rng = np.random.default_rng(0)
    syms = sorted(a.free_symbols | b.free_symbols, key=str)
    for _ in range(5):
        vals = {}
        for s in syms:
            if str(s) == "t":
                vals[s] = int(rng.integers(1, 20))
            elif str(s) in ("beta1", "beta2", "b1", "b2", "momentum", "alpha", "decay"):
                vals[s] = rng.uniform(0.05, 0.95)
            else:
                vals[s] = rng.uniform(0.1, 3.0)
        x, y = complex(a.subs(vals)), complex(b.subs(vals))
        if abs(x - y) > 1e-12 * max(1.0, abs(x)):
            return False
    return True


def _hb_charpoly(lr, momentum, lam):
    """Heavy ball's characteristic polynomial, from its own rule definition."""
    cp = iteration_matrix("heavy_ball").charpoly(Z).as_expr()
    return cp.subs({S["lr"]: lr, S["momentum"]: momentum, H: lam}, simultaneous=True)


def test_adam_is_heavy_ball_on_preconditioned_curvature():
    lin = linearize("adam")
    assert lin.equivalent == "heavy_ball"
    b1, lr = S["beta1"], S["lr"]
    # docs/reference.md §6.1: alpha = lr (1 - beta1), momentum = beta1, lam = h/P.
    assert _equal(lin.mapping["lr"], lr * (1 - b1))
    assert sympy.simplify(lin.mapping["momentum"] - b1) == 0
    # The rule's linearised charpoly equals heavy ball's under that mapping (independent check
    # of the solve: substitute the literature mapping into heavy ball's own polynomial).
    assert sympy.expand(lin.charpoly - _hb_charpoly(lr * (1 - b1), b1, LAM)) == 0


def test_adam_threshold_is_cohen_et_al():
    lin = linearize("adam")
    b1, lr = S["beta1"], S["lr"]
    assert _equal(lin.threshold, (2 + 2 * b1) / ((1 - b1) * lr))
    # Cohen et al. (2022): 38/lr at beta1 = 0.9 -- exact rational arithmetic.
    assert sympy.simplify(lin.threshold.subs(b1, sympy.Rational(9, 10)) - 38 / lr) == 0
    assert sympy.simplify(linearize("adam", beta1=0.9).threshold - 38 / lr) == 0


def test_adam_preconditioner_and_bias_correction():
    lin = linearize("adam")
    v, eps, t, b1, b2 = S["v"], S["eps"], S["t"], S["beta1"], S["beta2"]
    # P = sqrt(v_hat) + eps with v_hat = v/(1 - beta2^t) (torch: eps outside the root).
    assert _equal(lin.preconditioner_t, sympy.sqrt(v / (1 - b2**t)) + eps)
    assert sympy.simplify(lin.preconditioner - (sympy.sqrt(v) + eps)) == 0
    assert _equal(lin.bias_factor(), sympy.sqrt(1 - b2**t) / (1 - b1**t))
    # Small-gradient regime: P -> eps, effective lr lr/eps.
    assert lin.small_gradient_preconditioner() == eps


@pytest.mark.parametrize("fixed,precond", [
    ({"momentum": 0}, "sqrt(nu + eps)"),
    ({"momentum": 0, "eps_in_sqrt": False}, "sqrt(nu) + eps"),
])
def test_rmsprop_optax_eps_placement(fixed, precond):
    lin = linearize("rmsprop_optax", **fixed)
    assert sympy.simplify(lin.preconditioner - sympy.sympify(precond, locals=S)) == 0
    assert lin.equivalent == "gd"
    assert sympy.simplify(lin.threshold - 2 / S["lr"]) == 0


def test_rmsprop_without_and_with_momentum():
    plain = linearize("rmsprop", momentum=0)
    assert plain.equivalent == "gd" and sympy.simplify(plain.threshold - 2 / S["lr"]) == 0
    assert sympy.simplify(plain.preconditioner - (sympy.sqrt(S["v"]) + S["eps"])) == 0
    mom = linearize("rmsprop")
    # torch's buffer b <- mu b + g/d is heavy ball with lr and mu (not the EMA form).
    assert mom.equivalent == "heavy_ball"
    assert mom.mapping == {"lr": S["lr"], "momentum": S["momentum"]}
    assert sympy.simplify(mom.threshold - 2 * (1 + S["momentum"]) / S["lr"]) == 0


@pytest.mark.parametrize("name,fixed", [("adam", {}), ("adam_optax", {}), ("rmsprop", {}),
                                        ("rmsprop_optax", {"eps_in_sqrt": False}), ("adagrad", {})])
def test_linearisation_matches_the_float_step(name, fixed):
    """The linearised matrix predicts one step of the real rule from a state with |g| << sqrt(v):
    the neglected change of v is (1 - beta2) g^2 / v ~ 1e-16 relative, so the agreement is to
    rounding (tolerance 1e-12 relative)."""
    rule = get_rule(name)
    lin = linearize(name, **fixed)
    values = {"lr": 0.03, "beta1": 0.7, "b1": 0.7, "beta2": 0.99, "b2": 0.99, "eps": 1e-3, "alpha": 0.9,
              "decay": 0.9, "momentum": 0.6, "eps_root": 1e-4}
    params = rule.params(**{k: v for k, v in values.items() if k in rule.hyper_names}, **fixed)
    h, frozen = 3.0, 0.25
    tracked = np.array([1e-9, -2e-9][:len(lin.tracked)])
    # Build the state: tracked entries as above, the frozen one at the value *before* the step that
    # gives `frozen` after it (zero-gradient update inverted by the linearisation).
    state = list(rule.init(0.0, *rule.values(params)))
    for name_, val in zip(lin.tracked, tracked):
        state[rule.state.index(name_)] = val
    t = 10**6  # steady state: bias corrections are 1 to rounding
    fz = rule.state.index(lin.frozen[0])
    # The zero-gradient update of the frozen entry is linear (decay * old, or old): its factor.
    scale = rule.step(*[0.0 if i != fz else 1.0 for i in range(len(state))], 0.0, *rule.values(params), t)[fz]
    state[fz] = frozen / scale
    g = h * rule.grad_point(*state, *rule.values(params))
    new = rule.step(*state, g, *rule.values(params), t)
    sym_vals = {str(s): v for s, v in ((sympy.Symbol(k, positive=True), v) for k, v in params.items())
                if not isinstance(v, bool)}
    p_val = float(lin.preconditioner.subs({sympy.Symbol(k, positive=True): v for k, v in sym_vals.items()})
                  .subs(sympy.Symbol(lin.frozen[0], positive=True), frozen))
    mat = lin.matrix.subs(LAM, h / p_val).subs({sympy.Symbol(k, positive=True): v for k, v in sym_vals.items()})
    mat = np.array(mat.subs(sympy.Symbol(lin.frozen[0], positive=True), frozen), dtype=float)
    expect = mat @ tracked
    got = np.array([new[rule.state.index(n)] for n in lin.tracked])
    np.testing.assert_allclose(got, expect, rtol=1e-12, atol=0)


def test_fixed_point_jacobian():
    fp = fixed_point("adam")
    assert fp["point"] == {"x": "0", "m": "0", "v": "0"}
    cp = sympy.sympify(fp["charpoly"], locals={**S, "h": H, "z": Z})
    # Block triangular: the v-direction contributes beta2, the rest is the small-gradient
    # heavy ball with lam = h/eps.
    lin = linearize("adam")
    expected = (Z - S["beta2"]) * lin.charpoly.subs(LAM, H / S["eps"])
    assert sympy.simplify(cp - expected) == 0
    assert fp["singular_at_eps0"] is True
    assert sympy.simplify(sympy.sympify(fp["stable_if"].split("<")[1], locals=S)
                          - 2 * S["eps"] * (1 + S["beta1"]) / ((1 - S["beta1"]) * S["lr"])) == 0
    # Adagrad: a neutral family of fixed points (eigenvalue 1), not singular for s > 0.
    ada = fixed_point("adagrad")
    assert ada["point"]["s"] == "s" and "z - 1" in ada["charpoly"] and ada["singular_at_eps0"] is False


def test_dict_is_json_and_parsable():
    d = linearization_dict("adam")
    again = json.loads(json.dumps(d))
    thr = sympy.sympify(again["threshold"], locals=S)
    assert sympy.simplify(thr - (2 + 2 * S["beta1"]) / ((1 - S["beta1"]) * S["lr"])) == 0
    small = sympy.sympify(again["threshold_h_small_gradient"], locals=S)
    assert sympy.simplify(small - thr * S["eps"]) == 0
    assert again["equivalent"] == "heavy_ball" and again["frozen"] == ["v"]


def test_validation():
    with pytest.raises(ValueError, match="not adaptive"):
        linearize("gd")
    with pytest.raises(ValueError, match="amsgrad"):
        linearize("adam", amsgrad=True)
    with pytest.raises(ValueError, match=r"beta1 must be in \[0, 1\)"):
        linearize("adam", beta1=1.5)
    with pytest.raises(ValueError, match="unknown hyperparameter"):
        linearize("adam", momentum=0.9)
    with pytest.raises(ValueError, match="unknown rule"):
        linearize("sgd")
    assert math.isfinite(float(linearize("adam", lr=0.1, beta1=0.9).threshold))


def test_nadam_is_nesterov_and_adamw_has_no_simple_equivalent():
    # optax NAdam (adam_optax nesterov=True): Nesterov on P^-1 H with lr (1 - b1), momentum b1.
    lin = linearize("adam_optax", nesterov=True)
    assert lin.equivalent == "nesterov"
    assert _equal(lin.mapping["lr"], S["lr"] * (1 - S["b1"])) and lin.mapping["momentum"] == S["b1"]
    # Threshold at b1 = 0.9 is Nesterov's 2(1 + b)/(a (1 + 2b)) with a = lr (1 - b1):
    # 3.8/(0.1 lr 2.8) = 95/(7 lr); exact rationals.
    thr = linearize("adam_optax", nesterov=True, b1=0.9).threshold
    assert sympy.simplify(thr - sympy.Rational(95, 7) / S["lr"]) == 0
    # AdamW's decoupled decay adds lr*wd to the x-x entry: no gd/HB/NAG match, but a threshold.
    wd = linearize("adamw", weight_decay=0.01)
    assert wd.equivalent is None and wd.mapping == {}
    assert wd.threshold.has(S["lr"]) and wd.threshold != sympy.oo


@pytest.mark.parametrize("t", [1, 2, 5, 50])
def test_time_dependent_effective_step_matches_the_float_step(t):
    """d x_new/d g of the real Adam step at step t (x = m = 0, v frozen) is effective_lr_t: the
    bias corrections 1/(1 - beta1^t) and sqrt(1 - beta2^t) of the early steps.  The step is
    linear in g up to the (1 - beta2) g^2 term of v: with g = 1e-9 and v = 0.04 that is 1e-17
    relative, so the quotient matches to rounding (1e-9 relative: cancellation in x_new - 0)."""
    rule = get_rule("adam")
    params = rule.params(lr=0.01, beta1=0.9, beta2=0.99, eps=1e-3)
    lin = linearize("adam")
    v_after = 0.04
    g = 1e-9
    x_new = rule.step(0.0, 0.0, v_after / 0.99, 0.0, g, *rule.values(params), t)[0]
    values = {sympy.Symbol(k, positive=True): v for k, v in params.items() if not isinstance(v, bool)}
    expected = float(lin.effective_lr_t.subs(values).subs({S["v"]: v_after, T: t}))
    assert abs(-x_new / g - expected) < 1e-9 * expected


@pytest.mark.parametrize("name, why", [
    ("rprop", "cannot invert"),  # sign logic on the previous gradient
    ("asgd", "cannot invert"),  # eta's update depends on t, not on the frozen value alone
    ("radam", "no positive preconditioner"),  # the rectification switch makes P a Piecewise
    ("lion", "does not depend on the frozen state"),  # a sign step: no preconditioner to freeze
])
def test_a_rule_the_linearisation_does_not_cover_gets_one_clear_error(name, why):
    """Never a SymPy traceback or a made-up threshold (RAdam's gave 'lambda_max < oo' once)."""
    with pytest.raises(ValueError, match=rf"rule '{name}'.*{why}"):
        linearize(name)


def test_nadam_float32_mu_product_is_refused_by_name():
    # round32 has no symbolic form; the linearisation takes float32_scalars=false by default
    with pytest.raises(ValueError, match="float32_scalars=true is not supported"):
        linearize("nadam", float32_scalars=True)
    assert dict(linearize("nadam").fixed)["float32_scalars"] is False


def test_nadam_linearisation_is_nesterov_on_preconditioned_curvature():
    """Dozat (2016): in the steady state (mu_t -> beta1; mu_prod, a function of t alone, -> 0)
    NAdam is Nesterov on P^-1 H with lr (1 - beta1), momentum beta1, P = sqrt(v_hat) + eps."""
    lin = linearize("nadam")
    b1, lr = S["beta1"], S["lr"]
    assert lin.frozen == ("v",) and lin.tracked == ("x", "m")
    assert sympy.simplify(lin.preconditioner - (sympy.sqrt(S["v"]) + S["eps"])) == 0
    assert lin.equivalent == "nesterov"
    assert _equal(lin.mapping["lr"], lr * (1 - b1)) and lin.mapping["momentum"] == b1
    # Nesterov's threshold (2 + 2b)/((1 + 2b) a) with a = lr (1 - b1), b = b1 (docs/reference.md
    # §5.1): at b1 = 0.9, 3.8/(2.8 * 0.1 lr) = 95/(7 lr); exact rationals.
    assert sympy.simplify(lin.threshold.subs(b1, sympy.Rational(9, 10)) - sympy.Rational(95, 7) / lr) == 0


def test_adamax_linearisation_is_adams_with_p_the_max():
    """torch's u <- max(beta2 u, |g| + eps): frozen u is inverted on its decaying branch, so
    P = max(u, eps) (u itself while it decays, eps once it has: at the minimiser u = eps), and
    the map is Adam's (heavy ball, lr (1 - beta1), momentum beta1; Cohen et al.'s 38/lr at
    beta1 = 0.9), with only m bias-corrected."""
    lin = linearize("adamax")
    b1, lr, eps, u = S["beta1"], S["lr"], S["eps"], sympy.Symbol("u", positive=True)
    assert lin.preconditioner == sympy.Max(u, eps) and lin.small_gradient_preconditioner() == eps
    assert lin.equivalent == "heavy_ball" and _equal(lin.mapping["lr"], lr * (1 - b1))
    assert sympy.simplify(lin.threshold.subs(b1, sympy.Rational(9, 10)) - 38 / lr) == 0
    assert _equal(lin.bias_factor(), 1 / (1 - b1**S["t"]))
    fp = fixed_point("adamax")
    # at u = eps the new u is |g| + eps: no memory, eigenvalue 0 (not beta2)
    assert fp["point"]["u"] == "eps" and fp["jacobian"][2] == ["0", "0", "0"]
    assert sympy.simplify(sympy.sympify(fp["stable_if"].split("<")[1], locals=S)
                          - 2 * eps * (1 + b1) / ((1 - b1) * lr)) == 0


@pytest.mark.parametrize("name,fixed", [("nadam", {"float32_scalars": False}),
                                        ("nadam", {"float32_scalars": True}), ("adamax", {})])
@pytest.mark.parametrize("factor", [0.9, 1.1])
def test_small_gradient_simulation_follows_the_linearisation(name, fixed, factor):
    """The real rule (floats, torch semantics; NAdam also with its float32 mu-product) near the
    minimiser, from x0 = 1e-200: g^2 underflows to 0, so v stays 0 (and u = eps) and P = eps
    exactly, and |g| <= 1e-8 eps throughout (asserted; growth at most 1.7^400 ~ 1e92).  After
    n0 = 200 steps the warm-ups are gone (0.96^(5 t) ~ 2e-18, beta1^t and mu_prod ~ 1e-31), so
    the next k = 200 steps are M^k of the steady linearised map at lam = h/eps, up to those
    residuals and rounding (~k 1e-16 per unit of ||M^k||): tolerance 1e-8 of ||M^k|| ||s0||.
    At 0.9 times the derived threshold the state decays, at 1.1 times it grows."""
    rule = get_rule(name)
    values = {"lr": 0.01, "beta1": 0.7, "beta2": 0.99, "eps": 1e-3, "momentum_decay": 5.0}
    params = rule.params(**{k: v for k, v in values.items() if k in rule.hyper_names}, **fixed)
    lin = linearize(name)
    syms = {sympy.Symbol(k, positive=True): v for k, v in params.items() if not isinstance(v, bool)}
    lam_max = float(lin.threshold.subs(syms))
    h = factor * lam_max * params["eps"]  # P = eps in the small-gradient regime
    zero = {s: 0 for s in lin.frozen_symbols()}
    M = np.array(lin.matrix.subs(zero).subs(syms).subs(LAM, h / params["eps"]), dtype=float)
    state = rule.init(1e-200, *rule.values(params))
    n0, k, gmax, track = 200, 200, 0.0, []  # track: the tracked state at n0 and n0 + k
    for t in range(1, n0 + k + 1):
        g = h * rule.grad_point(*state, *rule.values(params))
        gmax = max(gmax, abs(g))
        state = rule.step(*state, g, *rule.values(params), t)
        if t in (n0, n0 + k):
            track.append([state[rule.state.index(n)] for n in lin.tracked])
    assert gmax <= 1e-8 * params["eps"]
    track = np.array(track)
    s0, s1 = track / max(abs(track[0]))  # in units of s0 (its squares would underflow)
    pred = np.linalg.matrix_power(M, k) @ s0
    scale = np.linalg.norm(np.linalg.matrix_power(M, k), 2) * np.linalg.norm(s0)
    np.testing.assert_allclose(s1, pred, rtol=0, atol=1e-8 * scale)
    rho = max(abs(np.linalg.eigvals(M)))
    assert (rho < 1) == (factor < 1)
    assert (np.linalg.norm(s1) < np.linalg.norm(s0)) == (factor < 1)
