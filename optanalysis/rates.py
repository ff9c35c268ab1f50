"""Observed convergence rates: a least-squares fit of log(loss) over a stated window.

The loss of a linear rule behaves like C k^m rho^(2k) (ripples aside): an initial transient
while the slower modes take over, then a straight line in log scale, until it reaches the
floating-point floor (the iterate carries a relative rounding error ~eps, so the loss cannot go
much below eps^2 times its initial value).  :func:`fit_rate` therefore

1. refuses diverged runs (a non-finite loss or a reported divergence) and runs already at the floor;
2. cuts the trajectory at the first loss below ``floor`` x loss_0 (default 1e-24, ~1e7 above eps^2);
3. drops the transient: the usable range is split into 8 blocks whose log-slopes are fitted; the
   window starts at the first block from which every later block agrees with the last one within
   3 sqrt(2) standard errors of the last block's slope plus 1 % of it.  Ripples of complex
   eigenvalues are stationary, so they inflate the last block's standard error as much as any
   other block's and do not count as transient; a transient block is curved, which the last
   block is not, so its own (inflated) standard error is deliberately not used;
4. fits log(loss) = a + k log(rate) by least squares over the window and reports the slope's
   standard error from the residuals (residuals are correlated — ripples — so treat it as a scale
   of the uncertainty, not a calibrated confidence).

A fit with fewer than ``min_points`` points is refused as too short.  Results are a
:class:`RateFit`; ``rate`` is the per-step factor of the *loss* (``iterate_rate`` = its square
root is the per-step factor of ||x - x*||).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .checks import integer

__all__ = ["RateFit", "fit_rate", "FLOOR", "BLOCKS"]

FLOOR = 1e-24
BLOCKS = 8


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


def fit_rate(loss, *, record_every=1, window=None, floor=FLOOR, min_points=8, diverged_at=None) -> RateFit:
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
    """
    y = np.asarray(loss, dtype=float)
    if y.ndim != 1:
        raise ValueError(f"loss must be a 1-D array, got shape {y.shape}")
    integer(record_every, "record_every", 1)
    integer(min_points, "min_points", 3)
    if not (isinstance(floor, (int, float)) and 0 < floor < 1):
        raise ValueError(f"floor must be a number in (0, 1), got {floor!r}")
    if diverged_at is not None:
        return _refuse(f"diverged at step {diverged_at}")
    bad = np.flatnonzero(~np.isfinite(y))
    if bad.size:
        return _refuse(f"diverged at step {int(bad[0]) * record_every} (non-finite loss)")
    if np.any(y < 0):
        raise ValueError("loss must be >= 0")
    if y.size == 0 or y[0] == 0:
        return _refuse("at the floor: the initial loss is 0")
    low = np.flatnonzero(y <= floor * y[0])
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
        i0, i1 = _after_transient(steps[:end], np.log(y[:end]), min_points), end
    if i1 - i0 < min_points:
        return _refuse(f"too short: {i1 - i0} points in the window, need >= {min_points}", i1 - i0)
    slope, se = _line(steps[i0:i1].astype(float), np.log(y[i0:i1]))
    rate = math.exp(slope)
    return RateFit(rate, rate * se, (int(steps[i0]), int(steps[i1 - 1])), i1 - i0, None)


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
