"""Lecture claim 5: step decay lowers the lr after set numbers of epochs and so lets training converge
gradually.

Claim
    A typical lecture on learning-rate schedules says that step decay, which lowers the lr by a
    factor after set numbers of epochs, lets training converge gradually.

Theory
    On the noisy quadratic model (NQM) the expected loss of SGD with Gaussian gradient noise
    follows an exact linear second-moment recursion (:func:`optanalysis.theory.noisy.expected_loss`,
    per direction E y <- (1 - a h) E y, Var y <- (1 - a h)^2 Var y + a^2 c): a constant lr
    converges to a noise floor a c/(2(2 - a h)) per direction, proportional to the lr, and each
    drop of the lr lowers that floor.  Without noise the loss is exact too
    (:func:`optanalysis.theory.prediction.predict`) and a lower lr only slows convergence (every
    mode contracts by ``|1 - lr h|``, larger for a smaller lr while lr h <= 1).

Method and verdict criteria (fixed before any result was looked at; ``_lesson``'s criterion)
    Noisy quadratic (curvatures 1/i, i = 1..20, noise "hessian:sigma=1", i.e. covariance H, x0 =
    1), SGD at lr 1 for 1000 steps vs StepLR(step_size=250, gamma=0.1) with the same base lr;
    exact expected loss.  The schedule "helps" if its final expected loss is below the constant
    lr's and the loss at the end of every stage is below that of the previous stage.  Supported
    if it helps with and without noise, qualified if only with noise, refuted if in neither; the
    ``condition: ...`` records judge each case alone (supported if it helps).

    Checks: every exact loss the claims use against the paper's recursion typed in
    ``_lesson.sgd_moments``, run on StepLR's typed lrs lr gamma^floor(k/step_size)
    (docs/reference.md 8.2), within 1e-12 relative (one rounding per step: <= 1000 x 1.1e-16);
    the exact expected final loss of the schedule against a kernel Monte Carlo mean within 4
    standard errors (``_lesson`` states the level and the power: 1000 seeds in quick mode, 4000
    otherwise, the only difference between the modes).

Expected verdicts (from theory, before the run; ``EXPECTED`` gives each reason)
    Noisy: supported -- the constant lr stays at its floor sum_i h_i c_i/(4 - 2 h_i) ~ 1.2 after
    its transient, while each stage lowers the floor ~10-fold (the bias is below 1e-100 after
    the first stage).  Noiseless: refuted -- the constant lr 1 contracts every mode by 1 - h_i
    at each step, the decayed lrs by less.  Headline: qualified.

Falsification hooks (``HOOKS``)
    ``noise_variance`` (the noise variance the exact expected loss is computed with: 1),
    ``schedule`` (the derived lr sequence of the step decay).

References
    G. Zhang et al. (2019), Which algorithmic choices matter at which batch sizes?, NeurIPS (noisy
    quadratic model); R. Ge, S. Kakade, R. Kidambi, P. Netrapalli (2019), The step decay schedule,
    NeurIPS; docs/reference.md sections 7 and 10.
"""
from __future__ import annotations

import numpy as np

from optanalysis.checks import boolean
from optanalysis.studies import StudyResult, Theory, expect
from optanalysis.studies._lesson import (claim, claims_first, exact, holds, lesson_figure, mc_check,
                                         mc_parameters, noise_spec, nqm, sgd_moments, verdict_of)
from optanalysis.theory.noisy import expected_loss
from optanalysis.theory.prediction import lr_sequence, predict

TITLE = "Lecture claim 5: step decay lets training converge gradually: qualified (only under gradient noise)"

NQM = "Zhang et al. 2019; docs/reference.md 7.3, 10.2"
EXPECTED = {
    "step_decay_converges_gradually|noisy and noiseless NQM":
        expect("qualified", f"decay lowers the noise floor (noisy: helps) but only slows a noiseless run ({NQM})"),
    "condition: step_decay_helps|noisy NQM":
        expect("supported", f"the floor a c/(2(2 - a h)) is proportional to the lr: each 10-fold drop lowers it ({NQM})"),
    "condition: step_decay_helps|noiseless NQM":
        expect("refuted", f"without noise each mode contracts by 1 - lr h, more slowly for a smaller lr ({NQM})"),
    "exact expected loss: derived vs SGD moment recursion, {}":
        expect("pass", f"the derived second-moment recursion of gd is the paper's ({NQM}; 7.7)"),
    "exact expected final loss vs kernel Monte Carlo mean, step decay":
        expect("pass", "the kernels sample the model the exact recursion describes (4 standard errors, _lesson)"),
}
HOOKS = {
    "noise_variance": "the gradient-noise variance (x H) the exact expected loss is computed with",
    "schedule": "the derived lr sequence of StepLR(step_size=250, gamma=0.1) from lr 1",
}

STEPS, STEP_SIZE, GAMMA = 1000, 250, 0.1
SCHEDULE = f"step:step_size={STEP_SIZE},gamma={GAMMA:g}"
VARIANCE = 1.0
NOISE = noise_spec(VARIANCE)
PARAMS = {"lr": 1.0}


def run(quick=False, perturb=None) -> StudyResult:
    """Exact losses with and without noise, their oracles, and one Monte Carlo check (quick: 1000 seeds)."""
    boolean(quick, "quick")
    theory = Theory(HOOKS, perturb)
    prob = nqm()
    decay = theory("schedule", lr_sequence(PARAMS["lr"], STEPS, SCHEDULE))
    typed = PARAMS["lr"] * GAMMA ** (np.arange(STEPS) // STEP_SIZE)  # torch StepLR, docs/reference.md 8.2
    constant = np.full(STEPS, PARAMS["lr"])
    noisy = noise_spec(theory("noise_variance", VARIANCE))
    records, out = [], {}
    for label, variance in (("noisy", VARIANCE), ("noiseless", 0.0)):
        if variance:
            dec = expected_loss("gd", PARAMS, steps=STEPS, lrs=decay, noise=noisy, **prob).loss
            const = expected_loss("gd", PARAMS, steps=STEPS, lrs=constant, noise=noisy, **prob).loss
        else:
            dec = predict("gd", PARAMS, steps=STEPS, lrs=decay, **prob).loss
            const = predict("gd", PARAMS, steps=STEPS, **prob).loss
        for name, loss, lrs in (("step decay", dec, typed), ("constant", const, constant)):
            records.append(exact("gd", SCHEDULE if name == "step decay" else "constant", {"lr": 1.0, "steps": STEPS},
                                 f"exact expected loss: derived vs SGD moment recursion, {name}, {label}",
                                 sgd_moments(prob["hessian_diag"], prob["x0"], lrs, variance), loss[-1]))
        ends = dec[STEP_SIZE::STEP_SIZE]
        stair = bool(np.all(np.diff(ends) < 0))
        out[label] = {"decay": dec, "constant": const, "helps": bool(dec[-1] < const[-1] and stair)}
    records.append(mc_check(quick, "gd", PARAMS, SCHEDULE, STEPS, NOISE, float(out["noisy"]["decay"][-1]),
                            "exact expected final loss vs kernel Monte Carlo mean, step decay", **prob))
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
