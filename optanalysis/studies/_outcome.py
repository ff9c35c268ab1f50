"""What a study returns (:class:`StudyResult`) and what running it gives (:class:`Outcome`).

An outcome holds the records, each record's verdict next to the one theory expected, the
parameters and the figure; it shows itself in a notebook as a table and a verdict line.  Nothing
heavy is imported here: a study module imports :class:`StudyResult` at no cost.
"""
from __future__ import annotations

import html
from dataclasses import dataclass, field

__all__ = ["StudyResult", "Outcome", "verdict_line", "SUMMARY_COLUMNS"]

# One row per study, in the summary table of `reproduce` (SUMMARY.md, the CLI, notebooks).
SUMMARY_COLUMNS = ("study", "claim", "records", "verdicts", "status")


@dataclass
class StudyResult:
    """What a study's ``run`` returns: its records, the arrays behind the figure, the parameters."""

    records: list
    data: dict = field(default_factory=dict)
    parameters: dict = field(default_factory=dict)


def verdict_line(records, expected=None) -> str:
    """``"verdict: all N records as expected"`` or how many are not, for figure titles.

    Parameters
    ----------
    records : list of optanalysis.comparison.Record
    expected : dict, optional
        ``{quantity: verdict}`` where the expected verdict is not ``"pass"``.
    """
    expected = expected or {}
    bad = sum(r.verdict != expected.get(r.quantity, "pass") for r in records)
    return (f"verdict: all {len(records)} records as expected" if not bad
            else f"verdict: {bad} of {len(records)} records UNEXPECTED")


@dataclass
class Outcome:
    """A finished (or crashed) study.

    Attributes
    ----------
    name, title : str
        The study's module name and its claim in one line.
    records : list of optanalysis.comparison.Record
    mismatches : list of tuple
        ``(quantity, verdict, expected)`` for each record whose verdict is not the expected one;
        a crash is ``("run", "error: ...", "pass")``.
    seconds : float
        Time spent in the study's ``run``.
    files : list of str
        The files written (none unless an output directory was given).
    expected : dict
        The study's ``EXPECTED``: ``{quantity: verdict}`` where it is not ``"pass"``.
    parameters, data : dict
        What the study's ``run`` returned besides the records (seeds included).
    figure : matplotlib.figure.Figure or None
        The study's figure (None after a crash, or when it ran in another process).
    """

    name: str
    title: str
    records: list
    mismatches: list
    seconds: float
    files: list
    expected: dict = field(default_factory=dict)
    parameters: dict = field(default_factory=dict)
    data: dict = field(default_factory=dict, repr=False)
    figure: object = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        """Whether every verdict is the expected one (and the study ran)."""
        return not self.mismatches

    @property
    def verdicts(self) -> list:
        """``(quantity, expected, got)`` for every record, in record order."""
        return [(r.quantity, self.expected.get(r.quantity, "pass"), r.verdict) for r in self.records]

    @property
    def counts(self) -> str:
        """``"pass 12, refuted 1"``: how many records have each verdict."""
        counts = {}
        for r in self.records:
            counts[r.verdict] = counts.get(r.verdict, 0) + 1
        return ", ".join(f"{v} {c}" for v, c in sorted(counts.items()))

    @property
    def status(self) -> str:
        """``"as expected"``, or each unexpected verdict."""
        return "as expected" if self.ok else "UNEXPECTED: " + "; ".join(
            f"{q} is {v}, expected {e}" for q, v, e in self.mismatches)

    def summary_row(self) -> tuple:
        """This study's row of a summary table (:data:`SUMMARY_COLUMNS`)."""
        return (self.name, self.title, len(self.records), self.counts, self.status)

    def _repr_html_(self) -> str:
        from ..display import html_table

        columns = ("rule", "schedule", "hyperparameters", "quantity", "predicted", "observed",
                   "tolerance", "verdict", "expected")
        rows = [(r.rule, r.schedule, r.hyperparameters, r.quantity, r.predicted, r.observed,
                 r.tolerance, r.verdict, e) for r, (_, e, _) in zip(self.records, self.verdicts)]
        line = verdict_line(self.records, self.expected) if self.ok else self.status
        return (html_table(rows, columns, f"{self.name}: {self.title}")
                + f"<p><b>{html.escape(line)}</b> ({self.seconds:.1f} s)</p>" + self._figure_html())

    def _figure_html(self) -> str:
        """The figure as an inline PNG, so the notebook cell shows it without a pyplot backend."""
        if self.figure is None:
            return ""
        import base64

        from ..plotting import png_bytes

        return f'<img src="data:image/png;base64,{base64.b64encode(png_bytes(self.figure)).decode()}"/>'
