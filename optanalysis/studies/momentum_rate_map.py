"""The heavy-ball rate map over (lr, momentum), in the style of Goh's "Why Momentum Really Works".

Claim
    On a quadratic with spectrum {mu, ..., L}, the asymptotic per-step factor of ||x - x*|| of heavy
    ball is the spectral radius of its iteration matrix, worst over the spectrum, at every
    (lr, momentum) of the stable region, and the regions of the map are the literature's:
    complex roots of modulus sqrt(momentum) (Goh's "ripples") for
    (1 - sqrt(momentum))^2 < lr h < (1 + sqrt(momentum))^2, real roots
    ((1 + b - lr h) +- sqrt((1 + b - lr h)^2 - 4b))/2 outside it, divergence beyond
    lr L = 2(1 + momentum) (Polyak 1964; Goh 2017).

Theory
    ``derive("heavy_ball")`` (from the rule's single definition): the discriminant's zeros in
    momentum (critical damping), the zero of the coefficient c1 of z (where the dominant root
    changes sign), the Jury bound lr < 2(1 + momentum)/h (divergence); predicted rates are
    ``optanalysis.spectral_radius`` maximised over the problem's eigenvalues.

    Oracles, typed here from the literature and not derived: the divergence edge
    lr L = 2(1 + momentum), the critical-damping curve momentum = (1 - sqrt(lr h))^2 at h = mu and
    h = L, and the rate: sqrt(momentum) where the worst direction has complex roots, the larger
    real root's modulus elsewhere (Goh 2017's formula, Polyak's characteristic polynomial
    z^2 - (1 + b - lr h) z + b).  The derivation must equal them to 1e-12 relative (absolute for momenta in [0, 1]; closed forms;
    only their evaluation rounds).  A rule whose arithmetic differs derives other values and fails
    here, though its simulation still agrees with its own derivation.

Method
    H = diag of 16 eigenvalues log-spaced in [0.1, 1] (kappa = 10, L = 1, so lr = lr L), x0 = 1,
    x* = 0, a grid of lr in [0.05, 4] by momentum in [0, 0.95] (40 x 39, 1141 stable points;
    quick: 20 x 20), all runs in one ``simulate_batch`` call (2000 steps).
    Observed rates: ``optanalysis.rates.fit_rate`` (the default, the recurrence estimator: the
    largest root of the linear recurrence identified from the loss trajectory by a matrix pencil,
    which models the ripples of complex roots instead of averaging them).  x* = 0, so there is no
    rounding floor: the fit uses every loss down to 1e-280 loss_0 (above the subnormal range).
    A stable grid point is judged unless the fit refuses it or its model-error indicator (the
    change of the rate when the first half of the fit's window is dropped; zero in exact
    arithmetic) exceeds 1e-7 in the iterate factor.  The refused points are drawn and explained
    on the map: they are where all 16 directions have complex roots at small angles (lr = 0.05,
    momentum >= 0.875: 33 loss roots of modulus momentum within +-0.45 rad), too close to be
    resolved from the estimator's 120 lags; the critical-damping curves (double roots) are not
    among them.

    Records (each aggregates over the grid, so one point off anywhere flips it):
    the oracles above; the largest ``|observed - derived rate|`` over the judged stable points; the
    judged fraction of the stable points (at least 98 %); the observed rate equals sqrt(momentum)
    where the derived critical-damping curves put every direction in the complex regime, and
    exceeds it where they put some direction in the real regime (the larger of two real roots with
    product b has modulus > sqrt(b)); no run beyond the derived edge stays bounded and no run
    inside it grows.

    Tolerances: rates within 1e-6, ten times the refusal threshold 1e-7 of the model-error
    indicator.  The loss values carry a relative error <= 2e-13 (``optanalysis.rates.NOISE``,
    tests/test_rates.py); the estimator's worst case is a double root (critical damping), which a
    relative perturbation eta moves by ~sqrt(eta): on constructed merging roots the error stays
    below 5 x the indicator (measured 3.5 x; tests/test_rates.py::test_near_double_roots), so a
    judged point (indicator <= 1e-7) is within 5e-7, and a rate off by 1e-3 anywhere on the grid
    is caught.  The real-regime excess must exceed that same 1e-6 (the grid's smallest derived
    excess, in the data, is 8e-3).  The judged fraction must be at least 98 % of the stable points
    (full: 1137 of 1141, 99.6 %; quick: 288 of 290, 99.3 %).  Oracles: 1e-12 relative.
    Divergence: exact counts.

References
    G. Goh (2017), Why Momentum Really Works, Distill (rate map, regions; docs/reference.md 4.3 — its
    complex-root modulus is sqrt(beta), not the 2 sqrt(beta) printed there); B. T. Polyak (1964);
    Y. Hua, T. K. Sarkar (1990), Matrix pencil method for estimating parameters of exponentially
    damped/undamped sinusoids in noise, IEEE Trans. ASSP 38(5).
"""
import numpy as np
import sympy

from optanalysis.checks import boolean
from optanalysis.comparison import Record
from optanalysis.plotting import figure
from optanalysis.rates import LAGS, fit_rate
from optanalysis.simulation import simulate_batch
from optanalysis.studies import StudyResult, Theory, expect, verdict_line
from optanalysis.symbolic import H, derive, roots
from optanalysis.theory.spectrum import spectral_radius

TITLE = "Heavy-ball rate map: observed kernel rates equal the worst-case spectral radius over (lr, momentum)"

SPECTRUM = np.geomspace(0.1, 1.0, 16)
STEPS = 2000
TOL = 1e-6  # rate agreement: judged points have indicator <= 1e-7 and error <= 5 x it (docstring)
REFUSE = TOL / 10  # model-error indicator above which a point is not judged
FLOOR = 1e-280  # x* = 0: no rounding floor; stay above the subnormal range
JUDGED = 0.98  # the fraction of stable points that must be judged
EXACT = 1e-12  # a derived closed form against the typed formula: floating-point agreement

GOH = "Goh 2017; Polyak 1964; docs/reference.md 4.2-4.3"
EXPECTED = {
    "divergence edge: derived vs lr L = 2(1 + momentum)":
        expect("pass", f"the Jury condition of z^2 - (1 + b - lr h) z + b at h = L ({GOH})"),
    "critical damping: derived vs momentum = (1 - sqrt(lr h))^2, h={}":
        expect("pass", f"the discriminant (1 + b - lr h)^2 - 4b vanishes there ({GOH})"),
    "rate: derived vs sqrt(momentum), complex-root points":
        expect("pass", f"complex conjugate roots with product b have modulus sqrt(b) ({GOH})"),
    "rate: derived vs the larger real root, real-root points":
        expect("pass", f"the worst direction's larger root of z^2 - (1 + b - lr h) z + b ({GOH})"),
    "max |observed - derived rate| over the judged stable points":
        expect("pass", "a linear recurrence decays at its spectral radius: the identified root is the derived one"),
    "judged fraction of the stable points":
        expect("pass", "a sum of exponentials is identified exactly by its recurrence (Hua & Sarkar 1990); "
                       "only equal-modulus roots closer than the lags resolve are refused"),
    "max |observed - sqrt(momentum)| where every direction has complex roots":
        expect("pass", f"all modes have modulus sqrt(b) between the critical-damping curves ({GOH})"),
    "min (observed - sqrt(momentum)) where some direction has real roots":
        expect("pass", "two distinct real roots with product b: the larger has modulus > sqrt(b) (Polyak 1964)"),
    "grid points beyond the derived edge that stayed bounded":
        expect("pass", f"a root outside the unit circle grows without bound ({GOH})"),
    "grid points inside the derived edge that grew":
        expect("pass", f"all roots inside the unit circle: the loss decays ({GOH})"),
}
HOOKS = {
    "edge": "the derived divergence edge lr L = lr_bound(h = L), per momentum of the grid",
    "critical_damping": "the derived critical-damping momentum (discriminant zero in [0, 1]) at h = mu and h = L",
    "rate": "the derived worst spectral radius at each grid point",
}


def _grid(quick):
    n_lr, n_m = (20, 20) if quick else (40, 39)
    return np.linspace(0.05, 4.0, n_lr), np.linspace(0.0, 0.95, n_m)


def _literature_rate(lr, b, h):
    """Goh's (2017) rate of heavy ball, typed: per direction, sqrt(b) for complex roots, else the
    larger modulus of ((1 + b - lr h) +- sqrt((1 + b - lr h)^2 - 4b))/2; the worst over h."""
    c = 1 + b - lr * h
    disc = c * c - 4 * b
    real = np.maximum(np.abs(c + np.sqrt(np.maximum(disc, 0))), np.abs(c - np.sqrt(np.maximum(disc, 0)))) / 2
    return np.max(np.where(disc < 0, np.sqrt(b), real), axis=0)


def _boundaries(lrs):
    """Regime boundaries in the (lr, momentum) plane at h = L = 1 and h = mu, from the derivation."""
    d = derive("heavy_ball")
    lr_s, m_s = d.hyper["lr"], d.hyper["momentum"]
    out = {}
    for label, h in (("L", 1.0), ("mu", float(SPECTRUM[0]))):
        for i, e in enumerate(d.discriminant_zeros["momentum"]):
            f = sympy.lambdify(lr_s, e.subs(H, h), "numpy")
            out[f"critical damping {i + 1} (h={label})"] = np.broadcast_to(f(lrs), lrs.shape).tolist()
    (flip,) = sympy.solve(d.coefficients["c1"].subs(H, 1.0), m_s)
    (edge,) = sympy.solve(d.lr_bound.subs(H, 1.0) - lr_s, m_s)
    out["sign flip (h=L)"] = np.broadcast_to(sympy.lambdify(lr_s, flip, "numpy")(lrs), lrs.shape).tolist()
    out["divergence (h=L)"] = np.broadcast_to(sympy.lambdify(lr_s, edge, "numpy")(lrs), lrs.shape).tolist()
    return out


def _top_roots(lr, m):
    """(count, largest |angle|) of the loss roots of largest modulus: the products z_a z_b of each
    direction's two roots (the loss is a sum of squares of the directions' iterates)."""
    z = np.asarray(roots("heavy_ball", SPECTRUM, lr=lr, momentum=m))
    w = np.concatenate([z[:, 0] ** 2, z[:, 1] ** 2, z[:, 0] * z[:, 1]])
    top = w[np.abs(w) >= np.abs(w).max() * (1 - 1e-9)]
    return int(np.unique(np.round(np.angle(top), 9)).size), float(np.max(np.abs(np.angle(top))))


def run(quick=False, perturb=None):
    boolean(quick, "quick")
    theory = Theory(HOOKS, perturb)
    d = derive("heavy_ball")
    lr_s, m_s = d.hyper["lr"], d.hyper["momentum"]
    lrs, moms = _grid(quick)
    LR, M = np.meshgrid(lrs, moms, indexing="ij")
    L, mu = float(SPECTRUM[-1]), float(SPECTRUM[0])
    derived = np.max(spectral_radius("heavy_ball", {"momentum": M[None]}, SPECTRUM[:, None, None], lr=LR[None]), axis=0)
    predicted = theory("rate", derived)
    edge = theory("edge", np.array([float(d.lr_bound.subs({H: L, m_s: m})) for m in moms]))
    # the discriminant zero that lies in [0, 1]: (1 - sqrt(lr h))^2, at h = mu and h = L
    crit = {}
    for label, h in (("mu", mu), ("L", L)):
        f = sympy.lambdify(lr_s, d.discriminant_zeros["momentum"][0].subs(H, h), "numpy")
        crit[label] = theory("critical_damping", np.broadcast_to(f(lrs), lrs.shape).astype(float))
    hyper = {"spectrum": SPECTRUM.tolist(), "steps": STEPS}
    records = []

    def record(quantity, pred, obs, tol, relation="within", **extra):
        records.append(Record.judge("heavy_ball", "constant", {**hyper, **extra}, quantity, float(pred), float(obs),
                                    float(tol), relation))

    def worst_rel(derived_values, oracle):
        """(oracle, derived) at the largest difference relative to max(|oracle|, 1)."""
        derived_values, oracle = np.asarray(derived_values, float), np.asarray(oracle, float)
        i = np.unravel_index(np.argmax(np.abs(derived_values - oracle) / np.maximum(np.abs(oracle), 1)),
                             oracle.shape)
        return oracle[i], derived_values[i]

    # the literature's formulas, typed, as oracles of the derivation
    o, v = worst_rel(edge, 2 * (1 + moms) / L)
    record("divergence edge: derived vs lr L = 2(1 + momentum)", o, v, EXACT * o)
    for label, h in (("mu", mu), ("L", L)):
        o, v = worst_rel(crit[label], (1 - np.sqrt(lrs * h)) ** 2)
        record(f"critical damping: derived vs momentum = (1 - sqrt(lr h))^2, h={label}", o, v, EXACT)
    stable = LR < edge[None, :]
    # every direction complex iff momentum is above both critical-damping curves (the other zero,
    # (1 + sqrt(lr h))^2 >= 1, is off the map)
    complex_all = (M > crit["mu"][:, None]) & (M > crit["L"][:, None])
    oracle = _literature_rate(LR[None], M[None], SPECTRUM[:, None, None])
    cplx_pts = stable & complex_all
    o, v = worst_rel(predicted[cplx_pts], np.sqrt(M[cplx_pts]))
    record("rate: derived vs sqrt(momentum), complex-root points", o, v, EXACT * o)
    o, v = worst_rel(predicted[stable & ~complex_all], oracle[stable & ~complex_all])
    record("rate: derived vs the larger real root, real-root points", o, v, EXACT * o)

    # observation: every run of the grid in one batch, rates fitted from the loss trajectory alone
    plist = [{"lr": float(a), "momentum": float(b)} for a, b in zip(LR.ravel(), M.ravel())]
    res = simulate_batch("heavy_ball", plist, x0=np.ones(SPECTRUM.size), hessian_diag=SPECTRUM, steps=STEPS)
    observed = np.full(LR.shape, np.nan)
    spread = np.full(LR.shape, np.nan)
    reason = np.full(LR.shape, "", dtype=object)
    diverged = res.diverged_at[:, 0].reshape(LR.shape) >= 0
    for p in range(len(plist)):
        idx = np.unravel_index(p, LR.shape)
        fit = fit_rate(res.loss[p, 0], floor=FLOOR, diverged_at=None if not diverged[idx] else 0)
        if not fit.ok:
            reason[idx] = "diverged" if fit.reason.startswith("diverged") else "refused by the fit"
            continue
        observed[idx] = fit.iterate_rate
        spread[idx] = fit.stderr / (2 * fit.iterate_rate)  # the loss factor's indicator, in the iterate factor
        if spread[idx] > REFUSE:
            reason[idx] = "unresolved equal-modulus roots"
    judged = stable & (reason == "")
    err = np.where(judged, np.abs(observed - predicted), -1.0)
    where = np.unravel_index(np.argmax(err), LR.shape)
    record("max |observed - derived rate| over the judged stable points", predicted[where], observed[where], TOL,
           lr=float(LR[where]), momentum=float(M[where]))
    record("judged fraction of the stable points", JUDGED, judged.sum() / max(stable.sum(), 1), 0.0, "at_least")
    sq = np.sqrt(M)
    in_c, in_r = judged & complex_all, judged & ~complex_all
    dev = np.where(in_c, np.abs(observed - sq), -1.0)
    w = np.unravel_index(np.argmax(dev), LR.shape)
    record("max |observed - sqrt(momentum)| where every direction has complex roots", sq[w], observed[w], TOL,
           lr=float(LR[w]), momentum=float(M[w]))
    exc = np.where(in_r, observed - sq, np.inf)
    w = np.unravel_index(np.argmin(exc), LR.shape)
    record("min (observed - sqrt(momentum)) where some direction has real roots", TOL, exc[w], 0.0, "at_least",
           lr=float(LR[w]), momentum=float(M[w]))
    # a run beyond the edge must diverge or grow (fitted rate > 1); one inside must neither
    grew = diverged | (observed > 1)
    record("grid points beyond the derived edge that stayed bounded", 0, np.sum(~stable & ~grew), 0)
    record("grid points inside the derived edge that grew", 0, np.sum(stable & grew), 0)

    refused = np.argwhere(stable & (reason != ""))
    explained = [{"lr": float(LR[tuple(i)]), "momentum": float(M[tuple(i)]), "reason": reason[tuple(i)],
                  "indicator": float(spread[tuple(i)]), **dict(zip(("top_roots", "max_angle"),
                                                                  _top_roots(LR[tuple(i)], M[tuple(i)])))}
                 for i in refused]
    counts = {r: int(np.sum(stable & (reason == r))) for r in sorted(set(reason[stable].tolist()) - {""})}
    # near-double roots (the estimator's hard case): judged points whose worst direction's two roots
    # are within 5 % of each other (|z1 - z2| = sqrt(|disc|) <= 0.05 rho)
    c = 1 + M[None] - LR[None] * SPECTRUM[:, None, None]
    gap = np.sqrt(np.abs(c * c - 4 * M[None]))
    k = np.argmax(spectral_radius("heavy_ball", {"momentum": M[None]}, SPECTRUM[:, None, None], lr=LR[None]), axis=0)
    near = judged & (np.take_along_axis(gap, k[None], 0)[0] <= 0.05 * derived)
    data = {"lr": lrs.tolist(), "momentum": moms.tolist(), "predicted": predicted.tolist(),
            "observed": observed.tolist(), "indicator": spread.tolist(),
            "refused": reason.tolist(), "refused_counts_in_stable_region": counts, "refused_points": explained,
            "stable_points": int(stable.sum()), "judged_points": int(judged.sum()),
            "max_error": float(np.max(err)) if judged.any() else None,
            "near_double_root_points": int(near.sum()),
            "near_double_root_max_error": float(np.max(err[near])) if near.any() else None,
            "min_real_regime_excess_derived": float(np.min(np.where(stable & ~complex_all, derived - sq, np.inf))),
            "boundary_lr": np.linspace(0.0, lrs[-1], 400).tolist(),
            "boundaries": _boundaries(np.linspace(0.0, lrs[-1], 400))}
    parameters = {"spectrum": SPECTRUM.tolist(), "x0": "ones", "steps": STEPS, "lr_grid": [lrs[0], lrs[-1], lrs.size],
                  "momentum_grid": [moms[0], moms[-1], moms.size], "tolerance": TOL, "refusal_indicator": REFUSE,
                  "floor": FLOOR, "estimator": f"recurrence (matrix pencil, {LAGS} lags)", "judged_at_least": JUDGED,
                  "seeds": "none (deterministic)"}
    return StudyResult(records, data, parameters)


def plot(result):
    data = result.data
    lrs, moms = np.array(data["lr"]), np.array(data["momentum"])
    pred, obs = np.array(data["predicted"]), np.array(data["observed"], dtype=float)
    shown = np.where(np.array(data["refused"]) == "", obs, np.nan)
    fig, axes = figure(1, 3, width=16, height=5)
    levels = np.linspace(0.3, 1, 15)
    extent = dict(shading="nearest", vmin=0.3, vmax=1, cmap="viridis")
    for ax, z, title in ((axes[0], np.where(pred < 1, pred, np.nan), "(a) predicted: worst spectral radius"),
                         (axes[1], np.where(pred < 1, shown, np.nan), "(b) observed from kernel runs (x: refused)")):
        im = ax.pcolormesh(lrs, moms, z.T, **extent)
        ax.contour(lrs, moms, np.where(pred < 1, pred, np.nan).T, levels=levels[::2], colors="w", linewidths=0.3)
        ax.set(title=title, xlabel="lr * L", ylabel="momentum", xlim=(0, lrs[-1]), ylim=(0, moms[-1]))
    styles = {"sign": ("C1", "-."), "divergence": ("r", "-"), "(h=L)": ("k", "--"), "(h=mu)": ("m", ":")}
    for name, curve in data["boundaries"].items():
        color, ls = next(v for k, v in styles.items() if k in name)
        if not np.any((np.array(curve) >= 0) & (np.array(curve) <= moms[-1])):
            continue  # e.g. (1 + sqrt(lr h))^2 > 1: outside the map
        for ax in axes[:2]:
            ax.plot(data["boundary_lr"], curve, color=color, ls=ls, lw=1.2, label=name if ax is axes[0] else None)
    refused = data["refused_points"]
    for ax in axes[1:]:
        if refused:
            ax.plot([r["lr"] for r in refused], [r["momentum"] for r in refused], "x", color="r", ms=6, mew=1.5)
    axes[0].legend(fontsize=6.5, loc="lower left", framealpha=0.8)
    fig.colorbar(im, ax=axes[:2], label="per-step factor of ||x - x*||", shrink=0.9)
    err = np.maximum(np.abs(shown - pred), 1e-16)  # exact agreement drawn at the bottom of the scale
    im2 = axes[2].pcolormesh(lrs, moms, np.log10(np.where(pred < 1, err, np.nan)).T, shading="nearest",
                             cmap="magma", vmin=-16, vmax=-6)
    fig.colorbar(im2, ax=axes[2], label="log10 |observed - predicted| (tolerance 1e-6)")
    axes[2].set(title=f"(c) error; {data['judged_points']} of {data['stable_points']} stable points judged, "
                      f"max {data['max_error']:.1e}", xlabel="lr * L", ylabel="momentum")
    lines = [f"refused (x), {len(refused)}: all 16 directions complex at small angles,"]
    if refused:
        lines.append(f"  {refused[0]['top_roots']} loss roots of modulus b within +-{max(r['max_angle'] for r in refused):.2f} rad:"
                     f" unresolved by the pencil's lags")
    near = data["near_double_root_points"]
    lines.append("near double roots (critical damping, |z1 - z2| <= 5% rho): "
                 + (f"{near} judged, max error {data['near_double_root_max_error']:.1e}" if near
                    else "no grid point"))
    axes[2].text(0.02, 0.02, "\n".join(lines), transform=axes[2].transAxes, fontsize=6.5, va="bottom",
                 bbox=dict(fc="w", alpha=0.85))
    fig.suptitle(f"{TITLE}\n{verdict_line(result.records, EXPECTED)}", fontsize=10)
    return fig
