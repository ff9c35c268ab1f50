"""Element-steps per second of each contender on the diagonal quadratic, with a correctness check."""
from __future__ import annotations

import gc

import numpy as np

from contenders import CONTENDERS, available, make
from problem import RULE_PARAMS, check_normal, quadratic
from timing import time_steps

__all__ = ["cross_check", "bench_case"]

CHECK_STEPS = 20
# Contenders round differently (operation order, lerp, sqrt(v)/sqrt(bc2) vs sqrt(v/bc2)): each
# step adds a few ulps of relative error, so after CHECK_STEPS well-conditioned steps the
# difference is below ~100 CHECK_STEPS eps of the distance travelled (2e-13 / 2.4e-4).
CHECK_RTOL = {"float64": 100 * CHECK_STEPS * 2.0**-52, "float32": 100 * CHECK_STEPS * 2.0**-23}


def cross_check(rule: str, dtype: str, d: int, names) -> dict:
    """Max difference of each contender's x after CHECK_STEPS steps vs optanalysis (or NumPy
    when optanalysis.simulate is missing), relative to the largest distance travelled from x0
    (Adam moves ~1e-7 here); raises if above ``CHECK_RTOL``."""
    h, x0, xstar = quadratic(d, dtype)
    finals = {}
    for name in names:
        run, state = make(name, rule, RULE_PARAMS[rule], h, x0, xstar)
        run(CHECK_STEPS)
        finals[name] = np.asarray(state()[0], dtype=np.float64).copy()
    ref_name = "optanalysis.simulate" if "optanalysis.simulate" in finals else "numpy"
    ref = finals[ref_name]
    travelled = float(np.max(np.abs(ref - x0)))
    out = {}
    for name, x in finals.items():
        err = float(np.max(np.abs(x - ref))) / travelled
        if not err <= CHECK_RTOL[dtype]:
            raise RuntimeError(f"{name} disagrees with {ref_name} on {rule}/{dtype}/d={d}: "
                               f"max rel diff {err:.3g} > {CHECK_RTOL[dtype]:g}")
        out[name] = err
    return out


def bench_case(rule: str, dtype: str, d: int, *, target: float, repeats: int,
               names=None, progress=print) -> list:
    """Time every available contender on one (rule, dtype, d); one dict per contender."""
    names = [n for n in (names or CONTENDERS) if available(n, rule)]
    errors = cross_check(rule, dtype, d, names) if d <= 10**6 else {}
    h, x0, xstar = quadratic(d, dtype)
    rows = []
    for name in names:
        run, state = make(name, rule, RULE_PARAMS[rule], h, x0, xstar)
        # Per-step outputs (lr, losses) of simulate cost 16 bytes/step: cap the count at 2e7.
        timing = time_steps(run, d, target=target, repeats=repeats, max_steps=2 * 10**7)
        check_normal(*state())
        row = dict(rule=rule, dtype=dtype, contender=name, check_rel_diff=errors.get(name),
                   **timing)  # timing holds d
        rows.append(row)
        progress(f"  {rule:10s} {dtype:7s} d={d:<9d} {name:22s} steps={timing['steps']:<9d} "
                 f"{timing['ns_per_element_step']:9.3f} ns/elem-step")
        del run, state
        gc.collect()
    return rows
