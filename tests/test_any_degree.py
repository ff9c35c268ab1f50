"""Stability analysis beyond degree 2: Jury's table against the textbook degree-3 conditions and
against numpy.linalg.eigvals; the certified largest stable lr; spectral radius and worst case of
a rule whose state has three entries, against the eigenvalues of its iteration matrix."""
from __future__ import annotations

import textwrap
from fractions import Fraction

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import optanalysis as oa
from optanalysis.rules import RULES, get_rule
from optanalysis.symbolic.analysis import characteristic_polynomial, jury_conditions
from optanalysis.symbolic.core import H
from optanalysis.symbolic.numeric import iteration_matrix_fn, worst_case_rate
from optanalysis.symbolic.schur import jury_table, largest_stable_lr

# Heavy ball whose gradient is taken at an exponential average y of its iterates: p(z) is an
# irreducible cubic, so nothing of degree 2 applies.
AVERAGED = '''
from optanalysis.hyper import coefficient, learning_rate
from optanalysis.rules import Rule

RULE = Rule(
    name="test_averaged_heavy_ball",
    hyper=(learning_rate(1e-3), coefficient("momentum", 0.9, "momentum"),
           coefficient("avg", 0.5, "weight of the old average")),
    state=("x", "x_prev", "y"),
    linear=True,
    semantics="test rule",
)


def init(x0, lr, momentum, avg):
    return (x0, x0, x0)


def grad_point(x, x_prev, y, lr, momentum, avg):
    return y


def step(x, x_prev, y, g, lr, momentum, avg, t):
    x_new = x - lr * g + momentum * (x - x_prev)
    return (x_new, x, avg * y + (1 - avg) * x_new)
'''


@pytest.fixture(scope="module")
def averaged(tmp_path_factory):
    path = tmp_path_factory.mktemp("rules") / "test_averaged_heavy_ball.py"
    path.write_text(textwrap.dedent(AVERAGED))
    rule = get_rule(str(path))
    yield rule
    RULES.pop(rule.name, None)


def textbook_degree3(a3, a2, a1, a0) -> bool:
    """Jury's degree-3 test as textbooks state it (Jury 1964; e.g. Ogata, Discrete-Time Control
    Systems, §4-5): p(1) > 0, p(-1) < 0, |a0| < a3, |a0^2 - a3^2| > |a0 a2 - a1 a3|."""
    p1, pm1 = a3 + a2 + a1 + a0, -a3 + a2 - a1 + a0
    return p1 > 0 and pm1 < 0 and abs(a0) < a3 and abs(a0**2 - a3**2) > abs(a0 * a2 - a1 * a3)


coef = st.floats(-3, 3, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(a2=coef, a1=coef, a0=coef)
def test_jury_table_degree3_is_the_textbook_test(a2, a1, a0):
    # exact rationals on both sides: on the boundary (a root on the unit circle) float rounding
    # would decide, and the two evaluations round differently
    a2, a1, a0 = (Fraction(v) for v in (a2, a1, a0))
    ours = all(e > 0 for e in jury_table([1, *(sympy.Rational(v.numerator, v.denominator) for v in (a2, a1, a0))]))
    assert ours == textbook_degree3(Fraction(1), a2, a1, a0)


@settings(max_examples=300, deadline=None)
@given(pairs=st.lists(st.tuples(st.floats(0, 1.3), st.floats(0.01, 3.13)), max_size=2),
       reals=st.lists(st.floats(-1.3, 1.3), min_size=1, max_size=3))
def test_jury_table_matches_eigenvalues_any_degree(pairs, reals):
    # a real polynomial of degree 3..7 from its roots (complex ones in conjugate pairs)
    roots = [complex(r) for r in reals] + [r * np.exp(s * 1j * phi) for r, phi in pairs for s in (1, -1)]
    if len(roots) < 3:
        roots.append(0.5)
    coeffs = np.real(np.poly(roots))
    radius = np.max(np.abs(np.roots(coeffs)))
    if abs(radius - 1) < 1e-6:  # on the boundary rounding decides; theory does not
        return
    assert all(float(e) > 0 for e in jury_table(coeffs)) == (radius < 1)


def test_averaged_rule_has_a_cubic_and_its_conditions_match_eigenvalues(averaged):
    cp = characteristic_polynomial(averaged)
    assert cp.degree == 3
    conds = jury_conditions(cp)
    names, T = iteration_matrix_fn(averaged)
    syms = [cp.symbols[n] for n in ("lr", "momentum", "avg")]
    f = sympy.lambdify([H, *syms], list(conds), "numpy")
    rng = np.random.default_rng(0)
    checked = 0
    for _ in range(400):
        h, lr, m, a = rng.uniform(0.05, 2), rng.uniform(0.01, 3), rng.uniform(0, 0.99), rng.uniform(0, 0.99)
        args = dict(lr=lr, momentum=m, avg=a)
        radius = np.max(np.abs(np.linalg.eigvals(np.array(T(h, *[args[n] for n in names]), float))))
        if abs(radius - 1) < 1e-9:
            continue
        assert all(v > 0 for v in f(h, lr, m, a)) == (radius < 1)
        checked += 1
    assert checked > 350


def test_largest_stable_lr_certified(averaged):
    # oracle: heavy ball's bound 2 (1 + momentum) / h (Polyak 1964)
    lo, hi = largest_stable_lr("heavy_ball", 2.0, momentum=0.5)
    assert lo <= 1.5 <= hi and hi - lo <= 1e-11
    # the cubic: stable just below, unstable just above, by the eigenvalues of T(h)
    names, T = iteration_matrix_fn(averaged)
    rng = np.random.default_rng(1)
    for _ in range(5):
        h, m, a = rng.uniform(0.1, 2), rng.uniform(0, 0.95), rng.uniform(0, 0.95)
        lo, hi = largest_stable_lr(averaged, h, momentum=m, avg=a)
        assert 0 < lo <= hi <= lo * (1 + 1e-11)

        def radius(lr):
            args = dict(lr=lr, momentum=m, avg=a)
            return np.max(np.abs(np.linalg.eigvals(np.array(T(h, *[args[n] for n in names]), float))))

        # 1e-6 relative: the radius moves by O(1e-6) there, far above eigvals' rounding (~1e-15)
        assert radius(lo * (1 - 1e-6)) < 1 < radius(hi * (1 + 1e-6))
        assert all(radius(x) < 1 for x in np.linspace(1e-3, 1 - 1e-6, 50) * lo)
    with pytest.raises(ValueError, match="do not give it"):
        largest_stable_lr(averaged, 1.0, lr=0.1)
    with pytest.raises(ValueError, match="h must be"):
        largest_stable_lr(averaged, -1.0)


def test_spectral_radius_and_worst_case_of_the_cubic(averaged):
    names, T = iteration_matrix_fn(averaged)
    rng = np.random.default_rng(2)
    for _ in range(6):
        params = dict(lr=rng.uniform(0.1, 1.5), momentum=rng.uniform(0, 0.9), avg=rng.uniform(0, 0.9))
        mu, L = sorted(rng.uniform(0.01, 1.0, 2))
        hs = np.geomspace(mu, L, 4001)
        eig = np.array([np.max(np.abs(np.linalg.eigvals(np.array(T(h, *[params[n] for n in names]),
                                                                    float)))) for h in hs])
        rho = oa.spectral_radius(averaged, params, h=hs)
        np.testing.assert_allclose(rho, eig, rtol=1e-9)  # roots of p vs eigenvalues of T
        wc = worst_case_rate(averaged, mu, L, **params)
        # never below the grid's maximum; above it by at most what 4001 points can miss
        assert eig.max() * (1 - 1e-12) <= wc <= eig.max() + 1e-4


def test_derivation_of_the_cubic_states_its_methods(averaged):
    d = oa.derive(averaged, cache=False)
    assert d.degree == 3 and d.lr_bound is None
    assert "certified numerically" in d.methods["lr_bound"]
    assert "numerically" in d.methods["worst_case"]
    data = d.to_dict()
    assert data["methods"] == d.methods and data["tunings"] == []


@pytest.fixture(scope="module")
def output_average(tmp_path_factory):
    """Averaging only the *output* (gradient at x): x follows heavy ball exactly, and
    p(z) = (z - avg) * heavy ball's quadratic."""
    path = tmp_path_factory.mktemp("rules") / "output_average.py"
    path.write_text(textwrap.dedent(AVERAGED).replace("test_averaged_heavy_ball", "test_output_average")
                    .replace("    return y\n", "    return x\n"))
    rule = get_rule(str(path))
    yield rule
    RULES.pop(rule.name, None)


def test_factored_cubic_keeps_the_closed_form(output_average):
    d = oa.derive(output_average, cache=False)
    assert d.degree == 3 and str(d.lr_bound) == "2*(momentum + 1)/h"
    assert "lr_bound" not in d.methods


@pytest.mark.parametrize("metric", ["distance", "loss"])
def test_n_step_worst_case_of_three_state_rules(averaged, output_average, metric):
    from optanalysis.theory.worst_case import transfer

    # x of the output-averaged rule is heavy ball's: the same n-step worst case, under a schedule too
    for schedule in (None, "step:step_size=10,gamma=0.5"):
        mine = oa.worst_case(output_average, {"lr": 0.5, "momentum": 0.3, "avg": 0.6}, mu=0.1, L=1.0, steps=40,
                             metric=metric, schedule=schedule).ratio
        polyak = oa.worst_case("heavy_ball", {"lr": 0.5, "momentum": 0.3}, mu=0.1, L=1.0, steps=40,
                               metric=metric, schedule=schedule).ratio
        assert mine == pytest.approx(polyak, rel=1e-12)  # two evaluations of one polynomial r_n(h)
    # the cubic: the refined maximum is the brute-force maximum of r_n(h) on a dense grid
    params = {"lr": 0.7, "momentum": 0.4, "avg": 0.5}
    wc = oa.worst_case(averaged, params, mu=0.05, L=1.0, steps=30, metric=metric)
    hs = np.linspace(0.05, 1.0, 100001)
    r2 = transfer(averaged, params, hs, steps=30) ** 2 * (hs / 2 if metric == "loss" else 1)
    # never below a grid value; above the grid's maximum only by what 1e5 points miss near a
    # smooth maximum (O(spacing^2) relative)
    assert r2.max() * (1 - 1e-12) <= wc.ratio <= r2.max() * (1 + 1e-8)
