"""Live cross-checks against torch and optax (skipped when they are not installed).

Configurations (schedule parameters, metric sequences, rule options, problems) are drawn with a
seeded RNG: the seed is OPTANALYSIS_LIVE_SEED, fresh each session unless set (``conftest.py``
draws it and prints it at the end of the session), so every run checks configurations chosen at
check time; every failure message names the seed and the configuration, to replay it.
Tolerances as in test_golden.py: 1e-12 relative — the same float64 arithmetic up to the order
of operations (measured: torch schedulers bit-exact, optax schedules within 1 ulp, trajectories
within ~1e-15).

Adaptive rules are drawn with learning rates small enough that 200 steps do not reach the
optimum (every |x0_i - xstar_i| >= 1): near xstar the gradient h(x - xstar) keeps few correct
digits (cancellation) and Adam/RMSProp normalise its size away, so a one-ulp difference in the
order of operations grows to ~1e-12 within tens of steps (measured 2.5e-12 for Adam in a draft
of this test whose rule and kernel agreed bit for bit) — the conditioning of the algorithm, not a
disagreement of formulas.
"""
import importlib.util
import json
import math
import os
import warnings
from pathlib import Path

import numpy as np
import pytest

from optanalysis.schedules import make_schedule

torch = pytest.importorskip("torch")
optax = pytest.importorskip("optax")
jax = pytest.importorskip("jax")
jax.config.update("jax_enable_x64", True)
jnp = jax.numpy

SEED = int(os.environ["OPTANALYSIS_LIVE_SEED"])  # set by conftest.py: fresh each session unless given
RTOL = 1e-12
_spec = importlib.util.spec_from_file_location("make_golden", Path(__file__).parent / "golden" / "make_golden.py")
make_golden = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_golden)


def _fmt(v):
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, (list, tuple)):
        return "[" + ",".join(_fmt(x) for x in v) + "]"
    return v if isinstance(v, str) else repr(v)


def _spec(name, kw):
    return f"{name}:" + ",".join(f"{k}={_fmt(v)}" for k, v in kw.items())


def _nested(name, kw):
    return f"{name}(" + ",".join(f"{k}={_fmt(v)}" for k, v in kw.items()) + ")"


# ------------------------------------------------------------------ random torch schedulers
def _draw_torch(rng, allow_sequential=True):
    """(name, kwargs, factory(optimizer, lr_scheduler_module)) for a random torch scheduler."""
    kinds = ["step", "multistep", "exponential", "inverse_time", "polynomial", "cosine", "linear",
             "constant_factor"] + (["sequential"] * 2 if allow_sequential else [])
    name = str(rng.choice(kinds))
    u = lambda a, b: float(rng.uniform(a, b))  # noqa: E731
    i = lambda a, b: int(rng.integers(a, b + 1))  # noqa: E731
    if name == "step":
        kw = {"step_size": i(1, 40), "gamma": u(0.1, 0.99)}
        return name, kw, lambda o, L: L.StepLR(o, kw["step_size"], kw["gamma"])
    if name == "multistep":
        kw = {"milestones": sorted(i(0, 150) for _ in range(i(1, 4))), "gamma": u(0.1, 0.99)}
        if rng.random() < 0.5:
            kw["milestones"].append(kw["milestones"][-1])  # a repeated milestone
        return name, kw, lambda o, L: L.MultiStepLR(o, kw["milestones"], kw["gamma"])
    if name == "exponential":
        kw = {"gamma": u(0.95, 1.0)}
        return name, kw, lambda o, L: L.ExponentialLR(o, kw["gamma"])
    if name == "inverse_time":
        kw = {"decay": u(0.0, 0.1)}
        return name, kw, lambda o, L: L.LambdaLR(o, lambda k: 1.0 / (1.0 + kw["decay"] * k))
    if name == "polynomial":
        kw = {"total_iters": i(1, 200), "power": u(0.2, 3.0)}
        return name, kw, lambda o, L: L.PolynomialLR(o, kw["total_iters"], kw["power"])
    if name == "cosine":
        kw = {"T_max": i(1, 120), "eta_min": u(0.0, 0.02)}
        return name, kw, lambda o, L: L.CosineAnnealingLR(o, kw["T_max"], kw["eta_min"])
    if name == "linear":
        kw = {"start_factor": u(0.01, 1.0), "end_factor": u(0.0, 1.0), "total_iters": i(1, 100)}
        return name, kw, lambda o, L: L.LinearLR(o, kw["start_factor"], kw["end_factor"], kw["total_iters"])
    if name == "constant_factor":
        kw = {"factor": u(0.05, 1.0), "total_iters": i(1, 100)}
        return name, kw, lambda o, L: L.ConstantLR(o, kw["factor"], kw["total_iters"])
    parts = [_draw_torch(rng, False) for _ in range(i(2, 3))]
    milestones = sorted(rng.choice(np.arange(1, 180), len(parts) - 1, replace=False).tolist())
    spec = "sequential:schedules=[" + ";".join(_nested(n, k) for n, k, _ in parts) + f"],milestones={_fmt(milestones)}"
    return spec, None, lambda o, L: L.SequentialLR(o, [f(o, L) for _, _, f in parts], milestones)


def _torch_lrs(factory, base, n):
    p = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    opt = torch.optim.SGD([p], lr=base)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sched = factory(opt, torch.optim.lr_scheduler)
        out = []
        for _ in range(n):
            out.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step()
    return np.array(out)


def test_torch_schedulers_live():
    rng = np.random.default_rng([SEED, 1])
    for _ in range(40):
        name, kw, factory = _draw_torch(rng)
        spec = name if kw is None else _spec(name, kw)
        base = float(rng.uniform(0.01, 1.0))
        got = make_schedule(spec).lrs(base, 300)
        want = _torch_lrs(factory, base, 300)
        np.testing.assert_allclose(got, want, rtol=RTOL, atol=0, err_msg=f"seed {SEED}: {spec}, base {base}")


# ------------------------------------------------------------------ random optax schedules
def _draw_optax(rng, allow_join=True, scale=1.0):
    """(spec, optax schedule) for a random optax schedule with absolute values (times ``scale``)."""
    kinds = ["polynomial_optax", "linear_optax", "exponential_optax", "cosine_optax", "warmup_cosine_optax",
             "warmup_exponential_optax", "piecewise_constant_optax"] + (["join_optax"] * 2 if allow_join else [])
    name = str(rng.choice(kinds))
    u = lambda a, b: float(rng.uniform(a, b))  # noqa: E731
    v = lambda a, b: scale * float(rng.uniform(a, b))  # noqa: E731  (an absolute lr value)
    i = lambda a, b: int(rng.integers(a, b + 1))  # noqa: E731
    if name == "polynomial_optax":
        kw = {"init_value": v(0.01, 1), "end_value": v(0, 0.01), "power": u(0.3, 3), "transition_steps": i(1, 200),
              "transition_begin": i(0, 50)}
        return _spec(name, kw), optax.polynomial_schedule(**kw)
    if name == "linear_optax":
        kw = {"init_value": v(0, 1), "end_value": v(0, 1), "transition_steps": i(1, 200), "transition_begin": i(0, 50)}
        return _spec(name, kw), optax.linear_schedule(**kw)
    if name == "exponential_optax":
        kw = {"init_value": v(0.01, 1), "transition_steps": i(1, 30), "decay_rate": u(0.5, 1.0),
              "transition_begin": i(0, 30), "staircase": bool(rng.random() < 0.5)}
        if rng.random() < 0.5:
            kw["end_value"] = kw["init_value"] * u(0.1, 2.0)
        return _spec(name, kw), optax.exponential_decay(**kw)
    if name == "cosine_optax":
        kw = {"init_value": v(0.01, 1), "decay_steps": i(1, 200), "alpha": u(0, 1), "exponent": u(0.5, 3)}
        return _spec(name, kw), optax.cosine_decay_schedule(**kw)
    if name == "warmup_cosine_optax":
        w = i(0, 50)
        kw = {"init_value": v(0, 0.1), "peak_value": v(0.1, 1), "warmup_steps": w, "decay_steps": w + i(1, 200),
              "end_value": v(0, 0.05), "exponent": u(0.5, 3)}
        return _spec(name, kw), optax.warmup_cosine_decay_schedule(**kw)
    if name == "warmup_exponential_optax":
        kw = {"init_value": v(0, 0.1), "peak_value": v(0.1, 1), "warmup_steps": i(0, 50), "transition_steps": i(1, 30),
              "decay_rate": u(0.5, 0.99), "transition_begin": i(0, 30), "staircase": bool(rng.random() < 0.5),
              "end_value": v(0, 0.05)}
        return _spec(name, kw), optax.warmup_exponential_decay_schedule(**kw)
    if name == "piecewise_constant_optax":
        bounds = sorted(rng.choice(np.arange(0, 250), i(1, 4), replace=False).tolist())
        kw = {"init_value": v(0.01, 1), "boundaries": bounds, "scales": [u(0, 2) for _ in bounds]}
        return _spec(name, kw), optax.piecewise_constant_schedule(kw["init_value"], dict(zip(bounds, kw["scales"])))
    parts = [_draw_optax(rng, False, scale) for _ in range(i(2, 3))]
    bounds = sorted(rng.choice(np.arange(0, 180), len(parts) - 1, replace=False).tolist())
    nested = ";".join(s.replace(":", "(", 1) + ")" for s, _ in parts)
    return (f"join_optax:schedules=[{nested}],boundaries={_fmt(bounds)}",
            optax.join_schedules([f for _, f in parts], bounds))


def test_optax_schedules_live():
    rng = np.random.default_rng([SEED, 2])
    k = np.arange(300)
    for _ in range(40):
        spec, sched = _draw_optax(rng)
        got = make_schedule(spec).lrs(0.5, 300)
        # optax on an int64 count: float64 arithmetic (see the next test for its int32 counter)
        want = np.array([float(sched(jnp.asarray(j, jnp.int64))) for j in k])
        np.testing.assert_allclose(got, want, rtol=RTOL, atol=1e-300, err_msg=f"seed {SEED}: {spec}")


def test_optax_int32_counter_computes_some_schedules_in_float32():
    # Documented deviation: optax's scale_by_schedule counts in int32, and int32 / int is
    # float32 in JAX, so polynomial schedules are float32-accurate even with jax_enable_x64.
    sched = optax.polynomial_schedule(0.3, 0.01, 1.7, 50)
    value = sched(jnp.asarray(7, jnp.int32))
    assert value.dtype == jnp.float32
    ours = make_schedule("polynomial_optax:init_value=0.3,end_value=0.01,power=1.7,transition_steps=50").lrs(0.3, 8)[7]
    assert 1e-10 < abs(float(value) - ours) / ours < 1e-6


# ------------------------------------------------------------------ plateau
def test_plateau_live():
    rng = np.random.default_rng([SEED, 3])
    for trial in range(40):
        n = 50
        metrics = np.cumsum(rng.normal(-0.05, 1.0, n)) * float(rng.choice([1.0, 0.01])) + float(rng.choice([0, -30, 30]))
        metrics = np.round(metrics, int(rng.integers(0, 3)))  # ties exercise the strict comparisons
        base = float(rng.uniform(0.01, 1.0))
        if trial % 2 == 0:
            kw = {"mode": str(rng.choice(["min", "max"])), "factor": float(rng.uniform(0.1, 0.9)),
                  "patience": int(rng.integers(0, 4)), "threshold": float(rng.choice([0.0, 1e-4, 0.05, 0.5])),
                  "threshold_mode": str(rng.choice(["rel", "abs"])), "cooldown": int(rng.integers(0, 3)),
                  "min_lr": float(rng.choice([0.0, 0.01])), "eps": float(rng.choice([1e-8, 0.02]))}
            p = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
            opt = torch.optim.SGD([p], lr=base)
            rop = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, **kw)
            want = [base]
            for m in metrics:
                rop.step(m)
                want.append(opt.param_groups[0]["lr"])
            spec = _spec("plateau", kw)
        else:
            kw = {"factor": float(rng.uniform(0.1, 0.9)), "patience": int(rng.integers(0, 4)),
                  "rtol": float(rng.choice([0.0, 1e-4, 0.05])), "atol": float(rng.choice([0.01, 0.1, 1.0])),
                  "cooldown": int(rng.integers(0, 3)), "accumulation_size": int(rng.integers(1, 4)),
                  "min_scale": float(rng.choice([0.0, 0.05]))}
            t = optax.contrib.reduce_on_plateau(**kw)
            state = t.init(jnp.zeros(1))
            update = jax.jit(lambda s, v: t.update(jnp.zeros(1), s, value=v)[1])
            want = [base]
            for m in metrics:
                state = update(state, jnp.asarray(m))
                want.append(base * float(state.scale))
            spec = _spec("plateau_optax", kw)
        got = make_schedule(spec).lrs_for(base, metrics)
        np.testing.assert_allclose(got, want, rtol=RTOL, atol=0, err_msg=f"seed {SEED}: {spec}, {metrics.tolist()}")


# ------------------------------------------------------------------ trajectories of the kernels
def _problem(rng):
    d = int(rng.integers(3, 6))
    xstar = rng.uniform(1.0, 3.0, d) * rng.choice([-1.0, 1.0], d)
    return {"hessian_diag": np.sort(rng.uniform(0.05, 2.5, d)).tolist(), "xstar": xstar.tolist(),
            "x0": (xstar + rng.uniform(1.0, 2.0, d) * rng.choice([-1.0, 1.0], d)).tolist(), "steps": 200}


def _draw_torch_rule(rng):
    u = lambda a, b: float(rng.uniform(a, b))  # noqa: E731
    coin = lambda: bool(rng.random() < 0.5)  # noqa: E731
    name = str(rng.choice(["SGD", "RMSprop", "Adam", "AdamW", "Adagrad"]))
    if name == "SGD":
        kw = {"lr": u(0.02, 0.2), "momentum": u(0, 0.9), "weight_decay": u(0, 0.1) * coin()}
        if coin():
            kw["nesterov"] = True
        else:
            kw["dampening"] = u(0, 0.5)
        return name, kw, "sgd_momentum", dict(kw)
    if name == "RMSprop":
        # not centered: torch's fused multiply-adds leave a remainder in v - gbar^2 that the
        # rule's separate roundings do not, and the cancellation amplifies it past 1e-12
        # (README, "Known differences from the libraries")
        kw = {"lr": u(0.0005, 0.002), "alpha": u(0.9, 0.999), "eps": 10 ** u(-8, -3),
              "weight_decay": u(0, 0.05) * coin(), "momentum": u(0, 0.5) * coin()}
        return name, kw, "rmsprop", dict(kw)
    if name in ("Adam", "AdamW"):
        b1, b2 = u(0.5, 0.9), u(0.99, 0.999)
        kw = {"lr": u(0.001, 0.004), "betas": (b1, b2), "eps": 10 ** u(-8, -4), "weight_decay": u(0, 0.1),
              "amsgrad": coin()}
        rk = {"lr": kw["lr"], "beta1": b1, "beta2": b2, "eps": kw["eps"], "weight_decay": kw["weight_decay"],
              "amsgrad": kw["amsgrad"]}
        return name, kw, name.lower(), rk
    kw = {"lr": u(0.05, 0.5), "lr_decay": u(0, 0.05) * coin(), "weight_decay": u(0, 0.05) * coin(),
          "initial_accumulator_value": u(0, 1) * coin(), "eps": 10 ** u(-10, -3)}
    return name, kw, "adagrad", dict(kw)


def _assert_trajectory(res, lrs, xs, what, rtol=RTOL):
    np.testing.assert_allclose(res.lr, lrs, rtol=RTOL, atol=0, err_msg=f"seed {SEED}: {what}: lr")
    scale = np.maximum(np.abs(xs), 0.01)  # as in test_golden: errors are made at the O(1) problem scale
    err = np.max(np.abs(res.xs.astype(np.float64) - xs) / scale)
    assert err <= rtol, f"seed {SEED}: {what}: relative error {err:.2e}"


# float32: torch and the kernels both keep hyperparameter expressions in float64 and round them
# to float32 where they meet the tensor (kernels/mixed.py), but torch's CPU kernels fuse some
# multiply-adds (add(alpha=), addcmul) where the rules round twice: 1-ulp (6e-8) differences from
# the first step, amplified by the adaptive rules as in the float64 note above (centered RMSprop,
# whose cancellation amplifies them without bound, is not drawn).
RTOL32_TORCH = 1e-4


@pytest.mark.parametrize("dtype, stream, rtol", [("float64", 4, RTOL), ("float32", 6, RTOL32_TORCH)])
def test_kernels_against_live_torch(dtype, stream, rtol):
    from optanalysis.simulation import simulate

    rng = np.random.default_rng([SEED, stream])
    for _ in range(8):
        problem = _problem(rng)
        opt_name, kw, rule, params = _draw_torch_rule(rng)
        spec, sched_kw, factory = _draw_torch(rng)
        spec = spec if sched_kw is None else _spec(spec, sched_kw)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            lrs, xs = make_golden.run_torch(problem, opt_name, kw, sched=factory, dtype=dtype)
        res = simulate(rule, params, x0=np.array(problem["x0"]), hessian_diag=np.array(problem["hessian_diag"]),
                       xstar=np.array(problem["xstar"]), steps=problem["steps"], schedule=spec, record_x=True,
                       dtype=dtype)
        _assert_trajectory(res, lrs, xs, f"{dtype} {opt_name}({kw}) + {spec} on {problem}", rtol)


def test_kernels_against_live_optax():
    from optanalysis.simulation import simulate

    rng = np.random.default_rng([SEED, 5])
    for trial in range(6):
        problem = _problem(rng)
        u = lambda a, b: float(rng.uniform(a, b))  # noqa: E731
        coin = lambda: bool(rng.random() < 0.5)  # noqa: E731
        if trial % 3 == 0:
            name, kw, rule = "sgd", {"momentum": u(0, 0.9), "nesterov": coin()}, "sgd_momentum"
            lr = u(0.02, 0.2)
        elif trial % 3 == 1:
            name, rule, lr = "rmsprop", "rmsprop_optax", u(0.0005, 0.002)
            kw = {"decay": u(0.9, 0.999), "eps": 10 ** u(-8, -3), "initial_scale": u(0, 1) * coin(),
                  "eps_in_sqrt": coin(), "centered": coin(), "momentum": u(0, 0.5) * coin()}
            # not both centered and bias-corrected: step 1's variance estimate is rounding noise
            # there, rounded differently by XLA (README, "Known differences from the libraries")
            kw["bias_correction"] = not kw["centered"] and coin()
            kw["nesterov"] = kw["momentum"] > 0 and coin()
        else:
            name, rule, lr = "adam", "adam_optax", u(0.001, 0.004)
            kw = {"b1": u(0.5, 0.9), "b2": u(0.99, 0.999), "eps": 10 ** u(-8, -4), "eps_root": 10 ** u(-10, -6) * coin(),
                  "nesterov": coin()}
        spec, sched = _draw_optax(rng, scale=lr)  # schedule values in units of the drawn lr
        make = lambda learning_rate, name=name, kw=kw: getattr(optax, name)(learning_rate, **kw)  # noqa: E731
        lrs, xs = make_golden.run_optax(problem, make, schedule=sched, base_lr=lr)
        params = {"lr": lr, **kw}
        res = simulate(rule, params, x0=np.array(problem["x0"]), hessian_diag=np.array(problem["hessian_diag"]),
                       xstar=np.array(problem["xstar"]), steps=problem["steps"], schedule=spec, record_x=True)
        assert not math.isnan(res.loss[-1])
        _assert_trajectory(res, lrs, xs, f"optax.{name}({lr}, {kw}) + {spec} on {problem}")


def test_golden_files_are_what_the_installed_libraries_produce():
    # Regenerates every golden run in memory: stale or hand-edited files fail here.
    fresh = make_golden.collect()
    for name, data in fresh.items():
        with open(Path(__file__).parent / "golden" / f"golden_{name}.json") as f:
            stored = json.load(f)
        assert stored["problem"] == data["problem"]
        assert [r["id"] for r in stored["runs"]] == [r["id"] for r in data["runs"]]
        for old, new in zip(stored["runs"], data["runs"]):
            assert {k: old[k] for k in ("library_call", "rule", "params", "schedule")} == \
                {k: json.loads(json.dumps(new[k])) for k in ("library_call", "rule", "params", "schedule")}
            if stored["versions"] == data["versions"]:  # same libraries: the same bits
                assert old["lr"] == new["lr"] and old["x"] == new["x"], old["id"]
            else:  # other versions may round differently, at the level of test_golden's tolerance
                np.testing.assert_allclose(old["x"], new["x"], rtol=RTOL, atol=1e-14, err_msg=old["id"])


# ------------------------------------------------------------------ warmup-stable-decay and friends
def _draw_warmup_decay(rng, name):
    """A random valid ``kw`` of the warmup/decay kinds (optanalysis.schedules.warmup_decay)."""
    i = lambda a, b: int(rng.integers(a, b + 1))  # noqa: E731
    u = lambda a, b: float(rng.uniform(a, b))  # noqa: E731
    final = float(rng.choice([0.0, u(0.0, 0.5)]))
    if name.startswith("constant_then_decay"):
        return {"decay_start": i(1, 120), "decay_steps": i(1, 150), "shape": str(rng.choice(["linear", "cosine"])),
                "final_factor": final}
    t = i(20, 300)
    kw = {"total_steps": t, "warmup_steps": i(0, t // 3), "warmup_factor": float(rng.choice([0.0, u(0, 1)])),
          "final_factor": final}
    if name.startswith("wsd"):
        kw.update(cooldown_fraction=float(rng.choice([0.0, 1.0 - kw["warmup_steps"] / t, u(0.05, 0.6)])),
                  shape=str(rng.choice(["linear", "sqrt"])))
    return kw


@pytest.mark.parametrize("name", ["wsd", "warmup_cosine", "constant_then_decay"])
def test_warmup_decay_torch_live(name):
    rng = np.random.default_rng([SEED, 7, len(name)])
    for _ in range(15):
        kw, base = _draw_warmup_decay(rng, name), float(rng.uniform(0.01, 1.0))
        spec = _spec(name, kw)
        got = make_schedule(spec).lrs(base, 350)  # beyond total_steps: the tail is checked too
        want = _torch_lrs(make_golden.torch_warmup_decay(name, kw, base), base, 350)
        np.testing.assert_allclose(got, want, rtol=RTOL, atol=1e-300, err_msg=f"seed {SEED}: {spec}, base {base}")


@pytest.mark.parametrize("name", ["wsd_optax", "constant_then_decay_optax"])
def test_warmup_decay_optax_live(name):
    rng = np.random.default_rng([SEED, 8, len(name)])
    for _ in range(8):
        kw, base = _draw_warmup_decay(rng, name), float(rng.uniform(0.01, 1.0))
        spec = _spec(name, kw)
        got = make_schedule(spec).lrs(base, 350)
        sched = jax.jit(make_golden.optax_warmup_decay(name, kw, base))
        want = np.array([float(sched(jnp.asarray(j, jnp.int64))) for j in range(350)])
        # a cosine to a floor of 0 ends in the cancellation 1 + cos(pi c/d) ~ 0: XLA's cos and NumPy's
        # differ there by an ulp of 1, an absolute error of ~1e-16 * base on a value near 0
        np.testing.assert_allclose(got, want, rtol=RTOL, atol=1e-15 * base, err_msg=f"seed {SEED}: {spec}, base {base}")
