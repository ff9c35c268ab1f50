"""Studies of STUDIES engineer B, each run in quick mode: expected verdicts, files, key facts."""
import json
import math

import pytest

from optanalysis.studies import load_study, run_study

NAMES = ("exponential_decay_stall", "edge_of_stability", "adaptive_cycles", "adam_nonconvergence", "lesson_claims")


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    out = tmp_path_factory.mktemp("studies_b")
    return {name: run_study(name, quick=True, out=out) for name in NAMES}, out


def _by(outcome, prefix):
    return [r for r in outcome.records if r.quantity.startswith(prefix)]


@pytest.mark.parametrize("name", NAMES)
def test_study_runs_as_expected_and_writes_files(outcomes, name):
    got, out = outcomes
    o = got[name]
    assert o.ok, o.mismatches
    for ext in ("png", "pdf", "csv", "json"):
        assert (out / f"{name}.{ext}").stat().st_size > 0
    payload = json.loads((out / f"{name}.json").read_text())
    assert payload["title"] == load_study(name).TITLE
    assert len(payload["records"]) == len(o.records) > 0


def test_stall_floor_matches_kernel_per_direction(outcomes):
    o = outcomes[0]["exponential_decay_stall"]
    floors = _by(o, "floor|")
    assert len(floors) >= 10 and all(r.verdict == "pass" for r in floors)
    for r in floors:  # floating-point exactness relative to the floor itself
        assert abs(r.predicted - r.observed) <= 1e-10 * r.predicted
    # The floor is a stall, not convergence: the flattest direction keeps most of its loss.
    flat = [r for r in floors if r.quantity == "floor|h=0.001"]
    assert flat and all(r.observed > 0.9 * 0.5 * 0.001 for r in flat)


def test_edge_of_stability_onsets(outcomes):
    o = outcomes[0]["edge_of_stability"]
    onset = _by(o, "critical lr|kernel onset")
    assert {r.rule for r in onset} == {"gd", "heavy_ball", "nesterov"}
    for r in onset:  # the docstring's decision error bound
        assert abs(r.observed / r.predicted - 1) <= 1e-3
    (adam_38,) = _by(o, "oracle preconditioned threshold")
    assert adam_38.observed == pytest.approx(38.0, abs=1e-12)
    assert all(abs(r.observed / r.predicted - 1) <= 0.02 for r in _by(o, "critical lr|frozen-P probe"))


def test_rmsprop_orbit_and_adam_band(outcomes):
    o = outcomes[0]["adaptive_cycles"]
    dev = _by(o, "orbit|max rel. deviation")
    assert dev and all(r.observed <= 1e-9 for r in dev)
    rate = _by(o, "orbit|two-step contraction")
    assert {r.hyperparameters["alpha"] for r in rate} >= {0.5, 0.99}
    assert all(abs(r.observed / r.predicted - 1) <= 1e-3 for r in rate)
    band = _by(o, "band|max|x|/lr")
    assert len({r.observed for r in band}) == 1  # bit-for-bit homogeneity
    assert all(r.verdict == "pass" for r in _by(o, "band exceeds orbit"))


def test_reddi_counterexample(outcomes):
    o = outcomes[0]["adam_nonconvergence"]
    finals = _by(o, "online final x")
    assert all(r.observed == pytest.approx(1.0, abs=0.01) for r in finals if r.rule == "adam")
    assert all(r.observed < -0.95 for r in finals if r.rule == "amsgrad")
    regret = [r for r in _by(o, "online average regret") if r.rule == "adam"]
    assert all(r.observed == pytest.approx(2 / 3, rel=0.05) for r in regret)


def test_lesson_claims_verdicts(outcomes):
    o = outcomes[0]["lesson_claims"]
    module = load_study("lesson_claims")
    claims = [r for r in o.records if r.quantity in module.EXPECTED]
    assert {r.quantity for r in claims} == set(module.EXPECTED)
    assert all(r.verdict in ("supported", "qualified", "refuted") for r in claims)
    checks = _by(o, "check|")
    assert len(checks) == 2 and all(r.verdict == "pass" for r in checks)
    assert all(math.isfinite(r.observed) for r in claims)


def test_lesson_tuned_race_follows_derived_rates(outcomes):
    """The tuned-momentum verdicts agree with the derived worst-case rates at kappa = 100."""
    from optanalysis.symbolic import derive

    o = outcomes[0]["lesson_claims"]
    rate = {r: float(derive(r).optimal.rate.subs({s: 100.0 for s in derive(r).optimal.rate.free_symbols}))
            for r in ("gd", "heavy_ball", "nesterov")}
    assert rate["heavy_ball"] < rate["nesterov"] < rate["gd"]
    (mom,) = [r for r in o.records if r.quantity == "momentum_accelerates|both tuned (derived), kappa=100"]
    (nag,) = [r for r in o.records if r.quantity == "nesterov_faster|each tuned (derived), kappa=100"]
    assert mom.verdict == "supported" and nag.verdict == "refuted"
    # predicted/observed hold the final losses: heavy ball < Nesterov < gd, as the rates order them.
    assert mom.observed < nag.observed < mom.predicted
