"""A noisy quadratic model calibrated on a loss curve: power-law spectrum, power-law initial error, noise.

The model (Zhang et al. 2019, the NQM of :mod:`optanalysis.theory.noisy`): SGD on a diagonal quadratic with
curvatures ``h_i = i^(-alpha)``, ``i = 1 .. d``, started at ``m_i`` with ``h_i m_i^2 / 2 = E0 i^(-beta) / Z``
(``Z = sum_i i^(-beta)``, so ``E0`` is the initial excess loss), gradient noise of variance ``c_i = sigma2 h_i``
(noise proportional to curvature, Zhang et al.'s choice) and lr ``kappa * lr_k``, plus an irreducible offset
``L_inf``.  Per direction the mean and variance follow ``m <- (1 - eta h) m``, ``v <- (1 - eta h)^2 v + eta^2 c``
and the expected loss is ``L_inf + sum_i h_i (m_i^2 + v_i) / 2``: :func:`nqm_loss`, a compiled loop over the
steps equal to ``optanalysis.theory.noisy.expected_loss("gd", ...)`` for the same quadratic (tested), fast
enough for least squares on 5 10^4-step curves.

Six scalars, fitted by least squares (:func:`fit_nqm`) on one or several curves of one problem: ``L_inf``,
``log kappa``, ``alpha``, ``log E0``, ``beta``, ``log sigma2``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np

__all__ = ["NQM", "nqm_loss", "fit_nqm", "DIMENSION", "STARTS"]

DIMENSION = 100


@numba.njit(cache=True)
def _expected_loss(h, m0, c, eta, record):  # pragma: no cover - compiled
    # Stretches of equal lr between records are applied in closed form: n steps at lr e map the mean
    # to r^n m and the variance to v* + r^(2n) (v - v*), v* = e^2 c / (1 - r^2), r = 1 - e h (the
    # fixed point of v <- r^2 v + e^2 c); one step at a time otherwise.
    d = h.size
    n_steps = eta.size
    m = m0.copy()
    v = np.zeros(d)
    out = np.empty(record.size)
    j = 0
    k = 0
    while True:
        while j < record.size and record[j] == k:
            s = 0.0
            for i in range(d):
                s += 0.5 * h[i] * (m[i] * m[i] + v[i])
            out[j] = s
            j += 1
        if k == n_steps or j == record.size:
            break
        e = eta[k]
        stop = record[j]
        n = 1
        while k + n < stop and eta[k + n] == e:
            n += 1
        for i in range(d):
            r = 1.0 - e * h[i]
            if n == 1:
                m[i] = r * m[i]
                v[i] = r * r * v[i] + e * e * c[i]
            else:
                r2 = r * r
                m[i] = r ** n * m[i]
                if r2 == 1.0:
                    v[i] = v[i] + n * e * e * c[i]
                else:
                    vs = e * e * c[i] / (1.0 - r2)
                    v[i] = vs + r2 ** n * (v[i] - vs)
        k += n
    return out


@dataclass(frozen=True)
class NQM:
    """The calibrated model's six scalars (see the module docstring) and its dimension ``d``."""

    offset: float
    kappa: float
    alpha: float
    e0: float
    beta: float
    sigma2: float
    d: int = DIMENSION

    def quadratic(self) -> tuple:
        """``(h, m0, c)``: curvatures, initial distance per direction, noise variances."""
        i = np.arange(1, self.d + 1, dtype=np.float64)
        h = i ** -self.alpha
        share = i ** -self.beta
        m0 = np.sqrt(2.0 * self.e0 * share / share.sum() / h)
        return h, m0, self.sigma2 * h

    def loss(self, lrs, steps) -> np.ndarray:
        """Expected loss after ``steps`` (increasing ints in 0 .. len(lrs)) SGD steps at lrs ``kappa * lrs``."""
        return self.offset + nqm_loss(*self.quadratic(), self.kappa * np.asarray(lrs, dtype=np.float64), steps)


def nqm_loss(h, m0, c, eta, steps) -> np.ndarray:
    """Exact expected loss ``sum_i h_i (m_i^2 + v_i) / 2`` of SGD on the diagonal NQM after each of ``steps``.

    Parameters
    ----------
    h, m0, c : array_like
        Curvatures, initial mean offsets from the minimiser, gradient-noise variances (one per direction).
    eta : array_like
        The lr of steps 0, 1, ... (finite).
    steps : array_like of int
        Increasing step counts in 0 .. len(eta) at which the loss is reported.

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    ValueError
        Shapes that disagree, non-finite lrs, or steps that are not increasing within 0 .. len(eta).
    """
    h, m0, c = (np.ascontiguousarray(x, dtype=np.float64) for x in (h, m0, c))
    eta = np.ascontiguousarray(eta, dtype=np.float64)
    rec = np.ascontiguousarray(steps, dtype=np.int64)
    if not (h.shape == m0.shape == c.shape and h.ndim == 1):
        raise ValueError("h, m0 and c must be 1-D arrays of one length")
    if eta.ndim != 1 or not np.all(np.isfinite(eta)):
        raise ValueError("eta must be a 1-D array of finite lrs")
    if rec.ndim != 1 or np.any(np.diff(rec) <= 0) or rec.size and (rec[0] < 0 or rec[-1] > eta.size):
        raise ValueError(f"steps must be increasing integers in [0, {eta.size}]")
    return _expected_loss(h, m0, c, eta, rec)


_LOWER = np.array([-np.inf, math.log(1e-2), 0.05, math.log(1e-3), 0.0, math.log(1e-12)])
_UPPER = np.array([np.inf, math.log(1e5), 4.0, math.log(1e2), 4.0, math.log(1e3)])


def _model(x, d) -> NQM:
    return NQM(x[0], math.exp(x[1]), x[2], math.exp(x[3]), x[4], math.exp(x[5]), d)


STARTS = ((1.5, 0.01), (3.0, 0.01), (1.5, 0.3), (3.0, 0.3))  # (alpha, sigma2) to start from, the best kept


def fit_nqm(curves, *, d=DIMENSION, starts=STARTS) -> NQM:
    """Least-squares calibration of the six scalars on one or more loss curves of the same problem.

    Parameters
    ----------
    curves : sequence of (lrs, steps, loss)
        Per curve: the run's lr at steps 0, 1, ... (AdamW's lr: the model's SGD lr is ``kappa`` times it),
        the steps (increasing, within 0 .. len(lrs)) and the loss observed there.  All curves share the six
        scalars (several base lrs of one problem).
    d : int
        Number of directions of the model.
    starts : sequence of (alpha, sigma2)
        Starting exponents and noise levels (the other scalars start from the data); the fit with the
        smallest residual is kept (the least-squares surface has flat valleys).

    Returns
    -------
    NQM

    Raises
    ------
    ValueError
        If the arrays disagree or no start gives a finite fit.
    """
    from scipy.optimize import least_squares

    data = []
    for lrs, steps, loss in curves:
        steps, loss = np.asarray(steps, dtype=np.int64), np.asarray(loss, dtype=np.float64)
        if steps.shape != loss.shape or steps.ndim != 1 or steps.size == 0:
            raise ValueError("each curve needs 1-D steps and loss of one length")
        data.append((np.asarray(lrs, dtype=np.float64), steps, loss))
    if not data:
        raise ValueError("curves: at least one (lrs, steps, loss) is required")
    lr_max = max(float(lrs.max()) for lrs, _, _ in data)
    last = min(float(loss[-1]) for _, _, loss in data)
    first = max(float(loss[0]) for _, _, loss in data)

    def residuals(x):
        model = _model(x, d)
        with np.errstate(over="ignore", invalid="ignore"):
            r = np.concatenate([model.loss(lrs, steps) - loss for lrs, steps, loss in data])
        return np.where(np.isfinite(r), np.clip(r, -1e6, 1e6), 1e6)  # a diverging start stays finite

    best = None
    for alpha, sigma2 in starts:
        # a unit curvature relaxes in ~1/(kappa lr_max) steps; the offset below the lowest loss
        x0 = np.array([last - 0.1, math.log(1.0 / lr_max), alpha, math.log(max(first - last, 1e-2)), 1.5,
                       math.log(sigma2)])
        fit = least_squares(residuals, np.clip(x0, _LOWER + 1e-9, _UPPER - 1e-9), bounds=(_LOWER, _UPPER),
                            x_scale="jac", max_nfev=300)
        if best is None or fit.cost < best.cost:
            best = fit
    if not np.all(np.abs(best.fun) < 1e6):
        raise ValueError("fit_nqm: no start gives a finite fit (kappa * lr * h_max >= 2 everywhere)")
    return _model(best.x, d)
