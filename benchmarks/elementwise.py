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
# At d >= 1e6 one call runs >= 1e9 element-steps (100 steps at d = 1e7): otherwise the
# calibration, which stops growing once a call lasts target/2, keeps a handful of steps and
# times the fixed cost of a call (allocation, validation, initial state and loss: ~0.2 s for
# simulate at d = 1e7) instead of the steps, which a real run amortises.
LARGE_D, MIN_ELEMENT_STEPS = 10**6, 10**9


def cross_check(rule: str, dtype: str, d: int, names) -> dict:
    """Max difference of each contender's x after CHECK_STEPS steps vs optanalysis (or NumPy
    when optanalysis.simulate is missing), relative to the largest distance travelled from x0
    (Adam moves ~1e-7 here).  Returns ``{name: (difference, passed)}``; a contender that fails
    to run gets ``(None, False)``."""
    h, x0, xstar = quadratic(d, dtype)
    finals = {}
    for name in names:
        try:
            run, state = make(name, rule, RULE_PARAMS[rule], h, x0, xstar)
            run(CHECK_STEPS)
            finals[name] = np.asarray(state()[0], dtype=np.float64).copy()
        except Exception:  # reported by bench_case when it times the contender
            pass
    ref_name = next((n for n in ("optanalysis.simulate", "numpy") if n in finals), None)
    if ref_name is None:
        return {name: (None, None) for name in names}  # nothing to compare with
    ref = finals[ref_name]
    travelled = float(np.max(np.abs(ref - x0)))
    out = {name: (None, False) for name in names}
    for name, x in finals.items():
        err = float(np.max(np.abs(x - ref))) / travelled
        out[name] = (err, err <= CHECK_RTOL[dtype])
    return out


def bench_case(rule: str, dtype: str, d: int, *, target: float, repeats: int,
               names=None, progress=print) -> list:
    """Time every available contender on one (rule, dtype, d); one dict per contender.

    The agreement check runs at d <= 1e6 (d = 1e7 runs the same code on more coordinates).  A
    contender that raises is recorded with its ``error`` and the run goes on.
    """
    names = [n for n in (names or CONTENDERS) if available(n, rule)]
    checks = cross_check(rule, dtype, d, names) if d <= 10**6 else {}
    h, x0, xstar = quadratic(d, dtype)
    rows = []
    for name in names:
        err, passed = checks.get(name, (None, None))
        row = dict(rule=rule, dtype=dtype, d=d, contender=name, check_rel_diff=err,
                   check_passed=passed)
        try:
            run, state = make(name, rule, RULE_PARAMS[rule], h, x0, xstar)
            # Per-step outputs (lr, losses) of simulate cost 16 bytes/step: cap at 2e7 steps.
            min_steps = -(-MIN_ELEMENT_STEPS // d) if d >= LARGE_D else 1
            row.update(time_steps(run, d, target=target, repeats=repeats, min_steps=min_steps,
                                  max_steps=2 * 10**7))
            check_normal(*state())
            progress(f"  {rule:10s} {dtype:7s} d={d:<9d} {name:22s} steps={row['steps']:<9d} "
                     f"{row['ns_per_element_step']:9.3f} ns/elem-step"
                     f"{'' if passed is not False else '  CHECK FAILED'}")
        except Exception as exc:  # noqa: BLE001 - one broken contender must not void the run
            row["error"] = f"{type(exc).__name__}: {exc}"
            progress(f"  {rule:10s} {dtype:7s} d={d:<9d} {name:22s} ERROR {row['error']}")
        rows.append(row)
        run = state = None
        gc.collect()
    return rows
