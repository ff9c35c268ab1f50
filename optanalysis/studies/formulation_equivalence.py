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
    (3) Under a changing lr both torch forms leave the textbook ones: torch rescales its whole
    buffer by the current lr (the change of variables depends on lr).  The difference is not
    noise: it is exactly the difference of the two products of iteration matrices.

Theory
    ``derive(rule).equivalences`` (optanalysis.symbolic.equivalence, from the rules' single
    definitions) finds the identical characteristic polynomials, proves that no lr-independent
    change of variables S exists, and gives the per-lr one: textbook state = S(lr) library state
    (heavy ball: (x, x_prev) = (x, x + lr b); Nesterov: (x, v) = (x + lr momentum b, -lr b)).
    ``optanalysis.theory.prediction.predict`` multiplies the derived iteration matrices along the lr
    sequence: the predicted loss difference of the two formulations under a step decay.

Method
    H = diag of 5 eigenvalues log-spaced in [0.01, 1], x0 = 1, lr = 0.5, momentum = 0.9;
    constant lr and step decay "step:step_size=50,gamma=0.1".  (1)-(2): kernel runs of each pair
    to several horizons n; the library's final state mapped by S(lr) against the textbook's
    (relative to ||x0||).  (3): the loss difference (library - textbook) over the run, from the
    kernels and from ``predict``.

    Tolerances.  Same arithmetic in a different order: each step adds a few eps of relative
    rounding to states of size <= ||x0|| (the runs are stable), so after n steps the states agree
    within 64 n eps ||x0|| (measured below n eps ||x0||).  Loss differences: the predicted and
    observed losses are each exact up to rounding (the bar of ``optanalysis.comparison``: 1e-10 x
    loss_0).  The claims (2) "same iterate" and (3) "differ under a schedule" are judged by a
    relative loss difference above 1e-6, 1e4 times that bar.

References
    PyTorch torch/optim/sgd.py; B. T. Polyak (1964); I. Sutskever, J. Martens, G. Dahl, G. Hinton
    (2013), On the importance of initialization and momentum in deep learning, ICML; G. Goh (2017),
    Distill (z+ = beta z + grad, w+ = w - alpha z+ is torch's form); docs/reference.md sections 2.4 and 2.6.
"""
import numpy as np
import sympy

from optanalysis.checks import boolean
from optanalysis.comparison import EXACT_RTOL, Record
from optanalysis.plotting import figure
from optanalysis.theory.prediction import predict
from optanalysis.simulation import simulate
from optanalysis.studies import StudyResult
from optanalysis.symbolic import derive
from optanalysis.symbolic.derivation import parse

TITLE = "torch SGD momentum = heavy ball and torch nesterov = Sutskever (look-ahead) at constant lr; not under decay"

LR, MOMENTUM = 0.5, 0.9
SPECTRUM = np.geomspace(0.01, 1.0, 5)
DECAY = "step:step_size=50,gamma=0.1"
EPS = float(np.finfo(float).eps)
CLAIM_GAP = 1e-6  # a relative loss difference this large is not rounding (1e4 x the exactness bar)
# (label, textbook rule, textbook params, library params, prefix of the equivalence's library label)
PAIRS = (
    ("heavy ball vs torch SGD momentum", "heavy_ball", {}, {"dampening": 0.0},
     "sgd_momentum(dampening=0"),
    ("Sutskever Nesterov vs torch nesterov=True", "nesterov", {}, {"nesterov": True}, "sgd_momentum(nesterov=True"),
)


def _state_map(textbook: str, library_label: str):
    """S(lr) of the derived equivalence (textbook state = S library state) as a NumPy function."""
    eq = next(e for e in derive(textbook).equivalences
              if e.schedule and e.schedule["library"].startswith(library_label))
    S = sympy.Matrix(parse(eq.schedule["state_map"], textbook))
    syms = {s.name: s for s in S.free_symbols}
    fn = sympy.lambdify([syms.get("lr", sympy.Symbol("lr")), syms.get("momentum", sympy.Symbol("momentum"))],
                        S, "numpy")
    return eq.statement, eq.schedule["state_map"], lambda lr, m: np.array(fn(lr, m), dtype=float)


def run(quick=False):
    boolean(quick, "quick")
    horizons = (1, 10, 100) if quick else (1, 10, 100, 300)
    steps = 150 if quick else 300
    problem = {"x0": np.ones(SPECTRUM.size), "hessian_diag": SPECTRUM}
    x0_norm = float(np.linalg.norm(problem["x0"]))
    records, data = [], {"pairs": {}, "steps": steps}
    for label, tb, tb_extra, lib_extra, lib_label in PAIRS:
        statement, smap, S = _state_map(tb, lib_label)
        tb_prm = {"lr": LR, "momentum": MOMENTUM, **tb_extra}
        lib_prm = {"lr": LR, "momentum": MOMENTUM, **lib_extra}
        hyper = {"lr": LR, "momentum": MOMENTUM, **lib_extra}
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
            a = simulate(tb, tb_prm, steps=steps, schedule=sched, **problem)
            b = simulate("sgd_momentum", lib_prm, steps=steps, schedule=sched, **problem)
            pa = predict(tb, tb_prm, steps=steps, schedule=sched, **problem)
            pb = predict("sgd_momentum", lib_prm, steps=steps, schedule=sched, **problem)
            loss0 = float(a.loss[0])
            observed, predicted = (b.loss - a.loss) / loss0, (pb.loss - pa.loss) / loss0
            records.append(Record.judge("sgd_momentum", name, hyper,
                                        f"{label}: loss difference under {name}, predicted vs kernels (max, rel.)",
                                        0.0, float(np.max(np.abs(observed - predicted))), EXACT_RTOL))
            curves[name] = {"observed": observed.tolist(), "predicted": predicted.tolist(),
                            "loss_textbook": a.loss.tolist(), "loss_library": b.loss.tolist()}
            if sched is None:
                biggest = float(np.max(np.abs(observed)))
                same = biggest <= CLAIM_GAP
                records.append(Record("sgd_momentum", name, hyper, f"{label}: same iterates under a constant lr",
                                      0.0, biggest, CLAIM_GAP, "supported" if same else "refuted"))
            else:
                # in textbook coordinates, with S at the lr of the last step: 0 if the forms agreed
                end = float(np.max(np.abs(S(b.lr[-1], MOMENTUM) @ np.vstack(b.state) - np.vstack(a.state))))
                differ = end / x0_norm > CLAIM_GAP
                records.append(Record("sgd_momentum", name, hyper,
                                      f"{label}: the forms differ under step decay (state gap after S(lr))",
                                      CLAIM_GAP, end / x0_norm, CLAIM_GAP, "supported" if differ else "refuted"))
        data["pairs"][label] = {"statement": statement, "state_map": smap, "horizons": list(horizons),
                                "mapped_state_gap": mapped, "curves": curves}
    parameters = {"lr": LR, "momentum": MOMENTUM, "spectrum": SPECTRUM.tolist(), "x0": "ones", "decay": DECAY,
                  "steps": steps, "horizons": list(horizons), "seeds": "none (deterministic)"}
    return StudyResult(records, data, parameters)


EXPECTED = {
    "heavy ball vs torch SGD momentum: same iterates under a constant lr": "supported",
    "heavy ball vs torch SGD momentum: the forms differ under step decay (state gap after S(lr))": "supported",
    # torch's iterate is Sutskever's look-ahead point x + momentum v, not x
    "Sutskever Nesterov vs torch nesterov=True: same iterates under a constant lr": "refuted",
    "Sutskever Nesterov vs torch nesterov=True: the forms differ under step decay (state gap after S(lr))":
        "supported",
}


def _verdict(records) -> str:
    bad = sum(r.verdict != EXPECTED.get(r.quantity, "pass") for r in records)
    claims = " | ".join(f"{r.quantity.split(': ')[1].split(' (')[0]} ({r.quantity.split(' vs ')[0]}): {r.verdict}"
                       for r in records if r.verdict in ("supported", "refuted", "qualified"))
    head = f"all {len(records)} records as expected" if not bad else f"{bad} records UNEXPECTED"
    return f"verdict: {head} (torch nesterov=True iterates the look-ahead point x + momentum v)\n{claims}"


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
    fig.suptitle(f"{TITLE}\n{_verdict(result.records)}", fontsize=9)
    return fig
