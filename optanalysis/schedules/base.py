"""What every schedule kind is made of: its declaration (:class:`Kind`), what a schedule object is
(:class:`Schedule`, and the open-loop one, :class:`OpenLoop`) and the one parameter declaration that
is a list of schedules."""
from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Callable

import numpy as np

from ..checks import integer
from ..hyper import REQUIRED, Declaration, positive
from ..spec import format_spec

__all__ = ["Kind", "Schedule", "OpenLoop", "Schedules", "open_loop", "switch_points", "BASE_LR"]

BASE_LR = positive("base_lr", doc="the optimizer's initial lr")


@dataclass(frozen=True)
class Kind:
    """A schedule kind, as the registry lists it.

    Attributes
    ----------
    name : str
        Registered name (torch semantics unsuffixed, optax ones suffixed ``_optax``).
    library : str
        The library object whose semantics it reproduces.
    formula : str
        One line: the lr at step ``k``.
    params : tuple
        Declarations (:mod:`optanalysis.hyper`, or :class:`Schedules`), in spec order.
    make : callable
        ``make(name, params)`` -> the schedule, from validated params; raises ``ValueError`` on
        a cross-parameter inconsistency.
    """

    name: str
    library: str
    formula: str
    params: tuple
    make: Callable


def open_loop(build: Callable, restart: Callable | None = None) -> Callable:
    """``Kind.make`` of an open-loop kind: ``build(params)`` (and ``restart(params)``) give the
    ``fn(base_lr, n)`` of :class:`OpenLoop`."""
    return lambda name, p: OpenLoop(name, p, build(p), restart(p) if restart else None)


class Schedule:
    """A schedule object: its registered name and validated parameters, written back as a spec string.

    Attributes
    ----------
    name : str
        Registered name (see :func:`~optanalysis.schedules.schedule_names`).
    params : mapping
        Validated parameters, in declared order.
    """

    def __init__(self, name: str, params: dict):
        self.name = name
        self.params = MappingProxyType(params)

    @property
    def spec(self) -> str:
        """A spec string that :func:`~optanalysis.schedules.make_schedule` turns back into this schedule."""
        return format_spec(self.name, self.params)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.spec!r})"


class OpenLoop(Schedule):
    """An open-loop schedule: the lr is a pure function of the optimizer step count."""

    def __init__(self, name: str, params: dict, fn: Callable, restart: Callable | None = None):
        super().__init__(name, params)
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
        base_lr = BASE_LR.validate(base_lr)
        steps = integer(steps, "steps", 0)
        with np.errstate(over="ignore", invalid="ignore"):
            out = np.asarray(self._fn(base_lr, steps), dtype=np.float64).reshape(steps)
        bad = np.flatnonzero(~np.isfinite(out))
        if bad.size:
            raise ValueError(f"schedule {self.spec} with base lr {base_lr:g}: the lr of step "
                             f"{bad[0]} is {out[bad[0]]}, not a finite number")
        return out


@dataclass(frozen=True)
class Schedules(Declaration):
    """Declaration (the protocol of :mod:`optanalysis.hyper`) of a non-empty list of open-loop
    sub-schedules, given as spec strings or schedule objects."""

    name: str
    default: object = REQUIRED
    doc: str = ""
    symbol: str = ""

    range = "lists [NAME(key=value,...);...] of open-loop schedules"

    def validate(self, value) -> tuple:
        # the registry lists the kinds that declare this list: imported here, when first used
        from .registry import make_schedule

        if isinstance(value, (str, OpenLoop)):
            value = (value,)
        if not isinstance(value, (tuple, list)) or not value:
            raise self._error(TypeError, "a non-empty list [NAME(key=value,...);...] of schedules", value)
        out = tuple(make_schedule(v) for v in value)
        for s in out:
            if not isinstance(s, OpenLoop):
                raise ValueError(f"{self.name}: {s.name!r} is closed-loop; only open-loop schedules can "
                                 "be joined")
        return out


def switch_points(kind: str, p: dict, key: str) -> tuple:
    """``(p["schedules"], p[key])``, checked: schedule ``i + 1`` takes over at point ``i``, so there is
    one point fewer than schedules."""
    subs, points = p["schedules"], p[key]
    if len(points) != len(subs) - 1:
        raise ValueError(f"{kind}: {key} must have one entry fewer than schedules "
                         f"({len(subs)} schedules, {len(points)} {key})")
    return subs, points
