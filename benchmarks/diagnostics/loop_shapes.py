"""Diagnosis micro-benchmark: which loop shape makes a rule's compiled step fast.

Only the shapes that still explain a decision of the kernels are kept (each named below with
the decision it explains).  Every loop below calls the rule's own ``step`` (the single
definition in optanalysis/rules, made callable from Numba by ``optanalysis.kernels.jitable``);
only the loop around it changes.
The kernel runs the rule as ``kernels/rewrite.py`` writes it (torch's float32 arithmetic, powers
of t tabulated): float64 shapes equal it bit for bit, float32 shapes round differently.  These
shapes are the diagnosis that led to the kernel's certified fast path (no per-step loss sum).
One problem (constant lr, diagonal quadratic g = h (x - xstar)), loss recorded at the end only,
as in the element-steps benchmark.  The shapes, each one change from the previous:

``kernel run_diag``
    the package's kernel as built, called directly for one problem (``optanalysis run_diag``;
    run_diag runs one problem on one thread; its blocks hold 512 coordinates, the shapes below
    256);
``offset index, per-step loss``
    state ``S[k, b0 + j]`` updated in place, blocks of ``BLOCK``, all steps of a block before
    the next, the float64 loss of every step summed, the step count passed as a float.  The
    index ``b0 + j`` is a signed runtime value, so Numba emits a negative-index wraparound
    select on every access and LLVM leaves the loop scalar;
``blocked, per-step loss``
    the same loop on 1-D views ``S[k, b0:b1]`` indexed from 0 (no copy): the wraparound check
    is provably dead and the loop vectorises (bitwise the same results).  Explains the
    kernels' unsigned coordinate index (same effect), so they time like this shape;
``blocked``
    the same without the per-step loss: explains the certified fast path (the kernels sum the
    loss only at recorded steps and certify the others elementwise);
``one coordinate at a time`` (heavy ball, d <= 1e3)
    coordinates outermost: all steps of one coordinate, its state in registers, then the next.
    Each step waits for the previous one, so the time per element-step is the latency of the
    rule's step (its chain of dependent operations), and no loop that keeps the arithmetic
    can advance one problem by a step in less, however many coordinates it has: the floor of
    a problem of small d.  Explains the 8-step passes over small blocks and the lanes (several
    problems side by side), the two ways around that floor;
``blocked, integer t`` (Adam only)
    ``blocked`` with the step count an integer: ``beta**t`` is then Numba's integer-power loop,
    evaluated per element, which keeps the loop scalar; a float t makes it ``llvm.pow`` (pure,
    hoisted out of the coordinate loop).  Explains why the kernels pass t as a float.

``bench_sweep_shape`` times the ``blocked`` shape problem after problem over the sweep grid:
against ``simulate_batch`` it explains the lanes (problems innermost) for heavy ball.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import importlib

import numba
import numpy as np
from numba import njit

import optanalysis.kernels.jitable  # noqa: F401  (registers the rules' steps for Numba)
from optanalysis.kernels import kernel_module
from optanalysis.kernels.reduce import lane_sum
from optanalysis.rules import adam, heavy_ball

from contenders import make
from problem import RULE_PARAMS, check_normal, quadratic
from timing import time_steps

__all__ = ["BLOCK", "bench_loop_shapes", "bench_sweep_shape"]

# the kernels' own loss, from a built kernel package (its path modules import their binding)
_core = importlib.import_module(kernel_module("heavy_ball").__name__ + ".core")
_block_loss, _elem_loss = _core._block_loss, _core._elem_loss

BLOCK = 256  # 4 state + h + xstar blocks of 256 float64 = 12 KiB: stays in L1 (32-48 KiB)
_OPTS = dict(cache=True, error_model="numpy")


@njit(**_OPTS)
def _hb_block(x, xp, h, xs, lrs, momentum, loss_every_step, tcast):
    n, steps = x.size, lrs.size
    lt = np.empty(n)
    total = 0.0
    for k in range(steps):
        lr = lrs[k]
        t = tcast(k + 1)
        for j in range(n):
            g = h[j] * (heavy_ball.grad_point(x[j], xp[j], lr, momentum) - xs[j])
            x[j], xp[j] = heavy_ball.step(x[j], xp[j], g, lr, momentum, t)
        if loss_every_step:
            total += _block_loss(x, h, xs, 0, n, lt)
    return total


@njit(**_OPTS)
def _adam_block(x, m, v, vmax, h, xs, lrs, beta1, beta2, eps, wd, amsgrad, loss_every_step,
                tcast):
    n, steps = x.size, lrs.size
    lt = np.empty(n)
    total = 0.0
    for k in range(steps):
        lr = lrs[k]
        t = tcast(k + 1)
        for j in range(n):
            g = h[j] * (adam.grad_point(x[j], m[j], v[j], vmax[j], lr, beta1, beta2, eps, wd,
                                        amsgrad) - xs[j])
            x[j], m[j], v[j], vmax[j] = adam.step(x[j], m[j], v[j], vmax[j], g, lr, beta1,
                                                  beta2, eps, wd, amsgrad, t)
        if loss_every_step:
            total += _block_loss(x, h, xs, 0, n, lt)
    return total


@njit(**_OPTS)
def _hb_latency(S, h, xs, lrs, hyper, loss_every_step, tcast):
    """All steps of each coordinate in turn, the state in registers."""
    momentum = hyper[1]
    for j in range(h.size):
        x, xp = S[0, j], S[1, j]
        for k in range(lrs.size):
            lr = lrs[k]
            g = h[j] * (heavy_ball.grad_point(x, xp, lr, momentum) - xs[j])
            x, xp = heavy_ball.step(x, xp, g, lr, momentum, tcast(k + 1))
        S[0, j], S[1, j] = x, xp


@njit(**_OPTS)
def _int(k):
    return k


@njit(**_OPTS)
def _float(k):
    return np.float64(k)


@njit(**_OPTS)
def _run_block(S, h, xs, lrs, hyper, b0, b1, loss_every_step, tcast):
    """Every step of block b0:b1, on 1-D views indexed from 0."""
    hb, xb = h[b0:b1], xs[b0:b1]
    if S.shape[0] == 2:
        _hb_block(S[0, b0:b1], S[1, b0:b1], hb, xb, lrs, hyper[1], loss_every_step, tcast)
    else:
        _adam_block(S[0, b0:b1], S[1, b0:b1], S[2, b0:b1], S[3, b0:b1], hb, xb, lrs, hyper[1],
                    hyper[2], hyper[3], hyper[4], False, loss_every_step, tcast)


@njit(**_OPTS)
def _offset_block(S, h, xs, lrs, hyper, b0, b1, loss_every_step, tcast):
    """The kernel's shape: S[k, b0 + j] in place, per-step float64 loss."""
    n = b1 - b0
    lt = np.empty(n)
    c1, c2, c3, c4 = hyper[1], hyper[2 % hyper.size], hyper[3 % hyper.size], hyper[4 % hyper.size]
    for k in range(lrs.size):
        lr = lrs[k]
        t = tcast(k + 1)
        for j in range(n):
            i = b0 + j
            if S.shape[0] == 2:
                g = h[i] * (heavy_ball.grad_point(S[0, i], S[1, i], lr, c1) - xs[i])
                S[0, i], S[1, i] = heavy_ball.step(S[0, i], S[1, i], g, lr, c1, t)
            else:
                g = h[i] * (adam.grad_point(S[0, i], S[1, i], S[2, i], S[3, i], lr, c1, c2, c3,
                                            c4, False) - xs[i])
                S[0, i], S[1, i], S[2, i], S[3, i] = adam.step(
                    S[0, i], S[1, i], S[2, i], S[3, i], g, lr, c1, c2, c3, c4, False, t)
            lt[j] = _elem_loss(S[0, i], h[i], xs[i])
        lane_sum(lt, n)


@njit(**_OPTS)
def _offset(S, h, xs, lrs, hyper, loss_every_step, tcast):
    for b0 in range(0, h.size, BLOCK):
        _offset_block(S, h, xs, lrs, hyper, b0, min(b0 + BLOCK, h.size), loss_every_step, tcast)


@njit(**_OPTS)
def _serial(S, h, xs, lrs, hyper, loss_every_step, tcast):
    for b0 in range(0, h.size, BLOCK):
        _run_block(S, h, xs, lrs, hyper, b0, min(b0 + BLOCK, h.size), loss_every_step, tcast)


_POOLS = {}


def _in_threads(kernel, args, n):
    """``kernel(*args, first, n)`` for first = 0..n-1 on n threads (the kernels release the
    GIL), as ``optanalysis.simulate`` spreads a batch; a persistent pool per thread count."""
    if n == 1:
        kernel(*args, 0, 1)
        return
    if n not in _POOLS:
        _POOLS[n] = ThreadPoolExecutor(n)
    list(_POOLS[n].map(lambda first: kernel(*args, first, n), range(n)))


# name -> (runner, per-step loss, step-count type); the order is the chain of single changes.
SHAPES = {
    "offset index, per-step loss": (_offset, True, _float),
    "blocked, per-step loss": (_serial, True, _float),
    "blocked": (_serial, False, _float),
    "one coordinate at a time": (_hb_latency, False, _float),
    "blocked, integer t": (_serial, False, _int),
}


def _make_shape(shape, rule, h, x0, xstar):
    """``(run, state)`` for one loop shape, restarting from x0 like the kernel contender."""
    runner, loss_every_step, tcast = SHAPES[shape]
    params = RULE_PARAMS[rule]
    nstate = 2 if rule == "heavy_ball" else 4
    if rule == "heavy_ball":
        hyper = np.array([params["lr"], params["momentum"]], h.dtype)
        init = np.stack([x0, x0])
    else:
        hyper = np.array([params["lr"], params["beta1"], params["beta2"], params["eps"], 0.0],
                         h.dtype)
        init = np.stack([x0] + [np.zeros_like(x0)] * (nstate - 1))
    S = init.copy()
    lrs = {}

    def run(steps):
        if steps not in lrs:
            lrs.clear()
            lrs[steps] = np.full(steps, hyper[0])
        np.copyto(S, init)
        runner(S, h, xstar, lrs[steps], hyper, loss_every_step, tcast)

    return run, lambda: tuple(S)


def bench_loop_shapes(*, quick: bool = False, target: float = 0.3, progress=print) -> list:
    """ns per element-step of each loop shape, float64 and float32, at a cache-resident and a
    DRAM-sized dimension; each shape's final state is checked against the kernel's."""
    sizes = (10**3,) if quick else (10, 10**3, 10**6)
    rows = []
    for rule in ("heavy_ball", "adam"):
        for dtype in ("float64", "float32"):
            for d in sizes:
                h, x0, xstar = quadratic(d, dtype)
                shapes = ["kernel run_diag", *SHAPES]
                # no power of t in heavy ball; Adam's chain would time libm pow; the
                # latency does not depend on d
                shapes.remove("blocked, integer t" if rule == "heavy_ball"
                              else "one coordinate at a time")
                if d > 10**3 and "one coordinate at a time" in shapes:
                    shapes.remove("one coordinate at a time")
                ref = None
                for shape in shapes:
                    if shape.startswith("kernel"):
                        run, state = make("optanalysis run_diag", rule, RULE_PARAMS[rule], h,
                                          x0, xstar)
                    else:
                        run, state = _make_shape(shape, rule, h, x0, xstar)
                    run(50)  # compile; the same 50 steps give a bitwise comparison
                    x = np.array(state()[0], copy=True)
                    if ref is None:
                        ref = x
                    same = bool(np.array_equal(x, ref))
                    timing = time_steps(run, d, target=target, repeats=3, max_steps=2 * 10**7)
                    check_normal(*state())
                    rows.append(dict(rule=rule, dtype=dtype, d=d, shape=shape, threads=1,
                                     bitwise_equal_kernel=same,
                                     **{k: timing[k] for k in ("steps", "seconds",
                                                               "ns_per_element_step")}))
                    # Expected differences: float32 shapes run the rule as written (Numba widens
                    # it to float64 per element), the kernel torch's float32 arithmetic
                    # (kernels/mixed.py); Numba's integer power is not libm pow.
                    expected = dtype == "float32" or "integer t" in shape
                    note = "" if same else ("  (rounds differently, as expected)" if expected
                                            else "  (differs from the kernel!)")
                    progress(f"  {rule:10s} {dtype:7s} d={d:<8d} {shape:28s} "
                             f"{timing['ns_per_element_step']:8.3f} ns/elem-step{note}")
    return rows


@njit(nogil=True, **_OPTS)
def _sweep(S, h, xs, lrs, hyper, tcast, first, stride):
    """Problems first, first + stride, ... of a batch: the ``blocked`` shape on their rows."""
    for p in range(first, S.shape[0], stride):
        _serial(S[p], h, xs, lrs[p], hyper[p], False, tcast)


def bench_sweep_shape(rule: str, side: int, *, repeats: int = 3, progress=print) -> dict:
    """The ``blocked`` shape (one problem after another per thread, coordinates innermost, as
    the kernel) over the sweep grid of sweep.py, on 1 and on all threads, checked bitwise
    against ``simulate_batch``.

    (Problems innermost is the kernel's ``run_lanes``, which simulate_batch uses for rules
    without tabulated powers, heavy ball here; with per-lane powers Adam is slower in lanes
    than problem by problem, see ``_LANES_MAX_D`` in optanalysis/simulation.py.)"""
    import time

    from optanalysis.simulation import simulate_batch
    from sweep import D, STEPS, grid

    params_list, _ = grid(rule, side)
    h, x0, xstar = quadratic(D, "float64")
    keys = ("lr", "momentum") if rule == "heavy_ball" else ("lr", "beta1", "beta2", "eps")
    hyper = np.array([[p[k] for k in keys] + ([0.0] if rule == "adam" else [])
                      for p in params_list])
    lrs = np.repeat(hyper[:, :1], STEPS, axis=1)
    nstate = 2 if rule == "heavy_ball" else 4
    init = np.zeros((len(params_list), nstate, D))
    init[:, 0] = x0
    if rule == "heavy_ball":
        init[:, 1] = x0
    S = init.copy()

    def blocked():
        np.copyto(S, init)
        _in_threads(_sweep, (S, h, xstar, lrs, hyper, _float), numba.get_num_threads())

    out = dict(rule=rule, configs=len(params_list), d=D, steps=STEPS)
    threads = numba.get_num_threads()
    try:
        for name, fn in (("blocked", blocked),):
            for n in sorted({1, threads}):
                numba.set_num_threads(n)
                fn()  # compile
                times = []
                for _ in range(repeats):
                    start = time.perf_counter()
                    fn()
                    times.append(time.perf_counter() - start)
                out[f"{name}_{n}_threads_s"] = min(times)
                progress(f"  sweep shape {rule:10s} {name:8s} {n} thread(s): {min(times):.3f} s")
    finally:
        numba.set_num_threads(threads)
    ref = simulate_batch(rule, params_list, x0=x0, hessian_diag=h, xstar=xstar, steps=STEPS,
                         record_every=STEPS).x[:, 0, :]
    out["bitwise_equal_simulate_batch"] = bool(np.array_equal(S[:, 0], ref))
    out["threads"] = threads
    return out
