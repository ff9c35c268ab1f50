"""Lecture claim 2: Nesterov's look-ahead makes it converge faster than classical momentum.

Claim
    A typical lecture on optimizers says that Nesterov's look-ahead gradient makes it converge
    faster than classical (heavy-ball) momentum.

Theory
    Both rules act per eigen-direction through their derived iteration matrices.  At the same
    (lr, b) Nesterov is stable only below lr L = (2 + 2b)/(1 + 2b), heavy ball below 2 + 2b.  Each
    optimally tuned (Polyak for heavy ball, Lessard-Recht-Packard for Nesterov, both from
    :func:`optanalysis.symbolic.derive`), heavy ball's worst-case rate on quadratics is the smaller:
    (sqrt(kappa) - 1)/(sqrt(kappa) + 1) < 1 - 2/sqrt(3 kappa + 1).

Method and verdict criteria (fixed before any result was looked at)
    A grid fraction F is "supported" if F >= 0.9, "refuted" if F <= 0.1, "qualified" otherwise; a
    single comparison is supported if it holds, refuted otherwise; ``condition: ...`` records apply
    the criterion to one momentum value alone.  Heavy ball is the Polyak form (``heavy_ball``).
    20 log-spaced curvatures in [0.01, 1], x0 = 1, 500 steps.  ``nesterov_faster|same (lr,
    momentum), kappa=100``: lr in 0.1..1.9 x momentum in {0.5, 0.9, 0.99}; F = fraction where
    Nesterov's final loss is below heavy ball's (a diverged run counts as infinite loss).
    ``nesterov_faster|each tuned (derived), kappa=100``: supported if the tuned Nesterov's loss
    after 300 steps is below the tuned heavy ball's, else refuted.  Everything observed comes from
    the kernels (``simulate_batch``); ``quick`` changes nothing.

Results (the verdicts these criteria gave; ``EXPECTED``)
    Qualified at equal (lr, b): Nesterov is faster at b = 0.9 and 0.99 below its threshold
    lr L = (2 + 2b)/(1 + 2b) (qualified for each), never faster at b = 0.5 (refuted: even or
    slightly slower), and diverges beyond that threshold where heavy ball still converges.  Each
    optimally tuned, heavy ball is faster on quadratics: refuted.

References
    B. T. Polyak (1964); L. Lessard, B. Recht, A. Packard (2016), Analysis and design of
    optimization algorithms via integral quadratic constraints, SIAM J. Optim.; G. Goh (2017), Why
    Momentum Really Works, Distill; docs/reference.md sections 4.4-4.5.
"""
from __future__ import annotations

import numpy as np

from optanalysis.checks import boolean
from optanalysis.studies import StudyResult
from optanalysis.studies._lesson import (claim, claims_first, final_losses, grid_verdict,
                                         lesson_figure, tuned_race, verdict_of)

TITLE = "Lecture claim 2: Nesterov faster than momentum? qualified at equal (lr, b), refuted when both are tuned"

EXPECTED = {
    "nesterov_faster|same (lr, momentum), kappa=100": "qualified",
    "nesterov_faster|each tuned (derived), kappa=100": "refuted",
    "condition: nesterov_faster|same (lr, b=0.5), kappa=100": "refuted",
    "condition: nesterov_faster|same (lr, b=0.9), kappa=100": "qualified",
    "condition: nesterov_faster|same (lr, b=0.99), kappa=100": "qualified",
}

MU, L = 0.01, 1.0
STEPS, RACE_STEPS = 500, 300
LRS = np.linspace(0.1, 1.9, 19)
BETAS = (0.5, 0.9, 0.99)


def run(quick=False) -> StudyResult:
    """The same-(lr, b) grid and the tuned race (``quick`` changes nothing: every run is cheap)."""
    boolean(quick, "quick")
    h = np.geomspace(MU, L, 20)
    configs = [{"lr": float(a), "momentum": b} for b in BETAS for a in LRS]
    prob = dict(x0=np.ones_like(h), hessian_diag=h, steps=STEPS)
    hb = final_losses("heavy_ball", configs, **prob).reshape(len(BETAS), len(LRS))
    nag = final_losses("nesterov", configs, **prob).reshape(len(BETAS), len(LRS))
    faster = nag < hb
    f = float(faster.mean())
    hyper = {"kappa": L / MU, "lr": LRS.tolist(), "momentum": list(BETAS), "steps": STEPS}
    records = [claim("nesterov", "constant", hyper, "nesterov_faster|same (lr, momentum), kappa=100", 0.9, f,
                     grid_verdict(f))]
    for j, b in enumerate(BETAS):
        f = float(faster[j].mean())
        records.append(claim("nesterov", "constant", {**hyper, "momentum": b},
                             f"condition: nesterov_faster|same (lr, b={b:g}), kappa=100", 0.9, f, grid_verdict(f)))
    race, curves = tuned_race("nesterov", "heavy_ball", "nesterov_faster|each tuned (derived), kappa=100", MU, L,
                              RACE_STEPS)
    records.append(race)
    data = {"lr": LRS, "momentum": list(BETAS), "hb_final": hb, "nag_final": nag, **curves}
    parameters = {"mu": MU, "L": L, "curvatures": 20, "x0": 1.0, "steps": STEPS, "race_steps": RACE_STEPS,
                  "seeds": None}
    return StudyResult(claims_first(records), data, parameters)


def plot(result):
    """The tuned race; log loss ratio Nesterov / heavy ball over the (lr, b) grid."""
    d = result.data

    def draw(ax):
        for r, loss in d["tuned"].items():
            ax[0].semilogy(np.maximum(loss, 1e-300), label=f"{r} (derived tuning)")
        ax[0].set(xlabel="step", ylabel="loss",
                  title="tuned, kappa=100: Nesterov vs heavy ball " + verdict_of(result, "nesterov_faster|each"))
        ax[0].legend(fontsize=7)
        ratio = np.log10(np.asarray(d["nag_final"]) / np.asarray(d["hb_final"]))
        for j, b in enumerate(d["momentum"]):
            ax[1].plot(d["lr"], np.clip(ratio[j], -30, 30), marker=".", label=f"momentum {b}")
        ax[1].axhline(0, color="k", lw=0.8)
        ax[1].set(xlabel="lr (L = 1)", ylabel="log10(loss Nesterov / loss HB) after 500 steps (clipped)",
                  title="same (lr, b): Nesterov faster? " + verdict_of(result, "nesterov_faster|same"))
        ax[1].legend(fontsize=7)

    return lesson_figure(result, TITLE, 2, draw)
