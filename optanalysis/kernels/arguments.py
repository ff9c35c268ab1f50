"""The arrays a batch passes to the kernels besides its problem: the lr of each step (shared
rows of a table), the plateau controllers, the tabulated powers of the step count and the
initial states.  Rows are shared between problems wherever their values are bit-identical.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..checks import integer
from . import threads

__all__ = ["lr_plans", "initial_states", "power_tables", "used_lrs"]

# The tabulated powers of one parameter set are kept for the last _CACHED (kernel package, base,
# steps, start step) of at most _CACHED_STEPS steps (as the schedules' lrs): a notebook calls
# simulate thousands of times with the same Adam betas.  Only ever read (concatenated).
_CACHED = 64
_CACHED_STEPS = 10**4


def _lr_plan(schedule, base_lr: float, steps: int):
    """(closed, lrs, controller params, controller state, interval) for one schedule; ``lrs``
    holds one lr per step, or a single one when it is constant (or the base of a closed loop)."""
    empty = np.zeros(0)
    if schedule is None:
        return False, np.full(1, base_lr), empty, empty, 1
    from ..schedules import make_schedule, open_loop_lrs  # only needed when a schedule is given

    lrs = open_loop_lrs(schedule, base_lr, steps)  # shared: copied into the table by lr_plans
    if lrs is not None:
        return False, (lrs[:1] if (lrs == lrs[0]).all() else lrs), empty, empty, 1
    sched = make_schedule(schedule)  # closed loop: fresh controller arrays (the kernels update cs)
    cp, cs = sched.controller(base_lr)
    return (True, np.full(1, base_lr), np.asarray(cp, np.float64),
            np.asarray(cs, np.float64), integer(sched.interval, "schedule interval", 1))


def lr_plans(base_lrs, schedules, steps: int, S: int, lrs=None):
    """Per problem (p-major, S seeds per parameter set; ``base_lrs[p]`` and ``schedules[p]`` of
    parameter set p, or the lrs given, ``lrs`` (1 or P, steps)): rows ``row`` of ``lr_table``,
    one per distinct (schedule, base lr) or sequence so that a sweep shares them, and the
    plateau controllers (``closed``, ``interval``, ``cp``, ``cs``; copies, as the kernels
    update ``cs``).  ``lr_table`` has one column when every row is constant (the kernels read a
    one-value row as a constant lr), else ``steps``."""
    if lrs is not None:
        n = base_lrs.size * S
        bits, plan_of = np.unique(lrs.view(np.int64), axis=0, return_inverse=True)
        lr_table = bits.view(np.float64)
        if np.all(lr_table == lr_table[:, :1]):
            lr_table = lr_table[:, :1].copy()
        row = np.repeat(np.broadcast_to(plan_of.reshape(-1), base_lrs.shape), S)
        empty = np.zeros((n, 1))
        return (lr_table, row.astype(np.int64), np.zeros(n, np.bool_), np.ones(n, np.int64),
                empty, empty.copy())
    if base_lrs.size == 1 and S == 1:  # one problem: nothing to share
        closed, lr, cp, cs, interval = _lr_plan(schedules[0], float(base_lrs[0]), steps)
        return (lr[None].copy(), np.zeros(1, np.int64), np.full(1, closed),
                np.full(1, interval, np.int64), _row(cp), _row(cs))
    keys = base_lrs.view(np.int64)  # compared bit for bit
    if any(sch is not schedules[0] for sch in schedules):  # (the schedules outlive this call)
        keys = np.stack([[id(sch) for sch in schedules], keys], axis=1)
    _, first, plan_of = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    table = [_lr_plan(schedules[p], float(base_lrs[p]), steps) for p in first]
    row = np.repeat(plan_of.reshape(-1).astype(np.int64), S)
    closed = np.array([plan[0] for plan in table], np.bool_)[row]
    interval = np.array([plan[4] for plan in table], np.int64)[row]
    cp, cs = (_padded([plan[k] for plan in table])[row] for k in (2, 3))
    lrs = [plan[1] for plan in table]
    lr_table = np.empty((len(lrs), max(a.size for a in lrs)))
    for r, a in enumerate(lrs):
        lr_table[r] = a  # a one-value row broadcasts
    return lr_table, row, closed, interval, cp, cs


def _row(a) -> np.ndarray:
    """``_padded([a])``, without its generic loops."""
    out = np.zeros((1, max(1, a.size)))
    if a.size:
        out[0, :a.size] = a
    return out


def _padded(arrays) -> np.ndarray:
    """Stack 1-D float arrays of different lengths, zero-padded (at least one column)."""
    out = np.zeros((len(arrays), max(1, max(a.size for a in arrays))))
    for i, a in enumerate(arrays):
        if a.size:
            out[i, :a.size] = a
    return out


def initial_states(rule, hp, x0) -> np.ndarray:
    """(P, nstate, d) initial states: ``rule.init`` called once per combination of flags, on
    the columns of real hyperparameters (broadcasting: rules are plain NumPy arithmetic)."""
    out = np.empty((hp.shape[0], len(rule.state), x0.size), x0.dtype)
    if hp.shape[0] == 1:  # one parameter set (simulate): its flags as they are
        args = [bool(hp[0, k] != 0) if p.flag else hp[:, k, None] for k, p in enumerate(rule.hyper)]
        for s, value in enumerate(rule.init(x0[None, :], *args)):
            out[:, s] = value
        return out
    flags = [k for k, p in enumerate(rule.hyper) if p.flag]
    combos, which = np.unique(hp[:, flags] != 0, axis=0, return_inverse=True)
    for c, combo in enumerate(combos):
        idx = np.flatnonzero(which.reshape(-1) == c)
        fixed = dict(zip(flags, combo.tolist()))
        args = [fixed[k] if k in fixed else hp[idx, k, None] for k in range(len(rule.hyper))]
        for s, value in enumerate(rule.init(x0[None, :], *args)):
            out[idx, s] = np.broadcast_to(value, (len(idx), x0.size))
    return out


def power_tables(km, hp, steps: int, start_step: int = 0):
    """(table, rows) of the rule's tabulated powers (``kernels/rewrite.py``) for steps
    ``start_step + 1 ...``: one table row per distinct value of each power's base
    hyperparameter (``hp`` columns, compared bit for bit), and ``rows[p, j]``, the row of power
    j for parameter set p."""
    if hp.shape[0] == 1 and steps <= _CACHED_STEPS:  # one parameter set: its rows, cached
        tables = [_power_row(km, j, int(hp[0, base:base + 1].view(np.int64)[0]), steps, start_step)
                  for j, base in enumerate(km.POW_BASES)]
        rows = np.arange(km.NPOW, dtype=np.int64)[None]
        return (np.concatenate(tables) if tables else np.zeros((0, 0))), rows
    tables, rows, offset = [], np.zeros((hp.shape[0], km.NPOW), np.int64), 0
    for j, base in enumerate(km.POW_BASES):
        bits, rows[:, j] = np.unique(hp[:, base].view(np.int64), return_inverse=True)
        rows[:, j] += offset
        tables.append(_power_table(km, j, bits, steps, start_step))
        offset += bits.size
    return (np.concatenate(tables) if tables else np.zeros((0, 0))), rows


def _power_table(km, j: int, bits, steps: int, start_step: int) -> np.ndarray:
    """(len(bits), steps) powers j of the bases whose float64 bits are ``bits``."""
    table = np.empty((bits.size, steps))
    threads.run(km.power_table, (table, bits.view(np.float64), j, start_step),
                -(-steps // km.POWER_CHUNK))
    return table


@lru_cache(maxsize=_CACHED)
def _power_row(km, j: int, bits: int, steps: int, start_step: int) -> np.ndarray:
    """:func:`_power_table` of one base, keyed by its bits (-0.0 is not 0.0 here) and by the
    kernel package (a rule registered again with another source has another one)."""
    return _power_table(km, j, np.array([bits], np.int64), steps, start_step)


def used_lrs(lr_table, row, closed, lr_out, diverged, steps) -> np.ndarray:
    """(n, steps) lrs used by each problem: an open loop's row of ``lr_table`` (NaN from the step
    at which it diverged, as the kernels write a closed loop's), a closed loop's ``lr_out``."""
    out = np.empty((row.size, steps))
    out[:] = lr_table[row]  # a one-value row broadcasts
    if closed.any():
        out[closed] = lr_out[closed]
    for p in np.flatnonzero((diverged >= 0) & ~closed):
        out[p, diverged[p]:] = np.nan
    return out
