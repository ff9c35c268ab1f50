"""The README's gallery and the committed figures agree: every study is in the gallery, and its table of
exploratory findings lists exactly the studies with exploratory expectations, with the verdicts the last
run (``figures/<study>.json``) found for them."""
import json
import re
from pathlib import Path

from optanalysis.studies import load_study, study_names
from optanalysis.studies._expect import matches

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def _found(name) -> str:
    """``"qualified 1, refuted 2"``: the verdicts of ``name``'s exploratory records in figures/."""
    keys = [k for k, e in load_study(name).EXPECTED.items() if e.exploratory]
    judged = json.loads((ROOT / "figures" / f"{name}.json").read_text())["judged"]
    counts = {}
    for j in judged:
        if any(matches(k, j["quantity"]) for k in keys):
            assert j["expected"] == "exploratory"
            counts[j["verdict"]] = counts.get(j["verdict"], 0) + 1
    return ", ".join(f"{v} {n}" for v, n in sorted(counts.items()))


def test_every_study_is_in_the_gallery():
    assert [n for n in study_names() if f"| `{n}` |" not in README] == []


def test_the_exploratory_table_is_the_last_runs_findings():
    table = README.split("**Exploratory findings.**")[1].split("\n\n")[1]
    rows = {m.group(1): m.group(2) for m in re.finditer(r"^\| `(\w+)` \| .* \| ([^|]+) \|$", table, re.M)}
    exploratory = [n for n in study_names() if any(e.exploratory for e in load_study(n).EXPECTED.values())]
    assert sorted(rows) == exploratory
    assert {n: rows[n] for n in exploratory} == {n: _found(n) for n in exploratory}
