"""Every implementation timed side by side, behind one interface.

``make(name, rule, params, h, x0, xstar)`` returns ``(run, state)``: ``run(steps)`` performs that
many steps (optanalysis and JAX restart from ``x0`` each call, NumPy and torch continue their
trajectory, which costs the same), ``state()`` gives the arrays of the last call, iterate first.
"""
from __future__ import annotations

import importlib.util

import numpy as np

from numpy_baseline import make_numpy

__all__ = ["CONTENDERS", "available", "make"]

# name -> (rules it applies to, module it needs)
CONTENDERS = {
    "optanalysis.simulate": (("heavy_ball", "adam"), "optanalysis.simulation"),
    "optanalysis run_diag": (("heavy_ball", "adam"), "optanalysis.kernels"),
    "numpy": (("heavy_ball", "adam"), "numpy"),
    "torch foreach": (("heavy_ball", "adam"), "torch"),
    "torch fused": (("heavy_ball", "adam"), "torch"),
    "torch fused, 1 thread": (("heavy_ball", "adam"), "torch"),
    "optax jit+scan": (("heavy_ball", "adam"), "optax"),
}


def available(name: str, rule: str) -> bool:
    """Whether ``name`` can run ``rule`` here (library installed)."""
    rules, module = CONTENDERS[name]
    if rule not in rules:
        return False
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def make(name: str, rule: str, params: dict, h, x0, xstar):
    """``(run, state)`` for contender ``name`` (see the module docstring)."""
    if name not in CONTENDERS:
        raise ValueError(f"name must be one of {sorted(CONTENDERS)}, got {name!r}")
    if name == "optanalysis.simulate":
        return _simulate(rule, params, h, x0, xstar)
    if name == "optanalysis run_diag":
        return _run_diag(rule, params, h, x0, xstar)
    if name == "numpy":
        return make_numpy(rule, params, h, x0, xstar)
    if name.startswith("torch"):
        from torch_baseline import make_torch

        threads = 1 if name.endswith("1 thread") else None
        return make_torch(rule, name.split()[1].rstrip(","), params, h, x0, xstar, threads=threads)
    from jax_baseline import make_optax

    return make_optax(rule, params, h, x0, xstar)


def _simulate(rule, params, h, x0, xstar):
    from optanalysis.simulation import simulate

    dtype = np.dtype(h.dtype).name
    last = []

    def run(steps):
        # record_every=steps: losses at steps 0 and `steps` only, as the competitors record none.
        last[:] = [simulate(rule, params, x0=x0, hessian_diag=h, xstar=xstar, steps=steps,
                            dtype=dtype, record_every=steps)]

    return run, lambda: tuple(last[0].state)


def _run_diag(rule, params, h, x0, xstar):
    """The compiled batch kernel called directly with buffers allocated once per step count:
    no validation, no schedule evaluation, no result packing (what simulate adds on top)."""
    from optanalysis.kernels import kernel_module
    from optanalysis.rules import get_rule
    from optanalysis.kernels.arguments import power_tables

    r = get_rule(rule)
    km = kernel_module(r)
    vals = r.values(r.params(**params))
    dt, d = h.dtype, h.size
    init = np.stack([np.broadcast_to(np.asarray(v, dt), (d,)) for v in r.init(x0, *vals)])[None]
    state = init.copy()
    hp = np.array([[float(v) for v in vals]])  # float64 whatever the dtype, as simulate passes them
    fixed = dict(a=np.zeros(d), seeds=np.zeros(1, np.uint64), row=np.zeros(1, np.int64),
                 closed=np.zeros(1, np.bool_), cp=np.zeros((1, 1)), cs=np.zeros((1, 1)),
                 interval=np.ones(1, np.int64), diverged=np.empty(1, np.int64),
                 xrec=np.empty((1, 0, 0), dt))
    buffers = {}
    cap_max = float(np.finfo(dt).max)

    def run(steps):
        if steps not in buffers:
            buffers.clear()
            # a constant lr is one value, as simulate passes it; lr_out is only written by a
            # closed loop
            buffers[steps] = (np.full((1, 1), vals[0]), np.empty((1, 2)), np.empty((1, 0)),
                              power_tables(km, hp, steps))  # as simulate tabulates them
        lrs, loss, lr_out, powers = buffers[steps]
        km.run_diag(state, init, fixed["row"], h, xstar, fixed["a"], False, fixed["seeds"], hp,
                    lrs, fixed["row"], steps, 0, *powers, fixed["closed"], fixed["cp"], fixed["cs"],
                    fixed["interval"], steps, cap_max, loss, lr_out, fixed["diverged"],
                    fixed["xrec"], False, 0, 1)  # one problem, one thread, from init
        if fixed["diverged"][0] != -1:
            raise RuntimeError(f"{rule} diverged in the benchmark: the timing is meaningless")

    return run, lambda: tuple(state[0])
