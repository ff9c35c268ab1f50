"""``optanalysis reproduce``: studies selected by name, verdict table, SUMMARY.md, exit status."""
import json

import pytest

from optanalysis import studies
from optanalysis.cli import main

_STUDY = '''"""Claim: a toy claim for the runner's tests."""
from optanalysis.comparison import Record
from optanalysis.plotting import figure
from optanalysis.studies import StudyResult

TITLE = "toy"
EXPECTED = {{"b": "fail"}}


def run(quick=False):
    return StudyResult([Record.judge("gd", "constant", {{"lr": 0.1}}, "a", 1.0, 1.0, 0.0),
                        Record.judge("gd", "constant", {{"lr": 0.1}}, "b", 1.0, {b}, 0.0)],
                       {{"curve": [1.0, float("nan")]}}, {{"seed": 3, "quick": "clash"}})


def plot(result):
    fig, ax = figure()
    ax.plot(result.data["curve"])
    return fig
'''


@pytest.fixture
def toy_studies(tmp_path, monkeypatch):
    d = tmp_path / "studies"
    d.mkdir()
    (d / "toy_ok.py").write_text(_STUDY.format(b=2.0))  # b fails, as expected
    (d / "toy_bad.py").write_text(_STUDY.format(b=1.0))  # b passes: an unexpected verdict
    monkeypatch.setattr(studies._runner, "STUDIES_DIR", d)
    return tmp_path / "out"


def test_expected_verdicts_exit_0_and_files(toy_studies, capsys):
    assert main(["reproduce", "--out", str(toy_studies), "--only", "toy_ok"]) == 0
    out = capsys.readouterr().out
    assert "toy_ok" in out and "as expected" in out and "toy_bad" not in out
    for ext in ("png", "pdf", "csv", "json"):
        assert (toy_studies / f"toy_ok.{ext}").stat().st_size > 0
    payload = json.loads((toy_studies / "toy_ok.json").read_text())  # strict JSON: NaN became null
    assert payload["data"]["curve"] == [1.0, None] and payload["provenance"]["parameters"]["seed"] == 3
    assert "toy_ok" in (toy_studies / "SUMMARY.md").read_text()


def test_unexpected_verdict_exits_1(toy_studies, capsys):
    assert main(["reproduce", "--out", str(toy_studies), "--only", "studies", "--jobs", "2"]) == 1
    out = capsys.readouterr().out
    assert "UNEXPECTED: b is pass, expected fail" in out and "1/2 studies as expected" in out


def test_bad_arguments_exit_2(toy_studies, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["reproduce", "--jobs", "two"])
    assert exc.value.code == 2
    assert main(["reproduce", "--out", str(toy_studies), "--only", "nope"]) == 2
    assert main(["reproduce", "--out", str(toy_studies), "--only", "toy_ok", "--jobs", "0"]) == 2
    assert "jobs" in capsys.readouterr().err
