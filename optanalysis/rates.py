"""Observed convergence rates from a loss trajectory alone.

Two estimators; :func:`fit_rate` uses the first unless told otherwise.

``method="recurrence"`` (default): identify the linear recurrence the losses obey and read off
its largest root.  The loss of a linear rule is a sum of exponentials: each eigen-direction
contributes (c1 z1^k + c2 z2^k)^2, i.e. the roots z1^2, z1 z2, z2^2 (complex pairs included, and
k z^k terms at a double root), so y_k = sum_j a_j w_j^k (times polynomials in k at repeated
roots) and the per-step loss factor is rho^2 = max_j ``|w_j|``.  Ripples of complex roots are part of
the model, not noise to average out.  The roots come from a matrix pencil on the Hankel matrix
Y[i, j] = y_{i+j} (Hua & Sarkar 1990): its row space is spanned by the vectors (1, w, ..., w^L) of
the modes present, which are shift invariant, so the roots are the eigenvalues of the map sending
that basis without its last lag onto it without its first.  Numerically:

1. rows are scaled to unit norm (each row's entries carry a relative rounding error of the loss,
   so all rows then weigh alike; a row scaling does not change the row space) and lag j is
   scaled by r^-j with r a current estimate of rho^2, so the slowest modes have unit modulus
   along a row and stay resolved over all ``LAGS`` lags; two refinements from r = the
   straight-line rate;
2. the numerical rank is the number of singular values above noise x (sqrt(rows) + sqrt(lags+1)),
   the spectral norm of a matrix of independent errors of relative size ``noise`` (default
   1e-13: the kernels' recorded losses agree with an 80-bit recomputation within 2e-13 over 2000
   steps; see tests/test_rates.py); modes below it are not identifiable and are dropped;
3. the window is the usable range without its first third: the fast transient modes add to the
   rank needed early on, and a cluster of many close modes that cannot all be resolved biases
   the largest root (a Ritz value of the truncated model lies inside the cluster);
4. ``stderr`` is the change of the rate when the first half of the window is dropped as well: zero
   in exact arithmetic, a model-error indicator (not a calibrated standard error).  A caller
   refuses a fit whose stderr exceeds its tolerance.

Accuracy: for a simple dominant root the error is ~ noise x its condition; at a double root
(critical damping) the roots split by ~ sqrt(noise) ~ 3e-7 in the loss factor — the known hard case.

``method="line"``: a least-squares fit of log(loss) over a stated window (the previous default).
It averages ripples instead of modelling them, so it is biased by their phase, but it needs no
model order: it is the tool for a window that is not a sum of a few exponentials (a schedule's
phase, a stochastic loss) and for a user-chosen window on a smooth decay.  It

a. cuts the trajectory at the first loss below ``floor`` x loss_0 (default 1e-24, ~1e7 above eps^2);
b. drops the transient: the usable range is split into 8 blocks whose log-slopes are fitted; the
   window starts at the first block from which every later block agrees with the last one within
   3 sqrt(2) standard errors of the last block's slope plus 1 % of it;
c. fits log(loss) = a + k log(rate) by least squares over the window and reports the slope's
   standard error from the residuals (residuals are correlated — ripples — so treat it as a scale
   of the uncertainty, not a calibrated confidence).

Both methods refuse diverged runs (a non-finite loss or a reported divergence) and runs already
at the floor, and use no loss below ``floor`` x loss_0 nor below tiny/eps ~ 1e-292 (subnormal
numbers lose relative precision).  The floor exists when x* != 0: the iterate carries a relative
rounding error ~eps, so the loss cannot go much below eps^2 times its scale; with x* = 0 a caller
may lower it.  A fit with fewer than ``min_points`` points is refused as too short.  Results are a
:class:`RateFit`; ``rate`` is the per-step factor of the *loss* (``iterate_rate`` = its square
root is the per-step factor of ||x - x*||).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .checks import integer

__all__ = ["RateFit", "fit_rate", "largest_root", "FLOOR", "BLOCKS", "NOISE", "LAGS"]

FLOOR = 1e-24
BLOCKS = 8
# relative error of a recorded loss: the kernels' losses agree with an 80-bit recomputation within
# 2e-13 over 2000 heavy-ball steps (median 1e-15); the threshold of the numerical rank
NOISE = 1e-13
LAGS = 120  # resolves modes of equal modulus whose angles differ by >~ 2 pi / 120
MAX_ROWS = 250  # Hankel rows kept (evenly spaced): the SVD's cost is linear in them
TINY = np.finfo(float).tiny / np.finfo(float).eps  # below it, subnormal losses lose relative precision


@dataclass(frozen=True)
class RateFit:
    """``rate`` per-step loss factor and its ``stderr`` (None when refused), ``window`` (first,
    last) step of the fit, ``points`` used, ``reason`` why the fit was refused (None if not)."""

    rate: float | None
    stderr: float | None
    window: tuple | None
    points: int
    reason: str | None

    @property
    def ok(self) -> bool:
        return self.reason is None

    @property
    def iterate_rate(self) -> float | None:
        """Per-step contraction of ||x - x*|| (the square root of the loss rate)."""
        return None if self.rate is None else math.sqrt(self.rate)

    def _repr_html_(self) -> str:
        from .display import fields_table

        return fields_table(self, "fitted loss rate" if self.ok else "rate fit refused",
                            ("rate", "stderr", "window", "points", "reason"))


def _refuse(reason: str, points: int = 0) -> RateFit:
    return RateFit(None, None, None, points, reason)


def _line(k: np.ndarray, y: np.ndarray) -> tuple:
    """(slope, standard error of the slope) of the least-squares line through (k, y)."""
    kc = k - k.mean()
    sxx = float(kc @ kc)
    slope = float(kc @ (y - y.mean())) / sxx
    resid = y - y.mean() - slope * kc
    dof = k.size - 2
    se = math.sqrt(float(resid @ resid) / dof / sxx) if dof > 0 else math.inf
    return slope, se


def fit_rate(loss, *, record_every=1, window=None, floor=FLOOR, min_points=8, diverged_at=None,
             method="recurrence", noise=NOISE) -> RateFit:
    """Fit the per-step loss factor of a trajectory.

    Parameters
    ----------
    loss : array_like (n+1,)
        Losses at steps 0, record_every, 2 record_every, ... (``SimResult.loss``, ``Prediction.loss``).
    record_every : int
        Step spacing of ``loss`` (>= 1).
    window : (int, int), optional
        First and last step of the fit (multiples of ``record_every``); automatic if None.
    floor : float
        Relative floating-point floor in (0, 1): losses below floor * loss[0] are not used.
    min_points : int
        Smallest number of points of a fit (>= 3).
    diverged_at : int or None
        ``SimResult.diverged_at``; a diverged run is refused.
    method : "recurrence" or "line"
        The estimator (module docstring): the largest root of the identified linear recurrence,
        or the slope of a straight line through log(loss).
    noise : float
        Relative error of the loss values (recurrence only): sets the numerical rank.
    """
    y = np.asarray(loss, dtype=float)
    if y.ndim != 1:
        raise ValueError(f"loss must be a 1-D array, got shape {y.shape}")
    integer(record_every, "record_every", 1)
    integer(min_points, "min_points", 3)
    if not (isinstance(floor, (int, float)) and 0 < floor < 1):
        raise ValueError(f"floor must be a number in (0, 1), got {floor!r}")
    if method not in ("recurrence", "line"):
        raise ValueError(f"method must be 'recurrence' or 'line', got {method!r}")
    if not (isinstance(noise, (int, float)) and 0 < noise < 1):
        raise ValueError(f"noise must be a number in (0, 1), got {noise!r}")
    if diverged_at is not None:
        return _refuse(f"diverged at step {diverged_at}")
    bad = np.flatnonzero(~np.isfinite(y))
    if bad.size:
        return _refuse(f"diverged at step {int(bad[0]) * record_every} (non-finite loss)")
    if np.any(y < 0):
        raise ValueError("loss must be >= 0")
    if y.size == 0 or y[0] == 0:
        return _refuse("at the floor: the initial loss is 0")
    low = np.flatnonzero((y <= floor * y[0]) | (y < TINY))
    end = int(low[0]) if low.size else y.size  # exclusive
    steps = np.arange(y.size) * record_every
    if window is not None:
        try:
            k0, k1 = (int(v) for v in window)
        except (TypeError, ValueError):
            raise TypeError(f"window must be a pair of steps (first, last), got {window!r}") from None
        if not 0 <= k0 < k1 <= steps[-1] or k0 % record_every or k1 % record_every:
            raise ValueError(f"window must satisfy 0 <= first < last <= {steps[-1]} on multiples of "
                             f"record_every={record_every}, got {window!r}")
        i0, i1 = k0 // record_every, k1 // record_every + 1
        if i1 > end:
            return _refuse(f"at the floor: the loss reaches {floor:g} x loss_0 at step {steps[end]}, "
                           f"inside the window", max(end - i0, 0))
    else:
        if end < min_points:
            return _refuse(f"at the floor: only {end} points above {floor:g} x loss_0", end)
        if method == "line":
            i0, i1 = _after_transient(steps[:end], np.log(y[:end]), min_points), end
        else:
            i0, i1 = min(end // 3, max(end - min_points, 0)), end
    if i1 - i0 < min_points:
        return _refuse(f"too short: {i1 - i0} points in the window, need >= {min_points}", i1 - i0)
    if method == "line":
        slope, se = _line(steps[i0:i1].astype(float), np.log(y[i0:i1]))
        rate = math.exp(slope)
        return RateFit(rate, rate * se, (int(steps[i0]), int(steps[i1 - 1])), i1 - i0, None)
    seg = y[i0:i1]
    r = largest_root(seg, noise)
    half = largest_root(seg[seg.size // 2:], noise) if seg.size // 2 >= min_points else r
    # roots of the per-record recurrence are per record_every steps
    rate, other = r ** (1.0 / record_every), half ** (1.0 / record_every)
    return RateFit(rate, abs(rate - other), (int(steps[i0]), int(steps[i1 - 1])), i1 - i0, None)


def largest_root(y, noise=NOISE, lags=LAGS, refine=2) -> float:
    """Largest modulus among the roots of the linear recurrence identified from the positive
    sequence ``y`` by a matrix pencil (module docstring, steps 1-2)."""
    y = np.asarray(y, dtype=float)
    lags = max(1, min(lags, (y.size - 1) // 3))
    slope = _line(np.arange(y.size, dtype=float), np.log(y))[0] if y.size > 2 else math.log(y[-1] / y[0])
    r = math.exp(slope)
    # rows: every ``stride``-th one (their span is the same; this bounds the cost at long windows)
    rows = y.size - lags
    stride = max(1, rows // MAX_ROWS)
    idx = np.arange(0, rows, stride)[:, None] + np.arange(lags + 1)[None, :]
    base = y[idx] / y[idx].max(axis=1, keepdims=True)
    for _ in range(refine):
        Y = base * np.exp(-math.log(r) * np.arange(lags + 1.0))
        Y /= np.linalg.norm(Y, axis=1, keepdims=True)
        s, vh = np.linalg.svd(Y, full_matrices=False)[1:]
        rank = max(1, int(np.sum(s > noise * (math.sqrt(idx.shape[0]) + math.sqrt(lags + 1)))))
        w = vh[:rank]
        # shift invariance: w[:, 1:] = T w[:, :-1]; the roots (scaled by 1/r) are T's eigenvalues
        t = np.linalg.lstsq(w[:, :-1].T, w[:, 1:].T, rcond=None)[0].T
        r = r * float(np.max(np.abs(np.linalg.eigvals(t))))
    return r


def _after_transient(k: np.ndarray, y: np.ndarray, min_points: int) -> int:
    """Index where the transient is over (see the module docstring, step 3)."""
    size = k.size // BLOCKS
    if size < 3:
        return 0
    fits = [_line(k[j * size:(j + 1) * size].astype(float), y[j * size:(j + 1) * size]) for j in range(BLOCKS)]
    ref, ref_se = fits[-1]
    start = BLOCKS - 1
    for j in range(BLOCKS - 2, -1, -1):
        s = fits[j][0]
        if abs(s - ref) > 3 * math.sqrt(2) * ref_se + 0.01 * abs(ref):
            break
        start = j
    return min(start * size, max(k.size - min_points, 0))
