"""The derived stability region, regimes and spectral radius against numpy eigenvalues of T(h).

T(h) is the Jacobian of the rule's own symbolic step (lambdified); its eigenvalues by
``numpy.linalg.eigvals`` are the independent reference.  10^4 random (hyperparameters, h) per
linear rule (and variant); samples within 1e-9 of a boundary are excluded, since there the
floating-point eigenvalues cannot decide.  docs/reference.md §4.1–§4.5 formulas are typed
here only, as oracles.
"""
import math

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from optanalysis.symbolic.core import H
from optanalysis.symbolic.derivation import derive
from optanalysis.symbolic.numeric import iteration_matrix_fn, roots, root_radius, worst_case_rate

VARIANTS = [("gd", {}), ("heavy_ball", {}), ("nesterov", {}), ("sgd_momentum", {}),
            ("sgd_momentum", {"nesterov": True}), ("heavy_ball", {"momentum": 0})]
N = 10_000
EDGE = 1e-9


def _ids(v):
    return v[0] + "".join(f"-{k}={x}" for k, x in v[1].items())


def _samples(d, rng, n=N):
    """Random hyperparameters (the derivation's free symbols) and h, lr*h spread on both sides of
    the stability boundary."""
    names = [s.name for s in d.hyper.values() if isinstance(s, sympy.Symbol)]
    h = np.exp(rng.uniform(np.log(1e-2), np.log(1e2), n))
    vals = {"h": h}
    for name in names:
        if name == "lr":
            continue
        if name in ("momentum", "dampening"):
            vals[name] = rng.uniform(0.0, 1.0, n) * (1 - 1e-6)
        else:  # weight decay, on the scale of h
            vals[name] = rng.uniform(0.0, 1.0, n) * h
    vals["lr"] = rng.uniform(0.0, 6.0, n) / h + 1e-12
    return names, vals


def _eigvals(d, names, vals):
    argnames, T = iteration_matrix_fn(d.rule, **d.params)
    n = len(vals["h"])
    mats = np.empty((n, len(d.state), len(d.state)))
    for i in range(n):
        mats[i] = np.asarray(T(vals["h"][i], *[vals[a][i] for a in argnames]), dtype=float)
    return np.linalg.eigvals(mats)


def _lam(d, expr, names, vals):
    syms = [H] + [d.hyper[n] for n in names]
    f = sympy.lambdify(syms, expr, "numpy")
    with np.errstate(invalid="ignore"):  # sqrt of a negative discriminant outside its regime
        out = f(vals["h"], *[vals[n] for n in names])
    return np.broadcast_to(np.asarray(out), vals["h"].shape)


@pytest.mark.parametrize("variant", VARIANTS, ids=_ids)
def test_stability_region_matches_numeric_eigenvalues(variant):
    rule, fixed = variant
    d = derive(rule, **fixed)
    rng = np.random.default_rng(12345)
    names, vals = _samples(d, rng)
    ev = _eigvals(d, names, vals)
    rho = np.max(np.abs(ev), axis=1)
    stable = _lam(d, sympy.And(*d.stability), names, vals).astype(bool)
    # distance of each sample to the boundary, in the derived bound and in rho
    margin = np.abs(rho - 1.0)
    if d.lr_bound is not None:
        margin = np.minimum(margin, np.abs(vals["lr"] - _lam(d, d.lr_bound, names, vals)) / vals["lr"])
    keep = margin > EDGE
    assert keep.sum() > 0.99 * N
    assert 0.1 * N < stable[keep].sum() < 0.9 * N  # both sides are sampled
    mismatch = np.nonzero((rho[keep] < 1) != stable[keep])[0]
    assert mismatch.size == 0, f"{mismatch.size} samples disagree, e.g. " + str(
        {k: v[keep][mismatch[0]] for k, v in vals.items()})
    # the fast numeric spectral radius is the same number
    sr = root_radius(rule, vals["h"], **fixed, **{n: vals[n] for n in names})
    np.testing.assert_allclose(sr, rho, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("variant", VARIANTS[:5], ids=_ids)
def test_regimes_match_numeric_roots(variant):
    rule, fixed = variant
    d = derive(rule, **fixed)
    rng = np.random.default_rng(7)
    names, vals = _samples(d, rng, 4000)
    ev = _eigvals(d, names, vals)
    rho = np.max(np.abs(ev), axis=1)
    dominant = ev[np.arange(len(ev)), np.argmax(np.abs(ev), axis=1)]
    cplx = np.abs(ev.imag).max(axis=1) > 1e-7
    for r in d.regimes:
        inside = _lam(d, r.condition, names, vals).astype(bool)
        if r.name == "critical damping":
            continue  # a measure-zero set
        away = np.abs(rho - 1) > 1e-7
        if d.discriminant is not None:
            D = _lam(d, d.discriminant, names, vals)
            away &= np.abs(D) > 1e-7
        sel = inside & away
        if r.name == "divergence":
            assert np.all(rho[sel] >= 1 - 1e-9)
            continue
        assert np.all(rho[sel] < 1 + 1e-9), r.name
        if r.name.startswith("complex"):
            assert np.all(cplx[sel]), r.name
        elif "sign-flipping" in r.name:
            assert np.all(~cplx[sel] & (dominant.real[sel] < 0)), r.name
        else:  # monotone
            assert np.all(~cplx[sel] & (dominant.real[sel] > 0)), r.name
        got = _lam(d, r.spectral_radius, names, vals)[sel]
        np.testing.assert_allclose(got.astype(float), rho[sel], rtol=1e-6, atol=1e-9, err_msg=r.name)


# ---------------------------------------------------------------------------------------------
# literature oracles (docs/reference.md §4.2–§4.3; typed here only)


def _eq(a, b):
    return sympy.simplify(sympy.sympify(a) - sympy.sympify(b)) == 0


def test_lr_bounds_equal_reference():
    lr, m, dmp, wd = (sympy.Symbol(n, positive=True) for n in ("lr", "momentum", "dampening",
                                                                 "weight_decay"))
    assert _eq(derive("gd").lr_bound, 2 / H)
    assert _eq(derive("heavy_ball").lr_bound, 2 * (1 + m) / H)
    assert _eq(derive("nesterov").lr_bound, (2 + 2 * m) / ((1 + 2 * m) * H))
    assert _eq(derive("sgd_momentum").lr_bound, 2 * (1 + m) / ((1 - dmp) * (H + wd)))
    assert _eq(derive("sgd_momentum", nesterov=True).lr_bound,
               (2 + 2 * m) / ((1 + 2 * m) * (H + wd)))
    # edge-of-stability sharpness thresholds (docs/reference.md §5.1)
    assert _eq(derive("gd").h_bound, 2 / lr)
    assert _eq(derive("heavy_ball").h_bound, (2 + 2 * m) / lr)
    assert _eq(derive("nesterov").h_bound, (2 + 2 * m) / (lr * (1 + 2 * m)))


def test_heavy_ball_regimes_equal_reference():
    d = derive("heavy_ball")
    m = d.hyper["momentum"]
    x = d.hyper["lr"] * H
    complex_ = next(r for r in d.regimes if r.name == "complex roots")
    assert _eq(complex_.spectral_radius, sympy.sqrt(m))  # Goh's caption says 2 sqrt(beta): wrong
    zeros = sorted(d.discriminant_zeros["lr"], key=lambda e: float(e.subs({m: 0.5, H: 1})))
    assert _eq(zeros[0] * H, (1 - sympy.sqrt(m)) ** 2) and _eq(zeros[1] * H, (1 + sympy.sqrt(m)) ** 2)
    crit = d.discriminant_zeros["momentum"]
    assert any(_eq(c, (1 - sympy.sqrt(x)) ** 2) for c in crit)
    # numerically: Goh's example alpha = 0.01, beta = 0.9, lambda = 1 -> 0.94868
    assert root_radius("heavy_ball", 1.0, lr=0.01, momentum=0.9) == pytest.approx(0.9486833, abs=1e-7)
    # critical damping: double root 1 - sqrt(lr h)
    for a in (0.04, 0.3, 0.8):
        r = roots("heavy_ball", 1.0, lr=a, momentum=(1 - math.sqrt(a)) ** 2)
        np.testing.assert_allclose(r, [1 - math.sqrt(a)] * 2, atol=1e-7)


def test_nesterov_regimes_equal_reference():
    d = derive("nesterov")
    m, lr = d.hyper["momentum"], d.hyper["lr"]
    zeros = {sympy.simplify(z * H) for z in d.discriminant_zeros["lr"]}
    assert any(_eq(z, 1) for z in zeros) and any(_eq(z, ((1 - m) / (1 + m)) ** 2) for z in zeros)
    complex_ = next(r for r in d.regimes if r.name == "complex roots")
    assert _eq(complex_.spectral_radius ** 2, m * (1 - lr * H))
    x = sympy.Symbol("x", positive=True)
    crit = [c.subs(lr, x / H) for c in d.discriminant_zeros["momentum"]]
    assert any(_eq(c, (1 - sympy.sqrt(x)) / (1 + sympy.sqrt(x))) for c in crit)
    # just below / above the threshold at lr = 0.01, momentum = 0.9 (docs/reference.md §5.1)
    thr = (2 + 2 * 0.9) / (0.01 * (1 + 2 * 0.9))
    assert root_radius("nesterov", 0.99 * thr, lr=0.01, momentum=0.9) < 1
    assert root_radius("nesterov", 1.01 * thr, lr=0.01, momentum=0.9) > 1


def test_torch_first_step_quirk_is_a_different_branch():
    """torch keeps no buffer at momentum 0 (dampening ignored): spectral_radius follows it."""
    assert root_radius("sgd_momentum", 1.0, lr=0.5, momentum=0.0, dampening=0.5) == pytest.approx(0.5)
    assert root_radius("sgd_momentum", 1.0, lr=0.5, momentum=1e-12, dampening=0.5) == pytest.approx(0.75)


# ---------------------------------------------------------------------------------------------
# property test (hypothesis) and the exact worst case


@settings(max_examples=300, deadline=None)
@given(x=st.floats(1e-6, 6.0), m=st.floats(0.0, 0.999), h=st.floats(1e-3, 1e3),
       rule=st.sampled_from(["heavy_ball", "nesterov"]))
def test_stable_iff_spectral_radius_below_one(x, m, h, rule):
    d = derive(rule)
    lr = x / h
    bound = float(d.lr_bound.subs({H: h, d.hyper["momentum"]: m}))
    rho = float(root_radius(rule, h, lr=lr, momentum=m))
    if abs(lr - bound) <= 1e-9 * bound or abs(rho - 1) <= 1e-9:
        return
    assert (lr < bound) == (rho < 1)


@pytest.mark.parametrize("rule", ["gd", "heavy_ball", "nesterov", "sgd_momentum"])
def test_worst_case_rate_is_the_maximum_over_h(rule):
    rng = np.random.default_rng(3)
    for _ in range(20):
        mu = float(np.exp(rng.uniform(-3, 1)))
        L = mu * float(np.exp(rng.uniform(0.1, 6)))
        params = {"lr": float(rng.uniform(0.05, 3.0)) / L}
        if rule != "gd":
            params["momentum"] = float(rng.uniform(0, 0.99))
        if rule == "sgd_momentum":
            params["dampening"] = float(rng.uniform(0, 0.9))
            params["weight_decay"] = float(rng.uniform(0, 1))
        exact = worst_case_rate(rule, mu, L, **params)
        grid = np.linspace(mu, L, 100_001)
        on_grid = root_radius(rule, grid, **params).max()
        assert on_grid <= exact + 1e-12
        # rho has sqrt cusps at the zeros of the discriminant: grid error ~ sqrt(spacing)
        assert exact - on_grid <= 3e-3 * max(1.0, exact), (params, mu, L)
