"""The heavy-ball rate map over (lr, momentum), in the style of Goh's "Why Momentum Really Works".

Claim
    On a quadratic with spectrum {mu, ..., L}, the asymptotic per-step factor of ||x - x*|| of heavy
    ball is the spectral radius of its iteration matrix, worst over the spectrum, at every
    (lr, momentum) of the stable region; the regions of the map are bounded by the derived
    curves: complex roots (modulus sqrt(momentum), Goh's "ripples") between the two
    critical-damping curves momentum = (1 -+ sqrt(lr h))^2, monotone decrease below them,
    sign-flipping oscillation beyond lr h = 1 + momentum, divergence beyond lr h = 2(1 + momentum).

Theory
    ``derive("heavy_ball")`` (from the rule's single definition): the discriminant's zeros in
    momentum (critical damping), the zero of the coefficient c1 of z (where the dominant root
    changes sign), the Jury bound lr < 2(1 + momentum)/h (divergence); predicted rates are
    ``optanalysis.spectral_radius`` maximised over the problem's eigenvalues.

Method
    H = diag of 16 eigenvalues log-spaced in [0.1, 1] (kappa = 10, L = 1, so lr = lr L), x0 = 1,
    a grid of lr in [0.05, 4] by momentum in [0, 0.95] (40 x 39; quick: 20 x 20), all runs in
    one ``simulate_batch`` call (2000 steps).
    Observed rates: ``optanalysis.rates.fit_rate`` on each loss curve.  A grid point is refused,
    and left blank on the map, when

    * the fit refuses it: the run diverged, or the loss reaches the floating-point floor
      (1e-24 loss_0) within too few points (fast rates);
    * the fit is imprecise: its standard error exceeds 1e-4 (a tenth of the tolerance).  Complex
      roots make the loss ripple (cos^2 of the root's angle), and a least-squares line through a
      few ripples before the floor is biased by their phase;
    * the rate is unobservable in float64: the faster distinct modes (predicted moduli r_j < r1)
      would still carry more than 1 % of the loss halfway to the floor, sum_j (r_j/r1)^K > 0.01
      with r1^(2K) = 1e-24 — the fit then measures a blend (it happens along the ridge where the
      modes at mu and L are equally slow, which is where the optimal tuning lies).

    Tolerance: |fitted - predicted| <= 1e-3 at every accepted point (the project's bar for rate maps); the number
    of points refused for each reason is recorded.

    The refusal rules are heuristics, not guarantees.  Many eigenvalues average the ripples out
    (their phases differ) but add close real modes: on the full grid, 3 eigenvalues give 521
    accepted points (max error 5.7e-4), 16 give 662 (2.5e-4), 32 give 363 (4.6e-4), and with 64
    one accepted point in the complex region (64 modes of equal modulus beating, lr = 0.76,
    momentum = 0.525) is off by 6.7e-3 although its fit's standard error is 7e-5.

References
    G. Goh (2017), Why Momentum Really Works, Distill (rate map, regions; docs/reference.md 4.3 — its
    complex-root modulus is sqrt(beta), not the 2 sqrt(beta) printed there); B. T. Polyak (1964).
"""
import numpy as np
import sympy

from optanalysis.checks import boolean
from optanalysis.comparison import Record
from optanalysis.plotting import figure
from optanalysis.rates import FLOOR, fit_rate
from optanalysis.simulation import simulate_batch
from optanalysis.studies import StudyResult, verdict_line
from optanalysis.symbolic import H, derive, roots
from optanalysis.theory.spectrum import spectral_radius

TITLE = "Heavy-ball rate map: fitted kernel rates equal the worst-case spectral radius over (lr, momentum)"

SPECTRUM = np.geomspace(0.1, 1.0, 16)
STEPS = 2000
TOL = 1e-3
MAX_STDERR = TOL / 10
MIXING = 0.01  # faster modes carrying > 1 % of the loss halfway to the floor: a blend is fitted


def _grid(quick):
    n_lr, n_m = (20, 20) if quick else (40, 39)
    return np.linspace(0.05, 4.0, n_lr), np.linspace(0.0, 0.95, n_m)


def _mixed_share(lr, m):
    """Share of the loss the faster predicted modes still carry, relative to the slowest, halfway
    to the floor (equal initial weights): sum_j (r_j/r1)^K with r1^(2K) = 1e-24."""
    mods = np.abs(roots("heavy_ball", SPECTRUM, lr=lr, momentum=m)).ravel()
    r1 = mods.max()
    # moduli within 1e-6 are equal: numerical roots near a double root are only ~sqrt(eps)-accurate
    rest = mods[(mods < r1 * (1 - 1e-6)) & (mods > 0)]
    if not rest.size or r1 >= 1:
        return 0.0
    return float(np.sum(np.sqrt(FLOOR) ** (np.log(rest / r1) / np.log(r1))))


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


def run(quick=False):
    boolean(quick, "quick")
    lrs, moms = _grid(quick)
    LR, M = np.meshgrid(lrs, moms, indexing="ij")
    predicted = np.max(spectral_radius("heavy_ball", {"momentum": M[None]}, SPECTRUM[:, None, None], lr=LR[None]), axis=0)
    plist = [{"lr": float(a), "momentum": float(b)} for a, b in zip(LR.ravel(), M.ravel())]
    res = simulate_batch("heavy_ball", plist, x0=np.ones(SPECTRUM.size), hessian_diag=SPECTRUM, steps=STEPS)
    observed = np.full(LR.shape, np.nan)
    reason = np.full(LR.shape, "", dtype=object)
    for p in range(len(plist)):
        div = int(res.diverged_at[p, 0])
        fit = fit_rate(res.loss[p, 0], diverged_at=None if div < 0 else div)
        idx = np.unravel_index(p, LR.shape)
        if not fit.ok:
            reason[idx] = "diverged" if fit.reason.startswith("diverged") else "too fast (floor)"
            continue
        observed[idx] = fit.iterate_rate
        if fit.stderr / (2 * fit.iterate_rate) > MAX_STDERR:
            reason[idx] = "imprecise (ripples)"
        elif _mixed_share(LR[idx], M[idx]) > MIXING:
            reason[idx] = "two modes mixed"
    stable = predicted < 1
    accepted = stable & (reason == "")
    err = np.abs(observed - predicted)
    worst = float(np.max(err[accepted])) if accepted.any() else float("nan")
    where = np.unravel_index(np.argmax(np.where(accepted, err, -1)), LR.shape)
    hyper = {"spectrum": SPECTRUM.tolist(), "steps": STEPS}
    records = [Record.judge("heavy_ball", "constant", {**hyper, "lr": float(LR[where]), "momentum": float(M[where])},
                            f"max |fitted - predicted rate| over {int(accepted.sum())} accepted stable points",
                            float(predicted[where]), float(observed[where]), TOL)]
    counts = {r: int(np.sum(stable & (reason == r))) for r in sorted(set(reason[stable].tolist()) - {""})}
    # every run the theory calls divergent must have diverged or grown (fitted rate > 1)
    unstable = ~stable & (predicted > 1 + 1e-9)
    grew = (res.diverged_at[:, 0].reshape(LR.shape) >= 0) | (observed > 1)
    records.append(Record.judge("heavy_ball", "constant", hyper, "predicted-divergent grid points that did not grow",
                                0.0, float(np.sum(unstable & ~grew)), 0.0))
    data = {"lr": lrs.tolist(), "momentum": moms.tolist(), "predicted": predicted.tolist(),
            "observed": np.where(np.isfinite(observed), observed, np.nan).tolist(),
            "refused": reason.tolist(), "refused_counts_in_stable_region": counts,
            "stable_points": int(stable.sum()), "accepted_points": int(accepted.sum()),
            "boundary_lr": np.linspace(0.0, lrs[-1], 400).tolist(),
            "boundaries": _boundaries(np.linspace(0.0, lrs[-1], 400))}
    parameters = {"spectrum": SPECTRUM.tolist(), "x0": "ones", "steps": STEPS, "lr_grid": [lrs[0], lrs[-1], lrs.size],
                  "momentum_grid": [moms[0], moms[-1], moms.size], "tolerance": TOL, "max_stderr": MAX_STDERR,
                  "mixing_threshold": MIXING, "seeds": "none (deterministic)"}
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
                         (axes[1], np.where(pred < 1, shown, np.nan), "(b) fitted from kernel runs (blank: refused)")):
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
    axes[0].legend(fontsize=6.5, loc="lower left", framealpha=0.8)
    fig.colorbar(im, ax=axes[:2], label="per-step factor of ||x - x*||", shrink=0.9)
    err = np.maximum(np.abs(shown - pred), 1e-16)  # exact agreement drawn at the bottom of the scale
    im2 = axes[2].pcolormesh(lrs, moms, np.log10(np.where(pred < 1, err, np.nan)).T, shading="nearest",
                             cmap="magma", vmin=-12, vmax=-3)
    fig.colorbar(im2, ax=axes[2], label="log10 |fitted - predicted| (tolerance 1e-3)")
    counts = ", ".join(f"{k}: {v}" for k, v in data["refused_counts_in_stable_region"].items())
    axes[2].set(title=f"(c) error; {data['accepted_points']} of {data['stable_points']} stable points accepted",
                xlabel="lr * L", ylabel="momentum")
    axes[2].text(0.02, 0.02, "refused: " + counts, transform=axes[2].transAxes, fontsize=7, va="bottom",
                 bbox=dict(fc="w", alpha=0.8))
    fig.suptitle(f"{TITLE}\n{verdict_line(result.records)}", fontsize=10)
    return fig
