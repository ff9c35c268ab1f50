"""Adaptive rules without eps do not converge: RMSProp locks onto x = +-lr/2, Adam keeps an O(lr) band.

Claim
    With eps = 0 and a constant lr, RMSProp on f(x) = 1/2 h x^2 ends on the period-2 orbit
    x = +-lr/2, whatever h and alpha, and approaches it at the two-step rate alpha.  Adam
    (beta1 = 0.9, beta2 = 0.999) also has a period-2 orbit, x = +-lr (1 - beta1)/(2 (1 + beta1)),
    but it repels; its iterates stay in a band whose trajectory, measured in units of lr, is exactly
    the same for every h and, at fixed x0/lr, for every lr: a band of width O(lr).

Theory
    Derived: with eps = 0 both maps are homogeneous.  The orbit is solved from the rule's own
    symbolic update as a fixed point of "one step = sign flip" and its stability from the two-step
    Jacobian (:func:`optanalysis.symbolic.cycles.period2_orbit`).  Homogeneity: h -> c h
    (m -> c m, v -> c^2 v) leaves the iterates unchanged, and (x0, lr) -> (c x0, c lr) scales them
    by c (degree 1), so x_k/lr depends only on x0/lr, the betas and k -- bit for bit when c is a
    power of 2.

    Oracles, typed here (docs/reference.md 6.3, derived by hand there; no primary source states
    them): on RMSProp's orbit v = g^2, so every step moves by lr sign(g) and the amplitude is lr/2;
    its two-step characteristic polynomial z^2 - (9 alpha^2 - 8 alpha + 1) z + alpha^2 has a complex
    pair of modulus alpha for alpha in (1/9, 1).  On Adam's orbit m alternates with amplitude
    (1 - beta1) h a/(1 + beta1) and sqrt(v) = h a, so a = lr (1 - beta1)/(2 (1 + beta1)); a complex
    pair of the two-step map crosses the unit circle at beta1* = (3 (1 + beta2) - sqrt(9 (1 + beta2)^2
    - 4 beta2))/(2 beta2) (0.1717 at beta2 = 0.999), so at beta1 = 0.9 > beta1* the orbit repels.
    A rule whose arithmetic differs derives other values and fails these comparisons, though its
    kernel still agrees with its own derivation.

    Not decided by theory (exploratory): how wide Adam's band is.  A complex pair leaving the unit
    circle (a Neimark-Sacker crossing) leaves the size of the attracting set to the nonlinear terms,
    so "max ``|x|``/lr over the late window exceeds the orbit amplitude" is reported, not predicted.

Method
    RMSProp (:func:`optanalysis.theory.adaptive.rmsprop_orbit_run`: the compiled rule, x0 = 3 lr, 6000
    steps) on a grid of lr, h, alpha.  Records: ``rmsprop orbit amplitude: derived vs lr/2`` and
    ``rmsprop two-step radius: derived vs alpha`` (oracles, 1e-12 relative: exact expressions
    evaluated in floating point, and a 2x2 eigenvalue problem); ``rmsprop max rel. deviation of |x|
    from the derived amplitude`` over the last 200 steps, at most 1e-9 (one-sided: the claim is
    "on the orbit"; the orbit attracts at alpha^(k/2), so after 5800 steps with alpha <= 0.99 the
    deviation has shrunk by >= 1e-12 from O(1), and only rounding remains); ``rmsprop two-step
    contraction``: the modulus of the two-step eigenvalues seen in the run (an AR(2) least-squares
    fit of the signed deviation while it is between 1e-4 and 1e-11 relative, which unlike a
    log-linear slope is not biased by the rotation of the complex pair: such a slope gives 0.513
    instead of 0.5 at alpha = 0.5) against the derived two-step radius, within 1e-3 relative (the
    neglected quadratic terms are at most a few 1e-4 of the linear ones in that window).

    Adam (beta1 = 0.9, beta2 = 0.999, x0 = 10 lr, 20000 steps, one run per lr covering every h) on lr
    and h that are powers of 2.  Records: ``adam orbit amplitude / lr: derived vs (1 - beta1)/(2(1 +
    beta1))`` and ``adam two-step radius at the typed crossing beta1*: derived vs 1`` (oracles, 1e-12);
    ``adam orbit repels: derived two-step radius >= 1`` (one-sided); ``adam homogeneity: x_k/lr vs the
    reference run`` for every (lr, h) other than the reference (2^-10, 1): the largest difference
    over all 20000 steps of x_k/lr^p (p = 1, the degree of homogeneity), at most 0 -- scaling by a
    power of 2 is exact in floating point, so the prediction is bit-for-bit equality; and the
    exploratory ``adam late band``.  Quick mode keeps every record kind on a smaller grid.

References
    docs/reference.md 6.3; C. Ma, L. Wu, W. E (2022), A qualitative study of the dynamic behavior for
    adaptive gradient algorithms, MSML; D. P. Kingma, J. Ba (2015), Adam, ICLR.
"""
from __future__ import annotations

import math

import numpy as np

from optanalysis.checks import boolean
from optanalysis.comparison import Record
from optanalysis.plotting import figure
from optanalysis.simulation import simulate
from optanalysis.studies import StudyResult, Theory, expect, exploratory, verdict_line
from optanalysis.studies._expect import CHECK_VERDICTS
from optanalysis.symbolic.cycles import period2_orbit
from optanalysis.theory.adaptive import rmsprop_orbit_run

TITLE = "eps = 0: RMSProp locks onto the derived orbit x = +-lr/2; Adam's orbit repels and it keeps an O(lr) band"

EXACT = 1e-12  # an exact expression, or a small eigenvalue problem, evaluated in floating point
ORBIT_TOL = 1e-9
CONTRACTION_REL = 1e-3
RMS_STEPS, RMS_WINDOW, RMS_X0_OVER_LR = 6000, 200, 3.0
ADAM = {"beta1": 0.9, "beta2": 0.999}
ADAM_STEPS, ADAM_WINDOW, ADAM_X0_OVER_LR = 20000, 5000, 10.0

R63 = "docs/reference.md 6.3"
EXPECTED = {
    "rmsprop orbit amplitude: derived vs lr/2, lr={}":
        expect("pass", f"on the orbit v = g^2, so each step moves x by lr sign(g): 2 a = lr ({R63})"),
    "rmsprop two-step radius: derived vs alpha, alpha={}":
        expect("pass", f"z^2 - (9a^2 - 8a + 1) z + a^2 has a complex pair of modulus alpha for alpha > 1/9 ({R63})"),
    "rmsprop max rel. deviation of |x| from the derived amplitude, {}":
        expect("pass", f"the orbit attracts (two-step radius alpha < 1): after 5800 steps only rounding is left ({R63})"),
    "rmsprop two-step contraction: AR(2) fit vs derived radius, {}":
        expect("pass", "near an attracting orbit the deviation decays at the two-step Jacobian's spectral radius"),
    "adam orbit amplitude / lr: derived vs (1 - beta1)/(2(1 + beta1))":
        expect("pass", f"on the orbit m alternates at (1-beta1) h a/(1+beta1) and sqrt(v) = h a ({R63})"),
    "adam two-step radius at the typed crossing beta1*: derived vs 1":
        expect("pass", f"a complex pair crosses the unit circle where beta2 beta1^2 - 3(1+beta2) beta1 + 1 = 0 ({R63})"),
    "adam orbit repels: derived two-step radius >= 1, beta1={}":
        expect("pass", f"beta1 = 0.9 is above the crossing beta1* = 0.1717 at beta2 = 0.999 ({R63})"),
    "adam homogeneity: max |x_k/lr - reference| over all steps, {}":
        expect("pass", f"eps = 0: (x0, lr) -> c (x0, lr) scales x_k by c, h -> c h leaves it; c = 2^n is exact ({R63})"),
    "adam late band: max |x|/lr over the last {} steps vs the orbit amplitude":
        exploratory("a repelling complex pair (Neimark-Sacker crossing) leaves the band's size to the nonlinear "
                    "terms: theory does not say how wide the band is", CHECK_VERDICTS),
}
HOOKS = {
    "rmsprop_amplitude": "RMSProp's derived orbit amplitude |x| (lr/2)",
    "rmsprop_radius": "the derived spectral radius of RMSProp's two-step Jacobian at the orbit (alpha)",
    "adam_amplitude": "Adam's derived orbit amplitude in units of lr ((1 - beta1)/(2(1 + beta1)))",
    "adam_radius": "the derived spectral radius of Adam's two-step Jacobian at the orbit",
    "homogeneity_degree": "the degree p of x_k in (x0, lr): x_k/lr^p is the same for every (lr, h) (p = 1)",
}


def _value(expr, **values):
    return float(expr.subs({s: values[str(s)] for s in expr.free_symbols}))


def _rmsprop(theory, lrs, hs, alphas):
    records, rows = [], []
    orbit = period2_orbit("rmsprop")
    done = set()
    for lr in lrs:
        amp = theory("rmsprop_amplitude", _value(orbit.amplitude(), lr=lr))
        records.append(Record.judge("rmsprop", "constant", {"lr": lr, "eps": 0.0},
                                    f"rmsprop orbit amplitude: derived vs lr/2, lr={lr:g}", lr / 2, amp, EXACT * lr / 2))
        for h in hs:
            for alpha in alphas:
                r = rmsprop_orbit_run(lr, h, alpha=alpha, x0=RMS_X0_OVER_LR * lr, steps=RMS_STEPS, window=RMS_WINDOW)
                hyper = {"lr": lr, "alpha": alpha, "eps": 0.0, "h": h}
                at = f"lr={lr:g}, h={h:g}, alpha={alpha:g}"
                radius = theory("rmsprop_radius", r["two_step_radius"])
                if alpha not in done:  # the radius depends on alpha alone (homogeneity)
                    done.add(alpha)
                    records.append(Record.judge("rmsprop", "constant", {"alpha": alpha, "eps": 0.0},
                                                f"rmsprop two-step radius: derived vs alpha, alpha={alpha:g}", alpha,
                                                radius, EXACT * alpha))
                dev = float(np.max(np.abs(r["late_abs_x"] / amp - 1)))
                records.append(Record.judge("rmsprop", "constant", hyper,
                                            f"rmsprop max rel. deviation of |x| from the derived amplitude, {at}",
                                            0.0, dev, ORBIT_TOL, relation="at_most"))
                records.append(Record.judge("rmsprop", "constant", hyper,
                                            f"rmsprop two-step contraction: AR(2) fit vs derived radius, {at}",
                                            radius, r["observed_contraction"], CONTRACTION_REL * radius))
                rows.append({"lr": lr, "h": h, "alpha": alpha, "orbit_x": amp, "max_rel_dev": dev,
                             "two_step_radius": radius, "observed_contraction": r["observed_contraction"]})
    return records, rows


def _adam(theory, lrs, hs):
    b1, b2 = ADAM["beta1"], ADAM["beta2"]
    orbit = period2_orbit("adam")
    records = []
    amp = theory("adam_amplitude", _value(orbit.amplitude(), lr=1.0, beta1=b1))
    records.append(Record.judge("adam", "constant", {**ADAM, "eps": 0.0},
                                "adam orbit amplitude / lr: derived vs (1 - beta1)/(2(1 + beta1))",
                                (1 - b1) / (2 * (1 + b1)), amp, EXACT * (1 - b1) / (2 * (1 + b1))))
    crossing = (3 * (1 + b2) - math.sqrt(9 * (1 + b2) ** 2 - 4 * b2)) / (2 * b2)
    records.append(Record.judge("adam", "constant", {"beta1": crossing, "beta2": b2, "eps": 0.0},
                                "adam two-step radius at the typed crossing beta1*: derived vs 1", 1.0,
                                theory("adam_radius", orbit.spectral_radius(lr=1.0, h=1.0, beta1=crossing, beta2=b2)),
                                EXACT))
    radius = theory("adam_radius", orbit.spectral_radius(lr=1.0, h=1.0, beta1=b1, beta2=b2))
    records.append(Record.judge("adam", "constant", {**ADAM, "eps": 0.0},
                                f"adam orbit repels: derived two-step radius >= 1, beta1={b1:g}", 1.0, radius, 0.0,
                                relation="at_least"))
    p = theory("homogeneity_degree", 1.0)
    runs = {}
    for lr in lrs:  # the coordinates of a diagonal quadratic are independent runs: one run per lr covers every h
        s = simulate("adam", {"lr": lr, "eps": 0.0, **ADAM}, x0=np.full(len(hs), ADAM_X0_OVER_LR * lr),
                     hessian_diag=np.array(hs, dtype=float), steps=ADAM_STEPS, record_x=True)
        for j, h in enumerate(hs):
            runs[(lr, h)] = s.xs[:, j] / lr**p
    ref_key = (lrs[0], hs[0])
    ref = runs[ref_key]
    for (lr, h), xs in runs.items():
        if (lr, h) == ref_key:
            continue
        records.append(Record.judge("adam", "constant", {"lr": lr, "h": h, "eps": 0.0, **ADAM,
                                                         "x0_over_lr": ADAM_X0_OVER_LR},
                                    f"adam homogeneity: max |x_k/lr - reference| over all steps, lr=2^{int(np.log2(lr))}, "
                                    f"h={h:g} vs (2^{int(np.log2(ref_key[0]))}, {ref_key[1]:g})",
                                    0.0, float(np.max(np.abs(xs - ref))), 0.0, relation="at_most"))
    late = float(np.max(np.abs(ref[-ADAM_WINDOW:])))
    records.append(Record.judge("adam", "constant", {"lr": ref_key[0], "h": ref_key[1], "eps": 0.0, **ADAM,
                                                     "x0_over_lr": ADAM_X0_OVER_LR},
                                f"adam late band: max |x|/lr over the last {ADAM_WINDOW} steps vs the orbit amplitude",
                                amp, late, 0.0, relation="at_least"))
    band = [{"lr": lr, "h": h, "max_abs_over_lr": float(np.max(np.abs(xs[-ADAM_WINDOW:]))),
             "mean_abs_over_lr": float(np.mean(np.abs(xs[-ADAM_WINDOW:])))} for (lr, h), xs in runs.items()]
    traces = {f"adam lr=2^{int(np.log2(lr))} h={h:g}": runs[(lr, h)] for lr, h in ((lrs[0], hs[0]), (lrs[-1], hs[-1]))}
    return records, band, traces, amp, radius


def run(quick=False, perturb=None) -> StudyResult:
    """RMSProp orbits and Adam bands on a grid (quick: a smaller grid, every record kind)."""
    boolean(quick, "quick")
    theory = Theory(HOOKS, perturb)
    lrs = (1e-3, 1e-1) if quick else (1e-3, 1e-2, 1e-1)
    hs = (1.0, 64.0) if quick else (0.01, 1.0, 64.0)
    alphas = (0.5, 0.99) if quick else (0.5, 0.9, 0.99)
    records, rms_rows = _rmsprop(theory, lrs, hs, alphas)
    band_lrs = (2.0**-10, 2.0**-4) if quick else (2.0**-10, 2.0**-7, 2.0**-4)
    band_hs = (1.0, 64.0) if quick else (1.0, 4.0, 64.0)
    adam_records, band, traces, amp, radius = _adam(theory, band_lrs, band_hs)
    records += adam_records
    for lr, h in ((1e-2, 1.0), (1e-2, 64.0), (1e-3, 1.0)):  # figure only
        s = simulate("rmsprop", {"lr": lr, "alpha": 0.99, "eps": 0.0}, x0=np.array([RMS_X0_OVER_LR * lr]),
                     hessian_diag=np.array([h]), steps=RMS_STEPS, record_x=True)
        traces[f"rmsprop lr={lr:g} h={h:g}"] = s.xs[:, 0] / lr
    data = {"rmsprop": rms_rows, "adam_band": band, "traces": traces,
            "adam_orbit_amplitude_over_lr": amp, "adam_orbit_radius": radius}
    parameters = {"rmsprop": {"lrs": lrs, "hs": hs, "alphas": alphas, "steps": RMS_STEPS, "window": RMS_WINDOW,
                              "x0_over_lr": RMS_X0_OVER_LR},
                  "adam": {"lrs": band_lrs, "hs": band_hs, **ADAM, "steps": ADAM_STEPS, "window": ADAM_WINDOW,
                           "x0_over_lr": ADAM_X0_OVER_LR}, "eps": 0.0, "seeds": None}
    return StudyResult(records, data, parameters)


def plot(result):
    """RMSProp iterates on the orbit; deviation contraction; Adam's band in units of lr."""
    d = result.data
    fig, (ax1, ax2, ax3) = figure(1, 3, width=14.0, height=4.4)
    for name, xs in d["traces"].items():
        if name.startswith("rmsprop"):
            ax1.semilogy(np.arange(len(xs)), np.abs(xs), lw=0.7, alpha=0.8, label=name)
    ax1.axhline(0.5, color="k", ls="--", lw=1.0, label="derived orbit |x| = lr/2")
    ax1.set(xlabel="step k", ylabel="|x_k| / lr", ylim=(1e-8, 1e2),
            title="RMSProp (alpha=0.99, eps=0): |x_k| -> lr/2 (curves coincide)")
    ax1.legend(loc="upper right", fontsize=7)
    rows = d["rmsprop"]
    pred = np.array([r["two_step_radius"] for r in rows])
    obs = np.array([r["observed_contraction"] for r in rows])
    ax2.semilogy(pred, np.abs(obs / pred - 1), "o", mfc="none", label="|AR(2) fit / derived - 1|, each (lr, h, alpha)")
    ax2.axhline(CONTRACTION_REL, color="C1", ls="--", label=f"tolerance {CONTRACTION_REL:g}")
    ax2.set(xlabel="derived two-step spectral radius at the orbit", ylabel="relative error of the observed modulus",
            ylim=(1e-8, 1e-1), title="RMSProp: approach to the orbit at the derived rate")
    ax2.legend(loc="upper left")
    for name, xs in d["traces"].items():
        if name.startswith("adam"):
            ax3.plot(np.arange(len(xs)), xs, lw=0.6, alpha=0.8, label=name)
    amp = d["adam_orbit_amplitude_over_lr"]
    ax3.axhspan(-amp, amp, color="C2", alpha=0.3, label=f"repelling orbit +-{amp:.3f} lr (radius "
                f"{d['adam_orbit_radius']:.2f})")
    ax3.set(yscale="symlog", xlabel="step k", ylabel="x_k / lr (symlog)",
            title="Adam (0.9, 0.999, eps=0): identical curves, O(lr) band")
    ax3.set_yscale("symlog", linthresh=1e-2)
    ax3.legend(loc="upper right", fontsize=7)
    fig.suptitle(f"{TITLE}\n{verdict_line(result.records, EXPECTED)}", fontsize=10)
    return fig
