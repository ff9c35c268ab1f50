"""The online convex problem of Reddi, Kale, Kumar (2018), run with the rules' own Adam step.

Model
    On the online problem over F = [-1, 1] with linear losses f_t(x) = C x when t mod 3 = 1 and
    -x otherwise (C > 2, so the best fixed point is x = -1), Adam with beta1 = 0,
    beta2 = 1/(1 + C^2), lr_t = lr/sqrt(t) and projection onto F converges to x = +1: its average
    regret tends to 2 (C - 2)/3 > 0.  AMSGrad (the running maximum of v) converges to -1 and its
    average regret tends to 0.  The stochastic variant f_t = 1010 x with probability 0.01, else
    -10 x (expected loss 0.2 x, optimum -1) also defeats Adam.

Method
    :func:`run_online` iterates ``optanalysis.rules.adam.step`` (torch semantics; ``amsgrad``
    flag) compiled with Numba inside a module-level loop, with the gradient of the
    step's linear loss, the lr lr/sqrt(t) and a projection onto [-bound, bound].  The paper's
    algorithm has no bias correction: that is the same step evaluated at t = oo (every
    beta**t -> 0), so ``bias_correction=False`` passes t = inf instead of retyping Adam.  With
    beta1 = 0 the first moment needs no correction; the second moment's sqrt(1 - beta2^t) only
    affects the first few steps.

    Why not :func:`optanalysis.simulation.simulate`: its problems are quadratics, whose gradient
    H (x - x*) the kernels compute from the iterate; here the gradient of step t is the slope
    of a linear loss, given in advance and independent of x, and every step ends with a
    projection onto [-bound, bound], which no rule or kernel of the quadratic model has.  The
    loop calls the same ``step`` function the kernels inline (:mod:`optanalysis.kernels.jitable`).
    The claims (Adam converges to the worst point, AMSGrad to the best) and their records are
    the study ``adam_nonconvergence``.

References
    S. J. Reddi, S. Kale, S. Kumar (2018), On the Convergence of Adam and Beyond, ICLR
    (Theorem 1 and Section 5); docs/reference.md section 6.5.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np

from ..checks import boolean, integer
from ..kernels import jitable  # noqa: F401 - makes the rules' steps callable from Numba code
from ..rules import RULES

__all__ = ["OnlineResult", "periodic_coefficients", "stochastic_coefficients", "run_online"]

_adam_step = RULES["adam"].step


# Not cache=True: Numba keys its disk cache on this file alone, so an edit of the inlined rule step
# would leave a stale compiled loop; compiling it takes about a second per process.
@numba.njit
def _run(coefs, x1, lr, beta1, beta2, eps, amsgrad, bias_correction, bound, xs_mean_from):
    """Projected Adam on the linear losses coefs[t-1] * x; returns (final x, sum of
    coefs[t-1] x_t, sum of x_t, mean of x_t for t > xs_mean_from)."""
    x, m, v, vmax = x1, 0.0, 0.0, 0.0
    total, x_sum, tail, count = 0.0, 0.0, 0.0, 0
    for k in range(coefs.shape[0]):
        t = k + 1
        total += coefs[k] * x
        x_sum += x
        if t > xs_mean_from:
            tail += x
            count += 1
        step_t = float(t) if bias_correction else math.inf
        x, m, v, vmax = _adam_step(x, m, v, vmax, coefs[k], lr / math.sqrt(t), beta1, beta2, eps, 0.0,
                                   amsgrad, step_t)
        x = min(max(x, -bound), bound)
    return x, total, x_sum, tail / max(count, 1)


@dataclass(frozen=True)
class OnlineResult:
    """One online run.

    Attributes
    ----------
    x_final : float
        The iterate after the last step.
    tail_mean : float
        Mean iterate over the last 10% of the steps.
    regret : float
        sum_t f_t(x_t) - min over ``|x|`` <= bound of sum_t f_t(x).
    average_regret : float
        regret / T.
    """

    x_final: float
    tail_mean: float
    regret: float
    average_regret: float


def periodic_coefficients(C=3.0, steps=300000, *, period=3, other=-1.0) -> np.ndarray:
    """Slopes of f_t(x) = C x when t mod period = 1, ``other`` x otherwise (t = 1..steps)."""
    for name, value in (("C", C), ("other", other)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ValueError(f"{name} must be a finite number, got {value!r}")
    integer(steps, "steps", 1)
    integer(period, "period", 2)
    t = np.arange(1, steps + 1)
    return np.where(t % period == 1, float(C), float(other))


def stochastic_coefficients(steps=300000, *, big=1010.0, other=-10.0, p=0.01, seed=0) -> np.ndarray:
    """Slopes of f_t(x) = big x with probability p, ``other`` x otherwise (seeded)."""
    integer(steps, "steps", 1)
    integer(seed, "seed", 0)
    if not (isinstance(p, (int, float)) and 0 < p < 1):
        raise ValueError(f"p must be in (0, 1), got {p!r}")
    rng = np.random.default_rng(seed)
    return np.where(rng.random(steps) < p, float(big), float(other))


def run_online(coefs, *, lr=0.5, beta1=0.0, beta2=0.1, eps=0.0, amsgrad=False, bias_correction=False,
               x1=0.0, bound=1.0, expected_slope=None) -> OnlineResult:
    """Projected Adam/AMSGrad (torch's rule, lr_t = lr/sqrt(t)) on linear losses coefs[t-1] x.

    Parameters
    ----------
    coefs : (T,) array_like of finite floats
        Gradient (slope) of each step's loss.
    lr : float > 0
    beta1, beta2 : float in [0, 1)
    eps : float >= 0
    amsgrad : bool
    bias_correction : bool
        torch's bias correction (True) or the paper's uncorrected algorithm (False, t = oo).
    x1 : float in [-bound, bound]
        Starting point.
    bound : float > 0
        The feasible set is [-bound, bound].
    expected_slope : float, optional
        For a stochastic problem: regret is measured on the expected loss expected_slope * x
        instead of the realised losses.

    Returns
    -------
    OnlineResult
    """
    coefs = np.asarray(coefs, dtype=np.float64)
    if coefs.ndim != 1 or coefs.size == 0 or not np.all(np.isfinite(coefs)):
        raise ValueError("coefs must be a non-empty 1-D array of finite numbers")
    params = RULES["adam"].params(lr=lr, beta1=beta1, beta2=beta2, eps=eps, amsgrad=amsgrad)
    boolean(bias_correction, "bias_correction")
    if not (isinstance(bound, (int, float)) and math.isfinite(bound) and bound > 0):
        raise ValueError(f"bound must be a finite number > 0, got {bound!r}")
    if not (isinstance(x1, (int, float)) and -bound <= x1 <= bound):
        raise ValueError(f"x1 must be in [-{bound:g}, {bound:g}], got {x1!r}")
    if expected_slope is not None and not (isinstance(expected_slope, (int, float))
                                           and math.isfinite(expected_slope)):
        raise ValueError(f"expected_slope must be None or a finite number, got {expected_slope!r}")
    steps = coefs.size
    x, total, x_sum, tail = _run(coefs, float(x1), params["lr"], params["beta1"], params["beta2"],
                                 params["eps"], params["amsgrad"], bias_correction, float(bound),
                                 steps - steps // 10)
    if expected_slope is None:
        best = -abs(coefs.sum()) * bound
    else:
        total = expected_slope * x_sum
        best = -abs(expected_slope) * bound * steps
    regret = total - best
    return OnlineResult(float(x), float(tail), float(regret), float(regret / steps))
