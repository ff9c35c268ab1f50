"""The compute floor of one element-step: operation counts times measured per-element costs.

Costs are measured in the same run with Numba loops over L1-resident arrays (vectorised like a
good kernel would be, one thread): ``a = b * c + a`` (two flops), ``a = sqrt(b)``, ``a = b / c``.
Counts are read off the rules as compiled without fast-math (no FMA contraction; loop-invariant
scalars such as 1 - beta1, lr / (1 - beta1^t) and sqrt(1 - beta2^t) hoisted; divisions stay
divisions), plus g = h (x - xstar):

* heavy ball: g 2, x - lr g + momentum (x - x_prev) 5  -> 7 add/mul;
* Adam (torch form, weight decay 0 still computed): g 2, g + wd x 2, m lerp 3, v 4,
  sqrt(v) / sqrt(bc2) + eps 1 add + 1 div + 1 sqrt, step scale * m 1, x - ... 1
  -> 14 add/mul, 2 div, 1 sqrt;
* the kernel's per-step float64 loss 0.5 h e^2 with e = x - xstar and its summation: 5 add/mul.
"""
from __future__ import annotations

import math
import time

import numpy as np
from numba import njit

__all__ = ["OP_COUNTS", "LOSS_FLOPS", "primitive_costs", "compute_floor_ns"]

OP_COUNTS = {"heavy_ball": {"flop": 7, "div": 0, "sqrt": 0},
             "adam": {"flop": 14, "div": 2, "sqrt": 1}}
LOSS_FLOPS = 5
_N = 512  # 3 arrays of 512 float64 = 12 KiB: L1-resident


# ``zero`` has the arrays' dtype (a float literal would promote float32 work to float64); adding
# ``a[i] * zero`` reads ``a`` so that no repetition is a dead store.
@njit(cache=True, error_model="numpy")
def _muladd(a, b, c, zero, reps):
    for _ in range(reps):
        for i in range(a.size):
            a[i] = b[i] * c[i] + a[i]


@njit(cache=True, error_model="numpy")
def _sqrt(a, b, c, zero, reps):
    for _ in range(reps):
        for i in range(a.size):
            a[i] = np.sqrt(b[i] + a[i] * zero)


@njit(cache=True, error_model="numpy")
def _pow(a, b, c, zero, reps):
    for _ in range(reps):
        for i in range(a.size):
            a[i] = b[i] ** c[i] + a[i] * zero


@njit(cache=True, error_model="numpy")
def _div(a, b, c, zero, reps):
    for _ in range(reps):
        for i in range(a.size):
            a[i] = b[i] / c[i] + a[i] * zero


def _ns_per_element(fn, dtype, reps=20000):
    if fn is _pow:
        reps //= 20  # libm pow: tens of ns each
    a, b, c = (np.full(_N, v, dtype) for v in (0.0, 2.0, 1.5))
    zero = np.dtype(dtype).type(0)
    fn(a, b, c, zero, 1)  # compile
    best = math.inf
    for _ in range(5):
        start = time.perf_counter()
        fn(a, b, c, zero, reps)
        best = min(best, time.perf_counter() - start)
    return best / (reps * _N) * 1e9


def primitive_costs(dtype) -> dict:
    """ns per element of one flop, one division, one square root and one ``x ** y`` (one
    thread, L1).

    The division, square-root and power loops also do one multiply-add of overhead (to keep
    every repetition alive); it is subtracted.  ``pow`` is what ``beta ** t`` costs when it is
    evaluated per element, or once per (problem, step) in a sweep of small problems.
    """
    flop = _ns_per_element(_muladd, dtype) / 2
    return {"flop": flop,
            "div": max(0.0, _ns_per_element(_div, dtype) - 2 * flop),
            "sqrt": max(0.0, _ns_per_element(_sqrt, dtype) - 2 * flop),
            "pow": max(0.0, _ns_per_element(_pow, dtype) - 2 * flop)}


def compute_floor_ns(rule: str, costs: dict, *, per_step_loss: bool = False) -> float:
    """Estimated ns per element-step on one thread from ``OP_COUNTS`` and ``costs``."""
    counts = OP_COUNTS[rule]
    flops = counts["flop"] + (LOSS_FLOPS if per_step_loss else 0)
    return flops * costs["flop"] + counts["div"] * costs["div"] + counts["sqrt"] * costs["sqrt"]
