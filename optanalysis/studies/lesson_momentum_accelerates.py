"""Lecture claim 1: momentum accelerates progress along flat directions and damps oscillations across
steep ones.

Claim
    A typical lecture on optimizers says that momentum accelerates progress along flat,
    low-curvature directions and damps the oscillations across steep ones.

Theory
    Heavy ball (the Polyak form ``heavy_ball``; the same characteristic polynomial as torch SGD
    momentum) acts per eigen-direction through its derived iteration matrix.  At the same lr its
    overdamped root along a flat direction is ~1 - lr mu/(1 - b), faster than gd's 1 - lr mu; along
    a steep direction with lr L in (1, 2) gd oscillates with |1 - lr L|, while momentum's complex
    pair has modulus sqrt(b), so it damps the oscillation only where |1 - lr L| > sqrt(b).  Optimal
    tunings (Polyak for heavy ball, 2/(mu + L) for gd) come from :func:`optanalysis.symbolic.derive`.

Method and verdict criteria (fixed before any result was looked at)
    A grid fraction F is "supported" if F >= 0.9, "refuted" if F <= 0.1, "qualified" otherwise; a
    single comparison is supported if it holds, refuted otherwise; ``condition: ...`` records apply
    the criterion to one momentum value alone.  Two directions h = (0.01, 1), x0 = (1, 1), 100
    steps; grid lr in 0.1..1.9 (x 1/L) x momentum in {0.5, 0.9}.  ``momentum_accelerates_flat|same
    lr``: F = fraction where heavy ball's |x_100| along h = 0.01 is smaller than gd's.
    ``momentum_damps_steep|same lr, lr L in (1, 2)`` (where gd oscillates): F = fraction where heavy
    ball's |x_100| along h = 1 is smaller.  ``momentum_accelerates|both tuned (derived),
    kappa=100`` on 20 log-spaced curvatures in [0.01, 1], x0 = 1: supported if heavy ball's loss
    after 300 steps is below gd's, else refuted.  Everything observed comes from the kernels
    (``simulate_batch``); ``quick`` changes nothing.

Results (the verdicts these criteria gave; ``EXPECTED``)
    Flat directions: supported (heavy ball is faster along h = mu at every grid point).  Steep
    directions: qualified -- at equal lr, momentum damps the oscillation only where gd's
    |1 - lr L| exceeds sqrt(b) (lr L close to 2; qualified at b = 0.5, refuted at b = 0.9);
    elsewhere the complex pair of modulus sqrt(b) decays more slowly than gd.  With both tuned
    (Polyak vs 2/(mu + L)) momentum is far faster: supported.

References
    B. T. Polyak (1964), Some methods of speeding up the convergence of iteration methods, USSR
    Comput. Math. Math. Phys.; G. Goh (2017), Why Momentum Really Works, Distill; docs/reference.md
    sections 4.3-4.5.
"""
from __future__ import annotations

import numpy as np

from optanalysis.simulation import simulate_batch
from optanalysis.checks import boolean
from optanalysis.studies import StudyResult
from optanalysis.studies._lesson import (claim, claims_first, grid_verdict, lesson_figure,
                                         tuned_race, verdict_of)

TITLE = "Lecture claim 1: momentum speeds up flat directions (supported), damps steep ones (qualified)"

EXPECTED = {
    "momentum_accelerates_flat|same lr": "supported",
    "momentum_damps_steep|same lr, lr L in (1, 2)": "qualified",
    "momentum_accelerates|both tuned (derived), kappa=100": "supported",
    "condition: momentum_damps_steep|same lr, lr L in (1, 2), b=0.5": "qualified",
    "condition: momentum_damps_steep|same lr, lr L in (1, 2), b=0.9": "refuted",
}

H = np.array([0.01, 1.0])
STEPS = 100
LRS = np.linspace(0.1, 1.9, 19)
BETAS = (0.5, 0.9)
MU, L, RACE_STEPS = 0.01, 1.0, 300


def run(quick=False) -> StudyResult:
    """The same-lr grid and the tuned race (``quick`` changes nothing: every run is cheap)."""
    boolean(quick, "quick")
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
    f = float(flat.mean())
    records = [claim("heavy_ball", "constant", hyper, "momentum_accelerates_flat|same lr", 0.9, f, grid_verdict(f))]
    f = float(steep.mean())
    records.append(claim("heavy_ball", "constant", hyper, "momentum_damps_steep|same lr, lr L in (1, 2)", 0.9, f,
                         grid_verdict(f)))
    for j, b in enumerate(BETAS):
        f = float(steep[j].mean())
        records.append(claim("heavy_ball", "constant", {**hyper, "momentum": b},
                             f"condition: momentum_damps_steep|same lr, lr L in (1, 2), b={b:g}", 0.9, f,
                             grid_verdict(f)))
    race, curves = tuned_race("heavy_ball", "gd", "momentum_accelerates|both tuned (derived), kappa=100", MU, L,
                              RACE_STEPS)
    records.append(race)
    data = {"lr": LRS, "momentum": list(BETAS), "gd_abs_x": gd_x, "hb_abs_x": hb_x, **curves}
    parameters = {"hessian_diag": H, "x0": 1.0, "steps": STEPS, "race": {"mu": MU, "L": L, "steps": RACE_STEPS},
                  "seeds": None}
    return StudyResult(claims_first(records), data, parameters)


def plot(result):
    """|x_100| per direction against lr; the tuned race."""
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
