"""Generate the golden trajectories of torch.optim / optax on a small diagonal quadratic.

Run (needs torch, optax and jax; the package never imports them)::

    python tests/golden/make_golden.py            # writes tests/golden/*.json

Each JSON file records the library versions, the problem (``hessian_diag``, ``xstar``, ``x0``,
``steps``) and, per run, the library call, the optanalysis rule/params/schedule it corresponds to,
the lr used at every optimizer step and the parameter vector at every step (row 0 = ``x0``).
The loss is f(x) = 1/2 sum_i h_i (x_i - xstar_i)^2; its gradient ``h * (x - xstar)`` is handed to
the library directly (autograd would round differently from the kernels' gradient).

Closed loop: torch ``ReduceLROnPlateau.step(loss)`` and optax ``contrib.reduce_on_plateau``
``update(..., value=loss)`` are fed the loss after every ``interval``-th optimizer step (the
optanalysis contract); the optax scale is applied through ``inject_hyperparams`` as
``lr = base_lr * scale``.  optax schedules are called on an int64 step count (optax's own int32
counter makes some of them compute in float32; see optanalysis.schedules).
"""
from __future__ import annotations

import json
import math
import os
import platform
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
PROBLEM = {
    "hessian_diag": [0.05, 0.3, 1.0, 2.5],
    "xstar": [1.5, -2.0, 1.0, 2.5],
    "x0": [3.5, -3.0, 2.0, 1.5],
    "steps": 200,
}


def loss(problem, x) -> float:
    """The metric fed to reduce-on-plateau (same expression as the loss the kernels record)."""
    h, xs = np.asarray(problem["hessian_diag"]), np.asarray(problem["xstar"])
    d = np.asarray(x, dtype=np.float64) - xs
    return float(0.5 * np.sum(h * d * d))


# ----------------------------------------------------------------------------------- torch
def run_torch(problem, opt_name, opt_kwargs, sched=None, plateau=None, interval=1, dtype="float64"):
    """Trajectory of ``torch.optim.<opt_name>(**opt_kwargs)`` on ``problem``.

    ``sched(optimizer, torch.optim.lr_scheduler)`` makes an optional lr scheduler; ``plateau``
    holds the keyword arguments of ``ReduceLROnPlateau``; ``dtype`` is that of the parameter and
    of the gradient's arithmetic.  Returns (lrs, iterates).
    """
    import torch

    steps = problem["steps"]
    dt = getattr(torch, dtype)
    h = torch.tensor(problem["hessian_diag"], dtype=dt)
    xs = torch.tensor(problem["xstar"], dtype=dt)
    p = torch.nn.Parameter(torch.tensor(problem["x0"], dtype=dt))
    opt = getattr(torch.optim, opt_name)([p], **opt_kwargs)
    lrsched = torch.optim.lr_scheduler
    scheduler = sched(opt, lrsched) if sched else None
    rop = lrsched.ReduceLROnPlateau(opt, **plateau) if plateau is not None else None
    xs_out, lrs = [p.detach().numpy().copy()], []
    for k in range(steps):
        lrs.append(float(opt.param_groups[0]["lr"]))
        p.grad = h * (p.detach() - xs)
        opt.step()
        xs_out.append(p.detach().numpy().copy())
        if scheduler is not None:
            scheduler.step()
        if rop is not None and (k + 1) % interval == 0:
            rop.step(loss(problem, xs_out[-1]))
    return np.array(lrs), np.array(xs_out)


# ----------------------------------------------------------------------------------- optax
def run_optax(problem, make_opt, schedule=None, base_lr=None, plateau=None, interval=1):
    """Trajectory of the optax optimizer ``make_opt(learning_rate)`` on ``problem``.

    ``schedule`` is an optax schedule (called on an int64 count); ``plateau`` the keyword
    arguments of ``optax.contrib.reduce_on_plateau`` (lr = base_lr * scale, injected).
    """
    import jax
    import jax.numpy as jnp
    import optax

    steps = problem["steps"]
    h, xs = jnp.asarray(problem["hessian_diag"]), jnp.asarray(problem["xstar"])
    params = jnp.asarray(problem["x0"])
    if plateau is not None:
        opt = optax.inject_hyperparams(make_opt)(learning_rate=base_lr)
        rop = optax.contrib.reduce_on_plateau(**plateau)
        rop_state = rop.init(params)
        # jitted once per run: eager lax.cond retraces on every call
        rop_update = jax.jit(lambda s, v: rop.update(jnp.zeros_like(params), s, value=v)[1])
    elif schedule is not None:
        opt = make_opt(lambda count: schedule(jnp.asarray(count, jnp.int64)))
    else:
        opt = make_opt(base_lr)
    state = opt.init(params)
    xs_out, lrs = [np.asarray(params).copy()], []
    lr = base_lr
    for k in range(steps):
        if plateau is not None:
            state.hyperparams["learning_rate"] = jnp.asarray(lr, dtype=jnp.float64)
            lrs.append(lr)
        else:
            lrs.append(float(schedule(jnp.asarray(k, jnp.int64))) if schedule is not None else base_lr)
        updates, state = opt.update(h * (params - xs), state, params)
        params = optax.apply_updates(params, updates)
        xs_out.append(np.asarray(params).copy())
        if plateau is not None and (k + 1) % interval == 0:
            rop_state = rop_update(rop_state, jnp.asarray(loss(problem, xs_out[-1])))
            lr = base_lr * float(rop_state.scale)
    return np.array(lrs), np.array(xs_out)


# ------------------------------------------------------------- warmup-stable-decay and friends
def _cooldown(kw):
    return int(round(kw.get("cooldown_fraction", 0.2) * kw["total_steps"]))


def wsd_factor(kw):
    """The ``wsd`` factor as the scalar lambda handed to torch's LambdaLR."""
    t, w, s = kw["total_steps"], kw.get("warmup_steps", 0), kw.get("warmup_factor", 0.0)
    e, shape, c = kw.get("final_factor", 0.0), kw.get("shape", "linear"), _cooldown(kw)

    def factor(k):
        if k < w:
            return s + (1.0 - s) * k / w
        if k >= t:
            return e
        if k < t - c:
            return 1.0
        q = (k - (t - c)) / c
        return 1.0 - (1.0 - e) * q if shape == "linear" else e + (1.0 - e) * (1.0 - math.sqrt(q))
    return factor


def warmup_cosine_factor(kw):
    """The ``warmup_cosine`` factor as the scalar lambda handed to torch's LambdaLR."""
    t, w, s, e = kw["total_steps"], kw.get("warmup_steps", 0), kw.get("warmup_factor", 0.0), kw.get("final_factor", 0.0)

    def factor(k):
        if k < w:
            return s + (1.0 - s) * k / w
        if k >= t:
            return e
        return e + (1.0 - e) * (1.0 + math.cos(math.pi * (k - w) / (t - w))) / 2.0
    return factor


def torch_warmup_decay(name, kw, base):
    """``factory(optimizer, lr_scheduler)`` of the torch scheduler a ``wsd`` / ``warmup_cosine`` /
    ``constant_then_decay`` spec stands for."""
    if name == "wsd":
        return lambda o, L: L.LambdaLR(o, wsd_factor(kw))
    if name == "warmup_cosine":
        return lambda o, L: L.LambdaLR(o, warmup_cosine_factor(kw))
    s, d, e = kw["decay_start"], kw["decay_steps"], kw.get("final_factor", 0.0)

    def make(o, L):
        decay = (L.LinearLR(o, 1.0, e, d) if kw.get("shape", "linear") == "linear"
                 else L.CosineAnnealingLR(o, d, e * base))
        return L.SequentialLR(o, [L.LambdaLR(o, lambda k: 1.0), decay, L.LambdaLR(o, lambda k: e)], [s, s + d])
    return make


def optax_warmup_decay(name, kw, b):
    """The optax schedule a ``wsd_optax`` / ``constant_then_decay_optax`` spec stands for, at base lr ``b``."""
    import jax.numpy as jnp
    import optax

    e, shape = kw.get("final_factor", 0.0), kw.get("shape", "linear")
    if name == "constant_then_decay_optax":
        d = kw["decay_steps"]
        decay = (optax.linear_schedule(b, e * b, d) if shape == "linear" else optax.cosine_decay_schedule(b, d, e))
        return optax.join_schedules([optax.constant_schedule(b), decay], [kw["decay_start"]])
    t, w, c = kw["total_steps"], kw.get("warmup_steps", 0), _cooldown(kw)
    if c == 0:
        cool = optax.constant_schedule(e * b)
    elif shape == "linear":
        cool = optax.linear_schedule(b, e * b, c)
    else:  # optax has no 1 - sqrt schedule: a callable of the count, as join_schedules accepts
        cool = lambda count: e * b + (b - e * b) * (1.0 - jnp.sqrt(jnp.minimum(count, c) / c))  # noqa: E731
    warm = optax.linear_schedule(kw.get("warmup_factor", 0.0) * b, b, w) if w else optax.constant_schedule(b)
    return optax.join_schedules([warm, optax.constant_schedule(b), cool], [w, t - c])


def run_schedule_free(problem, lr, b1=0.9, weight_decay=None, adamw=None):
    """Trajectory of the evaluation point x of ``optax.contrib.schedule_free_sgd`` (constant lr;
    ``schedule_free_adamw`` with the keyword arguments ``adamw`` if given): optax holds y (the
    gradient point); x is ``schedule_free_eval_params`` of its state."""
    import jax.numpy as jnp
    import optax

    h, xs = jnp.asarray(problem["hessian_diag"]), jnp.asarray(problem["xstar"])
    params = jnp.asarray(problem["x0"])
    if adamw is None:
        opt = optax.contrib.schedule_free_sgd(lr, b1=b1, weight_decay=weight_decay)
    else:
        opt = optax.contrib.schedule_free_adamw(lr, b1=b1, **adamw)
    state = opt.init(params)
    out = [np.asarray(params).copy()]
    for _ in range(problem["steps"]):
        updates, state = opt.update(h * (params - xs), state, params)
        params = optax.apply_updates(params, updates)
        out.append(np.asarray(optax.contrib.schedule_free_eval_params(state, params)).copy())
    return np.full(problem["steps"], lr), np.array(out)


def run_qhoptim(problem, lr, momentum, nu):
    """Trajectory of ``qhoptim.pyt.QHM`` (the reference implementation of QHM), float64."""
    import torch
    from qhoptim.pyt import QHM

    h = torch.tensor(problem["hessian_diag"], dtype=torch.float64)
    xs = torch.tensor(problem["xstar"], dtype=torch.float64)
    p = torch.nn.Parameter(torch.tensor(problem["x0"], dtype=torch.float64))
    opt = QHM([p], lr=lr, momentum=momentum, nu=nu)
    out = [p.detach().numpy().copy()]
    for _ in range(problem["steps"]):
        p.grad = h * (p.detach() - xs)
        opt.step()
        out.append(p.detach().numpy().copy())
    return np.full(problem["steps"], lr), np.array(out)


# ----------------------------------------------------------------------------------- the runs
def rule_runs():
    """Every rule and option under a constant lr: (id, library call, rule, params, runner)."""
    import optax

    t = []

    def torch_run(rule, params, opt_name, kwargs):
        call = f"torch.optim.{opt_name}({', '.join(f'{k}={v!r}' for k, v in kwargs.items())})"
        t.append((f"{rule}|{call}", call, rule, params, None, lambda: run_torch(PROBLEM, opt_name, kwargs)))

    def optax_run(rule, params, name, kwargs):
        lr = params["lr"]
        call = f"optax.{name}({', '.join(f'{k}={v!r}' for k, v in {'learning_rate': lr, **kwargs}.items())})"
        make = lambda learning_rate: getattr(optax, name)(learning_rate, **kwargs)  # noqa: E731
        t.append((f"{rule}|{call}", call, rule, params, None, lambda: run_optax(PROBLEM, make, base_lr=lr)))

    torch_run("gd", {"lr": 0.1}, "SGD", {"lr": 0.1})
    for kw in ({"momentum": 0.9}, {"momentum": 0.8, "dampening": 0.3}, {"momentum": 0.9, "nesterov": True},
               {"momentum": 0.0, "weight_decay": 0.05},
               {"momentum": 0.7, "dampening": 0.2, "weight_decay": 0.05}):
        torch_run("sgd_momentum", {"lr": 0.1, **kw}, "SGD", {"lr": 0.1, **kw})
    for kw in ({}, {"alpha": 0.9, "eps": 1e-3}, {"centered": True}, {"momentum": 0.5},
               {"weight_decay": 0.02}, {"centered": True, "momentum": 0.6, "weight_decay": 0.01}):
        torch_run("rmsprop", {"lr": 0.01, **kw}, "RMSprop", {"lr": 0.01, **kw})
    for kw, rk in (({}, {}), ({"amsgrad": True}, {"amsgrad": True}), ({"weight_decay": 0.05}, {"weight_decay": 0.05}),
                   ({"betas": (0.8, 0.99), "eps": 1e-6}, {"beta1": 0.8, "beta2": 0.99, "eps": 1e-6})):
        torch_run("adam", {"lr": 0.05, **rk}, "Adam", {"lr": 0.05, **kw})
    for kw in ({}, {"weight_decay": 0.1, "amsgrad": True}):
        torch_run("adamw", {"lr": 0.05, **kw}, "AdamW", {"lr": 0.05, **kw})
    # torch >= 2.7: Adam(decoupled_weight_decay=True) is AdamW's update
    torch_run("adamw", {"lr": 0.05, "weight_decay": 0.05}, "Adam",
              {"lr": 0.05, "weight_decay": 0.05, "decoupled_weight_decay": True})
    for kw in ({}, {"lr_decay": 0.05}, {"initial_accumulator_value": 0.5}, {"weight_decay": 0.03, "eps": 1e-3}):
        torch_run("adagrad", {"lr": 0.3, **kw}, "Adagrad", {"lr": 0.3, **kw})

    optax_run("gd", {"lr": 0.1}, "sgd", {})
    optax_run("sgd_momentum", {"lr": 0.1, "momentum": 0.9}, "sgd", {"momentum": 0.9})
    optax_run("sgd_momentum", {"lr": 0.1, "momentum": 0.9, "nesterov": True}, "sgd",
              {"momentum": 0.9, "nesterov": True})
    for kw in ({}, {"eps_in_sqrt": False}, {"initial_scale": 1.0}, {"centered": True, "eps": 1e-4},
               {"bias_correction": True}, {"momentum": 0.5}, {"momentum": 0.5, "nesterov": True},
               {"decay": 0.99, "centered": True, "bias_correction": True, "eps_in_sqrt": False, "momentum": 0.3}):
        optax_run("rmsprop_optax", {"lr": 0.01, **kw}, "rmsprop", kw)
    for kw, rk in (({}, {}), ({"eps_root": 1e-8}, {"eps_root": 1e-8}), ({"nesterov": True}, {"nesterov": True}),
                   ({"b1": 0.8, "b2": 0.99, "eps": 1e-6}, {"b1": 0.8, "b2": 0.99, "eps": 1e-6})):
        optax_run("adam_optax", {"lr": 0.05, **rk}, "adam", kw)
    new_torch_rules(torch_run)
    new_optax_rules(optax_run, t)
    # heavy_ball has no library class; torch SGD is the same iterate sequence under a constant lr
    # (rounded differently).  The nesterov rule is skipped: torch's nesterov=True iterate is
    # Sutskever's look-ahead point, a different variable.
    torch_run("heavy_ball", {"lr": 0.1, "momentum": 0.9}, "SGD", {"lr": 0.1, "momentum": 0.9})
    return t


def new_torch_rules(torch_run):
    """NAdam, RAdam, Adamax, Adadelta, ASGD, Rprop (torch's default dtype float32: the float32
    scalar state of NAdam and ASGD is part of what is reproduced)."""
    for kw, rk in (({}, {}), ({"betas": (0.8, 0.99), "momentum_decay": 0.01, "weight_decay": 0.05},
                              {"beta1": 0.8, "beta2": 0.99, "momentum_decay": 0.01, "weight_decay": 0.05}),
                   ({"weight_decay": 0.1, "decoupled_weight_decay": True, "eps": 1e-4},
                    {"weight_decay": 0.1, "decoupled_weight_decay": True, "eps": 1e-4})):
        torch_run("nadam", {"lr": 0.05, **rk}, "NAdam", {"lr": 0.05, **kw})
    for kw, rk in (({}, {}), ({"betas": (0.4, 0.5)}, {"beta1": 0.4, "beta2": 0.5}),
                   ({"betas": (0.85, 0.95), "weight_decay": 0.05}, {"beta1": 0.85, "beta2": 0.95, "weight_decay": 0.05}),
                   ({"weight_decay": 0.1, "decoupled_weight_decay": True, "eps": 1e-4},
                    {"weight_decay": 0.1, "decoupled_weight_decay": True, "eps": 1e-4})):
        torch_run("radam", {"lr": 0.05, **rk}, "RAdam", {"lr": 0.05, **kw})
    for kw, rk in (({}, {}), ({"betas": (0.6, 0.9), "eps": 1e-3, "weight_decay": 0.05},
                              {"beta1": 0.6, "beta2": 0.9, "eps": 1e-3, "weight_decay": 0.05})):
        # lr small enough not to reach xstar in 200 steps: there the gradient is rounding noise
        # that the normalised step amplifies (test_live_libs.py's note on adaptive rules)
        torch_run("adamax", {"lr": 0.004, **rk}, "Adamax", {"lr": 0.004, **kw})
    for kw in ({}, {"rho": 0.5, "eps": 1e-3, "weight_decay": 0.05}):
        torch_run("adadelta", {"lr": 1.0, **kw}, "Adadelta", {"lr": 1.0, **kw})
    for kw in ({}, {"lambd": 0.01, "alpha": 0.5, "t0": 20.0, "weight_decay": 0.05}):
        torch_run("asgd", {"lr": 0.1, **kw}, "ASGD", {"lr": 0.1, **kw})
    for kw, rk in (({}, {}), ({"etas": (0.3, 1.5), "step_sizes": (1e-3, 0.2)},
                              {"etaminus": 0.3, "etaplus": 1.5, "step_size_min": 1e-3, "step_size_max": 0.2})):
        torch_run("rprop", {"lr": 0.05, **rk}, "Rprop", {"lr": 0.05, **kw})


def new_optax_rules(optax_run, t):
    """lion, adabelief, schedule_free_sgd/adamw; QHM against its reference package qhoptim."""
    for kw in ({}, {"b1": 0.5, "b2": 0.9, "weight_decay": 0.0}, {"weight_decay": 0.1}):
        optax_run("lion", {"lr": 0.01, **kw}, "lion", kw)
    for kw in ({}, {"b1": 0.8, "b2": 0.99, "eps": 1e-8, "eps_root": 1e-10}, {"nesterov": True}):
        optax_run("adabelief", {"lr": 0.05, **kw}, "adabelief", kw)
    for lr, b1, wd in ((0.1, 0.9, None), (0.3, 0.5, 0.05)):
        call = f"optax.contrib.schedule_free_sgd(learning_rate={lr}, b1={b1}, weight_decay={wd})"
        params = {"lr": lr, "b1": b1, **({"weight_decay": wd} if wd else {})}
        t.append((f"schedule_free_sgd|{call}", call, "schedule_free_sgd", params, None,
                  lambda lr=lr, b1=b1, wd=wd: run_schedule_free(PROBLEM, lr, b1, wd)))
    for lr, b1, kw in ((0.01, 0.9, {}), (0.02, 0.5, {"b2": 0.99, "eps": 1e-4, "weight_decay": 0.05})):
        call = f"optax.contrib.schedule_free_adamw(learning_rate={lr}, b1={b1}, {kw})"
        t.append((f"schedule_free_adamw|{call}", call, "schedule_free_adamw", {"lr": lr, "b1": b1, **kw}, None,
                  lambda lr=lr, b1=b1, kw=kw: run_schedule_free(PROBLEM, lr, b1, adamw=kw)))
    for lr, momentum, nu in ((0.1, 0.9, 0.7), (0.3, 0.5, 1.0)):
        call = f"qhoptim.pyt.QHM(lr={lr}, momentum={momentum}, nu={nu})"
        t.append((f"qhm|{call}", call, "qhm", {"lr": lr, "momentum": momentum, "nu": nu}, None,
                  lambda lr=lr, m=momentum, nu=nu: run_qhoptim(PROBLEM, lr, m, nu)))


def schedule_runs():
    """Every schedule: torch schedulers with torch optimizers, optax schedules with optax ones."""
    import optax

    t = []

    def torch_run(spec, make, opt_name="SGD", rule="sgd_momentum", opt_kwargs=None, params=None):
        opt_kwargs = opt_kwargs or {"lr": 0.1, "momentum": 0.9}
        params = params or dict(opt_kwargs)
        call = f"torch.optim.{opt_name}({opt_kwargs}) + {make.__doc__}"
        t.append((f"{rule}|{spec}", call, rule, params, spec,
                  lambda: run_torch(PROBLEM, opt_name, opt_kwargs, sched=make)))

    def ts(doc, fn):
        fn.__doc__ = doc
        return fn

    torch_run("step:step_size=30,gamma=0.5", ts("StepLR(step_size=30, gamma=0.5)",
              lambda o, L: L.StepLR(o, 30, 0.5)))
    torch_run("multistep:milestones=[20,50,50,120],gamma=0.6", ts("MultiStepLR([20,50,50,120], gamma=0.6)",
              lambda o, L: L.MultiStepLR(o, [20, 50, 50, 120], 0.6)))
    torch_run("exponential:gamma=0.99", ts("ExponentialLR(gamma=0.99)", lambda o, L: L.ExponentialLR(o, 0.99)))
    torch_run("inverse_time:decay=0.02", ts("LambdaLR(lambda k: 1.0 / (1.0 + 0.02 * k))",
              lambda o, L: L.LambdaLR(o, lambda k: 1.0 / (1.0 + 0.02 * k))))
    torch_run("polynomial:total_iters=150,power=2.0", ts("PolynomialLR(total_iters=150, power=2.0)",
              lambda o, L: L.PolynomialLR(o, 150, 2.0)))
    torch_run("cosine:T_max=80,eta_min=0.005", ts("CosineAnnealingLR(T_max=80, eta_min=0.005)",
              lambda o, L: L.CosineAnnealingLR(o, 80, 0.005)))
    torch_run("linear:start_factor=0.05,end_factor=0.8,total_iters=40",
              ts("LinearLR(start_factor=0.05, end_factor=0.8, total_iters=40)",
                 lambda o, L: L.LinearLR(o, 0.05, 0.8, 40)))
    torch_run("constant_factor:factor=0.25,total_iters=30", ts("ConstantLR(factor=0.25, total_iters=30)",
              lambda o, L: L.ConstantLR(o, 0.25, 30)))
    torch_run("sequential:schedules=[linear(start_factor=0.1,total_iters=10);cosine(T_max=90,eta_min=0.001);"
              "step(step_size=20,gamma=0.5)],milestones=[10,100]",
              ts("SequentialLR([LinearLR(0.1, total_iters=10), CosineAnnealingLR(90, 0.001), StepLR(20, 0.5)], [10, 100])",
                 lambda o, L: L.SequentialLR(o, [L.LinearLR(o, 0.1, total_iters=10), L.CosineAnnealingLR(o, 90, 0.001),
                                                 L.StepLR(o, 20, 0.5)], [10, 100])))
    for spec, kw in (("wsd", {"total_steps": 180, "warmup_steps": 20, "warmup_factor": 0.01,
                              "cooldown_fraction": 0.3, "shape": "sqrt", "final_factor": 0.05}),
                     ("wsd", {"total_steps": 200, "warmup_steps": 10, "cooldown_fraction": 0.5}),
                     ("warmup_cosine", {"total_steps": 170, "warmup_steps": 15, "warmup_factor": 0.1,
                                        "final_factor": 0.1}),
                     ("constant_then_decay", {"decay_start": 60, "decay_steps": 100, "final_factor": 0.02}),
                     ("constant_then_decay", {"decay_start": 40, "decay_steps": 90, "shape": "cosine",
                                              "final_factor": 0.1})):
        make = torch_warmup_decay(spec, kw, 0.1)
        make.__doc__ = f"{spec} {kw} (see make_golden.torch_warmup_decay)"
        torch_run(spec + ":" + ",".join(f"{k}={v}" for k, v in kw.items()), make)
    # Schedules with the rules whose lr enters beyond a plain factor.
    torch_run("cosine:T_max=60", ts("CosineAnnealingLR(T_max=60)", lambda o, L: L.CosineAnnealingLR(o, 60)),
              "Adam", "adam", {"lr": 0.05})
    torch_run("step:step_size=25,gamma=0.5", ts("StepLR(step_size=25, gamma=0.5)", lambda o, L: L.StepLR(o, 25, 0.5)),
              "AdamW", "adamw", {"lr": 0.05, "weight_decay": 0.1})
    torch_run("exponential:gamma=0.98", ts("ExponentialLR(gamma=0.98)", lambda o, L: L.ExponentialLR(o, 0.98)),
              "RMSprop", "rmsprop", {"lr": 0.01, "momentum": 0.5, "centered": True})
    torch_run("multistep:milestones=[50,100],gamma=0.3", ts("MultiStepLR([50, 100], gamma=0.3)",
              lambda o, L: L.MultiStepLR(o, [50, 100], 0.3)), "Adagrad", "adagrad", {"lr": 0.3, "lr_decay": 0.01})
    torch_run("linear:start_factor=0.2,total_iters=50", ts("LinearLR(start_factor=0.2, total_iters=50)",
              lambda o, L: L.LinearLR(o, 0.2, total_iters=50)), "SGD", "sgd_momentum",
              {"lr": 0.1, "momentum": 0.8, "dampening": 0.2, "nesterov": False, "weight_decay": 0.02})

    def optax_run(spec, sched, call, rule="sgd_momentum", params=None, name="sgd", kwargs=None):
        params = params or {"lr": 0.1, "momentum": 0.9}
        kwargs = {"momentum": 0.9} if kwargs is None else kwargs
        make = lambda learning_rate: getattr(optax, name)(learning_rate, **kwargs)  # noqa: E731
        full = f"optax.{name}(learning_rate=<schedule>, {kwargs}) with optax.{call}"
        t.append((f"{rule}|{spec}", full, rule, params, spec,
                  lambda: run_optax(PROBLEM, make, schedule=sched, base_lr=params["lr"])))

    optax_run("polynomial_optax:init_value=0.1,end_value=0.01,power=2.0,transition_steps=150,transition_begin=10",
              optax.polynomial_schedule(0.1, 0.01, 2.0, 150, 10), "polynomial_schedule(0.1, 0.01, 2.0, 150, 10)")
    optax_run("linear_optax:init_value=0.01,end_value=0.1,transition_steps=50,transition_begin=5",
              optax.linear_schedule(0.01, 0.1, 50, 5), "linear_schedule(0.01, 0.1, 50, 5)")
    optax_run("exponential_optax:init_value=0.1,transition_steps=10,decay_rate=0.8,transition_begin=5,"
              "staircase=true,end_value=0.02",
              optax.exponential_decay(0.1, 10, 0.8, 5, True, 0.02), "exponential_decay(0.1, 10, 0.8, 5, True, 0.02)")
    optax_run("exponential_optax:init_value=0.1,transition_steps=7,decay_rate=0.95",
              optax.exponential_decay(0.1, 7, 0.95), "exponential_decay(0.1, 7, 0.95)")
    optax_run("cosine_optax:init_value=0.1,decay_steps=120,alpha=0.1,exponent=2.0",
              optax.cosine_decay_schedule(0.1, 120, 0.1, 2.0), "cosine_decay_schedule(0.1, 120, 0.1, 2.0)")
    optax_run("warmup_cosine_optax:init_value=0.0,peak_value=0.1,warmup_steps=20,decay_steps=150,end_value=0.001",
              optax.warmup_cosine_decay_schedule(0.0, 0.1, 20, 150, 0.001),
              "warmup_cosine_decay_schedule(0.0, 0.1, 20, 150, 0.001)")
    optax_run("warmup_exponential_optax:init_value=0.01,peak_value=0.1,warmup_steps=15,transition_steps=10,"
              "decay_rate=0.7,transition_begin=5,staircase=true,end_value=0.005",
              optax.warmup_exponential_decay_schedule(0.01, 0.1, 15, 10, 0.7, 5, True, 0.005),
              "warmup_exponential_decay_schedule(0.01, 0.1, 15, 10, 0.7, 5, True, 0.005)")
    optax_run("join_optax:schedules=[linear_optax(init_value=0.0,end_value=0.1,transition_steps=20);"
              "cosine_optax(init_value=0.1,decay_steps=100);constant],boundaries=[20,120]",
              optax.join_schedules([optax.linear_schedule(0.0, 0.1, 20), optax.cosine_decay_schedule(0.1, 100),
                                    optax.constant_schedule(0.1)], [20, 120]),
              "join_schedules([linear_schedule(0.0, 0.1, 20), cosine_decay_schedule(0.1, 100), "
              "constant_schedule(0.1)], [20, 120])")
    optax_run("piecewise_constant_optax:init_value=0.1,boundaries=[30,80,140],scales=[0.5,1.5,0.2]",
              optax.piecewise_constant_schedule(0.1, {30: 0.5, 80: 1.5, 140: 0.2}),
              "piecewise_constant_schedule(0.1, {30: 0.5, 80: 1.5, 140: 0.2})")
    for spec, kw in (("wsd_optax", {"total_steps": 180, "warmup_steps": 20, "warmup_factor": 0.01,
                                    "cooldown_fraction": 0.3, "shape": "sqrt", "final_factor": 0.05}),
                     ("wsd_optax", {"total_steps": 200, "warmup_steps": 10, "cooldown_fraction": 0.5}),
                     ("constant_then_decay_optax", {"decay_start": 60, "decay_steps": 100, "final_factor": 0.02}),
                     ("constant_then_decay_optax", {"decay_start": 40, "decay_steps": 90, "shape": "cosine",
                                                    "final_factor": 0.1})):
        optax_run(spec + ":" + ",".join(f"{k}={v}" for k, v in kw.items()), optax_warmup_decay(spec, kw, 0.1),
                  f"join_schedules (see make_golden.optax_warmup_decay) for {spec} {kw}")
    optax_run("cosine_optax:init_value=0.05,decay_steps=150", optax.cosine_decay_schedule(0.05, 150),
              "cosine_decay_schedule(0.05, 150)", "adam_optax", {"lr": 0.05}, "adam", {})
    optax_run("exponential_optax:init_value=0.01,transition_steps=20,decay_rate=0.5",
              optax.exponential_decay(0.01, 20, 0.5), "exponential_decay(0.01, 20, 0.5)", "rmsprop_optax",
              {"lr": 0.01, "momentum": 0.5, "centered": True}, "rmsprop", {"momentum": 0.5, "centered": True})
    return t


def plateau_runs():
    """Reduce-on-plateau driven by the run's own loss (torch and optax)."""
    import optax

    t = []
    for kw, interval in (({"factor": 0.5, "patience": 2, "threshold": 0.05}, 1),
                         ({"factor": 0.5, "patience": 1, "threshold": 0.01, "threshold_mode": "abs", "cooldown": 2,
                           "min_lr": 0.02}, 3),
                         ({"mode": "max", "factor": 0.7, "patience": 3, "eps": 0.005}, 2)):
        spec = "plateau:" + ",".join(f"{k}={v}" for k, v in {**kw, "interval": interval}.items())
        call = f"torch.optim.SGD(lr=0.1, momentum=0.9) + ReduceLROnPlateau({kw}) every {interval} steps"
        t.append((f"sgd_momentum|{spec}", call, "sgd_momentum", {"lr": 0.1, "momentum": 0.9}, spec,
                  lambda kw=kw, interval=interval: run_torch(PROBLEM, "SGD", {"lr": 0.1, "momentum": 0.9}, plateau=kw,
                                                             interval=interval)))
    for kw, interval in (({"factor": 0.5, "patience": 2, "rtol": 0.05}, 1),
                         ({"factor": 0.5, "patience": 0, "rtol": 0.0, "atol": 0.01, "cooldown": 3}, 1),
                         ({"factor": 0.6, "patience": 1, "rtol": 0.3, "accumulation_size": 3, "cooldown": 1,
                           "min_scale": 0.1}, 2)):
        spec = "plateau_optax:" + ",".join(f"{k}={v}" for k, v in {**kw, "interval": interval}.items())
        call = f"optax.sgd(lr=0.1, momentum=0.9) + contrib.reduce_on_plateau({kw}) every {interval} steps"
        make = lambda learning_rate: optax.sgd(learning_rate, momentum=0.9)  # noqa: E731
        t.append((f"sgd_momentum|{spec}", call, "sgd_momentum", {"lr": 0.1, "momentum": 0.9}, spec,
                  lambda kw=kw, interval=interval, make=make: run_optax(PROBLEM, make, base_lr=0.1, plateau=kw,
                                                                        interval=interval)))
    return t


def versions() -> dict:
    import jax
    import optax
    import qhoptim
    import torch

    return {"torch": torch.__version__, "optax": optax.__version__, "jax": jax.__version__,
            "qhoptim": qhoptim.__version__,
            "numpy": np.__version__, "python": platform.python_version()}


def write_json(path: Path, data) -> None:
    """Atomic write: temp file in the same directory, then os.replace."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        os.chmod(tmp, 0o644)
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, separators=(",", ":"))
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def collect(verbose=False) -> dict:
    """The content of every golden file, ``{"rules": {...}, "schedules": {...}, "plateau": {...}}``."""
    import jax

    jax.config.update("jax_enable_x64", True)
    warnings.filterwarnings("ignore")
    out = {}
    for name, runs in (("rules", rule_runs), ("schedules", schedule_runs), ("plateau", plateau_runs)):
        records = []
        for run_id, call, rule, params, schedule, runner in runs():
            lrs, xs = runner()
            records.append({"id": run_id, "library_call": call, "rule": rule, "params": params,
                            "schedule": schedule, "lr": lrs.tolist(), "x": xs.tolist()})
            if verbose:
                print(f"{name}: {run_id}", file=sys.stderr)
        out[name] = {"versions": versions(), "problem": PROBLEM, "runs": records}
    return out


def main() -> int:
    for name, data in collect(verbose=True).items():
        write_json(HERE / f"golden_{name}.json", data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
