"""Local stability at a real model's minimum: the rules' derived critical lr and rate at
lambda_max(H(w*)) against torch.optim run on the model itself.

Claim
    Near a strict minimum w* a smooth loss is the quadratic 1/2 (w - w*)^T H (w - w*), H = H(w*),
    to first order in w - w*.  So the largest stable lr of each rule run by torch.optim from
    w* + a tiny perturbation is the rule's derived critical lr at the sharpness lambda_max(H):
    2/lambda_max for SGD, (2 + 2b)/lambda_max for SGD momentum, (2 + 2b)/((1 + 2b) lambda_max) for
    Nesterov, and for Adam / RMSprop the linearised threshold on the preconditioned sharpness
    lambda_max(P^-1 H), P read from the optimizer's state; and the local rate is the one of the
    linear recurrence on H's spectrum.  Goal: critical lr within 0.5 % everywhere, local rate
    within 1 %.

Theory
    The critical lrs are derived, not typed: ``lr_bound`` of :func:`optanalysis.symbolic.derive`
    (torch SGD = gd, SGD(momentum) = sgd_momentum, nesterov=True its flag) at h = lambda_max;
    Adam's and RMSprop's thresholds from the frozen-preconditioner linearisation
    (:func:`optanalysis.landscape.critical_lr`).  At a minimum the gradient vanishes, so Adam's
    and RMSprop's second moment decays towards 0 and P -> eps (the small-gradient regime): the
    runs start with |grad| <= 1e-6 eps, P is read from the optimizer's state after a stable run
    (:func:`optanalysis.landscape.preconditioner`, the rule's own P_t expression) and
    lambda_max(P^-1 H) by Lanczos.  The predicted local rate is the fitted rate of the exact
    trajectory of the linearised dynamics over the model's whole (dense) spectrum
    (:func:`optanalysis.predict` of the rule, or of the linear rule Adam/RMSprop are equivalent to
    on P^-1/2 H P^-1/2), fitted by the same estimator as the observation; the derived worst-case
    spectral radius over [lambda_min, lambda_max] is reported beside it (exploratory: whether a
    finite run resolves the slowest directions depends on their weight and clustering).

Method
    Models (``optanalysis.landscape.models``; quick: logistic, full: all four)
    with an L2 term 1e-2/2 ||w||^2 that makes the minimum strict.  w*: L-BFGS then Newton with the
    dense Hessian to a gradient norm < 1e-13 (observed 4e-17 to 6e-16).  lambda_max by Lanczos
    (eigsh) on the Hessian-vector-product operator, checked against the dense Hessian to 1e-9
    relative; the figure's densities by stochastic Lanczos quadrature (4 probes, 60 steps) beside the
    dense spectrum's.  Perturbation: a seeded Gaussian direction, ||delta|| = 1e-6 (linear rules) or scaled
    to max |H delta| = 1e-6 eps (adaptive rules).  Adam and RMSprop run with eps = 1e-4, not torch's
    default 1e-8: the linear regime needs sqrt(v) << eps, i.e. |grad| << eps, and an unstable run must
    be seen to grow ~1e3-fold in |grad| before sqrt(v) moves P (which then restabilises it: the
    edge-of-stability mechanism), all above the rounding floor of a full-batch float64 gradient
    (~1e-16); with eps = 1e-8 that window does not exist (measured: onsets 3-7 % late).  A run of ``STEPS`` torch.optim steps
    (full batch, float64) is unstable if ||grad||^2 left the neighbourhood (grew 1e6-fold or
    non-finite), or has not decayed 1e6-fold and is larger at the end than at half the run.
    Observed critical lr: bisection of that decision in [0.9, 1.1] x the prediction to relative
    width 1e-3.  Torch's Adam is started with step = 10^6 and zero moments (bias corrections 1;
    see :mod:`optanalysis.landscape.local`).  Local rate: each rule at lr = 0.5 x its predicted
    critical lr (momentum / beta1 0.9), ``RATE_STEPS`` steps from w* + delta with ||delta|| = 1e-3
    (linear rules) or max |H delta| = 1e-4 eps (adaptive rules; sqrt(v) then moves P by <= 1e-4),
    larger, so that ||grad||^2 falls 12 decades before the rounding floor, the
    per-step contraction of ||w - w*|| (the square root of ||grad||^2's factor) by
    :func:`optanalysis.rates.fit_rate`.

    Tolerances.  Critical lr: 0.5 % relative, the goal.  The bisection's width is 1e-3; the
    decision is wrong only when the spectral radius is within ~ln(1e6)/STEPS of 1, i.e. for
    |lr/lr_c - 1| below ~1e-2/(c STEPS) ~ 2e-5 x (1/c) with c = d rho/d(lr/lr_c) = O(1); the
    perturbation's nonlinear terms move H by O(||delta||) ~ 1e-6 relative; Adam's P differs from
    eps by sqrt(v)/eps <= 1e-3 and is read from the state.  Local rate: 1 % relative on
    1 - rate (the goal); the quadratic model's error is O(||delta||) = 1e-3 relative.
    Lanczos vs dense: 1e-9 relative (eigsh at machine precision on a matrix computed to ~1e-14).

References
    J. M. Cohen et al. (2021), Gradient Descent on Neural Networks Typically Occurs at the Edge of
    Stability, ICLR; J. M. Cohen et al. (2022), Adaptive Gradient Methods at the Edge of Stability,
    arXiv:2207.14484; B. Ghorbani, S. Krishnan, Y. Xiao (2019), An Investigation into Neural Net
    Optimization via Hessian Eigenvalue Density, ICML; docs/real_models.md; docs/reference.md 5-6.
"""
from __future__ import annotations

import numpy as np

from optanalysis.checks import boolean
from optanalysis.comparison import Record
from optanalysis.plotting import figure
from optanalysis.studies import StudyResult, Theory, expect, exploratory, verdict_line

TITLE = "Real models at a minimum: torch.optim's critical lr and local rate vs the rules' derivations at lambda_max(H)"
REQUIRES = ("torch", "sklearn")
EXTRA = "models"

RULES = {  # torch.optim name -> hyperparameters other than lr
    "sgd": {},
    "sgd_momentum": {"momentum": 0.9},
    "nesterov": {"momentum": 0.9},
    "adam": {"beta1": 0.9, "beta2": 0.999, "eps": 1e-4},
    "rmsprop": {"alpha": 0.99, "eps": 1e-4},
}
ADAPTIVE = ("adam", "rmsprop")
QUICK_MODELS, FULL_MODELS = ("logistic",), ("logistic", "mlp_regression", "mlp_digits", "cnn_digits")
STEPS, RATE_STEPS = 400, 400
SEED = 0
DELTA, RATE_DELTA, ADAPTIVE_GRADIENT, RATE_ADAPTIVE_GRADIENT = 1e-6, 1e-3, 1e-6, 1e-4  # see the docstring
LR_TOL, RATE_TOL, LANCZOS_TOL = 5e-3, 1e-2, 1e-9
SLQ_PROBES, SLQ_STEPS, SLQ_SIGMA = 4, 60, 0.01  # the figure's density: SLQ, Gaussian width 1 % of lambda_max
# ||grad||^2 above 1e-12 x its start (linear rules: start ~1e-6, rounding error < 1e-5 relative) or
# 1e-10 x (adaptive rules: start ~1e-20 x n, floor ~1e-32)
FIT = {"floor": 1e-12, "noise": 1e-5}
FIT_ADAPTIVE = {"floor": 1e-10, "noise": 1e-4}

EXPECTED = {
    "{}: lambda_max, Lanczos vs dense Hessian":
        expect("pass", "eigsh on exact Hessian-vector products converges to the extreme eigenvalue at machine "
                       "precision (Lanczos; Golub & Van Loan 10.1)"),
    "{}: {}: critical lr, torch.optim onset vs derived":
        expect("pass", "at a strict minimum the loss is its quadratic to first order: the rule's derived lr_bound "
                       "(linear rules) or linearised threshold on lambda_max(P^-1 H) (Adam, RMSprop) is the onset "
                       "(docs/reference.md 5.1, 6.1; Cohen et al. 2021, 2022)"),
    "{}: {}: local rate, torch.optim vs exact linearised prediction":
        expect("pass", "the local dynamics is the rule's linear recurrence on H (on P^-1/2 H P^-1/2 for Adam, "
                       "RMSprop): its trajectory, hence its fitted rate, is the exact prediction's "
                       "(docs/reference.md 4)"),
    "{}: {}: local rate, torch.optim vs derived worst case over [lambda_min, lambda_max]":
        exploratory("the worst case over the interval is attained only if the run resolves the extreme "
                    "directions; their weight in a random perturbation and the clustering of the small "
                    "eigenvalues decide that, not the theory", ("pass", "fail")),
}
HOOKS = {
    "critical_lr": "the derived largest stable lr of each rule at the model's (preconditioned) sharpness",
    "rate": "the predicted local contraction per step (fit of the exact linearised trajectory)",
}


def _predicted_rate(name, hyper, h, y0):
    """Fitted contraction of the exact linearised trajectory of ||grad||^2 (diagonal spectrum h,
    eigen-coordinates y0): with x0 = y0 sqrt(2 h) the quadratic's loss 1/2 sum h x^2 is sum h^2 y^2."""
    from optanalysis.landscape.predict import TORCH
    from optanalysis.rates import fit_rate
    from optanalysis.rules import get_rule
    from optanalysis.symbolic.linearization import linearize
    from optanalysis.theory.prediction import predict

    rule, flags = TORCH[name]
    if name in ADAPTIVE:  # the linear rule the linearisation names, with its mapped hyperparameters
        lin = linearize(rule, **flags)
        values = get_rule(rule).params(**hyper)
        params = {k: float(v.subs({s: values[str(s)] for s in v.free_symbols})) for k, v in lin.mapping.items()}
        rule = lin.equivalent
    else:
        params = {**hyper, **flags}
    pred = predict(rule, params, x0=y0 * np.sqrt(2 * h), hessian_diag=h, steps=RATE_STEPS)
    return fit_rate(pred.loss, **(FIT_ADAPTIVE if name in ADAPTIVE else FIT)), pred.loss


def _model_records(name, theory, rng):
    from optanalysis.landscape import critical_lr, find_minimum, hessian_eigenvalues, load_model, local_rate
    from optanalysis.landscape import preconditioned_sharpness, preconditioner, spectral_density
    from optanalysis.landscape.local import bisect_critical_lr, gradient_norms, unstable
    from optanalysis.rates import fit_rate

    rm = load_model(name, seed=SEED)
    m = find_minimum(rm)
    op = rm.operator(m.point)
    lam = float(hessian_eigenvalues(op, 1, seed=SEED)[0])
    dense = float(m.eigenvalues[-1])
    n = m.point.size
    records = [Record.judge("-", "constant", {"model": name, "parameters": n},
                            f"{name}: lambda_max, Lanczos vs dense Hessian", dense, lam, LANCZOS_TOL * dense)]
    hess = (m.eigenvectors * m.eigenvalues) @ m.eigenvectors.T
    direction = rng.standard_normal(n)
    rows = []
    for rule, hyper in RULES.items():
        if rule in ADAPTIVE:
            delta = direction * (ADAPTIVE_GRADIENT * hyper["eps"] / np.abs(hess @ direction).max())
            guess = critical_lr(rule, lam / hyper["eps"], **hyper)
            _, opt = gradient_norms(rm, m.point + delta, rule, {**hyper, "lr": 0.5 * guess}, STEPS,
                                    return_optimizer=True)
            p = preconditioner(opt)  # from the state of torch's own optimizer (coordinates in model order)
            sharp = float(preconditioned_sharpness(op, p=p, seed=SEED)[0])
        else:
            delta = direction * (DELTA / np.linalg.norm(direction))
            p, sharp = None, lam
        predicted = theory("critical_lr", critical_lr(rule, sharp, **hyper))
        observed, bracketed, runs = bisect_critical_lr(
            lambda lr: unstable(gradient_norms(rm, m.point + delta, rule, {**hyper, "lr": lr}, STEPS)), predicted)
        hp = {"model": name, **hyper, "steps": STEPS, "sharpness": sharp}
        records.append(Record.judge(rule, "constant", hp, f"{name}: {rule}: critical lr, torch.optim onset vs derived",
                                    predicted, observed, LR_TOL * predicted))
        # local rate at half the critical lr
        lr = 0.5 * predicted
        if rule in ADAPTIVE:
            delta = delta * (RATE_ADAPTIVE_GRADIENT / ADAPTIVE_GRADIENT)
            start = m.point + delta
            scale = 1.0 / np.sqrt(p)
            hh = scale[:, None] * hess * scale[None, :]
            h, q = np.linalg.eigh(0.5 * (hh + hh.T))
            y0 = q.T @ (np.sqrt(p) * delta)
        else:
            start = m.point + direction * (RATE_DELTA / np.linalg.norm(direction))
            h, q = m.eigenvalues, m.eigenvectors
            y0 = q.T @ (start - m.point)
        norms = gradient_norms(rm, start, rule, {**hyper, "lr": lr}, RATE_STEPS)
        obs_fit = fit_rate(norms, **(FIT_ADAPTIVE if rule in ADAPTIVE else FIT))
        pred_fit, pred_curve = _predicted_rate(rule, {**hyper, "lr": lr}, h, y0)
        ok = obs_fit.ok and pred_fit.ok
        pred_rate = theory("rate", pred_fit.iterate_rate) if pred_fit.ok else float("nan")
        obs_rate = obs_fit.iterate_rate if obs_fit.ok else float("nan")
        hr = {"model": name, **hyper, "lr": lr, "steps": RATE_STEPS}
        if ok:
            records.append(Record.judge(rule, "constant", hr,
                                        f"{name}: {rule}: local rate, torch.optim vs exact linearised prediction",
                                        1 - pred_rate, 1 - obs_rate, RATE_TOL * (1 - pred_rate)))
        else:
            records.append(Record(rule, "constant", hr,
                                  f"{name}: {rule}: local rate, torch.optim vs exact linearised prediction",
                                  float("nan"), float("nan"), 0.0, f"refused: {obs_fit.reason or pred_fit.reason}"))
        worst = local_rate(rule, float(h.min()), float(h.max()), **hyper, lr=lr)
        if obs_fit.ok:
            records.append(Record.judge(rule, "constant", hr,
                                        f"{name}: {rule}: local rate, torch.optim vs derived worst case over "
                                        "[lambda_min, lambda_max]", 1 - worst, 1 - obs_rate, RATE_TOL * (1 - worst)))
        rows.append({"model": name, "rule": rule, "sharpness": sharp, "predicted": predicted, "observed": observed,
                     "bracketed": bracketed, "runs": runs, "lr_rate": lr, "rate_predicted": pred_rate,
                     "rate_observed": obs_rate, "rate_worst_case": worst, "grad_norm2": norms,
                     "grad_norm2_predicted": pred_curve * (norms[0] / pred_curve[0])})
    slq = spectral_density(op, probes=SLQ_PROBES, steps=min(SLQ_STEPS, n), seed=SEED)
    info = {"model": name, "description": rm.description, "parameters": n, "gradient_norm": m.gradient_norm,
            "slq_nodes": slq.nodes, "slq_weights": slq.weights,
            "lambda_max": lam, "lambda_max_dense": dense, "lambda_min": float(m.eigenvalues[0]),
            "eigenvalues": m.eigenvalues, "newton_steps": m.newton_steps, "hvp": op.n_hvp}
    return records, rows, info


def run(quick=False, perturb=None) -> StudyResult:
    """Predicted vs observed critical lr and local rate per rule per model (quick: two models)."""
    import torch

    boolean(quick, "quick")
    theory = Theory(HOOKS, perturb)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small models: one thread is fastest, and results do not depend on it
    try:
        rng = np.random.default_rng(SEED)
        records, rows, models = [], [], []
        for name in QUICK_MODELS if quick else FULL_MODELS:
            r, w, info = _model_records(name, theory, rng)
            records += r
            rows += w
            models.append(info)
    finally:
        torch.set_num_threads(threads)
    parameters = {"models": [m["model"] for m in models], "rules": RULES, "steps": STEPS, "rate_steps": RATE_STEPS,
                  "delta": DELTA, "rate_delta": RATE_DELTA, "adaptive_gradient_over_eps": ADAPTIVE_GRADIENT,
                  "bisection": {"bracket": [0.9, 1.1], "relative_width": 1e-3}, "seed": SEED, "seeds": [SEED],
                  "fit": FIT}
    return StudyResult(records, {"rows": rows, "models": models}, parameters)


def plot(result):
    """Observed / predicted critical lr per rule per model; the gradient-norm decay at half the
    critical lr, observed and predicted; the models' Hessian densities by SLQ and dense."""
    d = result.data
    rows, models = d["rows"], d["models"]
    rules = list(RULES)
    fig, (ax1, ax2, ax3) = figure(1, 3, width=15.0, height=4.6)
    for i, m in enumerate(models):
        r = [x for x in rows if x["model"] == m["model"]]
        ax1.plot([rules.index(x["rule"]) + 0.08 * (i - 1.5) for x in r], [x["observed"] / x["predicted"] for x in r],
                 "o", label=m["model"])
    ax1.axhspan(1 - LR_TOL, 1 + LR_TOL, color="0.85", label="goal: within 0.5 %")
    ax1.axhline(1.0, color="k", lw=0.8)
    ax1.set_xticks(range(len(rules)), rules, rotation=20)
    ax1.set(ylabel="observed / predicted critical lr", title="Critical lr at w*: torch.optim onset / derived")
    ax1.legend(fontsize=7)
    first = models[0]["model"]
    for j, x in enumerate([x for x in rows if x["model"] == first]):
        g = np.asarray(x["grad_norm2"], dtype=float)
        ax2.semilogy(g / g[0], color=f"C{j}", label=f"{x['rule']} (torch)")
        gp = np.asarray(x["grad_norm2_predicted"], dtype=float)
        ax2.semilogy(gp / gp[0], color=f"C{j}", ls=":", lw=2)
    ax2.set(xlabel="step", ylabel="||grad||^2 / start", ylim=(1e-30, 10),
            title=f"{first}: lr = 0.5 x critical (dotted: exact prediction)")
    ax2.legend(fontsize=7)
    grid = np.linspace(-0.05, 1.05, 1101)
    for i, m in enumerate(models):
        ev = np.asarray(m["eigenvalues"], dtype=float)
        top = float(m["lambda_max"])
        nodes, weights = (np.asarray(m[k], dtype=float) for k in ("slq_nodes", "slq_weights"))
        kern = np.exp(-0.5 * ((grid[:, None, None] - nodes[None] / top) / SLQ_SIGMA) ** 2) / (SLQ_SIGMA * np.sqrt(2 * np.pi))
        slq = np.mean(np.sum(kern * weights[None], axis=2), axis=1)
        exact = np.mean(np.exp(-0.5 * ((grid[:, None] - ev[None] / top) / SLQ_SIGMA) ** 2), axis=1) / (
            SLQ_SIGMA * np.sqrt(2 * np.pi))
        ax3.semilogy(grid, slq + 1e-6, color=f"C{i}", label=f"{m['model']} (n={m['parameters']}): SLQ")
        ax3.semilogy(grid, exact + 1e-6, color=f"C{i}", ls=":", lw=2)
    ax3.set(xlabel="eigenvalue / lambda_max", ylabel="density (Gaussian width 0.01)", ylim=(1e-4, None),
            title="Hessian density at w*: SLQ (dotted: dense)")
    ax3.legend(fontsize=7)
    fig.suptitle(f"{TITLE}\n{verdict_line(result.records, EXPECTED)}", fontsize=10)
    return fig
