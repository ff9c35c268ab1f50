"""Run an update rule on a quadratic with the compiled kernels: one run or a whole batch.

``simulate`` runs one configuration; ``simulate_batch`` runs a grid of hyperparameters x seeds
(x schedules) in one call of a kernel spread over threads, and every entry equals the corresponding
``simulate`` bit for bit, whatever the thread count (each problem runs sequentially on its
own rows; the noise is a hash of (seed, step, coordinate)).  This module validates the input,
chooses the execution path and packs the results; the kernels' argument arrays are made by
:mod:`optanalysis.kernels.arguments`, the threads run by :mod:`optanalysis.kernels.threads`.

Observations only: the matching theory lives in :mod:`optanalysis.theory.prediction`.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from .checks import INT64_MAX, boolean, integer, lr_array, real_array
from .display import html_table
from .kernels import kernel_module, threads
from .kernels.arguments import initial_states, lr_plans, power_tables, used_lrs
from .models.quadratic import make_noise, make_quadratic
from .rules import get_rule

__all__ = ["SimResult", "BatchResult", "simulate", "simulate_batch"]

_DTYPES = {"float64": np.float64, "float32": np.float32}
_FLOAT_MAX = {dt: float(np.finfo(dt).max) for dt in _DTYPES.values()}  # see limits() in core.py
# One problem shares its blocks among threads when it has >= this many element-steps (below, the
# thread pool costs more than it saves) and its per-block recorded losses fit in 64 MiB.
_SPLIT_MIN_WORK = 2**22
_SPLIT_MAX_LOSSES = 2**23
# Open-loop noiseless batches of problems this small are advanced LANES // d problems at a time
# (run_lanes): one problem alone is a latency chain that leaves the vector units idle.  Not for
# rules with tabulated powers (Adam's bias corrections): their per-step sqrt and divisions of
# hyperparameters, hoisted out of one problem's loop, would be redone in every lane (slower;
# the measurements: benchmarks/README.md).  Either way each problem has the bits of run_diag.
_LANES_MAX_D = 128
# Problems of a batch sharing a dense H advanced together (run_dense): H streams once a
# step for the group, the group's columns filling a vector register (8 float64 in AVX-512).
_DENSE_GROUP = 8


# The positions of run_diag's per-problem arrays (one row per problem) in its arguments.
_PER_PROBLEM = frozenset((0, 2, 7, 8, 10, 14, 15, 16, 17, 18, 21, 22, 23, 24))


def _lanes_pay(km) -> bool:
    """run_lanes is faster than run_diag for km's rule (no tabulated powers; see above)."""
    return km.NPOW == 0


@dataclass(frozen=True)
class SimResult:
    """One run.

    Attributes
    ----------
    loss : (n_rec + 1,) float64
        1/2 (x - x*)^T H (x - x*) after 0, k, 2k, ... steps (k = ``record_every``); NaN after a
        divergence.
    lr : (steps,) float64
        The learning rate used at each step (NaN after a divergence); made on first access
        for an open-loop run (its schedule's values), so a long run does not write it unread.
    x : (d,) array
        The final iterate (at the divergence step if the run diverged).
    state : tuple of (d,) arrays
        The final state in ``rule.state`` order (``state[0] is x``).
    diverged_at : int or None
        The first step whose loss is non-finite or > 1e30 max(1, initial loss).
    xs : (n_rec + 1, d) array or None
        The recorded iterates when ``record_x`` (NaN after a divergence).
    steps, start_step : int
        The run's length and the step count it started from (its step k is step
        ``start_step + k + 1`` of the optimizer).
    """

    loss: np.ndarray
    x: np.ndarray
    state: tuple
    diverged_at: int | None
    xs: np.ndarray | None
    steps: int
    start_step: int
    _lr: Callable[[], np.ndarray] = field(repr=False, compare=False)

    @cached_property
    def lr(self) -> np.ndarray:
        return self._lr()

    def _repr_html_(self) -> str:
        rows = [("steps", self.steps), ("start step", self.start_step), ("d", self.x.size),
                ("dtype", str(self.x.dtype)), ("initial loss", float(self.loss[0])),
                ("final loss", float(self.loss[-1])), ("diverged at", self.diverged_at)]
        return html_table(rows, ["", "value"], caption="simulate")


@dataclass(frozen=True)
class BatchResult:
    """A batch of P parameter sets x S seeds: ``loss`` (P, S, n_rec + 1), ``lr`` (P, S, steps),
    ``x`` (P, S, d), ``diverged_at`` (P, S) int64, -1 where the run did not diverge.

    ``lr`` is made on first access when the runs are open loop (each problem's schedule row,
    NaN from its divergence step on): a 4096 x 2000-step sweep would otherwise write 65 MB
    that a sweep rarely reads.
    """

    loss: np.ndarray
    x: np.ndarray
    diverged_at: np.ndarray
    steps: int
    start_step: int
    _lr: Callable[[], np.ndarray] = field(repr=False, compare=False)

    @cached_property
    def lr(self) -> np.ndarray:
        return self._lr()

    def _repr_html_(self) -> str:
        P, S = self.diverged_at.shape
        rows = [(p, s, float(self.loss[p, s, 0]), float(self.loss[p, s, -1]),
                 None if self.diverged_at[p, s] < 0 else int(self.diverged_at[p, s]))
                for p in range(P) for s in range(S)]
        caption = (f"simulate_batch: {P} parameter sets x {S} seeds, {self.steps} steps from "
                   f"step {self.start_step}, d = {self.x.shape[2]}, {self.x.dtype}")
        return html_table(rows, ["params entry", "seed entry", "initial loss", "final loss",
                                 "diverged at"], caption=caption)


def _problem(hessian_diag, hessian, xstar, steps, start_step, noise, batch, dtype,
             record_every):
    """Validated shared arrays of a run (the starting point: :func:`_start`)."""
    steps = integer(steps, "steps", 1)
    start_step = integer(start_step, "start_step", 0, INT64_MAX - steps)  # t stays an int64
    record_every = integer(record_every, "record_every", 1, steps)
    if dtype not in _DTYPES:
        raise ValueError(f"dtype must be 'float64' or 'float32', got {dtype!r}")
    q = make_quadratic(hessian_diag=hessian_diag, hessian=hessian, xstar=xstar)
    if dtype == "float32":
        arrays = {"xstar": q.xstar,
                  **({"hessian_diag": q.hessian_diag} if q.diagonal else {"hessian": q.hessian})}
        for name, a in arrays.items():
            _check_float32(a, name)
    nz = make_noise(noise, q, integer(batch, "batch", 1))
    return q, nz, steps, start_step, record_every, _DTYPES[dtype]


def _check_float32(a, name: str) -> None:
    if (np.abs(a) > _FLOAT_MAX[np.float32]).any():
        raise ValueError(f"{name} must be within the float32 range (|v| <= 3.4e38) "
                         "with dtype='float32'")


def _start(rule, q, x0, initial_state, dtype: str, P: int | None = None):
    """(x0, given): the validated starting point, ``x0`` (d,) for ``rule.init`` or the
    ``initial_state`` given, as (m, len(rule.state), d) float64 (m = 1, or P for a batch with
    one state per parameter set); the other is None."""
    n, d = len(rule.state), q.d
    if x0 is not None:
        x0 = real_array(x0, "x0", "a 1-D array of finite numbers")
        if x0.shape != (d,):
            raise ValueError(f"x0 must have shape ({d},) like the Hessian, got {x0.shape}")
        if not np.isfinite(x0).all():
            raise ValueError("x0 must be finite")
    if initial_state is None:
        if x0 is None:
            raise TypeError("x0 is required (a 1-D array of finite numbers) unless initial_state "
                            "is given")
        firsts, name = x0[None], "x0"
    else:
        shapes = [(n, d)] + ([(P, n, d)] if P is not None else [])
        what = " or ".join(map(str, shapes))
        given = real_array(initial_state, "initial_state",
                           f"an array of shape {what} (rows: {', '.join(rule.state)})")
        if given.shape not in shapes:
            raise ValueError(f"initial_state must have shape {what} (rows: "
                             f"{', '.join(rule.state)}; columns: the Hessian's {d}), "
                             f"got {given.shape}")
        if not np.isfinite(given).all():
            raise ValueError("initial_state must be finite")
        given = given.reshape(-1, n, d)
        if x0 is not None and not np.all(given[:, 0] == x0):
            raise ValueError("x0 must be omitted or equal the first row of initial_state "
                             "(the iterate)")
        firsts, name = given[:, 0], "initial_state"
    with np.errstate(over="ignore", invalid="ignore"):
        for first in firsts:
            if not math.isfinite(q.loss(first)):  # divergence is relative to a finite initial loss
                raise ValueError(f"{name}: the initial loss 1/2 (x0 - x*)^T H (x0 - x*) "
                                 "overflows; rescale the problem")
    if dtype == "float32":
        _check_float32(firsts if initial_state is None else given, name)
    return (None, given) if initial_state is not None else (x0, None)


def _seed(value, name: str) -> int:
    return integer(value, name, 0, 2**64 - 1)


def _run_blocks(km, S, S0, h, xs, scale, noisy, seed, hp, lrs, steps, t0, pwt, prow, cap_max,
                record_every, loss, xrec, record_x, blocks):
    """One open-loop diagonal problem from ``S0`` with its coordinate blocks shared among the
    threads: the same bits as ``run_diag`` (blocks are independent; losses are added in block
    order)."""
    loss0, limit, cap = km.limits(S0[0], h, xs, cap_max)
    rloss = np.zeros((blocks, loss.size))
    trips = np.zeros(blocks, np.int64)
    threads.run(km.run_diag_blocks, (S, S0, h, xs, scale, noisy, seed, hp, lrs, steps, t0, pwt,
                                     prow, cap, record_every, rloss, trips, xrec, record_x), blocks)
    return km.finish_diag_blocks(S, S0, h, xs, scale, noisy, seed, hp, lrs, steps, t0, pwt, prow,
                                 record_every, loss0, limit, rloss, trips, loss, xrec, record_x)


def _run(rule, *args):
    """:func:`_run_kernels`, with a rule whose step Numba cannot compile reported as one
    ``RuleContractError`` (naming the rule, its file and the fix) instead of Numba's pages."""
    try:
        return _run_kernels(rule, *args)
    except Exception as exc:
        from numba.core.errors import NumbaError

        if not isinstance(exc, NumbaError):
            raise
        from .rules._contract import compile_error

        raise compile_error(rule, exc) from None


def _run_kernels(rule, hp, schedules, lrs, seeds, q, start, nz, steps, t0, record_every, dt,
                 record_x):
    """One kernel call over every (parameter set, seed) problem, p-major; ``hp`` (P, k): the
    validated hyperparameters in float64 (torch's Python floats), flags 0.0/1.0; ``start``:
    (x0, given initial states) of :func:`_start`; ``lrs``: of :func:`optanalysis.checks.lr_array`; ``t0``: the
    step count before the first step."""
    P, S, d = hp.shape[0], len(seeds), q.d
    n = P * S
    lr_table, row, closed, interval, cp, cs = lr_plans(hp[:, 0], schedules, steps, S, lrs)
    any_closed = bool(closed.any())
    km = kernel_module(rule)
    pw_table, pw_rows = power_tables(km, hp, steps, t0)
    x0, given = start
    if given is None:
        with np.errstate(over="ignore"):  # a value beyond float32 rounds to inf, as in torch
            init = initial_states(rule, hp.astype(dt), x0.astype(dt, copy=False))
    else:
        init = given.astype(dt)  # in range (checked): float32 rounds each value once
    # problem i = (p, s) = divmod(i, S) (no copies for one problem: simulate's common case)
    init_row = np.arange(n) // S if init.shape[0] > 1 else np.zeros(n, np.int64)
    seed_arr = np.array(seeds, np.uint64)
    if S > 1:
        hp, pw_rows = np.repeat(hp, S, axis=0), np.repeat(pw_rows, S, axis=0)
    if P > 1:
        seed_arr = np.tile(seed_arr, P)
    state = np.empty((n, len(rule.state), d), dt)
    n_rec = steps // record_every
    loss = np.empty((n, n_rec + 1))
    diverged = np.empty(n, np.int64)
    xrec = np.empty((n, n_rec + 1, d) if record_x else (n, 0, 0), dt)
    xs = q.xstar.astype(dt, copy=False)
    noisy = nz is not None
    # the lrs of closed loops; an open loop's are its row of lr_table, and its row here is
    # never written (no column at all when every problem is open loop)
    lr_out = np.empty((n, steps if any_closed else 0))

    def lrs_used():
        return used_lrs(lr_table, row, closed, lr_out, diverged, steps)

    if not q.diagonal:
        # the kernel applies A through A^T's contiguous rows (kernels/paths/dense.py)
        scale_t = np.ascontiguousarray(nz.scale.T) if noisy else np.zeros((d, d))
        hess = q.hessian.astype(dt, copy=False)
        args = (state, init, init_row, hess, xs, scale_t, noisy, seed_arr, hp, lr_table, row,
                steps, t0, pw_table, pw_rows, closed, cp, cs, interval, record_every, loss,
                lr_out, diverged, xrec, record_x)
        # problems sharing H advance a group at a time (one pass over H a step serves the
        # group); the grouping leaves every problem's bits as alone (kernels/paths/dense.py)
        group = min(_DENSE_GROUP, -(-n // threads.count()))
        threads.run(km.run_dense, args + (group,), -(-n // group))
        return state, loss, lrs_used, diverged, xrec
    h = q.hessian_diag.astype(dt, copy=False)
    cap_max = _FLOAT_MAX[dt]  # see limits() in kernels/paths/core.py
    if (d <= _LANES_MAX_D and n >= 2 and _lanes_pay(km)
            and not (noisy or record_x or any_closed)):
        lr_const = np.all(lr_table == lr_table[:, :1], axis=1)
        threads.run(km.run_lanes, (state, init, init_row, h, xs, np.zeros(d), seed_arr, hp,
                                   lr_table, row, lr_const, steps, t0, pw_table, pw_rows,
                                   record_every, cap_max, loss, diverged, xrec),
                    -(-n // max(1, km.LANES // d)))
        return state, loss, lrs_used, diverged, xrec
    scale = nz.scale if noisy else np.zeros(d)
    args = (state, init, init_row, h, xs, scale, noisy, seed_arr, hp, lr_table, row, steps, t0,
            pw_table, pw_rows, closed, cp, cs, interval, record_every, cap_max, loss, lr_out,
            diverged, xrec, record_x)
    blocks = -(-d // km.BLOCK)
    if (d * steps >= _SPLIT_MIN_WORK and blocks >= 2 and n < threads.count()
            and blocks * (n_rec + 1) <= _SPLIT_MAX_LOSSES):
        for p in range(n):  # fewer problems than threads: an open-loop one shares out its blocks
            if closed[p]:  # run_diag on problem p alone: its rows of the per-problem arrays
                km.run_diag(*(a[p:p + 1] if k in _PER_PROBLEM else a
                              for k, a in enumerate(args)), 0, 1)
            else:
                diverged[p] = _run_blocks(km, state[p], init[init_row[p]], h, xs, scale, noisy,
                                          seed_arr[p], hp[p], lr_table[row[p]], steps, t0, pw_table,
                                          pw_rows[p], cap_max, record_every, loss[p], xrec[p],
                                          record_x, blocks)
    else:
        threads.run(km.run_diag, args, n)
    return state, loss, lrs_used, diverged, xrec


def _one_schedule(schedule, lrs) -> None:
    if lrs is not None and schedule is not None:
        raise ValueError("give either schedule or lrs, not both")


def simulate(rule, params=None, *, x0=None, hessian_diag=None, hessian=None, xstar=None, steps,
             schedule=None, lrs=None, noise=None, batch=1, seed=None, dtype="float64",
             record_every=1, record_x=False, initial_state=None, start_step=0) -> SimResult:
    """Run ``rule`` on 1/2 (x - x*)^T H (x - x*) from ``x0`` for ``steps`` steps.

    Parameters
    ----------
    rule : str or Rule
        A registered rule (``optanalysis rules`` lists them).
    params : dict, optional
        Hyperparameters (``Rule.params`` validates them; defaults fill the rest).  ``lr`` is the
        base value of the schedule (unused with ``lrs``).
    x0 : array_like (d,)
        Initial iterate; required unless ``initial_state`` is given (x0 is then its first row,
        and may be omitted).
    hessian_diag, hessian : exactly one
        The diagonal of H (array or spectrum spec, see :mod:`optanalysis.models.quadratic`) or a
        dense symmetric PSD matrix.
    xstar : array_like (d,), optional
        Minimiser (default 0).
    steps : int >= 1
    schedule : None, spec string or schedule object
        Anything ``optanalysis.schedules.make_schedule`` accepts; None = constant lr.
    lrs : array_like (steps,), optional
        The lr of each step, finite and >= 0, instead of a schedule (give either, not both).
    noise : None or spec string
        ``isotropic:sigma=S``, ``hessian:sigma=S`` or ``diag:c=[...]`` (covariance / ``batch``).
    batch : int >= 1
        Mini-batch size dividing the noise covariance.
    seed : int in [0, 2^64), required with noise
    dtype : "float64" or "float32"
        Working precision of state and arithmetic (losses are accumulated in float64).
    record_every : int in [1, steps]
        Record the loss (and iterate) every this many steps.
    record_x : bool
        Also return the recorded iterates.
    initial_state : array_like (len(rule.state), d), optional
        The full initial state in ``rule.state`` order, instead of ``rule.init(x0, ...)``: with
        ``start_step`` it continues a run from its ``SimResult.state``.  Finite, and within the
        float32 range with ``dtype="float32"`` (each value is rounded to the working dtype).
    start_step : int >= 0
        Steps already taken: step k of this run (0-based) uses the step count
        t = start_step + k + 1 (bias corrections, ``beta**t``) and the noise of step
        start_step + k.  A run continued from the state after k steps with ``start_step=k``
        (and the rest of its lrs) equals the uninterrupted run bit for bit.  A huge value
        (``10**18``) probes t -> oo, where ``beta**t`` is 0.  The divergence limit, the
        recording and a reduce-on-plateau controller start afresh at the run's own start.

    Returns
    -------
    SimResult

    Examples
    --------
    gd with lr = 0.5 on H = diag(1, 0.5): direction i contracts by 1 - lr h_i per step, so the
    loss after k steps is the sum of h_i (1 - lr h_i)^(2k) / 2 (every number here is exact in
    binary, and so is the run).

    >>> import optanalysis as oa
    >>> run = oa.simulate("gd", {"lr": 0.5}, hessian_diag=[1.0, 0.5], x0=[1.0, 1.0], steps=3)
    >>> run.loss.tolist()  # recorded at steps 0, 1, 2, 3
    [0.75, 0.265625, 0.1103515625, 0.05230712890625]
    >>> [sum(h * (1 - 0.5 * h) ** (2 * k) / 2 for h in (1.0, 0.5)) for k in range(4)]
    [0.75, 0.265625, 0.1103515625, 0.05230712890625]
    """
    rule = get_rule(rule)
    if params is not None and not isinstance(params, dict):
        raise TypeError(f"params must be a dict of hyperparameters, got {type(params).__name__}")
    hp = rule.params_table([params or {}])  # validated, float64, flags 0.0/1.0
    boolean(record_x, "record_x")
    _one_schedule(schedule, lrs)
    q, nz, steps, t0, record_every, dt = _problem(hessian_diag, hessian, xstar, steps, start_step,
                                                  noise, batch, dtype, record_every)
    start = _start(rule, q, x0, initial_state, dtype)
    lrs = None if lrs is None else lr_array(lrs, steps)
    if nz is not None and seed is None:
        raise ValueError("seed is required when noise is given (an integer in [0, 2^64))")
    seed = 0 if seed is None else _seed(seed, "seed")
    state, loss, lr, div, xrec = _run(rule, hp, [schedule], lrs, [seed], q, start, nz, steps, t0,
                                      record_every, dt, record_x)
    st = tuple(state[0])
    return SimResult(loss=loss[0], x=st[0], state=st,
                     diverged_at=None if div[0] < 0 else int(div[0]),
                     xs=xrec[0] if record_x else None, steps=steps, start_step=t0,
                     _lr=lambda: lr()[0])


def simulate_batch(rule, params_list, *, seeds=(0,), x0=None, hessian_diag=None, hessian=None,
                   xstar=None, steps, schedule=None, lrs=None, noise=None, batch=1,
                   dtype="float64", record_every=1, initial_state=None,
                   start_step=0) -> BatchResult:
    """Every (params_list[p], seeds[s]) run of ``simulate``, spread over numba.get_num_threads() threads.

    ``schedule`` is one schedule for all, or a list with one per ``params_list`` entry; ``lrs``
    one sequence for all, shape (steps,), or one per entry, (P, steps); ``initial_state`` one
    for all, (len(rule.state), d), or one per entry, (P, len(rule.state), d).  The other
    arguments are those of :func:`simulate`.  Entry (p, s) equals ``simulate(rule,
    params_list[p], seed=seeds[s], schedule=..., ...)`` bit for bit.

    Parameters
    ----------
    rule : str or Rule
    params_list : list of dict
        The P hyperparameter sets.
    seeds : sequence of int
        The S seeds, each run with every hyperparameter set.
    schedule, lrs, initial_state
        One for all runs, or one per ``params_list`` entry (above).
    x0, hessian_diag, hessian, xstar, steps, noise, batch, dtype, record_every, start_step
        As for :func:`simulate`.

    Returns
    -------
    BatchResult
        Arrays indexed (p, s, ...).
    """
    rule = get_rule(rule)
    if isinstance(params_list, dict) or not isinstance(params_list, (list, tuple)) or not params_list:
        raise TypeError("params_list must be a non-empty list of hyperparameter dicts")
    for prm in params_list:
        if not isinstance(prm, dict):
            raise TypeError(f"params_list entries must be dicts, got {type(prm).__name__}")
    hp = rule.params_table(params_list)
    if (isinstance(seeds, (str, bytes)) or not isinstance(seeds, (list, tuple, np.ndarray))
            or np.ndim(seeds) != 1 or not len(seeds)):
        raise TypeError("seeds must be a non-empty sequence of integers in [0, 2^64)")
    seeds = [_seed(int(s) if isinstance(s, np.integer) else s, "seeds entry") for s in seeds]
    _one_schedule(schedule, lrs)
    if isinstance(schedule, list):
        if len(schedule) != len(hp):
            raise ValueError(f"schedule list must have one entry per params_list entry "
                             f"({len(hp)}), got {len(schedule)}")
        schedules = schedule
    else:
        schedules = [schedule] * len(hp)
    P, S = len(hp), len(seeds)
    q, nz, steps, t0, record_every, dt = _problem(hessian_diag, hessian, xstar, steps, start_step,
                                                  noise, batch, dtype, record_every)
    start = _start(rule, q, x0, initial_state, dtype, P)
    lrs = None if lrs is None else lr_array(lrs, steps, P)
    state, loss, lr, div, _ = _run(rule, hp, schedules, lrs, seeds, q, start, nz, steps, t0,
                                   record_every, dt, False)
    return BatchResult(loss=loss.reshape(P, S, -1), x=state[:, 0].reshape(P, S, q.d),
                       diverged_at=div.reshape(P, S), steps=steps, start_step=t0,
                       _lr=lambda: lr().reshape(P, S, steps))
