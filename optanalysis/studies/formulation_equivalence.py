"""Momentum formulations: torch SGD momentum vs heavy ball, torch nesterov=True vs Sutskever's Nesterov.

Claim
    (1) torch.optim.SGD(momentum, dampening=0) — buffer b <- momentum b + g, x <- x - lr b — is
    Polyak's heavy ball x+ = x - lr g + momentum (x - x_prev): identical iterates under a
    constant lr.  Sutskever's "classical momentum" v <- momentum v - lr g, x <- x + v is heavy ball
    in velocity form (v = x - x_prev, a change of variables that does not involve lr), so it is
    identical to heavy ball under any schedule and needs no separate rule.
    (2) torch's nesterov=True has the characteristic polynomial of Sutskever's Nesterov (rule
    ``nesterov``), but its iterate is Sutskever's look-ahead point x + momentum v, not x: the
    states are equal only after the lr-dependent change of variables, and the iterates (and
    losses) differ even under a constant lr.
    (3) Under a changing lr both torch forms leave the textbook ones: torch's buffer is a sum of
    gradients, the textbook's displacement is lr times it (x_prev = x + lr b, v = -lr b), so the
    correspondence b = -(x - x_prev)/lr holds only while lr is constant; the difference is not
    noise: it is exactly the difference of the two products of iteration matrices.

Theory
    ``derive(rule).equivalences`` (optanalysis.symbolic.equivalence, from the rules' single
    definitions) finds the identical characteristic polynomials, proves that no lr-independent
    change of variables S exists, and gives the per-lr one: textbook state = S(lr) library state
    (heavy ball: (x, x_prev) = (x, x + lr b); Nesterov: (x, v) = (x + lr momentum b, -lr b)).
    ``optanalysis.theory.prediction.predict`` multiplies the derived iteration matrices along the lr
    sequence: the predicted loss difference of the two formulations under a step decay.

    Oracles: the papers' and the library's update rules, typed here as their characteristic
    polynomials and changes of variables, are what the derivation must equal: Polyak's heavy ball
    and torch's SGD momentum z^2 - (1 + b - lr h) z + b; Sutskever's Nesterov and torch's
    nesterov=True z^2 - (1 + b)(1 - lr h) z + b (1 - lr h) (docs/reference.md 2.6, 5.1); the
    changes of variables above, read off torch/optim/sgd.py (x_t = x_{t-1} - lr b_t) and
    Sutskever et al. (2013) (torch's parameter is x + b v).  Coefficients are compared at the
    study's lr, momentum and each curvature, to 1e-12 (exact expressions evaluated in floating
    point, coefficients of size <= 2).  A rule whose arithmetic differs derives another
    polynomial and fails here; its kernels then also break the claimed equivalences.

Method
    H = diag of 5 eigenvalues log-spaced in [0.01, 1], x0 = 1, lr = 0.5, momentum = 0.9;
    constant lr and step decay "step:step_size=50,gamma=0.1".  (1)-(2): kernel runs of each pair
    to several horizons n; the library's final state mapped by S(lr) against the textbook's
    (relative to ||x0||).  (3): the loss difference (library - textbook) over the run, from the
    kernels and from ``predict`` (hook ``schedule``: the lr schedule the prediction assumes).

    Tolerances.  Same arithmetic in a different order: each step adds a few eps of relative
    rounding to states of size <= ||x0|| (the runs are stable), so after n steps the states agree
    within 64 n eps ||x0|| (measured below n eps ||x0||).  Loss differences: the predicted and
    observed losses are each exact up to rounding (the bar of ``optanalysis.comparison``: 1e-10 x
    loss_0).  The claims "same iterates" (the largest relative loss difference at most 1e-6) and
    "differ under a schedule" (the state gap after S(lr) above 1e-6) use a criterion 1e4 times that
    bar, so rounding can never decide them.

References
    PyTorch torch/optim/sgd.py; B. T. Polyak (1964); I. Sutskever, J. Martens, G. Dahl, G. Hinton
    (2013), On the importance of initialization and momentum in deep learning, ICML; G. Goh (2017),
    Distill (z+ = beta z + grad, w+ = w - alpha z+ is torch's form); docs/reference.md sections 2.4,
    2.6 and 4.6.
"""
import numpy as np
import sympy

from optanalysis.checks import boolean
from optanalysis.comparison import EXACT_RTOL, Record
from optanalysis.plotting import figure
from optanalysis.theory.prediction import predict
from optanalysis.simulation import simulate
from optanalysis.studies import StudyResult, Theory, expect, verdict_line
from optanalysis.studies._lesson import claim
from optanalysis.symbolic import derive
from optanalysis.symbolic.derivation import parse

TITLE = "torch SGD momentum = heavy ball and torch nesterov = Sutskever (look-ahead) at constant lr; not under decay"

LR, MOMENTUM = 0.5, 0.9
SPECTRUM = np.geomspace(0.01, 1.0, 5)
DECAY = "step:step_size=50,gamma=0.1"
EPS = float(np.finfo(float).eps)
EXACT = 1e-12  # derived vs typed coefficients: floating-point agreement (coefficients of size <= 2)
CLAIM_GAP = 1e-6  # a relative loss difference this large is not rounding (1e4 x the exactness bar)
HB, NAG = "heavy ball vs torch SGD momentum", "Sutskever Nesterov vs torch nesterov=True"
# (label, textbook rule, library params, the derivation's library label, the library rule's fixed flags)
PAIRS = (
    (HB, "heavy_ball", {"dampening": 0.0}, "sgd_momentum(dampening=0", {"dampening": 0, "weight_decay": 0}),
    (NAG, "nesterov", {"nesterov": True}, "sgd_momentum(nesterov=True", {"nesterov": True, "weight_decay": 0}),
)
# The papers' and the library's update rules, typed: characteristic polynomial coefficients
# (z^2 + c1 z + c0 -> (c1, c0)) and the change of variables S(lr) (textbook state = S library state)
POLYAK = ("z^2-(1+b-lr h)z+b", lambda lr, b, h: (-(1 + b - lr * h), b))
SUTSKEVER = ("z^2-(1+b)(1-lr h)z+b(1-lr h)", lambda lr, b, h: (-(1 + b) * (1 - lr * h), b * (1 - lr * h)))
TYPED = {
    HB: {"textbook": POLYAK, "library": POLYAK,
         "state map": ("[[1, 0], [1, lr]]", lambda lr, b: np.array([[1.0, 0.0], [1.0, lr]]))},
    NAG: {"textbook": SUTSKEVER, "library": SUTSKEVER,
          "state map": ("[[1, lr b], [0, -lr]]", lambda lr, b: np.array([[1.0, lr * b], [0.0, -lr]]))},
}

SOURCES = "torch/optim/sgd.py; Polyak (1964); Sutskever et al. (2013); docs/reference.md 2.6"
EXPECTED = {
    f"{HB}: textbook polynomial, derived vs {POLYAK[0]}":
        expect("pass", "Polyak's x+ = x - lr g + b(x - x_prev) on 1/2 h x^2 (Polyak 1964; docs/reference.md 4.2)"),
    f"{HB}: library polynomial, derived vs {POLYAK[0]}":
        expect("pass", "torch's b+ = b b + g, x+ = x - lr b+ has heavy ball's polynomial (torch/optim/sgd.py; "
                       "docs/reference.md 2.6)"),
    f"{NAG}: textbook polynomial, derived vs {SUTSKEVER[0]}":
        expect("pass", "Sutskever's v+ = b v - lr g(x + b v), x+ = x + v+ (Sutskever et al. 2013; docs/reference.md 5.1)"),
    f"{NAG}: library polynomial, derived vs {SUTSKEVER[0]}":
        expect("pass", "torch's nesterov=True has Sutskever's polynomial (torch/optim/sgd.py; docs/reference.md 2.6)"),
    f"{HB}: change of variables S(lr), derived vs [[1, 0], [1, lr]]":
        expect("pass", "x_t = x_(t-1) - lr b_t, so x_prev = x + lr b (torch/optim/sgd.py; docs/reference.md 2.6)"),
    f"{NAG}: change of variables S(lr), derived vs [[1, lr b], [0, -lr]]":
        expect("pass", "torch's parameter is the look-ahead x + b v with v = -lr b (Sutskever et al. 2013; "
                       "docs/reference.md 2.6)"),
    "{}: state gap after S(lr), n={} (rel. to ||x0||)":
        expect("pass", f"at a constant lr S(lr) maps one recurrence onto the other exactly ({SOURCES})"),
    "{}: loss difference under {}, predicted vs kernels (max, rel.)":
        expect("pass", "predict multiplies the same derived maps along the lr sequence as the kernels run"),
    f"{HB}: same iterates under a constant lr":
        expect("supported", "S(lr) leaves x unchanged (x = x), so the iterates coincide while lr is constant "
                            "(docs/reference.md 2.6, 4.6)"),
    f"{NAG}: same iterates under a constant lr":
        expect("refuted", "torch's iterate is Sutskever's look-ahead point x + b v, not x (Sutskever et al. 2013; "
                          "docs/reference.md 2.6)"),
    f"{HB}: the forms differ under step decay (state gap after S(lr))":
        expect("supported", "x_prev = x + lr b involves lr: when lr drops torch's buffer (a sum of gradients) "
                            "is rescaled, so v = (x - x_prev)/lr holds only at constant lr (docs/reference.md 2.6)"),
    f"{NAG}: the forms differ under step decay (state gap after S(lr))":
        expect("supported", "v = -lr b involves lr: the step decay rescales torch's whole buffer by the new lr "
                            "(docs/reference.md 2.6, 4.6)"),
}
HOOKS = {
    "state_map": "the derived change of variables S(lr) (textbook state = S library state), as a matrix",
    "schedule": "the lr schedule the prediction of the loss difference assumes",
}


def _equivalence(textbook: str, library_label: str):
    """The derived constant-lr equivalence of ``library_label`` with ``textbook`` (None if the
    derivation finds none)."""
    return next((e for e in derive(textbook).equivalences
                 if e.schedule and e.schedule["library"].startswith(library_label)), None)


def _state_map(eq, textbook: str):
    """S(lr) of the derived equivalence (textbook state = S library state) as a NumPy function."""
    S = sympy.Matrix(parse(eq.schedule["state_map"], textbook))
    syms = {s.name: s for s in S.free_symbols}
    fn = sympy.lambdify([syms.get("lr", sympy.Symbol("lr")), syms.get("momentum", sympy.Symbol("momentum"))],
                        S, "numpy")
    return lambda lr, m: np.array(fn(lr, m), dtype=float)


def _coefficients(rule: str, fixed: dict, h: float) -> tuple:
    """(c1, c0) of the derived characteristic polynomial z^2 + c1 z + c0 at the study's lr, momentum, h."""
    d = derive(rule, **fixed)
    values = {"lr": LR, "momentum": MOMENTUM, "h": h, "dampening": 0.0, "weight_decay": 0.0}
    poly = sympy.Poly(d.charpoly.subs({s: values[s.name] for s in d.charpoly.free_symbols if s.name != "z"}),
                      *[s for s in d.charpoly.free_symbols if s.name == "z"])
    c = [float(v) for v in poly.all_coeffs()]
    return (c[1], c[2]) if len(c) == 3 and c[0] == 1.0 else (float("nan"), float("nan"))


def _polynomial_gap(rule: str, fixed: dict, typed) -> float:
    """Largest |derived - typed| coefficient over the spectrum."""
    return max(float(np.max(np.abs(np.subtract(_coefficients(rule, fixed, h), typed(LR, MOMENTUM, h)))))
               for h in SPECTRUM)


def run(quick=False, perturb=None):
    boolean(quick, "quick")
    theory = Theory(HOOKS, perturb)
    horizons = (1, 10, 100) if quick else (1, 10, 100, 300)
    steps = 150 if quick else 300
    problem = {"x0": np.ones(SPECTRUM.size), "hessian_diag": SPECTRUM}
    x0_norm = float(np.linalg.norm(problem["x0"]))
    records, data = [], {"pairs": {}, "steps": steps}
    for label, tb, lib_extra, lib_label, lib_fixed in PAIRS:
        tb_prm = {"lr": LR, "momentum": MOMENTUM}
        lib_prm = {"lr": LR, "momentum": MOMENTUM, **lib_extra}
        hyper = {"lr": LR, "momentum": MOMENTUM, **lib_extra}
        typed = TYPED[label]
        # the papers' and the library's update rules, typed, as oracles of the derivation
        for side, rule, fixed in (("textbook", tb, {}), ("library", "sgd_momentum", lib_fixed)):
            text, coefficients = typed[side]
            records.append(Record.judge(rule, "constant", hyper,
                                        f"{label}: {side} polynomial, derived vs {text}",
                                        0.0, _polynomial_gap(rule, fixed, coefficients), EXACT))
        eq = _equivalence(tb, lib_label)
        derived_S = _state_map(eq, tb) if eq is not None else (lambda lr, m: np.full((2, 2), np.nan))

        def S(lr, m):
            return theory("state_map", derived_S(lr, m))

        text, oracle_S = typed["state map"]
        records.append(Record.judge("sgd_momentum", "constant", hyper,
                                    f"{label}: change of variables S(lr), derived vs {text}",
                                    0.0, float(np.max(np.abs(S(LR, MOMENTUM) - oracle_S(LR, MOMENTUM)))), EXACT))
        # (1), (2): states after the change of variables, constant lr
        mapped = []
        for n in horizons:
            a = simulate(tb, tb_prm, steps=n, **problem)
            b = simulate("sgd_momentum", lib_prm, steps=n, **problem)
            lib_in_tb = S(LR, MOMENTUM) @ np.vstack(b.state)
            gap = float(np.max(np.abs(lib_in_tb - np.vstack(a.state)))) / x0_norm
            mapped.append(gap)
            records.append(Record.judge("sgd_momentum", "constant", hyper,
                                        f"{label}: state gap after S(lr), n={n} (rel. to ||x0||)",
                                        0.0, gap, 64 * n * EPS))
        curves = {}
        for sched in (None, DECAY):
            name = "constant" if sched is None else sched
            assumed = None if sched is None else theory("schedule", sched)
            a = simulate(tb, tb_prm, steps=steps, schedule=sched, **problem)
            b = simulate("sgd_momentum", lib_prm, steps=steps, schedule=sched, **problem)
            pa = predict(tb, tb_prm, steps=steps, schedule=assumed, **problem)
            pb = predict("sgd_momentum", lib_prm, steps=steps, schedule=assumed, **problem)
            loss0 = float(a.loss[0])
            observed, predicted = (b.loss - a.loss) / loss0, (pb.loss - pa.loss) / loss0
            records.append(Record.judge("sgd_momentum", name, hyper,
                                        f"{label}: loss difference under {name}, predicted vs kernels (max, rel.)",
                                        0.0, float(np.max(np.abs(observed - predicted))), EXACT_RTOL))
            curves[name] = {"observed": observed.tolist(), "predicted": predicted.tolist(),
                            "loss_textbook": a.loss.tolist(), "loss_library": b.loss.tolist()}
            if sched is None:
                biggest = float(np.max(np.abs(observed)))
                records.append(claim("sgd_momentum", name, hyper, f"{label}: same iterates under a constant lr",
                                     CLAIM_GAP, biggest, "supported" if biggest <= CLAIM_GAP else "refuted"))
            else:
                # in textbook coordinates, with S at the lr of the last step: 0 if the forms agreed
                end = float(np.max(np.abs(S(b.lr[-1], MOMENTUM) @ np.vstack(b.state) - np.vstack(a.state)))) / x0_norm
                records.append(claim("sgd_momentum", name, hyper,
                                     f"{label}: the forms differ under step decay (state gap after S(lr))",
                                     CLAIM_GAP, end, "supported" if end > CLAIM_GAP else "refuted"))
        data["pairs"][label] = {"statement": eq.statement if eq is not None else "no equivalence derived",
                                "state_map": eq.schedule["state_map"] if eq is not None else None,
                                "horizons": list(horizons), "mapped_state_gap": mapped, "curves": curves}
    parameters = {"lr": LR, "momentum": MOMENTUM, "spectrum": SPECTRUM.tolist(), "x0": "ones", "decay": DECAY,
                  "steps": steps, "horizons": list(horizons), "seeds": "none (deterministic)"}
    return StudyResult(records, data, parameters)


def plot(result):
    data = result.data
    fig, axes = figure(1, 3, width=17, height=5.4)
    k = np.arange(data["steps"] + 1)
    for i, (label, p) in enumerate(data["pairs"].items()):
        for j, (name, c) in enumerate(p["curves"].items()):
            ls = "-" if name == "constant" else "--"
            axes[0].semilogy(k, c["loss_textbook"], ls, color=f"C{2 * i}", lw=2.5, alpha=0.5,
                             label=f"{label.split(' vs ')[0]}, {name}")
            axes[0].semilogy(k, c["loss_library"], ls, color=f"C{2 * i + 1}", lw=1,
                             label=f"{label.split(' vs ')[1]}, {name}")
            obs = np.abs(np.array(c["observed"]))
            axes[1].semilogy(k, np.maximum(obs, 1e-20), ls, color=f"C{2 * i}", lw=2.5, alpha=0.5,
                             label=f"{label}, {name}: kernels")
            axes[1].semilogy(k, np.maximum(np.abs(np.array(c["predicted"])), 1e-20), ":", color="k", lw=1)
        axes[2].loglog(p["horizons"], np.maximum(p["mapped_state_gap"], 1e-20), "o-", color=f"C{2 * i}", label=label)
    n = np.array(data["pairs"][next(iter(data["pairs"]))]["horizons"], dtype=float)
    axes[2].loglog(n, 64 * n * EPS, "k--", lw=1, label="tolerance 64 n eps")
    axes[0].set(xlabel="step", ylabel="loss", title="(a) losses (thick: textbook, thin: torch form)")
    axes[0].legend(fontsize=6.5)
    axes[1].set(xlabel="step", ylabel="|loss_torch - loss_textbook| / loss_0 (1e-20 = identical)",
                title="(b) difference: kernels (thick) and predict (dotted)")
    axes[1].legend(fontsize=6.5)
    axes[2].set(xlabel="horizon n (constant lr)", ylabel="max |S(lr) state_torch - state_textbook| / ||x0||",
                title="(c) states agree after the derived change of variables")
    axes[2].legend(fontsize=7)
    fig.suptitle(f"{TITLE}\n{verdict_line(result.records, EXPECTED)} (torch nesterov=True iterates the look-ahead point x + momentum v)", fontsize=9)
    return fig
