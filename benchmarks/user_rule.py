"""A rule from the user's own file against the built-in rule of the same shape (issue #24, "Speed").

``python benchmarks/user_rule.py [--quick] [--out FILE]``

* **Compile, cold and warm.**  In a fresh process with an empty cache directory
  (``OPTANALYSIS_CACHE_DIR``), the wall time of the first ``oa.simulate`` of the user's file
  (d = 1, float64: one kernel path generated and compiled), of the built-in ``heavy_ball`` likewise,
  then the same again in a second fresh process on the now warm cache (Numba loads the compiled
  code from disk).
* **Run time.**  Element-steps per second of ``oa.simulate`` (``record_every=steps``) for the user's
  file and for ``heavy_ball`` on the benchmark problem (``problem.py``: lr 0.5, momentum 0.9), at
  d = 1e3 and 1e6, float64 and float32, and their ratio.  The two are timed alternately, one call
  each per round (``timing.time_steps``), for 7 rounds, and each keeps its best: a busy moment of
  the machine then hurts both alike instead of one.
  The user's rule is heavy ball typed in its own file: the same arithmetic, so the same bits (checked).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

from problem import RULE_PARAMS, quadratic  # noqa: E402
from timing import time_steps  # noqa: E402

RULE_FILE = '''"""Polyak's heavy ball, typed by a user in their own file."""
from optanalysis.hyper import coefficient, learning_rate
from optanalysis.rules import Rule

RULE = Rule(
    name="my_heavy_ball",
    hyper=(learning_rate(1e-3), coefficient("momentum", 0.9, "weight of the previous displacement")),
    state=("x", "x_prev"),
    linear=True,
    semantics="heavy ball (user file)",
)


def init(x0, lr, momentum):
    return (x0, x0)


def step(x, x_prev, g, lr, momentum, t):
    return (x - lr * g + momentum * (x - x_prev), x)
'''

FIRST_CALL = '''
import sys, time
import optanalysis as oa
rule = sys.argv[1]
start = time.perf_counter()
oa.simulate(rule, {"lr": 0.5, "momentum": 0.9}, hessian_diag=[1.0], x0=[0.0], xstar=[1.0], steps=10)
print(time.perf_counter() - start)
'''


def first_call(rule: str, cache: Path) -> float:
    env = {**os.environ, "OPTANALYSIS_CACHE_DIR": str(cache), "PYTHONPATH": str(HERE.parent)}
    out = subprocess.run([sys.executable, "-c", FIRST_CALL, rule], capture_output=True, text=True, env=env,
                         check=True)
    return float(out.stdout.strip().splitlines()[-1])


def run_time(rule: str, dtype: str, d: int, repeats: int, target: float) -> dict:
    import optanalysis as oa

    h, x0, xstar = quadratic(d, dtype)

    def run(steps):
        oa.simulate(rule, RULE_PARAMS["heavy_ball"], hessian_diag=h, x0=x0, xstar=xstar, steps=steps,
                    dtype=dtype, record_every=steps)

    return time_steps(run, d, target=target, repeats=repeats, min_steps=1000 if d >= 10**6 else 1)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="d = 1e3 only, 3 rounds")
    p.add_argument("--skip-compile", action="store_true", help="skip the cold/warm first-call timings")
    p.add_argument("--out", default=str(HERE / "user_rule.json"))
    args = p.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="optanalysis-user-rule-"))
    path = work / "my_heavy_ball.py"
    path.write_text(RULE_FILE)
    result = {"compile": {}, "run": []}
    for label, rule in () if args.skip_compile else (("user file", str(path)), ("built-in heavy_ball", "heavy_ball")):
        cache = work / f"cache-{label.split()[0]}"
        cold, warm = first_call(rule, cache), first_call(rule, cache)
        result["compile"][label] = {"cold_s": cold, "warm_s": warm}
        print(f"first simulate call, {label:20s} cold {cold:6.2f} s   warm {warm:6.2f} s")
    import optanalysis as oa

    oa.get_rule(str(path))
    h, x0, xstar = quadratic(1000, "float64")
    same = [oa.simulate(r, RULE_PARAMS["heavy_ball"], hessian_diag=h, x0=x0, xstar=xstar, steps=50).x
            for r in ("my_heavy_ball", "heavy_ball")]
    result["bitwise_equal"] = bool(np.array_equal(*same))
    sizes = (10**3,) if args.quick else (10**3, 10**6)
    for dtype in ("float64", "float32"):
        for d in sizes:
            rates = {}
            for _ in range(3 if args.quick else 7):  # alternate: a busy moment hurts both alike
                for r in ("my_heavy_ball", "heavy_ball"):
                    t = run_time(r, dtype, d, 1, 0.3)
                    if r not in rates or t["ns_per_element_step"] < rates[r]["ns_per_element_step"]:
                        rates[r] = t
            ratio = rates["my_heavy_ball"]["ns_per_element_step"] / rates["heavy_ball"]["ns_per_element_step"]
            result["run"].append({"dtype": dtype, "d": d, "ratio_user_over_builtin": ratio,
                                  **{f"{r}_ns_per_element_step": t["ns_per_element_step"] for r, t in rates.items()}})
            print(f"{dtype:7s} d={d:<8d} user {rates['my_heavy_ball']['ns_per_element_step']:7.3f} "
                  f"built-in {rates['heavy_ball']['ns_per_element_step']:7.3f} ns/elem-step   ratio {ratio:.3f}")
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(f"same bits as the built-in: {result['bitwise_equal']}; written {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
