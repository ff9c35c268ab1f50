"""Lecture claim 1: momentum accelerates progress along flat directions and damps oscillations across
steep ones.

Claim
    A typical lecture on optimizers says that momentum accelerates progress along flat,
    low-curvature directions and damps the oscillations across steep ones.

Theory
    Heavy ball (the Polyak form ``heavy_ball``; the same characteristic polynomial as torch SGD
    momentum) acts per eigen-direction through its derived iteration matrix.  At the same lr its
    overdamped root along a flat direction is ~1 - lr mu/(1 - b), faster than gd's 1 - lr mu; along
    a steep direction with lr L in (1, 2) gd oscillates with ``|1 - lr L|``, while momentum's complex
    pair has modulus sqrt(b), so it damps the oscillation only where ``|1 - lr L|`` > sqrt(b).  Optimal
    tunings (Polyak for heavy ball, 2/(mu + L) for gd) come from :func:`optanalysis.symbolic.derive`.

Method and verdict criteria (fixed before any result was looked at; ``_lesson``'s criterion)
    A grid fraction F is "supported" if F >= 0.9, "refuted" if F <= 0.1, "qualified" otherwise; a
    single comparison is supported if it holds, refuted otherwise; ``condition: ...`` records apply
    the criterion to one momentum value alone.  Two directions h = (0.01, 1), x0 = (1, 1), 100
    steps; grid lr in 0.1..1.9 (x 1/L) x momentum in {0.5, 0.9}.  ``momentum_accelerates_flat|same
    lr``: F = fraction where heavy ball's ``|x_100|`` along h = 0.01 is smaller than gd's.
    ``momentum_damps_steep|same lr, lr L in (1, 2)`` (where gd oscillates): F = fraction where heavy
    ball's ``|x_100|`` along h = 1 is smaller.  ``momentum_accelerates|both tuned (derived),
    kappa=100`` on 20 log-spaced curvatures in [0.01, 1], x0 = 1: supported if heavy ball's loss
    after 300 steps is below gd's, else refuted.  Everything observed comes from the kernels
    (``simulate_batch``); ``quick`` changes nothing.

    Checks against the literature (typed oracles): the derived tunings and worst-case rates of gd
    and heavy ball against Lessard-Recht-Packard's Prop. 1 / Polyak's formulas (1e-12 relative:
    closed forms in floating point), and the derived spectral radii on the same-lr grid against
    the roots of the typed polynomials z - (1 - lr h) and z^2 - (1 + b - lr h) z + b (1e-7: a
    double root moves by sqrt(machine epsilon) under rounding).

Expected verdicts (from theory, before the run; ``EXPECTED`` gives each reason)
    Flat: supported -- at every grid point heavy ball's slowest root along h = 0.01 is below gd's
    1 - lr h (over-damped ~1 - lr h/(1 - b), or complex with modulus sqrt(b) < 1 - lr h).  Steep:
    qualified -- the complex pair has modulus sqrt(b), below ``|1 - lr L|`` only where lr L > 1 +
    sqrt(b): lr in {1.8, 1.9} at b = 0.5 (2 of 9, qualified), none at b = 0.9 (refuted); 2 of 18
    overall = 0.11 (qualified).  Both tuned: supported, since (sqrt(kappa) - 1)/(sqrt(kappa) + 1)
    = 0.818 < (kappa - 1)/(kappa + 1) = 0.980 at kappa = 100: after 300 steps the loss ratio is
    ~(0.818/0.980)^600 = 1e-47.

Falsification hooks (``HOOKS``)
    ``tuning`` (the tunings the race runs with and the oracles check), ``rate`` (the derived
    tuned rates), ``radius`` (the derived spectral radii of the same-lr grid).

References
    B. T. Polyak (1964), Some methods of speeding up the convergence of iteration methods, USSR
    Comput. Math. Math. Phys.; G. Goh (2017), Why Momentum Really Works, Distill; docs/reference.md
    sections 4.3-4.5.
"""
from __future__ import annotations

import numpy as np

from optanalysis.checks import boolean
from optanalysis.simulation import simulate_batch
from optanalysis.studies import StudyResult, Theory, expect
from optanalysis.studies._lesson import (LRP, claim, claims_first, grid_verdict, lesson_figure, quadratic_radius,
                                         radius_check, tuned_race, verdict_of)
from optanalysis.theory.spectrum import spectral_radius

TITLE = "Lecture claim 1: momentum speeds up flat directions (supported), damps steep ones (qualified)"

ROOTS = "Polyak 1964; docs/reference.md 4.3"
EXPECTED = {
    "momentum_accelerates_flat|same lr":
        expect("supported", f"along h = mu heavy ball's slowest root is ~1 - lr h/(1 - b) or sqrt(b), both < 1 - lr h ({ROOTS})"),
    "momentum_damps_steep|same lr, lr L in (1, 2)":
        expect("qualified", f"the complex pair's modulus sqrt(b) < |1 - lr L| only for lr L > 1 + sqrt(b): 2 of 18 points ({ROOTS})"),
    "condition: momentum_damps_steep|same lr, lr L in (1, 2), b=0.5":
        expect("qualified", f"lr L > 1 + sqrt(0.5) = 1.71 holds at lr = 1.8, 1.9: 2 of 9 ({ROOTS})"),
    "condition: momentum_damps_steep|same lr, lr L in (1, 2), b=0.9":
        expect("refuted", f"lr L > 1 + sqrt(0.9) = 1.95 holds nowhere on the grid ({ROOTS})"),
    "momentum_accelerates|both tuned (derived), kappa=100":
        expect("supported", f"Polyak's rate (sqrt(kappa)-1)/(sqrt(kappa)+1) = 0.818 < gd's (kappa-1)/(kappa+1) = 0.980 ({LRP})"),
    "tuned {}: derived vs {}, kappa=100":
        expect("pass", f"the derived optimal tunings and rates are Polyak's and gd's ({LRP}; Lessard et al. 2016 Prop. 1)"),
    "spectral radius, {}: derived vs roots of {}":
        expect("pass", "the derived iteration map has the typed characteristic polynomial (docs/reference.md 4.1, 4.3)"),
}
HOOKS = {
    "tuning": "the derived optimal tunings {rule: params} of gd and heavy ball (the race's runs)",
    "rate": "the derived worst-case rates {rule: rate} at those tunings",
    "radius": "the derived spectral radii of gd and heavy ball on the same-lr grid",
}

H = np.array([0.01, 1.0])
STEPS = 100
LRS = np.linspace(0.1, 1.9, 19)
BETAS = (0.5, 0.9)
MU, L, RACE_STEPS = 0.01, 1.0, 300


def run(quick=False, perturb=None) -> StudyResult:
    """The same-lr grid and the tuned race (``quick`` changes nothing: every run is cheap)."""
    boolean(quick, "quick")
    theory = Theory(HOOKS, perturb)
    x0 = np.ones(2)
    gd = simulate_batch("gd", [{"lr": float(a)} for a in LRS], x0=x0, hessian_diag=H, steps=STEPS,
                        record_every=STEPS)
    hb = simulate_batch("heavy_ball", [{"lr": float(a), "momentum": b} for b in BETAS for a in LRS], x0=x0,
                        hessian_diag=H, steps=STEPS, record_every=STEPS)
    gd_x = np.abs(gd.x[:, 0])  # (lrs, 2)
    hb_x = np.abs(hb.x[:, 0]).reshape(len(BETAS), len(LRS), 2)
    flat = hb_x[:, :, 0] < gd_x[None, :, 0]
    osc = LRS > 1.0
    steep = hb_x[:, osc, 1] < gd_x[None, osc, 1]
    hyper = {"h": H.tolist(), "lr": LRS.tolist(), "momentum": list(BETAS), "steps": STEPS}
    # the roots the expectations are written from: derived (hooked) against the typed polynomials
    radius = theory("radius", {"gd": spectral_radius("gd", {"lr": LRS[:, None]}, H),
                               "heavy_ball": np.stack([spectral_radius("heavy_ball", {"lr": LRS[:, None], "momentum": b},
                                                                       H) for b in BETAS])})
    x = LRS[:, None] * H
    records = [radius_check("gd", hyper, "spectral radius, gd: derived vs roots of z-(1-lr h)", np.abs(1 - x),
                            radius["gd"])]
    for j, b in enumerate(BETAS):
        records.append(radius_check("heavy_ball", {**hyper, "momentum": b},
                                    f"spectral radius, heavy_ball b={b:g}: derived vs roots of z^2-(1+b-lr h)z+b",
                                    quadratic_radius(1 + b - x, b), radius["heavy_ball"][j]))
    f = float(flat.mean())
    records.append(claim("heavy_ball", "constant", hyper, "momentum_accelerates_flat|same lr", 0.9, f,
                         grid_verdict(f)))
    f = float(steep.mean())
    records.append(claim("heavy_ball", "constant", hyper, "momentum_damps_steep|same lr, lr L in (1, 2)", 0.9, f,
                         grid_verdict(f)))
    for j, b in enumerate(BETAS):
        f = float(steep[j].mean())
        records.append(claim("heavy_ball", "constant", {**hyper, "momentum": b},
                             f"condition: momentum_damps_steep|same lr, lr L in (1, 2), b={b:g}", 0.9, f,
                             grid_verdict(f)))
    race, curves = tuned_race(theory, "heavy_ball", "gd", "momentum_accelerates|both tuned (derived), kappa=100",
                              MU, L, RACE_STEPS)
    records += race
    data = {"lr": LRS, "momentum": list(BETAS), "gd_abs_x": gd_x, "hb_abs_x": hb_x, **curves}
    parameters = {"hessian_diag": H, "x0": 1.0, "steps": STEPS, "race": {"mu": MU, "L": L, "steps": RACE_STEPS},
                  "seeds": None}
    return StudyResult(claims_first(records), data, parameters)


def plot(result):
    """``|x_100|`` per direction against lr; the tuned race."""
    d = result.data

    def draw(ax):
        lr = np.asarray(d["lr"])
        gd_x, hb_x = np.asarray(d["gd_abs_x"]), np.asarray(d["hb_abs_x"])
        ax[0].semilogy(lr, gd_x[:, 0], "k-", label="gd, flat h=0.01")
        ax[0].semilogy(lr, gd_x[:, 1], "k--", label="gd, steep h=1")
        for j, b in enumerate(d["momentum"]):
            line, = ax[0].semilogy(lr, hb_x[j][:, 0], "-", label=f"HB b={b}, flat")
            ax[0].semilogy(lr, hb_x[j][:, 1], "--", color=line.get_color(), label=f"HB b={b}, steep")
        ax[0].set(xlabel="lr (L = 1)", ylabel="|x_100| per direction", ylim=(1e-30, 10),
                  title="same lr: flat " + verdict_of(result, "momentum_accelerates_flat") + ", steep "
                  + verdict_of(result, "momentum_damps_steep"))
        ax[0].legend(fontsize=6.5)
        for r, loss in d["tuned"].items():
            ax[1].semilogy(np.maximum(loss, 1e-300), label=f"{r} (derived tuning)")
        ax[1].set(xlabel="step", ylabel="loss", title="tuned, kappa=100: heavy ball vs gd "
                  + verdict_of(result, "momentum_accelerates|"))
        ax[1].legend(fontsize=7)

    return lesson_figure(result, TITLE, 2, draw)
