"""Adagrad on 1/2 h x^2: the compiled rule against its symbolic map and the asymptotics of its
frozen-s linearisation.

Theory
    The per-coordinate recursion (torch: x <- x - clr_t h x/(sqrt(s) + eps), s <- s + h^2 x^2,
    clr_t = lr/(1 + (t - 1) lr_decay)) is 1-D and its effective lr clr_t/(sqrt(s_t) + eps) is
    non-increasing.  With lr_decay = 0 it tends to lr/(sqrt(s_oo) + eps) and the iterates converge
    linearly at the rate ``|1 - lr h/(sqrt(s_oo) + eps)|``; with torch's built-in decay the step falls
    like 1/t and x_t decays like a power of t.  Both come from the frozen-s linearisation
    (:func:`optanalysis.symbolic.linearization.linearize`).

References
    J. Duchi, E. Hazan, Y. Singer (2011), Adaptive subgradient methods for online learning and
    stochastic optimization, JMLR; docs/reference.md sections 3.6 and 6.4.
"""
from __future__ import annotations

import math
from functools import lru_cache

import mpmath
import numpy as np
import sympy

from ..checks import integer
from ..rules import get_rule
from ..simulation import simulate
from ..symbolic.core import H, T, update
from ..symbolic.linearization import LAM, linearize
from .adaptive import _positive_list

__all__ = ["adagrad_trajectory"]


@lru_cache(maxsize=None)
def _adagrad_map():
    """The symbolic Adagrad update (weight_decay = 0) as an mpmath function of
    (x, s, h, lr, lr_decay, eps, t)."""
    state, new, hp = update("adagrad", t=T, weight_decay=0)
    args = [*state, H, hp["lr"], hp["lr_decay"], hp["eps"], T]
    return sympy.lambdify(args, list(new), "mpmath")


@lru_cache(maxsize=None)
def _adagrad_asymptotics(lr_decay: float):
    """From the frozen-s linearisation x <- m(lam, t) x (lam = h/P, P = sqrt(s) + eps): the
    asymptotic contraction |m| (lr_decay = 0) or the power-law exponent lim t (1 - m)
    (lr_decay > 0: x_t ~ t^-exponent), as functions of (lam, hyperparameters)."""
    lin = linearize("adagrad", lr_decay=lr_decay)
    (m,) = lin.matrix
    expr = sympy.Abs(m) if lr_decay == 0 else sympy.limit(T * (1 - m), T, sympy.oo)
    # x_{t+1} = (1 - a/tau_t) x_t with tau_t = a/(1 - m): x_t ~ tau_t^-a (tau = t - 1 + 1/lr_decay).
    tau = expr / (1 - m)
    args = sorted((expr.free_symbols | tau.free_symbols) - {LAM, T}, key=str)
    frozen = lin.frozen_symbols()[0]
    p_args = sorted(lin.preconditioner.free_symbols - {frozen}, key=str)
    return (sympy.lambdify([LAM, *args], expr, "mpmath"), sympy.lambdify([LAM, T, *args], tau, "numpy"),
            [str(a) for a in args],
            sympy.lambdify([frozen, *p_args], lin.preconditioner, "mpmath"), [str(a) for a in p_args])


def adagrad_trajectory(lr=0.1, h=2.0, *, x0=1.0, eps=0.0, s0=0.0, lr_decay=0.0, steps=400, dps=50) -> dict:
    """Adagrad on 1/2 h x^2: the kernel against the symbolic map iterated at ``dps`` digits.

    The per-coordinate recursion (torch: x <- x - clr_t h x/(sqrt(s) + eps), s <- s + h^2 x^2,
    clr_t = lr/(1 + (t - 1) lr_decay)) is 1-D.  Its effective lr clr_t/(sqrt(s_t) + eps) is
    non-increasing.  With lr_decay = 0 it tends to lr/(sqrt(s_oo) + eps) and the iterates converge
    linearly at the rate ``|1 - lr h/(sqrt(s_oo) + eps)|``; with the built-in decay lr_decay > 0 the
    step falls like 1/t and x_t decays like a power tau_t^-a, a = lr h/(lr_decay (sqrt(s_oo) + eps)),
    tau_t = t - 1 + 1/lr_decay; consistent when a > 1/2 (then sum x_t^2, hence s, converges; for
    a <= 1/2 s grows without bound and x decays more slowly than the frozen-s power).  Both come
    from the frozen-s linearisation (:func:`optanalysis.symbolic.linearization.linearize`).

    Parameters
    ----------
    lr, h, x0 : float > 0
    eps, s0, lr_decay : float >= 0
        Adagrad's eps, initial accumulator and built-in inverse-time decay.
    steps : int >= 8
    dps : int >= 20
        Significant digits of the reference iteration.

    Returns
    -------
    dict
        ``predicted`` and ``observed`` (steps + 1,) iterates, ``max_rel_err`` (relative to
        max ``|x|``), ``s_final`` (high-precision s after ``steps``), and over the last quarter:
        lr_decay = 0: ``rate_predicted`` (from s_final) and ``rate_observed`` (geometric mean of
        ``|x_{k+1}/x_k|``); lr_decay > 0: ``exponent_predicted`` and ``exponent_observed`` (slope of
        -log|x_t| against log tau_t).  Observed values are NaN if x reached 0 exactly.
    """
    lr, h, x0 = _positive_list((lr, h, x0), "lr, h, x0")
    params = get_rule("adagrad").params(lr=lr, eps=eps, initial_accumulator_value=s0, lr_decay=lr_decay)
    integer(steps, "steps", 8)  # the rate uses the last quarter
    integer(dps, "dps", 20)
    step = _adagrad_map()
    asym, tau_fn, asym_args, precond, p_args = _adagrad_asymptotics(params["lr_decay"])
    with mpmath.workdps(dps):
        x, s = mpmath.mpf(x0), mpmath.mpf(s0)
        pred = [x]
        for t in range(1, steps + 1):
            x, s = step(x, s, mpmath.mpf(h), mpmath.mpf(lr), mpmath.mpf(params["lr_decay"]),
                        mpmath.mpf(params["eps"]), t)
            pred.append(x)
        lam = h / precond(s, *[mpmath.mpf(params[a]) for a in p_args])
        theory = float(asym(lam, *[mpmath.mpf(params[a]) for a in asym_args]))
        predicted = np.array([float(v) for v in pred])
        s_final = float(s)
    res = simulate("adagrad", params, x0=np.array([x0]), hessian_diag=np.array([h]), steps=steps,
                   record_x=True)
    observed = res.xs[:, 0]
    q = steps - steps // 4
    late = observed[q:]
    out = {"predicted": predicted, "observed": observed,
           "max_rel_err": float(np.max(np.abs(observed - predicted)) / np.max(np.abs(predicted))),
           "s_final": s_final}
    reached_zero = bool(np.any(late == 0))  # e.g. x0 = lr with eps = 0: one sign step lands on 0
    if params["lr_decay"] == 0:
        out["rate_predicted"] = theory
        out["rate_observed"] = math.nan if reached_zero else float(
            np.exp(np.mean(np.log(np.abs(late[1:] / late[:-1])))))
    else:
        out["exponent_predicted"] = theory
        tau = tau_fn(float(lam), np.arange(q, steps + 1, dtype=float), *[params[a] for a in asym_args])
        out["exponent_observed"] = math.nan if reached_zero else float(
            -np.polyfit(np.log(tau), np.log(np.abs(late)), 1)[0])
    return out
