"""Every check of the schedule studies (``exponential_decay_stall``, ``schedules_noisy_quadratic``) has
power: a wrong theory (through the studies' ``HOOKS``: a schedule off by one step, a floor 5 % off, a
noise variance 10 % too large) or a wrong rule (gd's step scaled by 0.9) turns verdicts unexpected.

Each case names the record families (quantity up to its first comma) that must turn unexpected;
the noisy study's cases also name those of marginal power, which may (the noise draw decides).
"""
import numpy as np
import pytest
from falsify import caught_by, run_with_wrong_rule


def advanced(seq):
    """The schedule one step ahead (update k uses lr_(k+1), as when scheduler.step() runs first)."""
    return np.r_[seq[1:], seq[-1]]


def delayed(seq):
    """The schedule one step behind (the first lr used twice)."""
    return np.r_[seq[0], seq[:-1]]


PRODUCT = "floor: derived vs prod_k (1 - lr gamma^k h)^2"
KERNEL = {"floor: kernel vs derived", "total floor: kernel vs derived"}
UPPER, LOWER = "log floor <= -2 h S", "log floor >= -2 h S - (lr h)^2/((1 - gamma^2)(1 - lr h))"
STALL_THEORY = {
    # one step ahead drops the largest factor: the derived floor rises above exp(-2 h S)
    "the schedule one step ahead": ("lr_sequence", lambda s: s[1:], {PRODUCT, UPPER, *KERNEL}),
    # one step behind repeats it: the floor falls below the closed-form lower bound
    "the schedule one step behind": ("lr_sequence", delayed, {PRODUCT, LOWER, *KERNEL}),
    "the floor 5% off": ("floor", lambda v: 1.05 * v, {PRODUCT, UPPER, *KERNEL}),
}


@pytest.mark.parametrize("case", list(STALL_THEORY))
def test_exponential_decay_stall_catches_a_wrong_theory(case):
    hook, wrong, caught = STALL_THEORY[case]
    assert caught_by("exponential_decay_stall", hook, wrong) == caught


@pytest.mark.slow
def test_exponential_decay_stall_catches_a_wrong_rule(tmp_path):
    """gd with its step scaled by 0.9: derivation and kernel agree (the kernel records pass); the
    typed product and the bound exp(-2 h S) do not."""
    result = run_with_wrong_rule("exponential_decay_stall", "gd", "x - lr * g", "x - 0.9 * lr * g", tmp_path)
    assert {m[0].split(",")[0] for m in result["mismatches"]} == {PRODUCT, UPPER}


def mc(name, batch):
    return f"E[loss] of {name} at B={batch}: Monte Carlo vs derived"


def closed(name, batch):
    return f"E[loss] of {name} at B={batch}: derived vs closed form"


def floor(batch):
    return f"noise floor of the constant lr at B={batch}: derived steady state vs sum_i lr c_i/(2B(2 - lr h_i))"


BIG = 10**6
NOISE_CAUGHT = {mc(n, 1) for n in ("constant", "step", "exponential", "inverse_time", "cosine")} | {
    mc("constant", BIG), closed("constant", 1), closed("constant", BIG), closed("step", 1), closed("step", BIG),
    floor(1), floor(BIG)}
SHIFT_CAUGHT = {mc(n, BIG) for n in ("step", "exponential", "inverse_time", "cosine")} | {
    closed("step", 1), closed("step", BIG)} | {
    f"final loss without noise of {n}: kernel vs derived" for n in ("step", "exponential", "inverse_time", "cosine")}
# Records whose power against the wrong theory is marginal (the wrong theory moves the prediction
# by less than the record's confidence half-width, so whether the record turns unexpected depends on
# the noise draw): they may turn unexpected, records outside must and marginal may not.  At B = 1e6
# a 10 % error in the noise variance moves the decaying schedules' E[loss] at step 200 (quick mode)
# by ~0.4 of the Monte Carlo's half-width (exponential: 1.4e-8 against 3.5e-8); at B = 1 a one-step
# shift of a decaying schedule moves E[loss] by less than the noise-dominated Monte Carlo resolves.
DECAYING = ("step", "exponential", "inverse_time", "cosine")
NOISE_MARGINAL = {mc(n, BIG) for n in DECAYING}
SHIFT_MARGINAL = {mc(n, 1) for n in DECAYING}
NQM_THEORY = {
    # the Monte Carlo records at B = 1 (noise-dominated) and the constant lr's at B = 1e6 have the
    # power to see it, besides the typed closed forms
    "a noise variance 10% too large": ("noise_variance", lambda v: 1.1 * v, NOISE_CAUGHT, NOISE_MARGINAL),
    "a noise variance 10% too small": ("noise_variance", lambda v: v / 1.1, NOISE_CAUGHT, NOISE_MARGINAL),
    # the constant lr is unchanged by a shift; at B = 1 the noise hides it from the Monte Carlo
    "the schedule one step ahead": ("lr_sequence", advanced, SHIFT_CAUGHT, SHIFT_MARGINAL),
    "the schedule one step behind": ("lr_sequence", delayed, SHIFT_CAUGHT, SHIFT_MARGINAL),
}


@pytest.mark.parametrize("case", list(NQM_THEORY))
def test_schedules_noisy_quadratic_catches_a_wrong_theory(case):
    hook, wrong, must, marginal = NQM_THEORY[case]
    caught = caught_by("schedules_noisy_quadratic", hook, wrong)
    assert must <= caught, f"not caught: {sorted(must - caught)}"
    assert caught <= must | marginal, f"caught without the power to: {sorted(caught - must - marginal)}"


@pytest.mark.slow
def test_schedules_noisy_quadratic_catches_a_wrong_rule(tmp_path):
    """gd with its step scaled by 0.9: the moment recursion and the kernels follow it and agree (the
    Monte Carlo records and the claims pass); Zhang et al.'s closed forms do not."""
    result = run_with_wrong_rule("schedules_noisy_quadratic", "gd", "x - lr * g", "x - 0.9 * lr * g", tmp_path)
    assert {m[0].split(",")[0] for m in result["mismatches"]} == {
        closed("constant", 1), closed("constant", BIG), closed("step", 1), closed("step", BIG), floor(1), floor(BIG)}
