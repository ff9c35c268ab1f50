"""Studies of the linear rules on quadratics (gd, heavy ball, Nesterov: stability, rates,
acceleration, equivalent formulations), each in quick mode: verdicts as expected, files written, and
a few facts checked independently of the study's own records; the ``study`` command."""
import math

import numpy as np
import pytest
from study_outcomes import by_quantity as _by_quantity
from study_outcomes import run_quick as _run


def test_gd_stability_and_rate(tmp_path):
    outcome, payload = _run("gd_stability_and_rate", tmp_path)
    recs = _by_quantity(outcome)
    for kappa in (10, 100, 1000):
        # literature oracle (docs/reference.md 4.5): rate (kappa-1)/(kappa+1) at lr = 2/(L+mu); the fit
        # must match it within 1 % of 1 - rate (the study's tolerance, restated independently)
        rec = recs[f"optimal rate, kappa={kappa}"]
        oracle = (kappa - 1) / (kappa + 1)
        assert rec.predicted == pytest.approx(oracle, rel=1e-14)
        assert abs(rec.observed - oracle) <= (1 - oracle) / 100
        # Cohen et al. (2021): unstable iff lr > 2/L, L = 1 here
        assert recs[f"stability edge lr, kappa={kappa}"].predicted == pytest.approx(2.0, rel=1e-15)
        curve = payload["data"]["curves"][str(kappa)]
        for lr, div in zip(curve["scan_lr"], curve["scan_diverged_at"]):
            if kappa == 1000 and lr > 2.0:  # growth 1.0025^k .. 1.045^k over 14000 steps: must blow up
                assert div >= 0
            if lr < 2.0:
                assert div == -1


def test_acceleration_vs_kappa(tmp_path):
    outcome, payload = _run("acceleration_vs_kappa", tmp_path)
    recs = _by_quantity(outcome)
    # Polyak's rate (sqrt(kappa)-1)/(sqrt(kappa)+1) (docs/reference.md 4.5) as an independent oracle
    for kappa in (10, 100, 1000):
        rec = recs[f"heavy ball (Polyak): fitted rate, kappa={kappa}"]
        assert rec.predicted == pytest.approx((math.sqrt(kappa) - 1) / (math.sqrt(kappa) + 1), rel=1e-13)
        assert rec.verdict == "pass"
        std = recs[f"Nesterov (standard): fitted rate, kappa={kappa}"]
        assert std.predicted == pytest.approx(1 - 1 / math.sqrt(kappa), rel=1e-13)
        # the runs are made at the literature's tuning: Lessard et al.'s lr 4/(3L + mu), L = 1
        lrp = recs[f"Nesterov (Lessard-Recht-Packard): fitted rate, kappa={kappa}"]
        assert lrp.hyperparameters["lr"] == pytest.approx(4 / (3 + 1 / kappa), rel=1e-13)
    # acceleration, observed: 1 - rate is (kappa+1)/(sqrt(kappa)+1) = 30.7 times larger for heavy ball
    # than for gd at kappa = 1000 (within 10 %: the heavy-ball fit's double-root bias is <= 5 % of 1 - rate)
    gd = recs["gd: fitted rate, kappa=1000"].observed
    hb = recs["heavy ball (Polyak): fitted rate, kappa=1000"].observed
    assert (1 - hb) / (1 - gd) == pytest.approx(1001 / (math.sqrt(1000) + 1), rel=0.1)
    # the ordering claim is a criterion on the closed forms (no tolerance), decided before any run
    (order,) = [r for r in outcome.records if r.quantity.startswith("heavy ball < LRP-Nesterov")]
    assert order.relation == "criterion" and order.verdict == "supported" and order.observed > 0
    assert outcome.confirmed == len(outcome.records) and not outcome.exploratory


def test_formulation_equivalence(tmp_path):
    outcome, payload = _run("formulation_equivalence", tmp_path)
    pairs = payload["data"]["pairs"]
    hb = pairs["heavy ball vs torch SGD momentum"]["curves"]
    # identical losses at a constant lr (to rounding), different under the step decay
    assert np.max(np.abs(hb["constant"]["observed"])) < 1e-12
    decay = np.abs(np.array(hb["step:step_size=50,gamma=0.1"]["observed"]))
    assert np.max(decay[:51]) < 1e-12 < 1e-3 < np.max(decay[51:])  # the lr first changes at step 50
    nag = pairs["Sutskever Nesterov vs torch nesterov=True"]
    assert np.max(np.abs(nag["curves"]["constant"]["observed"])) > 1e-3  # torch's iterate is the look-ahead
    assert max(nag["mapped_state_gap"]) < 1e-13
    # the claims are criteria (no two-sided tolerance); one of them is expected refuted, from theory
    claims = {r.quantity: r for r in outcome.records if r.relation == "criterion"}
    assert len(claims) == 4
    assert claims["Sutskever Nesterov vs torch nesterov=True: same iterates under a constant lr"].verdict == "refuted"
    assert outcome.expected["Sutskever Nesterov vs torch nesterov=True: same iterates under a constant lr"].verdict \
        == "refuted"


def test_cli_study(tmp_path, capsys, monkeypatch):
    from optanalysis import studies
    from optanalysis.cli import main
    from optanalysis.comparison import Record

    assert main(["study", "formulation_equivalence", "--quick", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "verdict: as expected" in out and "state gap after S(lr)" in out
    assert (tmp_path / "formulation_equivalence.png").exists()
    assert main(["study", "no_such_study"]) == 2
    assert "valid:" in capsys.readouterr().err
    # a verdict that differs from the expected one: exit status 1, and the mismatch is printed
    bad = Record.judge("gd", "constant", {}, "q", 0.0, 1.0, 0.5)
    monkeypatch.setattr(studies._runner, "run_study", lambda name, **kw: studies.Outcome(
        name, "t", [bad], [("q", "fail", "pass")], 0.0, []))
    assert main(["study", "anything"]) == 1
    assert "UNEXPECTED: q is fail, expected pass" in capsys.readouterr().out


@pytest.mark.parametrize("name", ["gd_stability_and_rate", "momentum_rate_map", "acceleration_vs_kappa",
                                  "formulation_equivalence", "edge_of_stability"])
def test_quick_must_be_bool(name):
    from optanalysis.studies import load_study

    with pytest.raises(TypeError, match="quick must be a bool"):
        load_study(name).run(quick="yes")
