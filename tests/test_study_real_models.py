"""The real-model studies: their verdicts in quick mode, a wrong threshold caught, and the path
without the ``models`` extra (not run, one line naming it; neither a failure nor unexpected)."""
import sys

import pytest

from optanalysis.studies import MissingExtra, run_studies, study, write_summary

NAMES = ("real_local_stability", "real_edge_of_stability")
RULES = ("sgd", "sgd_momentum", "nesterov", "adam", "rmsprop")


def _hide_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "torch", None)


def test_local_stability_catches_a_threshold_one_percent_off():
    """One run against a critical lr 1 % too large: exactly the critical-lr records turn unexpected,
    and each observed onset is within the 0.5 % goal of the true derivation (predicted / 1.01)."""
    pytest.importorskip("torch")
    pytest.importorskip("sklearn")
    outcome = study("real_local_stability", quick=True, perturb={"critical_lr": lambda v: 1.01 * v})
    assert {m[0] for m in outcome.mismatches} == {f"logistic: {r}: critical lr, torch.optim onset vs derived"
                                                  for r in RULES}
    onsets = [r for r in outcome.records if "critical lr" in r.quantity]
    assert len(onsets) == len(RULES)
    assert all(abs(r.observed / (r.predicted / 1.01) - 1) <= 5e-3 for r in onsets)
    others = [v for v in outcome.verdicts if "critical lr" not in v[0] and v[1] != "exploratory"]
    assert others and all(expected == got for _, expected, got in others)


def test_edge_of_stability_quick(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("sklearn")
    from study_outcomes import run_quick

    outcome, payload = run_quick("real_edge_of_stability", tmp_path)
    assert len(outcome.exploratory) == 6 and outcome.confirmed == 3
    thresholds = {r["rule"]: r["threshold"] * r["lr"] for r in payload["data"]["runs"]}
    assert thresholds == pytest.approx({"sgd": 2.0, "sgd_momentum": 3.8, "adam": 38.0}, rel=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_without_the_extra_a_study_raises_one_line_naming_it(monkeypatch, name):
    _hide_extra(monkeypatch)
    with pytest.raises(MissingExtra, match=r'not run: needs torch, sklearn \(pip install "optanalysis\[models\]"\)'):
        study(name, quick=True)


def test_without_the_extra_reproduce_reports_not_run(monkeypatch, tmp_path):
    _hide_extra(monkeypatch)
    outcomes = run_studies(list(NAMES), quick=True, out=tmp_path, stream=open("/dev/null", "w"))
    assert all(o.ok and o.not_run and not o.records and not o.mismatches for o in outcomes)
    summary = write_summary(outcomes, tmp_path).read_text()
    assert summary.count('not run: needs torch, sklearn (pip install "optanalysis[models]")') == 2
    assert "UNEXPECTED" not in summary


def test_without_the_extra_the_cli_exits_2_with_one_line(monkeypatch, capsys, tmp_path):
    from optanalysis.cli import main

    _hide_extra(monkeypatch)
    assert main(["study", "real_local_stability", "--quick", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and 'pip install "optanalysis[models]"' in err
    assert main(["reproduce", "--quick", "--only", "real_edge_of_stability", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "not run" in out and "0/0 studies as expected (1 not run" in out
