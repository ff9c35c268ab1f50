"""Plain NumPy references: vectorised over the coordinates, in place (ufuncs with ``out=``, no
temporaries), one Python loop over steps.

These retype the two update rules on purpose: they are the competitor a user would write by hand
(benchmarks are outside the package; run.py checks them against ``optanalysis.simulate``).
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["make_numpy"]


def make_numpy(rule: str, params: dict, h, x0, xstar):
    """A ``run(steps)`` closure that continues one NumPy trajectory, and a ``state()`` getter.

    Parameters
    ----------
    rule : {"heavy_ball", "adam"}
    params : dict
        Hyperparameters (``lr``, ``momentum`` or ``lr``, ``beta1``, ``beta2``, ``eps``).
    h, x0, xstar : numpy.ndarray
        Diagonal of the Hessian, start, minimiser (same dtype, shape ``(d,)``).
    """
    if rule == "heavy_ball":
        return _heavy_ball(h, x0, xstar, **params)
    if rule == "adam":
        return _adam(h, x0, xstar, **params)
    raise ValueError(f"rule must be 'heavy_ball' or 'adam', got {rule!r}")


def _heavy_ball(h, x0, xstar, lr, momentum):
    x, x_prev = x0.copy(), x0.copy()
    g, tmp = np.empty_like(x), np.empty_like(x)

    def run(steps):
        for _ in range(steps):
            np.subtract(x, xstar, out=g)
            np.multiply(g, h, out=g)
            np.subtract(x, x_prev, out=tmp)
            np.multiply(tmp, momentum, out=tmp)
            np.multiply(g, lr, out=g)
            np.subtract(tmp, g, out=tmp)  # momentum (x - x_prev) - lr g
            np.copyto(x_prev, x)
            np.add(x, tmp, out=x)

    return run, lambda: (x, x_prev)


def _adam(h, x0, xstar, lr, beta1, beta2, eps):
    x, m, v = x0.copy(), np.zeros_like(x0), np.zeros_like(x0)
    g, tmp = np.empty_like(x), np.empty_like(x)
    count = [0]

    def run(steps):
        for _ in range(steps):
            count[0] += 1
            t = count[0]
            np.subtract(x, xstar, out=g)
            np.multiply(g, h, out=g)
            np.subtract(g, m, out=tmp)
            np.multiply(tmp, 1 - beta1, out=tmp)
            np.add(m, tmp, out=m)  # torch's lerp
            np.multiply(v, beta2, out=v)
            np.multiply(g, g, out=tmp)
            np.multiply(tmp, 1 - beta2, out=tmp)
            np.add(v, tmp, out=v)
            np.sqrt(v, out=tmp)
            np.divide(tmp, math.sqrt(1 - beta2**t), out=tmp)
            np.add(tmp, eps, out=tmp)
            np.divide(m, tmp, out=tmp)
            np.multiply(tmp, lr / (1 - beta1**t), out=tmp)
            np.subtract(x, tmp, out=x)

    return run, lambda: (x, m, v)
