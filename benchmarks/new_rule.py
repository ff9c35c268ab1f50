"""A rule added in issue 24 against a built-in rule of the same shape, in the same kernel.

    python benchmarks/new_rule.py            # ~1 min on 2 quiet cores; prints the table

Pairs: ``qhm`` (state x, buf: buf <- b buf + (1 - b) g, x <- x - lr((1 - nu) g + nu buf)) against
torch's ``sgd_momentum`` with dampening (state x, buf: the same buffer, x <- x - lr buf; the same
shape) and against ``heavy_ball`` (state x, x_prev; two multiply-adds fewer), momentum 0.9 (QHM nu = 0.7); ``adamax`` (state x, m, u; a max and a
bias-corrected m) against torch ``adam`` (state x, m, v, vmax); every lr 1e-8, as Adam's in
``run.py``: the runs stay in their transient, where no state decays into subnormal numbers (a
converged QHM buffer does, and x86 then times microcode assists).  Each is timed through the compiled kernel called directly
(``optanalysis run_diag``, one thread, contenders.py) at d = 1e3 and 1e6 in float64, best of
three ~0.3 s calls (timing.py), after checking that the final state holds only normal numbers.
"""
import sys

import numpy as np

from contenders import make
from problem import check_normal, quadratic
from timing import time_steps

PAIRS = (("qhm", {"lr": 1e-8, "momentum": 0.9, "nu": 0.7}, "sgd_momentum", {"lr": 1e-8, "momentum": 0.9,
                                                                            "dampening": 0.1}),
         ("qhm", {"lr": 1e-8, "momentum": 0.9, "nu": 0.7}, "heavy_ball", {"lr": 1e-8, "momentum": 0.9}),
         ("adamax", {"lr": 1e-8}, "adam", {"lr": 1e-8}))


def main() -> int:
    print(f"{'new rule':>8} {'built-in':>10} {'d':>8} {'new ns/el-step':>15} {'built-in ns/el-step':>20} {'ratio':>6}")
    for new, pnew, old, pold in PAIRS:
        for d in (10**3, 10**6):
            h, x0, xstar = quadratic(d, np.float64)
            out = []
            for rule, params in ((new, pnew), (old, pold)):
                run, state = make("optanalysis run_diag", rule, params, h, x0, xstar)
                t = time_steps(run, d)
                check_normal(*state())
                out.append(1e9 * t["seconds"] / (t["steps"] * d))
            print(f"{new:>8} {old:>10} {d:>8} {out[0]:>15.3f} {out[1]:>20.3f} {out[0] / out[1]:>6.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
