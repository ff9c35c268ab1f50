"""Studies of learning-rate schedules (the noisy quadratic model, the stall of exponential decay),
each in quick mode: verdicts as expected, files written, and facts checked independently of the
study's own records."""
import math

import numpy as np
import pytest
from scipy.stats import norm
from study_outcomes import by_prefix
from study_outcomes import run_quick as _run


def test_schedules_noisy_quadratic(tmp_path):
    outcome, payload = _run("schedules_noisy_quadratic", tmp_path)
    data = payload["data"]
    params = payload["provenance"]["parameters"]
    d = params["dimension"]
    # SGD's steady state (docs/reference.md 7.3): sum_i lr c_i / (2B(2 - lr h_i)), c_i = h_i = 1/i, lr = 1
    h = 1.0 / np.arange(1, d + 1)
    for batch in (1, 10**6):
        floor = float(np.sum(h / (2 * batch * (2 - h))))
        pred = data["noisy"][str(batch)]["constant"]["predicted"]
        assert pred[-1] == pytest.approx(floor, rel=1e-3)  # 1 - h_d = 0.95 per step: transient ~0.95^200
    # checkpoints four relaxation times 1/(2 lr h_min) = d/2 apart; Bonferroni over all Monte Carlo records
    checkpoints = params["checkpoints"]
    assert np.all(np.diff([0] + checkpoints) == 2 * d)
    mc = by_prefix(outcome, "E[loss] of")
    mc = [r for r in mc if "Monte Carlo" in r.quantity]
    assert len(mc) == 5 * 2 * len(checkpoints)
    z = norm.ppf(1 - (1 - params["level"]) / (2 * len(mc)))
    assert all(r.hyperparameters["z"] == pytest.approx(z, rel=1e-12) for r in mc)
    # the plateau has no noisy prediction (closed loop), only the Monte Carlo ...
    assert data["noisy"]["1"]["plateau"]["predicted"] is None
    # ... because conditioning on a run's own lr sequence is biased: the plateau's lrs depend on its noise;
    # how much is exploratory, reported apart and not counted
    (found,) = outcome.exploratory
    assert found[0].startswith("plateau, B=1: mean of E[loss | own lr sequence]")
    assert outcome.confirmed == len(outcome.records) - 1


def test_closed_form_oracle_by_hand():
    """The study's typed closed form against a step-by-step recursion written here."""
    from optanalysis.studies.schedules_noisy_quadratic import closed_form_loss

    h = np.array([1.0, 0.5, 0.1])
    c, batch, x = h.copy(), 4, np.array([1.0, -2.0, 0.5])
    mean, var = x.copy(), np.zeros(3)
    for lr in [0.8] * 7 + [0.3] * 5:
        mean, var = (1 - lr * h) * mean, (1 - lr * h) ** 2 * var + lr**2 * c / batch
    assert closed_form_loss(h, x, c, batch, [(0.8, 7), (0.3, 5)]) == pytest.approx(
        float(np.sum(0.5 * h * (mean**2 + var))), rel=1e-12)


def test_stall_floor_matches_kernel_per_direction(tmp_path):
    o, _ = _run("exponential_decay_stall", tmp_path)
    floors = by_prefix(o, "floor: kernel vs derived")
    assert len(floors) == 10 and all(r.verdict == "pass" for r in floors)
    for r in floors:  # floating-point exactness relative to the floor itself
        assert abs(r.predicted - r.observed) <= 1e-10 * r.predicted
    # The floor is a stall, not convergence: the flattest direction keeps most of its loss.
    flat = [r for r in floors if r.quantity.endswith("h=0.001")]
    assert flat and all(r.observed > 0.9 * 0.5 * 0.001 for r in flat)
    # exp(-2 h S) by hand: S = lr/(1 - gamma), lr = 0.05
    for r in by_prefix(o, "log floor <= -2 h S"):
        g, hj = r.hyperparameters["gamma"], r.hyperparameters["h"]
        assert r.relation == "at_most" and r.predicted == pytest.approx(-2 * hj * 0.05 / (1 - g), rel=1e-12)
        assert r.observed < r.predicted  # log(1 - u) < -u: strictly
    assert all(r.relation == "at_least" for r in by_prefix(o, "log floor >= "))


def test_typed_product_by_hand():
    """The study's typed product against a plain loop, for one direction."""
    from optanalysis.studies.exponential_decay_stall import typed_floor

    p = 1.0
    for k in range(2000):
        p *= (1 - 0.05 * 0.9**k * 2.0) ** 2
    assert typed_floor(np.array([2.0]), 0.9)[0] == pytest.approx(0.5 * 2.0 * p, rel=1e-13)
    assert math.isfinite(typed_floor(np.array([10.0]), 0.997)[0])


@pytest.mark.parametrize("name", ["schedules_noisy_quadratic", "exponential_decay_stall"])
def test_quick_must_be_bool(name):
    from optanalysis.studies import load_study

    with pytest.raises(TypeError, match="quick must be a bool"):
        load_study(name).run(quick="yes")
