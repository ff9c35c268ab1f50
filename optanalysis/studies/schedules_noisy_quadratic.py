"""Learning-rate schedules on the noisy quadratic model: they help at small batch, only slow down without noise.

Claim
    On the noisy quadratic model (NQM) of Zhang et al. (2019) -- h_i = 1/i, gradient noise
    covariance diag(c_i)/B with c_i = h_i -- SGD at a constant lr stalls at a noise floor
    proportional to lr/B.  Decaying the lr (step, exponential, inverse-time, cosine) lowers the
    final expected loss at a small batch size; at a large batch the floor is negligible and the
    decays mostly slow the descent down; without noise a decay can only slow it down (every mode
    contracts by ``|1 - lr h_i|`` <= 1, which grows as lr shrinks while lr h_i <= 1).

Theory
    Derived: ``optanalysis.theory.noisy.expected_loss``, the exact E[loss] of the rule under any lr
    sequence (the first- and second-moment recursion derived from the rule's own step), fed the
    schedule's lr sequence (``lr_sequence``); ``steady_state`` (the derived fixed point of that
    recursion); without noise ``optanalysis.theory.prediction.predict``.

    Oracles, typed here (Zhang et al. 2019 via the authors' notebook; docs/reference.md 7.3 and
    7.7): per direction, with a = lr h and from a deterministic start, SGD's mean contracts by
    (1 - a) per step and its variance follows s <- s* + (1 - a)^(2n) (s - s*) over n steps at a
    constant lr, s* = lr^2 c/(B (1 - (1 - a)^2)); the loss is 1/2 h (mean^2 + s), and the
    steady-state loss is lr c/(2B(2 - lr h)) per direction.  The study evaluates this closed form
    for the constant lr and, piece by piece, for the step schedule (torch's StepLR written out:
    lr gamma^floor(k/step_size), docs/reference.md 8.2), and compares the derived E[loss] with it.

    Reduce-on-plateau reacts to the run's own noisy loss, so its lr sequence is random and
    correlated with the noise: E[loss] given that sequence is *not* ``expected_loss(lrs=...)`` of
    it, and it is not compared with a prediction under noise.  Whether that conditioning bias is
    detectable with 200 runs at B = 1 is exploratory (theory says only that the equality need not
    hold): the record reports the gap of the mean conditional prediction from the Monte Carlo mean
    in standard errors.  Without noise its lr sequence is deterministic, and the prediction
    conditional on the run's own lr sequence is exact.

Method
    d dimensions, h_i = 1/i, x* = 0, x0 = 1 (deterministic start), rule gd (plain SGD), lr = 1
    (= 1/L, so lr h_i <= 1), noise "hessian:sigma=1" (c_i = h_i), batch B in {1, 10^6}.
    (The noise floor of the constant lr is ~1.2/B here; at B = 100 it still dominates the
    deterministic error of every decay, so the large batch must be ~1e6 for the noise to become
    negligible.)  For each schedule and batch: the derived E[loss] and the Monte Carlo mean over
    fixed seeds 0..S-1 (``optanalysis.comparison.monte_carlo``, ``simulate_batch``), compared at
    checkpoints every 2d steps: four relaxation times 1/(2 lr h_min) = d/2 of the constant lr's
    slowest direction, so that its checkpoints are close to independent (correlation <= e^-4).

    Tolerances.  Monte Carlo vs derived: z x (standard error of the mean), z the normal quantile
    of a two-sided family-wise level (0.99 full, 0.95 quick) split by Bonferroni over every Monte
    Carlo record (schedules x batches x checkpoints).  Bonferroni holds whatever the correlation
    between checkpoints; for the decays, whose lr shrinks and relaxation time grows, the
    checkpoints are correlated and the test is conservative.  With fixed seeds a fail is a real
    discrepancy at that level, not bad luck.  The normal approximation: the mean of S >= 1000
    chi-square-like losses has skewness <= ~0.07, whose first-order (Edgeworth) effect cancels
    between the two tails of a two-sided test, so the level holds up to O(1/S).  Power: the seed
    count is chosen so that a model with 10 % too much noise variance fails the constant lr's
    records at B = 1, where the noise floor is the whole loss: the tolerance z x (standard error)
    is 7 % of E[loss] in quick mode (S = 1000, z = 3.29) and 4 % in full mode (S = 2000, z = 3.66).  Derived vs typed closed form: 1e-10 relative (the same recursion
    in another order, <= 400 steps of rounding).  Deterministic runs: 1e-10 relative to the
    predicted loss (products of the same maps).

    Claims, decided on the observations (the Monte Carlo means, or the noise-free kernel runs) by
    rules fixed before the run: "decay helps at B = 1" is supported when every open-loop decay's
    final Monte Carlo mean is below the constant lr's by more than z' standard errors of the
    difference (z' Bonferroni over the four decays at the same level; the schedules share their
    seeds, so their errors are positively correlated and the root-sum-square error of the
    difference used here is conservative), refuted when one is above
    by more than that, qualified otherwise; "the constant lr is best at B = 1e6" likewise with
    the inequalities reversed; "without noise decays only slow down" is supported when every
    schedule's final kernel loss is >= the constant lr's (to 1e-10 relative), refuted otherwise.

References
    G. Zhang, L. Li, Z. Nado, J. Martens, S. Sachdeva, G. Dahl, C. Shallue, R. Grosse (2019), Which
    algorithmic choices matter at which batch sizes? Insights from a noisy quadratic model,
    NeurIPS (docs/reference.md 7.3, 7.7: "schedules ... make no difference in the deterministic
    setting"; 10.2); PyTorch torch/optim/lr_scheduler.py (the schedules, docs/reference.md 8.2).
"""
import math

import numpy as np
from scipy.stats import norm

from optanalysis.checks import boolean
from optanalysis.comparison import Record, monte_carlo
from optanalysis.plotting import figure
from optanalysis.simulation import simulate, simulate_batch
from optanalysis.studies import StudyResult, Theory, expect, exploratory, verdict_line
from optanalysis.theory.noisy import expected_loss, steady_state
from optanalysis.theory.prediction import lr_sequence, predict

TITLE = ("LR schedules on the noisy quadratic model: decay beats the noise floor at small batch, "
         "only slows without noise")

LR = 1.0
SIGMA2 = 1.0  # noise "hessian:sigma=1": c_i = SIGMA2 h_i
BATCHES = (1, 10**6)
CONDITIONAL_SEEDS = 200  # runs whose own lr sequences are fed to expected_loss (plateau, B = 1)
EXACT_REL = 1e-10  # the same recursion or product of maps, in another order
STEP_GAMMA = 0.3

ZHANG = "Zhang et al. (2019)"
EXPECTED = {
    "E[loss] of {} at B={}: derived vs closed form, step {}":
        expect("pass", f"SGD's mean contracts by 1 - lr h and its variance relaxes to lr^2 c/(B(1-(1-lr h)^2)), "
                       f"piece by piece ({ZHANG}; docs/reference.md 7.3, 7.7)"),
    "noise floor of the constant lr at B={}: derived steady state vs sum_i lr c_i/(2B(2 - lr h_i))":
        expect("pass", f"the steady-state risk of a direction is lr c/(2B(2 - lr h)) ({ZHANG}; docs/reference.md 7.3)"),
    "E[loss] of {} at B={}: Monte Carlo vs derived, step {}":
        expect("pass", "the moment recursion is exact for a linear rule under any lr sequence (docs/reference.md 7.2): "
                       "the Monte Carlo mean lies within its Bonferroni interval"),
    "final loss without noise of {}: kernel vs derived":
        expect("pass", "without noise the state is the product of the derived per-step maps (docs/reference.md 10.1)"),
    "every open-loop decay ends below the constant lr at B=1 (Monte Carlo)":
        expect("supported", f"the constant lr stalls at its noise floor ~lr/B; a decay lowers it ({ZHANG}; "
                            "docs/reference.md 10.2)"),
    "the constant lr ends lowest of the open-loop schedules at B=1000000 (Monte Carlo)":
        expect("supported", "the floor ~1.2e-6 is below every decay's deterministic error, which a smaller lr "
                            "only slows (docs/reference.md 10.2)"),
    "without noise every schedule ends at a loss >= the constant lr's (kernel)":
        expect("supported", f"|1 - lr h| grows as lr shrinks while lr h <= 1 ({ZHANG}: schedules make no difference "
                            "in the deterministic setting; docs/reference.md 7.7, 10.2)"),
    "plateau, B=1: mean of E[loss | own lr sequence] vs Monte Carlo mean (gap in s.e.)":
        exploratory("the plateau's lrs depend on its noise, so conditioning on them need not be unbiased; "
                    "theory does not say whether the bias is detectable with 200 runs"),
}
HOOKS = {
    "noise_variance": "the gradient noise variance scale sigma^2 of the prediction (c_i = sigma^2 h_i)",
    "lr_sequence": "the lr sequence each prediction is derived under (the schedule's lr_k, k = 0, 1, ...)",
}


def _schedules(steps):
    return {"constant": None, "step": f"step:step_size={steps // 4},gamma={STEP_GAMMA:g}",
            "exponential": "exponential:gamma=0.99", "inverse_time": "inverse_time:decay=0.05",
            "cosine": f"cosine:T_max={steps}", "plateau": "plateau:patience=10,factor=0.3"}


def closed_form_loss(h, x0, c, batch, pieces):
    """The oracle: E[loss] of SGD on 1/2 sum h_i x_i^2 with noise variance c_i/batch from the
    deterministic start x0 after the constant-lr ``pieces`` [(lr, steps), ...] (docs/reference.md
    7.3, 7.7)."""
    mean, var = np.asarray(x0, dtype=float).copy(), np.zeros_like(h)
    for lr, n in pieces:
        a = 1 - lr * h
        s_star = lr**2 * c / batch / (1 - a**2)
        mean = a**n * mean
        var = s_star + a ** (2 * n) * (var - s_star)
    return float(np.sum(0.5 * h * (mean**2 + var)))


def _pieces(name, steps, k):
    """The lr pieces of the first k steps: the constant lr, or torch's StepLR lr gamma^floor(j/size)."""
    if name == "constant":
        return [(LR, k)]
    size = steps // 4
    return [(LR * STEP_GAMMA**i, min(size, k - i * size)) for i in range(-(-k // size))]


def _conditional_record(problem, steps, sched, batch, level):
    """The plateau's E[loss] against the average over runs of the exact E[loss] given each run's own
    lr sequence: the gap in standard errors of the Monte Carlo mean (exploratory)."""
    seeds = list(range(CONDITIONAL_SEEDS))
    res = simulate_batch("gd", [{"lr": LR}], seeds=seeds, steps=steps, schedule=sched, noise="hessian:sigma=1",
                         batch=batch, **problem)
    final = res.loss[0, :, -1]
    cond = np.mean([expected_loss("gd", {"lr": LR}, steps=steps, noise="hessian:sigma=1", batch=batch,
                                  lrs=res.lr[0, s], **problem).loss[-1] for s in range(len(seeds))])
    se = float(final.std(ddof=1) / np.sqrt(final.size))
    gap = float((cond - final.mean()) / se)
    z = float(norm.ppf(0.5 + level / 2))
    return Record("gd", sched, {"lr": LR, "batch": batch, "seeds": f"0..{len(seeds) - 1}"},
                  f"plateau, B={batch}: mean of E[loss | own lr sequence] vs Monte Carlo mean (gap in s.e.)",
                  0.0, gap, z, "supported" if abs(gap) <= z else "refuted", "criterion")


def _claim(quantity, batch, lower, higher, z):
    """Supported if every ``lower`` final mean is below every paired ``higher`` one by more than z
    standard errors of the difference, refuted if one is above by more, qualified otherwise.
    ``lower``/``higher``: lists of (name, mean, se) paired one to one."""
    gaps = [(h_m - l_m) / math.hypot(l_se, h_se) for (_, l_m, l_se), (_, h_m, h_se) in zip(lower, higher)]
    verdict = "supported" if min(gaps) > z else "refuted" if min(gaps) < -z else "qualified"
    return Record("gd", "all open-loop", {"lr": LR, "batch": batch, "z": z}, quantity, z, min(gaps), z, verdict,
                  "criterion")


def run(quick=False, perturb=None):
    boolean(quick, "quick")
    theory = Theory(HOOKS, perturb)
    d, steps, seeds, level = (20, 200, 1000, 0.95) if quick else (50, 400, 2000, 0.99)
    h = 1.0 / np.arange(1, d + 1)
    x0 = np.ones(d)
    problem = {"x0": x0, "hessian_diag": h}
    spacing = 4 * round(1 / (2 * LR * h.min()))  # four relaxation times of the slowest direction
    checkpoints = list(range(spacing, steps + 1, spacing))
    schedules = _schedules(steps)
    open_loop = [n for n in schedules if n != "plateau"]
    z = float(norm.ppf(1 - (1 - level) / (2 * len(open_loop) * len(BATCHES) * len(checkpoints))))  # Bonferroni
    z_claim = float(norm.ppf(1 - (1 - level) / (2 * (len(open_loop) - 1))))
    sigma2 = theory("noise_variance", SIGMA2)
    noise_true, noise_model = "hessian:sigma=1", f"hessian:sigma={math.sqrt(sigma2)!r}"
    lrs = {n: theory("lr_sequence", lr_sequence(LR, steps, s)) for n, s in schedules.items() if n != "plateau"}
    records, data = [], {"steps": steps, "level": level, "checkpoints": checkpoints, "noisy": {}, "deterministic": {},
                         "lrs": {}}
    finals = {}
    for batch in BATCHES:
        ss = steady_state("gd", {"lr": LR}, hessian_diag=h, noise=noise_model, batch=batch)
        floor = float(np.sum(LR * SIGMA2 * h / (2 * batch * (2 - LR * h))))
        records.append(Record.judge("gd", "constant", {"lr": LR, "batch": batch},
                                    f"noise floor of the constant lr at B={batch}: derived steady state vs "
                                    "sum_i lr c_i/(2B(2 - lr h_i))", floor, float(np.sum(ss)), EXACT_REL * floor))
        rows = {}
        for name, sched in schedules.items():
            mc = monte_carlo("gd", {"lr": LR}, seeds=seeds, level=level, steps=steps, schedule=sched, noise=noise_true,
                             batch=batch, **problem)
            row = {"mc_mean": mc.mean.tolist(), "mc_low": mc.low.tolist(), "mc_high": mc.high.tolist(),
                   "predicted": None}
            finals[name, batch] = (name, float(mc.mean[-1]), float(mc.stderr[-1]))
            if name == "plateau":  # closed loop: Monte Carlo only (see the docstring)
                if batch == BATCHES[0]:
                    records.append(_conditional_record(problem, steps, sched, batch, level))
                rows[name] = row
                continue
            ex = expected_loss("gd", {"lr": LR}, steps=steps, lrs=lrs[name], noise=noise_model, batch=batch,
                               **problem).loss
            row["predicted"] = ex.tolist()
            hyper = {"lr": LR, "batch": batch}
            for k in checkpoints:
                if name in ("constant", "step"):
                    oracle = closed_form_loss(h, x0, SIGMA2 * h, batch, _pieces(name, steps, k))
                    records.append(Record.judge("gd", name, {**hyper, "step": k},
                                                f"E[loss] of {name} at B={batch}: derived vs closed form, step {k}",
                                                oracle, ex[k], EXACT_REL * oracle))
                records.append(Record.judge("gd", name, {**hyper, "step": k, "seeds": seeds, "z": z},
                                            f"E[loss] of {name} at B={batch}: Monte Carlo vs derived, step {k}",
                                            ex[k], mc.mean[k], z * mc.stderr[k] + 1e-12 * ex[k]))
            rows[name] = row
        data["noisy"][str(batch)] = rows
    decays = [n for n in open_loop if n != "constant"]
    records.append(_claim("every open-loop decay ends below the constant lr at B=1 (Monte Carlo)", BATCHES[0],
                          [finals[n, BATCHES[0]] for n in decays], [finals["constant", BATCHES[0]]] * len(decays),
                          z_claim))
    records.append(_claim(f"the constant lr ends lowest of the open-loop schedules at B={BATCHES[1]} (Monte Carlo)",
                          BATCHES[1], [finals["constant", BATCHES[1]]] * len(decays),
                          [finals[n, BATCHES[1]] for n in decays], z_claim))
    kernel = {}
    for name, sched in schedules.items():
        sim = simulate("gd", {"lr": LR}, steps=steps, schedule=sched, **problem)
        seq = theory("lr_sequence", sim.lr) if name == "plateau" else lrs[name]  # plateau: the run's own lrs
        pred = predict("gd", {"lr": LR}, steps=steps, lrs=seq, **problem)
        records.append(Record.judge("gd", name, {"lr": LR}, f"final loss without noise of {name}: kernel vs derived",
                                    pred.loss[-1], sim.loss[-1], EXACT_REL * pred.loss[-1]))
        data["deterministic"][name] = pred.loss.tolist()
        data["lrs"][name] = sim.lr.tolist()
        kernel[name] = float(sim.loss[-1])
    slower = all(kernel[n] >= kernel["constant"] * (1 - EXACT_REL) for n in kernel)
    records.append(Record("gd", "all", {"lr": LR}, "without noise every schedule ends at a loss >= the constant lr's "
                          "(kernel)", kernel["constant"], min(kernel.values()), EXACT_REL * kernel["constant"],
                          "supported" if slower else "refuted", "criterion"))
    data["final_table"] = {name: {**{f"B={b}": data["noisy"][str(b)][name]["mc_mean"][-1] for b in BATCHES},
                                  "deterministic": kernel[name]} for name in schedules}
    parameters = {"dimension": d, "h": "1/i", "x0": "ones", "rule": "gd", "lr": LR, "noise": noise_true,
                  "batches": list(BATCHES), "steps": steps, "seeds": f"0..{seeds - 1}", "level": level,
                  "checkpoints": checkpoints, "bonferroni_z": z, "claim_z": z_claim,
                  "schedules": {n: s for n, s in schedules.items()}}
    return StudyResult(records, data, parameters)


def plot(result):
    data = result.data
    fig, axes = figure(2, 2, width=13, height=9)
    k = np.arange(data["steps"] + 1)
    for ax, batch in zip(axes[0], BATCHES):
        for i, (name, row) in enumerate(data["noisy"][str(batch)].items()):
            c = f"C{i}"
            ax.fill_between(k, row["mc_low"], row["mc_high"], color=c, alpha=0.25, lw=0)
            ax.semilogy(k, row["mc_mean"], color=c, lw=0.8, alpha=0.9,
                        label=f"{name}: Monte Carlo" + (" only (closed loop)" if row["predicted"] is None else ""))
            if row["predicted"] is not None:
                ax.semilogy(k, row["predicted"], "--", color="k", lw=0.7)
        ax.plot([], [], "k--", lw=0.7, label="predicted E[loss] (noisy.expected_loss)")
        ax.set(xlabel="step", ylabel="E[loss]",
               title=f"({'ab'[batch != BATCHES[0]]}) batch B = {batch}: mean and {data['level']:.0%} interval")
        ax.legend(fontsize=7)
    for i, (name, loss) in enumerate(data["deterministic"].items()):
        axes[1, 0].semilogy(k, loss, color=f"C{i}", label=name)
        axes[1, 1].plot(np.arange(len(data["lrs"][name])), data["lrs"][name], color=f"C{i}", label=name)
    axes[1, 0].set(xlabel="step", ylabel="loss", title="(c) no noise: exact losses (predict); decays only slow down")
    axes[1, 0].legend(fontsize=7)
    axes[1, 1].set(xlabel="step", ylabel="lr", title="(d) lr sequences (plateau: the deterministic run's)")
    axes[1, 1].legend(fontsize=7)
    table = "final loss:  " + "   ".join(f"{n}: " + ", ".join(f"{v:.3g}" for v in row.values())
                                        for n, row in data["final_table"].items())
    fig.text(0.5, -0.01, table + f"   (B={BATCHES[0]}, B={BATCHES[1]:g}, no noise)", ha="center", fontsize=7)
    fig.suptitle(f"{TITLE}\n{verdict_line(result.records, EXPECTED)}", fontsize=10)
    return fig
