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

Modules: :mod:`.torch` (chainable torch schedulers), :mod:`.optax`, :mod:`.warmup_decay` (WSD,
cosine with a floor, constant then decay: the schedules of large-model training), :mod:`.plateau` (the closed-loop
one), :mod:`.registry` (names, descriptions, :func:`make_schedule`), :mod:`.base` (what a kind is).
"""
from .base import OpenLoop
from .plateau import Plateau, plateau_update
from .registry import describe_schedule, make_schedule, open_loop_lrs, schedule_names

__all__ = ["OpenLoop", "Plateau", "make_schedule", "open_loop_lrs", "plateau_update", "schedule_names",
           "describe_schedule"]
