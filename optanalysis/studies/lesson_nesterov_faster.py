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

Method and verdict criteria (fixed before any result was looked at; ``_lesson``'s criterion)
    A grid fraction F is "supported" if F >= 0.9, "refuted" if F <= 0.1, "qualified" otherwise; a
    single comparison is supported if it holds, refuted otherwise; ``condition: ...`` records apply
    the criterion to one momentum value alone.  Heavy ball is the Polyak form (``heavy_ball``).
    20 log-spaced curvatures in [0.01, 1], x0 = 1, 500 steps.  ``nesterov_faster|same (lr,
    momentum), kappa=100``: lr in 0.1..1.9 x momentum in {0.5, 0.9, 0.99}; F = fraction where
    Nesterov's final loss is below heavy ball's (a diverged run counts as infinite loss).
    ``nesterov_faster|each tuned (derived), kappa=100``: supported if the tuned Nesterov's loss
    after 300 steps is below the tuned heavy ball's, else refuted.  Everything observed comes from
    the kernels (``simulate_batch``); ``quick`` changes nothing.

    Checks against the literature (typed oracles): the derived tunings and rates of heavy ball
    (Polyak) and Nesterov (Lessard-Recht-Packard) against their typed formulas (1e-12 relative),
    and the derived spectral radii of the whole (lr, b, h) grid against the roots of the typed
    polynomials z^2 - (1 + b - x) z + b and z^2 - (1 + b)(1 - x) z + b (1 - x), x = lr h (1e-7:
    a double root moves by sqrt(machine epsilon) under rounding).

Expected verdicts (from theory, before the run; ``EXPECTED`` gives each reason)
    The final loss after 500 steps follows the worst spectral radius over the 20 curvatures.
    Computed from the typed roots (docs/reference.md 4.3): at b = 0.5 Nesterov's is never the
    smaller (equal to first order in lr mu, larger beyond; and it diverges for lr L > 1.5):
    refuted.  At b = 0.9 and 0.99 its complex modulus sqrt(b (1 - lr h)) is below heavy ball's
    sqrt(b) for lr up to its stability limit (2 + 2b)/(1 + 2b) = 1.36 and 1.34, beyond which it
    diverges: 11 and 13 of 19 points, qualified each; overall 24 of 57 = 0.42, qualified.  The
    margins: at b = 0.5 one near-tie (lr = 0.1) could flip, giving 1/19, still refuted.  Each
    tuned: refuted, since Polyak's rate (sqrt(kappa) - 1)/(sqrt(kappa) + 1) = 0.818 is below
    Lessard-Recht-Packard's 1 - 2/sqrt(3 kappa + 1) = 0.885 at kappa = 100.

Falsification hooks (``HOOKS``)
    ``tuning`` (the tunings the race runs with and the oracles check), ``rate`` (the derived
    tuned rates), ``radius`` (the derived spectral radii of the same-(lr, b) grid).

References
    B. T. Polyak (1964); L. Lessard, B. Recht, A. Packard (2016), Analysis and design of
    optimization algorithms via integral quadratic constraints, SIAM J. Optim.; G. Goh (2017), Why
    Momentum Really Works, Distill; docs/reference.md sections 4.4-4.5.
"""
from __future__ import annotations

import numpy as np

from optanalysis.checks import boolean
from optanalysis.studies import StudyResult, Theory, expect
from optanalysis.studies._lesson import (LRP, claim, claims_first, final_losses, grid_verdict, lesson_figure,
                                         quadratic_radius, radius_check, tuned_race, verdict_of)
from optanalysis.theory.spectrum import spectral_radius

TITLE = "Lecture claim 2: Nesterov faster than momentum? qualified at equal (lr, b), refuted when both are tuned"

ROOTS = "docs/reference.md 4.2-4.3"
EXPECTED = {
    "nesterov_faster|same (lr, momentum), kappa=100":
        expect("qualified", f"the typed roots give Nesterov the smaller worst radius at 24 of 57 (lr, b) points ({ROOTS})"),
    "condition: nesterov_faster|same (lr, b=0.5), kappa=100":
        expect("refuted", f"over-damped at b = 0.5, Nesterov's slow root is never below heavy ball's; it diverges for lr L > 1.5 ({ROOTS})"),
    "condition: nesterov_faster|same (lr, b=0.9), kappa=100":
        expect("qualified", f"modulus sqrt(b(1 - lr h)) < sqrt(b) below Nesterov's stability limit lr L < 1.36: 11 of 19 ({ROOTS})"),
    "condition: nesterov_faster|same (lr, b=0.99), kappa=100":
        expect("qualified", f"modulus sqrt(b(1 - lr h)) < sqrt(b) below Nesterov's stability limit lr L < 1.34: 13 of 19 ({ROOTS})"),
    "nesterov_faster|each tuned (derived), kappa=100":
        expect("refuted", f"Polyak's rate (sqrt(kappa)-1)/(sqrt(kappa)+1) = 0.818 < LRP Nesterov's 1-2/sqrt(3kappa+1) = 0.885 ({LRP})"),
    "tuned {}: derived vs {}, kappa=100":
        expect("pass", f"the derived optimal tunings and rates are Polyak's and Lessard-Recht-Packard's ({LRP}; Prop. 1)"),
    "spectral radius, {}: derived vs roots of {}":
        expect("pass", "the derived iteration maps have the typed characteristic polynomials (docs/reference.md 4.1, 4.3)"),
}
HOOKS = {
    "tuning": "the derived optimal tunings {rule: params} of heavy ball and Nesterov (the race's runs)",
    "rate": "the derived worst-case rates {rule: rate} at those tunings",
    "radius": "the derived spectral radii {rule: array (b, lr, h)} of the same-(lr, b) grid",
}

MU, L = 0.01, 1.0
STEPS, RACE_STEPS = 500, 300
LRS = np.linspace(0.1, 1.9, 19)
BETAS = (0.5, 0.9, 0.99)


def run(quick=False, perturb=None) -> StudyResult:
    """The same-(lr, b) grid and the tuned race (``quick`` changes nothing: every run is cheap)."""
    boolean(quick, "quick")
    theory = Theory(HOOKS, perturb)
    h = np.geomspace(MU, L, 20)
    configs = [{"lr": float(a), "momentum": b} for b in BETAS for a in LRS]
    prob = dict(x0=np.ones_like(h), hessian_diag=h, steps=STEPS)
    hb = final_losses("heavy_ball", configs, **prob).reshape(len(BETAS), len(LRS))
    nag = final_losses("nesterov", configs, **prob).reshape(len(BETAS), len(LRS))
    faster = nag < hb
    hyper = {"kappa": L / MU, "lr": LRS.tolist(), "momentum": list(BETAS), "steps": STEPS}
    # the roots the expectations are written from: derived (hooked) against the typed polynomials
    b = np.array(BETAS)[:, None, None]
    x = LRS[None, :, None] * h
    radius = theory("radius", {r: spectral_radius(r, {"lr": LRS[None, :, None], "momentum": b}, h)
                               for r in ("heavy_ball", "nesterov")})
    records = [radius_check("heavy_ball", hyper, "spectral radius, heavy_ball: derived vs roots of z^2-(1+b-lr h)z+b",
                            quadratic_radius(1 + b - x, b), radius["heavy_ball"]),
               radius_check("nesterov", hyper,
                            "spectral radius, nesterov: derived vs roots of z^2-(1+b)(1-lr h)z+b(1-lr h)",
                            quadratic_radius((1 + b) * (1 - x), b * (1 - x)), radius["nesterov"])]
    f = float(faster.mean())
    records.append(claim("nesterov", "constant", hyper, "nesterov_faster|same (lr, momentum), kappa=100", 0.9, f,
                         grid_verdict(f)))
    for j, beta in enumerate(BETAS):
        f = float(faster[j].mean())
        records.append(claim("nesterov", "constant", {**hyper, "momentum": beta},
                             f"condition: nesterov_faster|same (lr, b={beta:g}), kappa=100", 0.9, f, grid_verdict(f)))
    race, curves = tuned_race(theory, "nesterov", "heavy_ball", "nesterov_faster|each tuned (derived), kappa=100",
                              MU, L, RACE_STEPS)
    records += race
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
