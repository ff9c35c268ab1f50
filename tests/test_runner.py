"""The study runner: one study in a notebook (``study``), many with files (``run_studies``)."""
import io
import json

import matplotlib
import pytest
from matplotlib.figure import Figure
from toy_studies import write_toy_study

from optanalysis import studies
from optanalysis.studies import Outcome, run_studies, run_study, study, study_names


def rc() -> dict:
    """rcParams without "backend": reading that one would itself choose a backend."""
    return {k: matplotlib.rcParams[k] for k in matplotlib.rcParams if k != "backend"}


@pytest.fixture
def toys(tmp_path):
    d = tmp_path / "studies"
    write_toy_study(d, "toy_ok", b=2.0)  # b fails, as EXPECTED says
    write_toy_study(d, "toy_bad", b=1.0)  # b passes: an unexpected verdict
    write_toy_study(d, "toy_crash", crash="RuntimeError('boom')")
    return d


def test_expected_verdicts_and_the_study_object(toys, tmp_path):
    o = study("toy_ok", directory=toys)
    assert isinstance(o, Outcome) and o.ok and o.mismatches == [] and o.status == "as expected"
    assert o.verdicts == [("a", "pass", "pass"), ("b", "fail", "fail")]
    assert o.expected["b"].verdict == "fail" and o.expected["b"].reason == "b is not 1 (toy theory)"
    assert o.parameters == {"seed": 3, "quick": "clash"} and o.confirmed == 2 and o.exploratory == []
    assert o.counts == "fail 1, pass 1" and o.title == "toy" and o.data["curve"][0] == 1.0
    assert isinstance(o.figure, Figure)
    assert o.files == [] and not (tmp_path / "figures").exists()  # nothing written without out


def test_plot_runs_in_the_package_style(toys, monkeypatch):
    module = studies.load_study("toy_ok", toys)
    monkeypatch.setattr(studies._runner, "load_study", lambda name, directory=None: module)
    before = rc()
    study("toy_ok")
    assert module.SEEN["linewidth"] == 1.4 != matplotlib.rcParamsDefault["lines.linewidth"]
    assert rc() == before  # the style was a context, left on return


def test_unexpected_verdict(toys):
    o = study("toy_bad", directory=toys, quick=True)
    assert not o.ok and o.mismatches == [("b", "pass", "fail")]
    assert o.verdicts[1] == ("b", "fail", "pass")
    assert o.status == "UNEXPECTED: b is pass, expected fail"


def test_html_shows_records_expected_verdicts_and_figure(toys):
    page = study("toy_ok", directory=toys)._repr_html_()
    assert page.startswith("<table><caption>toy_ok: toy</caption>")
    assert "<th>expected</th>" in page and page.count("<tr>") == 3  # header and two records
    assert "verdict: all 2 records as expected" in page and '<img src="data:image/png;base64,' in page
    bad = study("toy_bad", directory=toys)._repr_html_()
    assert "UNEXPECTED: b is pass, expected fail" in bad


def test_a_crash_is_reported_and_the_other_studies_still_run(toys, tmp_path):
    with pytest.raises(RuntimeError, match="boom"):  # a notebook user sees the traceback
        study("toy_crash", directory=toys)
    stream = io.StringIO()
    out = run_studies(["toy_crash", "toy_ok"], out=tmp_path / "out", directory=toys, stream=stream)
    assert [o.name for o in out] == ["toy_crash", "toy_ok"]
    crash, ok = out
    assert not crash.ok and crash.records == [] and crash.files == []
    assert crash.mismatches == [("run", "error: RuntimeError: boom", "pass")]
    assert crash.status == "UNEXPECTED: run is error: RuntimeError: boom, expected pass"
    assert ok.ok and ok.figure is None and len(ok.files) == 4  # the figure is in the files
    assert "1/2 toy_crash: 1 unexpected verdict(s)" in stream.getvalue()


def test_run_study_writes_what_study_returns(toys, tmp_path):
    o = run_study("toy_ok", out=tmp_path / "out", directory=toys)
    assert sorted(o.files) == sorted(str(tmp_path / "out" / f"toy_ok.{e}") for e in ("png", "pdf", "json", "csv"))
    payload = json.loads((tmp_path / "out" / "toy_ok.json").read_text())
    assert [r["quantity"] for r in payload["records"]] == [r.quantity for r in o.records]
    assert payload["title"] == "toy" and payload["provenance"]["parameters"]["quick"] is False
    assert payload["expected"]["b"] == {"verdict": "fail", "reason": "b is not 1 (toy theory)",
                                        "verdicts": ["pass", "fail"]}
    assert payload["unexpected"] == [] and "seconds" not in payload


def test_a_rerun_writes_the_same_bytes_and_logs_its_time(toys, tmp_path):
    out = tmp_path / "out"
    run_study("toy_ok", out=out, directory=toys)
    first = {p.name: p.read_bytes() for p in out.iterdir() if p.name != "timings.log"}
    run_study("toy_ok", out=out, directory=toys)
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.name != "timings.log"} == first
    log = (out / "timings.log").read_text().splitlines()
    assert len(log) == 2 and all(line.split()[1] == "toy_ok" and line.endswith(" s") for line in log)


def test_files_are_written_atomically(toys, tmp_path, monkeypatch):
    out = tmp_path / "out"
    run_study("toy_ok", out=out, directory=toys)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def half_written(self, fname, **kwargs):  # the disk fills up in the middle of the PNG
        with open(fname, "wb") as f:
            f.write(b"\x89PNG partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Figure, "savefig", half_written)
    with pytest.raises(OSError, match="No space"):
        run_study("toy_ok", out=out, directory=toys)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # earlier files intact, no temp file


def test_bad_arguments_name_the_parameter(toys, tmp_path):
    with pytest.raises(ValueError, match="unknown study 'nope'; valid: toy_bad, toy_crash, toy_ok"):
        study("nope", directory=toys)
    with pytest.raises(TypeError, match="quick must be a bool"):
        study("toy_ok", directory=toys, quick=1)
    with pytest.raises(TypeError, match="name must be a study's name"):
        study(3, directory=toys)
    with pytest.raises(ValueError, match="out must be a directory path"):
        study("toy_ok", directory=toys, out=" ")
    with pytest.raises(ValueError, match="jobs must be an integer in"):
        run_studies(["toy_ok"], out=tmp_path, directory=toys, jobs=0)
    assert study_names(toys) == ["toy_bad", "toy_crash", "toy_ok"]


def test_runner_names_are_looked_up_when_asked(monkeypatch):
    """``from optanalysis.studies import run_study`` gets the runner's current function (the CLI and
    tests replace it), and the package lists the runner's names."""
    sentinel = object()
    monkeypatch.setattr(studies._runner, "run_study", sentinel)
    from optanalysis.studies import run_study as looked_up

    assert looked_up is sentinel and set(studies.__all__) <= set(dir(studies))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        studies.nope  # noqa: B018


# ------------------------------------------------------------------------------------------------
# The guards: a study cannot pass by saying less than it expected, or more.

GUARDS = {
    "an expected key with no record": (
        '{"a": expect("pass", "r"), "b": expect("fail", "r"), "c": expect("pass", "r")}', None,
        [("c", "no record", "pass")]),
    "a record with no expected key": ('{"a": expect("pass", "r")}', None, [("b", "fail", "no expectation")]),
    "a record matched by two keys": (
        '{"a": expect("pass", "r"), "{}": expect("fail", "r")}', None, [("a", "pass", "matches 'a', '{}'")]),
    "no records": ('{"a": expect("pass", "r")}', "[]", [("run", "no records", "records"), ("a", "no record", "pass")]),
    "a verdict the study does not declare": (
        '{"a": expect("pass", "r"), "b": expect("fail", "r")}',
        '[Record.judge("gd", "constant", {{}}, "a", 1.0, 1.0, 0.0), '
        'Record("gd", "constant", {{}}, "b", 1.0, 2.0, 0.0, "refused: too short")]',
        [("b", "refused: too short", "one of pass/fail")]),
}


@pytest.mark.parametrize("case", list(GUARDS))
def test_the_runner_treats_as_unexpected(case, tmp_path):
    expected, records, mismatches = GUARDS[case]
    d = tmp_path / "studies"
    kwargs = {"records": records} if records else {}
    write_toy_study(d, "toy", expected=expected, **kwargs)
    o = study("toy", directory=d)
    assert not o.ok and o.mismatches == mismatches


def test_patterns_cover_families_and_exploratory_records_are_not_confirmations(tmp_path):
    d = tmp_path / "studies"
    records = ('[Record.judge("gd", "constant", {{}}, f"rate, kappa={{k}}", 1.0, 1.0, 0.0) for k in (10, 100)] + '
               '[Record("gd", "constant", {{}}, "claim", 0.0, 1.0, float("nan"), "qualified", "criterion")]')
    write_toy_study(d, "toy", records=records,
                    expected='{"rate, kappa={}": expect("pass", "theory"), "claim": exploratory("theory is silent")}')
    o = study("toy", directory=d)
    assert o.ok and o.confirmed == 2 and o.exploratory == [("claim", "qualified", "theory is silent")]
    assert o.verdicts[2] == ("claim", "exploratory", "qualified")
    assert o.summary_row()[4:6] == (2, 1)
    path = studies.write_summary([o], tmp_path)
    text = path.read_text()
    head, found = text.split("## Exploratory findings")
    assert "| `toy` | toy | 3 | pass 2, qualified 1 | 2 | 1 | as expected |" in head
    assert "| `toy` | claim | qualified | theory is silent |" in found


def test_an_exploratory_record_still_needs_a_declared_verdict(tmp_path):
    d = tmp_path / "studies"
    write_toy_study(d, "toy", expected='{"a": exploratory("silent"), "b": exploratory("silent")}')
    o = study("toy", directory=d)  # pass/fail are not claim verdicts
    assert [m[2] for m in o.mismatches] == ["one of supported/qualified/refuted"] * 2


@pytest.mark.parametrize("expected, message", [
    ('{"a": ("pass", "r")}', "EXPECTED must be a dict"),
    ('{"a": expect("maybe", "r")}', "verdict must be one of"),
    ('{"a": expect("pass", " ")}', "needs its reason"),
])
def test_a_malformed_expected_fails_before_the_run(expected, message, tmp_path):
    d = tmp_path / "studies"
    write_toy_study(d, "toy", expected=expected, crash="AssertionError('run must not start')")
    with pytest.raises((TypeError, ValueError), match=message):
        study("toy", directory=d)


def test_the_falsification_hook_flips_a_verdict_and_rejects_unknown_names(toys):
    assert study("toy_ok", directory=toys).ok
    o = study("toy_ok", directory=toys, perturb={"one": lambda v: 2.0})  # wrong theory: b is now predicted 2
    assert not o.ok and o.mismatches == [("b", "pass", "fail")]
    with pytest.raises(ValueError, match="unknown hook 'two'; valid: one"):
        study("toy_ok", directory=toys, perturb={"two": lambda v: v})
    with pytest.raises(TypeError, match=r"perturb\['one'\] must be callable"):
        study("toy_ok", directory=toys, perturb={"one": 2.0})
