"""Every check of the adaptive-rule studies (``adam_nonconvergence``, ``adaptive_cycles``) has power: a
wrong theory (through the studies' ``HOOKS``) or a wrong rule (one coefficient of its arithmetic
changed) turns verdicts unexpected.

Each case names the record families (quantity up to its first comma) that must turn unexpected:
the check that catches the falsification, not merely "something failed".
"""
import pytest
from falsify import caught_by, run_with_wrong_rule, unexpected

from optanalysis.studies import study


ADAM_REGRET_ORACLE = "adam average regret: (x_lim - x*) x mean slope of the losses vs 2(C-2)/3"
REDDI_THEORY = {
    "Adam's limit 5% off": ("adam_limit", lambda v: 0.95 * v, {
        "adam online final x", "adam stochastic tail mean x", "adam online average regret",
        "adam stochastic average regret", ADAM_REGRET_ORACLE}),
    "the optimum 5% off": ("optimum", lambda v: 0.95 * v, {
        "amsgrad online final x", "adam online average regret", "adam stochastic average regret",
        ADAM_REGRET_ORACLE}),
    "Adam's regret 5% off": ("adam_regret", lambda v: 1.05 * v, {
        "adam online average regret", "adam stochastic average regret", ADAM_REGRET_ORACLE}),
    "AMSGrad's finite-horizon bound 5% too tight": ("amsgrad_gap", lambda v: 0.95 * v, {"amsgrad online final x"}),
}


@pytest.mark.parametrize("case", list(REDDI_THEORY))
def test_adam_nonconvergence_catches_a_wrong_theory(case):
    hook, wrong, caught = REDDI_THEORY[case]
    assert caught_by("adam_nonconvergence", hook, wrong) == caught


def test_adam_nonconvergence_optimum_on_the_wrong_side():
    """x* = +1: every record built on it fails, and the exploratory side record, reported apart,
    turns to fail without being counted as unexpected."""
    outcome = study("adam_nonconvergence", quick=True, perturb={"optimum": lambda v: -v})
    assert unexpected(outcome) == {"amsgrad online final x", "adam online average regret",
                                   "adam stochastic average regret", ADAM_REGRET_ORACLE}
    assert [got for _, got, _ in outcome.exploratory] == ["fail"]


@pytest.mark.slow
def test_adam_nonconvergence_catches_a_wrong_rule(tmp_path):
    """Adam with the decay of v changed from beta2 to 1 - beta2: its v remembers the large gradient
    for long, Adam no longer ends at the worst point, and the paper's predictions (+1, 2(C-2)/3)
    fail; AMSGrad (whose vmax keeps the large gradient anyway) still passes."""
    result = run_with_wrong_rule("adam_nonconvergence", "adam", "v = beta2 * v +", "v = (1 - beta2) * v +", tmp_path)
    assert {m[0].split(",")[0] for m in result["mismatches"]} == {
        "adam online final x", "adam online average regret", "adam stochastic tail mean x",
        "adam stochastic average regret"}


CYCLES_THEORY = {
    "RMSProp's amplitude 5% off": ("rmsprop_amplitude", lambda v: 1.05 * v, {
        "rmsprop orbit amplitude: derived vs lr/2", "rmsprop max rel. deviation of |x| from the derived amplitude"}),
    "RMSProp's two-step rate off by 1e-3": ("rmsprop_radius", lambda v: v + 1e-3, {
        "rmsprop two-step radius: derived vs alpha", "rmsprop two-step contraction: AR(2) fit vs derived radius"}),
    "Adam's amplitude 5% off": ("adam_amplitude", lambda v: 1.05 * v, {
        "adam orbit amplitude / lr: derived vs (1 - beta1)/(2(1 + beta1))"}),
    "Adam's orbit attracting": ("adam_radius", lambda v: v - 0.15, {
        "adam orbit repels: derived two-step radius >= 1",
        "adam two-step radius at the typed crossing beta1*: derived vs 1"}),
    "homogeneity degree off by 1e-3": ("homogeneity_degree", lambda v: v + 1e-3, {
        "adam homogeneity: max |x_k/lr - reference| over all steps"}),
}


@pytest.mark.parametrize("case", list(CYCLES_THEORY))
def test_adaptive_cycles_catches_a_wrong_theory(case):
    hook, wrong, caught = CYCLES_THEORY[case]
    outcome = study("adaptive_cycles", quick=True, perturb={hook: wrong})
    assert unexpected(outcome) == caught
    # the band record is exploratory: reported, never unexpected, whatever the perturbation
    assert len(outcome.exploratory) == 1


def test_adaptive_cycles_homogeneity_checks_the_lr_scaling():
    """A wrong degree of homogeneity fails exactly the runs at another lr than the reference's (the
    run at the reference lr and another h is unaffected by the degree)."""
    outcome = study("adaptive_cycles", quick=True, perturb={"homogeneity_degree": lambda v: v + 1e-3})
    assert sorted(m[0] for m in outcome.mismatches) == [
        "adam homogeneity: max |x_k/lr - reference| over all steps, lr=2^-4, h=1 vs (2^-10, 1)",
        "adam homogeneity: max |x_k/lr - reference| over all steps, lr=2^-4, h=64 vs (2^-10, 1)"]


@pytest.mark.slow
def test_adaptive_cycles_catches_a_wrong_rule(tmp_path):
    """RMSProp with its squared-gradient average scaled by 0.9: the derived orbit (lr/(2 sqrt 0.9))
    and the kernel agree with each other, and the hand-derived lr/2 does not."""
    result = run_with_wrong_rule("adaptive_cycles", "rmsprop", "(1 - alpha) * g * g", "(1 - alpha) * 0.9 * g * g",
                                 tmp_path)
    assert {m[0].split(",")[0] for m in result["mismatches"]} == {"rmsprop orbit amplitude: derived vs lr/2"}
