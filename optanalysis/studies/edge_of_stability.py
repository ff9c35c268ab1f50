"""Edge of stability: the largest stable sharpness of gd, heavy ball, Nesterov and Adam.

Claim
    On a quadratic, a constant-lr run converges iff the sharpness (largest Hessian eigenvalue) is
    below a threshold: 2/lr for gradient descent (Cohen et al. 2021), (2 + 2 beta)/lr for heavy ball
    and (2 + 2 beta)/((1 + 2 beta) lr) for Nesterov (torch SGD with momentum, nesterov=False/True,
    as Cohen et al. 2021 run it; docs/reference.md 5.1), and, for Adam, the *preconditioned*
    sharpness lambda_max(P^-1 H) below (2 + 2 beta1)/((1 - beta1) lr), i.e. 38/lr at beta1 = 0.9
    (Cohen et al. 2022).

Theory
    The thresholds are derived, not typed: for the linear rules, the largest stable lr
    ``lr_bound`` of :func:`optanalysis.symbolic.derive` (Jury conditions of the characteristic
    polynomial of the rule's own iteration matrix) at the sharpness; for Adam, the frozen-
    preconditioner linearisation :func:`optanalysis.symbolic.linearization.linearize` (heavy ball on
    P^-1 H with lr (1 - beta1) lr and momentum beta1) and its threshold.

    Oracles: each paper's formula, typed here, is what the derivation must equal: critical
    lr x sharpness = 2 (gd), 2 + 2b (heavy ball), (2 + 2b)/(1 + 2b) (Nesterov); Adam's
    threshold x lr = (2 + 2 b1)/(1 - b1) at each probed b1, and the paper's literal 38 at
    b1 = 0.9.  Agreement to 1e-12 relative (exact expressions, evaluated in floating point).
    A rule whose arithmetic differs derives another threshold and fails here, though its
    kernels still agree with its own derivation.

Method
    Linear rules: a diagonal quadratic with curvatures (0.1, 1, 10) (sharpness S = 10), x0 = 1,
    x* = 0; momenta {0.5, 0.9} (quick) or {0, 0.3, 0.6, 0.9, 0.99} (full).  The observed critical lr
    is found by a grid bisection with the kernels (``simulate_batch``: 8 lrs per round, 7 rounds,
    bracket [0.5, 2] x the prediction, final resolution ~3e-7 relative): a run of N steps is
    unstable if it diverged or its loss at step N exceeds its loss at step N/2.
    Adam: :func:`optanalysis.theory.adaptive.critical_lr_probe` (warm regime: v built by 2000
    steps at lr 1e-3, then frozen; P from the linearisation's expression; bisection of the lr at
    which the loss grows 1e8-fold) on dense quadratics, d = 6, spectrum geometric in [1, kappa],
    rotated by a seeded random orthogonal matrix (:func:`optanalysis.models.quadratic.rotated_hessian`);
    beta1 = 0.9, kappa = 10 (quick) or beta1 in {0, 0.5, 0.9, 0.95} x kappa in {10, 1000} (full).
    The predicted critical lr is the derived threshold x lr divided by the probed lambda_max(P^-1 H).
    The figure shows the derived spectral radius crossing 1.

    Tolerances.  Linear onset: near the threshold the spectral radius is 1 + c (lr/lr_c - 1)
    with c = O(1) and the other root is inside the unit circle by a fixed margin, so the
    unstable/stable decision is wrong only when ``|lr/lr_c - 1|`` is below ~ln(2)/(c N) ~ 1e-4 for
    N = 8000: the tolerance is 1e-3 relative.  Adam's onset: 2 % relative, ten times the probe's
    bias: its growth criterion fires only once the loss can grow 1e8-fold within 10000 steps, at
    a spectral radius ~1 + ln(1e8)/10000 = 1.0018, i.e. ~0.2 % above the threshold lr (measured
    <= 0.2 %), and its bisection resolves 1e-4.  Derived vs typed formula: 1e-12 relative.

References
    J. M. Cohen, S. Kaur, Y. Li, J. Z. Kolter, A. Talwalkar (2021), Gradient Descent on Neural
    Networks Typically Occurs at the Edge of Stability, ICLR; J. M. Cohen et al. (2022), Adaptive
    Gradient Methods at the Edge of Stability, arXiv:2207.14484; docs/reference.md sections 5 and 6.1.
"""
from __future__ import annotations

import numpy as np
import sympy

from optanalysis.checks import boolean
from optanalysis.comparison import Record
from optanalysis.models.quadratic import rotated_hessian
from optanalysis.plotting import figure
from optanalysis.theory.spectrum import spectral_radius
from optanalysis.simulation import simulate_batch
from optanalysis.studies import StudyResult, Theory, expect, verdict_line
from optanalysis.symbolic import derive
from optanalysis.symbolic.linearization import linearize
from optanalysis.theory.adaptive import critical_lr_probe

TITLE = "Edge of stability: derived thresholds 2/lr, (2+2b)/lr, (2+2b)/((1+2b)lr), 38/lr match the kernels' onset"

H = np.array([0.1, 1.0, 10.0])  # sharpness 10
STEPS = 8000
REL_TOL = 1e-3  # see the docstring: decision error ~1e-4 at N = 8000
GRID, ROUNDS = 8, 7
ADAM_D, ADAM_SEED = 6, 0
ADAM_REL_TOL = 0.02  # ten times the probe's bias (~0.2 %, its growth criterion): see the docstring
EXACT = 1e-12  # derived expression vs typed formula: floating-point agreement
# The papers' formulas, typed (docs/reference.md 5.1, 5.2): critical lr x sharpness
ORACLE = {
    "gd": ("2", lambda b: 2.0),
    "heavy_ball": ("2+2b", lambda b: 2 + 2 * b),
    "nesterov": ("(2+2b)/(1+2b)", lambda b: (2 + 2 * b) / (1 + 2 * b)),
}
ADAM_ORACLE = ("(2+2b1)/(1-b1)", lambda b1: (2 + 2 * b1) / (1 - b1))
ADAM_PAPER = 38.0  # Cohen et al. (2022), abstract: 38/lr at beta1 = 0.9

ONSET = "a constant-lr linear recurrence grows iff its spectral radius exceeds 1: the kernels' onset is the derived lr"
EXPECTED = {
    "gd: critical lr, kernel onset vs derived": expect("pass", f"{ONSET} (docs/reference.md 5.1)"),
    "heavy_ball: critical lr, kernel onset vs derived, momentum={}": expect("pass", f"{ONSET} (docs/reference.md 5.1)"),
    "nesterov: critical lr, kernel onset vs derived, momentum={}": expect("pass", f"{ONSET} (docs/reference.md 5.1)"),
    "gd: critical lr x sharpness, derived vs 2":
        expect("pass", "gd's mode 1 - lr h leaves the unit disc at lr h = 2 (Cohen et al. 2021; docs/reference.md 5.1)"),
    "heavy_ball: critical lr x sharpness, derived vs 2+2b, momentum={}":
        expect("pass", "z^2 - (1+b-lr h) z + b has a root at -1 when lr h = 2+2b (docs/reference.md 5.1; "
                       "torch SGD momentum as Cohen et al. 2021 run it)"),
    "nesterov: critical lr x sharpness, derived vs (2+2b)/(1+2b), momentum={}":
        expect("pass", "z^2 - (1+b)(1-lr h) z + b(1-lr h) has a root at -1 when lr h = (2+2b)/(1+2b) "
                       "(docs/reference.md 5.1; torch nesterov=True)"),
    "adam: preconditioned threshold x lr, derived vs (2+2b1)/(1-b1), beta1={}":
        expect("pass", "with P frozen Adam is heavy ball on P^-1 H with lr (1-b1) lr, momentum b1 "
                       "(docs/reference.md 5.2, 6.1)"),
    "adam: preconditioned threshold x lr, derived vs 38 at beta1=0.9":
        expect("pass", "Cohen et al. (2022), abstract: Adam's preconditioned sharpness equilibrates at 38/lr "
                       "for beta1 = 0.9 (docs/reference.md 5.2)"),
    "adam: critical lr, frozen-P probe vs derived, beta1={}, kappa={}":
        expect("pass", "with v frozen the probe is linear in (x, m): it grows iff lambda_max(P^-1 H) lr exceeds "
                       "the threshold (docs/reference.md 6.1)"),
}
HOOKS = {
    "threshold": "the derived largest stable lr of gd, heavy ball and Nesterov at the sharpness",
    "adam_threshold": "Adam's derived preconditioned threshold x lr (38 at beta1 = 0.9), which divided by "
                      "lambda_max(P^-1 H) is the predicted critical lr of each probe",
}


def _critical_lr(rule: str, momentum: float, sharpness: float) -> float:
    """The derived largest stable lr at ``sharpness`` (Jury conditions of the rule's own map)."""
    d = derive(rule)
    values = {"h": sharpness, "momentum": momentum}
    expr = d.lr_bound.subs({sym: values[str(sym)] for sym in d.lr_bound.free_symbols})
    return float(expr)


def _unstable(rule: str, configs: list) -> np.ndarray:
    """Kernel verdict per params dict: diverged, or loss(N) > loss(N/2)."""
    res = simulate_batch(rule, configs, x0=np.ones_like(H), hessian_diag=H, steps=STEPS, record_every=STEPS // 2)
    loss = res.loss[:, 0]
    with np.errstate(invalid="ignore"):
        return (res.diverged_at[:, 0] >= 0) | ~(loss[:, 2] <= loss[:, 1])


def _bisect(rule: str, momenta: list, predicted: list) -> list:
    """Observed critical lr per momentum by grid bisection in [0.5, 2] x the prediction."""
    lo = [0.5 * p for p in predicted]
    hi = [2.0 * p for p in predicted]
    for _ in range(ROUNDS):
        grids = [np.geomspace(a, b, GRID + 2)[1:-1] for a, b in zip(lo, hi)]
        configs = [({"lr": float(lr), "momentum": m} if rule != "gd" else {"lr": float(lr)})
                   for m, g in zip(momenta, grids) for lr in g]
        bad = _unstable(rule, configs).reshape(len(momenta), GRID)
        for i, g in enumerate(grids):
            stable = g[~bad[i]]
            unstable = g[bad[i]]
            lo[i] = max([lo[i], *stable[stable < (unstable.min() if unstable.size else np.inf)]])
            hi[i] = min([hi[i], *unstable[unstable > lo[i]]])
    return [float(np.sqrt(a * b)) for a, b in zip(lo, hi)]


def _adam_threshold(beta: float) -> float:
    """Adam's derived preconditioned threshold x lr at ``beta1`` (frozen-P linearisation)."""
    lr = sympy.Symbol("lr", positive=True)
    return float(sympy.simplify(linearize("adam", beta1=beta).threshold * lr))


def _adam_onsets(theory, momenta, kappas) -> tuple:
    """Adam's derived vs observed critical lr (warm regime) on a dense quadratic per (beta1, kappa):
    spectrum geometric in [1, kappa], d = ADAM_D, a seeded random rotation and start each."""
    rng = np.random.default_rng(ADAM_SEED)
    records, rows = [], []
    for beta in momenta:
        derived = theory("adam_threshold", _adam_threshold(beta))
        text, formula = ADAM_ORACLE
        records.append(Record.judge("adam", "constant", {"beta1": beta},
                                    f"adam: preconditioned threshold x lr, derived vs {text}, beta1={beta:g}",
                                    formula(beta), derived, EXACT * formula(beta)))
        if beta == 0.9:
            records.append(Record.judge("adam", "constant", {"beta1": beta},
                                        "adam: preconditioned threshold x lr, derived vs 38 at beta1=0.9",
                                        ADAM_PAPER, derived, EXACT * ADAM_PAPER))
        for kappa in kappas:
            hess = rotated_hessian(np.geomspace(1.0, kappa, ADAM_D), int(rng.integers(2**63)))
            onset = critical_lr_probe("adam", hess, rng.standard_normal(ADAM_D), beta1=beta)
            predicted = derived / onset.lambda_max
            records.append(Record.judge("adam", "constant", {"beta1": beta, "kappa": kappa, "regime": "warm"},
                                        f"adam: critical lr, frozen-P probe vs derived, beta1={beta:g}, kappa={kappa:g}",
                                        predicted, onset.observed, ADAM_REL_TOL * predicted))
            rows.append({"hyperparameters": {"beta1": beta, "kappa": kappa}, "kappa": kappa, "predicted": predicted,
                         "observed": onset.observed, "lambda_max": onset.lambda_max})
    return records, rows


def run(quick=False, perturb=None) -> StudyResult:
    """Derived vs observed thresholds (quick: fewer momenta and one Adam configuration)."""
    boolean(quick, "quick")
    theory = Theory(HOOKS, perturb)
    momenta = [0.5, 0.9] if quick else [0.0, 0.3, 0.6, 0.9, 0.99]
    sharp = float(H.max())
    records, rows = [], []
    for rule in ("gd", "heavy_ball", "nesterov"):
        ms = [0.0] if rule == "gd" else momenta
        pred = [theory("threshold", _critical_lr(rule, m, sharp)) for m in ms]
        obs = _bisect(rule, ms, pred)
        text, formula = ORACLE[rule]
        for m, p, o in zip(ms, pred, obs):
            hyper = {"momentum": m, "sharpness": sharp, "steps": STEPS} if rule != "gd" else {"sharpness": sharp}
            which = "" if rule == "gd" else f", momentum={m:g}"
            records.append(Record.judge(rule, "constant", hyper, f"{rule}: critical lr, kernel onset vs derived{which}",
                                        p, o, REL_TOL * p))
            # the paper's formula, typed, as the oracle of the derivation
            records.append(Record.judge(rule, "constant", hyper,
                                        f"{rule}: critical lr x sharpness, derived vs {text}{which}",
                                        formula(m), p * sharp, EXACT * formula(m)))
            rows.append({"rule": rule, "momentum": m, "predicted": p, "observed": o})
    adam, adam_rows = _adam_onsets(theory, (0.9,) if quick else (0.0, 0.5, 0.9, 0.95),
                                   (10.0,) if quick else (10.0, 1000.0))
    records.extend(adam)
    beta = np.linspace(0.0, 0.96, 97)
    lr = sympy.Symbol("lr", positive=True)
    general = linearize("adam").threshold * lr
    b1 = [s for s in general.free_symbols if str(s) == "beta1"][0]
    curve = sympy.lambdify(b1, general, "numpy")(beta)
    # Spectral radius of the derived maps vs lr * sharpness, for the figure.
    lr_h = np.linspace(0.05, 4.2, 400)  # at lr = 1, h is lr x h
    rho = {"gd": spectral_radius("gd", {"lr": 1.0}, lr_h).tolist(),
           "heavy_ball": spectral_radius("heavy_ball", {"lr": 1.0, "momentum": 0.9}, lr_h).tolist(),
           "nesterov": spectral_radius("nesterov", {"lr": 1.0, "momentum": 0.9}, lr_h).tolist()}
    data = {"linear": rows, "adam": adam_rows,
            "adam_curve_beta1": beta, "adam_curve_threshold_times_lr": curve,
            "lr_times_h": lr_h, "spectral_radius": rho, "sharpness": sharp}
    parameters = {"hessian_diag": H, "x0": 1.0, "steps": STEPS, "momenta": momenta, "grid": GRID, "rounds": ROUNDS,
                  "adam_regime": "warm", "adam_d": ADAM_D,
                  "adam_seed": ADAM_SEED, "seeds": [ADAM_SEED]}
    return StudyResult(records, data, parameters)


def plot(result):
    """Spectral radius vs lr*h; derived vs observed thresholds; Adam's preconditioned sharpness."""
    d = result.data
    fig, (ax1, ax2, ax3) = figure(1, 3, width=14.0, height=4.4)
    a = np.asarray(d["lr_times_h"])
    labels = {"gd": "gd", "heavy_ball": "heavy ball, b=0.9", "nesterov": "Nesterov, b=0.9"}
    for rule, rho in d["spectral_radius"].items():
        ax1.plot(a, rho, label=labels[rule])
    ax1.axhline(1.0, color="k", lw=0.8)
    ax1.set(xlabel="lr x sharpness", ylabel="spectral radius of T(h) (derived)", ylim=(0, 1.6),
            title="Derived spectral radius crosses 1 at the threshold")
    ax1.legend(loc="lower right")
    rows = d["linear"]
    s = d["sharpness"]
    for rule, marker in (("gd", "s"), ("heavy_ball", "o"), ("nesterov", "^")):
        r = [x for x in rows if x["rule"] == rule]
        m = [x["momentum"] for x in r]
        line, = ax2.plot(m, [x["predicted"] * s for x in r], marker, mfc="none", ms=9,
                         label=f"{rule}: derived")
        ax2.plot(m, [x["observed"] * s for x in r], "x", color=line.get_color(), ms=6, label=f"{rule}: kernel onset")
    ax2.set(xlabel="momentum b", ylabel="critical lr x sharpness",
            title=f"Linear rules: onset within {REL_TOL:g} (rel.)")
    ax2.legend(fontsize=7)
    ax3.plot(d["adam_curve_beta1"], d["adam_curve_threshold_times_lr"], color="0.3",
             label="linearisation: (2 + 2 b1)/(1 - b1)")
    kappas = sorted({r["kappa"] for r in d["adam"]})
    for r in d["adam"]:
        i = kappas.index(r["kappa"])
        ax3.plot(r["hyperparameters"]["beta1"], r["lambda_max"] * r["observed"], "x+"[i % 2], color=f"C{i}", ms=9,
                 mew=1.5, label=f"kernel onset, kappa={r['kappa']:g}")
    ax3.axhline(38, color="0.5", ls="--", lw=0.8, label="38 at b1 = 0.9 (Cohen et al. 2022, oracle)")
    ax3.set(xlabel="beta1", ylabel="lambda_max(P^-1 H) x critical lr",
            title="Adam: preconditioned sharpness at onset (2 %)")
    handles, names = ax3.get_legend_handles_labels()
    uniq = dict(zip(names, handles))
    ax3.legend(uniq.values(), uniq.keys(), fontsize=7)
    fig.suptitle(f"{TITLE}\n{verdict_line(result.records, EXPECTED)}", fontsize=10)
    return fig
