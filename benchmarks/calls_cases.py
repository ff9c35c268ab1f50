"""Section ``calls``: the latency of one small call of the public entry points (issue 18).

A notebook or a sweep calls ``simulate``/``predict`` thousands of times on small problems, where
the fixed cost of a call (validation, schedule evaluation, argument arrays, Numba dispatch,
result packing) dwarfs the arithmetic.  Each case is timed as the best of ``repeats`` batches
of ``calls`` calls (µs per call, wall clock; also the calling thread's CPU time, which a loaded
machine inflates less), next to baselines measured in the same run:

* ``kernel floor``: the compiled ``run_diag`` called directly with the very arguments
  ``simulate`` passes it (captured once): the Numba dispatch and the run, nothing else;
* ``torch.optim.SGD/Adam`` (fused, 1 thread) for the same 100 steps (a Python loop of steps),
  and the ``optax`` jitted ``lax.scan`` called once more (compile excluded), when installed.

Targets: ``simulate`` <= 50 µs (d <= 10, 100 steps, warm) and ``predict`` <= 100 µs.
"""
from __future__ import annotations

import importlib.util
import time

from problem import RULE_PARAMS, quadratic

__all__ = ["run", "table"]

STEPS = 100
SIMULATE_TARGET_US = 50.0
PREDICT_TARGET_US = 100.0
PARAMS = {"heavy_ball": RULE_PARAMS["heavy_ball"], "adam": RULE_PARAMS["adam"],
          "nesterov": {"lr": 0.5, "momentum": 0.9}}
SCHEDULES = (None, f"cosine:T_max={STEPS}")


def _per_call_us(fn, calls: int, repeats: int, clock=time.perf_counter_ns) -> float:
    """Best of ``repeats`` batches of ``calls`` calls of ``fn``, in µs per call (after a warm-up
    call: compilation and caches are excluded, as in a notebook's second call).  Many short
    batches: on a shared machine the best one is the one no other process interrupted."""
    fn()
    best = float("inf")
    for _ in range(repeats):
        start = clock()
        for _ in range(calls):
            fn()
        best = min(best, (clock() - start) / calls / 1e3)
    return best


def _kernel_floor(rule: str, kwargs: dict):
    """A call of the compiled kernel with the arguments ``simulate(rule, **kwargs)`` passes it."""
    from optanalysis import simulate
    from optanalysis.kernels import kernel_module

    km = kernel_module(rule)
    kernel, seen = km.run_diag, []

    def capture(*args):
        seen.append(args)
        return kernel(*args)

    km.run_diag = capture
    try:
        simulate(rule, **kwargs)
    finally:
        km.run_diag = kernel
    args = seen[0]
    return lambda: kernel(*args)


def _baselines(rule: str, params: dict, h, x0, xstar, calls: int, repeats: int) -> dict:
    out = {}
    if importlib.util.find_spec("torch") is not None and rule in ("heavy_ball", "adam"):
        from torch_baseline import make_torch

        run, _ = make_torch(rule, "fused", params, h, x0, xstar, threads=1)
        out["torch fused, 1 thread"] = _per_call_us(lambda: run(STEPS), max(1, calls // 10),
                                                    repeats)
    if importlib.util.find_spec("optax") is not None and rule in ("heavy_ball", "adam"):
        from jax_baseline import make_optax

        run, _ = make_optax(rule, params, h, x0, xstar)
        out["optax jit+scan"] = _per_call_us(lambda: run(STEPS), calls, repeats)
    return out


def run(quick: bool) -> dict:
    """Rows of per-call latencies with their same-run baselines, ratios and targets."""
    import optanalysis as oa

    calls, repeats = (20, 20) if quick else (50, 100)
    rows, targets = [], []
    for d in (2, 10):
        h, x0, xstar = quadratic(d, "float64")
        for rule, params in PARAMS.items():
            base = None
            for schedule in SCHEDULES:
                kwargs = dict(params=params, hessian_diag=h, x0=x0, xstar=xstar, steps=STEPS,
                              schedule=schedule)
                us = _per_call_us(lambda: oa.simulate(rule, **kwargs), calls, repeats)
                # the CPU time of the calling thread: what the call costs on a loaded machine
                cpu = _per_call_us(lambda: oa.simulate(rule, **kwargs), calls, repeats,
                                   time.thread_time_ns)
                floor = _per_call_us(_kernel_floor(rule, kwargs), calls, repeats)
                if base is None:
                    base = _baselines(rule, params, h, x0, xstar, calls, repeats)
                rows.append(dict(call="simulate", rule=rule, d=d, schedule=schedule or "constant",
                                 us=us, cpu_us=cpu, kernel_floor_us=floor, over_floor=us / floor,
                                 **{f"{k} us": v for k, v in base.items()},
                                 **{f"vs {k}": v / us for k, v in base.items()}))
                targets.append(dict(target=f"simulate {rule} d={d} {schedule or 'constant'} "
                                           f"<= {SIMULATE_TARGET_US:g} us", value=us,
                                    required=SIMULATE_TARGET_US, met=us <= SIMULATE_TARGET_US))
    h, x0, xstar = quadratic(10, "float64")
    grid = [{"lr": 0.5, "momentum": m} for m in (0.5, 0.7, 0.8, 0.9)]
    us = _per_call_us(lambda: oa.simulate_batch("heavy_ball", grid, hessian_diag=h, x0=x0,
                                                xstar=xstar, steps=STEPS), calls, repeats)
    one = _per_call_us(lambda: oa.simulate("heavy_ball", grid[0], hessian_diag=h, x0=x0,
                                           xstar=xstar, steps=STEPS), calls, repeats)
    rows.append(dict(call="simulate_batch (4 configs)", rule="heavy_ball", d=10,
                     schedule="constant", us=us, simulate_us=one, per_config_vs_simulate=us / 4 / one))
    for schedule in SCHEDULES:
        us = _per_call_us(lambda: oa.predict("heavy_ball", PARAMS["heavy_ball"], hessian_diag=h,
                                             x0=x0, xstar=xstar, steps=STEPS, schedule=schedule),
                          calls, repeats)
        cpu = _per_call_us(lambda: oa.predict("heavy_ball", PARAMS["heavy_ball"], hessian_diag=h,
                                              x0=x0, xstar=xstar, steps=STEPS, schedule=schedule),
                           calls, repeats, time.thread_time_ns)
        rows.append(dict(call="predict", rule="heavy_ball", d=10, schedule=schedule or "constant",
                         us=us, cpu_us=cpu))
        targets.append(dict(target=f"predict heavy_ball d=10 {schedule or 'constant'} "
                                   f"<= {PREDICT_TARGET_US:g} us", value=us,
                            required=PREDICT_TARGET_US, met=us <= PREDICT_TARGET_US))
    return {"steps": STEPS, "calls": calls, "repeats": repeats, "rows": rows,
            "targets": targets}


def table(result: dict) -> str:
    """The rows as a Markdown table (µs per call) and the targets."""
    lines = [f"Per-call latency, {result['steps']} steps, float64, best of {result['repeats']} "
             f"batches of {result['calls']} calls (µs)", "",
             "| call | rule | d | schedule | µs | CPU µs | kernel floor | torch fused 1t | optax scan |",
             "|---|---|---|---|---|---|---|---|---|"]

    def cell(row, key):
        return f"{row[key]:.1f}" if key in row else ""

    for r in result["rows"]:
        lines.append(f"| {r['call']} | {r['rule']} | {r['d']} | {r['schedule']} | {r['us']:.1f} | "
                     f"{cell(r, 'cpu_us')} | {cell(r, 'kernel_floor_us')} | {cell(r, 'torch fused, 1 thread us')} | "
                     f"{cell(r, 'optax jit+scan us')} |")
    lines.append("")
    for t in result["targets"]:
        lines.append(f"- {t['target']}: {t['value']:.1f} us, {'met' if t['met'] else 'NOT met'}")
    return "\n".join(lines)
