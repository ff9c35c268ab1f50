"""Acceleration on quadratics: tuned gd, heavy ball and Nesterov rates for kappa from 10 to 1e6.

Claim
    Tuned for a spectrum in [mu, L], kappa = L/mu, the worst-case per-step factors of ||x - x*|| are
    gd (kappa-1)/(kappa+1) ~ 1 - 2/kappa, heavy ball with Polyak's tuning
    (sqrt(kappa)-1)/(sqrt(kappa)+1) ~ 1 - 2/sqrt(kappa), Nesterov with Lessard-Recht-Packard's
    tuning 1 - 2/sqrt(3 kappa + 1) and with the standard tuning (lr = 1/L) 1 - 1/sqrt(kappa):
    momentum turns the kappa of gd into sqrt(kappa), and heavy ball < LRP-Nesterov <
    standard Nesterov < gd at every kappa > 1.  The rates are asymptotic: at kappa = 100 the
    exact n-step worst case of Polyak's heavy ball (lr L = 3.3) exceeds the initial distance for
    n = 1, 2, 4, 8 and 16 steps (below it at n = 32), while gd and both Nesterov tunings
    contract from the first step (shown in the figure).

Theory
    Tunings and rates come from ``optanalysis.symbolic`` (``derive(rule).tunings``: SymPy solves
    root-structure conditions — equalised extremal modes for gd, double roots at mu and L for
    heavy ball, a double root at mu for Nesterov — derived from the rules' single definitions);
    each closed form is checked against the exact worst case over [mu, L]
    (``optanalysis.symbolic.worst_case_rate``).  The n-step worst cases
    max_{h in [mu, L]} ||x_n - x*||^2/||x_0 - x*||^2 are ``optanalysis.worst_case``.

    Oracles: the literature's formulas of docs/reference.md section 4.5, typed here and not
    derived, are what the derived tunings and rates must equal: gd lr 2/(L + mu), rate
    (kappa-1)/(kappa+1) (Lessard, Recht, Packard 2016, Prop. 1; Goh 2017); heavy ball lr
    4/(sqrt(L) + sqrt(mu))^2, momentum ((sqrt(kappa)-1)/(sqrt(kappa)+1))^2, rate
    (sqrt(kappa)-1)/(sqrt(kappa)+1) (Polyak 1964); Nesterov LRP lr 4/(3L + mu), momentum
    (sqrt(3 kappa+1)-2)/(sqrt(3 kappa+1)+2), rate 1 - 2/sqrt(3 kappa + 1) (Lessard et al. 2016,
    Prop. 1); Nesterov standard lr 1/L, momentum (sqrt(kappa)-1)/(sqrt(kappa)+1), rate
    1 - 1/sqrt(kappa) (Nesterov's constant-momentum scheme; d'Aspremont, Scieur, Taylor 2021,
    Cor. 4.15).  The six-digit values docs/reference.md 4.5 tabulates (LRP 0.640789 / 0.884722 /
    0.963491 at kappa = 10 / 100 / 1000; standard 0.683772 / 0.9 at kappa = 10 / 100) are a
    second, independently typed oracle.  A rule whose arithmetic differs derives other tunings
    and fails here, though its simulation still agrees with its own derivation.

    The ordering claim is decided by theory: on the derived closed forms over 120 kappas
    log-spaced in [1.01, 1e6] (supported iff every consecutive gap is > 0).  From the typed
    formulas it holds at every kappa > 1: sqrt(3 kappa + 1) > sqrt(kappa) + 1 iff kappa > 1
    (heavy ball < LRP), 2/sqrt(3 kappa + 1) > 1/sqrt(kappa) iff kappa > 1 (LRP < standard),
    1/sqrt(kappa) > 2/(kappa + 1) iff (sqrt(kappa) - 1)^2 > 0 (standard < gd).

Method
    H = diag(mu, L), L = 1, x0 = (1, 1): the tuned worst cases are attained at the extremal
    eigenvalues.  kappa in {10, 100, 1000} (quick) or {10, ..., 1e6} (full).  Each tuned rule runs
    ~30/(1 - rate) steps (until the floating-point floor) in the kernels, at the derived tuning
    (hooks ``optimal_lr``, ``optimal_momentum``); ``fit_rate`` over the second half of the steps
    above the floor gives the observed rate.  The n-step worst case (kappa = 100, n = 8 and 512)
    at the worst curvature it reports is re-run in the kernel (one direction, x0 = 1).

    Tolerances.  Derived vs typed formula: 1e-12 relative (the derived expressions are exact;
    only their evaluation in floating point rounds).  Derived vs the tabulated six digits: half a
    unit of the last printed digit, 5e-7.  Fitted rate: for heavy ball and Nesterov the tuned
    extremal modes are double roots (critically damped): the iterate carries a factor a + b k, so
    a least-squares fit of log(loss) over steps [k0, k1] is biased by the slope of log(a + b k)
    there, at most 1/k0 in the log of the iterate rate; the tolerance is rate/k0 + ``|1 - rate|``/100
    (gd: ``|1 - rate|``/100, the 1 % of the step count of study ``gd_stability_and_rate``).  Closed
    form vs exact worst case: floating-point exactness (1e-12), except where a double root makes
    it worse: the exact worst case evaluates numerical roots, which near a double root are only
    accurate to ~sqrt(eps) (tolerance 2 sqrt(eps) = 3e-8; measured 7e-9 and 1.5e-8 for
    LRP-Nesterov at kappa = 10, 1000).  n-step worst case vs kernel: the kernel's rounding errors
    on a critically damped mode grow like k per step, so the n-step ratio agrees to ~n^2 eps
    (measured 0.4-1.5 n^2 eps; tolerance 8 n^2 eps).

References
    B. T. Polyak (1964); Y. Nesterov (1983); L. Lessard, B. Recht, A. Packard (2016), SIAM J.
    Optim. 26(1), Prop. 1; G. Goh (2017), Distill; A. d'Aspremont, D. Scieur, A. Taylor (2021),
    Acceleration Methods, Cor. 4.15; docs/reference.md sections 4.4-4.5, 4.7.
"""
import math

import numpy as np

from optanalysis.checks import boolean
from optanalysis.comparison import Record
from optanalysis.plotting import figure
from optanalysis.rates import fit_rate
from optanalysis.simulation import simulate, simulate_batch
from optanalysis.studies import StudyResult, Theory, expect, verdict_line
from optanalysis.studies._lesson import claim
from optanalysis.symbolic import derive, worst_case_rate
from optanalysis.symbolic.analysis import KAPPA, L as L_SYM, MU
from optanalysis.theory.worst_case import worst_case

TITLE = "Momentum turns kappa into sqrt(kappa): tuned gd, heavy-ball and Nesterov rates, theory vs kernels"

# (label, rule, tuning name); the hooks' arrays follow this order
METHODS = (("gd", "gd", "optimal"),
           ("heavy ball (Polyak)", "heavy_ball", "Polyak"),
           ("Nesterov (Lessard-Recht-Packard)", "nesterov", "Lessard-Recht-Packard"),
           ("Nesterov (standard)", "nesterov", "standard (lr = 1/L)"))
ORDER = (1, 2, 3, 0)  # the claimed ordering of the rates: heavy ball < LRP < standard < gd


def _sq(kappa):
    return math.sqrt(kappa)


# The literature's formulas (docs/reference.md 4.5), typed: {label: {name: (text, f(mu, L))}}
LITERATURE = {
    "gd": {"lr": ("2/(L+mu)", lambda mu, L: 2 / (L + mu)),
           "rate": ("(kappa-1)/(kappa+1)", lambda mu, L: (L / mu - 1) / (L / mu + 1))},
    "heavy ball (Polyak)": {
        "lr": ("4/(sqrt(L)+sqrt(mu))^2", lambda mu, L: 4 / (math.sqrt(L) + math.sqrt(mu)) ** 2),
        "momentum": ("((sqrt(kappa)-1)/(sqrt(kappa)+1))^2", lambda mu, L: ((_sq(L / mu) - 1) / (_sq(L / mu) + 1)) ** 2),
        "rate": ("(sqrt(kappa)-1)/(sqrt(kappa)+1)", lambda mu, L: (_sq(L / mu) - 1) / (_sq(L / mu) + 1))},
    "Nesterov (Lessard-Recht-Packard)": {
        "lr": ("4/(3L+mu)", lambda mu, L: 4 / (3 * L + mu)),
        "momentum": ("(sqrt(3kappa+1)-2)/(sqrt(3kappa+1)+2)",
                     lambda mu, L: (_sq(3 * L / mu + 1) - 2) / (_sq(3 * L / mu + 1) + 2)),
        "rate": ("1-2/sqrt(3kappa+1)", lambda mu, L: 1 - 2 / _sq(3 * L / mu + 1))},
    "Nesterov (standard)": {
        "lr": ("1/L", lambda mu, L: 1 / L),
        "momentum": ("(sqrt(kappa)-1)/(sqrt(kappa)+1)", lambda mu, L: (_sq(L / mu) - 1) / (_sq(L / mu) + 1)),
        "rate": ("1-1/sqrt(kappa)", lambda mu, L: 1 - 1 / _sq(L / mu))},
}
# docs/reference.md 4.5 tabulates these rates to six digits (LRP: Lessard et al. 2016, Prop. 1)
TABULATED = {("Nesterov (Lessard-Recht-Packard)", 10): 0.640789, ("Nesterov (Lessard-Recht-Packard)", 100): 0.884722,
             ("Nesterov (Lessard-Recht-Packard)", 1000): 0.963491, ("Nesterov (standard)", 10): 0.683772,
             ("Nesterov (standard)", 100): 0.9}
EXACT = 1e-12  # derived expression vs typed formula: floating-point agreement
TABLE = 5e-7  # half a unit of the tabulated sixth digit
EPS = float(np.finfo(float).eps)
# numerical roots of a polynomial with a double root are only sqrt(eps)-accurate (a perturbation
# eps of a coefficient moves a double root by ~sqrt(eps)); the tuned Nesterov has one at h = mu
DOUBLE_ROOT = 2 * math.sqrt(EPS)
WC_KAPPA, WC_STEPS = 100, (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
WC_CHECKED = (8, 512)  # the n-step worst cases re-run in the kernel

LRP = "Lessard, Recht, Packard (2016) Prop. 1; docs/reference.md 4.5"
POLYAK = "Polyak (1964); docs/reference.md 4.5"
STANDARD = "Nesterov's constant-momentum scheme; d'Aspremont et al. (2021) Cor. 4.15; docs/reference.md 4.5"
EXPECTED = {
    "gd: tuned lr, derived vs 2/(L+mu), kappa={}":
        expect("pass", f"equalising |1 - lr mu| = |1 - lr L| gives lr = 2/(L+mu) ({LRP}, gd row)"),
    "gd: rate, derived vs (kappa-1)/(kappa+1), kappa={}":
        expect("pass", f"the equalised extremal modes decay at (L-mu)/(L+mu) ({LRP}, gd row)"),
    "heavy ball (Polyak): tuned lr, derived vs 4/(sqrt(L)+sqrt(mu))^2, kappa={}":
        expect("pass", f"double roots at h = mu and h = L fix lr = 4/(sqrt(L)+sqrt(mu))^2 ({POLYAK})"),
    "heavy ball (Polyak): tuned momentum, derived vs ((sqrt(kappa)-1)/(sqrt(kappa)+1))^2, kappa={}":
        expect("pass", f"the same double roots fix momentum = rate^2 ({POLYAK})"),
    "heavy ball (Polyak): rate, derived vs (sqrt(kappa)-1)/(sqrt(kappa)+1), kappa={}":
        expect("pass", f"a double root of z^2 - (1+b-lr h) z + b has modulus sqrt(b) ({POLYAK})"),
    "Nesterov (Lessard-Recht-Packard): tuned lr, derived vs 4/(3L+mu), kappa={}":
        expect("pass", f"double root at mu, the mode at L equal to -r: lr = 4/(3L+mu) ({LRP})"),
    "Nesterov (Lessard-Recht-Packard): tuned momentum, derived vs (sqrt(3kappa+1)-2)/(sqrt(3kappa+1)+2), kappa={}":
        expect("pass", f"the same two conditions fix the momentum ({LRP})"),
    "Nesterov (Lessard-Recht-Packard): rate, derived vs 1-2/sqrt(3kappa+1), kappa={}":
        expect("pass", f"the double root at mu is 1 - 2/sqrt(3 kappa+1) ({LRP})"),
    "Nesterov (standard): tuned lr, derived vs 1/L, kappa={}":
        expect("pass", f"the standard tuning sets lr = 1/L, annihilating the mode at L ({STANDARD})"),
    "Nesterov (standard): tuned momentum, derived vs (sqrt(kappa)-1)/(sqrt(kappa)+1), kappa={}":
        expect("pass", f"a double root at h = mu with lr = 1/L fixes the momentum ({STANDARD})"),
    "Nesterov (standard): rate, derived vs 1-1/sqrt(kappa), kappa={}":
        expect("pass", f"the double root at mu is 1 - sqrt(mu/L) ({STANDARD})"),
    "{}: rate, derived vs the tabulated value, kappa={}":
        expect("pass", "docs/reference.md 4.5 tabulates the rates to six digits (LRP: Lessard et al. 2016 Prop. 1)"),
    "{}: closed form vs exact worst case, kappa={}":
        expect("pass", "the closed form and the numerical maximum over [mu, L] are two routes to one root"),
    "{}: fitted rate, kappa={}":
        expect("pass", "a linear recurrence decays at its spectral radius: the fitted rate is the derived one"),
    "{}: {}-step worst case vs kernel at its worst h":
        expect("pass", "the exact n-step worst case is r_n(h)^2, the kernel's product of the same maps "
                       "(docs/reference.md 4.7)"),
    "heavy ball < LRP-Nesterov < standard Nesterov < gd for every kappa in (1, 1e6]":
        expect("supported", "from the typed rates: sqrt(3k+1) > sqrt(k)+1, 4k > 3k+1 and k+1 > 2 sqrt(k) for "
                            "every k > 1 (docs/reference.md 4.5)"),
}
HOOKS = {
    "rate": "the derived tuned worst-case rates of the four methods (first axis: METHODS), at one kappa "
            "or over the kappa grid of the ordering claim",
    "optimal_lr": "the derived tuned lr of the four methods (METHODS order), at which their runs are made",
    "optimal_momentum": "the derived tuned momentum of the three momentum methods (METHODS[1:] order)",
    "worst_case": "the derived exact n-step worst case max_h ||x_n - x*||^2/||x_0 - x*||^2",
}


def _tuning(rule, name):
    return next(t for t in derive(rule).tunings if t.name == name)


def _params(tuning, kappa):
    at = {L_SYM: 1.0, MU: 1.0 / kappa, KAPPA: kappa}
    return {k: float(v.subs(at)) for k, v in tuning.values.items()}


def _fit(rule, prm, kappa, rate):
    """Fitted per-step factor of ||x - x*|| (NaN if refused) and its window, over the second half
    of the steps above the floor (k0 >= end/2 bounds the double roots' bias, see the docstring)."""
    steps = math.ceil(30 / (1 - rate))  # loss falls ~e^-60 < 1e-24: the fit runs to the floor
    every = max(1, steps // 20000)
    res = simulate_batch(rule, [prm], x0=np.ones(2), hessian_diag=[1.0 / kappa, 1.0], steps=steps,
                         record_every=every)
    loss = res.loss[0, 0]
    if res.diverged_at[0, 0] >= 0:  # a diverged run is fitted on its finite part
        loss = loss[:max(int(res.diverged_at[0, 0]) // every, 1)]
    first = fit_rate(loss, record_every=every)
    if not first.ok:
        return float("nan"), None, 0
    end = first.window[1]
    k0 = (end // 2) // every * every
    fit = fit_rate(loss, record_every=every, window=(k0, end)) if k0 < end else first
    return (fit.iterate_rate if fit.ok else float("nan")), fit.window, max(k0, 1)


def run(quick=False, perturb=None):
    boolean(quick, "quick")
    theory = Theory(HOOKS, perturb)
    kappas = (10, 100, 1000) if quick else (10, 100, 1000, 10**4, 10**5, 10**6)
    grid = np.geomspace(1.01, 1e6, 120)
    tunings = [_tuning(rule, name) for _, rule, name in METHODS]
    doubles = [any("double root" in c for c in t.conditions) for t in tunings]
    data = {"kappa_grid": grid.tolist(), "observed_kappas": list(kappas), "methods": {}}
    for (label, rule, name), t in zip(METHODS, tunings):
        data["methods"][label] = {"rule": rule, "tuning": name, "rate_closed_form": str(t.rate),
                                  "values": {k: str(v) for k, v in t.values.items()}, "observed": [],
                                  "fit_windows": [], "rate_at_wc_kappa": float(t.rate.subs(KAPPA, WC_KAPPA))}
    records = []
    for kappa in kappas:
        mu, L = 1.0 / kappa, 1.0
        derived = [_params(t, kappa) for t in tunings]
        lrs = theory("optimal_lr", np.array([p["lr"] for p in derived]))
        momenta = theory("optimal_momentum", np.array([p["momentum"] for p in derived[1:]]))
        rates = theory("rate", np.array([float(t.rate.subs(KAPPA, kappa)) for t in tunings]))
        for i, ((label, rule, name), double) in enumerate(zip(METHODS, doubles)):
            prm = {"lr": float(lrs[i])} if i == 0 else {"lr": float(lrs[i]), "momentum": float(momenta[i - 1])}
            rate = float(rates[i])
            hyper = {"kappa": kappa, **prm}
            typed = LITERATURE[label]
            # the literature's formulas, typed, as oracles of the derivation
            for key, value in (("lr", prm["lr"]), ("momentum", prm.get("momentum")), ("rate", rate)):
                if key in typed:
                    text, formula = typed[key]
                    oracle = formula(mu, L)
                    what = "rate" if key == "rate" else f"tuned {key}"
                    records.append(Record.judge(rule, "constant", hyper,
                                                f"{label}: {what}, derived vs {text}, kappa={kappa}",
                                                oracle, value, EXACT * abs(oracle)))
            if (label, kappa) in TABULATED:
                records.append(Record.judge(rule, "constant", hyper,
                                            f"{label}: rate, derived vs the tabulated value, kappa={kappa}",
                                            TABULATED[(label, kappa)], rate, TABLE))
            records.append(Record.judge(rule, "constant", hyper,
                                        f"{label}: closed form vs exact worst case, kappa={kappa}",
                                        rate, worst_case_rate(rule, mu, L, **prm), DOUBLE_ROOT if double else EXACT))
            observed, window, k0 = _fit(rule, prm, kappa, rate)
            bias = rate / k0 if double else 0.0
            records.append(Record.judge(rule, "constant", hyper, f"{label}: fitted rate, kappa={kappa}", rate,
                                        observed, bias + abs(1 - rate) / 100))
            data["methods"][label]["observed"].append(observed)
            data["methods"][label]["fit_windows"].append(window)
    for (label, rule, name), t in zip(METHODS, tunings):
        # made at the derived tuning: the worst case itself is the theoretical value checked here
        prm = _params(t, WC_KAPPA)
        curve = []
        for n in WC_STEPS:
            wc = worst_case(rule, prm, mu=1.0 / WC_KAPPA, L=1.0, steps=n)
            curve.append(wc.log10_ratio)
            if n in WC_CHECKED:
                ratio = float(theory("worst_case", wc.ratio))
                sim = simulate(rule, prm, x0=[1.0], hessian_diag=[wc.h], steps=n)
                records.append(Record.judge(rule, "constant", {"kappa": WC_KAPPA, "n": n, **prm},
                                            f"{label}: {n}-step worst case vs kernel at its worst h",
                                            ratio, float(sim.x[0] ** 2), 8 * n * n * EPS * ratio))
        data["methods"][label]["worst_case_log10"] = curve
    data["worst_case_steps"] = list(WC_STEPS)
    data["worst_case_kappa"] = WC_KAPPA
    # the ordering claim, decided by theory: the derived closed forms over the whole kappa grid
    closed = theory("rate", np.array([[float(t.rate.subs(KAPPA, k)) for k in grid] for t in tunings]))
    for (label, _, _), c in zip(METHODS, closed):
        data["methods"][label]["closed"] = np.asarray(c).tolist()
    gap = float(np.min(np.diff(np.asarray(closed)[list(ORDER)], axis=0)))
    records.append(claim("all", "constant", {"kappa": [float(grid[0]), float(grid[-1])]},
                         "heavy ball < LRP-Nesterov < standard Nesterov < gd for every kappa in (1, 1e6]",
                         0.0, gap, "supported" if gap > 0 else "refuted"))
    parameters = {"L": 1.0, "spectrum": "{1/kappa, 1}", "x0": "ones", "observed_kappas": list(kappas),
                  "worst_case_kappa": WC_KAPPA, "worst_case_steps": list(WC_STEPS), "seeds": "none (deterministic)"}
    return StudyResult(records, data, parameters)


def plot(result):
    data = result.data
    fig, (ax1, ax2) = figure(1, 2, width=13, height=5)
    grid = np.array(data["kappa_grid"])
    for i, (label, m) in enumerate(data["methods"].items()):
        ax1.loglog(grid, 1 - np.array(m["closed"]), color=f"C{i}", lw=1.3, label=f"{label}: closed form")
        obs = [(k, 1 - o) for k, o in zip(data["observed_kappas"], m["observed"]) if np.isfinite(o) and o < 1]
        if obs:
            ax1.loglog(*zip(*obs), "o", color=f"C{i}", mfc="none", ms=7)
        n = np.array(data["worst_case_steps"])
        ax2.semilogx(n, 10 ** (np.array(m["worst_case_log10"]) / (2 * n)), "o-", color=f"C{i}", ms=4, label=label)
        ax2.axhline(m["rate_at_wc_kappa"], color=f"C{i}", ls=":", lw=1)
    ax1.plot([], [], "ko", mfc="none", label="fitted from kernel runs")
    ax1.set(xlabel="condition number kappa = L/mu", ylabel="1 - rate (per step, ||x - x*||)",
            title="(a) tuned worst-case rates: 1 - rate ~ 1/kappa vs 1/sqrt(kappa)")
    ax1.legend(fontsize=7.5)
    ax2.set(xlabel="steps n", ylabel="(n-step worst case of ||x_n - x*||^2/||x_0 - x*||^2)^(1/2n)",
            title=f"(b) exact n-step worst case over [mu, L], kappa = {data['worst_case_kappa']}; dotted: rate")
    ax2.legend(fontsize=7.5)
    fig.suptitle(f"{TITLE}\n{verdict_line(result.records, EXPECTED)}", fontsize=10)
    return fig
