"""What the study tests share: a study run in quick mode, its files and its records by quantity."""
import json

from optanalysis.studies import load_study, run_study


def run_quick(name, out):
    """Run study ``name`` in quick mode into ``out``; assert its verdicts are the expected ones and its
    four files are written; return the outcome and the JSON payload."""
    outcome = run_study(name, quick=True, out=out)
    assert outcome.ok, outcome.mismatches
    for ext in ("png", "pdf", "csv", "json"):
        assert (out / f"{name}.{ext}").stat().st_size > 0
    payload = json.loads((out / f"{name}.json").read_text())
    assert payload["title"] == load_study(name).TITLE
    assert len(payload["records"]) == len(outcome.records) > 0
    return outcome, payload


def by_prefix(outcome, prefix: str) -> list:
    """The records whose quantity starts with ``prefix``."""
    return [r for r in outcome.records if r.quantity.startswith(prefix)]


def by_quantity(outcome) -> dict:
    return {r.quantity: r for r in outcome.records}
