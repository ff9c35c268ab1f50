"""Adam does not converge on Reddi et al.'s convex counterexample; AMSGrad does.

Claim
    On the online problem over F = [-1, 1] with losses f_t(x) = C x when t mod 3 = 1 and -x
    otherwise (C > 2; the best fixed point is x* = -1), Adam with beta1 = 0, beta2 = 1/(1 + C^2),
    lr_t = lr/sqrt(t) and projection onto F converges to the *worst* point x = +1, so its average
    regret tends to (x_lim - x*) times the mean slope, 2 (C - 2)/3 > 0 (Reddi, Kale, Kumar 2018,
    Theorem 1).  AMSGrad (the running maximum of v) converges to -1 with vanishing average regret.
    On the stochastic variant (f_t = 1010 x with probability 0.01, else -10 x; expected loss 0.2 x)
    Adam (beta1 = 0.9, beta2 = 0.99) also ends at +1 (Theorem 3).

Theory
    The paper's formulas are the predictions, typed here (there is nothing to derive symbolically):
    Adam's limit +1, AMSGrad's limit x* = -1, Adam's average regret (x_lim - x*) x mean slope,
    which the study computes from the generated losses and checks against the paper's 2 (C - 2)/3
    (docs/reference.md 6.5: 0.667 at C = 3, 5.33 at C = 10).  The observations are those of the
    package's own Adam step (:func:`optanalysis.models.online.run_online`), so a wrong Adam rule
    changes the observations and the typed predictions catch it.

    Finite-horizon error bounds, from the paper's per-period argument (T a multiple of 3, so the
    last step has slope -1):

    * Adam, online: on the bound each period's C-step moves x down by lr_t C/sqrt(v) and the two
      -1 steps move it up by more; the last step pushes x onto +1, which the projection returns
      exactly: x_T = +1 (tolerance 0).
    * AMSGrad, online: once at -1, the C-step returns x to -1 and the two -1 steps raise it by
      lr_t/sqrt(vmax_hat) each, with sqrt(vmax_hat) >= sqrt(vmax) >= sqrt(1 - beta2) C (the first
      C-step's v): -1 <= x_T <= -1 + e, e = lr (1/sqrt(T - 1) + 1/sqrt(T))/(sqrt(1 - beta2) C).
    * Adam's average regret exceeds its limit by the one-step excursions below +1 after each
      C-step, each <= lr_t/sqrt(1 - beta2), i.e. <= 2 lr/(3 sqrt(T) sqrt(1 - beta2)) on average
      (1e-3 relative at C = 3, T = 3e5), plus the steps before Adam first reaches +1 (<= 2(C + 1)/T
      each): tolerance 1 % relative (a transient of up to ~200 steps).
    * AMSGrad's average regret "vanishes": at most 1 % of Adam's 2 (C - 2)/3 (one-sided; its
      finite-horizon part is O(lr/sqrt(T)) by the same excursion argument).

    Stochastic, decided on seeds 0..9, each rule over all of them: Adam's tail mean (last 10 % of
    the steps) within 0.02 of +1 for every seed (one 1010-gradient moves the projected iterate by
    ~lr_t/(1 - beta1/sqrt(beta2)) ~ 10 lr/sqrt(t) = 5e-3 at t ~ 1e6; 0.02 allows four overlapping
    kicks), and its average regret on the expected loss within 0.2 x 0.02 of (x_lim - x*) x 0.2 for
    every seed (the same band, in regret).

    Exploratory: stochastic AMSGrad at T = 1e6.  Theory (Reddi et al. Thm 4) gives eventual
    convergence to -1, but here its bound is vacuous (G_inf = 1010), and the drift towards -1,
    ~0.2 lr sum_t t^-1/2/sqrt(vmax) ~ 2 with sqrt(vmax) ~ 100, is comparable with the accumulated
    noise: which side of 0 the iterate ends on at this horizon is not decided.  The study reports,
    by a rule fixed before the run, whether the mean over seeds 0..9 of the tail means lies on the
    optimum's side (x* x tail mean >= 0), and how many seeds do.

Method
    :func:`optanalysis.models.online.run_online` iterates the package's own Adam step (torch semantics, the
    ``amsgrad`` flag; the paper's uncorrected algorithm is the same step at t = oo) with lr = 0.5,
    x1 = 0, T = 3e5 online steps, both with and without bias correction, and 1e6 stochastic steps
    (seeds 0..9).  The figure adds x_T and the average regret for a range of horizons T (prefixes of
    the same loss sequence), and the stochastic runs of seed 0.  Quick mode: C = 3 only (every
    record kind; full mode adds C = 10) and fewer horizons in the figure.

References
    S. J. Reddi, S. Kale, S. Kumar (2018), On the Convergence of Adam and Beyond, ICLR (Theorems 1,
    3 and 4, Section 5); docs/reference.md section 6.5.
"""
from __future__ import annotations

import math

import numpy as np

from optanalysis.checks import boolean
from optanalysis.comparison import Record
from optanalysis.models.online import periodic_coefficients, run_online, stochastic_coefficients
from optanalysis.plotting import figure
from optanalysis.studies import StudyResult, Theory, expect, exploratory, verdict_line
from optanalysis.studies._expect import CHECK_VERDICTS

TITLE = "Reddi et al.'s counterexample: Adam converges to the worst point x = +1 (regret 2(C-2)/3), AMSGrad to -1"

LR, STEPS, STOCHASTIC_STEPS = 0.5, 300000, 1000000
SEEDS = tuple(range(10))  # stochastic runs: every verdict is on all of them
STOCHASTIC_SLOPE = 0.01 * 1010.0 - 0.99 * 10.0  # the expected loss 0.2 x of the stochastic problem
EXACT = 1e-12  # the same number by two routes, in floating point
REGRET_REL = 0.01  # Adam's average regret, relative; AMSGrad's, relative to Adam's limit (docstring)
TAIL_TOL = 0.02  # stochastic Adam's tail mean (docstring)

REDDI = "Reddi, Kale, Kumar (2018)"
EXPECTED = {
    "adam online final x, C={}, bias correction={}":
        expect("pass", f"with beta2 = 1/(1+C^2) the two -1 steps outweigh the C step every period: x -> +1 "
                       f"({REDDI} Thm 1; docs/reference.md 6.5)"),
    "amsgrad online final x, C={}, bias correction={}":
        expect("pass", f"vmax keeps the C step's v, so the C step wins: x -> x* = -1 within lr_t/sqrt(vmax) "
                       f"({REDDI} Sec. 4)"),
    "adam online average regret, C={}, bias correction={}":
        expect("pass", f"at +1 Adam loses (x_lim - x*) x mean slope = 2(C-2)/3 per step ({REDDI} Thm 1)"),
    "amsgrad online average regret, C={}, bias correction={}":
        expect("pass", f"at -1 the regret per step is O(lr/sqrt(t)): it vanishes ({REDDI} Thm 4)"),
    "adam average regret: (x_lim - x*) x mean slope of the losses vs 2(C-2)/3, C={}":
        expect("pass", f"the generated losses are the paper's: mean slope (C - 2)/3 ({REDDI}; docs/reference.md 6.5)"),
    "adam stochastic tail mean x, all seeds":
        expect("pass", f"the rare 1010 gradient is damped by its own v: Adam ends at the worst point +1 ({REDDI} Thm 3)"),
    "adam stochastic average regret, all seeds":
        expect("pass", f"at +1 the expected loss 0.2 x loses 0.4 per step ({REDDI} Thm 3)"),
    "amsgrad stochastic tail mean x on the optimum's side, mean of seeds {}":
        exploratory("Thm 4's bound is vacuous here (G_inf = 1010) and the drift to -1 at T = 1e6 is comparable "
                    "with the noise: the side at this horizon is not decided", CHECK_VERDICTS),
}
HOOKS = {
    "adam_limit": "Adam's limit, the worst point of F (+1)",
    "optimum": "the best fixed point x* = -1, AMSGrad's limit",
    "adam_regret": "Adam's predicted average regret (x_lim - x*) x mean slope",
    "amsgrad_gap": "the bound e on AMSGrad's distance to x* at the horizon T",
}


def counterexample_records(C=3.0, steps=STEPS, *, lr=LR, theory=None) -> list:
    """Adam vs AMSGrad on Reddi et al.'s online problem, as :class:`optanalysis.comparison.Record`
    objects (both with and without torch's bias correction; ``theory`` is the study's hook, by
    default the unperturbed theory).  ``steps`` must be a multiple of 3 (the last step has slope -1)."""
    if isinstance(C, bool) or not isinstance(C, (int, float)) or not (math.isfinite(C) and C > 2):
        raise ValueError(f"C must be a finite number > 2 (so that x* = -1), got {C!r}")
    if not (isinstance(steps, int) and steps >= 3 and steps % 3 == 0):
        raise ValueError(f"steps must be a positive multiple of 3, got {steps!r}")
    theory = Theory(HOOKS) if theory is None else theory
    out = []
    coefs = periodic_coefficients(C, steps)
    beta2 = 1.0 / (1.0 + C * C)
    x_adam, x_star = theory("adam_limit", 1.0), theory("optimum", -1.0)
    regret = theory("adam_regret", (x_adam - x_star) * float(coefs.mean()))
    gap = theory("amsgrad_gap", lr * (1 / math.sqrt(steps - 1) + 1 / math.sqrt(steps)) / (math.sqrt(1 - beta2) * C))
    out.append(Record.judge("adam", "lr/sqrt(t)", {"C": C, "steps": steps},
                            f"adam average regret: (x_lim - x*) x mean slope of the losses vs 2(C-2)/3, C={C:g}",
                            2 * (C - 2) / 3, regret, EXACT * 2 * (C - 2) / 3))
    for amsgrad in (False, True):
        name = "amsgrad" if amsgrad else "adam"
        for bc in (False, True):
            res = run_online(coefs, lr=lr, beta1=0.0, beta2=beta2, amsgrad=amsgrad, bias_correction=bc)
            hyper = {"lr": lr, "beta1": 0.0, "beta2": beta2, "amsgrad": amsgrad, "bias_correction": bc,
                     "C": C, "steps": steps}
            at = f"C={C:g}, bias correction={bc}"
            if amsgrad:
                out.append(Record.judge(name, "lr/sqrt(t)", hyper, f"amsgrad online final x, {at}", x_star,
                                        res.x_final, gap))
                out.append(Record.judge(name, "lr/sqrt(t)", hyper, f"amsgrad online average regret, {at}", 0.0,
                                        res.average_regret, REGRET_REL * 2 * (C - 2) / 3, relation="at_most"))
            else:
                out.append(Record.judge(name, "lr/sqrt(t)", hyper, f"adam online final x, {at}", x_adam,
                                        res.x_final, 0.0))
                out.append(Record.judge(name, "lr/sqrt(t)", hyper, f"adam online average regret, {at}", regret,
                                        res.average_regret, REGRET_REL * abs(regret)))
    return out


def stochastic_records(steps=STOCHASTIC_STEPS, seeds=SEEDS, *, lr=LR, theory=None):
    """Adam and AMSGrad on the stochastic problem over ``seeds``, each verdict on all of them:
    (records, {rule: [run per seed]})."""
    theory = Theory(HOOKS) if theory is None else theory
    x_adam, x_star = theory("adam_limit", 1.0), theory("optimum", -1.0)
    regret = theory("adam_regret", (x_adam - x_star) * STOCHASTIC_SLOPE)
    runs = {}
    for amsgrad in (False, True):
        runs["amsgrad" if amsgrad else "adam"] = [
            run_online(stochastic_coefficients(steps, seed=s), lr=lr, beta1=0.9, beta2=0.99, amsgrad=amsgrad,
                       bias_correction=True, expected_slope=STOCHASTIC_SLOPE) for s in seeds]
    hyper = {"lr": lr, "beta1": 0.9, "beta2": 0.99, "bias_correction": True, "steps": steps,
             "seeds": f"{seeds[0]}..{seeds[-1]}"}
    tails = np.array([r.tail_mean for r in runs["adam"]])
    worst = float(tails[np.argmax(np.abs(tails - x_adam))])
    regrets = np.array([r.average_regret for r in runs["adam"]])
    worst_regret = float(regrets[np.argmax(np.abs(regrets - regret))])
    ams = np.array([r.tail_mean for r in runs["amsgrad"]])
    side = int(np.sum(x_star * ams >= 0))
    records = [
        Record.judge("adam", "lr/sqrt(t)", {**hyper, "amsgrad": False}, "adam stochastic tail mean x, all seeds",
                     x_adam, worst, TAIL_TOL),
        Record.judge("adam", "lr/sqrt(t)", {**hyper, "amsgrad": False}, "adam stochastic average regret, all seeds",
                     regret, worst_regret, abs(STOCHASTIC_SLOPE) * TAIL_TOL),
        Record.judge("amsgrad", "lr/sqrt(t)", {**hyper, "amsgrad": True, "seeds_on_optimum_side": side},
                     f"amsgrad stochastic tail mean x on the optimum's side, mean of seeds {hyper['seeds']}",
                     0.0, float(x_star * ams.mean()), 0.0, relation="at_least"),
    ]
    return records, runs


def run(quick=False, perturb=None) -> StudyResult:
    """Records of the counterexample (quick: C = 3 only, fewer horizons for the curves)."""
    boolean(quick, "quick")
    theory = Theory(HOOKS, perturb)
    cs = (3.0,) if quick else (3.0, 10.0)
    records = []
    for c in cs:
        records += counterexample_records(C=c, steps=STEPS, lr=LR, theory=theory)
    stochastic_recs, runs = stochastic_records(STOCHASTIC_STEPS, SEEDS, lr=LR, theory=theory)
    records += stochastic_recs
    horizons = np.unique(np.geomspace(10, STEPS, 12 if quick else 30).astype(int))
    curves = {}
    for c in cs:
        coefs = periodic_coefficients(c, STEPS)
        beta2 = 1.0 / (1.0 + c * c)
        for ams in (False, True):
            rs = [run_online(coefs[:T], lr=LR, beta1=0.0, beta2=beta2, amsgrad=ams) for T in horizons]
            curves[f"{'AMSGrad' if ams else 'Adam'}, C={c:g}"] = {
                "x_T": [r.x_final for r in rs], "average_regret": [r.average_regret for r in rs]}
    s_horizons = np.unique(np.geomspace(100, STOCHASTIC_STEPS, 8 if quick else 20).astype(int))
    coefs = stochastic_coefficients(STOCHASTIC_STEPS, seed=SEEDS[0])
    stochastic = {}
    for ams in (False, True):
        rs = [run_online(coefs[:T], lr=LR, beta1=0.9, beta2=0.99, amsgrad=ams, bias_correction=True,
                         expected_slope=STOCHASTIC_SLOPE) for T in s_horizons]
        stochastic["AMSGrad" if ams else "Adam"] = {"tail_mean": [r.tail_mean for r in rs],
                                                    "average_regret": [r.average_regret for r in rs]}
    data = {"horizons": horizons, "curves": curves, "stochastic_horizons": s_horizons, "stochastic": stochastic,
            "stochastic_tail_means": {k: [r.tail_mean for r in v] for k, v in runs.items()},
            "Cs": list(cs), "predicted_adam_regret": [2 * (c - 2) / 3 for c in cs]}
    parameters = {"lr": LR, "lr_schedule": "lr/sqrt(t)", "x1": 0.0, "bound": 1.0, "steps": STEPS, "Cs": list(cs),
                  "beta1_online": 0.0, "beta2_online": "1/(1+C^2)", "stochastic_steps": STOCHASTIC_STEPS,
                  "stochastic": {"big": 1010.0, "other": -10.0, "p": 0.01, "beta1": 0.9, "beta2": 0.99},
                  "seeds": list(SEEDS)}
    return StudyResult(records, data, parameters)


def plot(result):
    """x_T and average regret vs horizon (online), and the stochastic variant."""
    d = result.data
    fig, (ax1, ax2, ax3) = figure(1, 3, width=14.0, height=4.4)
    T = np.asarray(d["horizons"])
    for name, cur in d["curves"].items():
        style = "-" if name.startswith("Adam,") else "--"
        ax1.semilogx(T, cur["x_T"], style, marker=".", label=name)
        ax2.loglog(T, np.maximum(cur["average_regret"], 1e-6), style, marker=".", label=name)
    for c, p in zip(d["Cs"], d["predicted_adam_regret"]):
        ax2.axhline(p, color="k", lw=0.8, ls=":")
        ax2.annotate(f"2(C-2)/3 = {p:.3g}", (T[0], p), textcoords="offset points", xytext=(2, 3), fontsize=7)
    ax1.axhline(-1, color="k", lw=0.8, ls=":")
    ax1.annotate("optimum x* = -1", (T[0], -1), textcoords="offset points", xytext=(2, 3), fontsize=7)
    ax1.set(xlabel="horizon T", ylabel="x_T", ylim=(-1.1, 1.1), title="Online: final iterate")
    ax1.legend(fontsize=7)
    ax2.set(xlabel="horizon T", ylabel="average regret R_T / T", title="Online: Adam's regret does not vanish")
    ax2.legend(fontsize=7)
    S = np.asarray(d["stochastic_horizons"])
    for name, cur in d["stochastic"].items():
        ax3.semilogx(S, cur["tail_mean"], marker=".", label=f"{name}: mean x over last 10%")
    ax3.axhline(-1, color="k", lw=0.8, ls=":")
    ax3.set(xlabel="horizon T", ylabel="tail mean of x_t", ylim=(-1.1, 1.1),
            title="Stochastic (1010 w.p. 0.01, else -10), seed 0: Adam -> +1")
    ax3.legend(fontsize=7)
    fig.suptitle(f"{TITLE}\n{verdict_line(result.records, EXPECTED)}", fontsize=10)
    return fig
