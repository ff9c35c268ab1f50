"""Every check of the lecture-claim studies has power: a wrong theory (through the studies' ``HOOKS``)
or a wrong rule (one coefficient of its arithmetic changed) turns verdicts unexpected.

Each case names the records that must turn unexpected (their full quantities): the checks that
catch the falsification, and the claims decided by theory that flip from their expected verdict.
The RMSProp and Adam studies are exploratory throughout: nothing they judge against comes from
theory, so they have no hook (asserted here) and nothing to falsify.
"""
import numpy as np
import pytest
from falsify import run_with_wrong_rule

from optanalysis.studies import load_study, study

HB = "tuned heavy_ball {}, kappa=100"
HB_LR = HB.format("lr: derived vs 4/(sqrt(L)+sqrt(mu))^2")
HB_MOMENTUM = HB.format("momentum: derived vs ((sqrt(kappa)-1)/(sqrt(kappa)+1))^2")
HB_RATE = HB.format("rate: derived vs (sqrt(kappa)-1)/(sqrt(kappa)+1)")
GD_RATE = "tuned gd rate: derived vs (kappa-1)/(kappa+1), kappa=100"
NAG_RATE = "tuned nesterov rate: derived vs 1-2/sqrt(3kappa+1), kappa=100"
HB_RADIUS = "spectral radius, heavy_ball b={}: derived vs roots of z^2-(1+b-lr h)z+b"
MOMENTUM_RACE = "momentum_accelerates|both tuned (derived), kappa=100"
NESTEROV_RACE = "nesterov_faster|each tuned (derived), kappa=100"
EXACT = "exact expected loss: derived vs SGD moment recursion, {}"


def unexpected(mismatches) -> set:
    return {m[0] for m in mismatches}


def later(seq):
    """The schedule off by one step: every lr change happens one step later."""
    return np.concatenate([seq[:1], seq[:-1]])


def reduced_once(seq):
    """One reduction (factor 0.5) at the last step."""
    return np.concatenate([seq[:-1], 0.5 * seq[-1:]])


def _horizon_losses(schedule):
    return {EXACT.format(f"{schedule}, T={T}") for T in (250, 1000, 4000)}


EXP_MC = "exact expected final loss vs kernel Monte Carlo mean, gamma=0.01^(1/1000), T=1000"
EXP_SEQ = {f"lr sequence: derived vs lr gamma^k, gamma=0.01^(1/{g}), {n} steps"
           for g, n in ((250, 4000), (250, 250), (1000, 1000), (4000, 4000))}

CASES = {
    # heavy ball run and checked at gd's optimal tuning (lr 2/(L+mu), momentum 0): the oracles catch
    # the tuning, and the race, now gd against itself, flips from supported
    ("lesson_momentum_accelerates", "the tuning of the wrong rule"): (
        "tuning", lambda t: {**t, "heavy_ball": {"lr": t["gd"]["lr"], "momentum": 0.0}},
        {HB_LR, HB_MOMENTUM, MOMENTUM_RACE}),
    ("lesson_momentum_accelerates", "the optimal lr of the wrong rule"): (
        "tuning", lambda t: {**t, "heavy_ball": {**t["heavy_ball"], "lr": t["gd"]["lr"]}}, {HB_LR}),
    ("lesson_momentum_accelerates", "the rates off by 1e-3"): (
        "rate", lambda r: {k: v + 1e-3 for k, v in r.items()}, {GD_RATE, HB_RATE}),
    ("lesson_momentum_accelerates", "the spectral radii off by 1e-3"): (
        "radius", lambda r: {k: v + 1e-3 for k, v in r.items()},
        {"spectral radius, gd: derived vs roots of z-(1-lr h)", HB_RADIUS.format(0.5), HB_RADIUS.format(0.9)}),
    # heavy ball run at Nesterov's (Lessard-Recht-Packard) tuning: its rate sqrt(0.793) = 0.891 is
    # above Nesterov's 0.885, so the race flips from refuted
    ("lesson_nesterov_faster", "the tuning of the wrong rule"): (
        "tuning", lambda t: {**t, "heavy_ball": dict(t["nesterov"])}, {HB_LR, HB_MOMENTUM, NESTEROV_RACE}),
    ("lesson_nesterov_faster", "the rates off by 1e-3"): (
        "rate", lambda r: {k: v + 1e-3 for k, v in r.items()}, {HB_RATE, NAG_RATE}),
    ("lesson_nesterov_faster", "the spectral radii off by 1e-3"): (
        "radius", lambda r: {k: v + 1e-3 for k, v in r.items()},
        {"spectral radius, heavy_ball: derived vs roots of z^2-(1+b-lr h)z+b",
         "spectral radius, nesterov: derived vs roots of z^2-(1+b)(1-lr h)z+b(1-lr h)"}),
    ("lesson_step_decay_converges", "a noise variance 10% too large"): (
        "noise_variance", lambda v: 1.1 * v,
        {EXACT.format("step decay, noisy"), EXACT.format("constant, noisy"),
         "exact expected final loss vs kernel Monte Carlo mean, step decay"}),
    ("lesson_step_decay_converges", "the schedule off by one step"): (
        "schedule", later, {EXACT.format("step decay, noisy"), EXACT.format("step decay, noiseless")}),
    ("lesson_exp_decay_long_training", "a noise variance 10% too large"): (
        "noise_variance", lambda v: 1.1 * v,
        _horizon_losses("gamma fixed 0.01^(1/250)") | _horizon_losses("constant")
        | _horizon_losses("gamma=0.01^(1/T)") | {EXP_MC}),
    # the shifted sequence starts with a zero decrement, so the shape claim flips from supported
    ("lesson_exp_decay_long_training", "the schedule off by one step"): (
        "schedule", later, EXP_SEQ | _horizon_losses("gamma fixed 0.01^(1/250)")
        | _horizon_losses("gamma=0.01^(1/T)") | {"exp_decay_shape|absolute decrease slows"}),
    ("lesson_plateau_improves", "one lr reduction theory does not predict"): (
        "plateau_lrs", reduced_once,
        {f"noiseless plateau run: final loss vs gd's closed form without reduction, lr={b}" for b in ("0.5", "1", "1.5")}),
}


@pytest.mark.parametrize("case", list(CASES), ids=[f"{s}: {c}" for s, c in CASES])
def test_a_wrong_theory_turns_the_checks_unexpected(case):
    hook, wrong, caught = CASES[case]
    outcome = study(case[0], quick=True, perturb={hook: wrong})
    assert unexpected(outcome.mismatches) == caught


@pytest.mark.parametrize("name", ["lesson_rmsprop_helps_badly_scaled", "lesson_adam_better_when_sparse"])
def test_exploratory_studies_have_no_hook(name):
    assert load_study(name).HOOKS == {}
    with pytest.raises(ValueError, match="unknown hook"):
        study(name, quick=True, perturb={"noise_variance": lambda v: v})


WRONG_RULES = {
    # heavy ball's momentum term scaled by 0.9: its derived Polyak momentum and its derived roots
    # differ from the typed formulas, while derivation and kernels still agree with each other
    "lesson_momentum_accelerates": (
        "heavy_ball", "momentum * (x - x_prev)", "0.9 * momentum * (x - x_prev)",
        {HB_MOMENTUM, HB_RADIUS.format(0.5), HB_RADIUS.format(0.9)}),
    # Nesterov's gradient step scaled by 0.9: its derived LRP lr and its derived roots differ
    # (scaling its momentum term instead leaves the symbolic tuner running for minutes)
    "lesson_nesterov_faster": (
        "nesterov", "v = momentum * v - lr * g", "v = momentum * v - 0.9 * lr * g",
        {"tuned nesterov lr: derived vs 4/(3L+mu), kappa=100",
         "spectral radius, nesterov: derived vs roots of z^2-(1+b)(1-lr h)z+b(1-lr h)"}),
    # gd's step scaled by 0.9: every exact loss differs from the paper's recursion, while the Monte
    # Carlo checks still pass (the kernels follow the same wrong rule) and so do the claims
    "lesson_step_decay_converges": (
        "gd", "x - lr * g", "x - 0.9 * lr * g",
        {EXACT.format(f"{s}, {n}") for s in ("step decay", "constant") for n in ("noisy", "noiseless")}),
    "lesson_exp_decay_long_training": (
        "gd", "x - lr * g", "x - 0.9 * lr * g",
        _horizon_losses("gamma fixed 0.01^(1/250)") | _horizon_losses("constant") | _horizon_losses("gamma=0.01^(1/T)")),
    "lesson_plateau_improves": (
        "gd", "x - lr * g", "x - 0.9 * lr * g",
        {f"noiseless plateau run: final loss vs gd's closed form without reduction, lr={b}" for b in ("0.5", "1", "1.5")}),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(WRONG_RULES))
def test_a_wrong_rule_turns_the_checks_unexpected(name, tmp_path):
    rule, old, new, caught = WRONG_RULES[name]
    result = run_with_wrong_rule(name, rule, old, new, tmp_path)
    assert unexpected(result["mismatches"]) == caught
