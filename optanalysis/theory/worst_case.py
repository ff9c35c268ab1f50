"""Exact worst case of a linear rule after n steps over all quadratics with spectrum in [mu, L].

Per eigen-direction of curvature h (minimiser 0, state initialised by the rule's ``init`` from x0)
the n-step map gives x_n = r_n(h) x0, with

    r_n(h) = e_1^T A(h, lr_(n-1)) ... A(h, lr_1) A_1(h, lr_0) init(1),

A_1 the first-step and A the stationary iteration matrix of :mod:`optanalysis.theory.prediction` (derived
from the rule); a constant lr gives e_1^T A^(n-1) A_1 init(1), and any open-loop schedule is
handled as a product of powers, one per run of equal lr.  The maps are affine in h, so r_n is a
polynomial of degree <= n.  (With torch's coupled weight_decay the map is affine, not linear, in
x - x* unless x* = 0; the ratios below are then those of quadratics minimised at 0.)  Over all
quadratics with spectrum in [mu, L] (any dimension, any x0)

    distance:  max ||x_n - x*||^2 / ||x_0 - x*||^2 = max_h r_n(h)^2,
    loss:      max (f(x_n) - f*) / ||x_0 - x*||^2  = max_h h/2 r_n(h)^2,

both attained by putting all of x0 on the worst curvature.

Method (robust for n up to 2e5, where polynomial coefficients and their roots are useless):
r_n and dr_n/dh are evaluated by exponentiation by squaring of the 2x2 (or 1x1) matrices with
forward-mode derivatives, rescaling by a power of two (exact) whenever the largest entry leaves
[2^-100, 2^100] and carrying the exponent, so nothing under- or overflows (log10 ratios far below
-308 are reported).  The objective is evaluated on a grid that is the union of a uniform and a
Chebyshev (cosine) grid of 4n + 65 points each — the critical points of Chebyshev-like polynomials
are equally spaced in angle, i.e. cluster like the cosine grid near the ends of their oscillation
interval.  Every sign change of the objective's derivative between neighbouring grid points
brackets a local extremum, which regula falsi (Illinois) on the derivative of the objective's
logarithm, safeguarded by bisection, refines to a relative width of 4 machine epsilons.  The
maximum over the grid points, the endpoints and the refined extrema is the exact maximum provided
the grid separates the critical points (at most 2n of them: the zeros of r_n and of the
derivative); the tests check this against a dense brute-force evaluation and by doubling the
grid.  Evaluation cost O(G log n) with G ~ 8n, on all cores from ~1e6 matrix products on; the
numeric maps of a (rule, hyperparameters, lr sequence) are kept, so that a repeated small case
costs ~0.1 ms.

Tolerance: the worst h is located to 4 eps relative, where the objective is stationary, so its
value is exact to O(eps^2); what remains is rounding in the matrix powers, which perturb
A^(n-1) by about n eps relative (each of the log2 n squarings doubles the relative error), i.e.
~2e-11 relative on the ratio at n = 1e5 for well-conditioned eigenvectors (near a double root,
as at critical damping, the loss of accuracy is of the order of the matrix's condition number).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import sympy
from numba import njit, prange

from ..checks import integer, real_array
from .prediction import linear_maps, lr_sequence
from .spectrum import _interval
from ..rules import get_rule
from ..symbolic.core import H

__all__ = ["WorstCase", "worst_case", "transfer", "MAX_STEPS", "METRICS", "WORK_LIMIT"]

MAX_STEPS = 200_000  # grid memory ~ 8n points x a few arrays
WORK_LIMIT = 2e9  # 2x2 matrix products per evaluation of the whole grid (~10 s)
PARALLEL_WORK = 1e6  # matrix products above which the grid is scanned on all cores
GRID_PAD = 65  # points of each grid beyond grid_factor * n (a floor for n = 1, 2, ...)
METRICS = ("distance", "loss")


@dataclass(frozen=True)
class WorstCase:
    """Result of :func:`worst_case`.

    ``ratio`` the worst ratio (0.0 if it underflows; see ``log10_ratio``), ``h`` the worst
    curvature, ``metric`` ``"distance"`` or ``"loss"``, ``steps`` n, ``grid`` the number of grid
    points, ``extrema`` the number of refined interior extrema.
    """

    ratio: float
    log10_ratio: float
    h: float
    metric: str
    steps: int
    mu: float
    L: float
    grid: int
    extrema: int

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    def _repr_html_(self) -> str:
        from ..display import fields_table

        return fields_table(self, f"worst case after {self.steps} steps over h in [{self.mu:g}, {self.L:g}]",
                            tuple(self.__dataclass_fields__))


# ----------------------------------------------------------------------------------------------
# Kernels (scalar code on the matrix entries; A(h) = A0 + h A1)


@njit(cache=True)
def _mul(X, dX, Y, dY):
    """(X Y, d(X Y)) for 2x2 matrices stored as 4-tuples (row major), with derivatives."""
    x0, x1, x2, x3 = X
    y0, y1, y2, y3 = Y
    d0, d1, d2, d3 = dX
    e0, e1, e2, e3 = dY
    Z = (x0 * y0 + x1 * y2, x0 * y1 + x1 * y3, x2 * y0 + x3 * y2, x2 * y1 + x3 * y3)
    dZ = (d0 * y0 + d1 * y2 + x0 * e0 + x1 * e2, d0 * y1 + d1 * y3 + x0 * e1 + x1 * e3,
          d2 * y0 + d3 * y2 + x2 * e0 + x3 * e2, d2 * y1 + d3 * y3 + x2 * e1 + x3 * e3)
    return Z, dZ


@njit(cache=True)
def _normalise(X, dX):
    """(X s, dX s, k) with s = 2^-k: the identity (k = 0) while the largest entry c of X is within
    2^+-100, else the power of two that brings c into [0.5, 1).  Scaling by a power of two is exact,
    and lazy: most products need neither a division nor a logarithm.  Products of two matrices so
    bounded stay far from overflow, and entries 2^-900 below c (which cannot matter) from underflow."""
    c = max(abs(X[0]), abs(X[1]), abs(X[2]), abs(X[3]))
    if 7.888609052210118e-31 <= c <= 1.2676506002282294e+30 or c == 0.0 or not np.isfinite(c):
        return X, dX, 0
    k = math.frexp(c)[1]
    s = math.ldexp(1.0, -k)
    return ((X[0] * s, X[1] * s, X[2] * s, X[3] * s), (dX[0] * s, dX[1] * s, dX[2] * s, dX[3] * s), k)


@njit(cache=True)
def _power(h, A0, A1, m):
    """(B, dB/dh, k) with (A0 + h A1)^m = 2^k * B, by squaring."""
    R = (1.0, 0.0, 0.0, 1.0)
    dR = (0.0, 0.0, 0.0, 0.0)
    B = (A0[0] + h * A1[0], A0[1] + h * A1[1], A0[2] + h * A1[2], A0[3] + h * A1[3])
    dB = (A1[0], A1[1], A1[2], A1[3])
    B, dB, kB = _normalise(B, dB)
    kR = 0
    while m > 0:
        if m & 1:
            R, dR = _mul(R, dR, B, dB)
            R, dR, c = _normalise(R, dR)
            kR += kB + c
        m >>= 1
        if m > 0:
            B, dB = _mul(B, dB, B, dB)
            B, dB, c = _normalise(B, dB)
            kB = 2 * kB + c
    return R, dR, kR


@njit(cache=True)
def _rn(h, A0s, A1s, powers, M0, M1, s0):
    """(r, dr/dh, k) with r_n(h) = 2^k * r = e_1^T A_P^m_P ... A_1^m_1 M s0: the first-step map
    M = M0 + h M1, then phase p repeats A_p = A0s[p] + h A1s[p] powers[p] times (2x2 matrices as
    row-major 4-arrays)."""
    R = (1.0, 0.0, 0.0, 1.0)
    dR = (0.0, 0.0, 0.0, 0.0)
    kR = 0
    for p in range(powers.size):
        B, dB, kB = _power(h, A0s[p], A1s[p], powers[p])
        R, dR = _mul(B, dB, R, dR)  # later phases act on the left
        R, dR, c = _normalise(R, dR)
        kR += kB + c
    v0 = (M0[0] + h * M1[0]) * s0[0] + (M0[1] + h * M1[1]) * s0[1]
    v1 = (M0[2] + h * M1[2]) * s0[0] + (M0[3] + h * M1[3]) * s0[1]
    dv0 = M1[0] * s0[0] + M1[1] * s0[1]
    dv1 = M1[2] * s0[0] + M1[3] * s0[1]
    r = R[0] * v0 + R[1] * v1
    dr = dR[0] * v0 + dR[1] * v1 + R[0] * dv0 + R[1] * dv1
    return r, dr, kR


_LN2 = math.log(2.0)


@njit(cache=True)
def _objective(h, maps, loss):
    """(log of the objective, a quantity with the sign of its h-derivative)."""
    r, dr, k = _rn(h, *maps)
    if r == 0.0:
        return -np.inf, dr * dr  # a zero of r is a minimum of r^2: derivative sign changes around it
    logv = 2.0 * (math.log(abs(r)) + k * _LN2)
    if loss:
        logv += math.log(0.5 * h)
        return logv, r * (r + 2.0 * h * dr)  # d/dh (h r^2) = r (r + 2 h r')
    return logv, r * dr  # d/dh r^2 = 2 r r'


@njit(cache=True)
def _scan(hs, maps, loss, logv, slope):
    for i in range(hs.size):
        logv[i], slope[i] = _objective(hs[i], maps, loss)


@njit(cache=True, parallel=True)
def _scan_parallel(hs, maps, loss, logv, slope):
    """:func:`_scan` on all cores (every point is independent: the same numbers as the serial loop)."""
    for i in prange(hs.size):
        logv[i], slope[i] = _objective(hs[i], maps, loss)


@njit(cache=True)
def _log_slope(h, maps, loss):
    """d/dh of the log of the objective (scale-free, unlike :func:`_objective`'s sign quantity, whose
    sign it has); +inf at a zero of r (where :func:`_objective` counts the slope as positive)."""
    r, dr, _ = _rn(h, *maps)
    if r == 0.0:
        return np.inf
    return 2.0 * dr / r + 1.0 / h if loss else 2.0 * dr / r


@njit(cache=True)
def _bisect(a, b, maps, loss):
    """(h, log objective) of a local maximum in [a, b] (slope > 0 at a, <= 0 at b), located to a
    relative width of 4 machine epsilons by regula falsi (Illinois variant) on the log-slope, which
    falls back to bisection whenever the secant point is not strictly inside the bracket; after
    100 steps, bisection alone (it halves the bracket at every step)."""
    eps = 2.220446049250313e-16
    fa = _log_slope(a, maps, loss)
    fb = _log_slope(b, maps, loss)
    side = 0
    steps = 0
    while b - a > 4.0 * eps * max(abs(a), abs(b)):
        c = b - fb * (b - a) / (fb - fa) if steps < 100 else 0.5 * (a + b)
        if not (a < c < b):
            c = 0.5 * (a + b)
            if c <= a or c >= b:
                break
        steps += 1
        fc = _log_slope(c, maps, loss)
        if fc > 0.0:
            a, fa = c, fc
            if side == 1:
                fb *= 0.5  # the same end moved twice: halve the other's value (Illinois)
            side = 1
        else:
            b, fb = c, fc
            if side == -1:
                fa *= 0.5
            side = -1
    va = _objective(a, maps, loss)[0]
    vb = _objective(b, maps, loss)[0]
    return (a, va) if va >= vb else (b, vb)


@njit(cache=True)
def _refine(lo, hi, maps, loss, out_h, out_logv):
    """:func:`_bisect` in each bracket [lo_i, hi_i]."""
    for i in range(lo.size):
        out_h[i], out_logv[i] = _bisect(lo[i], hi[i], maps, loss)


@njit(cache=True, parallel=True)
def _refine_parallel(lo, hi, maps, loss, out_h, out_logv):
    """:func:`_refine` on all cores (brackets are independent)."""
    for i in prange(lo.size):
        out_h[i], out_logv[i] = _bisect(lo[i], hi[i], maps, loss)


@njit(cache=True)
def _merged(a, b):
    """The sorted union of the sorted arrays ``a`` and ``b``, without repeats (``np.unique`` of
    both, in linear time)."""
    out = np.empty(a.size + b.size)
    i = j = n = 0
    while i < a.size or j < b.size:
        if j == b.size or (i < a.size and a[i] <= b[j]):
            x = a[i]
            i += 1
        else:
            x = b[j]
            j += 1
        if n == 0 or x != out[n - 1]:
            out[n] = x
            n += 1
    return out[:n]


# ----------------------------------------------------------------------------------------------


def transfer(rule, params=None, h=None, *, steps, schedule=None, lrs=None) -> np.ndarray:
    """r_n(h): the factor by which ``steps`` steps of ``rule`` (under ``schedule`` or ``lrs``,
    constant lr by default) multiply x0 - x* in the eigen-direction of curvature ``h`` (array).
    Underflows to 0 for very long runs; see :func:`worst_case` for the log-scale maximum."""
    rule = get_rule(rule)
    params = rule.params(**(params or {}))
    steps = integer(steps, "steps", 1, MAX_STEPS)
    maps = _phases(rule, params, lr_sequence(params["lr"], steps, schedule, lrs))
    hs = np.atleast_1d(real_array(h, "h", "an array of curvatures >= 0"))
    if hs.ndim != 1 or not np.all(np.isfinite(hs) & (hs >= 0)):
        raise ValueError("h must be a number or a 1-D array of finite curvatures >= 0")
    out = np.empty(hs.size)
    if isinstance(maps[0], str):  # three or more state entries
        lg, sign = _log_rn_any(hs, maps)
        with np.errstate(over="ignore"):
            return sign * np.exp(lg)
    for i, x in enumerate(hs):
        r, _, k = _rn(float(x), *maps)
        with np.errstate(over="ignore", under="ignore"):
            out[i] = np.ldexp(r, k)  # r 2^k: inf (with r's sign) past the largest double
    return out


def _grid(mu, L, g):
    """The union of a uniform and a Chebyshev (cosine) grid of ``g`` points each on [mu, L]."""
    if mu == L:
        return np.array([mu])
    uniform = np.linspace(mu, L, g)
    cheb = np.clip(0.5 * (mu + L) - 0.5 * (L - mu) * np.cos(np.linspace(0.0, math.pi, g)), mu, L)
    if np.all(cheb[1:] >= cheb[:-1]):  # always, unless cos were not monotone in floating point
        return _merged(uniform, cheb)
    return np.unique(np.concatenate((uniform, cheb)))


_AFFINE = {}  # (id of a LinearMaps, t) -> (the maps, kept alive so that the id stays theirs; affine?)


def _check_affine(maps, t):
    """Raise unless the rule's iteration matrix at step ``t`` is affine in h (r_n is then a
    polynomial of degree <= n).  Decided once per derived maps: SymPy's derivative costs ~1 ms."""
    key = (id(maps), t)
    if key not in _AFFINE:
        A = maps.symbolic[t][0]
        _AFFINE[key] = (maps, A.diff(H, 2) == sympy.zeros(*A.shape))
    if not _AFFINE[key][1]:
        raise ValueError(f"rule {maps.rule!r}: iteration matrix is not affine in h")


def _affine(maps, t, lrs, rest):
    """(A0, A1) (P, 4) with A_t(h, lr_p) = A0[p] + h A1[p], padded to 2x2, row-major."""
    _check_affine(maps, t)
    out = []
    for x in (0.0, 1.0):
        P = np.zeros((lrs.size, 2, 2))
        P[:, :maps.n, :maps.n] = maps.A(t, np.full(lrs.size, x), lrs, rest)
        out.append(P.reshape(lrs.size, 4))
    return out[0], out[1] - out[0]


_PHASES = {}  # (id of the derived maps, hyperparameter values, lr sequence) -> (the maps, their phases)
_PHASES_MAX = 256  # entries kept (a few kB each for constant lr); then the cache starts afresh


def _phases(rule, params, seq):
    """The maps of :func:`_rn` (or of :func:`_rn_any`) for ``params`` and the lr sequence ``seq``,
    kept for the next call with the same ones (evaluating the lambdified matrices costs more than
    a whole worst case at small n).  The derived maps are part of the key, so that an edited rule
    (new maps) is never answered from the cache; the cached arrays are only read."""
    maps = linear_maps(rule, params)
    key = (id(maps), rule.values(params), seq.tobytes())
    hit = _PHASES.get(key)
    if hit is None:
        if len(_PHASES) >= _PHASES_MAX:
            _PHASES.clear()
        phases = _phases_any(rule, params, seq, maps) if maps.n > 2 else _phases_2(rule, params, seq, maps)
        hit = _PHASES[key] = (maps, phases)  # the maps kept alive: their id stays theirs
    return hit[1]


def _phases_2(rule, params, seq, maps):
    """The maps of :func:`_rn` for the lr sequence ``seq``: the first step at lr_0 (t = 1), then one
    phase per run of equal lr (t >= 2).  A one-entry state is padded with zeros (changes nothing)."""
    rest = maps.rest(params)
    M0, M1 = _affine(maps, 1, seq[:1], rest)
    tail = seq[1:]
    edges = np.flatnonzero(np.diff(tail) != 0) + 1
    starts = np.concatenate(([0], edges)).astype(np.int64)
    powers = np.diff(np.concatenate((starts, [tail.size]))).astype(np.int64)
    if tail.size == 0:
        starts, powers = np.zeros(0, np.int64), np.zeros(0, np.int64)
    A0s, A1s = _affine(maps, 2, tail[starts], rest) if powers.size else (np.zeros((0, 4)), np.zeros((0, 4)))
    s0 = np.zeros(2)
    s0[:maps.n] = [float(np.asarray(v)) for v in rule.init(1.0, *rule.values(params))]
    return A0s, A1s, powers, M0[0], M1[0], s0


def _phases_any(rule, params, seq, maps):
    """The maps of :func:`_rn_any` (states of three or more entries): the first-step map at lr_0
    as (n, n) A0 + h A1, then one (A0, A1, power) per run of equal lr; ``s0`` the initial state."""
    rest = maps.rest(params)

    def affine(t, lrs):
        _check_affine(maps, t)
        A0, A1 = (np.asarray(maps.A(t, np.full(lrs.size, x), lrs, rest), float) for x in (0.0, 1.0))
        return A0, A1 - A0

    tail = seq[1:]
    starts = np.concatenate(([0], np.flatnonzero(np.diff(tail) != 0) + 1)).astype(np.int64)
    powers = np.diff(np.concatenate((starts, [tail.size]))).astype(np.int64) if tail.size else np.zeros(0, np.int64)
    A0s, A1s = affine(2, tail[starts]) if powers.size else (np.zeros((0, maps.n, maps.n)),) * 2
    M0, M1 = affine(1, seq[:1])
    s0 = np.array([float(np.asarray(v)) for v in rule.init(1.0, *rule.values(params))])
    return ("any", A0s, A1s, powers, M0[0], M1[0], s0)


def _normalised(X):
    """(X / c, log c) per matrix of the stack X, c its largest |entry| (1 if zero or not finite)."""
    c = np.max(np.abs(X), axis=(-2, -1), keepdims=True)
    c = np.where((c > 0) & np.isfinite(c), c, 1.0)
    return X / c, np.log(c[..., 0, 0])


def _log_rn_any(hs, maps):
    """(log |r_n(h)|, r_n(h) / exp(log |r_n|)'s sign) for curvatures ``hs`` (a 1-D array): products of
    (A0 + h A1)^m by squaring, renormalised after each product (nothing under- or overflows)."""
    _, A0s, A1s, powers, M0, M1, s0 = maps
    n = s0.size
    R = np.broadcast_to(np.eye(n), (hs.size, n, n)).copy()
    logR = np.zeros(hs.size)
    for A0, A1, m in zip(A0s, A1s, powers):
        B, logB = _normalised(A0 + hs[:, None, None] * A1)
        P = np.broadcast_to(np.eye(n), (hs.size, n, n)).copy()
        logP = np.zeros(hs.size)
        while m > 0:
            if m & 1:
                P, c = _normalised(B @ P)
                logP += logB + c
            m >>= 1
            if m > 0:
                B, c = _normalised(B @ B)
                logB = 2.0 * logB + c
        R, c = _normalised(P @ R)
        logR += logP + c
    v = (M0 + hs[:, None, None] * M1) @ s0
    r = np.einsum("gj,gj->g", R[:, 0, :], v)
    with np.errstate(divide="ignore"):
        return np.log(np.abs(r)) + logR, np.sign(r)


def _worst_case_any(maps, mu, L, hs, loss):
    """:func:`worst_case` for states of three or more entries: the objective on the grid, each local
    maximum refined by a bounded Brent search (scipy) to a relative width of 1e-14."""
    from scipy.optimize import minimize_scalar

    def objective(h):
        with np.errstate(divide="ignore"):
            out = 2.0 * _log_rn_any(h, maps)[0]
            return out + np.log(0.5 * h) if loss else out

    logv = objective(hs)
    logv = np.where(np.isnan(logv), np.inf, logv)
    peaks = [i for i in range(1, hs.size - 1) if logv[i] >= logv[i - 1] and logv[i] >= logv[i + 1]]
    cand_h, cand_v = list(hs), list(logv)
    for i in peaks:
        if not np.isfinite(logv[i]):
            continue
        res = minimize_scalar(lambda x: -float(objective(np.array([x]))[0]), bounds=(hs[i - 1], hs[i + 1]),
                              method="bounded", options={"xatol": 1e-14 * hs[i + 1]})
        cand_h.append(float(res.x))
        cand_v.append(-float(res.fun))
    i = int(np.argmax(cand_v))
    return float(cand_h[i]), float(cand_v[i]), len(peaks)


def worst_case(rule, params=None, *, mu, L, steps, metric="distance", schedule=None, lrs=None,
               grid_factor=4) -> WorstCase:
    """Exact worst case after ``steps`` steps of a linear rule over spectra in [mu, L].

    Parameters
    ----------
    rule : str or Rule
        A linear rule (a state of any size; states of three or more entries are evaluated with
        NumPy matrix products and each local maximum refined by Brent's method).
    params : dict, optional
        Hyperparameters (``Rule.params``); ``lr`` is the base lr of the schedule.
    mu, L : float
        Spectrum bounds, 0 < mu <= L.
    steps : int
        n in [1, 200000].
    metric : {"distance", "loss"}
        ||x_n - x*||^2/||x_0 - x*||^2 or (f(x_n) - f*)/||x_0 - x*||^2.
    schedule, lrs : optional
        An open-loop schedule (anything ``make_schedule`` accepts) or the lr of every step;
        constant lr by default.  Each run of equal lr costs O(log run) per curvature, so a
        schedule that changes the lr at every step is limited to about 1e9 / grid steps.
    grid_factor : int
        Each of the two grids has grid_factor * n + 65 points (>= 1).

    Returns
    -------
    WorstCase
        ``ratio`` (the worst value of the metric), ``h`` (a curvature attaining it), ...

    Examples
    --------
    gd at its optimal lr 2/(mu + L) contracts every direction by at most (kappa - 1)/(kappa + 1)
    per step, attained at both ends of the spectrum, so the worst distance ratio after n steps is
    ((kappa - 1)/(kappa + 1))^(2n):

    >>> import math
    >>> import optanalysis as oa
    >>> wc = oa.worst_case("gd", {"lr": 2 / 1.1}, mu=0.1, L=1.0, steps=10)
    >>> f"{wc.ratio:.10f}", math.isclose(wc.ratio, (9 / 11) ** 20, rel_tol=1e-12)
    ('0.0180715950', True)
    """
    rule = get_rule(rule)
    params = rule.params(**(params or {}))
    mu, L = _interval(mu, L)
    steps = integer(steps, "steps", 1, MAX_STEPS)
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {', '.join(METRICS)}, got {metric!r}")
    grid_factor = integer(grid_factor, "grid_factor", 1, 64)
    maps = _phases(rule, params, lr_sequence(params["lr"], steps, schedule, lrs))
    loss = metric == "loss"
    hs = _grid(mu, L, grid_factor * steps + GRID_PAD)
    powers = maps[3] if isinstance(maps[0], str) else maps[2]
    work = hs.size * float(np.sum(2 * np.log2(np.maximum(powers, 1)) + 1))
    if work > WORK_LIMIT:
        raise ValueError(f"schedule: {powers.size} constant-lr phases over a grid of {hs.size} curvatures is "
                         f"too much work (~{work:.2g} matrix products > {WORK_LIMIT:.0e}); use fewer steps or a "
                         f"piecewise-constant schedule")
    if isinstance(maps[0], str):  # three or more state entries (see _worst_case_any)
        h, lg, extrema = _worst_case_any(maps, mu, L, hs, loss)
        ratio = math.exp(lg) if lg < 709.0 else math.inf
        return WorstCase(ratio, lg / math.log(10.0), h, metric, steps, mu, L, int(hs.size), extrema)
    logv = np.empty(hs.size)
    slope = np.empty(hs.size)
    # threads pay from ~1e5 objective evaluations on (the start of a parallel region costs ~0.1 ms)
    parallel = work > PARALLEL_WORK
    (_scan_parallel if parallel else _scan)(hs, maps, loss, logv, slope)
    up = np.flatnonzero((slope[:-1] > 0) & (slope[1:] <= 0))  # a local maximum inside [h_i, h_i+1]
    rh = np.empty(up.size)
    rv = np.empty(up.size)
    (_refine_parallel if parallel else _refine)(hs[up], hs[up + 1], maps, loss, rh, rv)
    cand_h = np.concatenate((hs, rh))
    cand_v = np.concatenate((logv, rv))
    cand_v = np.where(np.isnan(cand_v), np.inf, cand_v)  # NaN only from overflow: divergence
    i = int(np.argmax(cand_v))
    lg = float(cand_v[i])
    ratio = math.exp(lg) if lg < 709.0 else math.inf
    return WorstCase(ratio, lg / math.log(10.0), float(cand_h[i]), metric, steps, mu, L, int(hs.size), int(up.size))
