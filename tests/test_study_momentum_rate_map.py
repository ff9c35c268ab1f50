"""The heavy-ball rate map study (Goh 2017's figure): verdicts as expected, files written, and the
map checked against the literature's formulas independently of the study's own records."""
import math

import numpy as np
from study_outcomes import run_quick as _run


def test_momentum_rate_map(tmp_path):
    outcome, payload = _run("momentum_rate_map", tmp_path)
    data = payload["data"]
    pred = np.array(data["predicted"], dtype=float)
    obs = np.array([[np.nan if v is None else v for v in row] for row in data["observed"]])
    judged = (np.array(data["refused"]) == "") & (pred < 1)
    # the recurrence estimator judges nearly every stable point, the complex region included
    assert judged.sum() == data["judged_points"] >= 0.98 * data["stable_points"]
    assert np.max(np.abs(obs[judged] - pred[judged])) <= 1e-6
    # every refusal is explained: equal-modulus roots of the loss packed at small angles
    for r in data["refused_points"]:
        assert r["reason"] == "unresolved equal-modulus roots" and r["indicator"] > 1e-7
        assert r["top_roots"] == 33 and r["max_angle"] < 0.5
    # Goh's "ripples" region (docs/reference.md 4.3): complex roots have modulus sqrt(momentum), so at
    # momentum 0.9 (complex at every eigenvalue for lr in (0.1, 3)) the observed rate is sqrt(0.9)
    lrs, moms = np.array(data["lr"]), np.array(data["momentum"])
    j = int(np.argmin(np.abs(moms - 0.9)))
    inside = (lrs > 0.1) & (lrs < 3.0)
    assert np.allclose(pred[inside, j], math.sqrt(moms[j]), rtol=1e-12)
    assert np.allclose(obs[inside, j], math.sqrt(moms[j]), rtol=0, atol=1e-6)
    # the boundaries: divergence of the mode at L is lr L = 2(1 + momentum) (docs/reference.md 4.2)
    lb = np.array(data["boundary_lr"])
    assert np.allclose(data["boundaries"]["divergence (h=L)"], lb / 2 - 1, atol=1e-12)
