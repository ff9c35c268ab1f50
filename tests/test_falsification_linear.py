"""Every check of the linear-rule studies has power: a wrong theory (through the studies' ``HOOKS``)
or a wrong rule (one coefficient of its arithmetic changed) turns verdicts unexpected.

Each case names the records that must turn unexpected: the check that catches the falsification,
not merely "something failed".
"""
import pytest
from wrong_rule import run_with_wrong_rule

from optanalysis.studies import study


def unexpected(outcome) -> set:
    """The families (quantity up to its first comma) of the unexpected records."""
    return {m[0].split(",")[0] for m in outcome.mismatches}


GD_THEORY = {
    "a threshold 5% off": ("edge", lambda v: 1.05 * v, {"stability edge: derived vs 2/L", "stability edge lr"}),
    "a rate off by 1e-3": ("rate", lambda v: v + 1e-3, {f"rate at lr={x}*2/L" for x in (
        "0.978", "0.983", "0.988", "0.993", "0.998", "1.002", "1.008", "1.012", "1.018", "1.022")}),
    "the optimal rate off by 1e-3": ("optimal_rate", lambda v: v + 1e-3, {
        "optimal rate", "optimal rate: derived vs (kappa-1)/(kappa+1)", "tuned rate: closed form vs exact worst case"}),
    # heavy ball's tuned lr 4/(sqrt(L) + sqrt(mu))^2 (Polyak) in place of gd's 2/(L + mu)
    "the optimal lr of the wrong rule": ("optimal_lr", lambda v: 4 / (1 + (2 / v - 1) ** 0.5) ** 2, {
        "optimal lr: derived vs 2/(L+mu)", "optimal rate", "tuned rate: closed form vs exact worst case"}),
}


@pytest.mark.parametrize("case", list(GD_THEORY))
def test_gd_stability_and_rate_catches_a_wrong_theory(case):
    hook, wrong, caught = GD_THEORY[case]
    outcome = study("gd_stability_and_rate", quick=True, perturb={hook: wrong})
    assert unexpected(outcome) == caught


@pytest.mark.slow
def test_gd_stability_and_rate_catches_a_wrong_rule(tmp_path):
    """gd with its step scaled by 0.9: derivation and kernels agree with each other (the observed
    edge and rates pass), and the literature's 2/L and 2/(L+mu) do not."""
    result = run_with_wrong_rule("gd_stability_and_rate", "gd", "x - lr * g", "x - 0.9 * lr * g", tmp_path)
    assert {m[0].split(",")[0] for m in result["mismatches"]} == {
        "stability edge: derived vs 2/L", "optimal lr: derived vs 2/(L+mu)"}
