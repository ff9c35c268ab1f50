"""Lecture claim 5: step decay lowers the lr after set numbers of epochs and so lets training converge
gradually.

Claim
    A typical lecture on learning-rate schedules says that step decay, which lowers the lr by a
    factor after set numbers of epochs, lets training converge gradually.

Theory
    On the noisy quadratic model (NQM) the expected loss of SGD with Gaussian gradient noise
    follows an exact linear second-moment recursion (:func:`optanalysis.theory.noisy.expected_loss`):
    a constant lr converges to a noise floor proportional to lr, and each drop of the lr lowers
    that floor.  Without noise the loss is exact too (:func:`optanalysis.theory.prediction.predict`)
    and a lower lr only slows convergence.  The exact expected loss is checked against a kernel
    Monte Carlo mean (record ``check|...``, pass/fail within 4 standard errors: a false failure has
    probability 6e-5).

Method and verdict criteria (fixed before any result was looked at)
    Noisy quadratic (curvatures 1/i, i = 1..20, noise "hessian:sigma=1", x0 = 1), SGD at lr 1
    for 1000 steps vs StepLR(step_size=250, gamma=0.1) with the same base lr; exact expected
    loss.  The schedule "helps" if its final expected loss is below the constant lr's and the
    loss at the end of every stage is below that of the previous stage.  Supported if it helps
    with and without noise, qualified if only with noise, refuted if in neither; the
    ``condition: ...`` records judge each case alone (supported if it helps).  ``quick`` only
    lowers the Monte Carlo seeds (200 instead of 1000), so every verdict is the same in both modes.

Results (the verdicts these criteria gave; ``EXPECTED``)
    Qualified: step decay helps only with gradient noise (it lowers the noise floor); without
    noise the constant lr converges much faster.

References
    G. Zhang et al. (2019), Which algorithmic choices matter at which batch sizes?, NeurIPS (noisy
    quadratic model); R. Ge, S. Kakade, R. Kidambi, P. Netrapalli (2019), The step decay schedule,
    NeurIPS; docs/reference.md sections 7 and 10.
"""
from __future__ import annotations

import numpy as np

from optanalysis.checks import boolean
from optanalysis.studies import StudyResult
from optanalysis.studies._lesson import (claim, claims_first, holds, lesson_figure, mc_check,
                                         mc_parameters, nqm, verdict_of)
from optanalysis.theory.noisy import expected_loss
from optanalysis.theory.prediction import predict

TITLE = "Lecture claim 5: step decay lets training converge gradually: qualified (only under gradient noise)"

EXPECTED = {
    "step_decay_converges_gradually|noisy and noiseless NQM": "qualified",
    "condition: step_decay_helps|noisy NQM": "supported",
    "condition: step_decay_helps|noiseless NQM": "refuted",
}

STEPS, STEP_SIZE = 1000, 250
SCHEDULE = f"step:step_size={STEP_SIZE},gamma=0.1"
NOISE = "hessian:sigma=1"
PARAMS = {"lr": 1.0}


def run(quick=False) -> StudyResult:
    """Exact losses with and without noise, and one Monte Carlo check (quick: 200 seeds)."""
    boolean(quick, "quick")
    prob = nqm()
    out = {}
    for label, nz in (("noisy", NOISE), ("noiseless", None)):
        if nz is None:
            dec = predict("gd", PARAMS, steps=STEPS, schedule=SCHEDULE, **prob).loss
            const = predict("gd", PARAMS, steps=STEPS, **prob).loss
        else:
            dec = expected_loss("gd", PARAMS, steps=STEPS, schedule=SCHEDULE, noise=nz, **prob).loss
            const = expected_loss("gd", PARAMS, steps=STEPS, noise=nz, **prob).loss
        ends = dec[STEP_SIZE::STEP_SIZE]
        stair = bool(np.all(np.diff(ends) < 0))
        out[label] = {"decay": dec, "constant": const, "helps": bool(dec[-1] < const[-1] and stair)}
    records = [mc_check(quick, "gd", PARAMS, SCHEDULE, STEPS, NOISE, float(out["noisy"]["decay"][-1]), **prob)]
    for label, v in out.items():
        records.append(claim("gd", SCHEDULE, {"lr": 1.0, "noise": NOISE if label == "noisy" else None, "steps": STEPS},
                             f"condition: step_decay_helps|{label} NQM", v["constant"][-1], v["decay"][-1],
                             holds(v["helps"])))
    a, b = out["noisy"]["helps"], out["noiseless"]["helps"]
    verdict = "supported" if a and b else "qualified" if a else "refuted"
    hyper = {"lr": 1.0, "noise": NOISE, "steps": STEPS, "helps_noisy": a, "helps_noiseless": b}
    records.append(claim("gd", SCHEDULE, hyper, "step_decay_converges_gradually|noisy and noiseless NQM",
                         out["noisy"]["constant"][-1], out["noisy"]["decay"][-1], verdict))
    data = {k: {"decay": v["decay"], "constant": v["constant"]} for k, v in out.items()}
    data["schedule"] = SCHEDULE
    parameters = {"problem": "NQM h_i = 1/i, d = 20, x0 = 1", "noise": NOISE, "steps": STEPS, "schedule": SCHEDULE,
                  **mc_parameters(quick)}
    return StudyResult(claims_first(records), data, parameters)


def plot(result):
    """Exact expected loss, constant lr vs step decay, with and without noise."""
    s = result.data

    def draw(ax):
        for label, style in (("noisy", "-"), ("noiseless", ":")):
            ax[0].semilogy(s[label]["constant"], "k" + style, label=f"constant lr, {label}")
            ax[0].semilogy(s[label]["decay"], "C2" + style, label=f"step decay, {label}")
        ax[0].set(xlabel="step", ylabel="expected loss (exact)",
                  title="step decay: " + verdict_of(result, "step_decay"))
        ax[0].legend(fontsize=7)

    return lesson_figure(result, TITLE, 1, draw, width=8.0)
