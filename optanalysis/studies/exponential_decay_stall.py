"""Gradient descent under an exponentially decaying lr stops at a predicted floor.

Claim
    With torch's ExponentialLR, lr_k = lr gamma^k, the lr sum S = lr/(1 - gamma) is finite, so
    gradient descent on a quadratic does not converge: each eigen-direction of curvature h stops at
    x_oo = prod_k (1 - lr_k h) x_0, i.e. its loss at prod_k (1 - lr_k h)^2 times its initial loss,
    and the total loss stalls at the sum of these floors instead of going to 0.

Theory
    Derived: the floor is the infinite product of gd's iteration matrices, derived from the rule
    (:func:`optanalysis.theory.spectrum.stall_floor` fixes the horizon: the product is truncated once
    lr_k max(h) < 1e-18, which moves log|x| by at most 1e-18/(1 - gamma)); the study multiplies the
    derived maps over the schedule's lr sequence (``lr_sequence``) with ``predict``.

    Oracles, typed here and not derived (docs/reference.md 8.2 and 10.1): the product
    prod_k (1 - lr gamma^k h)^2 itself, with torch's ExponentialLR written out as lr gamma^k
    (k = 0, 1, ...: the first update uses lr); and its closed-form bounds.  With u_k = lr gamma^k h < 1,
    log(1 - u) <= -u gives log(floor/loss_0) <= -2 h S, and -log(1 - u) - u <= u^2/(2 (1 - u)) gives
    log(floor/loss_0) >= -2 h S - sum_k u_k^2/(1 - u_0) = -2 h S - (lr h)^2/((1 - gamma^2)(1 - lr h)),
    S = lr/(1 - gamma) (the Robbins-Monro condition: a summable lr cannot converge).  Both bounds are
    one-sided, and checked as such.  A rule or a schedule that multiplies other factors (an lr
    sequence off by one step, another step size) fails the typed product and, for most directions,
    one of the bounds, though its kernel still agrees with its own derivation.

Method
    A diagonal quadratic (curvatures log-spaced in [1e-3, 10], x* = 0, x0 = 1) and gd with lr = 0.05
    (lr h <= 0.5: no cancellation in 1 - lr h) under ExponentialLR with several gamma, run by the
    compiled kernel (``simulate_batch``, one run per gamma) for twice the derived horizon (the extra
    steps multiply by 1 - lr_k h = 1 in floating point), and once with a constant lr for contrast
    (the figure).  Records, per gamma and direction h:

    * ``floor: derived vs prod_k (1 - lr gamma^k h)^2``: the derived floor against the typed product.
    * ``floor: kernel vs derived``: the kernel's final 1/2 h x^2 against the derived floor;
      ``total floor: kernel vs derived``: the same for the total loss.
    * ``log floor <= -2 h S`` and ``log floor >= -2 h S - (lr h)^2/((1 - gamma^2)(1 - lr h))``:
      log(derived floor / initial loss) against the closed-form bounds.

    Tolerances.  Products: 1e-10 relative.  Both sides multiply the same factors in a different
    order, or with lr_k from torch's recursion lr_(k-1) gamma instead of lr gamma^k: N <= 2^17
    roundings of relative size 1.1e-16 give <= 1.5e-11 on the product, and lr_k's recursion error
    (<= k eps relative) moves the log floor by <= 2 lr h eps gamma/(1 - gamma)^2 <= 2e-11 (gamma <=
    0.997).  Bounds: 1e-11 absolute in the log floor (its rounding above, and the truncated tail,
    <= 2e-18/(1 - gamma)).  Quick mode keeps every record with two gammas and five directions.

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
from optanalysis.theory.prediction import lr_sequence, predict
from optanalysis.theory.spectrum import stall_floor
from optanalysis.simulation import simulate, simulate_batch
from optanalysis.studies import StudyResult, Theory, expect, verdict_line

TITLE = "Exponential lr decay: gd stalls at the predicted floor prod_k (1 - lr_k h)^2 per direction"

LR = 0.05
EXACT_REL = 1e-10  # products of the same factors, in another order (see the docstring)
LOG_TOL = 1e-11  # the log floor's rounding and truncated tail (see the docstring)
TRUNCATE = 1e-18  # the typed product stops once lr gamma^k max(h) < TRUNCATE, as the derivation does

R101 = "docs/reference.md 10.1"
EXPECTED = {
    "floor: derived vs prod_k (1 - lr gamma^k h)^2, gamma={}, h={}":
        expect("pass", f"gd multiplies a direction by 1 - lr_k h, and ExponentialLR's lr_k is lr gamma^k "
                       f"(docs/reference.md 8.2; {R101})"),
    "floor: kernel vs derived, gamma={}, h={}":
        expect("pass", f"the kernel multiplies the same factors 1 - lr_k h; only rounding differs ({R101})"),
    "total floor: kernel vs derived, gamma={}":
        expect("pass", f"the total loss is the sum of the directions' floors ({R101})"),
    "log floor <= -2 h S, gamma={}, h={}":
        expect("pass", f"log(1 - u) <= -u, summed over u_k = lr gamma^k h, S = lr/(1 - gamma) ({R101})"),
    "log floor >= -2 h S - (lr h)^2/((1 - gamma^2)(1 - lr h)), gamma={}, h={}":
        expect("pass", f"-log(1 - u) - u <= u^2/(2(1 - u)): the series remainder, summed in closed form ({R101}; "
                       "Robbins, Monro 1951: the floor is > 0)"),
}
HOOKS = {
    "lr_sequence": "the lr sequence whose gd maps the derived floor multiplies (ExponentialLR: lr gamma^k, k >= 0)",
    "floor": "the derived loss floor of each direction, prod_k (1 - lr_k h)^2 x loss_0",
}


def _schedule(gamma: float) -> str:
    return f"exponential:gamma={gamma:g}"


def typed_floor(h, gamma, lr=LR, x0=1.0):
    """The oracle: 1/2 h x0^2 prod_k (1 - lr gamma^k h)^2, typed from torch's ExponentialLR
    (lr_k = lr gamma^k, k = 0, 1, ...), truncated once lr gamma^k max(h) < 1e-18."""
    h = np.asarray(h, dtype=float)
    n = math.ceil(math.log(TRUNCATE / (lr * float(h.max()))) / math.log(gamma)) + 1
    factors = 1.0 - lr * gamma ** np.arange(n)[:, None] * h[None, :]
    return 0.5 * h * x0**2 * np.prod(factors**2, axis=0)


def log_floor_bounds(h, gamma, lr=LR):
    """The closed-form bounds on log(floor / loss_0) for lr h < 1: (lower, upper) =
    (-2 h S - (lr h)^2/((1 - gamma^2)(1 - lr h)), -2 h S), S = lr/(1 - gamma)."""
    s = lr / (1 - gamma)
    u0 = lr * h
    return -2 * h * s - u0**2 / ((1 - gamma**2) * (1 - u0)), -2 * h * s


def run(quick=False, perturb=None) -> StudyResult:
    """Derived floors vs the typed product, its bounds and kernel runs for each gamma (quick: fewer
    gammas and directions, every record kind)."""
    boolean(quick, "quick")
    theory = Theory(HOOKS, perturb)
    gammas = (0.9, 0.99) if quick else (0.9, 0.97, 0.99, 0.997)
    h = np.geomspace(1e-3, 10.0, 5 if quick else 9)
    assert LR * h.max() < 1  # the bounds need lr h < 1
    x0 = np.ones_like(h)
    loss0 = 0.5 * h * x0**2
    params = {"lr": LR}
    horizons = [stall_floor("gd", params, x0=x0, hessian_diag=h, schedule=_schedule(g), tol=TRUNCATE).steps
                for g in gammas]
    floors = []
    for g, horizon in zip(gammas, horizons):
        seq = theory("lr_sequence", lr_sequence(LR, horizon, _schedule(g)))
        p = predict("gd", params, x0=x0, hessian_diag=h, steps=len(seq), lrs=seq, record_every=len(seq))
        floors.append(np.asarray(theory("floor", p.loss_directions[-1]), dtype=float))
    steps = 2 * max(horizons)
    every = max(1, steps // 400)
    steps -= steps % every
    batch = simulate_batch("gd", [params] * len(gammas), x0=x0, hessian_diag=h, steps=steps,
                           schedule=[_schedule(g) for g in gammas], record_every=every)
    const = simulate("gd", params, x0=x0, hessian_diag=h, steps=steps, record_every=every)
    records, observed_dirs, oracles = [], [], []
    for i, (g, fl) in enumerate(zip(gammas, floors)):
        sched = _schedule(g)
        hyper = {"lr": LR, "gamma": g}
        obs = 0.5 * h * batch.x[i, 0] ** 2
        observed_dirs.append(obs)
        oracle = typed_floor(h, g)
        oracles.append(oracle)
        lower, upper = log_floor_bounds(h, g)
        for j, hj in enumerate(h):
            at = f"gamma={g:g}, h={hj:.3g}"
            hh = {**hyper, "h": float(hj)}
            records.append(Record.judge("gd", sched, hh, f"floor: derived vs prod_k (1 - lr gamma^k h)^2, {at}",
                                        oracle[j], fl[j], EXACT_REL * oracle[j]))
            records.append(Record.judge("gd", sched, hh, f"floor: kernel vs derived, {at}", fl[j], obs[j],
                                        EXACT_REL * fl[j]))
            log_floor = math.log(fl[j] / loss0[j]) if fl[j] > 0 else -math.inf
            records.append(Record.judge("gd", sched, {**hh, "lr_sum": LR / (1 - g)}, f"log floor <= -2 h S, {at}",
                                        upper[j], log_floor, LOG_TOL, relation="at_most"))
            records.append(Record.judge("gd", sched, {**hh, "lr_sum": LR / (1 - g)},
                                        f"log floor >= -2 h S - (lr h)^2/((1 - gamma^2)(1 - lr h)), {at}",
                                        lower[j], log_floor, LOG_TOL, relation="at_least"))
        total = float(np.sum(fl))
        records.append(Record.judge("gd", sched, hyper, f"total floor: kernel vs derived, gamma={g:g}", total,
                                    batch.loss[i, 0, -1], EXACT_REL * total))
    data = {
        "h": h, "gammas": list(gammas), "loss0_directions": loss0,
        "predicted_floor_directions": floors, "typed_floor_directions": oracles,
        "observed_floor_directions": observed_dirs,
        "predicted_floor_total": [float(np.sum(f)) for f in floors],
        "lr_sum": [LR / (1 - g) for g in gammas],
        "steps_recorded": np.arange(batch.loss.shape[-1]) * every,
        "loss": batch.loss[:, 0], "loss_constant_lr": const.loss,
    }
    parameters = {"rule": "gd", "lr": LR, "gammas": list(gammas), "h": h, "x0": x0, "xstar": 0.0,
                  "steps": steps, "record_every": every, "exact_rel_tolerance": EXACT_REL, "log_tolerance": LOG_TOL,
                  "truncation": TRUNCATE, "seeds": None}
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
    ax2.plot([], [], "k-", lw=0.8, label="upper bound exp(-2 h S)")
    ax2.set(xlabel="curvature h", ylabel="floor / initial loss of the direction",
            title="Per-direction floor: derived = typed product = kernel (rel. 1e-10)")
    lowest = min(float(np.min(np.asarray(f) / l0)) for f in d["predicted_floor_directions"])
    ax2.set_ylim(lowest / 100, 5)
    ax2.legend(loc="lower left")
    fig.suptitle(f"{TITLE}\n{verdict_line(result.records, EXPECTED)}", fontsize=10)
    return fig
