"""Fast numeric functions made from the derived characteristic polynomials (lambdified, cached).

``root_radius(rule, h, **params)`` evaluates max ``|root|`` of the derived characteristic
polynomial, vectorised over ``h`` (and over array-valued hyperparameters): the primitive behind
the package's one spectral-radius function, :func:`optanalysis.theory.spectrum.spectral_radius`;
``worst_case_rate(rule, mu, L, **params)`` is its exact maximum over ``h`` in ``[mu, L]``.

Why the maximum over an interval is exact with finitely many candidates
-----------------------------------------------------------------------
rho(h) = max_i ``|r_i(h)|`` is continuous.  Away from the zeros of the discriminant D(h) every root
r_i(h) is an analytic function of h, so a local maximum of rho in the interior of [mu, L] is a
local maximum of one ``|r_i|`` (a crossing of two branches is never a strict local maximum of their
maximum) and is therefore one of

* a zero of D(h) (roots collide; the branches are not differentiable there);
* in a complex-root stretch, a stationary point of ``|r|^2`` = c0(h) (the product of the pair);
* in a real-root stretch, a stationary point of r(h): by implicit differentiation
  r' = -p_h(r, h) / p_z(r, h), so p(r, h) = p_h(r, h) = 0, i.e. a zero of the resultant
  Res_z(p, p_h) (a polynomial in h); a zero *root* r = 0 is a minimum of ``|r|``, not a maximum.

So ``max_{[mu, L]} rho = max(rho(mu), rho(L), rho(h*))`` over the real zeros h* in (mu, L) of D,
c0' and Res_z(p, p_h).  Degree >= 3: the polynomial is factored in z; each factor of degree 2 adds
its discriminant, and an irreducible factor of degree >= 3 its discriminant plus numeric interior
maxima (:func:`optanalysis.symbolic.schur.interior_maxima`: a stationary complex root of such a
factor is not a zero of a coefficient).  For every linear rule here p is affine in h (p = A(z) + h B(z)): then
p_h = B, a stationary root needs A(r) = B(r) = 0 and is a root for *all* h (constant), c0 is
affine (monotone), and the candidates reduce to mu, L and the zeros of D — which this module
derives once (symbolically) and solves numerically with ``numpy.roots``.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import sympy

from ..rules import get_rule
from .analysis import characteristic_polynomial
from .core import H, Z, source_key, with_pinned

__all__ = ["root_radius", "worst_case_rate", "worst_case_candidates", "roots",
           "iteration_matrix_fn", "poly_coefficients_fn"]


def _split(rule, params: dict):
    """(flags as a symbolic key, the real values: scalars or arrays).  Hyperparameters not given
    take their defaults; names, ranges and constraints are validated (arrays at their extremes)."""
    arrays = {k: np.asarray(v, dtype=float) for k, v in params.items() if np.ndim(v) > 0}
    scalars = {k: (v.item() if isinstance(v, np.generic) else v)
               for k, v in params.items() if np.ndim(v) == 0}
    vals = rule.params(**scalars, **{k: float(a.flat[0]) for k, a in arrays.items() if a.size})
    for reduce in (np.min, np.max):
        rule.params(**scalars, **{k: float(reduce(a)) for k, a in arrays.items() if a.size})
    flags = tuple((p.name, vals[p.name]) for p in rule.hyper if p.flag)
    reals = {p.name: arrays.get(p.name, vals[p.name]) for p in rule.hyper if not p.flag}
    return flags, reals


@lru_cache(maxsize=None)
def _compiled(rule, key, fixed):
    """(names of the real arguments after h, [f(h, *args) -> coefficient], degree)."""
    cp = characteristic_polynomial(rule, **dict(fixed))
    syms = [s for s in cp.symbols.values() if isinstance(s, sympy.Symbol)]
    names = [s.name for s in syms]
    coeffs = [sympy.lambdify([H, *syms], c, "numpy") for c in cp.coeffs]
    return names, coeffs, cp.degree


def poly_coefficients_fn(rule, **fixed):
    """The lambdified coefficients (c_{n-1}, ..., c_0) of the derived characteristic polynomial."""
    rule = get_rule(rule)
    return _compiled(rule, source_key(rule), tuple(sorted(fixed.items())))


def _eval(rule, h, params, fn):
    """Evaluate ``fn(names, coeffs, degree, h, values)`` per pattern of zero hyperparameters
    (a zero may select another branch of the rule, e.g. torch keeps no buffer at momentum 0)."""
    rule = get_rule(rule)
    flags, reals = _split(rule, params)
    h = np.asarray(h, dtype=float)
    names = list(reals)
    arrays = np.broadcast_arrays(h, *[np.asarray(reals[n], dtype=float) for n in names])
    hb, vals = arrays[0], dict(zip(names, arrays[1:]))
    zero = np.stack([vals[n] == 0 for n in names]) if names else np.zeros((0,) + hb.shape, bool)
    out = None
    flat = zero.reshape(len(names), -1).T
    patterns = sorted({tuple(row) for row in flat}) or [tuple(False for _ in names)]
    for pattern in patterns:
        fixed = dict(flags)
        fixed.update({n: 0 for n, z in zip(names, pattern) if z})
        sel = np.all(flat == np.array(pattern, bool), axis=1)
        argnames, coeffs, degree = poly_coefficients_fn(rule, **fixed)
        args = [vals[n].reshape(-1)[sel] for n in argnames]
        res = fn(coeffs, degree, hb.reshape(-1)[sel], args)
        if out is None:
            out = np.empty((hb.size,) + res.shape[1:], dtype=res.dtype)
        out[sel] = res
    return out.reshape(hb.shape + out.shape[1:])


def _roots_of(coeffs, degree, h, args):
    c = [np.broadcast_to(np.asarray(f(h, *args), dtype=float), h.shape) for f in coeffs]
    if degree == 0:
        return np.zeros(h.shape + (0,), complex)
    if degree == 1:
        return (-c[0])[..., None].astype(complex)
    if degree == 2:
        c1, c0 = c
        sq = np.sqrt((c1 * c1 - 4 * c0).astype(complex))
        return np.stack([(-c1 + sq) / 2, (-c1 - sq) / 2], axis=-1)
    mat = np.zeros(h.shape + (degree, degree))
    mat[..., 0, :] = -np.stack(c, axis=-1)
    mat[..., np.arange(1, degree), np.arange(degree - 1)] = 1
    return np.linalg.eigvals(mat)


def roots(rule, h, **params) -> np.ndarray:
    """All eigenvalues of T(h): the roots of the derived characteristic polynomial plus the
    dropped zero roots, on a last axis of length ``len(rule.state)``; vectorised over ``h``."""
    rule = get_rule(rule)
    n = len(rule.state)

    def fn(c, d, hh, a):
        r = _roots_of(c, d, hh, a)
        out = np.zeros(r.shape[:-1] + (n,), complex)
        out[..., : r.shape[-1]] = r
        return out

    return _eval(rule, h, params, fn)


def root_radius(rule, h, **params) -> np.ndarray:
    """max ``|root|`` of the characteristic polynomial at curvature(s) ``h``.

    Parameters
    ----------
    rule : str or Rule
        A linear rule.
    h : array_like
        Curvatures (eigenvalues); the result has the broadcast shape of ``h`` and the
        hyperparameters.
    **params
        Hyperparameters (defaults for the others), scalars or arrays; flags select the derivation.
    """
    rule = get_rule(rule)
    if not rule.linear:
        raise ValueError(f"rule {rule.name!r} is not linear; linearise it first")
    return _eval(rule, h, params, lambda c, d, hh, a: np.max(np.abs(_roots_of(c, d, hh, a)), axis=-1,
                                                           initial=0.0))


# --------------------------------------------------------------------------------------------
# Worst case over an interval


@lru_cache(maxsize=None)
def _candidate_polys(rule, key, fixed):
    """Polynomials in h whose real zeros are the interior candidates (see module doc)."""
    cp = characteristic_polynomial(rule, **dict(fixed))
    syms = [s for s in cp.symbols.values() if isinstance(s, sympy.Symbol)]
    p = cp.expr
    polys = []
    if cp.degree == 2:
        polys.append(cp.discriminant)
    search = False  # an irreducible factor of degree >= 3: numeric interior maxima too
    if cp.degree >= 3:
        from .analysis import factors
        from .schur import exact

        for q in factors(cp):
            if q.degree() >= 2:
                polys.append(sympy.discriminant(exact(q.as_expr()), Z))
            search = search or q.degree() >= 3
    if sympy.Poly(p, H).degree() > 1:
        polys.append(sympy.diff(cp.c0, H))
        polys.append(sympy.resultant(p, sympy.diff(p, H), Z))
    out = []
    for q in polys:
        q = sympy.expand(sympy.numer(sympy.together(q)))
        if q.has(H):
            cs = sympy.Poly(q, H).all_coeffs()
            out.append([sympy.lambdify(syms, c, "numpy") for c in cs])
    return [s.name for s in syms], out, search


def worst_case_candidates(rule, mu, L, **params) -> np.ndarray:
    """mu, L and the real zeros in (mu, L) of the candidate polynomials (see module doc)."""
    rule = get_rule(rule)
    flags, reals = _split(rule, params)
    fixed = dict(flags)
    fixed.update({n: 0 for n, v in reals.items() if np.ndim(v) == 0 and v == 0})
    names, polys, search = _candidate_polys(rule, source_key(rule), tuple(sorted(fixed.items())))
    args = [reals[n] for n in names]
    cands = [float(mu), float(L)]
    for cs in polys:
        c = np.array([float(f(*args)) for f in cs])
        scale = np.max(np.abs(c)) if c.size else 0.0
        if scale == 0 or not np.all(np.isfinite(c)):
            continue
        nz = np.nonzero(np.abs(c) > 1e-300)[0]
        c = c[nz[0]:]
        if c.size < 2:
            continue
        for r in np.roots(c):
            if abs(r.imag) <= 1e-9 * max(1.0, abs(r.real)) and mu < r.real < L:
                cands.append(float(r.real))
    if search and L > mu:
        from .schur import interior_maxima

        cands += interior_maxima(lambda hs: root_radius(rule, hs, **params), float(mu), float(L))
    return np.array(cands)


def worst_case_rate(rule, mu, L, **params) -> float:
    """max over h in [mu, L] of the spectral radius — exact (see module doc), not a grid."""
    if not (0 < mu <= L) or not np.isfinite(L):
        raise ValueError(f"need 0 < mu <= L < inf, got mu={mu!r}, L={L!r}")
    cands = worst_case_candidates(rule, mu, L, **params)
    return float(np.max(root_radius(rule, cands, **params)))


# --------------------------------------------------------------------------------------------
# The iteration matrix itself (for checks against numpy eigenvalues)


@lru_cache(maxsize=None)
def _matrix_fn(rule, key, fixed):
    from .core import iteration_matrix, hyper_symbols

    T = iteration_matrix(rule, **dict(fixed))
    syms = [s for s in hyper_symbols(rule, **dict(fixed)).values() if isinstance(s, sympy.Symbol)]
    return [s.name for s in syms], sympy.lambdify([H, *syms], T, "numpy")


def iteration_matrix_fn(rule, **fixed):
    """(argument names after h, ``f(h, *args) -> T(h)`` as a NumPy array), lambdified and cached."""
    rule = get_rule(rule)
    return _matrix_fn(rule, source_key(rule), tuple(sorted(with_pinned(rule, fixed).items())))
