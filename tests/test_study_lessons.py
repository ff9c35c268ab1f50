"""The seven lecture-claim studies (``lesson_*``), each in quick mode: verdicts as expected (claims
supported, qualified or refuted, Monte Carlo checks passed), files written, and the tuned races
checked against the derived rates."""
import math

import pytest
from study_outcomes import by_prefix, run_quick

from optanalysis.studies import load_study, study_names

NAMES = ("lesson_momentum_accelerates", "lesson_nesterov_faster", "lesson_rmsprop_helps_badly_scaled",
         "lesson_adam_better_when_sparse", "lesson_step_decay_converges", "lesson_exp_decay_long_training",
         "lesson_plateau_improves")


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    out = tmp_path_factory.mktemp("study_lessons")
    return {name: run_quick(name, out)[0] for name in NAMES}


def test_the_seven_claims_are_the_lesson_studies():
    assert tuple(n for n in study_names() if n.startswith("lesson_")) == tuple(sorted(NAMES))


@pytest.mark.parametrize("name", NAMES)
def test_claim_verdicts(outcomes, name):
    o = outcomes[name]
    module = load_study(name)
    claims = [r for r in o.records if r.quantity in module.EXPECTED]
    assert {r.quantity for r in claims} == set(module.EXPECTED)
    assert all(r.verdict in ("supported", "qualified", "refuted") for r in claims)
    assert all(math.isfinite(r.observed) for r in claims)
    # every record is a claim or one of the two Monte Carlo checks of the exact expected loss
    checks = by_prefix(o, "check|")
    assert len(checks) + len(claims) == len(o.records)
    assert len(checks) == (name in ("lesson_step_decay_converges", "lesson_exp_decay_long_training"))
    assert all(r.verdict == "pass" for r in checks)


def test_tuned_race_follows_derived_rates(outcomes):
    """The tuned-momentum verdicts agree with the derived worst-case rates at kappa = 100."""
    from optanalysis.symbolic import derive

    rate = {r: float(derive(r).optimal.rate.subs({s: 100.0 for s in derive(r).optimal.rate.free_symbols}))
            for r in ("gd", "heavy_ball", "nesterov")}
    assert rate["heavy_ball"] < rate["nesterov"] < rate["gd"]
    (mom,) = by_prefix(outcomes["lesson_momentum_accelerates"], "momentum_accelerates|both tuned (derived), kappa=100")
    (nag,) = by_prefix(outcomes["lesson_nesterov_faster"], "nesterov_faster|each tuned (derived), kappa=100")
    assert mom.verdict == "supported" and nag.verdict == "refuted"
    # predicted/observed hold the final losses: heavy ball < Nesterov < gd, as the rates order them.
    assert mom.observed == nag.predicted  # the same tuned heavy-ball run in both studies
    assert mom.observed < nag.observed < mom.predicted


@pytest.mark.parametrize("name", NAMES)
def test_quick_must_be_bool(name):
    with pytest.raises(TypeError, match="quick must be a bool"):
        load_study(name).run(quick="yes")
