"""Gradient descent on a quadratic: the stability edge lr = 2/L and the optimal rate (kappa-1)/(kappa+1).

Claim
    On f(x) = 1/2 x^T H x with spectrum in [mu, L], gradient descent converges iff lr < 2/L: just
    below the edge it converges (slowly, its rate tends to 1), just above it diverges at the
    per-step factor ``|1 - lr L|`` > 1.  The lr minimising the worst rate over [mu, L] is
    2/(L + mu), with rate (kappa - 1)/(kappa + 1), kappa = L/mu.

Theory
    Everything predicted comes from the symbolic engine, derived from the rule's single
    definition (``optanalysis/rules/gd.py``): ``derive("gd").lr_bound`` (the Jury condition
    solved for lr, 2/h, evaluated at h = L), the optimal tuning ``derive("gd").optimal`` (lr and
    rate as expressions in mu, L, kappa, solved from "equalise the extremal modes r(mu) = -r(L)"),
    and the spectral radius at each lr (``optanalysis.spectral_radius``, maximised over
    the problem's eigenvalues).  The tuned rate is also checked against the exact worst case over
    the whole interval (``worst_case_rate``), a different route through the same polynomial.

    Oracles: the literature's formulas, typed here and not derived, are what the derivation must
    equal: the edge 2/L (Cohen et al. 2021; Goh 2017), the optimal lr 2/(L + mu) and rate
    (kappa - 1)/(kappa + 1) (Lessard, Recht, Packard 2016, Prop. 1).  Agreement is to 1e-12
    relative (the derived expressions are exact; only their evaluation in floating point rounds).
    A rule whose arithmetic differs from gradient descent derives other values and fails here,
    though its simulation still agrees with its own derivation.

Method
    For kappa in {10, 100, 1000}: H = diag of 6 eigenvalues log-spaced in [1/kappa, 1] (L = 1),
    x0 = 1, one ``simulate_batch`` call per kappa over lr = 2/(L+mu) and a scan of lr/(2/L) in
    1 +- 2.25 % (step 0.5 %, no point on the edge itself).  Observed rates are the per-step
    factors of ||x - x*|| fitted by
    ``optanalysis.rates.fit_rate`` (a diverged run is fitted on its finite part, before the
    kernel flags the divergence).  The observed edge is the midpoint between the largest scanned
    lr whose fitted rate is < 1 and the smallest one whose rate is > 1 (or that diverged).
    Quick mode runs the same configuration: it takes about 2 s.

    Tolerances: a fitted rate must match the predicted one within 1 % of its distance to 1,
    ``|rho - 1|`` / 100 — the distance to 1 sets the number of steps to any accuracy, so this asks
    for the step count right within 1 %.  It covers the bias of the fit from the faster modes
    still present in its window (measured: <= 1.7e-5 in absolute terms, < 10 % of the
    tolerance).  The observed edge must lie within half a scan step of the predicted one.  The
    two symbolic routes to the optimal rate agree to floating-point exactness (1e-12).

References
    docs/reference.md sections 4.2-4.5 (Goh 2017, Distill, "Why Momentum Really Works"; Lessard, Recht,
    Packard 2016, Prop. 1, GD row); section 6.4 (Cohen et al. 2021, ICLR: GD on a quadratic is
    unstable iff the sharpness exceeds 2/lr).
"""
import numpy as np

from optanalysis.checks import boolean
from optanalysis.comparison import Record
from optanalysis.plotting import figure
from optanalysis.rates import fit_rate
from optanalysis.simulation import simulate_batch
from optanalysis.studies import StudyResult, Theory, expect, verdict_line
from optanalysis.symbolic import H, derive, worst_case_rate
from optanalysis.theory.spectrum import spectral_radius
from optanalysis.symbolic.analysis import KAPPA, L as L_SYM, MU

TITLE = "Gradient descent is stable iff lr < 2/L; its best rate is (kappa-1)/(kappa+1) at lr = 2/(L+mu)"

KAPPAS = (10, 100, 1000)
DIM = 6
SCAN = np.linspace(-0.0225, 0.0225, 10)  # lr / (2/L) - 1: ten points, none exactly on the edge
EXACT = 1e-12  # two symbolic routes to one number: floating-point agreement

LRP = "Lessard, Recht, Packard (2016) Prop. 1; docs/reference.md 4.5"
EXPECTED = {
    "stability edge: derived vs 2/L, kappa={}":
        expect("pass", "gd's mode at h is 1 - lr h, stable iff lr h < 2 (Cohen et al. 2021; docs/reference.md 6.4)"),
    "optimal lr: derived vs 2/(L+mu), kappa={}":
        expect("pass", f"equalising |1 - lr mu| = |1 - lr L| gives lr = 2/(L+mu) ({LRP})"),
    "optimal rate: derived vs (kappa-1)/(kappa+1), kappa={}":
        expect("pass", f"the equalised modes' rate is (L-mu)/(L+mu) = (kappa-1)/(kappa+1) ({LRP})"),
    "tuned rate: closed form vs exact worst case, kappa={}":
        expect("pass", "the closed form and the numerical maximum over [mu, L] are two routes to one root"),
    "optimal rate, kappa={}":
        expect("pass", "a linear recurrence decays at its spectral radius: the fitted rate is the derived one"),
    "rate at lr={}*2/L, kappa={}":
        expect("pass", "the fitted rate is max_h |1 - lr h| on both sides of the edge (docs/reference.md 4.2)"),
    "stability edge lr, kappa={}":
        expect("pass", "runs below 2/L decay and above it grow, so the scan brackets the derived edge"),
}
HOOKS = {
    "edge": "the derived stability threshold lr_bound at h = L",
    "optimal_lr": "the derived optimal lr at which the tuned run is made",
    "optimal_rate": "the derived optimal rate (closed form)",
    "rate": "the derived spectral radius at each scanned lr",
}


def _fitted(loss, diverged_at):
    """Per-step factor of ||x - x*||, fitted on the finite part of the run (None if refused)."""
    fit = fit_rate(loss if diverged_at < 0 else loss[:diverged_at])
    return fit.iterate_rate


def run(quick=False, perturb=None):
    boolean(quick, "quick")
    theory = Theory(HOOKS, perturb)
    d = derive("gd")
    opt = d.optimal
    records, data = [], {"kappa": list(KAPPAS), "scan": SCAN.tolist(), "curves": {}}
    for kappa in KAPPAS:
        L, mu = 1.0, 1.0 / kappa
        h = np.geomspace(mu, L, DIM)
        at = {L_SYM: L, MU: mu, KAPPA: kappa}
        edge = theory("edge", float(d.lr_bound.subs(H, L)))
        lr_opt = theory("optimal_lr", float(opt.values["lr"].subs(at)))
        lrs = [lr_opt] + list(edge * (1 + SCAN))
        # long enough for the loss of the slowest converging run to fall ~1e-24 (rate 1 - 2/kappa at
        # lr_opt; 0.995 at lr = 0.9975 * 2/L): two modes with close rates (0.98025 vs 0.975 at
        # kappa = 100, lr = 0.9875 * 2/L) mix for hundreds of steps before one dominates
        steps = 4000 + 10 * kappa
        res = simulate_batch("gd", [{"lr": v} for v in lrs], x0=np.ones(DIM), hessian_diag=h, steps=steps)
        predicted = [theory("rate", float(np.max(spectral_radius("gd", h=h, lr=v)))) for v in lrs]
        observed = [_fitted(res.loss[i, 0], int(res.diverged_at[i, 0])) for i in range(len(lrs))]
        hyper = {"kappa": kappa, "L": L, "mu": mu}

        closed = theory("optimal_rate", float(opt.rate.subs(at)))
        # the literature's formulas, typed, as oracles of the derivation
        for quantity, derived, oracle in ((f"stability edge: derived vs 2/L, kappa={kappa}", edge, 2 / L),
                                          (f"optimal lr: derived vs 2/(L+mu), kappa={kappa}", lr_opt, 2 / (L + mu)),
                                          (f"optimal rate: derived vs (kappa-1)/(kappa+1), kappa={kappa}", closed,
                                           (kappa - 1) / (kappa + 1))):
            records.append(Record.judge("gd", "constant", hyper, quantity, oracle, derived, EXACT * oracle))
        records.append(Record.judge("gd", "constant", hyper,
                                    f"tuned rate: closed form vs exact worst case, kappa={kappa}",
                                    closed, worst_case_rate("gd", mu, L, lr=lr_opt), EXACT))
        records.append(Record.judge("gd", "constant", {**hyper, "lr": lr_opt}, f"optimal rate, kappa={kappa}",
                                    closed, observed[0], abs(1 - closed) / 100))
        for v, p, o in zip(lrs[1:], predicted[1:], observed[1:]):
            if o is not None:
                records.append(Record.judge("gd", "constant", {**hyper, "lr": v},
                                            f"rate at lr={v / edge:.3f}*2/L, kappa={kappa}", p, o, abs(1 - p) / 100))
        below = [v for v, o, div in zip(lrs[1:], observed[1:], res.diverged_at[1:, 0])
                 if div < 0 and o is not None and o < 1]
        above = [v for v, o, div in zip(lrs[1:], observed[1:], res.diverged_at[1:, 0])
                 if div >= 0 or (o is not None and o > 1)]
        seen = 0.5 * (max(below) + min(above)) if below and above else float("nan")
        records.append(Record.judge("gd", "constant", hyper, f"stability edge lr, kappa={kappa}", edge, seen,
                                    0.5 * edge * (SCAN[1] - SCAN[0])))
        fine = np.linspace(edge * (1 + SCAN[0]), edge * (1 + SCAN[-1]), 201)
        data["curves"][str(kappa)] = {
            "edge": edge, "lr_opt": lr_opt, "rate_closed_form": closed, "scan_lr": lrs[1:],
            "scan_predicted": predicted[1:], "scan_observed": observed[1:],
            "scan_diverged_at": res.diverged_at[1:, 0].tolist(), "fine_lr": fine.tolist(),
            "fine_predicted": [float(np.max(spectral_radius("gd", h=h, lr=v))) for v in fine],
            "opt_loss": res.loss[0, 0].tolist(), "opt_observed": observed[0], "steps": steps,
        }
    grid = np.geomspace(1, 1e4, 200)
    data["kappa_grid"] = grid.tolist()
    data["rate_grid"] = [float(opt.rate.subs(KAPPA, k)) for k in grid]
    parameters = {"kappas": list(KAPPAS), "dimension": DIM, "spectrum": "geomspace(1/kappa, 1, 6)", "L": 1.0,
                  "x0": "ones", "scan": SCAN.tolist(), "seeds": "none (deterministic)"}
    return StudyResult(records, data, parameters)


def plot(result):
    data = result.data
    fig, (ax1, ax2, ax3) = figure(1, 3, width=15, height=4.6)
    for kappa in data["kappa"]:
        c = data["curves"][str(kappa)]
        edge = c["edge"]
        line, = ax1.plot(np.array(c["fine_lr"]) / edge, c["fine_predicted"], lw=1.2,
                         label=f"predicted, kappa={kappa}")
        obs = [(v / edge, o) for v, o in zip(c["scan_lr"], c["scan_observed"]) if o is not None]
        ax1.plot(*zip(*obs), "o", color=line.get_color(), mfc="none", label=f"fitted, kappa={kappa}")
        loss = np.array(c["opt_loss"])
        k = np.arange(loss.size)
        ax2.semilogy(k / kappa, loss / loss[0], color=line.get_color(), lw=2.5, alpha=0.6,
                     label=f"kernel, kappa={kappa}")
        ax2.semilogy(k / kappa, c["rate_closed_form"] ** (2 * k), ":", color="k", lw=1)
    ax1.axhline(1, color="grey", lw=0.8)
    ax1.axvline(1, color="grey", lw=0.8, ls="--")
    ax1.set(xlabel="lr / (2/L)  (2/L from the derived Jury bound)", ylabel="per-step factor of ||x - x*||",
            title="(a) the edge lr = 2/L")
    ax1.legend(fontsize=7, ncol=2)
    ax2.set_ylim(1e-26, 10)
    ax2.set_xlim(0, 15)
    ax2.set(xlabel="step k / kappa", ylabel="loss / loss_0", title="(b) lr = 2/(L+mu); dotted: closed-form rate^(2k)")
    ax2.legend(fontsize=8)
    ax3.loglog(data["kappa_grid"], 1 - np.array(data["rate_grid"]), "k-", lw=1,
               label="closed form 1 - (kappa-1)/(kappa+1)")
    ax3.loglog(data["kappa"], [1 - data["curves"][str(k)]["opt_observed"] for k in data["kappa"]], "o",
               color="C3", label="fitted from kernel runs")
    ax3.set(xlabel="condition number kappa", ylabel="1 - rate at lr = 2/(L+mu)", title="(c) optimal rate")
    ax3.legend(fontsize=8)
    fig.suptitle(f"{TITLE}\n{verdict_line(result.records, EXPECTED)}", fontsize=10)
    return fig
