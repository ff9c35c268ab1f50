"""Gradient descent under an exponentially decaying lr stops at a predicted floor.

Claim
    With torch's ExponentialLR, lr_k = lr gamma^k, the lr sum S = lr/(1 - gamma) is finite, so
    gradient descent on a quadratic does not converge: each eigen-direction of curvature h stops at
    x_oo = prod_k (1 - lr_k h) x_0, i.e. its loss at prod_k (1 - lr_k h)^2 times its initial loss,
    and the total loss stalls at the sum of these floors instead of going to 0.

Theory
    The floor is the infinite product of gd's iteration matrices, derived from the rule
    (:func:`optanalysis.theory.spectrum.stall_floor`, truncated once lr_k max(h) < 1e-18, which moves log|x|
    by at most 1e-18/(1 - gamma)).  Independent oracle (the Robbins-Monro condition, textbook): with
    u_k = lr_k h < 1, log(1 - u) = -u - u^2/2 - ..., so the log of a direction's loss floor over
    its initial loss is -2 h S up to at most sum_k u_k^2/(1 - u_0) (the remainder of the series):
    floors of flat directions are exp(-2 h S), far from 0 when h S is small.

Method
    A diagonal quadratic (curvatures log-spaced in [1e-3, 10], x* = 0, x0 = 1) and gd with lr = 0.05
    (lr h <= 0.5: no cancellation in 1 - lr h) under ExponentialLR with several gamma, run by the
    compiled kernel (``simulate_batch``, one run per gamma) for twice the predicted horizon, and once
    with a constant lr for contrast.  Records, per gamma:

    * ``floor|h=...``: the predicted loss floor of each direction vs the kernel's final 1/2 h x^2.
      Tolerance 1e-10 relative: both sides multiply the same factors in a different order; N <=
      2^17 steps with a few roundings of relative size eps = 1.1e-16 each stay below 1e-10.
    * ``floor|total loss``: the same for the total loss.
    * ``oracle log floor|h=...``: log(predicted floor / initial loss) against -2 h S, with the
      series-remainder bound above as the tolerance (only directions with lr h < 1).

References
    H. Robbins, S. Monro (1951), A stochastic approximation method, Ann. Math. Stat. (sum lr = oo
    is necessary); PyTorch ``torch.optim.lr_scheduler.ExponentialLR`` (docs/reference.md 8.2); docs/reference.md 10.1.
"""
from __future__ import annotations

import math

import numpy as np

from optanalysis.checks import boolean
from optanalysis.comparison import Record
from optanalysis.plotting import figure
from optanalysis.theory.prediction import lr_sequence
from optanalysis.theory.spectrum import stall_floor
from optanalysis.simulation import simulate, simulate_batch
from optanalysis.studies import StudyResult

TITLE = "Exponential lr decay: gd stalls at the predicted floor prod_k (1 - lr_k h)^2 per direction"

LR = 0.05
# Tolerance of kernel vs prediction, relative to the floor (see the docstring).
EXACT_REL = 1e-10


def _schedule(gamma: float) -> str:
    return f"exponential:gamma={gamma:g}"


def run(quick=False) -> StudyResult:
    """Predicted floors vs kernel runs for each gamma (quick: fewer gammas and directions)."""
    boolean(quick, "quick")
    gammas = (0.9, 0.99) if quick else (0.9, 0.97, 0.99, 0.997)
    h = np.geomspace(1e-3, 10.0, 5 if quick else 9)
    x0 = np.ones_like(h)
    loss0 = 0.5 * h * x0**2
    params = {"lr": LR}
    floors = [stall_floor("gd", params, x0=x0, hessian_diag=h, schedule=_schedule(g)) for g in gammas]
    steps = 2 * max(f.steps for f in floors)
    every = max(1, steps // 400)
    steps -= steps % every
    batch = simulate_batch("gd", [params] * len(gammas), x0=x0, hessian_diag=h, steps=steps,
                           schedule=[_schedule(g) for g in gammas], record_every=every)
    const = simulate("gd", params, x0=x0, hessian_diag=h, steps=steps, record_every=every)
    records = []
    observed_dirs = []
    for i, (g, fl) in enumerate(zip(gammas, floors)):
        sched = _schedule(g)
        hyper = {"lr": LR, "gamma": g}
        obs = 0.5 * h * batch.x[i, 0] ** 2
        observed_dirs.append(obs)
        for hj, p, o in zip(h, fl.loss_directions, obs):
            records.append(Record.judge("gd", sched, hyper, f"floor|h={hj:.3g}", p, o, EXACT_REL * p))
        records.append(Record.judge("gd", sched, hyper, "floor|total loss", fl.loss, batch.loss[i, 0, -1],
                                    EXACT_REL * fl.loss))
        seq = lr_sequence(LR, fl.steps, sched)
        total = float(seq.sum())
        for hj, p, l0 in zip(h, fl.loss_directions, loss0):
            u = seq * hj
            if u[0] >= 1:
                continue
            bound = float(np.sum(u**2)) / (1 - u[0])
            records.append(Record.judge("gd", sched, {**hyper, "lr_sum": total}, f"oracle log floor|h={hj:.3g}",
                                        -2 * hj * total, math.log(p / l0), bound))
    data = {
        "h": h, "gammas": list(gammas), "loss0_directions": loss0,
        "predicted_floor_directions": [f.loss_directions for f in floors],
        "observed_floor_directions": observed_dirs,
        "predicted_floor_total": [f.loss for f in floors],
        "lr_sum": [LR / (1 - g) for g in gammas],
        "steps_recorded": np.arange(batch.loss.shape[-1]) * every,
        "loss": batch.loss[:, 0], "loss_constant_lr": const.loss,
    }
    parameters = {"rule": "gd", "lr": LR, "gammas": list(gammas), "h": h, "x0": x0, "xstar": 0.0,
                  "steps": steps, "record_every": every, "exact_rel_tolerance": EXACT_REL, "seeds": None}
    return StudyResult(records, data, parameters)


def plot(result):
    """Loss vs step with the predicted floors; per-direction floors vs curvature with the oracle."""
    d = result.data
    fig, (ax1, ax2) = figure(1, 2, width=11.0, height=4.3)
    k = np.asarray(d["steps_recorded"])
    ax1.loglog(k[1:], np.asarray(d["loss_constant_lr"])[1:], color="0.5", ls=":", label="constant lr (no stall)")
    for i, g in enumerate(d["gammas"]):
        line, = ax1.loglog(k[1:], np.asarray(d["loss"][i])[1:], label=f"kernel, gamma={g:g}")
        ax1.axhline(d["predicted_floor_total"][i], color=line.get_color(), ls="--", lw=1)
    ax1.plot([], [], color="k", ls="--", lw=1, label="predicted floor")
    ax1.set(xlabel="step k", ylabel="loss f(x_k)", title=f"gd, lr_k = {LR:g} gamma^k: the loss stalls")
    ax1.legend(loc="lower left")
    h = np.asarray(d["h"])
    l0 = np.asarray(d["loss0_directions"])
    hh = np.geomspace(h.min(), h.max(), 200)
    for i, g in enumerate(d["gammas"]):
        pred = np.asarray(d["predicted_floor_directions"][i]) / l0
        obs = np.asarray(d["observed_floor_directions"][i]) / l0
        line, = ax2.loglog(h, pred, "o", mfc="none", ms=8, label=f"predicted, gamma={g:g}")
        ax2.loglog(h, obs, "x", color=line.get_color(), ms=6)
        ax2.loglog(hh, np.exp(-2 * hh * d["lr_sum"][i]), color=line.get_color(), lw=0.8, alpha=0.7)
    ax2.plot([], [], "kx", label="kernel")
    ax2.plot([], [], "k-", lw=0.8, label="oracle exp(-2 h sum lr_k)")
    ax2.set(xlabel="curvature h", ylabel="floor / initial loss of the direction",
            title="Per-direction floor: prediction = kernel (rel. 1e-10)")
    lowest = min(float(np.min(np.asarray(f) / l0)) for f in d["predicted_floor_directions"])
    ax2.set_ylim(lowest / 100, 5)
    ax2.legend(loc="lower left")
    verdict = "pass" if all(r.verdict == "pass" for r in result.records) else "FAIL"
    fig.suptitle(f"{TITLE} [{verdict}: {sum(r.verdict == 'pass' for r in result.records)}/"
                 f"{len(result.records)} records]", fontsize=10)
    return fig
