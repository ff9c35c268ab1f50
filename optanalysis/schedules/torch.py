"""torch.optim.lr_scheduler's schedulers, chained as torch computes them.

torch schedulers are *chainable*: each step multiplies (or, for cosine, affinely updates) the
current lr.  The recursion is reproduced as torch computes it (cumulative products; the cosine
recursion step by step), so values agree with torch to the last bit or nearly, not only with the
closed forms (they drift apart by ~1e-14 and by far more near a cosine minimum).  The lr of step
``k`` is the scheduler's value at ``last_epoch = k`` in the documented loop
``optimizer.step(); scheduler.step()``.

Reference: PyTorch ``torch/optim/lr_scheduler.py``; semantics in docs/reference.md section 8.
"""
from __future__ import annotations

import math
from collections import Counter

import numpy as np

from ..hyper import REQUIRED, Int, ListOf, Real, nonnegative, positive
from .base import Kind, Schedules, open_loop, switch_points

__all__ = ["KINDS"]


def _chain(base, factors):
    """torch's chained lr: lr_0 = base*f_0, lr_k = lr_{k-1}*f_k (sequential products, as torch)."""
    return np.multiply.accumulate(np.concatenate(([base], factors)))[1:]


def _constant(p):
    return lambda b, n: np.full(n, b)


def _step(p):
    def fn(b, n):
        k = np.arange(n)
        return _chain(b, np.where((k > 0) & (k % p["step_size"] == 0), p["gamma"], 1.0))
    return fn


def _multistep(p):
    def fn(b, n):
        f = np.ones(n)
        for m, c in Counter(p["milestones"]).items():  # repeated milestones multiply (Counter)
            if m < n:
                f[m] = p["gamma"] ** c
        return _chain(b, f)
    return fn


def _exponential(p):
    def fn(b, n):
        f = np.full(n, p["gamma"])
        f[:1] = 1.0
        return _chain(b, f)
    return fn


def _inverse_time(p):
    return lambda b, n: b * (1.0 / (1.0 + p["decay"] * np.arange(n)))  # LambdaLR: base * lambda(k)


def _polynomial(p):
    t, power = p["total_iters"], p["power"]

    def fn(b, n):
        k = np.arange(n)
        f = np.ones(n)
        m = (k >= 1) & (k <= t)
        f[m] = ((1.0 - k[m] / t) / (1.0 - (k[m] - 1) / t)) ** power
        return _chain(b, f)
    return fn


def _linear(p):
    s, e, t = p["start_factor"], p["end_factor"], p["total_iters"]

    def fn(b, n):
        k = np.arange(n)
        f = np.ones(n)
        f[:1] = s
        m = (k >= 1) & (k <= t)
        f[m] = 1.0 + (e - s) / (t * s + (k[m] - 1) * (e - s))
        return _chain(b, f)
    return fn


def _constant_factor(p):
    def fn(b, n):
        f = np.ones(n)
        f[:1] = p["factor"]
        if p["total_iters"] < n:
            f[p["total_iters"]] = 1.0 / p["factor"]
        return _chain(b, f)
    return fn


def _cosine_fn(p, restart):
    t, eta = p["T_max"], p["eta_min"]

    def fn(b, n):
        # torch's recursion, step by step with math.cos (as torch): the closed form differs from
        # it by far more than 1e-13 relative where the lr approaches eta_min.
        out = np.empty(n)
        lr = eta + (b - eta) * (1 + math.cos(0 * math.pi / t)) / 2 if restart else b
        for k in range(n):
            if k > 0:
                if (k - 1 - t) % (2 * t) == 0:
                    lr = lr + (b - eta) * (1 - math.cos(math.pi / t)) / 2
                else:
                    lr = ((1 + math.cos(math.pi * k / t)) / (1 + math.cos(math.pi * (k - 1) / t))
                          * (lr - eta) + eta)
            out[k] = lr
        return out
    return fn


def _sequential(p):
    subs, milestones = switch_points("sequential", p, "milestones")

    def fn(b, n):
        out = np.empty(n)
        bounds = (0, *milestones, n)
        for i, s in enumerate(subs):
            lo, hi = min(bounds[i], n), min(max(bounds[i + 1], bounds[i]), n)
            if hi > lo:
                out[lo:hi] = (s._restart if i else s._fn)(b, hi - lo)
        return out
    return fn


_FACTOR = dict(low=0.0, high=1.0, low_open=True)  # a multiplicative factor in (0, 1]
KINDS = (
    Kind("constant", "torch/optax", "lr_k = base_lr", (), open_loop(_constant)),
    Kind("step", "torch StepLR", "base_lr * gamma^floor(k/step_size)",
         (Int("step_size", REQUIRED, 1), positive("gamma", 0.1)), open_loop(_step)),
    Kind("multistep", "torch MultiStepLR", "base_lr * gamma^#{milestones <= k} (repeats multiply)",
         (ListOf(Int("milestones", REQUIRED)), positive("gamma", 0.1)), open_loop(_multistep)),
    Kind("exponential", "torch ExponentialLR", "base_lr * gamma^k",
         (positive("gamma"),), open_loop(_exponential)),
    Kind("inverse_time", "torch LambdaLR(lambda k: 1/(1 + decay k))", "base_lr / (1 + decay k)",
         (nonnegative("decay", REQUIRED),), open_loop(_inverse_time)),
    Kind("polynomial", "torch PolynomialLR", "base_lr * (1 - min(k, total_iters)/total_iters)^power",
         (Int("total_iters", 5, 1), nonnegative("power", 1.0)), open_loop(_polynomial)),
    Kind("cosine", "torch CosineAnnealingLR (chained; rises again after T_max)",
         "eta_min + (base_lr - eta_min)(1 + cos(pi k/T_max))/2",
         (Int("T_max", REQUIRED, 1), nonnegative("eta_min", 0.0)),
         open_loop(lambda p: _cosine_fn(p, False), lambda p: _cosine_fn(p, True))),
    Kind("linear", "torch LinearLR (lr_0 = base_lr*start_factor, unlike its docstring)",
         "base_lr * (s + (e - s) min(k, total_iters)/total_iters)",
         (Real("start_factor", 1.0 / 3, **_FACTOR), Real("end_factor", 1.0, 0.0, 1.0),
          Int("total_iters", 5, 1)), open_loop(_linear)),
    Kind("constant_factor", "torch ConstantLR", "base_lr * (factor if k < total_iters else 1)",
         (Real("factor", 1.0 / 3, **_FACTOR), Int("total_iters", 5, 1)), open_loop(_constant_factor)),
    Kind("sequential", "torch SequentialLR (each schedule restarts at its milestone)",
         "schedule i on k - milestones[i-1]",
         (Schedules("schedules"), ListOf(Int("milestones", REQUIRED, 1), increasing=True)),
         open_loop(_sequential)),
)
