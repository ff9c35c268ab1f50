"""Stability regions in the (lr*h, momentum) plane, evaluated from the derived conditions.

For a rule whose characteristic polynomial depends on lr and h only through lr*h (gd, heavy
ball, Nesterov) the plane (lr*h, momentum) at h = 1 describes every eigen-direction.  The arrays
come from the :class:`~optanalysis.symbolic.derivation.Derivation`: the stable mask from its
simplified stability conditions (lambdified), the boundary from its ``lr_bound``, the
complex-root region from the zeros of its discriminant in lr, and the spectral radius from
:func:`optanalysis.symbolic.numeric.root_radius`.
"""
from __future__ import annotations

import numpy as np
import sympy

from .core import H
from .derivation import derive
from .numeric import root_radius

__all__ = ["stability_map"]


def _fn(expr, syms):
    return sympy.lambdify(syms, expr, "numpy")


def stability_map(rule, x, momentum=None) -> dict:
    """Arrays describing the stability region of ``rule`` at h = 1.

    Parameters
    ----------
    rule : str
    x : array_like
        Values of lr*h (> 0).
    momentum : array_like or None
        Momentum values (rules with a ``momentum`` hyperparameter); None for gd.

    Returns
    -------
    dict
        ``x``, ``momentum``, ``rho`` (spectral radius, shape (len(momentum), len(x)) or (len(x),)),
        ``stable`` (from the derived conditions), ``boundary`` (lr*h at the stability boundary per
        momentum), ``complex`` ((low, high) lr*h of the complex-root interval per momentum, NaN
        where there is none), ``expressions`` (the SymPy strings used).
    """
    d = derive(rule)
    x = np.asarray(x, dtype=float)
    lr = d.hyper["lr"]
    m_sym = d.hyper.get("momentum")
    at1 = {H: 1}
    cond = sympy.And(*d.stability).subs(at1)
    bound = d.lr_bound.subs(at1) if d.lr_bound is not None else sympy.oo
    zeros = [z.subs(at1) for z in d.discriminant_zeros.get("lr", ())]
    out = {"rule": d.rule, "x": x,
           "expressions": {"stability": [str(c) for c in d.stability], "lr_bound": str(d.lr_bound),
                           "complex_boundaries_lr": [str(z) for z in d.discriminant_zeros.get("lr", ())]}}
    if momentum is None or not isinstance(m_sym, sympy.Symbol):
        out["momentum"] = None
        out["rho"] = root_radius(rule, 1.0, lr=x)
        out["stable"] = np.broadcast_to(_fn(cond, [lr])(x), x.shape).astype(bool)
        out["boundary"] = float(bound)
        out["complex"] = None
        return out
    m = np.asarray(momentum, dtype=float)
    X, M = np.meshgrid(x, m)
    out["momentum"] = m
    out["rho"] = root_radius(rule, 1.0, lr=X, momentum=M)
    out["stable"] = np.broadcast_to(_fn(cond, [lr, m_sym])(X, M), X.shape).astype(bool)
    out["boundary"] = np.broadcast_to(_fn(bound, [m_sym])(m), m.shape).astype(float)
    if len(zeros) == 2:
        z = np.array([np.broadcast_to(_fn(zz, [m_sym])(m), m.shape) for zz in zeros], dtype=float)
        out["complex"] = np.sort(z, axis=0)
    else:
        out["complex"] = None
    return out
