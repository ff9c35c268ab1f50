"""Stability of characteristic polynomials of any degree (rules whose state has three or more
entries: several buffers, iterate averaging, a look-ahead plus a buffer).

Jury's table (Schur-Cohn)
    For p(z) = a_n z^n + ... + a_0 with a_n > 0, all roots lie strictly inside the unit circle iff
    p(1) > 0, (-1)^n p(-1) > 0, |a_0| < a_n and, for each further row of Jury's table down to the
    row of three entries, |q_0| > |q_last|; row k + 1 has entries
    q'_j = q_0 q_j - q_last q_{last-j} (E. I. Jury, *Theory and Application of the z-Transform
    Method*, 1964, §3.2; degree 3: |a_0| < a_3 and |a_0^2 - a_3^2| > |a_0 a_2 - a_1 a_3|).
    :func:`jury_table` writes each condition as an expression e meaning e > 0 (|u| > |v| as
    u^2 - v^2 > 0).  :func:`optanalysis.symbolic.analysis.jury_conditions` applies it factor by
    factor: a product is stable iff each factor is, and factors of degree <= 2 keep their simple
    conditions (a rule that averages its iterates keeps heavy ball's exact lr bound).

Largest stable learning rate, certified (:func:`largest_stable_lr`)
    With h and the other hyperparameters fixed, a root reaches the unit circle only where p and
    its reverse p*(z) = z^n p(1/z) have a common root (z on the circle pairs with 1/z = conj z;
    conversely a common root z, 1/z means a root of modulus >= 1), i.e. at a real zero of the
    resultant R(lr) = Res_z(p, p*).  The hyperparameters are converted to exact rationals (the
    floats' own values), R is computed exactly, its real zeros are isolated by SymPy's exact
    real-root isolation (Sturm / continued fractions) and the smallest positive one is refined
    to an interval of relative width <= ``rtol``.  Between 0 and that zero the root count inside
    the circle is constant, so stability there is decided by Jury's conditions evaluated exactly
    at one rational point.  Result: an interval [lo, hi] that contains the supremum of the stable
    learning rates (starting from lr -> 0+), or 0 if small learning rates are already unstable.

Worst case over [mu, L] (:func:`interior_maxima`)
    For factors of degree <= 2 the candidates of :mod:`optanalysis.symbolic.numeric` are exact.
    An irreducible factor of degree >= 3 adds the real zeros in (mu, L) of its discriminant in z
    (roots collide) and, as numeric candidates, the local maxima of its root modulus on a grid of
    ``GRID`` log-spaced curvatures, each refined by a bounded Brent search: the maximum found is a
    value of rho (never above the true worst case) and equals it unless a peak is narrower than the
    grid spacing; the tests compare it with a grid of ``numpy.linalg.eigvals`` of T(h).
"""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import sympy

__all__ = ["jury_table", "largest_stable_lr", "StableLr", "interior_maxima", "exact", "GRID"]

GRID = 1025  # curvatures of the numeric search of a degree >= 3 factor's worst case


def jury_table(coeffs) -> tuple:
    """Jury's stability conditions of the polynomial with coefficients ``coeffs`` (highest degree
    first, leading coefficient positive) as expressions e meaning e > 0 (see module doc).

    Parameters
    ----------
    coeffs : sequence
        (a_n, ..., a_0), numbers or SymPy expressions; n >= 1.

    Returns
    -------
    tuple
        p(1), (-1)^n p(-1), a_n - a_0, a_n + a_0, then q_0^2 - q_last^2 for each further row of
        the table down to three entries (n >= 3).
    """
    a = [sympy.sympify(c) for c in reversed(list(coeffs))]  # a[k]: coefficient of z^k
    n = len(a) - 1
    if n < 1:
        raise ValueError(f"need a polynomial of degree >= 1, got coefficients {coeffs!r}")
    at1 = sympy.expand(sum(a))
    atm1 = sympy.expand(sum(c * (-1) ** (k + n) for k, c in enumerate(a)))
    out = [at1, atm1, sympy.expand(a[n] - a[0]), sympy.expand(a[n] + a[0])]
    row = a
    while len(row) > 3:
        m = len(row) - 1
        row = [sympy.expand(row[0] * row[j] - row[m] * row[m - j]) for j in range(m)]
        out.append(sympy.factor(sympy.expand(row[0] ** 2 - row[-1] ** 2)))
    return tuple(out)


# --------------------------------------------------------------------------------------------
# Largest stable learning rate, certified


class StableLr(tuple):
    """``(lo, hi)``: an interval certified to contain the largest stable learning rate (the
    supremum of the learning rates in (0, lr) that are all stable); ``method`` says how."""

    method = ("smallest positive real zero of Res_z(p, z^n p(1/z)) in lr, isolated exactly on "
              "rational coefficients (SymPy real-root isolation), stability below it decided by "
              "Jury's conditions at one rational point")

    @property
    def value(self) -> float:
        """The midpoint."""
        return 0.5 * (self[0] + self[1])


def _rational(v) -> sympy.Rational:
    f = Fraction(float(v))
    return sympy.Rational(f.numerator, f.denominator)


def exact(expr):
    """``expr`` with every Float (a number typed in a rule, ``0.9 * momentum``) replaced by its
    exact binary value as a Rational: SymPy's factorisation, resultants and root isolation need
    exact coefficients."""
    return expr.xreplace({f: _rational(f) for f in expr.atoms(sympy.Float)})


def _exact_stable(poly: sympy.Poly) -> bool:
    """Jury's conditions of a polynomial with rational coefficients, exactly."""
    coeffs = poly.all_coeffs()
    if coeffs[0] < 0:
        coeffs = [-c for c in coeffs]
    if len(coeffs) == 1:
        return True
    return all(e > 0 for e in jury_table(coeffs))


def largest_stable_lr(rule, h, rtol: float = 1e-12, **params) -> StableLr:
    """The largest stable learning rate of a linear rule at curvature ``h`` (the other
    hyperparameters at ``params`` or their defaults), certified (see module doc): any degree.

    Parameters
    ----------
    rule : str or Rule
        A linear rule.
    h : float
        Curvature of the eigen-direction, > 0.
    rtol : float
        Relative width of the returned interval.
    **params
        Hyperparameters other than ``lr`` (flags select the variant).

    Returns
    -------
    StableLr
        ``(lo, hi)`` floats (rounded outwards) containing the bound; ``(inf, inf)`` if every
        lr > 0 is stable, ``(0.0, 0.0)`` if no small lr is.

    Raises
    ------
    ValueError
        If the rule is not linear, ``h`` is not a positive finite number, or a parameter is bad.
    """
    from ..rules import get_rule
    from .analysis import characteristic_polynomial
    from .core import H, Z

    rule = get_rule(rule)
    if not rule.linear:
        raise ValueError(f"rule {rule.name!r} is not linear; linearise it first")
    if not (isinstance(h, (int, float)) and math.isfinite(h) and h > 0):
        raise ValueError(f"h must be a positive finite number, got {h!r}")
    if "lr" in params:
        raise ValueError("lr is what largest_stable_lr solves for; do not give it")
    values = rule.params(**params)
    flags = {p.name: values[p.name] for p in rule.hyper if p.flag}
    cp = characteristic_polynomial(rule, **flags)
    lr = cp.symbols["lr"]
    subs = {H: _rational(h)}
    for p in rule.hyper:
        sym = cp.symbols.get(p.name)
        if p.name != "lr" and isinstance(sym, sympy.Symbol):
            subs[sym] = _rational(values[p.name])
    expr = sympy.numer(sympy.together(exact(cp.expr.subs(subs))))
    boundary = []  # polynomials in lr whose positive zeros are where a root reaches the circle
    fixed_factors = []  # factors without lr
    for f, _k in sympy.factor_list(expr, Z, lr)[1]:
        if not f.has(Z):
            continue
        if not f.has(lr):
            fixed_factors.append(sympy.Poly(f, Z))
            continue
        pf = sympy.Poly(f, Z)
        rev = sympy.Poly(list(reversed(pf.all_coeffs())), Z)
        res = sympy.expand(sympy.resultant(pf.as_expr(), rev.as_expr(), Z))
        if res == 0:  # p and p* share a factor for every lr: a root of modulus >= 1 always
            return StableLr((0.0, 0.0))
        boundary.append(sympy.Poly(res, lr))
    if any(not _exact_stable(f) for f in fixed_factors):
        return StableLr((0.0, 0.0))
    zeros = []  # (lo, hi, squarefree polynomial): isolating intervals of the positive zeros
    for poly in boundary:
        poly = poly.sqf_part()
        while poly.degree() > 0 and poly.eval(0) == 0:  # lr = 0 is no boundary of lr > 0
            poly = sympy.Poly(sympy.quo(poly.as_expr(), lr), lr)
        if poly.degree() > 0:
            zeros += [(a, b, poly) for (a, b), _m in poly.intervals(inf=0)]
    def probe(x):  # Jury's conditions, exactly, at the rational learning rate x
        return _exact_stable(sympy.Poly(expr.subs(lr, x), Z))

    if not zeros:
        return StableLr((math.inf, math.inf)) if probe(sympy.Integer(1)) else StableLr((0.0, 0.0))
    a, b, poly = min(zeros, key=lambda z: z[0])
    # refine every candidate whose interval overlaps the lowest one, so the smallest is known
    while True:
        overlapping = [z for z in zeros if z[0] < b]
        if len(overlapping) == 1 or b - a <= rtol * a:
            break
        zeros = [(*z[2].refine_root(z[0], z[1], eps=(z[1] - z[0]) / 16), z[2]) if z[0] < b else z
                 for z in zeros]
        a, b, poly = min(zeros, key=lambda z: z[0])
    a, b = poly.refine_root(a, b, eps=max(rtol * float(a), 1e-300))
    if not probe(a / 2):
        return StableLr((0.0, 0.0))
    return StableLr((math.nextafter(float(a), 0.0), math.nextafter(float(b), math.inf)))


# --------------------------------------------------------------------------------------------
# Worst case of a degree >= 3 factor: numeric candidates


def interior_maxima(radius, mu: float, L: float, grid: int = GRID) -> list:
    """Curvatures in [mu, L] where ``radius(h)`` (vectorised) has a local maximum on a
    log-spaced grid of ``grid`` points, each refined by a bounded Brent search."""
    from scipy.optimize import minimize_scalar

    hs = np.geomspace(mu, L, grid) if mu > 0 else np.linspace(mu, L, grid)
    r = radius(hs)
    out = []
    for i in range(1, grid - 1):
        if r[i] >= r[i - 1] and r[i] >= r[i + 1] and (r[i] > r[i - 1] or r[i] > r[i + 1]):
            res = minimize_scalar(lambda x: -float(radius(np.array([x]))[0]),
                                  bounds=(hs[i - 1], hs[i + 1]), method="bounded",
                                  options={"xatol": 1e-14 * hs[i]})
            out += [float(res.x), float(hs[i])]
    return out
