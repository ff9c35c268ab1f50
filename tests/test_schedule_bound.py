"""optanalysis.theory.schedule_bound against the paper's special cases and a plain-loop evaluation of the
theorem's sums.

Theorem (Defazio, Cutkosky, Mehta & Mishchenko 2023, arXiv:2310.07831, Thm 10; Schaipp et al. 2025, Thm 1):
E f(x_T) - f* <= (D^2 + sum_t eta_t^2 G_t^2) / (2 sum_t eta_t)
                 + 1/2 sum_{k=1}^{T-1} eta_k / (sum_{t>k} eta_t) * (sum_{t>=k} eta_t^2 G_t^2) / (sum_{t>=k} eta_t).
"""
import math

import numpy as np
import pytest

from optanalysis.schedules import make_schedule
from optanalysis.theory.schedule_bound import bound_curve, bound_terms, last_iterate_bound, optimal_base_lr


def naive_bound(eta, D, G):
    """The theorem's sums written out with plain loops (t, k 1-based as in the paper)."""
    T = len(eta)
    g = [G] * T if np.ndim(G) == 0 else list(G)
    total = 0.0
    sq = 0.0
    for t in range(T):
        total += eta[t]
        sq += eta[t] ** 2 * g[t] ** 2
    out = (D ** 2 + sq) / (2 * total)
    for k in range(1, T):  # k = 1 .. T-1
        later = 0.0
        for t in range(k + 1, T + 1):
            later += eta[t - 1]
        num = 0.0
        den = 0.0
        for t in range(k, T + 1):
            num += eta[t - 1] ** 2 * g[t - 1] ** 2
            den += eta[t - 1]
        out += 0.5 * eta[k - 1] / later * num / den
    return out


def harmonic(n):
    return sum(1.0 / j for j in range(1, n + 1))


@pytest.mark.parametrize("seed", range(6))
def test_equals_the_theorems_sums_evaluated_by_plain_loops(seed):
    rng = np.random.default_rng(seed)
    T = int(rng.integers(1, 60))
    eta = rng.uniform(0, 1, T) * rng.choice([0.0, 1.0], T, p=[0.2, 0.8])  # zeros inside are allowed
    eta[-1] = rng.uniform(0.01, 1)
    G = rng.uniform(0.5, 3, T) if seed % 2 else float(rng.uniform(0.5, 3))
    D = float(rng.uniform(0.1, 5))
    # reversed cumulative sums vs left-to-right loops: rounding of O(T) additions, far below 1e-12
    assert last_iterate_bound(eta, D, G) == pytest.approx(naive_bound(eta, D, G), rel=1e-12)
    ts = np.arange(1, T + 1)
    curve = bound_curve(eta, D, G)
    for t in ts:
        want = naive_bound(eta[:t], D, G if np.ndim(G) == 0 else G[:t]) if eta[t - 1] > 0 else math.inf
        assert curve[t - 1] == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("T", [1, 2, 7, 100, 5000])
def test_constant_lr_closed_form(T):
    # Special case of the theorem (Defazio et al. 2023; Schaipp et al. 2025 Sec. 3, constant schedule):
    # eta_t = eta gives sum eta = T eta and, for each k, (eta / ((T-k) eta)) * ((T-k+1) eta^2 G^2 / ((T-k+1) eta))
    # = eta G^2 / (T - k), so the bound is D^2/(2 eta T) + eta G^2 (1 + H_{T-1}) / 2, minimised at
    # eta* = D / (G sqrt(T (1 + H_{T-1}))) with value D G sqrt((1 + H_{T-1}) / T): the log T factor.
    D, G, eta = 1.7, 0.6, 0.05
    h = harmonic(T - 1)
    assert last_iterate_bound(np.full(T, eta), D, G) == pytest.approx(D**2 / (2 * eta * T) + eta * G**2 * (1 + h) / 2,
                                                                      rel=1e-12)
    c, best = optimal_base_lr(np.ones(T), D, G)
    assert c == pytest.approx(D / (G * math.sqrt(T * (1 + h))), rel=1e-12)
    assert best == pytest.approx(D * G * math.sqrt((1 + h) / T), rel=1e-12)


@pytest.mark.parametrize("T", [10, 100, 1000, 10000, 100000])
def test_linear_decay_reaches_the_optimal_rate_without_log_factor(T):
    # Defazio et al. 2023 (Sec. 2, worst-case optimality of linear decay): eta_t = D/(G sqrt T) (1 - t/(T+1))
    # gives E f(x_T) - f* of order 2 D G / sqrt(T), no log T (the constant schedule's bound grows like
    # sqrt(log T) times that, previous test). Checked: the bound at that schedule and the optimised one
    # approach 2 D G / sqrt(T); the discrete sums differ from their integrals (1/3 + 2/3 = 1 in units of
    # G^2) by O(log T / T), hence the tolerance 2 log(T) / T.
    D, G = 2.0, 3.0
    t = np.arange(1, T + 1)
    shape = 1 - t / (T + 1)
    oracle = 2 * D * G / math.sqrt(T)
    at_paper_lr = last_iterate_bound(D / (G * math.sqrt(T)) * shape, D, G)
    c, best = optimal_base_lr(shape, D, G)
    assert best <= at_paper_lr  # the optimised base lr can only do better
    assert abs(at_paper_lr / oracle - 1) <= 2 * math.log(T) / T
    assert abs(best / oracle - 1) <= 2 * math.log(T) / T
    assert abs(c * G * math.sqrt(T) / D - 1) <= 2 * math.log(T) / T  # the paper's base lr D / (G sqrt T)


def test_linear_decay_beats_the_schedules_in_use_in_the_worst_case():
    # the worst-case optimal schedule (Defazio et al. 2023) has a smaller optimised bound than constant, cosine
    # and WSD (Schaipp et al. 2025, Fig. 2: cooldowns come close to, but stay above, linear decay)
    T = 2000
    t = np.arange(1, T + 1)
    linear = optimal_base_lr(1 - t / (T + 1), 1.0, 1.0)[1]
    for spec in ("constant", f"warmup_cosine:total_steps={T + 1}", f"wsd:total_steps={T + 1},cooldown_fraction=0.2",
                 f"wsd:total_steps={T + 1},cooldown_fraction=0.2,shape=sqrt"):
        shape = make_schedule(spec).lrs(1.0, T + 1)[1:]  # drop step 0's lr 0 of the cosine: t = 1 .. T
        assert optimal_base_lr(shape, 1.0, 1.0)[1] > linear, spec


def test_cooldown_removes_the_log_factor_of_the_constant_schedule():
    # Schaipp et al. 2025, Thm 2 / Fig. 3: with a cooldown, sqrt(T) * optimal bound stays bounded, while the
    # constant schedule's grows like sqrt(1 + H_{T-1}) (test_constant_lr_closed_form)
    def scaled(spec, T):
        return optimal_base_lr(make_schedule(spec).lrs(1.0, T), 1.0, 1.0)[1] * math.sqrt(T)
    wsd = [scaled(f"wsd:total_steps={T},cooldown_fraction=0.2", T) for T in (1000, 10000, 100000)]
    const = [scaled("constant", T) for T in (1000, 10000, 100000)]
    assert const[2] - const[0] > 0.5  # sqrt(1 + H) grows by ~0.6 over these T
    assert abs(wsd[2] - wsd[0]) < 0.05 * wsd[0]


def test_terms_scale_with_the_base_lr():
    shape = make_schedule("wsd:total_steps=500,cooldown_fraction=0.3,shape=sqrt").lrs(1.0, 500)
    a1, b1 = bound_terms(shape, 1.3)
    a2, b2 = bound_terms(4.0 * shape, 1.3)
    assert (a2, b2) == pytest.approx((a1 / 4.0, 4.0 * b1), rel=1e-14)
    c, best = optimal_base_lr(shape, 2.0, 1.3)
    grid = np.linspace(0.5 * c, 1.5 * c, 101)
    values = [last_iterate_bound(g * shape, 2.0, 1.3) for g in grid]
    assert min(values) >= best * (1 - 1e-12) and values[50] == pytest.approx(best, rel=1e-12)


@pytest.mark.parametrize("call, match", [
    (lambda: last_iterate_bound([0.1, -0.2, 0.1], 1, 1), r"lrs must be finite and >= 0; lrs\[1\] = -0.2"),
    (lambda: last_iterate_bound([0.1, np.nan], 1, 1), r"lrs must be finite and >= 0; lrs\[1\] = nan"),
    (lambda: last_iterate_bound([0.1, np.inf], 1, 1), r"lrs\[1\] = inf"),
    (lambda: last_iterate_bound([], 1, 1), "lrs must be a non-empty 1-D sequence"),
    (lambda: last_iterate_bound([0.1, 0.0], 1, 1), "the lr of the horizon's last step"),
    (lambda: last_iterate_bound([0.1, 0.1], 1, 1, horizon=0), r"horizon must be an integer in \[1, 2\], got 0"),
    (lambda: last_iterate_bound([0.1, 0.1], 1, 1, horizon=3), "horizon must be an integer"),
    (lambda: last_iterate_bound([0.1], 0.0, 1), r"D must be in \(0, inf\)"),
    (lambda: last_iterate_bound([0.1], -1.0, 1), r"D must be in \(0, inf\)"),
    (lambda: last_iterate_bound([0.1], 1.0, 0.0), r"G must be in \(0, inf\)"),
    (lambda: last_iterate_bound([0.1, 0.1], 1.0, [1.0, -1.0]), r"G must be in \(0, inf\) at every step"),
    (lambda: last_iterate_bound([0.1, 0.1], 1.0, [1.0]), "G must be a number or one value per step"),
    (lambda: optimal_base_lr([1.0], float("nan"), 1.0), r"D must be in \(0, inf\)"),
    (lambda: bound_curve([0.1, 0.1], 1.0, 1.0, horizons=[0]), r"horizons must be integers in \[1, 2\]"),
])
def test_bad_input_names_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_curve_is_inf_where_the_last_lr_is_zero():
    curve = bound_curve([0.0, 0.1, 0.0, 0.2], 1.0, 1.0)
    assert math.isinf(curve[0]) and math.isinf(curve[2]) and np.all(np.isfinite(curve[[1, 3]]))
