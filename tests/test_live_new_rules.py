"""Live cross-checks of the rules added in issue 24 against torch.optim, optax, qhoptim and the PyPI
``schedulefree`` package (skipped when they are not installed).

As ``test_live_libs.py``: configurations (options, problems, torch schedulers) are drawn from
OPTANALYSIS_LIVE_SEED, fresh each session, and every failure names the seed and the configuration.
Tolerance 1e-12 relative at the problem's O(1) scale (``test_golden.py``): the same float64
arithmetic up to the order of operations and torch's fused multiply-adds (measured <= 1e-14 here),
with torch's default dtype float32, so NAdam's and ASGD's float32 scalar state is part of what is
compared.  The adaptive rules are drawn with learning rates that do not reach x* within 200 steps
(every |x0_i - x*_i| >= 1): near x* the gradient is rounding noise that a normalised step amplifies
(``test_live_libs.py``'s note).
"""
import os
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")
optax = pytest.importorskip("optax")
pytest.importorskip("qhoptim")
schedulefree = pytest.importorskip("schedulefree")

from test_live_libs import RTOL, RTOL32_TORCH, _assert_trajectory, _draw_torch, _problem, _spec, make_golden  # noqa: E402

from optanalysis.rules import get_rule  # noqa: E402
from optanalysis.simulation import simulate  # noqa: E402

SEED = int(os.environ["OPTANALYSIS_LIVE_SEED"])


def _draw(rng):
    """(torch class, its kwargs, rule, rule params) for one of the six new torch rules."""
    u = lambda a, b: float(rng.uniform(a, b))  # noqa: E731
    coin = lambda: bool(rng.random() < 0.5)  # noqa: E731
    name = str(rng.choice(["NAdam", "RAdam", "Adamax", "Adadelta", "ASGD", "Rprop"]))
    if name in ("NAdam", "RAdam", "Adamax"):
        b1, b2 = u(0.5, 0.9), float(rng.choice([u(0.9, 0.999), u(0.3, 0.66)]))  # RAdam: both switch sides
        kw = {"lr": u(0.001, 0.004), "betas": (b1, b2), "eps": 10 ** u(-8, -4), "weight_decay": u(0, 0.1) * coin()}
        rk = {"lr": kw["lr"], "beta1": b1, "beta2": b2, "eps": kw["eps"], "weight_decay": kw["weight_decay"]}
        if name == "NAdam":
            kw["momentum_decay"] = rk["momentum_decay"] = u(0.001, 0.05)
        if name != "Adamax" and coin():
            kw["decoupled_weight_decay"] = rk["decoupled_weight_decay"] = True
        return name, kw, name.lower(), rk
    if name == "Adadelta":
        kw = {"lr": u(0.2, 1.0), "rho": u(0.5, 0.95), "eps": 10 ** u(-6, -3), "weight_decay": u(0, 0.1) * coin()}
        return name, kw, "adadelta", dict(kw)
    if name == "ASGD":
        kw = {"lr": u(0.02, 0.2), "lambd": 10 ** u(-4, -1), "alpha": u(0.3, 1.0), "t0": float(rng.integers(0, 150)),
              "weight_decay": u(0, 0.1) * coin()}
        return name, kw, "asgd", dict(kw)
    etas, sizes = (u(0.2, 0.9), u(1.05, 2.0)), (10 ** u(-6, -3), u(0.05, 1.0))
    kw = {"lr": u(0.001, 0.05), "etas": etas, "step_sizes": sizes}
    return name, kw, "rprop", {"lr": kw["lr"], "etaminus": etas[0], "etaplus": etas[1],
                               "step_size_min": sizes[0], "step_size_max": sizes[1]}


def _kernel(rule, params, problem, spec=None, dtype="float64"):
    return simulate(rule, params, x0=np.array(problem["x0"]), hessian_diag=np.array(problem["hessian_diag"]),
                    xstar=np.array(problem["xstar"]), steps=problem["steps"], schedule=spec, record_x=True,
                    dtype=dtype)


# float32: as test_live_libs.py (RTOL32_TORCH: torch's fused multiply-adds round once where the
# rules round twice, 1-ulp differences amplified by the adaptive rules; NAdam's 1 - mu_prod is
# float64 in torch, float32 in the kernel)
@pytest.mark.parametrize("dtype, stream, rtol", [("float64", 24, RTOL), ("float32", 27, RTOL32_TORCH)])
def test_new_torch_rules_live(dtype, stream, rtol):
    rng = np.random.default_rng([SEED, stream])
    for _ in range(8):
        problem = _problem(rng)
        opt_name, kw, rule, params = _draw(rng)
        spec, sched_kw, factory = _draw_torch(rng)
        spec = spec if sched_kw is None else _spec(spec, sched_kw)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            lrs, xs = make_golden.run_torch(problem, opt_name, kw, sched=factory, dtype=dtype)
        _assert_trajectory(_kernel(rule, params, problem, spec, dtype), lrs, xs,
                           f"{dtype} {opt_name}({kw}) + {spec} on {problem}", rtol)


def test_new_optax_rules_and_references_live():
    rng = np.random.default_rng([SEED, 25])
    u = lambda a, b: float(rng.uniform(a, b))  # noqa: E731
    for trial in range(8):
        problem = _problem(rng)
        kind = trial % 4
        if kind == 0:
            lr, kw = u(0.001, 0.01), {"b1": u(0.5, 0.95), "b2": u(0.9, 0.999), "weight_decay": u(0, 0.1)}
            make = lambda learning_rate, kw=kw: optax.lion(learning_rate, **kw)  # noqa: E731
            rule, params = "lion", {"lr": lr, **kw}
            lrs, xs = make_golden.run_optax(problem, make, base_lr=lr)
        elif kind == 1:
            lr = u(0.001, 0.004)
            kw = {"b1": u(0.5, 0.9), "b2": u(0.99, 0.999), "eps": 10 ** u(-16, -6), "eps_root": 10 ** u(-16, -8),
                  "nesterov": bool(rng.random() < 0.5)}
            make = lambda learning_rate, kw=kw: optax.adabelief(learning_rate, **kw)  # noqa: E731
            rule, params = "adabelief", {"lr": lr, **kw}
            lrs, xs = make_golden.run_optax(problem, make, base_lr=lr)
        elif kind == 2 and trial < 4:
            lr, b1, wd = u(0.05, 0.5), u(0.1, 1.0), u(0, 0.1)
            rule, params = "schedule_free_sgd", {"lr": lr, "b1": b1, "weight_decay": wd}
            lrs, xs = make_golden.run_schedule_free(problem, lr, b1, wd)
        elif kind == 2:
            lr, b1 = u(0.001, 0.004), u(0.1, 0.95)
            kw = {"b2": u(0.99, 0.999), "eps": 10 ** u(-8, -4), "weight_decay": u(0, 0.1)}
            rule, params = "schedule_free_adamw", {"lr": lr, "b1": b1, **kw}
            lrs, xs = make_golden.run_schedule_free(problem, lr, b1, adamw=kw)
        else:
            lr, m, nu = u(0.05, 0.5), u(0, 0.99), u(0, 1)
            rule, params = "qhm", {"lr": lr, "momentum": m, "nu": nu}
            lrs, xs = make_golden.run_qhoptim(problem, lr, m, nu)
        _assert_trajectory(_kernel(rule, params, problem), lrs, xs, f"{rule}({params}) on {problem}")


def test_schedule_free_rule_is_the_pypi_reference_gradient_point():
    """schedulefree.SGDScheduleFree / AdamWScheduleFree (warmup_steps=0, r=0) hold y, the gradient
    point; the rules hold x and z and give y through their grad_point: the same sequence under a
    constant lr."""
    rng = np.random.default_rng([SEED, 26])
    for trial in range(4):
        problem = _problem(rng)
        lr, b1, wd = float(rng.uniform(0.05, 0.5)), float(rng.uniform(0.1, 0.95)), float(rng.uniform(0, 0.1))
        h = torch.tensor(problem["hessian_diag"], dtype=torch.float64)
        xs = torch.tensor(problem["xstar"], dtype=torch.float64)
        p = torch.nn.Parameter(torch.tensor(problem["x0"], dtype=torch.float64))
        if trial % 2:
            rule, b2, eps = get_rule("schedule_free_adamw"), float(rng.uniform(0.99, 0.999)), 1e-4
            lr = lr / 100  # adaptive: away from x* within the run (module docstring)
            opt = schedulefree.AdamWScheduleFree([p], lr=lr, betas=(b1, b2), eps=eps, weight_decay=wd,
                                                 foreach=False)
            vals = rule.values(rule.params(lr=lr, b1=b1, b2=b2, eps=eps, weight_decay=wd))
        else:
            rule = get_rule("schedule_free_sgd")
            opt = schedulefree.SGDScheduleFree([p], lr=lr, momentum=b1, weight_decay=wd, foreach=False)
            vals = rule.values(rule.params(lr=lr, b1=b1, weight_decay=wd))
        opt.train()
        hd, xsd = np.array(problem["hessian_diag"]), np.array(problem["xstar"])
        state = rule.init(np.array(problem["x0"]), *vals)
        worst = 0.0
        for t in range(1, problem["steps"] + 1):
            p.grad = h * (p.detach() - xs)
            opt.step()
            state = rule.step(*state, hd * (rule.grad_point(*state, *vals) - xsd), *vals, t)
            y = rule.grad_point(*state, *vals)
            worst = max(worst, float(np.max(np.abs(y - p.detach().numpy()) / np.maximum(np.abs(y), 0.01))))
        assert worst <= RTOL, f"seed {SEED}: {type(opt).__name__}(lr={lr}, b1={b1}, wd={wd}): {worst:.2e}"
