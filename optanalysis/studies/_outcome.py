"""What a study returns (:class:`StudyResult`) and what running it gives (:class:`Outcome`).

An outcome holds the records, each record's verdict next to the one theory expected, the
parameters and the figure; it shows itself in a notebook as a table and a verdict line.  Nothing
heavy is imported here: a study module imports :class:`StudyResult` at no cost.
"""
from __future__ import annotations

import html
from dataclasses import dataclass, field

from ._expect import judge

__all__ = ["StudyResult", "Outcome", "verdict_line", "SUMMARY_COLUMNS", "EXPLORATORY_COLUMNS"]

# One row per study, in the summary table of `reproduce` (SUMMARY.md, the CLI, notebooks).
SUMMARY_COLUMNS = ("study", "claim", "records", "verdicts", "confirmed", "exploratory", "status")
# One row per exploratory finding, listed apart from the confirmations.
EXPLORATORY_COLUMNS = ("study", "quantity", "found", "why theory does not decide")


@dataclass
class StudyResult:
    """What a study's ``run`` returns: its records, the arrays behind the figure, the parameters."""

    records: list
    data: dict = field(default_factory=dict)
    parameters: dict = field(default_factory=dict)


def verdict_line(records, expected) -> str:
    """``"verdict: all N records as expected (k exploratory)"`` or how much is not, for figure titles.

    Parameters
    ----------
    records : list of optanalysis.comparison.Record
    expected : dict
        The study's ``EXPECTED`` (see :mod:`optanalysis.studies._expect`).
    """
    j = judge(expected, records)
    extra = f" ({len(j.exploratory)} exploratory)" if j.exploratory else ""
    return (f"verdict: all {len(records)} records as expected{extra}" if not j.mismatches
            else f"verdict: {len(j.mismatches)} UNEXPECTED of {len(records)} records{extra}")


@dataclass
class Outcome:
    """A finished (or crashed) study.

    Attributes
    ----------
    name, title : str
        The study's module name and its claim in one line.
    records : list of optanalysis.comparison.Record
    mismatches : list of tuple
        ``(quantity, verdict, expected)`` for everything unexpected (see
        :func:`optanalysis.studies._expect.judge`: a wrong verdict, a record nobody expected, an
        expectation with no record, no records at all); a crash is ``("run", "error: ...", "pass")``.
    seconds : float
        Time spent in the study's ``run``.
    files : list of str
        The files written (none unless an output directory was given).
    expected : dict
        The study's ``EXPECTED``: ``{quantity pattern: Expect}``.
    verdicts : list of tuple
        ``(quantity, expected, got)`` for every record, in record order.
    exploratory : list of tuple
        ``(quantity, found, reason)`` of the records theory does not decide.
    confirmed : int
        Records whose verdict is the one theory predicted.
    parameters, data : dict
        What the study's ``run`` returned besides the records (seeds included).
    figure : matplotlib.figure.Figure or None
        The study's figure (None after a crash, or when it ran in another process).
    not_run : str or None
        Why the study was not run (its optional extra is not installed), in one line; such an
        outcome is neither a failure nor unexpected.
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
    verdicts: list = field(default_factory=list)
    exploratory: list = field(default_factory=list)
    confirmed: int = 0
    not_run: str | None = None

    @property
    def ok(self) -> bool:
        """Whether every verdict is the expected one (and the study ran)."""
        return not self.mismatches

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
        if self.not_run:
            return self.not_run
        return "as expected" if self.ok else "UNEXPECTED: " + "; ".join(
            f"{q} is {v}, expected {e}" for q, v, e in self.mismatches)

    def summary_row(self) -> tuple:
        """This study's row of a summary table (:data:`SUMMARY_COLUMNS`)."""
        return (self.name, self.title, len(self.records), self.counts, self.confirmed, len(self.exploratory),
                self.status)

    def exploratory_rows(self) -> list:
        """This study's rows of the exploratory findings (:data:`EXPLORATORY_COLUMNS`)."""
        return [(self.name, q, got, reason) for q, got, reason in self.exploratory]

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
