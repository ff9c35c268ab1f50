"""Studies of the adaptive rules (edge of stability, eps = 0 orbits and bands, Adam's
non-convergence), each in quick mode: verdicts as expected, files written, and facts checked
independently of the study's own records; the counterexample's records in full."""
import math

import numpy as np
import pytest
from study_outcomes import by_prefix as _by
from study_outcomes import run_quick

from optanalysis.simulation import simulate
from optanalysis.studies import load_study

NAMES = ("edge_of_stability", "adaptive_cycles", "adam_nonconvergence")


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    """Each study run once, when a test first asks for it."""
    out, done = tmp_path_factory.mktemp("study_adaptive"), {}

    def get(name):
        if name not in done:
            done[name] = run_quick(name, out)[0]
        return done[name]
    return get


def test_edge_of_stability_onsets(outcomes):
    o = outcomes("edge_of_stability")
    having = lambda text: [r for r in o.records if text in r.quantity]  # noqa: E731
    onset = having("critical lr, kernel onset vs derived")
    assert {r.rule for r in onset} == {"gd", "heavy_ball", "nesterov"}
    for r in onset:  # the docstring's decision error bound
        assert abs(r.observed / r.predicted - 1) <= 1e-3
    (adam_38,) = having("preconditioned threshold x lr, derived vs 38")
    assert adam_38.observed == pytest.approx(38.0, abs=1e-12)
    probes = having("critical lr, frozen-P probe vs derived")
    assert probes and all(abs(r.observed / r.predicted - 1) <= 0.02 for r in probes)


def test_rmsprop_orbit_and_adam_band(outcomes):
    o = outcomes("adaptive_cycles")
    dev = _by(o, "rmsprop max rel. deviation")
    assert len(dev) == 8 and all(r.relation == "at_most" and r.observed <= 1e-9 for r in dev)
    rate = _by(o, "rmsprop two-step contraction")
    assert {r.hyperparameters["alpha"] for r in rate} == {0.5, 0.99}
    # the modulus alpha of docs/reference.md 6.3, typed here, not the study's derived radius
    assert all(abs(r.observed / r.hyperparameters["alpha"] - 1) <= 1e-3 for r in rate)
    # homogeneity: every run other than the reference, none compared with itself, bit for bit
    homog = _by(o, "adam homogeneity")
    assert len(homog) == 3 and all(r.observed == 0.0 for r in homog)
    assert not any("h=1 vs (2^-10, 1)" in r.quantity and "lr=2^-10," in r.quantity for r in homog)
    (repels,) = _by(o, "adam orbit repels")
    assert repels.relation == "at_least" and repels.observed == pytest.approx(1.10, abs=0.01)
    (band,) = _by(o, "adam late band")
    assert [q for q, _, _ in o.exploratory] == [band.quantity]
    assert o.confirmed == len(o.records) - 1  # the exploratory band is not a confirmation


def test_rmsprop_orbit_independently():
    """RMSProp with eps = 0 alternates between +lr/2 and -lr/2 (docs/reference.md 6.3), run here
    without the study."""
    lr = 0.01
    s = simulate("rmsprop", {"lr": lr, "alpha": 0.9, "eps": 0.0}, x0=np.array([0.03]), hessian_diag=np.array([5.0]),
                 steps=3000, record_x=True)
    late = s.xs[-100:, 0]
    assert np.allclose(np.abs(late), lr / 2, rtol=1e-9, atol=0)
    assert np.all(np.sign(late[1:]) == -np.sign(late[:-1]))


def test_reddi_counterexample(outcomes):
    o = outcomes("adam_nonconvergence")
    assert all(r.observed == 1.0 for r in _by(o, "adam online final x"))
    for r in _by(o, "amsgrad online final x"):  # -1 <= x_T <= -1 + lr (T^-1/2 + (T-1)^-1/2)/(sqrt(1-beta2) C)
        C, T = r.hyperparameters["C"], r.hyperparameters["steps"]
        e = 0.5 * (1 / math.sqrt(T) + 1 / math.sqrt(T - 1)) / (math.sqrt(1 - 1 / (1 + C * C)) * C)
        assert -1 <= r.observed <= -1 + e
    assert all(r.observed == pytest.approx(2 / 3, rel=0.01) for r in _by(o, "adam online average regret"))
    assert all(r.relation == "at_most" for r in _by(o, "amsgrad online average regret"))
    # stochastic AMSGrad at T = 1e6 is exploratory: listed apart, never a confirmation
    (side,) = _by(o, "amsgrad stochastic tail mean x")
    assert side.relation == "at_least" and [q for q, _, _ in o.exploratory] == [side.quantity]
    assert o.confirmed == len(o.records) - 1


@pytest.mark.parametrize("C", [3.0, 10.0])
def test_counterexample_records(C):
    recs = load_study("adam_nonconvergence").counterexample_records(C, steps=300000)
    assert {r.rule for r in recs} == {"adam", "amsgrad"}
    for r in recs:
        assert r.verdict == "pass", r
    adam = [r for r in recs if r.quantity.startswith("adam online average regret")]
    # Non-zero average regret: Adam's limit +1 loses 2 (C - 2)/3 per step to the optimum -1.
    assert len(adam) == 2 and all(r.observed > 0.6 * (C - 2) for r in adam)


def test_counterexample_validation():
    module = load_study("adam_nonconvergence")
    with pytest.raises(ValueError, match="C must be"):
        module.counterexample_records(C=2.0)
    with pytest.raises(ValueError, match="multiple of 3"):
        module.counterexample_records(C=3.0, steps=1000)


@pytest.mark.parametrize("name", NAMES)
def test_quick_must_be_bool(name):
    with pytest.raises(TypeError, match="quick must be a bool"):
        load_study(name).run(quick="yes")
