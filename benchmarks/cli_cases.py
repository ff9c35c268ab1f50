"""Section ``cli`` of benchmarks/run.py: wall time of fresh processes (issue 18, goal 4).

Every case is a new ``python`` process started from the repository root (so that this checkout's
package is the one imported), timed from ``subprocess.run`` to its exit, best of 5 (3 with
``--quick``).  The floors are measured in the same run: the interpreter alone, ``import numba``,
and one call of a trivial ``@njit(cache=True)`` function of an array whose cache is filled first —
the least any command that runs a compiled kernel can cost.  Each case's ratio is to the floor it cannot go
below (the interpreter for imports and symbolic commands, the Numba floor for ``simulate``).
Kernels are warmed once before timing (``warm``: their on-disk cache is filled, nothing else).
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
SIMULATE = ["simulate", "heavy_ball", "--param", "lr=0.5", "--param", "momentum=0.9", "--hessian-diag", "1,0.1",
            "--x0", "1", "--steps", "100", "--json"]
# An array argument, as every kernel call has: Numba's typeof of an ndarray imports numpy.ma.
NJIT = ("import numpy as np\n"
        "from numba import njit\n"
        "@njit(cache=True)\n"
        "def f(x):\n"
        "    return x[0] + 1.0\n"
        "f(np.zeros(1))\n")

# name, argv after the interpreter, floor the case is compared with
CASES = (
    ("python -c pass", ["-c", "pass"], None),
    ("import numba", ["-c", "import numba"], "python -c pass"),
    ("trivial cached njit call (floor)", None, "python -c pass"),
    ("import optanalysis", ["-c", "import optanalysis"], "python -c pass"),
    ("simulate --json", ["-m", "optanalysis", *SIMULATE], "trivial cached njit call (floor)"),
    ("derive gd --json", ["-m", "optanalysis", "derive", "gd", "--json"], "python -c pass"),
    ("rules", ["-m", "optanalysis", "rules"], "python -c pass"),
    ("worst-case --json", ["-m", "optanalysis", "worst-case", "heavy_ball", "--mu", "0.1", "--L", "1", "--steps",
                           "6", "--param", "lr=0.5", "--param", "momentum=0.5", "--json"], "python -c pass"),
)
TARGETS = {"import optanalysis": 0.3, "simulate --json": 0.5}  # seconds (issue 18, goal 4)


def _wall(argv, repeats: int, env: dict) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run([PY, *argv], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
        best = min(best, time.perf_counter() - t0)
    return best


def run(quick: bool) -> dict:
    """Best-of wall seconds of each case of :data:`CASES`, its floor and the ratio, and the targets."""
    repeats = 3 if quick else 5
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    rows, walls = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "njit_floor.py"
        script.write_text(NJIT)
        for name, argv, floor in CASES:
            argv = [str(script)] if argv is None else argv
            subprocess.run([PY, *argv], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)  # warm
            walls[name] = _wall(argv, repeats, env)
            row = {"case": name, "wall_s": walls[name], "floor": floor}
            if floor is not None:
                row["floor_s"] = walls[floor]
                row["ratio_to_floor"] = walls[name] / walls[floor]
            rows.append(row)
    targets = [{"target": f"{name} wall (s)", "value": walls[name], "required": limit,
                "met": walls[name] <= limit} for name, limit in TARGETS.items()]
    return {"repeats": repeats, "rows": rows, "targets": targets}


def table(result: dict) -> str:
    """Markdown table of :func:`run`'s result."""
    lines = [f"CLI and import wall time, fresh process, best of {result['repeats']}",
             "", "| case | wall (s) | floor | floor (s) | ratio |", "|---|---:|---|---:|---:|"]
    for r in result["rows"]:
        lines.append(f"| {r['case']} | {r['wall_s']:.3f} | {r['floor'] or '-'} | "
                     f"{r.get('floor_s', float('nan')):.3f} | {r.get('ratio_to_floor', float('nan')):.2f} |")
    lines.append("")
    lines += [f"- {t['target']}: {t['value']:.3f} <= {t['required']}: {'met' if t['met'] else 'NOT met'}"
              for t in result["targets"]]
    return "\n".join(lines)


if __name__ == "__main__":
    print(table(run(quick="--quick" in sys.argv)))
