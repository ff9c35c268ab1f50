"""Time the convex last-iterate bound (optanalysis.theory.schedule_bound) on 10^5 steps.

Run: ``PYTHONPATH=. python benchmarks/schedule_bound.py`` (from the repository root). The target (issue 20): one
evaluation of the bound, and of the optimal base lr, for a 10^5-step schedule in under 0.1 s. Also timed:
the bound's curve at 1000 horizons of that schedule (O(T) per horizon), what the study evaluates per run.
Best of 7 repeats (the least disturbed by other processes on a shared machine).
"""
from __future__ import annotations

import time

import numpy as np

from optanalysis.schedules import make_schedule
from optanalysis.theory.schedule_bound import bound_curve, last_iterate_bound, optimal_base_lr

STEPS = 100_000


def best_of(fn, repeats: int = 7) -> float:
    """Best wall-clock seconds of ``fn()`` over ``repeats`` calls, after one warm-up call."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> dict:
    lrs = make_schedule(f"wsd:total_steps={STEPS},warmup_steps=300,warmup_factor=0.01,cooldown_fraction=0.2,"
                        "shape=sqrt").lrs(1e-3, STEPS)
    grads = np.random.default_rng(0).uniform(0.5, 2.0, STEPS)
    horizons = np.linspace(STEPS // 1000, STEPS, 1000).astype(int)
    out = {
        "bound, constant G": best_of(lambda: last_iterate_bound(lrs, 1.0, 1.0)),
        "bound, G per step": best_of(lambda: last_iterate_bound(lrs, 1.0, grads)),
        "optimal base lr": best_of(lambda: optimal_base_lr(lrs / 1e-3, 1.0, 1.0)),
        "curve at 1000 horizons": best_of(lambda: bound_curve(lrs, 1.0, 1.0, horizons=horizons), repeats=3),
    }
    for name, sec in out.items():
        print(f"{name:>24}: {sec * 1e3:8.2f} ms  ({STEPS} steps)")
    return out


if __name__ == "__main__":
    main()
