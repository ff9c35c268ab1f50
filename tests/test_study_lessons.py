"""The seven lecture-claim studies (``lesson_*``), each in quick mode: verdicts as expected (claims
decided by theory as theory says, exploratory ones reported, checks against the literature's
formulas and the Monte Carlo checks passed), files written, the tuned races ordered as the derived
rates, and the multi-start claims decided on all their starts."""
import math

import numpy as np
import pytest
from study_outcomes import by_prefix, run_quick

from optanalysis.studies import load_study, study_names
from optanalysis.studies._lesson import grid_verdict

NAMES = ("lesson_momentum_accelerates", "lesson_nesterov_faster", "lesson_rmsprop_helps_badly_scaled",
         "lesson_adam_better_when_sparse", "lesson_step_decay_converges", "lesson_exp_decay_long_training",
         "lesson_plateau_improves")
MONTE_CARLO = {"lesson_step_decay_converges": 1, "lesson_exp_decay_long_training": 1}


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    out = tmp_path_factory.mktemp("study_lessons")
    return {name: run_quick(name, out)[0] for name in NAMES}


def test_the_seven_claims_are_the_lesson_studies():
    assert tuple(n for n in study_names() if n.startswith("lesson_")) == tuple(sorted(NAMES))


@pytest.mark.parametrize("name", NAMES)
def test_records(outcomes, name):
    """Every record is a claim judged by the criterion or a pass/fail check; every claim's
    statistic is finite; the Monte Carlo checks are where the exact expected loss is used."""
    o = outcomes[name]
    claims = [r for r in o.records if r.relation == "criterion"]
    checks = [r for r in o.records if r.relation != "criterion"]
    assert claims and all(r.verdict in ("supported", "qualified", "refuted") for r in claims)
    assert all(math.isfinite(r.observed) for r in claims)
    assert all(r.verdict in ("pass", "fail") and r.tolerance >= 0 for r in checks)
    assert len([r for r in checks if "Monte Carlo" in r.quantity]) == MONTE_CARLO.get(name, 0)
    # a study whose claims theory does not decide confirms nothing and has nothing to falsify
    module = load_study(name)
    if all(e.exploratory for e in module.EXPECTED.values()):
        assert o.confirmed == 0 and module.HOOKS == {} and not checks
    else:
        assert o.confirmed > 0 and module.HOOKS


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


def test_multi_start_claims_are_decided_on_every_start(outcomes):
    """The RMSProp and Adam headlines are the grid criterion over all (start, condition) pairs,
    recomputed here from the per-start data."""
    o = outcomes["lesson_rmsprop_helps_badly_scaled"]
    flags = o.data["helps"]["diagonal"] + o.data["helps"]["rotated"]
    assert len(flags) == 18
    (head,) = by_prefix(o, "rmsprop_helps_badly_scaled|")
    assert head.observed == np.mean(flags) and head.verdict == grid_verdict(np.mean(flags))

    o = outcomes["lesson_adam_better_when_sparse"]
    adv, rms = np.array(o.data["advantage"]), np.array(o.data["rmsprop_over_adam"])
    assert adv.shape == rms.shape == (9, 3)
    pairs = (adv[:, 1:] > adv[:, :-1]) & (rms[:, 1:] >= 1)
    (head,) = by_prefix(o, "adam_better_when_sparse|")
    assert head.observed == pairs.mean() and head.verdict == grid_verdict(pairs.mean())


@pytest.mark.parametrize("name", NAMES)
def test_quick_must_be_bool(name):
    with pytest.raises(TypeError, match="quick must be a bool"):
        load_study(name).run(quick="yes")
