"""optax's schedules (``optax.schedules``), as functions of the step count.

The lr of step ``k`` is the schedule at ``count = k``.  Parameters that carry absolute values
(``init_value``, ``peak_value``) default to ``base_lr``.  The schedules are evaluated in float64 as
if optax's step counter were an int64: optax's own int32 counter makes ``polynomial``/``linear``/
``exponential`` schedules compute in float32 even under ``jax_enable_x64`` (a library quirk not
reproduced here).

Reference: optax ``optax/schedules/_schedule.py`` and ``_join.py``; semantics in docs/reference.md
sections 9.1 and 9.3.
"""
from __future__ import annotations

import numpy as np

from ..hyper import REQUIRED, Flag, Int, ListOf, Optional, Real, nonnegative, positive
from .base import Kind, Schedules, open_loop, switch_points

__all__ = ["KINDS"]


def _or_base(v, b):
    return b if v is None else v


def _poly_optax(b, n, init, end, power, steps, begin):
    init = _or_base(init, b)
    count = np.clip(np.arange(n) - begin, 0, steps)
    frac = 1 - count / steps
    return (init - end) * (frac ** power) + end


def _polynomial_optax(p):
    return lambda b, n: _poly_optax(b, n, p["init_value"], p["end_value"], p["power"],
                                    p["transition_steps"], p["transition_begin"])


def _linear_optax(p):
    return lambda b, n: _poly_optax(b, n, p["init_value"], p["end_value"], 1,
                                    p["transition_steps"], p["transition_begin"])


def _exp_optax(b, n, init, steps, rate, begin, staircase, end):
    init = _or_base(init, b)
    decreased = np.arange(n) - begin
    e = decreased / steps
    if staircase:
        e = np.floor(e)
    value = np.where(decreased <= 0, init, init * np.power(rate, e))
    if end is not None:
        value = (np.maximum if rate < 1.0 else np.minimum)(value, end)
    return value


def _exponential_optax(p):
    return lambda b, n: _exp_optax(b, n, p["init_value"], p["transition_steps"], p["decay_rate"],
                                   p["transition_begin"], p["staircase"], p["end_value"])


def _cos_optax(b, n, init, steps, alpha, exponent):
    count = np.minimum(np.arange(n, dtype=np.float64), float(steps))
    decay = 0.5 * (1 + np.cos(np.pi * count / steps))
    return _or_base(init, b) * ((1 - alpha) * decay ** exponent + alpha)


def _cosine_optax(p):
    return lambda b, n: _cos_optax(b, n, p["init_value"], p["decay_steps"], p["alpha"], p["exponent"])


def _piecewise_constant_optax(p):
    bounds, scales = p["boundaries"], p["scales"]
    if len(bounds) != len(scales):
        raise ValueError(f"piecewise_constant_optax: boundaries and scales must have the same length, got "
                         f"{len(bounds)} and {len(scales)}")

    def fn(b, n):
        k = np.arange(n)
        v = np.full(n, _or_base(p["init_value"], b))
        for bound, scale in zip(bounds, scales):  # in increasing order, as optax sorts them
            v = np.where(k >= bound, scale * v, v)
        return v
    return fn


def _join(parts, boundaries, b, n):
    """optax join_schedules: schedule i+1 takes over at its boundary, on the shifted count."""
    out = parts[0](b, n)
    for bound, part in zip(boundaries, parts[1:]):
        if bound < n:
            out[bound:] = part(b, n - bound)
    return out


def _join_optax(p):
    subs, boundaries = switch_points("join_optax", p, "boundaries")
    return lambda b, n: _join([s._fn for s in subs], boundaries, b, n)


def _warmup_then(p, decay):
    """optax's warmup schedules: linear ``init_value -> peak`` over ``warmup_steps``, then
    ``decay(peak, m)`` on the shifted count (``peak_value``, by default the base lr)."""
    w = p["warmup_steps"]

    def fn(b, n):
        peak = _or_base(p["peak_value"], b)
        warm = lambda b_, m: _poly_optax(b_, m, p["init_value"], peak, 1, w, 0)  # noqa: E731
        after = lambda b_, m: decay(peak, m)  # noqa: E731
        return _join([warm, after], [w], b, n) if w > 0 else after(b, n)
    return fn


def _warmup_cosine_optax(p):
    w, d = p["warmup_steps"], p["decay_steps"]
    if d <= w:
        raise ValueError(f"warmup_cosine_optax: decay_steps must be > warmup_steps (it includes the "
                         f"warmup), got decay_steps={d}, warmup_steps={w}")
    return _warmup_then(p, lambda peak, m: _cos_optax(
        peak, m, peak, d - w, 0.0 if peak == 0.0 else p["end_value"] / peak, p["exponent"]))


def _warmup_exponential_optax(p):
    return _warmup_then(p, lambda peak, m: _exp_optax(
        peak, m, peak, p["transition_steps"], p["decay_rate"], p["transition_begin"], p["staircase"],
        p["end_value"]))


_INIT = Optional(nonnegative("init_value", 0.0, "initial lr"), unset="base_lr")
_PEAK = Optional(nonnegative("peak_value", 0.0, "lr at the end of the warmup"), unset="base_lr")
_BOUND = Optional(nonnegative("end_value", 0.0, "bound"))
_EXPONENT = positive("exponent", 1.0)
KINDS = (
    Kind("polynomial_optax", "optax polynomial_schedule",
         "(init - end)(1 - clip(k - begin, 0, T)/T)^power + end",
         (_INIT, nonnegative("end_value", REQUIRED), positive("power", 1.0),
          Int("transition_steps", REQUIRED, 1), Int("transition_begin", 0, 0)), open_loop(_polynomial_optax)),
    Kind("linear_optax", "optax linear_schedule", "init + (end - init) clip(k - begin, 0, T)/T",
         (_INIT, nonnegative("end_value", REQUIRED), Int("transition_steps", REQUIRED, 1),
          Int("transition_begin", 0, 0)), open_loop(_linear_optax)),
    Kind("exponential_optax", "optax exponential_decay",
         "init * decay_rate^((k - begin)/T) for k > begin (floored if staircase), clipped at end_value",
         (_INIT, Int("transition_steps", REQUIRED, 1), positive("decay_rate"),
          Int("transition_begin", 0, 0), Flag("staircase", False), _BOUND), open_loop(_exponential_optax)),
    Kind("cosine_optax", "optax cosine_decay_schedule (clamped after decay_steps)",
         "init * ((1 - alpha)((1 + cos(pi min(k, D)/D))/2)^exponent + alpha)",
         (_INIT, Int("decay_steps", REQUIRED, 1), Real("alpha", 0.0, 0.0, 1.0), _EXPONENT),
         open_loop(_cosine_optax)),
    Kind("piecewise_constant_optax", "optax piecewise_constant_schedule",
         "init * product of scales[i] over boundaries[i] <= k",
         (_INIT, ListOf(Int("boundaries", REQUIRED, 0), increasing=True),
          ListOf(nonnegative("scales", REQUIRED))), open_loop(_piecewise_constant_optax)),
    Kind("join_optax", "optax join_schedules", "schedule i on k - boundaries[i-1] once k >= it",
         (Schedules("schedules"), ListOf(Int("boundaries", REQUIRED, 0))), open_loop(_join_optax)),
    Kind("warmup_cosine_optax", "optax warmup_cosine_decay_schedule (decay_steps includes warmup)",
         "linear init -> peak over warmup_steps, then cosine peak -> end_value",
         (_INIT, _PEAK, Int("warmup_steps", REQUIRED, 0), Int("decay_steps", REQUIRED, 1),
          nonnegative("end_value", 0.0), _EXPONENT), open_loop(_warmup_cosine_optax)),
    Kind("warmup_exponential_optax", "optax warmup_exponential_decay_schedule",
         "linear init -> peak over warmup_steps, then exponential_optax from peak",
         (_INIT, _PEAK, Int("warmup_steps", REQUIRED, 0), Int("transition_steps", REQUIRED, 1),
          positive("decay_rate"), Int("transition_begin", 0, 0), Flag("staircase", False), _BOUND),
         open_loop(_warmup_exponential_optax)),
)
