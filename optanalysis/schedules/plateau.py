"""Reduce-on-plateau, the closed-loop schedule: torch ``ReduceLROnPlateau`` and optax
``contrib.reduce_on_plateau``.

The schedule reacts to the run's own loss, evaluated after every ``interval``-th optimizer step.
Its logic is :func:`plateau_update`, written once as plain Python and compiled with Numba for the
kernels, on two float64 arrays (parameters and state) whose layout is fixed below.

Reference: PyTorch ``torch/optim/lr_scheduler.py``; optax
``optax/contrib/_reduce_on_plateau.py``; semantics in docs/reference.md sections 8.4 and 9.2.
"""
from __future__ import annotations

import math

import numba
import numpy as np

from ..hyper import Choice, Int, Real, nonnegative
from .base import BASE_LR, Kind, Schedule

__all__ = ["Plateau", "plateau_update", "KINDS"]


# Layout of the float64 arrays of Plateau.controller (module-level ints: Numba folds them).
(_P_KIND, _P_BASE, _P_FACTOR, _P_PATIENCE, _P_COOLDOWN, _P_MIN, _P_MAX, _P_ABS, _P_THRESHOLD,
 _P_EPS, _P_RTOL, _P_ATOL, _P_ACCUMULATE) = range(13)
_N_PARAMS = 13
_S_BEST, _S_BAD, _S_COOLDOWN, _S_COUNT, _S_AVG, _S_SCALE = range(6)
_N_STATE = 6
_KIND_TORCH, _KIND_OPTAX = 0.0, 1.0


class Plateau(Schedule):
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
        super().__init__(name, params)
        self.interval = params["interval"]

    def controller(self, base_lr: float) -> tuple:
        """Fresh ``(params, state)`` float64 arrays for :func:`plateau_update`.

        Parameters
        ----------
        base_lr : float
            The initial lr, in (0, inf).
        """
        base_lr = BASE_LR.validate(base_lr)
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


def _make_optax(name: str, p: dict) -> Plateau:
    if p["rtol"] == 0.0 and p["atol"] == 0.0:  # optax refuses it too
        raise ValueError("schedule plateau_optax: at least one of rtol, atol must be > 0")
    return Plateau(name, p)


def _unit_factor(name, default):
    """A multiplicative factor in (0, 1)."""
    return Real(name, default, 0.0, 1.0, low_open=True, high_open=True)


_INTERVAL = Int("interval", 1, 1, "evaluate after every interval-th optimizer step")
KINDS = (
    Kind("plateau", "torch ReduceLROnPlateau on the run's loss",
         "lr <- max(lr*factor, min_lr) after more than `patience` bad evaluations",
         (Choice("mode", "min", ("min", "max")), _unit_factor("factor", 0.1), Int("patience", 10, 0),
          nonnegative("threshold", 1e-4), Choice("threshold_mode", "rel", ("rel", "abs")),
          Int("cooldown", 0, 0), nonnegative("min_lr", 0.0), nonnegative("eps", 1e-8), _INTERVAL), Plateau),
    Kind("plateau_optax", "optax.contrib.reduce_on_plateau on the run's loss",
         "scale <- max(scale*factor, min_scale) when `patience` evaluations without improvement",
         (_unit_factor("factor", 0.1), Int("patience", 10, 0), Real("rtol", 1e-4, 0.0, 1.0),
          nonnegative("atol", 0.0), Int("cooldown", 0, 0), Int("accumulation_size", 1, 1),
          nonnegative("min_scale", 0.0), _INTERVAL), _make_optax),
)
