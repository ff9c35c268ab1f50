"""The spectrum of a linear rule's derived iteration maps: its spectral radius at any curvatures, the
rate of each constant-lr phase of a schedule, and where a summable decay stalls.

The maps are those of :mod:`optanalysis.theory.prediction` (derived by SymPy from the rule's single
definition); :func:`spectral_radius` is the package's one spectral-radius function.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..checks import float_or_inf, integer, real_array, vector
from ..models.quadratic import make_quadratic
from ..rules import get_rule
from .prediction import MAX_STEPS, _require_linear, linear_maps, lr_sequence, predict

__all__ = ["spectral_radius", "Phase", "phase_rates", "Floor", "stall_floor"]


# ----------------------------------------------------------------------------------------------
# Rates of the phases of a schedule


def spectral_radius(rule, params=None, h=None, *, lr=None, t=2) -> np.ndarray:
    """Spectral radius of a linear rule's derived iteration map at curvatures ``h``: the one
    spectral-radius function of the package.

    Parameters
    ----------
    rule : str or Rule
        A linear rule.
    params : dict, optional
        Hyperparameters (validated; defaults for the others).  Real ones may be arrays: they
        broadcast with ``h`` (a whole (lr, momentum) grid in one call), for t >= 2 and lr > 0.
    h : array_like
        Curvatures, by keyword or third; the result has the broadcast shape of
        ``np.atleast_1d(h)`` and the array hyperparameters.
    lr : float or array_like >= 0, optional
        Step size, instead of ``params["lr"]``; 0 (a schedule's end, e.g. cosine's minimum) is
        allowed here although outside the rule's range.
    t : int >= 1
        Step index: t >= 2 is the stationary map, t = 1 the first step (torch SGD's first
        momentum step, buffer = g, has a map of its own).

    Notes
    -----
    For t >= 2 and lr > 0 this is the largest modulus of the roots of the derived characteristic
    polynomial (:func:`optanalysis.symbolic.numeric.root_radius`), in closed form up to degree 2:
    accurate to machine eps at nilpotent maps (e.g. torch's Nesterov momentum at lr h = 1,
    rho = 0), where the eigenvalues of the defective matrix are only accurate to
    sqrt(machine eps) ~ 1e-8.  The eigenvalues of the derived matrix A_t serve what the roots do
    not: t = 1 (the characteristic polynomial is the t = 2 map's) and lr = 0 (outside the rule's
    range), with scalar hyperparameters.
    """
    rule = get_rule(rule)
    _require_linear(rule)
    if params is not None and not isinstance(params, dict):
        raise TypeError(f"params must be a dict of hyperparameters, got {type(params).__name__} "
                        "(curvatures go in h=)")
    given = dict(params or {})
    integer(t, "t", 1)
    if h is None:
        raise ValueError("h (the curvatures) is required")
    h = np.atleast_1d(real_array(h, "h", "an array of curvatures"))
    if lr is not None:
        lrs = np.asarray(lr, dtype=float) if not isinstance(lr, (bool, str, bytes)) else None
        if lrs is None or lrs.dtype.kind != "f" or not np.all(np.isfinite(lrs) & (lrs >= 0)):
            raise ValueError(f"lr must be a finite number >= 0 (or an array of them), got {lr!r}")
        given["lr"] = lr if np.ndim(lr) else float(lr)
    lr_all = np.asarray(given.get("lr", rule.defaults["lr"]), dtype=float)
    if t >= 2 and np.all(lr_all > 0):
        from ..symbolic.numeric import root_radius  # lazy: SymPy lambdify on first use

        return root_radius(rule, h, **given)
    if any(np.ndim(v) for v in given.values()):
        raise ValueError("array hyperparameters need t >= 2 and lr > 0 (the characteristic polynomial)")
    lr = float(lr_all)
    params = rule.params(**{**given, "lr": rule.defaults["lr"] if lr == 0 else lr})
    maps = linear_maps(rule, params)
    return np.max(np.abs(np.linalg.eigvals(maps.A(t, h, lr, maps.rest(params)))), axis=-1)


@dataclass(frozen=True)
class Phase:
    """One constant-lr phase ``[start, stop)`` of a schedule and its per-step contraction ``rate``
    of the iterate (spectral radius), attained at curvature ``worst_h``."""

    start: int
    stop: int
    lr: float
    rate: float
    worst_h: float


def phase_rates(rule, params=None, lrs=None, *, h=None, mu=None, L=None) -> list:
    """Per-phase worst spectral radius of a piecewise-constant lr sequence.

    Parameters
    ----------
    rule, params
        A linear rule and its hyperparameters (``lr`` is replaced by each phase's lr).
    lrs : array_like (steps,)
        The lr of each step; phases are the maximal runs of equal lr.
    h : array_like, optional
        A problem's spectrum: the worst case is the max over these curvatures.
    mu, L : float, optional
        Instead of ``h``: the worst case over the interval [mu, L], exact, from the symbolic side
        (:func:`optanalysis.symbolic.numeric.worst_case_candidates`: the endpoints and the zeros of
        the characteristic polynomial's discriminant in between).
    """
    rule = get_rule(rule)
    params = rule.params(**(params or {}))
    seq = vector(lrs, "lrs")
    if (h is None) == (mu is None or L is None):
        raise ValueError("give either h (a spectrum) or both mu and L")
    if h is not None:
        pts = vector(h, "h")
    else:
        from ..symbolic.numeric import worst_case_candidates

        mu, L = _interval(mu, L)
    edges = np.flatnonzero(np.diff(seq) != 0) + 1
    starts = np.concatenate(([0], edges))
    stops = np.concatenate((edges, [seq.size]))
    out = []
    for a, b in zip(starts, stops):
        lr = float(seq[a])
        if h is None:  # (an lr of 0, e.g. a cosine's minimum, is outside the rule's range: rate 1)
            pts = worst_case_candidates(rule, mu, L, **(params | {"lr": lr})) if lr > 0 else np.array([mu, L])
        rho = spectral_radius(rule, params, pts, lr=lr)
        i = int(np.argmax(rho))
        out.append(Phase(int(a), int(b), lr, float(rho[i]), float(pts[i])))
    return out


def _interval(mu, L) -> tuple:
    for name, v in (("mu", mu), ("L", L)):
        if isinstance(v, bool) or not isinstance(v, (int, float, np.floating, np.integer)):
            raise TypeError(f"{name} must be a real number in (0, inf), got {v!r}")
    mu, L = float_or_inf(mu), float_or_inf(L)
    if not (math.isfinite(mu) and mu > 0):
        raise ValueError(f"mu must be in (0, inf), got {mu!r}")
    if not (math.isfinite(L) and L >= mu):
        raise ValueError(f"L must be in [mu, inf) = [{mu:g}, inf), got {L!r}")
    return mu, L


# ----------------------------------------------------------------------------------------------
# Stall of a decaying schedule


@dataclass(frozen=True)
class Floor:
    """The limit of a run whose lr decays so fast that its sum is finite: ``loss`` the predicted floor,
    ``loss_directions`` (d,) per eigen-direction, ``steps`` after which every further step changes
    the state by less than ``tol`` relative (lr_k * max h < tol from then on)."""

    loss: float
    loss_directions: np.ndarray
    steps: int


def stall_floor(rule, params=None, *, x0, hessian_diag=None, hessian=None, xstar=None, schedule,
                tol=1e-18, max_steps=2**20) -> Floor:
    """Where a decaying schedule stalls: the loss of the infinite product of iteration matrices.

    For gd this is prod_k (1 - lr_k h)^2 * loss_0 per direction.  The horizon is doubled until the
    lr has fallen below ``tol / max(h)`` for good (checked on the last half of the horizon); for a
    geometric decay lr_k = lr_0 gamma^k the neglected tail then moves log|x| by at most
    tol / (1 - gamma).  A schedule whose lr does not fall that low within ``max_steps`` (e.g. an
    inverse-time decay, whose lr sum diverges) raises ``ValueError``.
    """
    rule = get_rule(rule)
    params = rule.params(**(params or {}))
    q = make_quadratic(hessian_diag=hessian_diag, hessian=hessian, xstar=xstar)
    max_steps = integer(max_steps, "max_steps", 2, MAX_STEPS)
    if not (isinstance(tol, float) and 0 < tol < 1):
        raise ValueError(f"tol must be a float in (0, 1), got {tol!r}")
    hmax = float(np.max(q.eigenbasis[0])) or 1.0
    n = 256
    while True:
        n = min(2 * n, max_steps)
        seq = lr_sequence(params["lr"], n, schedule)
        small = seq * hmax < tol
        if np.all(small[n // 2:]):
            first = int(np.flatnonzero(~small)[-1] + 1) if np.any(~small) else 0
            break
        if n == max_steps:
            raise ValueError(f"schedule: the lr does not fall below tol/max(h) = {tol / hmax:.3g} within "
                             f"max_steps={max_steps}; its sum may be infinite (no stall floor)")
    steps = max(first, 1)
    p = predict(rule, params, x0=x0, hessian_diag=q.hessian_diag, hessian=q.hessian, xstar=q.xstar, steps=steps,
                lrs=seq[:steps], record_every=steps)
    return Floor(float(p.loss[-1]), p.loss_directions[-1], steps)
