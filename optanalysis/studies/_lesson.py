"""What the seven lecture-claim studies (``lesson_*``) share: the verdict criterion, the tuned and
best-lr runs with the literature's tunings as oracles, the noisy quadratic model with the SGD moment
recursion as oracle, the Monte Carlo check and the figure with its verdict list.

Verdict criterion (written before any run; every lesson study applies it unchanged)
    A grid fraction F is "supported" if F >= 0.9, "refuted" if F <= 0.1, "qualified" otherwise; a
    single comparison is "supported" if it holds, "refuted" otherwise.  A claim's overall record
    is followed by records named ``condition: ...`` that apply the same criterion to each
    condition alone (a momentum value, a problem, with or without noise): they say under which
    conditions a qualified claim holds.  A claim record's ``predicted`` is the criterion's
    threshold and ``observed`` its statistic (tolerance NaN: the verdict is the criterion's).

Several random starts (written before the run)
    A claim tested from several seeded starts is decided on all of them: F is the fraction of
    all (start, condition) pairs where the claim's comparison holds, judged by the same grid
    criterion (:func:`pairs_verdict`).  No start is singled out.

Checks of the toolkit against theory (pass/fail records)
    - Derived values against the literature's formulas, typed here (:data:`TUNING_ORACLES`, the
      SGD moment recursion :func:`sgd_moments`, torch's schedule formulas in the studies): within
      :data:`EXACT` relative, floating-point agreement (closed forms evaluated in double
      precision: a few roundings each; the recursions add one rounding per step, <= 4000 steps x
      1.1e-16 = 4.4e-13); spectral radii within :data:`ROOTS`, since a double root moves by
      sqrt(machine epsilon) = 1.5e-8 when its coefficients are rounded.  A rule whose arithmetic differs derives other values and fails here.
    - The exact expected loss against a kernel Monte Carlo mean (:func:`mc_check`): two-sided,
      within :data:`MC_SIGMAS` = 4 standard errors of the mean over independent seeds (a
      correct theory fails with probability 6e-5 under the normal approximation).  Power: the
      final loss of the lesson problems is almost all noise variance (their bias is below
      1e-10), its coefficient of variation over seeds is <= 0.37, so with 1000 seeds the
      standard error is <= 1.2 % of the mean and a noise variance 10 % too large moves the
      exact loss by ~10 %, >= 8 standard errors: caught unless the Monte Carlo mean errs by
      > 4 standard errors the other way (probability < 1e-5).
"""
from __future__ import annotations

import math

import numpy as np

from optanalysis.comparison import Record, monte_carlo
from optanalysis.plotting import figure
from optanalysis.simulation import simulate_batch
from optanalysis.symbolic import derive

SEED = 0
ROBUST_STARTS = 9  # seeded starting points 0..8 of the RMSProp and Adam claims
MC_SIGMAS = 4.0  # Monte Carlo check: |exact - mean| <= 4 standard errors (false failure 6e-5)
EXACT = 1e-12  # derived vs typed formula: floating-point agreement (module docstring)
ROOTS = 1e-7  # spectral radius vs typed roots: a double root moves by sqrt(2.2e-16) = 1.5e-8 under rounding
VERDICTS = ("supported", "qualified", "refuted")
LRP = "docs/reference.md 4.5"

# The literature's optimal tunings over [mu, L] and their worst-case rates, typed (not derived):
# gd and Polyak's heavy ball (Polyak 1964; Lessard, Recht, Packard 2016, Prop. 1), Nesterov in
# Lessard-Recht-Packard's tuning (2016, Prop. 1); docs/reference.md 4.5.
TUNING_ORACLES = {
    "gd": {"lr": ("2/(L+mu)", lambda mu, L: 2 / (L + mu)),
           "rate": ("(kappa-1)/(kappa+1)", lambda mu, L: (L / mu - 1) / (L / mu + 1))},
    "heavy_ball": {"lr": ("4/(sqrt(L)+sqrt(mu))^2", lambda mu, L: 4 / (math.sqrt(L) + math.sqrt(mu)) ** 2),
                   "momentum": ("((sqrt(kappa)-1)/(sqrt(kappa)+1))^2",
                                lambda mu, L: ((math.sqrt(L / mu) - 1) / (math.sqrt(L / mu) + 1)) ** 2),
                   "rate": ("(sqrt(kappa)-1)/(sqrt(kappa)+1)",
                            lambda mu, L: (math.sqrt(L / mu) - 1) / (math.sqrt(L / mu) + 1))},
    "nesterov": {"lr": ("4/(3L+mu)", lambda mu, L: 4 / (3 * L + mu)),
                 "momentum": ("(sqrt(3kappa+1)-2)/(sqrt(3kappa+1)+2)",
                              lambda mu, L: (math.sqrt(3 * L / mu + 1) - 2) / (math.sqrt(3 * L / mu + 1) + 2)),
                 "rate": ("1-2/sqrt(3kappa+1)", lambda mu, L: 1 - 2 / math.sqrt(3 * L / mu + 1))},
}


def grid_verdict(fraction: float) -> str:
    return "supported" if fraction >= 0.9 else "refuted" if fraction <= 0.1 else "qualified"


def holds(ok: bool) -> str:
    """The verdict of a single comparison."""
    return "supported" if ok else "refuted"


def pairs_verdict(flags) -> tuple:
    """The fraction of (start, condition) pairs where the comparison holds, and its grid verdict."""
    f = float(np.mean(np.asarray(flags, dtype=bool)))
    return f, grid_verdict(f)


def claim(rule, schedule, hyper, quantity, predicted, observed, verdict) -> Record:
    """A claim record: ``predicted`` is the criterion's threshold, ``observed`` its statistic."""
    return Record(rule, schedule, dict(hyper), quantity, float(predicted), float(observed), float("nan"), verdict,
                  "criterion")


def exact(rule, schedule, hyper, quantity, oracle, derived) -> Record:
    """A derived value against the literature's formula (typed), within :data:`EXACT` relative."""
    return Record.judge(rule, schedule, dict(hyper), quantity, float(oracle), float(derived),
                        EXACT * abs(float(oracle)))


def quadratic_radius(c1, c0) -> np.ndarray:
    """max |z| over the roots of z^2 - c1 z + c0, typed from the quadratic formula (docs/reference.md 1.3)."""
    c1, c0 = np.broadcast_arrays(np.asarray(c1, float), np.asarray(c0, float))
    d = np.sqrt((c1 * c1 - 4 * c0).astype(complex))
    return np.maximum(np.abs((c1 + d) / 2), np.abs((c1 - d) / 2))


def radius_check(rule, hyper, quantity, typed, derived) -> Record:
    """Derived spectral radii against the typed roots, at the grid point where they differ most,
    within :data:`ROOTS`."""
    typed, derived = np.broadcast_arrays(np.asarray(typed, float), np.asarray(derived, float))
    i = int(np.argmax(np.abs(derived - typed)))
    return Record.judge(rule, "constant", dict(hyper), quantity, float(typed.flat[i]), float(derived.flat[i]), ROOTS)


def claims_first(records: list) -> list:
    """The checks first, then the claims, then the conditions that break them down."""
    return sorted(records, key=lambda r: (r.relation == "criterion") + r.quantity.startswith("condition: "))


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


def tuned_race(theory, rule: str, rival: str, quantity: str, mu: float, L: float, steps: int) -> tuple:
    """The claim "``rule`` beats ``rival``, each at its derived optimal tuning" on 20 log-spaced
    curvatures in [mu, L], x0 = 1: supported if ``rule``'s loss after ``steps`` steps is below
    ``rival``'s (``predicted``: the rival's loss, ``observed``: the rule's), else refuted; and the
    checks that the derived tunings and rates are the literature's (:data:`TUNING_ORACLES`).

    Hooks (``theory``): ``tuning`` ({rule: params} the runs are made with), ``rate`` ({rule:
    derived worst-case rate}).  Returns the records and the data behind them.
    """
    h = np.geomspace(mu, L, 20)
    at = {"mu": mu, "L": L, "kappa": L / mu}
    pair = (rival, rule)
    tunings = theory("tuning", {r: tuned(r, mu, L) for r in pair})
    rates = theory("rate", {r: float(derive(r).optimal.rate.subs({s: at[str(s)] for s in
                                                                   derive(r).optimal.rate.free_symbols}))
                            for r in pair})
    records, curves = [], {}
    for r in pair:
        hyper = {"kappa": L / mu, "mu": mu, "L": L}
        for name, (formula, oracle) in TUNING_ORACLES[r].items():
            derived = rates[r] if name == "rate" else tunings[r][name]
            records.append(exact(r, "constant", hyper, f"tuned {r} {name}: derived vs {formula}, kappa={L / mu:g}",
                                 oracle(mu, L), derived))
        curves[r] = simulate_batch(r, [tunings[r]], x0=np.ones_like(h), hessian_diag=h, steps=steps).loss[0, 0]
    final = {r: float(c[-1]) for r, c in curves.items()}
    records.append(claim(rule, "constant", {"kappa": L / mu, "steps": steps, "tunings": tunings}, quantity,
                         final[rival], final[rule], holds(final[rule] < final[rival])))
    return records, {"tuned": curves, "tuned_params": tunings, "tuned_rates": rates}


def nqm(d=20) -> dict:
    """The noisy quadratic model's problem: curvatures 1/i, i = 1..d, x0 = 1."""
    h = 1.0 / np.arange(1, d + 1)
    return dict(hessian_diag=h, x0=np.ones(d))


def noise_spec(variance: float) -> str:
    """The NQM's gradient noise with covariance ``variance`` x H (Zhang et al. 2019: C = H)."""
    return f"hessian:sigma={math.sqrt(variance)!r}"


def sgd_moments(h, x0, lrs, variance: float) -> float:
    """The expected loss of SGD on the NQM after the lrs ``lrs``, from the paper's recursion, typed:
    per direction E y <- (1 - a h) E y, Var y <- (1 - a h)^2 Var y + a^2 c with c = variance x h,
    E f = sum 1/2 h (E y^2) (Zhang et al. 2019; docs/reference.md 7.3 and 7.7)."""
    h, m = np.asarray(h, float), np.asarray(x0, float).copy()
    v, c = np.zeros_like(m), variance * h
    for a in np.asarray(lrs, float):
        f = 1.0 - a * h
        m, v = f * m, f * f * v + a * a * c
    return float(0.5 * np.sum(h * (m * m + v)))


def mc_seeds(quick: bool) -> int:
    """Seeds 0..n-1 of a Monte Carlo check: 1000 in quick mode (enough for the power stated in the
    module docstring), else 4000."""
    return 1000 if quick else 4000


def mc_parameters(quick: bool) -> dict:
    """The parameters of a study's Monte Carlo check, for its provenance."""
    return {"seeds": f"Monte Carlo check 0..{mc_seeds(quick) - 1}", "monte_carlo_sigmas": MC_SIGMAS}


def mc_check(quick, rule, params, schedule, steps, noise, exact_final, quantity, **prob) -> Record:
    """Kernel Monte Carlo mean of the final loss (:func:`mc_seeds` independent seeds, ``noise`` the
    true noise) against the exact expected loss ``exact_final``, within :data:`MC_SIGMAS`
    standard errors."""
    seeds = mc_seeds(quick)
    mc = monte_carlo(rule, params, seeds=seeds, level=0.99, steps=steps, schedule=schedule, noise=noise,
                     record_every=steps, **prob)
    return Record.judge(rule, schedule or "constant", {**params, "noise": noise, "seeds": seeds}, quantity,
                        exact_final, float(mc.mean[-1]), MC_SIGMAS * float(mc.stderr[-1]))


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
