"""A rule the package does not ship, written in this file, gets the whole analysis.

Claim
    A rule defined outside ``optanalysis/rules/`` — here in this study's own file, registered with
    ``oa.register_rule`` — gets its derivation, its certified stability bound, its exact prediction
    and its compiled kernels from its one definition, and they agree with each other and with what
    is known by hand.  The rule: heavy ball whose gradient is taken at an exponential average y of
    its iterates,

        x_{t+1} = x_t - lr g(y_t) + momentum (x_t - x_{t-1}),
        y_{t+1} = avg y_t + (1 - avg) x_{t+1},

    three state entries (x, x_prev, y), so its characteristic polynomial is a cubic and the
    analysis of degree <= 2 does not apply.

Theory
    By hand (independently of the engine): on f = h x^2 / 2 the state (x, x_prev, y) moves by a
    3 x 3 matrix whose characteristic polynomial is

        p(z) = (z - avg) (z^2 - (1 + momentum) z + momentum) + (1 - avg) lr h z^2,

    heavy ball's polynomial with the averaging pole at z = avg, coupled through the gradient.  At
    avg = 0 the average is the iterate and the rule is heavy ball: stable iff lr h < 2 (1 +
    momentum) (Polyak 1964; docs/reference.md §4.3).  These are the oracles the derivation must
    equal.  For avg > 0 p is an irreducible cubic: the largest stable lr is certified numerically
    (:func:`optanalysis.largest_stable_lr`: the smallest positive zero of Res_z(p, z^3 p(1/z)),
    isolated exactly), the spectral radius is the largest root modulus, and the worst case over
    [mu, L] maximises it over curvatures (:mod:`optanalysis.symbolic.schur`).

Method
    The rule is registered from this module.  (1) Its derived characteristic polynomial is compared
    with the hand-derived one at 5 random points of (h, lr, momentum, avg) (seed 0).  (2) At
    avg = 0 the certified bound is compared with 2 (1 + momentum)/h for momentum in {0, 0.5, 0.9}.
    (3) For (momentum, avg) in {(0.5, 0.3), (0.8, 0.6)} (quick: the first only) on H = diag of 5
    eigenvalues log-spaced in [0.01, 1]: ``simulate_batch`` runs lr = certified bound at h = L times
    1 +- 2.25 % (10 points, step 0.5 %); each fitted rate (``fit_rate``) is compared with the derived
    spectral radius max_i rho(h_i), and the observed edge (midpoint between the largest decaying
    and the smallest growing lr) with the certified bound.  (4) At lr = 0.8 x bound the exact
    prediction (``oa.predict``, products of the derived maps) is compared with the kernels' loss at
    every step.  (5) The worst-case rate over [mu, L] (``worst_case_rate``) is compared with the
    maximum of |eigenvalues| of T(h) (``numpy.linalg.eigvals``) on 20001 log-spaced curvatures.

    Tolerances: derived vs hand-derived coefficients and bounds 1e-12 relative (exact expressions
    evaluated in floating point; the certified interval is 1e-12 wide); fitted rates within
    |1 - rho|/100 (the step count to any accuracy right within 1 %; the fit's bias from faster
    modes is smaller); the observed edge within half a scan step; prediction vs kernel 1e-9
    relative per step (the same arithmetic through two routes, rounding ~n eps growth over 300
    steps of a contraction); worst case 1e-6 absolute above the grid maximum (a smooth maximum is
    missed by O(spacing^2) ~ 1e-8 at this grid) and never below it.

References
    B. T. Polyak (1964), USSR Comput. Math. Math. Phys. 4(5) (heavy ball); E. I. Jury (1964),
    Theory and Application of the z-Transform Method, §3.2 (the stability table);
    docs/write_your_own_rule.md (this rule, written as a user would).
"""
import sys

import numpy as np

from optanalysis.checks import boolean
from optanalysis.comparison import Record
from optanalysis.hyper import coefficient, learning_rate
from optanalysis.plotting import figure
from optanalysis.rates import fit_rate
from optanalysis.rules import Rule, register_rule
from optanalysis.studies import StudyResult, Theory, expect, verdict_line

TITLE = "A rule written in the study's own file (heavy ball with its gradient at an average) gets the whole analysis"

# ------------------------------------------------------------------------------------------
# The rule, as a user writes it (the same contract as optanalysis/rules/*.py)

RULE = Rule(
    name="averaged_heavy_ball_study",
    hyper=(learning_rate(1e-2),
           coefficient("momentum", 0.5, "weight of the previous displacement", symbol=r"\beta"),
           coefficient("avg", 0.3, "weight of the old average in y", symbol=r"\gamma")),
    state=("x", "x_prev", "y"),
    linear=True,
    semantics="heavy ball with the gradient at an exponential average of the iterates (this study)",
)


def init(x0, lr, momentum, avg):
    return (x0, x0, x0)


def grad_point(x, x_prev, y, lr, momentum, avg):
    return y


def step(x, x_prev, y, g, lr, momentum, avg, t):
    x_new = x - lr * g + momentum * (x - x_prev)
    return (x_new, x, avg * y + (1 - avg) * x_new)


# ------------------------------------------------------------------------------------------

CONFIGS = ((0.5, 0.3), (0.8, 0.6))  # (momentum, avg)
SPECTRUM = np.geomspace(0.01, 1.0, 5)
SCAN = np.linspace(-0.0225, 0.0225, 10)  # lr / bound - 1, no point on the edge
EXACT = 1e-12
PREDICTION_RTOL = 1e-9
GRID = 20001
HAND = "by hand: p = (z - avg)(z^2 - (1 + momentum) z + momentum) + (1 - avg) lr h z^2"
POLYAK = "at avg = 0 the rule is heavy ball: stable iff lr h < 2 (1 + momentum) (Polyak 1964; docs/reference.md 4.3)"

EXPECTED = {
    "charpoly coefficient c{}: derived vs by hand, sample {}": expect("pass", HAND),
    "lr bound at avg=0: certified vs 2(1+momentum)/h, momentum={}": expect("pass", POLYAK),
    "rate at lr={}*bound, momentum={}, avg={}":
        expect("pass", "a linear recurrence decays at its spectral radius, the largest root of the derived p"),
    "stability edge lr, momentum={}, avg={}":
        expect("pass", "no root crosses the unit circle below the certified bound, one does at it"),
    "exact loss trajectory: predicted vs kernel, momentum={}, avg={}":
        expect("pass", "prediction and kernels are two evaluations of the same linear map"),
    "worst-case rate over [mu, L]: derived vs eigvals grid, momentum={}, avg={}":
        expect("pass", "the derived candidates contain every local maximum of the root modulus"),
}
HOOKS = {
    "charpoly": "the derived coefficients (c2, c1, c0) at a sample point",
    "edge": "the certified largest stable lr at h = L (and at avg = 0)",
    "rate": "the derived spectral radius at each scanned lr",
    "prediction": "the exact predicted loss trajectory",
    "worst_case": "the derived worst-case rate over [mu, L]",
}


def _hand_coefficients(h, lr, momentum, avg):
    """(c2, c1, c0) of the hand-derived p(z) (see Theory), monic."""
    return (-(1 + momentum) - avg + (1 - avg) * lr * h, momentum + avg * (1 + momentum), -avg * momentum)


def _rule():
    return register_rule(sys.modules[__name__])


def run(quick=False, perturb=None):
    import optanalysis as oa
    from optanalysis.symbolic.numeric import iteration_matrix_fn, poly_coefficients_fn, worst_case_rate

    boolean(quick, "quick")
    theory = Theory(HOOKS, perturb)
    rule = _rule()
    name = rule.name
    records = []
    data = {"configs": [], "charpoly": str(oa.derive(rule).charpoly)}
    # (1) the derived polynomial against the hand-derived one
    argnames, coeffs, degree = poly_coefficients_fn(rule)
    rng = np.random.default_rng(0)
    for k in range(5):
        point = dict(h=rng.uniform(0.01, 2), lr=rng.uniform(0.01, 2), momentum=rng.uniform(0, 1),
                     avg=rng.uniform(0, 1))
        derived = theory("charpoly", np.array([float(f(point["h"], *[point[n] for n in argnames]))
                                               for f in coeffs]))
        for j, (d, o) in enumerate(zip(derived, _hand_coefficients(**point))):
            records.append(Record.judge(name, "constant", point, f"charpoly coefficient c{2 - j}: derived vs "
                                        f"by hand, sample {k}", o, d, EXACT * max(1.0, abs(o))))
    # (2) the certified bound reduces to Polyak's at avg = 0
    for momentum in (0.0, 0.5, 0.9):
        bound = theory("edge", oa.largest_stable_lr(rule, 1.0, momentum=momentum, avg=0.0).value)
        oracle = 2 * (1 + momentum)
        records.append(Record.judge(name, "constant", {"h": 1.0, "momentum": momentum, "avg": 0.0},
                                    f"lr bound at avg=0: certified vs 2(1+momentum)/h, momentum={momentum}",
                                    oracle, bound, EXACT * oracle))
    # (3)-(5) kernels against the derivation
    names, T = iteration_matrix_fn(rule)
    mu, L = float(SPECTRUM[0]), float(SPECTRUM[-1])
    for momentum, avg in CONFIGS[:1] if quick else CONFIGS:
        hyper = {"momentum": momentum, "avg": avg}
        edge = theory("edge", oa.largest_stable_lr(rule, L, **hyper).value)
        lrs = list(edge * (1 + SCAN))
        steps = 3000
        res = oa.simulate_batch(rule, [{"lr": v, **hyper} for v in lrs], x0=np.ones(SPECTRUM.size),
                                hessian_diag=SPECTRUM, steps=steps)
        predicted = [theory("rate", float(np.max(oa.spectral_radius(rule, {"lr": v, **hyper}, h=SPECTRUM))))
                     for v in lrs]
        observed = []
        for i in range(len(lrs)):
            div = int(res.diverged_at[i, 0])
            observed.append(fit_rate(res.loss[i, 0] if div < 0 else res.loss[i, 0][:div]).iterate_rate)
        for v, p, o in zip(lrs, predicted, observed):
            if o is not None:
                records.append(Record.judge(name, "constant", {"lr": v, **hyper},
                                            f"rate at lr={v / edge:.3f}*bound, momentum={momentum}, avg={avg}",
                                            p, o, abs(1 - p) / 100))
        below = [v for v, o, d in zip(lrs, observed, res.diverged_at[:, 0]) if d < 0 and o is not None and o < 1]
        above = [v for v, o, d in zip(lrs, observed, res.diverged_at[:, 0]) if d >= 0 or (o is not None and o > 1)]
        seen = 0.5 * (max(below) + min(above)) if below and above else float("nan")
        records.append(Record.judge(name, "constant", hyper, f"stability edge lr, momentum={momentum}, avg={avg}",
                                    edge, seen, 0.5 * edge * (SCAN[1] - SCAN[0])))
        # (4) exact prediction at 0.8 x the bound
        lr = 0.8 * edge
        problem = dict(hessian_diag=SPECTRUM, x0=np.ones(SPECTRUM.size), steps=300)
        sim = oa.simulate(rule, {"lr": lr, **hyper}, **problem)
        pred = theory("prediction", oa.predict(rule, {"lr": lr, **hyper}, **problem).loss)
        err = float(np.max(np.abs(pred - sim.loss) / sim.loss))
        records.append(Record.judge(name, "constant", {"lr": lr, **hyper},
                                    f"exact loss trajectory: predicted vs kernel, momentum={momentum}, avg={avg}",
                                    0.0, err, PREDICTION_RTOL))
        # (5) worst case over [mu, L] against the eigenvalues of T(h) on a grid
        wc = theory("worst_case", worst_case_rate(rule, mu, L, lr=lr, **hyper))
        hs = np.geomspace(mu, L, GRID)
        args = {"lr": lr, **hyper}
        mats = np.array([np.array(T(h, *[args[n] for n in names]), float) for h in hs])
        eig = np.max(np.abs(np.linalg.eigvals(mats)), axis=1)
        records.append(Record.judge(name, "constant", {"lr": lr, **hyper},
                                    f"worst-case rate over [mu, L]: derived vs eigvals grid, momentum={momentum}, "
                                    f"avg={avg}", float(eig.max()), wc, 1e-6))
        fine = np.linspace(edge * 0.5, edge * 1.03, 200)
        data["configs"].append({
            "momentum": momentum, "avg": avg, "edge": edge, "scan_lr": lrs, "scan_predicted": predicted,
            "scan_observed": observed, "fine_lr": fine.tolist(),
            "fine_predicted": [float(np.max(oa.spectral_radius(rule, {"lr": v, **hyper}, h=SPECTRUM)))
                               for v in fine],
            "lr": lr, "loss_kernel": sim.loss.tolist(), "loss_predicted": pred.tolist(),
            "h_grid": hs[::100].tolist(), "rho_grid": eig[::100].tolist(), "worst_case": wc,
        })
    parameters = {"rule": name, "configs": [list(c) for c in (CONFIGS[:1] if quick else CONFIGS)],
                  "spectrum": SPECTRUM.tolist(), "scan": SCAN.tolist(), "x0": "ones", "grid": GRID,
                  "seeds": "0 (charpoly sample points); runs deterministic"}
    return StudyResult(records, data, parameters)


def plot(result):
    data = result.data
    fig, (ax1, ax2, ax3) = figure(1, 3, width=15, height=4.6)
    for c in data["configs"]:
        label = f"momentum={c['momentum']}, avg={c['avg']}"
        line, = ax1.plot(np.array(c["fine_lr"]) / c["edge"], c["fine_predicted"], lw=1.2,
                         label=f"derived, {label}")
        obs = [(v / c["edge"], o) for v, o in zip(c["scan_lr"], c["scan_observed"]) if o is not None]
        ax1.plot(*zip(*obs), "o", mfc="none", color=line.get_color(), label=f"fitted from kernels, {label}")
        k = np.arange(len(c["loss_kernel"]))
        ax2.semilogy(k, c["loss_kernel"], color=line.get_color(), lw=2.5, alpha=0.5, label=f"kernel, {label}")
        ax2.semilogy(k, c["loss_predicted"], ":", color="k", lw=1)
        ax3.semilogx(c["h_grid"], c["rho_grid"], color=line.get_color(), lw=1.2, label=f"eigvals of T(h), {label}")
        ax3.axhline(c["worst_case"], color=line.get_color(), ls="--", lw=0.8)
    ax1.axhline(1, color="grey", lw=0.8)
    ax1.axvline(1, color="grey", lw=0.8, ls="--")
    ax1.set(xlabel="lr / certified bound at h = L", ylabel="per-step factor of ||x - x*||",
            title="(a) stability edge of a cubic")
    ax1.legend(fontsize=7)
    ax2.set(xlabel="step", ylabel="loss", title="(b) lr = 0.8 x bound; dotted: exact prediction")
    ax2.legend(fontsize=7)
    ax3.set(xlabel="curvature h", ylabel="spectral radius", title="(c) worst case over [mu, L] (dashed: derived)")
    ax3.legend(fontsize=7)
    fig.suptitle(f"{TITLE}\n{verdict_line(result.records, EXPECTED)}", fontsize=10)
    return fig
