"""Studies of learning-rate schedules (the noisy quadratic model, the stall of exponential decay),
each in quick mode: verdicts as expected, files written, and facts checked independently of the
study's own records."""
import numpy as np
import pytest
from study_outcomes import by_prefix
from study_outcomes import by_quantity as _by_quantity
from study_outcomes import run_quick as _run


def test_schedules_noisy_quadratic(tmp_path):
    outcome, payload = _run("schedules_noisy_quadratic", tmp_path)
    data = payload["data"]
    d = payload["provenance"]["parameters"]["dimension"]
    # SGD's steady state (docs/reference.md 7.3): sum_i lr c_i / (2B(2 - lr h_i)), c_i = h_i = 1/i, lr = 1
    h = 1.0 / np.arange(1, d + 1)
    for batch in (1, 10**6):
        floor = float(np.sum(h / (2 * batch * (2 - h))))
        pred = data["noisy"][str(batch)]["constant"]["predicted"]
        assert pred[-1] == pytest.approx(floor, rel=1e-3)  # 1 - h_d = 0.95 per step: transient ~0.95^400
    # the plateau has no noisy prediction (closed loop), only the Monte Carlo
    assert data["noisy"]["1"]["plateau"]["predicted"] is None
    # ... because conditioning on a run's own lr sequence is biased: the plateau's lrs depend on its noise
    recs = _by_quantity(outcome)
    biased = recs["plateau, B=1: mean of E[loss | own lr sequence] = Monte Carlo mean (gap in s.e.)"]
    assert biased.verdict == "refuted" and biased.observed < -3
    assert all(r.verdict in ("pass", "supported") for r in outcome.records if r is not biased)


def test_stall_floor_matches_kernel_per_direction(tmp_path):
    o, _ = _run("exponential_decay_stall", tmp_path)
    floors = by_prefix(o, "floor|")
    assert len(floors) >= 10 and all(r.verdict == "pass" for r in floors)
    for r in floors:  # floating-point exactness relative to the floor itself
        assert abs(r.predicted - r.observed) <= 1e-10 * r.predicted
    # The floor is a stall, not convergence: the flattest direction keeps most of its loss.
    flat = [r for r in floors if r.quantity == "floor|h=0.001"]
    assert flat and all(r.observed > 0.9 * 0.5 * 0.001 for r in flat)


@pytest.mark.parametrize("name", ["schedules_noisy_quadratic", "exponential_decay_stall"])
def test_quick_must_be_bool(name):
    from optanalysis.studies import load_study

    with pytest.raises(TypeError, match="quick must be a bool"):
        load_study(name).run(quick="yes")
