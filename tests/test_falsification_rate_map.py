"""The heavy-ball rate map's checks have power: a wrong theory (through the study's ``HOOKS``) or a
wrong rule (heavy ball's momentum coefficient scaled by 0.9) turns the named records unexpected.
"""
import pytest
from falsify import caught_by, run_with_wrong_rule, unexpected

from optanalysis.studies import study


EDGE = "divergence edge: derived vs lr L = 2(1 + momentum)"
CRIT = "critical damping: derived vs momentum = (1 - sqrt(lr h))^2"
THEORY = {
    # 5 % beyond: runs the theory calls stable diverge (and, refused as diverged, lower the judged fraction)
    "the divergence edge 5% too far": ("edge", lambda v: 1.05 * v, {
        EDGE, "grid points inside the derived edge that grew", "judged fraction of the stable points"}),
    "the divergence edge 5% too near": ("edge", lambda v: 0.95 * v, {
        EDGE, "grid points beyond the derived edge that stayed bounded"}),
    # complex region drawn too small: points it calls real-rooted decay at exactly sqrt(momentum)
    "critical damping 5% too high": ("critical_damping", lambda v: 1.05 * v, {
        CRIT, "min (observed - sqrt(momentum)) where some direction has real roots"}),
    # drawn too large: points it calls complex have real roots and decay slower than sqrt(momentum)
    "critical damping 5% too low": ("critical_damping", lambda v: 0.95 * v, {
        CRIT, "max |observed - sqrt(momentum)| where every direction has complex roots",
        "rate: derived vs sqrt(momentum)"}),
    "a rate off by 1e-3": ("rate", lambda v: v + 1e-3, {
        "max |observed - derived rate| over the judged stable points", "rate: derived vs sqrt(momentum)",
        "rate: derived vs the larger real root"}),
}


@pytest.mark.parametrize("case", list(THEORY))
def test_momentum_rate_map_catches_a_wrong_theory(case):
    hook, wrong, caught = THEORY[case]
    assert caught_by("momentum_rate_map", hook, wrong) == caught


def test_a_rate_off_at_one_point_is_caught():
    """The agreement record aggregates the grid by its maximum: one point off by 1e-3 flips it."""
    def one_off(v):
        v = v.copy()
        v[5, 5] += 1e-3
        return v
    outcome = study("momentum_rate_map", quick=True, perturb={"rate": one_off})
    assert "max |observed - derived rate| over the judged stable points" in unexpected(outcome)


@pytest.mark.slow
def test_momentum_rate_map_catches_a_wrong_rule(tmp_path):
    """Heavy ball with its momentum term scaled by 0.9: the derivation and the kernels agree with each
    other (the observed rates equal the derived ones, the divergence counts are right), and the
    literature's edge 2(1 + b), critical damping (1 - sqrt(lr h))^2 and rate sqrt(b) do not."""
    result = run_with_wrong_rule("momentum_rate_map", "heavy_ball", "momentum * (x - x_prev)",
                                 "0.9 * momentum * (x - x_prev)", tmp_path)
    assert {m[0].split(",")[0] for m in result["mismatches"]} == {
        EDGE, CRIT, "rate: derived vs sqrt(momentum)", "rate: derived vs the larger real root",
        "max |observed - sqrt(momentum)| where every direction has complex roots",
        "min (observed - sqrt(momentum)) where some direction has real roots"}
