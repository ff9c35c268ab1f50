"""Adaptive rules without eps do not converge: RMSProp locks onto x = +-lr/2, Adam wanders in a band.

Claim
    With eps = 0 and a constant lr, RMSProp on f(x) = 1/2 h x^2 ends on the period-2 orbit
    x = +-lr/2, whatever h and alpha, and approaches it at the two-step rate alpha.  Adam
    (beta1 = 0.9, beta2 = 0.999) also has a period-2 orbit, x = +-lr (1 - beta1)/(2 (1 + beta1)),
    but it repels: the late iterates stay in a band of width O(lr) instead, and that band, measured
    in units of lr, is exactly the same for every h and, at fixed x0/lr, for every lr.

Theory
    With eps = 0 both maps are homogeneous.  The orbit is solved from the rule's own symbolic
    update as a fixed point of "one step = sign flip" and its stability from the two-step
    Jacobian (:func:`optanalysis.symbolic.cycles.period2_orbit`).  Homogeneity: h -> c h
    (m -> c m, v -> c^2 v) leaves the iterates unchanged, and (x0, lr) -> (c x0, c lr) scales them
    by c, so |x_k|/lr depends only on x0/lr, the betas and k -- bit for bit when c is a power of 2
    (:func:`optanalysis.theory.adaptive.eps0_band`).  docs/reference.md 6.3 gives lr/2 (RMSProp) as an
    independent oracle of the derived amplitude.

Method
    RMSProp (:func:`optanalysis.theory.adaptive.rmsprop_orbit_run`: the compiled rule, x0 = 3 lr, 6000
    steps) on a grid of lr, h, alpha.  Records: ``orbit|max rel. deviation`` of |x_k| from the
    derived amplitude over the last 200 steps, predicted 0, tolerance 1e-9 (the orbit attracts at
    alpha^(k/2): after 5800 steps with alpha <= 0.99 the deviation has shrunk by >= 1e-12 from
    O(1), so only rounding and the slowest transient remain); ``orbit|two-step contraction``: the
    modulus of the two-step eigenvalues seen in the run (an AR(2) least-squares fit of the signed
    deviation while it is between 1e-4 and 1e-11 relative, which unlike a log-linear slope is not
    biased by the rotation of the complex pair: such a slope gives 0.513 instead of 0.5 at
    alpha = 0.5) against the derived two-step spectral radius, tolerance 1e-3 relative (the
    neglected quadratic terms are at most a few 1e-4 of the linear ones in that window; the
    largest error seen is 5e-4).  ``oracle amplitude``: derived vs lr/2, exact.  Adam
    (:func:`optanalysis.theory.adaptive.eps0_band`, 20000 steps, late window 5000, x0 = 10 lr) on lr and
    h that are powers of 2: ``band|max|x|/lr`` of every (lr, h) equals that of the first one
    exactly (tolerance 0), and ``band exceeds orbit`` is a pass iff the derived orbit repels
    (two-step radius > 1) and the band's max |x|/lr is larger than the orbit's amplitude.

References
    docs/reference.md 6.3; C. Ma, L. Wu, W. E (2022), A qualitative study of the dynamic behavior for
    adaptive gradient algorithms, MSML; D. P. Kingma, J. Ba (2015), Adam, ICLR.
"""
from __future__ import annotations

import numpy as np

from optanalysis.checks import boolean
from optanalysis.theory.adaptive import eps0_band, rmsprop_orbit_run
from optanalysis.comparison import Record
from optanalysis.plotting import figure
from optanalysis.simulation import simulate
from optanalysis.studies import StudyResult
from optanalysis.symbolic.cycles import period2_orbit

TITLE = "eps = 0: RMSProp locks onto the derived orbit x = +-lr/2; Adam's orbit repels and it keeps an O(lr) band"

ORBIT_TOL = 1e-9
CONTRACTION_REL = 1e-3
RMS_STEPS, RMS_WINDOW, RMS_X0_OVER_LR = 6000, 200, 3.0
ADAM = {"beta1": 0.9, "beta2": 0.999}
ADAM_STEPS, ADAM_WINDOW, ADAM_X0_OVER_LR = 20000, 5000, 10.0


def run(quick=False) -> StudyResult:
    """RMSProp orbits and Adam bands on a grid (quick: a smaller grid)."""
    boolean(quick, "quick")
    lrs = (1e-3, 1e-1) if quick else (1e-3, 1e-2, 1e-1)
    hs = (1.0, 64.0) if quick else (0.01, 1.0, 64.0)
    alphas = (0.5, 0.99) if quick else (0.5, 0.9, 0.99)
    records, rms_rows = [], []
    amp_expr = period2_orbit("rmsprop").amplitude()
    for lr in lrs:
        amp = float(amp_expr.subs({s: lr for s in amp_expr.free_symbols}))
        records.append(Record.judge("rmsprop", "constant", {"lr": lr, "eps": 0.0},
                                    "oracle amplitude|lr/2 (literature)", lr / 2, amp, 1e-15 * lr))
        for h in hs:
            for alpha in alphas:
                r = rmsprop_orbit_run(lr, h, alpha=alpha, x0=RMS_X0_OVER_LR * lr, steps=RMS_STEPS, window=RMS_WINDOW)
                hyper = {"lr": lr, "alpha": alpha, "eps": 0.0, "h": h}
                records.append(Record.judge("rmsprop", "constant", hyper, "orbit|max rel. deviation of |x| from lr/2",
                                            0.0, r["max_rel_dev"], ORBIT_TOL))
                records.append(Record.judge("rmsprop", "constant", hyper, "orbit|two-step contraction",
                                            r["two_step_radius"], r["observed_contraction"],
                                            CONTRACTION_REL * r["two_step_radius"]))
                rms_rows.append({"lr": lr, "h": h, "alpha": alpha, "orbit_x": r["orbit_x"],
                                 "max_rel_dev": r["max_rel_dev"], "two_step_radius": r["two_step_radius"],
                                 "observed_contraction": r["observed_contraction"]})
    band_lrs = (2.0**-10, 2.0**-4) if quick else (2.0**-10, 2.0**-7, 2.0**-4)
    band_hs = (1.0, 64.0) if quick else (1.0, 4.0, 64.0)
    band = eps0_band(lrs=band_lrs, hs=band_hs, x0_over_lr=ADAM_X0_OVER_LR, steps=ADAM_STEPS, window=ADAM_WINDOW,
                     **ADAM)
    ref = band[0]
    for b in band:
        hyper = {"lr": b["lr"], "h": b["h"], "eps": 0.0, **ADAM, "x0_over_lr": ADAM_X0_OVER_LR}
        records.append(Record.judge("adam", "constant", hyper, "band|max|x|/lr equals that of (lr, h) = "
                                    f"({ref['lr']:g}, {ref['h']:g})", ref["max_abs_over_lr"], b["max_abs_over_lr"],
                                    0.0))
        wider = b["orbit_radius"] > 1 and b["max_abs_over_lr"] > b["orbit_amplitude_over_lr"]
        records.append(Record("adam", "constant", hyper, "band exceeds orbit|orbit repels and max|x|/lr > amplitude",
                              b["orbit_amplitude_over_lr"], b["max_abs_over_lr"], float("nan"),
                              "pass" if wider else "fail"))
    # Trajectories for the figure (same rules, same kernels).
    traces = {}
    for lr, h in ((1e-2, 1.0), (1e-2, 64.0), (1e-3, 1.0)):
        s = simulate("rmsprop", {"lr": lr, "alpha": 0.99, "eps": 0.0}, x0=np.array([RMS_X0_OVER_LR * lr]),
                     hessian_diag=np.array([h]), steps=RMS_STEPS, record_x=True)
        traces[f"rmsprop lr={lr:g} h={h:g}"] = s.xs[:, 0] / lr
    for lr, h in ((band_lrs[0], 1.0), (band_lrs[-1], 64.0)):
        s = simulate("adam", {"lr": lr, "eps": 0.0, **ADAM}, x0=np.array([ADAM_X0_OVER_LR * lr]),
                     hessian_diag=np.array([h]), steps=ADAM_STEPS, record_x=True)
        traces[f"adam lr=2^{int(np.log2(lr))} h={h:g}"] = s.xs[:, 0] / lr
    data = {"rmsprop": rms_rows, "adam_band": band, "traces": traces,
            "adam_orbit_amplitude_over_lr": ref["orbit_amplitude_over_lr"], "adam_orbit_radius": ref["orbit_radius"]}
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
    ok = sum(r.verdict == "pass" for r in result.records)
    fig.suptitle(f"{TITLE} [{'pass' if ok == len(result.records) else 'FAIL'}: {ok}/{len(result.records)}]",
                 fontsize=10)
    return fig
