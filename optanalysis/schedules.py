"""Learning-rate schedules with the exact semantics of torch.optim.lr_scheduler and optax.

Two kinds, both made by :func:`make_schedule` from a spec string (grammar of :mod:`optanalysis.spec`):

:class:`OpenLoop`
    the lr is a function of the step count only; ``lrs(base_lr, steps)`` gives the lr used by
    optimizer step ``k = 0 .. steps-1`` (torch: the scheduler's value at ``last_epoch = k`` with the
    documented ``optimizer.step(); scheduler.step()`` loop; optax: the schedule at ``count = k``).
:class:`Plateau`
    reduce-on-plateau, which reacts to the run's own loss, evaluated after every ``interval``-th
    optimizer step; its logic is :func:`plateau_update`, written once as plain Python and compiled
    with Numba for the kernels.

torch schedulers are *chainable*: each step multiplies (or, for cosine, affinely updates) the
current lr.  The recursion is reproduced as torch computes it (cumulative products; the cosine
recursion step by step), so values agree with torch to the last bit or nearly, not only with the
closed forms (they drift apart by ~1e-14 and by far more near a cosine minimum).
Parameters of optax schedules that carry absolute values (``init_value``, ``peak_value``) default to
``base_lr``.  optax schedules are evaluated in float64 as if optax's step counter were an int64:
optax's own int32 counter makes ``polynomial``/``linear``/``exponential`` schedules compute in
float32 even under ``jax_enable_x64`` (a library quirk we do not reproduce).

References: PyTorch ``torch/optim/lr_scheduler.py``; optax ``optax/schedules/_schedule.py``,
``_join.py``, ``optax/contrib/_reduce_on_plateau.py`` (see REFERENCE.md section 5).
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from types import MappingProxyType
from typing import Callable

import numba
import numpy as np

from .checks import integer
from .hyper import Flag, Real
from .spec import parse_spec

__all__ = ["OpenLoop", "Plateau", "make_schedule", "plateau_update", "schedule_names",
           "describe_schedule"]

_REQUIRED = object()


# --------------------------------------------------------------------------- parameter kinds
@dataclass(frozen=True)
class _Int:
    """An integer parameter ``>= low``."""

    name: str
    default: object
    low: int = 0
    doc: str = ""

    @property
    def range(self) -> str:
        return f"integers >= {self.low}"

    def validate(self, value) -> int:
        return integer(value, self.name, self.low)


@dataclass(frozen=True)
class _Ints:
    """A list of integers ``>= low`` (strictly increasing if asked)."""

    name: str
    default: object
    low: int = 0
    increasing: bool = False
    doc: str = ""

    @property
    def range(self) -> str:
        return f"lists of integers >= {self.low}" + (", strictly increasing" if self.increasing else "")

    def validate(self, value) -> tuple:
        if not isinstance(value, (tuple, list)):
            raise TypeError(f"{self.name} must be a list [..] of {self.range}, got {value!r}")
        out = tuple(_Int(self.name, None, self.low).validate(v) for v in value)
        if self.increasing and any(b <= a for a, b in zip(out, out[1:])):
            raise ValueError(f"{self.name} must be strictly increasing, got {list(out)}")
        return out


@dataclass(frozen=True)
class _Reals:
    """A list of reals, each validated by ``real``."""

    real: Real
    default: object = _REQUIRED

    @property
    def name(self) -> str:
        return self.real.name

    @property
    def range(self) -> str:
        return f"lists of reals in {self.real.range}"

    def validate(self, value) -> tuple:
        if not isinstance(value, (tuple, list)):
            raise TypeError(f"{self.name} must be a list [..] of {self.range}, got {value!r}")
        return tuple(self.real.validate(v) for v in value)


@dataclass(frozen=True)
class _Choice:
    name: str
    default: str
    choices: tuple
    doc: str = ""

    @property
    def range(self) -> str:
        return "{" + ", ".join(self.choices) + "}"

    def validate(self, value) -> str:
        if value not in self.choices:
            raise ValueError(f"{self.name} must be one of {self.range}, got {value!r}")
        return value


@dataclass(frozen=True)
class _Optional:
    """A real parameter that may be left unset (``None``: see the schedule's description)."""

    real: Real
    default: object = None

    @property
    def name(self) -> str:
        return self.real.name

    @property
    def range(self) -> str:
        return self.real.range

    def validate(self, value):
        return None if value is None else self.real.validate(value)


@dataclass(frozen=True)
class _Schedules:
    """A list of open-loop sub-schedules (spec strings or schedule objects)."""

    name: str
    default: object = _REQUIRED
    doc: str = ""
    range = "lists [NAME(key=value,...);...] of open-loop schedules"

    def validate(self, value) -> tuple:
        if isinstance(value, (str, OpenLoop)):
            value = (value,)
        if not isinstance(value, (tuple, list)) or not value:
            raise TypeError(f"{self.name} must be a non-empty list of schedules, got {value!r}")
        out = tuple(make_schedule(v) for v in value)
        for s in out:
            if not isinstance(s, OpenLoop):
                raise ValueError(f"{self.name}: {s.name!r} is closed-loop; only open-loop schedules can "
                                 "be joined")
        return out


def _pos_real(name, default=_REQUIRED, doc=""):
    return Real(name, default, 0.0, low_open=True, doc=doc)


def _unit_factor(name, default=_REQUIRED, doc=""):
    """A multiplicative factor in (0, 1)."""
    return Real(name, default, 0.0, 1.0, low_open=True, high_open=True, doc=doc)


def _absolute(name, doc):
    return _Optional(Real(name, 0.0, 0.0, doc=doc))


# --------------------------------------------------------------------------- schedule objects
class OpenLoop:
    """An open-loop schedule: the lr is a pure function of the optimizer step count.

    Attributes
    ----------
    name : str
        Registered name (see :func:`schedule_names`).
    params : mapping
        Validated parameters, in declared order.
    """

    def __init__(self, name: str, params: dict, fn: Callable, restart: Callable | None = None):
        self.name = name
        self.params = MappingProxyType(params)
        self._fn = fn
        # torch's SequentialLR restarts a scheduler with its closed form at epoch 0, which for
        # cosine may differ from its first chained value by one rounding.
        self._restart = restart or fn

    def lrs(self, base_lr: float, steps: int) -> np.ndarray:
        """The lr used by optimizer steps ``0 .. steps-1``.

        Parameters
        ----------
        base_lr : float
            The optimizer's initial lr, in (0, inf).
        steps : int
            Number of steps, >= 0.

        Returns
        -------
        numpy.ndarray
            float64 array of shape ``(steps,)``.

        Raises
        ------
        ValueError
            If an lr is not finite (e.g. ``exponential:gamma=1e300`` overflows).
        """
        base_lr = _pos_real("base_lr", doc="").validate(base_lr)
        steps = _Int("steps", None, 0).validate(steps)
        with np.errstate(over="ignore", invalid="ignore"):
            out = np.asarray(self._fn(base_lr, steps), dtype=np.float64).reshape(steps)
        bad = np.flatnonzero(~np.isfinite(out))
        if bad.size:
            raise ValueError(f"schedule {self.spec} with base lr {base_lr:g}: the lr of step "
                             f"{bad[0]} is {out[bad[0]]}, not a finite number")
        return out

    @property
    def spec(self) -> str:
        """A spec string that :func:`make_schedule` turns back into this schedule."""
        return _spec_string(self.name, self.params)

    def __repr__(self) -> str:
        return f"OpenLoop({self.spec!r})"


class Plateau:
    """Reduce-on-plateau (closed loop): torch ``ReduceLROnPlateau`` or optax ``reduce_on_plateau``.

    The metric is the run's own loss after every ``interval``-th optimizer step; the lr returned
    by :func:`plateau_update` is used from the next step on.  This is torch's documented loop
    (``optimizer.step(); scheduler.step(loss)``).  The usual optax loop passes the loss at the
    current parameters to ``update(..., value=loss)`` and scales that same update — identical,
    except that optax also sees the initial loss (which sets ``best``; with ``patience=0`` it
    even cuts at once).  For optax the lr is ``base_lr * scale``; torch reduces the current lr.

    Attributes
    ----------
    name : str
        ``"plateau"`` (torch) or ``"plateau_optax"``.
    params : mapping
        Validated parameters.
    interval : int
        Evaluate after every ``interval``-th optimizer step (>= 1).
    """

    def __init__(self, name: str, params: dict):
        self.name = name
        self.params = MappingProxyType(params)
        self.interval = params["interval"]

    def controller(self, base_lr: float) -> tuple:
        """Fresh ``(params, state)`` float64 arrays for :func:`plateau_update`.

        Parameters
        ----------
        base_lr : float
            The initial lr, in (0, inf).
        """
        base_lr = _pos_real("base_lr").validate(base_lr)
        p = self.params
        params = np.zeros(_N_PARAMS)
        state = np.zeros(_N_STATE)
        params[_P_BASE] = base_lr
        params[_P_FACTOR] = p["factor"]
        params[_P_PATIENCE] = p["patience"]
        params[_P_COOLDOWN] = p["cooldown"]
        if self.name == "plateau":
            params[_P_KIND] = _KIND_TORCH
            params[_P_MAX] = p["mode"] == "max"
            params[_P_ABS] = p["threshold_mode"] == "abs"
            params[_P_THRESHOLD] = p["threshold"]
            params[_P_MIN] = p["min_lr"]
            params[_P_EPS] = p["eps"]
            state[_S_BEST] = -math.inf if p["mode"] == "max" else math.inf
        else:
            params[_P_KIND] = _KIND_OPTAX
            params[_P_RTOL] = p["rtol"]
            params[_P_ATOL] = p["atol"]
            params[_P_ACCUMULATE] = p["accumulation_size"]
            params[_P_MIN] = p["min_scale"]
            state[_S_BEST] = math.inf
            state[_S_SCALE] = 1.0
        return params, state

    def lrs_for(self, base_lr: float, metrics) -> np.ndarray:
        """Python reference: the per-step lr sequence given the metric at each evaluation.

        Parameters
        ----------
        base_lr : float
            The initial lr, in (0, inf).
        metrics : sequence of float
            The metric (loss) seen at evaluations ``0, 1, ...``, i.e. after optimizer steps
            ``interval-1, 2*interval-1, ...`` (0-based).

        Returns
        -------
        numpy.ndarray
            float64, shape ``((len(metrics) + 1) * interval,)``: steps before the first evaluation
            use ``base_lr``; each evaluation sets the lr of the next ``interval`` steps.
        """
        try:
            metrics = np.asarray(metrics, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError("metrics must be a 1-D sequence of numbers") from None
        if metrics.ndim != 1:
            raise ValueError(f"metrics must be a 1-D sequence of numbers, got shape {metrics.shape}")
        params, state = self.controller(base_lr)
        lr = params[_P_BASE]
        out = [lr]
        for m in metrics:
            lr = plateau_update.py_func(params, state, float(m), lr)
            out.append(lr)
        return np.repeat(np.asarray(out, dtype=np.float64), self.interval)

    @property
    def spec(self) -> str:
        """A spec string that :func:`make_schedule` turns back into this schedule."""
        return _spec_string(self.name, self.params)

    def __repr__(self) -> str:
        return f"Plateau({self.spec!r})"


def _spec_string(name, params) -> str:
    def fmt(v):
        if isinstance(v, bool):
            return str(v).lower()
        if isinstance(v, (OpenLoop, Plateau)):
            head, _, rest = v.spec.partition(":")
            return f"{head}({rest})" if rest else head
        if isinstance(v, tuple):
            sep = ";" if v and isinstance(v[0], (OpenLoop, Plateau)) else ","
            return "[" + sep.join(fmt(x) for x in v) + "]"
        return repr(v) if isinstance(v, float) else str(v)

    items = ",".join(f"{k}={fmt(v)}" for k, v in params.items() if v is not None)
    return f"{name}:{items}" if items else name


# --------------------------------------------------------------------------- reduce on plateau
# Layout of the float64 arrays of Plateau.controller (module-level ints: Numba folds them).
(_P_KIND, _P_BASE, _P_FACTOR, _P_PATIENCE, _P_COOLDOWN, _P_MIN, _P_MAX, _P_ABS, _P_THRESHOLD,
 _P_EPS, _P_RTOL, _P_ATOL, _P_ACCUMULATE) = range(13)
_N_PARAMS = 13
_S_BEST, _S_BAD, _S_COOLDOWN, _S_COUNT, _S_AVG, _S_SCALE = range(6)
_N_STATE = 6
_KIND_TORCH, _KIND_OPTAX = 0.0, 1.0


@numba.njit(cache=True)
def plateau_update(params, state, metric, lr):
    """One evaluation of reduce-on-plateau; mutates ``state``, returns the lr for the next steps.

    Parameters
    ----------
    params, state : numpy.ndarray
        float64 arrays from :meth:`Plateau.controller` (``params[0]`` selects torch/optax).
    metric : float
        The loss after the step just taken.
    lr : float
        The lr in use (torch reduces the current lr; optax rescales ``base_lr``).
    """
    if params[_P_KIND] == _KIND_TORCH:
        # torch ReduceLROnPlateau.step: _is_better, strict `bad > patience`, eps skip.
        best = state[_S_BEST]
        thr = params[_P_THRESHOLD]
        if params[_P_MAX] == 0.0:
            better = metric < best * (1.0 - thr) if params[_P_ABS] == 0.0 else metric < best - thr
        else:
            better = metric > best * (thr + 1.0) if params[_P_ABS] == 0.0 else metric > best + thr
        if better:
            state[_S_BEST] = metric
            state[_S_BAD] = 0.0
        else:
            state[_S_BAD] += 1.0
        if state[_S_COOLDOWN] > 0.0:
            state[_S_COOLDOWN] -= 1.0
            state[_S_BAD] = 0.0
        if state[_S_BAD] > params[_P_PATIENCE]:
            new = lr * params[_P_FACTOR]
            if params[_P_MIN] > new:
                new = params[_P_MIN]
            if lr - new > params[_P_EPS]:
                lr = new
            state[_S_COOLDOWN] = params[_P_COOLDOWN]
            state[_S_BAD] = 0.0
        return lr
    # optax.contrib.reduce_on_plateau: running average over accumulation_size evaluations, then
    # `plateau == patience` (one evaluation earlier than torch), both tolerances at once.
    count = state[_S_COUNT]
    state[_S_AVG] = (count * state[_S_AVG] + metric) / (count + 1.0)
    state[_S_COUNT] = count + 1.0
    if state[_S_COUNT] == params[_P_ACCUMULATE]:
        avg = state[_S_AVG]
        improved = avg < (1.0 - params[_P_RTOL]) * state[_S_BEST] - params[_P_ATOL]
        if improved:
            state[_S_BEST] = avg
        current = 0.0 if improved else state[_S_BAD] + 1.0
        if state[_S_COOLDOWN] > 0.0:
            state[_S_BAD] = 0.0
            state[_S_COOLDOWN] -= 1.0
        else:
            scale = state[_S_SCALE]
            if current == params[_P_PATIENCE]:
                scale = scale * params[_P_FACTOR]
                state[_S_BAD] = 0.0
                state[_S_COOLDOWN] = params[_P_COOLDOWN]
            else:
                state[_S_BAD] = current
                state[_S_COOLDOWN] = 0.0
            state[_S_SCALE] = scale if scale >= params[_P_MIN] else params[_P_MIN]
        state[_S_COUNT] = 0.0
        state[_S_AVG] = 0.0
    return params[_P_BASE] * state[_S_SCALE]


# --------------------------------------------------------------------------- torch schedulers
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
    subs, milestones = p["schedules"], p["milestones"]
    if len(milestones) != len(subs) - 1:
        raise ValueError(f"sequential: milestones must have one entry fewer than schedules "
                         f"({len(subs)} schedules, {len(milestones)} milestones)")

    def fn(b, n):
        out = np.empty(n)
        bounds = (0, *milestones, n)
        for i, s in enumerate(subs):
            lo, hi = min(bounds[i], n), min(max(bounds[i + 1], bounds[i]), n)
            if hi > lo:
                out[lo:hi] = (s._restart if i else s._fn)(b, hi - lo)
        return out
    return fn


# --------------------------------------------------------------------------- optax schedules
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
    subs, boundaries = p["schedules"], p["boundaries"]
    if len(boundaries) != len(subs) - 1:
        raise ValueError(f"join_optax: boundaries must have one entry fewer than schedules "
                         f"({len(subs)} schedules, {len(boundaries)} boundaries)")
    return lambda b, n: _join([s._fn for s in subs], boundaries, b, n)


def _warmup_cosine_optax(p):
    w, d = p["warmup_steps"], p["decay_steps"]
    if d <= w:
        raise ValueError(f"warmup_cosine_optax: decay_steps must be > warmup_steps (it includes the "
                         f"warmup), got decay_steps={d}, warmup_steps={w}")

    def fn(b, n):
        peak = _or_base(p["peak_value"], b)
        alpha = 0.0 if peak == 0.0 else p["end_value"] / peak
        warm = lambda b_, m: _poly_optax(b_, m, p["init_value"], peak, 1, w, 0)  # noqa: E731
        decay = lambda b_, m: _cos_optax(b_, m, peak, d - w, alpha, p["exponent"])  # noqa: E731
        return _join([warm, decay], [w], b, n) if w > 0 else decay(b, n)
    return fn


def _warmup_exponential_optax(p):
    w = p["warmup_steps"]

    def fn(b, n):
        peak = _or_base(p["peak_value"], b)
        warm = lambda b_, m: _poly_optax(b_, m, p["init_value"], peak, 1, w, 0)  # noqa: E731
        decay = lambda b_, m: _exp_optax(b_, m, peak, p["transition_steps"],  # noqa: E731
                                         p["decay_rate"], p["transition_begin"], p["staircase"],
                                         p["end_value"])
        return _join([warm, decay], [w], b, n) if w > 0 else decay(b, n)
    return fn


# --------------------------------------------------------------------------- registry
@dataclass(frozen=True)
class _Kind:
    name: str
    library: str
    formula: str
    params: tuple
    build: Callable | None  # params -> fn(base_lr, n); None for the closed-loop kinds
    restart: Callable | None = None


_INIT = _absolute("init_value", "initial lr (default: base_lr)")
_PEAK = _absolute("peak_value", "lr at the end of the warmup (default: base_lr)")
_INTERVAL = _Int("interval", 1, 1, "evaluate after every interval-th optimizer step")
_KINDS = {k.name: k for k in (
    _Kind("constant", "torch/optax", "lr_k = base_lr", (), _constant),
    _Kind("step", "torch StepLR", "base_lr * gamma^floor(k/step_size)",
          (_Int("step_size", _REQUIRED, 1), _pos_real("gamma", 0.1)), _step),
    _Kind("multistep", "torch MultiStepLR", "base_lr * gamma^#{milestones <= k} (repeats multiply)",
          (_Ints("milestones", _REQUIRED), _pos_real("gamma", 0.1)), _multistep),
    _Kind("exponential", "torch ExponentialLR", "base_lr * gamma^k",
          (_pos_real("gamma"),), _exponential),
    _Kind("inverse_time", "torch LambdaLR(lambda k: 1/(1 + decay k))", "base_lr / (1 + decay k)",
          (Real("decay", _REQUIRED, 0.0),), _inverse_time),
    _Kind("polynomial", "torch PolynomialLR", "base_lr * (1 - min(k, total_iters)/total_iters)^power",
          (_Int("total_iters", 5, 1), Real("power", 1.0, 0.0)), _polynomial),
    _Kind("cosine", "torch CosineAnnealingLR (chained; rises again after T_max)",
          "eta_min + (base_lr - eta_min)(1 + cos(pi k/T_max))/2",
          (_Int("T_max", _REQUIRED, 1), Real("eta_min", 0.0, 0.0)),
          lambda p: _cosine_fn(p, False), lambda p: _cosine_fn(p, True)),
    _Kind("linear", "torch LinearLR (lr_0 = base_lr*start_factor, unlike its docstring)",
          "base_lr * (s + (e - s) min(k, total_iters)/total_iters)",
          (Real("start_factor", 1.0 / 3, 0.0, 1.0, low_open=True), Real("end_factor", 1.0, 0.0, 1.0),
           _Int("total_iters", 5, 1)), _linear),
    _Kind("constant_factor", "torch ConstantLR", "base_lr * (factor if k < total_iters else 1)",
          (Real("factor", 1.0 / 3, 0.0, 1.0, low_open=True), _Int("total_iters", 5, 1)),
          _constant_factor),
    _Kind("sequential", "torch SequentialLR (each schedule restarts at its milestone)",
          "schedule i on k - milestones[i-1]",
          (_Schedules("schedules"), _Ints("milestones", _REQUIRED, 1, True)), _sequential),
    _Kind("plateau", "torch ReduceLROnPlateau on the run's loss",
          "lr <- max(lr*factor, min_lr) after more than `patience` bad evaluations",
          (_Choice("mode", "min", ("min", "max")), _unit_factor("factor", 0.1), _Int("patience", 10, 0),
           Real("threshold", 1e-4, 0.0), _Choice("threshold_mode", "rel", ("rel", "abs")),
           _Int("cooldown", 0, 0), Real("min_lr", 0.0, 0.0), Real("eps", 1e-8, 0.0), _INTERVAL), None),
    _Kind("polynomial_optax", "optax polynomial_schedule",
          "(init - end)(1 - clip(k - begin, 0, T)/T)^power + end",
          (_INIT, Real("end_value", _REQUIRED, 0.0), Real("power", 1.0, 0.0, low_open=True),
           _Int("transition_steps", _REQUIRED, 1), _Int("transition_begin", 0, 0)), _polynomial_optax),
    _Kind("linear_optax", "optax linear_schedule", "init + (end - init) clip(k - begin, 0, T)/T",
          (_INIT, Real("end_value", _REQUIRED, 0.0), _Int("transition_steps", _REQUIRED, 1),
           _Int("transition_begin", 0, 0)), _linear_optax),
    _Kind("exponential_optax", "optax exponential_decay",
          "init * decay_rate^((k - begin)/T) for k > begin (floored if staircase), clipped at end_value",
          (_INIT, _Int("transition_steps", _REQUIRED, 1), _pos_real("decay_rate"),
           _Int("transition_begin", 0, 0), Flag("staircase", False), _absolute("end_value", "bound")),
          _exponential_optax),
    _Kind("cosine_optax", "optax cosine_decay_schedule (clamped after decay_steps)",
          "init * ((1 - alpha)((1 + cos(pi min(k, D)/D))/2)^exponent + alpha)",
          (_INIT, _Int("decay_steps", _REQUIRED, 1), Real("alpha", 0.0, 0.0, 1.0),
           Real("exponent", 1.0, 0.0, low_open=True)), _cosine_optax),
    _Kind("piecewise_constant_optax", "optax piecewise_constant_schedule",
          "init * product of scales[i] over boundaries[i] <= k",
          (_INIT, _Ints("boundaries", _REQUIRED, 0, True), _Reals(Real("scales", 1.0, 0.0))),
          _piecewise_constant_optax),
    _Kind("join_optax", "optax join_schedules", "schedule i on k - boundaries[i-1] once k >= it",
          (_Schedules("schedules"), _Ints("boundaries", _REQUIRED, 0)), _join_optax),
    _Kind("warmup_cosine_optax", "optax warmup_cosine_decay_schedule (decay_steps includes warmup)",
          "linear init -> peak over warmup_steps, then cosine peak -> end_value",
          (_INIT, _PEAK, _Int("warmup_steps", _REQUIRED, 0), _Int("decay_steps", _REQUIRED, 1),
           Real("end_value", 0.0, 0.0), Real("exponent", 1.0, 0.0, low_open=True)),
          _warmup_cosine_optax),
    _Kind("warmup_exponential_optax", "optax warmup_exponential_decay_schedule",
          "linear init -> peak over warmup_steps, then exponential_optax from peak",
          (_INIT, _PEAK, _Int("warmup_steps", _REQUIRED, 0), _Int("transition_steps", _REQUIRED, 1),
           _pos_real("decay_rate"), _Int("transition_begin", 0, 0), Flag("staircase", False),
           _absolute("end_value", "bound")), _warmup_exponential_optax),
    _Kind("plateau_optax", "optax.contrib.reduce_on_plateau on the run's loss",
          "scale <- max(scale*factor, min_scale) when `patience` evaluations without improvement",
          (_unit_factor("factor", 0.1), _Int("patience", 10, 0), Real("rtol", 1e-4, 0.0, 1.0),
           Real("atol", 0.0, 0.0), _Int("cooldown", 0, 0), _Int("accumulation_size", 1, 1),
           Real("min_scale", 0.0, 0.0), _INTERVAL), None),
)}


def schedule_names() -> list:
    """Registered schedule names (torch semantics unsuffixed, optax ones suffixed ``_optax``)."""
    return list(_KINDS)


def describe_schedule(name: str) -> str:
    """One line: the library reproduced, the formula and the parameters with defaults."""
    kind = _kind(name)

    def param(d):
        default = d.default
        if default is _REQUIRED:
            return f"{d.name} (required)"
        return f"{d.name}={'base_lr' if default is None and d.name != 'end_value' else default}"

    params = ", ".join(param(d) for d in kind.params)
    return f"{kind.name}: {kind.library}; {kind.formula}" + (f" [{params}]" if params else "")


def _kind(name) -> _Kind:
    if not isinstance(name, str) or name not in _KINDS:
        raise ValueError(f"unknown schedule {name!r}; valid: {', '.join(_KINDS)}")
    return _KINDS[name]


def make_schedule(spec=None, **params):
    """The schedule described by ``spec``.

    Parameters
    ----------
    spec : None, str, OpenLoop or Plateau
        ``None`` (constant lr), a spec string such as ``"step:step_size=30,gamma=0.1"`` or
        ``"sequential:schedules=[linear(start_factor=0.1,total_iters=5);cosine(T_max=95)],milestones=[5]"``,
        or an already-made schedule (returned as is).
    **params
        Parameters added to those of a string spec (e.g. ``make_schedule("cosine", T_max=100)``).

    Returns
    -------
    OpenLoop or Plateau

    Raises
    ------
    ValueError, TypeError
        Unknown schedule or parameter (the valid ones are listed), or a value out of range.
    """
    if isinstance(spec, (OpenLoop, Plateau)) and not params:
        return spec
    if spec is None and not params:
        spec = "constant"
    if not isinstance(spec, str):
        raise TypeError(f"schedule must be None, a spec string or a schedule object, got {spec!r}")
    name, given = parse_spec(spec, what="schedule")
    for key, value in params.items():
        if key in given:
            raise ValueError(f"schedule {name}: {key} given twice")
        given[key] = value
    kind = _kind(name)
    names = [d.name for d in kind.params]
    unknown = sorted(set(given) - set(names))
    if unknown:
        raise ValueError(f"unknown parameter {unknown[0]!r} for schedule {name!r}; valid: "
                         f"{', '.join(names) or '(none)'}")
    p = {}
    for d in kind.params:
        if d.name not in given and d.default is _REQUIRED:
            raise ValueError(f"schedule {name!r} requires {d.name} ({d.range})")
        try:
            p[d.name] = d.validate(given.get(d.name, d.default))
        except (ValueError, TypeError) as exc:
            raise type(exc)(f"schedule {name}: {exc}") from None
    if kind.build is None:
        if name == "plateau_optax" and p["rtol"] == 0.0 and p["atol"] == 0.0:
            raise ValueError("schedule plateau_optax: at least one of rtol, atol must be > 0")
        return Plateau(name, p)
    restart = kind.restart(p) if kind.restart else None
    return OpenLoop(name, p, kind.build(p), restart)
