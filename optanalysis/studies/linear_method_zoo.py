"""The linear method zoo: gd, heavy ball, Nesterov, QHM, triple momentum and schedule-free SGD, each
at its derived optimal tuning: rate vs kappa and n-step worst case, judged against each paper.

Claim
    Tuned for a spectrum in [mu, L] (kappa = L/mu), the worst-case per-step factors of
    ||x - x*|| are: gd (kappa-1)/(kappa+1); heavy ball (Polyak) (sqrt(kappa)-1)/(sqrt(kappa)+1);
    Nesterov (Lessard-Recht-Packard) 1 - 2/sqrt(3 kappa + 1); the triple momentum method
    1 - 1/sqrt(kappa) (Van Scoy, Freeman, Lynch 2018); quasi-hyperbolic momentum and schedule-free
    SGD with a constant averaging weight reach exactly heavy ball's rate and no better.  On
    quadratics TMM, the fastest *guaranteed* method for all smooth strongly convex functions, is
    slower than both heavy ball and LRP-Nesterov.

Theory
    Every tuning is derived by SymPy from the rules' single definitions (``derive(rule).tunings``):
    root conditions at h = mu and h = L (gd, heavy ball, Nesterov: the families' conditions; QHM
    and schedule-free SGD: Polyak's double roots at nu = 1, resp. b1 = 1, which the rules declare;
    TMM: roots {r, r^2} at mu and {-r, 0} at L).  Oracles, typed here from the papers: Polyak's
    rate; Lessard et al. (2016) Prop. 1; Van Scoy et al. (2018) "rate rho = 1 - 1/sqrt(kappa)".
    QHM's and schedule-free SGD's optimum is Polyak's because (i) both contain heavy ball (QHM at
    nu = 1, Ma & Yarats 2019; schedule-free SGD is QHM with nu = b1, momentum = 1 - c, proven by
    the engine) and (ii) no method whose iterates lie in x0 + span of past gradients beats
    (sqrt(kappa)-1)/(sqrt(kappa)+1) on quadratics asymptotically (Nesterov 2004, Thm 2.1.13).
    The orderings follow from the typed rates: 1 - 1/sqrt(k) > (sqrt(k)-1)/(sqrt(k)+1) and
    1 - 1/sqrt(k) > 1 - 2/sqrt(3k+1) (4k > 3k + 1) for every k > 1.

Method
    kappa in {10, 100} (quick) or {10, 100, 1000, 1e4}: the derived tuning's closed-form rate
    against the typed oracle, and against the exact worst case over [mu, L]
    (``optanalysis.symbolic.worst_case_rate``).  n-step worst case max_h ||x_n - x*||^2/||x_0 - x*||^2
    (``optanalysis.worst_case``) at kappa = 100 for n = 1..256, and at n = 64 re-run in the kernel at
    the worst h it reports.  Which method has the smallest n-step worst case for small n is not
    decided by the asymptotic rates (Polyak's heavy ball overshoots for n <= 16 at kappa = 100):
    exploratory.

    Tolerances.  Derived vs typed: 1e-12 relative (exact expressions evaluated in float64).  Closed
    form vs exact worst case: 2 sqrt(eps (1 + lr L)) where the tuning puts a double root (a
    perturbation d of a coefficient moves a double root by ~sqrt(d); the coefficients are sums of
    terms up to lr h in size, rounded to eps times that: schedule-free SGD's lr = alpha/c is ~100/L
    at kappa = 1e4, where it measured 9.5e-8), 1e-10 for gd and TMM (simple roots, whose
    numerical error is ~eps/gap with the gap rho - rho^2 >= 1e-2 here).  n-step worst case vs
    kernel: 8 n^2 eps relative (rounding errors on a critically damped mode grow like k per step,
    as in study acceleration_vs_kappa).

References
    B. T. Polyak (1964); Y. Nesterov (2004), Introductory Lectures on Convex Optimization,
    Thm 2.1.13; L. Lessard, B. Recht, A. Packard (2016), SIAM J. Optim. 26(1); J. Ma, D. Yarats
    (2019), ICLR; B. Van Scoy, R. Freeman, K. Lynch (2018), IEEE Control Syst. Lett. 2(1);
    A. Defazio et al. (2024), The Road Less Scheduled, NeurIPS.
"""
import math

import numpy as np

from optanalysis.checks import boolean
from optanalysis.comparison import Record
from optanalysis.plotting import figure
from optanalysis.simulation import simulate
from optanalysis.studies import StudyResult, Theory, expect, exploratory, verdict_line
from optanalysis.studies._lesson import claim
from optanalysis.symbolic import derive, worst_case_rate
from optanalysis.symbolic.analysis import KAPPA, L as L_SYM, MU
from optanalysis.theory.worst_case import worst_case

TITLE = "Linear method zoo: gd, heavy ball, Nesterov, QHM, triple momentum, schedule-free SGD at their derived optimal tunings"


def _polyak(k):
    return (math.sqrt(k) - 1) / (math.sqrt(k) + 1)


# (label, rule, fixed for derive, tuning name, typed oracle of the rate, its text, double root)
METHODS = (
    ("gd", "gd", {}, "optimal", lambda k: (k - 1) / (k + 1), "(kappa-1)/(kappa+1)", False),
    ("heavy ball", "heavy_ball", {}, "Polyak", _polyak, "(sqrt(kappa)-1)/(sqrt(kappa)+1)", True),
    ("Nesterov", "nesterov", {}, "Lessard-Recht-Packard", lambda k: 1 - 2 / math.sqrt(3 * k + 1),
     "1-2/sqrt(3kappa+1)", True),
    ("QHM", "qhm", {}, "Polyak (nu = 1)", _polyak, "(sqrt(kappa)-1)/(sqrt(kappa)+1)", True),
    ("triple momentum", "triple_momentum", {}, "Van Scoy-Freeman-Lynch", lambda k: 1 - 1 / math.sqrt(k),
     "1-1/sqrt(kappa)", False),
    ("schedule-free SGD", "schedule_free_sgd", {"weight_decay": 0}, "primal averaging (b1 = 1), Polyak",
     _polyak, "(sqrt(kappa)-1)/(sqrt(kappa)+1)", True),
)
EXACT = 1e-12
SIMPLE_ROOTS = 1e-10
EPS = float(np.finfo(float).eps)
WC_KAPPA, WC_STEPS, WC_CHECKED = 100, (1, 2, 4, 8, 16, 32, 64, 128, 256), 64

PAPERS = {"gd": "Lessard et al. (2016) Prop. 1", "heavy ball": "Polyak (1964)",
          "Nesterov": "Lessard et al. (2016) Prop. 1",
          "QHM": "nu = 1 is heavy ball (Ma & Yarats 2019) + the Krylov lower bound (Nesterov 2004 Thm 2.1.13)",
          "triple momentum": "Van Scoy, Freeman, Lynch (2018): rate rho = 1 - 1/sqrt(kappa)",
          "schedule-free SGD": "QHM with nu = b1, momentum = 1 - c (engine) + the Krylov lower bound"}
EXPECTED = {
    **{f"{label}: rate, derived vs {text}, kappa={{}}": expect("pass", f"the paper's rate ({PAPERS[label]})")
       for label, _, _, _, _, text, _ in METHODS},
    "{}: closed form vs exact worst case, kappa={}":
        expect("pass", "the closed form and the numerical maximum over [mu, L] are two routes to one root"),
    "{}: 64-step worst case vs kernel at its worst h":
        expect("pass", "the exact n-step worst case is r_n(h)^2, the kernel's product of the same maps"),
    "QHM and schedule-free SGD reach heavy ball's optimal rate, no better, for every kappa in (1, 1e4]":
        expect("supported", "both contain heavy ball, and no Krylov method beats Polyak's rate on quadratics "
                            "(Nesterov 2004 Thm 2.1.13)"),
    "triple momentum is slower than heavy ball and LRP-Nesterov on quadratics for every kappa in (1, 1e4]":
        expect("supported", "1-1/sqrt(k) > (sqrt(k)-1)/(sqrt(k)+1) and 4k > 3k+1 for every k > 1"),
    "heavy ball, the asymptotically fastest, also has the smallest 8-step worst case at kappa=100":
        exploratory("asymptotic rates do not order the short-horizon worst cases (heavy ball overshoots early)"),
}
HOOKS = {
    "rate": "the derived tuned worst-case rates of the six methods (METHODS order), at one kappa or over a grid",
    "worst_case": "the derived exact n-step worst case max_h ||x_n - x*||^2/||x_0 - x*||^2",
}


def _tuning(rule, fixed, name):
    return next(t for t in derive(rule, **fixed).tunings if t.name == name)


def _params(tuning, fixed, kappa):
    at = {L_SYM: 1.0, MU: 1.0 / kappa, KAPPA: kappa}
    return {**{k: float(v) for k, v in fixed.items()}, **{k: float(v.subs(at)) for k, v in tuning.values.items()}}


def run(quick=False, perturb=None):
    boolean(quick, "quick")
    theory = Theory(HOOKS, perturb)
    kappas = (10, 100) if quick else (10, 100, 1000, 10**4)
    grid = np.geomspace(1.01, 1e4, 60)
    tunings = [_tuning(rule, fixed, name) for _, rule, fixed, name, _, _, _ in METHODS]
    data = {"kappa_grid": grid.tolist(), "methods": {}}
    records = []
    for kappa in kappas:
        rates = theory("rate", np.array([float(t.rate.subs(KAPPA, kappa)) for t in tunings]))
        for (label, rule, fixed, _, oracle, text, double), t, rate in zip(METHODS, tunings, rates):
            prm = _params(t, fixed, kappa)
            hyper = {"kappa": kappa, **prm}
            want = oracle(kappa)
            records.append(Record.judge(rule, "constant", hyper, f"{label}: rate, derived vs {text}, kappa={kappa}",
                                        want, float(rate), EXACT * want))
            records.append(Record.judge(rule, "constant", hyper, f"{label}: closed form vs exact worst case, "
                                        f"kappa={kappa}", float(rate), worst_case_rate(rule, 1.0 / kappa, 1.0, **prm),
                                        2 * math.sqrt(EPS * (1 + prm["lr"])) if double else SIMPLE_ROOTS))
    closed = np.asarray(theory("rate", np.array([[float(t.rate.subs(KAPPA, k)) for k in grid] for t in tunings])))
    short = {}
    for (label, rule, fixed, name, _, _, _), t, c in zip(METHODS, tunings, closed):
        prm = _params(t, fixed, WC_KAPPA)
        curve = []
        for n in WC_STEPS:
            wc = worst_case(rule, prm, mu=1.0 / WC_KAPPA, L=1.0, steps=n)
            curve.append(wc.log10_ratio)
            if n == 8:
                short[label] = wc.log10_ratio
            if n == WC_CHECKED:
                ratio = float(theory("worst_case", wc.ratio))
                sim = simulate(rule, prm, x0=[1.0], hessian_diag=[wc.h], steps=n)
                records.append(Record.judge(rule, "constant", {"kappa": WC_KAPPA, "n": n, **prm},
                                            f"{label}: {n}-step worst case vs kernel at its worst h",
                                            ratio, float(sim.x[0] ** 2), 8 * n * n * EPS * ratio))
        data["methods"][label] = {"rule": rule, "tuning": name, "rate_closed_form": str(t.rate),
                                  "values": {k: str(v) for k, v in t.values.items()}, "closed": c.tolist(),
                                  "worst_case_log10": curve,
                                  "rate_at_wc_kappa": float(t.rate.subs(KAPPA, WC_KAPPA))}
    labels = [m[0] for m in METHODS]
    hb, lrp, qhm, tmm, sf = (closed[labels.index(n)] for n in
                             ("heavy ball", "Nesterov", "QHM", "triple momentum", "schedule-free SGD"))
    gap = float(max(np.max(np.abs(qhm - hb) / hb), np.max(np.abs(sf - hb) / hb)))
    records.append(claim("qhm,schedule_free_sgd", "constant", {"kappa": [float(grid[0]), float(grid[-1])]},
                         "QHM and schedule-free SGD reach heavy ball's optimal rate, no better, for every kappa "
                         "in (1, 1e4]", 0.0, gap, "supported" if gap <= EXACT else "refuted"))
    margin = float(np.min(np.minimum(tmm - hb, tmm - lrp)))
    records.append(claim("triple_momentum", "constant", {"kappa": [float(grid[0]), float(grid[-1])]},
                         "triple momentum is slower than heavy ball and LRP-Nesterov on quadratics for every "
                         "kappa in (1, 1e4]", 0.0, margin, "supported" if margin > 0 else "refuted"))
    best = min(short, key=short.get)
    lead = short["heavy ball"] - min(v for k, v in short.items() if k != "heavy ball")  # log10, < 0: hb best
    records.append(claim("all", "constant", {"kappa": WC_KAPPA, "n": 8, "best": best},
                         "heavy ball, the asymptotically fastest, also has the smallest 8-step worst case at "
                         "kappa=100", 0.0, lead, "supported" if lead < 0 else "refuted"))
    data["best_8_step"] = best
    data["worst_case_steps"] = list(WC_STEPS)
    data["worst_case_kappa"] = WC_KAPPA
    parameters = {"L": 1.0, "kappas": list(kappas), "worst_case_kappa": WC_KAPPA,
                  "worst_case_steps": list(WC_STEPS), "seeds": "none (deterministic)"}
    return StudyResult(records, data, parameters)


def plot(result):
    data = result.data
    fig, (ax1, ax2) = figure(1, 2, width=13, height=5)
    grid = np.array(data["kappa_grid"])
    styles = ("-", "--", "-", ":", "-", "-.")
    for i, (label, m) in enumerate(data["methods"].items()):
        ax1.loglog(grid, 1 - np.array(m["closed"]), styles[i], color=f"C{i}", lw=1.4, label=label)
        n = np.array(data["worst_case_steps"])
        ax2.semilogx(n, 10 ** (np.array(m["worst_case_log10"]) / (2 * n)), "o" + styles[i], color=f"C{i}", ms=4,
                     label=label)
        ax2.axhline(m["rate_at_wc_kappa"], color=f"C{i}", ls=":", lw=0.8)
    ax1.set(xlabel="condition number kappa = L/mu", ylabel="1 - rate (per step, ||x - x*||)",
            title="(a) derived optimal worst-case rates (QHM, schedule-free on heavy ball)")
    ax1.legend(fontsize=7.5)
    ax2.set(xlabel="steps n", ylabel="(n-step worst case of ||x_n - x*||^2/||x_0 - x*||^2)^(1/2n)",
            title=f"(b) exact n-step worst case, kappa = {data['worst_case_kappa']}; dotted: rate")
    ax2.legend(fontsize=7.5)
    fig.suptitle(f"{TITLE}\n{verdict_line(result.records, EXPECTED)}", fontsize=9)
    return fig
