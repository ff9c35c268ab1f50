"""Lecture claim 7: adapting the lr to training progress (reduce-on-plateau) improves the result.

Claim
    A typical lecture on learning-rate schedules says that adapting the learning rate to the
    progress of training, as ReduceLROnPlateau does, improves the result.

Theory
    On the noisy quadratic model (NQM) a constant lr converges to a noise floor proportional to
    lr (docs/reference.md 7.3); a schedule that lowers the lr once the loss stops falling lowers
    that floor, but when it first acts, and how often, depends on the noise in the run's own
    loss: theory does not say whether it improves the final loss at a given (sigma, lr).
    Without noise gd's loss falls by a factor <= (1 - lr/20)^2 <= 0.95 per step on this
    problem until the floating-point floor, far more than ReduceLROnPlateau's relative threshold
    1e-4 (docs/reference.md 8.4), so the schedule never acts and the run is the constant lr's.
    The schedule is closed-loop (it reacts to the run's own loss), so the observations are
    kernel runs (``simulate_batch``), not the exact expected loss.

Method and verdict criteria (fixed before any result was looked at; ``_lesson``'s criterion)
    Noisy quadratic (curvatures 1/i, i = 1..20, x0 = 1) with noise "hessian:sigma=S", sigma in
    {0, 0.3, 1} x base lr in {0.5, 1, 1.5}; 200 seeds, 600 steps; ReduceLROnPlateau(factor=0.5,
    patience=10) on the run's loss vs the constant lr.  It "improves" a grid point if the mean
    final loss is lower by more than 3 standard errors of the (seed-paired) difference (sigma = 0:
    one run, any decrease).  With F = fraction of grid points improved, the claim is "supported"
    if F >= 0.9, "refuted" if F <= 0.1, "qualified" otherwise; ``condition: ...`` records apply the
    same criterion to the noiseless row and to the noisy rows alone.  ``quick`` only lowers the
    seeds (100 instead of 200).

    Check (per base lr): the noiseless plateau run's final loss against gd's closed form
    1/2 sum_i h_i prod_k (1 - lr_k h_i)^2 on the lr sequence theory predicts (no reduction), typed
    in ``_lesson.sgd_moments`` with no noise, within 1e-12 relative (one rounding per step:
    600 x 1.1e-16 = 7e-14).

Expected verdicts (from theory, before the run; ``EXPECTED`` gives each reason)
    Noiseless: refuted (the schedule never acts: no grid point improves).  Noisy rows:
    exploratory (see Theory).  Headline: exploratory, but "supported" is ruled out: the three
    noiseless points cannot improve, so F <= 6/9 < 0.9; qualified or refuted are the verdicts
    theory leaves open.

Falsification hooks (``HOOKS``)
    ``plateau_lrs`` (the lr sequence theory predicts the schedule follows without noise: the
    base lr throughout).

References
    G. Zhang et al. (2019), Which algorithmic choices matter at which batch sizes?, NeurIPS (noisy
    quadratic model); PyTorch torch/optim/lr_scheduler.py (ReduceLROnPlateau); docs/reference.md
    sections 7 and 8.4.
"""
from __future__ import annotations

import math

import numpy as np

from optanalysis.checks import boolean
from optanalysis.comparison import Record
from optanalysis.simulation import simulate_batch
from optanalysis.studies import StudyResult, Theory, expect, exploratory
from optanalysis.studies._lesson import (EXACT, claim, claims_first, grid_verdict, lesson_figure, nqm, sgd_moments,
                                         verdict_of)

TITLE = "Lecture claim 7: reduce-on-plateau improves the result? never without noise; under noise exploratory"

PLATEAU = "torch ReduceLROnPlateau, docs/reference.md 8.4"
EXPECTED = {
    "plateau_improves|noise sigma x base lr grid, NQM":
        exploratory("the noisy rows are not decided by theory; the 3 noiseless points cannot improve, so F <= 6/9: "
                    "not supported", ("qualified", "refuted")),
    "condition: plateau_improves|noiseless, sigma=0":
        expect("refuted", f"gd's loss falls >= 5% per step, above the 1e-4 threshold: the schedule never acts ({PLATEAU})"),
    "condition: plateau_improves|noisy, sigma>0":
        exploratory("when the closed-loop schedule first acts, and how often, depends on the noisy loss it reads"),
    "noiseless plateau run: final loss vs gd's closed form without reduction, lr={}":
        expect("pass", f"without noise no plateau is reached, the lr stays the base lr ({PLATEAU}; docs/reference.md 10.1)"),
}
HOOKS = {
    "plateau_lrs": "the lr sequence theory predicts the schedule follows without noise (the base lr at every step)",
}

STEPS = 600
SIGMAS = (0.0, 0.3, 1.0)
BASE_LRS = (0.5, 1.0, 1.5)
SCHEDULE = "plateau:factor=0.5,patience=10"


def run(quick=False, perturb=None) -> StudyResult:
    """Seed-paired constant vs plateau runs on the (sigma, lr) grid (quick: 100 seeds)."""
    boolean(quick, "quick")
    theory = Theory(HOOKS, perturb)
    prob = nqm()
    seeds = list(range(100 if quick else 200))
    grid = np.zeros((len(SIGMAS), len(BASE_LRS)), dtype=bool)
    diff = np.zeros_like(grid, dtype=float)
    records = []
    for i, s in enumerate(SIGMAS):
        noise = None if s == 0 else f"hessian:sigma={s:g}"
        sd = [0] if noise is None else seeds
        configs = [{"lr": b} for b in BASE_LRS]
        kw = dict(seeds=sd, steps=STEPS, noise=noise, record_every=STEPS, **prob)
        const = simulate_batch("gd", configs, **kw).loss[:, :, -1]
        plat = simulate_batch("gd", configs, schedule=SCHEDULE, **kw).loss[:, :, -1]
        if noise is None:
            for j, b in enumerate(BASE_LRS):
                lrs = theory("plateau_lrs", np.full(STEPS, b))
                oracle = sgd_moments(prob["hessian_diag"], prob["x0"], lrs, 0.0)
                records.append(Record.judge("gd", SCHEDULE, {"lr": b, "steps": STEPS},
                                            f"noiseless plateau run: final loss vs gd's closed form without "
                                            f"reduction, lr={b:g}", oracle, float(plat[j, 0]), EXACT * oracle))
        delta = const - plat  # paired by seed: same noise stream until the lr first changes
        mean = delta.mean(axis=1)
        se = delta.std(axis=1, ddof=1) / math.sqrt(len(sd)) if len(sd) > 1 else np.zeros(len(BASE_LRS))
        grid[i] = mean > 3 * se
        diff[i] = mean / const.mean(axis=1)
    f = float(grid.mean())
    hyper = {"sigma": list(SIGMAS), "lr": list(BASE_LRS), "steps": STEPS, "seeds": len(seeds), "schedule": SCHEDULE}
    for label, rows in (("noiseless, sigma=0", grid[:1]), ("noisy, sigma>0", grid[1:])):
        g = float(rows.mean())
        records.append(claim("gd", SCHEDULE, hyper, f"condition: plateau_improves|{label}", 0.9, g, grid_verdict(g)))
    records.append(claim("gd", SCHEDULE, hyper, "plateau_improves|noise sigma x base lr grid, NQM", 0.9, f,
                         grid_verdict(f)))
    data = {"sigma": list(SIGMAS), "lr": list(BASE_LRS), "improved": grid, "relative_gain": diff}
    parameters = {"problem": "NQM h_i = 1/i, d = 20, x0 = 1", "steps": STEPS, "schedule": SCHEDULE,
                  "seeds": f"0..{len(seeds) - 1}"}
    return StudyResult(claims_first(records), data, parameters)


def plot(result):
    """Relative gain of the plateau schedule over the constant lr on the (sigma, lr) grid."""
    p = result.data

    def draw(ax):
        gain = np.asarray(p["relative_gain"])
        im = ax[0].imshow(gain, cmap="RdBu", vmin=-1, vmax=1, origin="lower")
        for i in range(gain.shape[0]):
            for j in range(gain.shape[1]):
                ax[0].text(j, i, f"{gain[i, j]:+.2f}" + ("*" if p["improved"][i][j] else ""), ha="center",
                           va="center", fontsize=8)
        ax[0].set_xticks(range(len(p["lr"])), [f"{v:g}" for v in p["lr"]])
        ax[0].set_yticks(range(len(p["sigma"])), [f"{v:g}" for v in p["sigma"]])
        ax[0].grid(False)
        ax[0].set(xlabel="base lr", ylabel="noise sigma",
                  title="plateau: relative gain (* significant): " + verdict_of(result, "plateau"))
        ax[0].figure.colorbar(im, ax=ax[0], shrink=0.8, label="(const - plateau) / const")

    return lesson_figure(result, TITLE, 1, draw, width=7.0)
