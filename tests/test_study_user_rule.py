"""The user_rule_walkthrough study runs in quick mode with its expected verdicts, and its rule is
the study file's own (registered from there, not from optanalysis/rules/)."""
from study_outcomes import by_prefix, run_quick

import optanalysis.studies.user_rule_walkthrough as walkthrough
from optanalysis.rules import get_rule


def test_user_rule_walkthrough_quick(tmp_path):
    outcome, payload = run_quick("user_rule_walkthrough", tmp_path)
    rule = get_rule(walkthrough.RULE.name)
    assert rule.module is walkthrough and not rule.module.__name__.startswith("optanalysis.rules.")
    assert len(by_prefix(outcome, "charpoly coefficient")) == 15
    assert len(by_prefix(outcome, "rate at lr=")) == 10
    (edge,) = by_prefix(outcome, "stability edge lr")
    # the binding condition is Jury's nonlinear one: the certified bound lies below the bound of the
    # affine condition p(-1) < 0, lr h < 2 (1 + momentum)(1 + avg)/(1 - avg) (h = L = 1)
    assert edge.predicted < 2 * 1.5 * 1.3 / 0.7
    assert payload["data"]["charpoly"].count("z**3") == 1
