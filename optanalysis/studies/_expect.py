"""What a study expects before it runs, and how its records are judged against it.

A study's ``EXPECTED`` maps *quantity patterns* to expectations.  A pattern is a record's quantity
in which ``{}`` stands for any non-empty text (``"optimal rate, kappa={}"`` matches the record of
every kappa), so one expectation with one reason covers a family of records.  Each expectation
says which verdict theory predicts and why, in one line with its reference (:func:`expect`), or
that theory does not decide and the study only reports what it finds (:func:`exploratory`).

Judging (:func:`judge`) is strict, so that a study cannot pass by saying less:

- every record must match exactly one pattern (a record nobody expected is unexpected);
- every pattern must match at least one record (an expectation left unchecked is unexpected);
- a study that returns no record is unexpected;
- a record's verdict must be one its expectation declares (``pass``/``fail`` for a checked
  value, ``supported``/``qualified``/``refuted`` for a claim): a refusal or an error is unexpected;
- an exploratory record is reported with its verdict and never counted as a confirmation.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Expect", "expect", "exploratory", "judge", "matches", "Judgement", "CHECK_VERDICTS", "CLAIM_VERDICTS",
           "EXPLORATORY"]

CHECK_VERDICTS = ("pass", "fail")  # a value checked against a prediction
CLAIM_VERDICTS = ("supported", "qualified", "refuted")  # a claim judged by a stated criterion
EXPLORATORY = "exploratory"  # the expected verdict shown for an exploratory record


@dataclass(frozen=True)
class Expect:
    """One expectation: the ``verdict`` theory predicts (None: exploratory), the ``reason`` (one line,
    with its reference) and the ``verdicts`` a matching record may take."""

    verdict: str | None
    reason: str
    verdicts: tuple

    def __post_init__(self):
        if not isinstance(self.reason, str) or not self.reason.strip():
            raise ValueError("an expectation needs its reason: one line from theory or the cited paper")
        if self.verdict is not None and self.verdict not in self.verdicts:
            raise ValueError(f"expected verdict {self.verdict!r} is not one of the declared {self.verdicts}")

    @property
    def exploratory(self) -> bool:
        return self.verdict is None


def expect(verdict: str, reason: str) -> Expect:
    """The verdict theory predicts, and why; the declared verdicts are those of its kind."""
    kind = CHECK_VERDICTS if verdict in CHECK_VERDICTS else CLAIM_VERDICTS if verdict in CLAIM_VERDICTS else None
    if kind is None:
        raise ValueError(f"verdict must be one of {CHECK_VERDICTS + CLAIM_VERDICTS}, got {verdict!r}")
    return Expect(verdict, reason, kind)


def exploratory(reason: str, verdicts: tuple = CLAIM_VERDICTS) -> Expect:
    """Theory does not decide: the study reports what it finds (one of ``verdicts``), never as a
    confirmation; ``reason`` says why theory is silent."""
    return Expect(None, reason, tuple(verdicts))


def _pattern(key: str) -> re.Pattern:
    return re.compile("(.+?)".join(re.escape(part) for part in key.split("{}")) + r"\Z", re.S)


def matches(key: str, quantity: str) -> bool:
    """Whether the pattern ``key`` matches the record quantity ``quantity``."""
    return _pattern(key).match(quantity) is not None


@dataclass(frozen=True)
class Judgement:
    """A study's records against its ``EXPECTED``.

    ``verdicts``: ``(quantity, expected, got)`` per record, in record order (``expected`` is
    ``"exploratory"`` for an exploratory record).  ``mismatches``: ``(what, got, expected)`` for
    everything unexpected.  ``exploratory``: ``(quantity, got, reason)``.  ``confirmed``: records
    whose verdict is the one theory predicted.
    """

    verdicts: list
    mismatches: list
    exploratory: list
    confirmed: int


def judge(expected: dict, records) -> Judgement:
    """Judge ``records`` against ``expected`` (``{pattern: Expect}``), by the rules of the module doc."""
    if not isinstance(expected, dict) or not all(isinstance(k, str) and isinstance(v, Expect)
                                                  for k, v in expected.items()):
        raise TypeError("EXPECTED must be a dict {quantity pattern: expect(...) or exploratory(...)}")
    patterns = [(key, _pattern(key), e) for key, e in expected.items()]
    verdicts, mismatches, found, used, confirmed = [], [], [], set(), 0
    if not records:
        mismatches.append(("run", "no records", "records"))
    for r in records:
        hits = [(key, e) for key, p, e in patterns if p.match(r.quantity)]
        used.update(key for key, _ in hits)
        if len(hits) != 1:
            got = "no expectation" if not hits else "matches " + ", ".join(repr(k) for k, _ in hits)
            verdicts.append((r.quantity, "?", r.verdict))
            mismatches.append((r.quantity, r.verdict, got))
            continue
        key, e = hits[0]
        shown = EXPLORATORY if e.exploratory else e.verdict
        verdicts.append((r.quantity, shown, r.verdict))
        if r.verdict not in e.verdicts:
            mismatches.append((r.quantity, r.verdict, f"one of {'/'.join(e.verdicts)}"))
        elif e.exploratory:
            found.append((r.quantity, r.verdict, e.reason))
        elif r.verdict != e.verdict:
            mismatches.append((r.quantity, r.verdict, e.verdict))
        else:
            confirmed += 1
    for key in expected:
        if key not in used:
            mismatches.append((key, "no record", expected[key].verdict or EXPLORATORY))
    return Judgement(verdicts, mismatches, found, confirmed)
