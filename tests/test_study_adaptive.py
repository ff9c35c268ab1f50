"""Studies of the adaptive rules (edge of stability, eps = 0 orbits and bands, Adam's
non-convergence), each in quick mode: verdicts as expected, files written, and facts checked
independently of the study's own records; the counterexample's records in full."""
import pytest
from study_outcomes import by_prefix as _by
from study_outcomes import run_quick

from optanalysis.studies import load_study

NAMES = ("edge_of_stability", "adaptive_cycles", "adam_nonconvergence")


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    out = tmp_path_factory.mktemp("study_adaptive")
    return {name: run_quick(name, out)[0] for name in NAMES}


def test_edge_of_stability_onsets(outcomes):
    o = outcomes["edge_of_stability"]
    onset = _by(o, "critical lr|kernel onset")
    assert {r.rule for r in onset} == {"gd", "heavy_ball", "nesterov"}
    for r in onset:  # the docstring's decision error bound
        assert abs(r.observed / r.predicted - 1) <= 1e-3
    (adam_38,) = _by(o, "oracle preconditioned threshold")
    assert adam_38.observed == pytest.approx(38.0, abs=1e-12)
    assert all(abs(r.observed / r.predicted - 1) <= 0.02 for r in _by(o, "critical lr|frozen-P probe"))


def test_rmsprop_orbit_and_adam_band(outcomes):
    o = outcomes["adaptive_cycles"]
    dev = _by(o, "orbit|max rel. deviation")
    assert dev and all(r.observed <= 1e-9 for r in dev)
    rate = _by(o, "orbit|two-step contraction")
    assert {r.hyperparameters["alpha"] for r in rate} >= {0.5, 0.99}
    assert all(abs(r.observed / r.predicted - 1) <= 1e-3 for r in rate)
    band = _by(o, "band|max|x|/lr")
    assert len({r.observed for r in band}) == 1  # bit-for-bit homogeneity
    assert all(r.verdict == "pass" for r in _by(o, "band exceeds orbit"))


def test_reddi_counterexample(outcomes):
    o = outcomes["adam_nonconvergence"]
    finals = _by(o, "online final x")
    assert all(r.observed == pytest.approx(1.0, abs=0.01) for r in finals if r.rule == "adam")
    assert all(r.observed < -0.95 for r in finals if r.rule == "amsgrad")
    regret = [r for r in _by(o, "online average regret") if r.rule == "adam"]
    assert all(r.observed == pytest.approx(2 / 3, rel=0.05) for r in regret)


@pytest.mark.parametrize("C", [3.0, 10.0])
def test_counterexample_records(C):
    recs = load_study("adam_nonconvergence").counterexample_records(C, steps=300000, stochastic_steps=1000000)
    assert {r.rule for r in recs} == {"adam", "amsgrad"}
    for r in recs:
        assert r.verdict == "pass", r
    adam = [r for r in recs if r.rule == "adam" and r.quantity == "online average regret"]
    # Non-zero average regret: Adam's limit +1 loses 2 (C - 2)/3 per step to the optimum -1.
    assert len(adam) == 2 and all(r.observed > 0.6 * (C - 2) for r in adam)


def test_counterexample_validation():
    with pytest.raises(ValueError, match="C must be"):
        load_study("adam_nonconvergence").counterexample_records(C=2.0)


@pytest.mark.parametrize("name", NAMES)
def test_quick_must_be_bool(name):
    with pytest.raises(TypeError, match="quick must be a bool"):
        load_study(name).run(quick="yes")
