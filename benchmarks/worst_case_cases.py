"""Section ``worst_case`` of benchmarks/run.py: the exact n-step worst case (issue 18, goal 3).

``optanalysis.worst_case`` for every linear rule at n in {1, ..., 6, 100, 1e5} over quadratics
with spectrum in [0.1, 1] (warm: the call repeated, best of several), and, when PEPit is installed
(``pip install -e .[pepit]``; benchmark only), PEPit's worst case of gd and heavy ball for the same
question, measured in the same run: performance estimation over PEPit's
``SmoothStronglyConvexQuadraticFunction`` class (f = x^T Q x / 2 with mu I <= Q <= L I, the class
``worst_case`` maximises over), the initial condition ||x0 - x*||^2 <= 1 and the metric
||x_n - x*||^2 ("distance") or f(x_n) - f* ("loss"), solved by PEPit's default SDP solver through
cvxpy.  Both compute the same number, so they must agree to the SDP's accuracy; the ratio is
PEPit's seconds over ours.  (PEPit's ``SmoothStronglyConvexFunction`` is a larger class: on it the
heavy ball's worst case is larger than on quadratics, so it is no check of ours.)
"""
from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

MU, L = 0.1, 1.0
PARAMS = {  # moderately damped, not tuned (no double roots): every rule's generic case
    "gd": {"lr": 1.0},
    "heavy_ball": {"lr": 0.5, "momentum": 0.5},
    "sgd_momentum": {"lr": 0.5, "momentum": 0.5, "dampening": 0.3},
    "nesterov": {"lr": 0.5, "momentum": 0.5},
    "qhm": {"lr": 0.5, "momentum": 0.5},
    "triple_momentum": {"lr": 0.5, "beta": 0.3, "gamma": 0.2},
    "schedule_free_sgd": {"lr": 0.5, "c": 0.1},
}
SMALL = (1, 2, 3, 4, 5, 6)
# The SDP is solved to the solver's default tolerances only: PEPit's own report on these cases
# (verbose=1) gives duality gaps up to ~3e-6 and primal infeasibilities ~6e-7, absolute, on values
# normalised by ||x0 - x*||^2 <= 1.  Agreement is therefore asked to 1e-5 absolute, not to 1e-12.
PEPIT_ATOL = 1e-5
TARGET_SMALL_S = 1e-4  # n = 6: <= 0.1 ms
TARGET_LARGE_S = 0.5  # n = 1e5: <= 0.5 s
TARGET_SPEEDUP = 1000.0  # ours >= 1000x faster than PEPit at n <= 6


def _best(fn, seconds: float, repeats: int) -> float:
    """Best time of one call over ``repeats`` rounds, each as many calls as fit in ``seconds``."""
    fn()  # warm: compilation and the derivation's caches
    t0 = time.perf_counter()
    fn()
    one = time.perf_counter() - t0
    loops = max(1, int(seconds / max(one, 1e-7)))
    best = one
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(loops):
            fn()
        best = min(best, (time.perf_counter() - t0) / loops)
    return best


def pepit_worst_case(rule: str, params: dict, n: int, metric: str) -> float:
    """PEPit's worst case of ``rule`` (gd or heavy_ball) after ``n`` steps on quadratics."""
    from PEPit import PEP
    from PEPit.functions import SmoothStronglyConvexQuadraticFunction

    problem = PEP()
    func = problem.declare_function(SmoothStronglyConvexQuadraticFunction, mu=MU, L=L)
    xs = func.stationary_point()
    fs = func(xs)
    x0 = problem.set_initial_point()
    problem.set_initial_condition((x0 - xs) ** 2 <= 1)
    lr, beta = params["lr"], params.get("momentum", 0.0)
    x, x_prev = x0, x0  # heavy ball's state (x, x_prev) starts at rest, as the rule's init
    for _ in range(n):
        x, x_prev = x - lr * func.gradient(x) + beta * (x - x_prev), x
    problem.set_performance_metric((x - xs) ** 2 if metric == "distance" else func(x) - fs)
    return float(problem.solve(verbose=0))


def run(quick: bool) -> dict:
    """Timings of ours (all linear rules) and PEPit's (gd, heavy ball), values, ratios, targets."""
    from optanalysis.theory.worst_case import worst_case

    seconds, repeats = (0.02, 3) if quick else (0.2, 5)
    sizes = (*SMALL, 100, 10**5)
    rows = []
    for rule, params in PARAMS.items():
        for n in sizes:
            for metric in ("distance", "loss"):
                if n == 10**5 and (metric == "loss" or (quick and rule != "heavy_ball")):
                    continue  # the loss costs what the distance does; --quick: one rule at 1e5
                res = worst_case(rule, params, mu=MU, L=L, steps=n, metric=metric)
                t = _best(lambda: worst_case(rule, params, mu=MU, L=L, steps=n, metric=metric),
                          seconds, 1 if n == 10**5 and quick else repeats)
                rows.append({"rule": rule, "n": n, "metric": metric, "ours_s": t, "ratio": res.ratio,
                             "log10_ratio": res.log10_ratio})
    pepit = importlib.util.find_spec("PEPit") is not None
    if pepit:
        pepit_worst_case("gd", PARAMS["gd"], 1, "distance")  # warm: PEPit's and cvxpy's imports
        for row in rows:
            if row["rule"] in ("gd", "heavy_ball") and row["n"] in SMALL and (not quick or row["n"] in (1, 6)):
                args = (row["rule"], PARAMS[row["rule"]], row["n"], row["metric"])
                t0 = time.perf_counter()
                value = pepit_worst_case(*args)
                row.update(pepit_s=time.perf_counter() - t0, pepit_value=value,
                           speedup=(time.perf_counter() - t0) / row["ours_s"],
                           agree=abs(value - row["ratio"]) <= PEPIT_ATOL)
    small = [r["ours_s"] for r in rows if r["n"] == 6]
    large = [r["ours_s"] for r in rows if r["n"] == 10**5]
    targets = [
        {"target": "ours at n = 6, slowest rule and metric (s)", "value": max(small),
         "required": TARGET_SMALL_S, "met": max(small) <= TARGET_SMALL_S},
        {"target": "ours at n = 1e5, slowest rule (s)", "value": max(large), "required": TARGET_LARGE_S,
         "met": max(large) <= TARGET_LARGE_S},
    ]
    compared = [r for r in rows if "pepit_s" in r]
    if compared:
        slowest = min(r["speedup"] for r in compared)
        targets += [
            {"target": "PEPit seconds / ours, n <= 6 (smallest)", "value": slowest,
             "required": TARGET_SPEEDUP, "met": slowest >= TARGET_SPEEDUP},
            {"target": f"PEPit agrees to {PEPIT_ATOL:g} absolute (cases)", "value": sum(r["agree"] for r in compared),
             "required": len(compared), "met": all(r["agree"] for r in compared)},
        ]
    return {"mu": MU, "L": L, "params": PARAMS, "pepit": pepit, "rows": rows, "targets": targets}


def table(result: dict) -> str:
    """Markdown table of :func:`run`'s result."""
    lines = [f"Exact worst case over quadratics with spectrum in [{result['mu']}, {result['L']}]"
             + ("" if result["pepit"] else " (PEPit not installed: no comparison)"), "",
             "| rule | n | metric | ours (ms) | log10 ratio | PEPit (ms) | PEPit value | abs. diff | PEPit/ours |",
             "|---|---:|---|---:|---:|---:|---:|---:|---:|"]
    for r in result["rows"]:
        if "pepit_s" in r:
            diff = abs(r["pepit_value"] - r["ratio"])
            extra = f"{r['pepit_s'] * 1e3:.0f} | {r['pepit_value']:.8g} | {diff:.1e} | {r['speedup']:.0f}"
        else:
            extra = "- | - | - | -"
        lines.append(f"| {r['rule']} | {r['n']} | {r['metric']} | {r['ours_s'] * 1e3:.4g} | "
                     f"{r['log10_ratio']:.10g} | {extra} |")
    lines.append("")
    lines += [f"- {t['target']}: {t['value']:.4g} (required {t['required']:g}): {'met' if t['met'] else 'NOT met'}"
              for t in result["targets"]]
    return "\n".join(lines)


if __name__ == "__main__":
    print(table(run(quick="--quick" in sys.argv)))
