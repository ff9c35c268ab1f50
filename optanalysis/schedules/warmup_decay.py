"""The schedules of large-model training: warmup-stable-decay (WSD), cosine with a floor, and
constant-then-decay, in torch and optax terms.

WSD (Hägele et al. 2024, "Scaling laws and compute-optimal training beyond fixed training
durations"): a linear warmup from ``warmup_factor * base_lr`` to ``base_lr`` over ``warmup_steps``,
the constant ``base_lr``, then a cooldown over the last ``C = round(cooldown_fraction * total_steps)``
steps to ``final_factor * base_lr``, shaped ``linear`` (``1 - p``) or ``sqrt`` (``1 - sqrt(p)``) in the
cooldown's progress ``p = (k - T0)/C``, ``T0 = total_steps - C``.  The lr of step ``k`` is the factor at
``k`` (so the cooldown's last step, ``k = total_steps - 1``, has ``p = 1 - 1/C``, and ``final_factor`` is
reached at ``k = total_steps``), the convention of torch's ``LambdaLR`` and optax's ``join_schedules``,
and that of the training logs in ``optanalysis/data/lr_scheduling_124m`` (their logged lr at iteration
``i`` is this factor at ``k = i``).

- ``wsd``: torch ``LambdaLR(lambda k: factor(k))`` (lr = base_lr * factor(k)).
- ``wsd_optax``: ``join_schedules([linear_schedule(warmup_factor*b, b, warmup_steps), constant_schedule(b),
  cooldown], [warmup_steps, T0])`` with ``cooldown = linear_schedule(b, final_factor*b, C)`` or, for
  ``sqrt``, the callable ``c -> e + (b - e)(1 - sqrt(min(c, C)/C))`` (optax has no 1 - sqrt schedule).
- ``warmup_cosine``: torch ``LambdaLR``: the same warmup, then ``e + (1 - e)(1 + cos(pi (k - w)/(T - w)))/2``
  down to the floor ``e = final_factor`` at ``k = total_steps``, held after.  Its optax twin is
  ``warmup_cosine_optax`` (``end_value`` is the floor).
- ``constant_then_decay``: torch ``SequentialLR([LambdaLR(1), LinearLR(1, e, decay_steps) or
  CosineAnnealingLR(decay_steps, e*base_lr), LambdaLR(e)], milestones=[decay_start, decay_start +
  decay_steps])``, chained as torch computes it.
- ``constant_then_decay_optax``: ``join_schedules([constant_schedule(b), linear_schedule(b, e*b,
  decay_steps) or cosine_decay_schedule(b, decay_steps, alpha=e)], [decay_start])``.
"""
from __future__ import annotations

import numpy as np

from ..hyper import REQUIRED, Choice, Int, Real
from . import optax as _optax
from . import torch as _torch
from .base import Kind, open_loop

__all__ = ["KINDS_TORCH", "KINDS_OPTAX", "cooldown_steps"]


def cooldown_steps(p) -> int:
    """``C = round(cooldown_fraction * total_steps)``, checked against the warmup: ``warmup_steps + C
    <= total_steps``."""
    t, w = p["total_steps"], p["warmup_steps"]
    c = int(round(p["cooldown_fraction"] * t))
    if w + c > t:
        raise ValueError(f"warmup_steps + cooldown_fraction*total_steps must be <= total_steps, got "
                         f"{w} + {c} > {t}")
    return c


def _warmup(k, s, w):
    return s + (1.0 - s) * k / w


def _wsd_factor(p):
    """factor(k) of ``wsd`` as a vectorised function of the step array ``k``."""
    t, w, s, e, shape = (p["total_steps"], p["warmup_steps"], p["warmup_factor"], p["final_factor"],
                         p["shape"])
    c = cooldown_steps(p)
    t0 = t - c

    def factor(k):
        out = np.ones(k.shape)
        warm = k < w
        out[warm] = _warmup(k[warm], s, w)
        cool = (k >= t0) & (k < t)
        q = (k[cool] - t0) / c
        out[cool] = 1.0 - (1.0 - e) * q if shape == "linear" else e + (1.0 - e) * (1.0 - np.sqrt(q))
        out[k >= t] = e
        return out
    return factor


def _wsd(p):
    factor = _wsd_factor(p)
    return lambda b, n: b * factor(np.arange(n))  # LambdaLR: base_lr * lambda(k)


def _wsd_optax(p):
    t, w, s, e, shape = (p["total_steps"], p["warmup_steps"], p["warmup_factor"], p["final_factor"],
                         p["shape"])
    c = cooldown_steps(p)

    def cooldown(b, m):
        if c == 0:  # no cooldown: final_factor after total_steps, as the torch twin
            return np.full(m, e * b)
        if shape == "linear":
            return _optax._poly_optax(b, m, b, e * b, 1, c, 0)
        q = np.minimum(np.arange(m), c) / c
        return e * b + (b - e * b) * (1.0 - np.sqrt(q))

    def fn(b, n):
        warm = lambda b_, m: _optax._poly_optax(b_, m, s * b_, b_, 1, w, 0) if w else np.full(m, b_)  # noqa: E731
        return _optax._join([warm, lambda b_, m: np.full(m, b_), cooldown], [w, t - c], b, n)
    return fn


def _warmup_cosine(p):
    t, w, s, e = p["total_steps"], p["warmup_steps"], p["warmup_factor"], p["final_factor"]
    if w >= t:
        raise ValueError(f"warmup_cosine: warmup_steps must be < total_steps, got {w} >= {t}")

    def fn(b, n):
        k = np.arange(n)
        f = np.full(n, e)
        warm = k < w
        f[warm] = _warmup(k[warm], s, w)
        dec = (k >= w) & (k < t)
        f[dec] = e + (1.0 - e) * (1.0 + np.cos(np.pi * (k[dec] - w) / (t - w))) / 2.0
        return b * f
    return fn


def _constant_then_decay(p):
    s, d, e, shape = p["decay_start"], p["decay_steps"], p["final_factor"], p["shape"]

    def fn(b, n):
        out = np.full(n, b)  # LambdaLR(lambda k: 1.0)
        if n > s:
            m = min(n, s + d) - s
            if shape == "linear":  # LinearLR(1, e, d), restarted at its milestone (closed form = chain)
                sub = _torch._linear({"start_factor": 1.0, "end_factor": e, "total_iters": d})
            else:  # CosineAnnealingLR(d, e*b), restarted with its closed form at epoch 0
                sub = _torch._cosine_fn({"T_max": d, "eta_min": e * b}, True)
            out[s:s + m] = sub(b, m)
            out[s + d:] = b * e  # LambdaLR(lambda k: e)
        return out
    return fn


def _constant_then_decay_optax(p):
    s, d, e, shape = p["decay_start"], p["decay_steps"], p["final_factor"], p["shape"]

    def decay(b, m):
        if shape == "linear":
            return _optax._poly_optax(b, m, b, e * b, 1, d, 0)
        return _optax._cos_optax(b, m, b, d, e, 1.0)
    return lambda b, n: _optax._join([lambda b_, m: np.full(m, b_), decay], [s], b, n)


_TOTAL = Int("total_steps", REQUIRED, 1)
_WARMUP = Int("warmup_steps", 0, 0)
_WARMUP_FACTOR = Real("warmup_factor", 0.0, 0.0, 1.0, doc="lr of step 0 over base_lr")
_FINAL = Real("final_factor", 0.0, 0.0, 1.0, doc="final lr over base_lr")
_FRACTION = Real("cooldown_fraction", 0.2, 0.0, 1.0, doc="share of total_steps spent cooling down")
_WSD_SHAPE = Choice("shape", "linear", ("linear", "sqrt"))
_WSD_PARAMS = (_TOTAL, _WARMUP, _WARMUP_FACTOR, _FRACTION, _WSD_SHAPE, _FINAL)
_DECAY_SHAPE = Choice("shape", "linear", ("linear", "cosine"))
KINDS_TORCH = (
    Kind("wsd", "torch LambdaLR (warmup-stable-decay)",
         "warmup s -> 1 over w steps, 1, then 1 - (1 - e)p or e + (1 - e)(1 - sqrt p) over the last "
         "round(fraction T) steps", _WSD_PARAMS, open_loop(_wsd)),
    Kind("warmup_cosine", "torch LambdaLR (linear warmup, cosine to a floor)",
         "warmup s -> 1 over w steps, then e + (1 - e)(1 + cos(pi (k - w)/(T - w)))/2, e after T",
         (_TOTAL, _WARMUP, _WARMUP_FACTOR, _FINAL), open_loop(_warmup_cosine)),
    Kind("constant_then_decay", "torch SequentialLR([LambdaLR(1), LinearLR or CosineAnnealingLR, LambdaLR(e)])",
         "base_lr until decay_start, then linear or cosine to e*base_lr over decay_steps, then e*base_lr",
         (Int("decay_start", REQUIRED, 1), Int("decay_steps", REQUIRED, 1), _DECAY_SHAPE, _FINAL),
         open_loop(_constant_then_decay)),
)
KINDS_OPTAX = (
    Kind("wsd_optax", "optax join_schedules (warmup-stable-decay)",
         "linear_schedule warmup, constant_schedule, then linear_schedule or 1 - sqrt cooldown over the "
         "last round(fraction T) steps", _WSD_PARAMS, open_loop(_wsd_optax)),
    Kind("constant_then_decay_optax", "optax join_schedules([constant_schedule, linear_schedule or "
         "cosine_decay_schedule])", "base_lr until decay_start, then linear or cosine to e*base_lr over decay_steps",
         (Int("decay_start", REQUIRED, 0), Int("decay_steps", REQUIRED, 1), _DECAY_SHAPE, _FINAL),
         open_loop(_constant_then_decay_optax)),
)
