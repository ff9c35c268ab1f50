"""Lecture claim 4: Adam combines momentum and RMSProp and is more effective when gradients are sparse.

Claim
    A typical lecture on optimizers says that Adam, which combines momentum with RMSProp's
    per-parameter scaling, is more effective when the gradients are sparse.

Theory
    Sparse gradients are modelled on a quadratic as rare features: a coordinate seen with
    frequency p has its curvature, and so its gradient, scaled by p.  A per-coordinate scaling
    (RMSProp's, and Adam's) enlarges the steps along the rare coordinates; momentum alone does
    not.  If the claim holds, Adam's advantage over tuned momentum grows as p falls, and Adam
    does at least as well as RMSProp alone (the combination matters).

Method and verdict criteria (fixed before any result was looked at; the changes of set-up made
after a first run are stated, with what they changed)
    5 coordinates with curvature 1 and 5 whose curvature is p in {1, 0.1, 0.01}; x0 a seeded
    standard normal draw, 100 steps, each rule at its best lr (log grid 1e-4..3, 16 values).
    Adam's advantage A(p) = best loss of heavy ball (momentum 0.9) / best loss of Adam.
    Supported if A increases as p decreases (A(0.01) > A(0.1) > A(1)) and Adam's best loss at
    p = 0.01 is <= RMSProp's; qualified if A increases but RMSProp alone does at least as well
    (the gain is the per-coordinate scaling, not the combination); refuted if A does not increase.
    ``condition: ...`` records judge each half of the criterion alone, for start 0 (supported if
    it holds) and as the fraction F over 9 seeded starts 0..8 (supported if F >= 0.9, refuted if
    F <= 0.1, qualified otherwise).  (Set-up changes: a first run with 500 steps drove every tuned
    rule below 1e-23, where the comparison measures nothing; a second, with 100 steps and x0 = 1,
    had the lockstep artifact of claim 3 (``lesson_rmsprop_helps_badly_scaled``) and gave
    "refuted" (A = 8.9, 37.7, 16.6: not increasing), the random start gives "qualified".  Because
    of this sensitivity, the records over 9 seeded starts were added afterwards.)  Everything
    observed comes from the kernels (``simulate_batch``); ``quick`` changes nothing.

Results (the verdicts these criteria gave; ``EXPECTED``)
    Qualified for start 0 (Adam's advantage over heavy ball grows as features get rarer, but
    RMSProp alone does better), but not robust: over 9 starts the advantage grows in 1 only
    (qualified, F = 0.11) and RMSProp beats Adam in all (refuted).  In this model the rare
    features carry little loss (their curvature is p), Adam is mostly *worse* than tuned heavy
    ball (A < 1 for most p and starts), and the lecture claim is not borne out.

References
    D. P. Kingma, J. Ba (2015), Adam: A Method for Stochastic Optimization, ICLR; docs/reference.md
    section 3.3.
"""
from __future__ import annotations

import numpy as np

from optanalysis.checks import boolean
from optanalysis.studies import StudyResult
from optanalysis.studies._lesson import (ROBUST_STARTS, SEED, best, claim, claims_first, grid_verdict,
                                         holds, lesson_figure, verdict_of)

TITLE = "Lecture claim 4: Adam better when gradients are sparse: qualified at start 0, not robust over starts"

EXPECTED = {
    "adam_better_when_sparse|best lr each, rare features p": "qualified",
    "condition: adam_gain_over_heavy_ball_grows_with_sparsity|best lr each": "supported",
    "condition: adam_at_least_rmsprop|sparsest p=0.01": "refuted",
    "condition: adam_gain_over_heavy_ball_grows_with_sparsity|fraction of 9 random starts": "qualified",
    "condition: adam_at_least_rmsprop|fraction of 9 random starts": "refuted",
}

STEPS = 100
LRS = np.geomspace(1e-4, 3.0, 16)
PS = (1.0, 0.1, 0.01)


def _rows(x0) -> list:
    """Best loss of Adam, RMSProp and heavy ball (momentum 0.9) per rare-feature frequency p."""
    rows = []
    for p in PS:
        prob = dict(hessian_diag=np.array([1.0] * 5 + [p] * 5), x0=x0, steps=STEPS)
        a = best("adam", LRS, {}, **prob)
        r = best("rmsprop", LRS, {}, **prob)
        m = best("heavy_ball", LRS, {"momentum": 0.9}, **prob)
        rows.append({"p": p, "adam": a[:2], "rmsprop": r[:2], "heavy_ball": m[:2], "advantage": m[0] / a[0]})
    return rows


def _criteria(rows) -> tuple:
    """(A(p) increases as p decreases, Adam <= RMSProp at the sparsest p)."""
    adv = [r["advantage"] for r in rows]
    return all(x < y for x, y in zip(adv, adv[1:])), rows[-1]["adam"][0] <= rows[-1]["rmsprop"][0]


def run(quick=False) -> StudyResult:
    """Best-lr races per frequency p, start 0 and 9 starts (``quick`` changes nothing, so that
    every verdict is the same in both modes)."""
    boolean(quick, "quick")
    rows = _rows(np.random.default_rng(SEED).standard_normal(10))
    adv = [r["advantage"] for r in rows]
    increasing, combo = _criteria(rows)
    verdict = "refuted" if not increasing else "supported" if combo else "qualified"
    records = [
        claim("adam", "constant", {"p": list(PS), "advantage": adv},
              "condition: adam_gain_over_heavy_ball_grows_with_sparsity|best lr each", adv[0], adv[-1],
              holds(increasing)),
        claim("adam", "constant", {"p": PS[-1]}, "condition: adam_at_least_rmsprop|sparsest p=0.01",
              rows[-1]["rmsprop"][0], rows[-1]["adam"][0], holds(combo))]
    starts = [(increasing, combo)] + [_criteria(_rows(np.random.default_rng(s).standard_normal(10)))
                                      for s in range(SEED + 1, SEED + ROBUST_STARTS)]
    for j, name in enumerate(("adam_gain_over_heavy_ball_grows_with_sparsity", "adam_at_least_rmsprop")):
        f = float(np.mean([c[j] for c in starts]))
        records.append(claim("adam", "constant", {"p": list(PS), "seeds": list(range(SEED, SEED + ROBUST_STARTS))},
                             f"condition: {name}|fraction of {ROBUST_STARTS} random starts", 0.9, f, grid_verdict(f)))
    hyper = {"p": list(PS), "steps": STEPS, "lr_grid": LRS.tolist(), "advantage": adv,
             "adam_le_rmsprop_at_sparsest": combo}
    records.append(claim("adam", "constant", hyper, "adam_better_when_sparse|best lr each, rare features p",
                         adv[0], adv[-1], verdict))
    parameters = {"p": PS, "steps": STEPS, "lr_grid": LRS, "seed": SEED,
                  "seeds": list(range(SEED, SEED + ROBUST_STARTS))}
    return StudyResult(claims_first(records), {"adam": rows}, parameters)


def plot(result):
    """Ratios of best losses against the frequency p of the rare features (start 0)."""
    a = result.data["adam"]
    (grow,) = [r for r in result.records if r.quantity.startswith("condition: adam_gain") and "starts" in r.quantity]

    def draw(ax):
        ps = [row["p"] for row in a]
        ax[0].loglog(ps, [row["heavy_ball"][0] / row["adam"][0] for row in a], "o-",
                     label="A(p) = best loss heavy ball / best loss Adam")
        ax[0].loglog(ps, [row["rmsprop"][0] / row["adam"][0] for row in a], "s-",
                     label="best loss RMSProp / best loss Adam")
        ax[0].axhline(1.0, color="k", lw=0.8)
        ax[0].invert_xaxis()
        ax[0].set(xlabel="frequency p of the rare features (sparser ->)", ylabel="ratio of best losses (100 steps)",
                  title="Adam, sparse gradients (start 0): " + verdict_of(result, "adam_better")
                  + f"; A grows in {grow.observed:.0%} of starts")
        ax[0].legend(fontsize=7)

    return lesson_figure(result, TITLE, 1, draw, width=8.0)
