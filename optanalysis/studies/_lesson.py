"""What the seven lecture-claim studies (``lesson_*``) share: the verdict criterion, the tuned and
best-lr runs, the noisy quadratic model and the figure with its verdict list.

Verdict criterion
    A grid fraction F is "supported" if F >= 0.9, "refuted" if F <= 0.1, "qualified" otherwise; a
    single comparison is "supported" if it holds, "refuted" otherwise.  A claim's overall record
    is followed by records named ``condition: ...`` that apply the same criterion to each
    condition alone (a momentum value, a problem, with or without noise): they say under which
    conditions a qualified claim holds.  A claim record's ``predicted`` is the criterion's
    threshold and ``observed`` its statistic (tolerance NaN: the verdict is the criterion's).
"""
from __future__ import annotations

import numpy as np

from optanalysis.comparison import Record, monte_carlo
from optanalysis.plotting import figure
from optanalysis.simulation import simulate_batch
from optanalysis.symbolic import derive

SEED = 0
ROBUST_STARTS = 9  # seeded starting points 0..8 (0 is the main one) of the RMSProp and Adam claims
MC_SIGMAS = 4.0  # Monte Carlo check: |exact - mean| <= 4 standard errors (false failure 6e-5)
VERDICTS = ("supported", "qualified", "refuted")


def grid_verdict(fraction: float) -> str:
    return "supported" if fraction >= 0.9 else "refuted" if fraction <= 0.1 else "qualified"


def holds(ok: bool) -> str:
    """The verdict of a single comparison."""
    return "supported" if ok else "refuted"


def claim(rule, schedule, hyper, quantity, predicted, observed, verdict) -> Record:
    """A claim record: ``predicted`` is the criterion's threshold, ``observed`` its statistic."""
    return Record(rule, schedule, dict(hyper), quantity, float(predicted), float(observed), float("nan"), verdict,
                  "criterion")


def claims_first(records: list) -> list:
    """The claims first, then the conditions that break them down."""
    return sorted(records, key=lambda r: r.quantity.startswith("condition: "))


def final_losses(rule, configs, **problem) -> np.ndarray:
    """Final loss per params dict (inf where the run diverged)."""
    res = simulate_batch(rule, configs, record_every=problem["steps"], **problem)
    loss = res.loss[:, 0, -1].copy()
    loss[(res.diverged_at[:, 0] >= 0) | ~np.isfinite(loss)] = np.inf
    return loss


def best(rule, lrs, extra, **problem) -> tuple:
    """Best final loss over the lr grid, the lr attaining it, and every final loss."""
    loss = final_losses(rule, [{"lr": float(a), **extra} for a in lrs], **problem)
    i = int(np.argmin(loss))
    return float(loss[i]), float(lrs[i]), loss


def tuned(rule: str, mu: float, L: float) -> dict:
    """The derived optimal tuning of ``rule`` for spectrum [mu, L]."""
    values = {"mu": mu, "L": L, "kappa": L / mu}
    out = {}
    for name, expr in derive(rule).optimal.values.items():
        out[name] = float(expr.subs({s: values[str(s)] for s in expr.free_symbols}))
    return out


def tuned_race(rule: str, rival: str, quantity: str, mu: float, L: float, steps: int) -> tuple:
    """The claim "``rule`` beats ``rival``, each at its derived optimal tuning" on 20 log-spaced
    curvatures in [mu, L], x0 = 1: supported if ``rule``'s loss after ``steps`` steps is below
    ``rival``'s (``predicted``: the rival's loss, ``observed``: the rule's), else refuted.

    Returns the record and the data behind it: the loss curves and tunings of both rules.
    """
    h = np.geomspace(mu, L, 20)
    curves, tunings = {}, {}
    for r in (rival, rule):
        tunings[r] = tuned(r, mu, L)
        curves[r] = simulate_batch(r, [tunings[r]], x0=np.ones_like(h), hessian_diag=h, steps=steps).loss[0, 0]
    final = {r: float(c[-1]) for r, c in curves.items()}
    record = claim(rule, "constant", {"kappa": L / mu, "steps": steps, "tunings": tunings}, quantity, final[rival],
                   final[rule], holds(final[rule] < final[rival]))
    return record, {"tuned": curves, "tuned_params": tunings}


def nqm(d=20) -> dict:
    """The noisy quadratic model's problem: curvatures 1/i, i = 1..d, x0 = 1."""
    h = 1.0 / np.arange(1, d + 1)
    return dict(hessian_diag=h, x0=np.ones(d))


def mc_seeds(quick: bool) -> int:
    """Seeds 0..n-1 of a Monte Carlo check: 200 in quick mode, else 1000."""
    return 200 if quick else 1000


def mc_parameters(quick: bool) -> dict:
    """The parameters of a study's Monte Carlo check, for its provenance."""
    return {"seeds": f"Monte Carlo check 0..{mc_seeds(quick) - 1}", "monte_carlo_sigmas": MC_SIGMAS}


def mc_check(quick, rule, params, schedule, steps, noise, exact_final, **prob) -> Record:
    """Kernel Monte Carlo mean of the final loss (:func:`mc_seeds` seeds) against the exact
    expected loss, within :data:`MC_SIGMAS` standard errors."""
    seeds = mc_seeds(quick)
    mc = monte_carlo(rule, params, seeds=seeds, level=0.95 if quick else 0.99, steps=steps, schedule=schedule,
                     noise=noise, record_every=steps, **prob)
    return Record.judge(rule, schedule or "constant", {**params, "noise": noise, "seeds": seeds},
                        "check|exact expected final loss vs kernel Monte Carlo mean", exact_final,
                        float(mc.mean[-1]), MC_SIGMAS * float(mc.stderr[-1]))


def verdict_of(result, prefix: str) -> str:
    """The verdicts of the records whose quantity starts with ``prefix``, joined by "; "."""
    return "; ".join(r.verdict for r in result.records if r.quantity.startswith(prefix))


def lesson_figure(result, title: str, panels: int, draw, width: float = 11.0):
    """A row of ``panels`` axes drawn by ``draw(axes)``, under ``title``, with the study's claim and
    condition verdicts listed below them."""
    fig, axes = figure(1, panels, width=width, height=4.6)
    axes = list(np.atleast_1d(axes))
    draw(axes)
    for ax in axes:  # after draw: set_title resets the font size
        ax.title.set_fontsize(8.5)
    fig.suptitle(title, fontsize=10)
    lines = [f"{'    ' if r.quantity.startswith('condition: ') else ''}{r.verdict:>9}  "
             f"{r.quantity.removeprefix('condition: ')}" for r in result.records if r.verdict in VERDICTS]
    fig.text(0.01, -0.01, "\n".join(lines), va="top", ha="left", family="monospace", fontsize=7)
    return fig
