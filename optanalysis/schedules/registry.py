"""The schedule kinds by name: :func:`make_schedule` turns a spec string into a schedule,
:func:`schedule_names` and :func:`describe_schedule` list them.

Each kind is declared beside its code (:mod:`.torch`, :mod:`.optax`, :mod:`.warmup_decay`, :mod:`.plateau`) with a
:class:`~optanalysis.schedules.base.Kind`; its parameters are declarations of
:mod:`optanalysis.hyper`, validated here.  Spec strings follow the grammar of :mod:`optanalysis.spec`.
"""
from __future__ import annotations

from functools import lru_cache

from ..hyper import REQUIRED, Optional
from ..spec import parse_spec
from . import optax, plateau, torch, warmup_decay
from .base import Kind, Schedule

__all__ = ["make_schedule", "schedule_names", "describe_schedule", "get_kind", "open_loop_lrs"]

# A notebook or a sweep runs thousands of times with the same schedule: the lrs of the last
# _CACHED (schedule, base lr, steps) of at most _CACHED_STEPS steps are kept (<= 5 MB; a longer
# run's evaluation costs little next to the run itself).
_CACHED = 64
_CACHED_STEPS = 10**4

_KINDS = {k.name: k for k in (*torch.KINDS, *warmup_decay.KINDS_TORCH, *plateau.KINDS[:1], *optax.KINDS,
                                *warmup_decay.KINDS_OPTAX, *plateau.KINDS[1:])}


def schedule_names() -> list:
    """Registered schedule names (torch semantics unsuffixed, optax ones suffixed ``_optax``)."""
    return list(_KINDS)


def describe_schedule(name: str) -> str:
    """One line: the library reproduced, the formula and the parameters with defaults."""
    kind = get_kind(name)

    def param(d):
        if d.default is REQUIRED:
            return f"{d.name} (required)"
        return f"{d.name}={d.unset if isinstance(d, Optional) else d.default}"

    params = ", ".join(param(d) for d in kind.params)
    return f"{kind.name}: {kind.library}; {kind.formula}" + (f" [{params}]" if params else "")


def get_kind(name: str) -> Kind:
    """The registered :class:`~optanalysis.schedules.base.Kind` called ``name`` (its declared parameters,
    formula, library).

    Raises
    ------
    ValueError
        If no schedule has that name (the valid ones are listed).
    """
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
    if isinstance(spec, Schedule) and not params:
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
    kind = get_kind(name)
    names = [d.name for d in kind.params]
    unknown = sorted(set(given) - set(names))
    if unknown:
        raise ValueError(f"unknown parameter {unknown[0]!r} for schedule {name!r}; valid: "
                         f"{', '.join(names) or '(none)'}")
    p = {}
    for d in kind.params:
        if d.name not in given and d.default is REQUIRED:
            raise ValueError(f"schedule {name!r} requires {d.name} ({d.range})")
        try:
            p[d.name] = d.validate(given.get(d.name, d.default))
        except (ValueError, TypeError) as exc:
            raise type(exc)(f"schedule {name}: {exc}") from None
    return kind.make(name, p)


def open_loop_lrs(schedule, base_lr: float, steps: int):
    """The lrs of steps ``0 .. steps-1`` of ``schedule`` (anything :func:`make_schedule` takes),
    or None if it is closed loop (reduce-on-plateau).

    A pure function of its arguments, cached: the array returned is shared and read-only.

    Parameters
    ----------
    schedule : str, OpenLoop or Plateau
    base_lr : float
        The optimizer's initial lr, in (0, inf).
    steps : int
        Number of steps, >= 0.

    Returns
    -------
    numpy.ndarray or None
        float64, shape ``(steps,)``.

    Raises
    ------
    ValueError, TypeError
        As :func:`make_schedule` and ``OpenLoop.lrs``.
    """
    # a spec string is its own key, a schedule object is keyed by identity (the cache holds it,
    # so its id is not reused while cached); other values reach make_schedule's TypeError
    cached = (type(steps) is int and steps <= _CACHED_STEPS  # noqa: E721 - not a bool
              and isinstance(schedule, (str, Schedule)))
    return (_lrs if cached else _lrs.__wrapped__)(schedule, base_lr, steps)


@lru_cache(maxsize=_CACHED)
def _lrs(schedule, base_lr, steps):
    sched = make_schedule(schedule)
    if not hasattr(sched, "lrs"):  # closed loop
        return None
    lrs = sched.lrs(base_lr, steps)
    lrs.flags.writeable = False
    return lrs
