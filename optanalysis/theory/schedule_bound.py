r"""The last-iterate bound of SGD for any learning-rate schedule (convex, Lipschitz).

Defazio, Cutkosky, Mehta & Mishchenko (2023), "Optimal linear decay learning rate schedules and further
refinements" (arXiv:2310.07831), Theorem 10, as restated by Schaipp, Hägele, Taylor, Simsekli & Bach (2025),
"The surprising agreement between convex optimization theory and learning-rate scheduling for large
model training", Theorem 1: for a convex f, SGD ``x_{t+1} = x_t - eta_t g_t`` with
``E||g_t||^2 <= G_t^2`` and ``D = ||x_1 - x*||``, after ``T`` steps

.. math::

    E[f(x_T)] - f^* \le \frac{D^2 + \sum_{t=1}^T \eta_t^2 G_t^2}{2 \sum_{t=1}^T \eta_t}
      + \frac12 \sum_{k=1}^{T-1} \frac{\eta_k}{\sum_{t=k+1}^T \eta_t}
        \cdot \frac{\sum_{t=k}^T \eta_t^2 G_t^2}{\sum_{t=k}^T \eta_t}.

The bound is ``D^2 a + b`` with ``a = 1 / (2 sum eta)`` and ``b`` the rest (``G^2`` times a function of
the schedule when G is a constant).  Scaling the schedule by a base lr ``c`` scales ``a`` by ``1/c``
and ``b`` by ``c``, so the base lr minimising the bound is ``c* = sqrt(D^2 a / b)`` and the minimum is
``2 sqrt(D^2 a b)`` (:func:`optimal_base_lr`).

Step ``k`` of an optanalysis schedule (``OpenLoop.lrs``, k = 0 .. T-1) is the theorem's ``t = k + 1``.
Sums run over the tails by reversed cumulative sums (no cancellation against the total), so one
horizon costs O(T) (:func:`bound_terms`); the curve over many horizons (:func:`curve_terms`,
:func:`bound_curve`, compiled) costs O(T) per horizon.
"""
from __future__ import annotations

import math

import numba
import numpy as np

from ..checks import integer

__all__ = ["last_iterate_bound", "bound_terms", "curve_terms", "bound_curve", "optimal_base_lr"]


def _lrs(lrs) -> np.ndarray:
    try:
        eta = np.asarray(lrs, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"lrs must be a 1-D sequence of numbers, got {type(lrs).__name__}") from None
    if eta.ndim != 1 or eta.size == 0:
        raise ValueError(f"lrs must be a non-empty 1-D sequence, got shape {eta.shape}")
    bad = np.flatnonzero(~np.isfinite(eta) | (eta < 0))
    if bad.size:
        raise ValueError(f"lrs must be finite and >= 0; lrs[{bad[0]}] = {eta[bad[0]]}")
    return eta


def _positive(value, name: str) -> float:
    v = float(value)
    if not (math.isfinite(v) and v > 0):
        raise ValueError(f"{name} must be in (0, inf), got {value!r}")
    return v


def _g2(G, n: int) -> np.ndarray:
    """G (a constant or one bound per step) squared, per step."""
    g = np.asarray(G, dtype=np.float64)
    if g.ndim == 0:
        return np.full(n, _positive(g, "G") ** 2)
    if g.shape != (n,):
        raise ValueError(f"G must be a number or one value per step ({n}), got shape {g.shape}")
    bad = np.flatnonzero(~np.isfinite(g) | (g <= 0))
    if bad.size:
        raise ValueError(f"G must be in (0, inf) at every step; G[{bad[0]}] = {g[bad[0]]}")
    return g * g


def _horizon(horizon, n: int) -> int:
    return n if horizon is None else integer(horizon, "horizon", 1, n)


def _terms(eta: np.ndarray, g2: np.ndarray):
    """(a, b) of the bound D^2 a + b at the horizon len(eta)."""
    if eta[-1] <= 0:
        raise ValueError(f"lrs: the lr of the horizon's last step ({eta.size - 1}) must be > 0 (the bound "
                         "divides by the sum of the later lrs)")
    q = eta * eta * g2
    beta = np.cumsum(eta[::-1])[::-1]        # sum_{t >= k} eta_t
    gamma = np.cumsum(q[::-1])[::-1]         # sum_{t >= k} eta_t^2 G_t^2
    total = beta[0]
    tail = eta[:-1] / beta[1:] * gamma[:-1] / beta[:-1]  # k = 1 .. T-1; beta[1:] = sum_{t > k} > 0
    return 1.0 / (2.0 * total), gamma[0] / (2.0 * total) + 0.5 * tail.sum()


def bound_terms(lrs, G=1.0, *, horizon=None) -> tuple:
    """The two parts of the bound at one horizon: ``bound = D**2 * a + b``.

    Parameters
    ----------
    lrs : array_like
        The lr of steps 0, 1, ... (finite, >= 0); the lr of the horizon's last step must be > 0.
    G : float or array_like
        Bound on the gradient norm, a constant > 0 or one value > 0 per step.
    horizon : int, optional
        Number of steps T in 1 .. len(lrs) (default: all).

    Returns
    -------
    tuple of float
        ``(a, b)`` with ``a = 1 / (2 sum eta)`` and ``b`` the gradient part.

    Raises
    ------
    ValueError
        A negative or non-finite lr, a last lr of 0, ``G <= 0``, or a horizon out of range.
    """
    eta = _lrs(lrs)
    t = _horizon(horizon, eta.size)
    return _terms(eta[:t], _g2(G, eta.size)[:t])


def last_iterate_bound(lrs, D, G, *, horizon=None) -> float:
    """The bound on ``E[f(x_T)] - f*`` of Theorem 10 (see the module docstring).

    Parameters
    ----------
    lrs : array_like
        The lr of steps 0, 1, ... (finite, >= 0; the last one of the horizon > 0).
    D : float
        Distance from the start to a minimiser, > 0.
    G : float or array_like
        Gradient-norm bound, > 0 (a constant or one value per step).
    horizon : int, optional
        Number of steps T in 1 .. len(lrs) (default: all).

    Returns
    -------
    float

    Raises
    ------
    ValueError
        Bad lrs, ``D <= 0``, ``G <= 0`` or a horizon out of range, naming the argument.
    """
    d = _positive(D, "D")
    a, b = bound_terms(lrs, G, horizon=horizon)
    return d * d * a + b


@numba.njit(cache=True)
def _curve(eta, q, horizons):  # pragma: no cover - compiled
    # per horizon T, the tails summed backwards from the last step (as the reversed cumulative sums of
    # _terms: no cancellation against the total); a horizon whose last lr is 0 gets (nan, nan)
    a = np.empty(horizons.size)
    b = np.empty(horizons.size)
    for i in range(horizons.size):
        t = horizons[i]
        if eta[t - 1] <= 0.0:
            a[i] = np.nan
            b[i] = np.nan
            continue
        later = 0.0  # sum_{t' > k} eta
        gamma = 0.0  # sum_{t' >= k} eta^2 G^2
        tail = 0.0
        for k in range(t - 1, -1, -1):
            gamma += q[k]
            beta = later + eta[k]
            if k < t - 1:
                tail += eta[k] / later * gamma / beta
            later = beta
        a[i] = 1.0 / (2.0 * later)
        b[i] = gamma / (2.0 * later) + 0.5 * tail
    return a, b


def _horizons(horizons, n: int) -> np.ndarray:
    ts = np.arange(1, n + 1) if horizons is None else np.asarray(horizons)
    if ts.ndim != 1 or not np.issubdtype(ts.dtype, np.integer) or ts.size and (ts.min() < 1 or ts.max() > n):
        raise ValueError(f"horizons must be integers in [1, {n}]")
    return ts.astype(np.int64)


def curve_terms(lrs, G=1.0, *, horizons=None) -> tuple:
    """:func:`bound_terms` at many horizons at once (compiled; O(T) per horizon).

    Parameters
    ----------
    lrs, G
        As in :func:`bound_terms`.
    horizons : array_like of int, optional
        Horizons T in 1 .. len(lrs) (default: every one).

    Returns
    -------
    tuple of numpy.ndarray
        ``(a, b)`` per horizon; ``nan`` where the horizon's last lr is 0.

    Raises
    ------
    ValueError
        Bad lrs or G, or a horizon out of range.
    """
    eta = _lrs(lrs)
    q = eta * eta * _g2(G, eta.size)
    return _curve(eta, q, _horizons(horizons, eta.size))


def bound_curve(lrs, D, G, *, horizons=None) -> np.ndarray:
    """The bound at every horizon: for each T, the bound of the schedule's first T lrs.

    Parameters
    ----------
    lrs : array_like
        The lr of steps 0, 1, ... (finite, >= 0).
    D, G
        As in :func:`last_iterate_bound`.
    horizons : array_like of int, optional
        Horizons T in 1 .. len(lrs) (default: every one, 1 .. len(lrs)).

    Returns
    -------
    numpy.ndarray
        The bound at each horizon; ``inf`` where the horizon's last lr is 0 (the bound says nothing).

    Raises
    ------
    ValueError
        As :func:`last_iterate_bound`, or a horizon out of range.
    """
    d2 = _positive(D, "D") ** 2
    a, b = curve_terms(lrs, G, horizons=horizons)
    return np.where(np.isnan(a), np.inf, d2 * a + b)


def optimal_base_lr(shape, D, G, *, horizon=None) -> tuple:
    """The base lr ``c`` minimising the bound of the schedule ``c * shape``, and that minimum.

    Parameters
    ----------
    shape : array_like
        The schedule's lrs at base lr 1 (e.g. ``make_schedule(spec).lrs(1.0, T)``).
    D, G, horizon
        As in :func:`last_iterate_bound`.

    Returns
    -------
    tuple of float
        ``(c*, bound at c*)`` = ``(sqrt(D^2 a / b), 2 sqrt(D^2 a b))`` with ``(a, b)`` the
        :func:`bound_terms` of ``shape``.

    Raises
    ------
    ValueError
        As :func:`last_iterate_bound`.
    """
    d = _positive(D, "D")
    a, b = bound_terms(shape, G, horizon=horizon)
    return d * math.sqrt(a / b), 2.0 * d * math.sqrt(a * b)
