"""Study linear_method_zoo: its verdicts in quick mode, and wrong theories it must catch."""
import numpy as np

from falsify import caught_by
from study_outcomes import by_quantity, run_quick


def test_linear_method_zoo(tmp_path):
    outcome, payload = run_quick("linear_method_zoo", tmp_path)
    records = by_quantity(outcome)
    # the derived tunings are the papers': TMM's rate at kappa = 100 is 1 - 1/10
    assert abs(records["triple momentum: rate, derived vs 1-1/sqrt(kappa), kappa=100"].observed - 0.9) < 1e-12
    methods = payload["data"]["methods"]
    assert methods["QHM"]["values"]["nu"] == "1" and methods["schedule-free SGD"]["values"]["b1"] == "1"


def test_linear_method_zoo_catches_a_wrong_rate():
    # TMM's derived rate 1 % faster (index 4 in METHODS order): the paper's 1 - 1/sqrt(kappa), the
    # exact worst case and the "slower than heavy ball" ordering see it; the others stay right
    def wrong(v):
        v = np.array(v, dtype=float)
        v[4] = v[4] * 0.99
        return v

    caught = caught_by("linear_method_zoo", "rate", wrong)
    assert caught == {"triple momentum: rate", "triple momentum: closed form vs exact worst case",
                      "triple momentum is slower than heavy ball and LRP-Nesterov on quadratics for every kappa in (1"}


def test_linear_method_zoo_catches_a_wrong_worst_case():
    caught = caught_by("linear_method_zoo", "worst_case", lambda v: 1.001 * v)
    assert caught == {f"{m}: 64-step worst case vs kernel at its worst h" for m in
                      ("gd", "heavy ball", "Nesterov", "QHM", "triple momentum", "schedule-free SGD")}
