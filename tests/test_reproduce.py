"""``optanalysis reproduce``: studies selected by name, verdict table, SUMMARY.md, exit status."""
import json

import pytest
from toy_studies import write_toy_study

from optanalysis import studies
from optanalysis.cli import main
from optanalysis.reproduction import Reproduction, reproduce


@pytest.fixture
def toy_studies(tmp_path, monkeypatch):
    d = tmp_path / "studies"
    write_toy_study(d, "toy_ok", b=2.0)  # b fails, as expected
    write_toy_study(d, "toy_bad", b=1.0)  # b passes: an unexpected verdict
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


def test_reproduce_returns_the_files_and_the_outcomes(toy_studies, capsys):
    done = reproduce(toy_studies, "toy_bad", quick=True)  # one name, not its letters
    assert isinstance(done, Reproduction) and done.out == toy_studies and not done.ok
    assert [o.name for o in done.outcomes] == ["toy_bad"]
    assert sorted(f.name for f in done.files) == ["SUMMARY.md"] + [f"toy_bad.{e}"
                                                                   for e in ("csv", "json", "pdf", "png")]
    assert all(f.exists() for f in done.files)
    page = done._repr_html_()
    assert "0/1 studies as expected" in page and "UNEXPECTED: b is pass, expected fail" in page
    summary = (toy_studies / "SUMMARY.md").read_text().splitlines()
    head = summary.index("| study | claim | records | verdicts | confirmed | exploratory | status | figure |")
    assert "| `toy_bad` | toy | 2 | pass 2 | 1 | 0 | UNEXPECTED: b is pass, expected fail |" in summary[head + 2]
    assert summary[head + 2].count("|") == summary[head].count("|")  # header and rows have the same columns
    assert summary[-1] == "None: every record of these studies is decided by theory."  # no exploratory finding
    with pytest.raises(TypeError, match="quick must be a bool"):
        reproduce(toy_studies, ["toy_ok"], quick="yes")
    with pytest.raises(TypeError, match="out must be a directory path"):
        reproduce(None, ["toy_ok"])
    with pytest.raises(TypeError, match="only must be a name or a list of names"):
        reproduce(toy_studies, [3])
