"""Run the studies of ``studies/`` and write their figures, data and verdicts.

A study is one file ``studies/<name>.py`` in the shape of PEPit's examples: its docstring states
the claim, the theory, the method and the references, and it defines

``TITLE``
    the claim in one line (SUMMARY.md and the README gallery);
``EXPECTED``
    ``{quantity: verdict}`` for records whose expected verdict is not ``"pass"`` (e.g. a lecture
    claim expected to be ``"refuted"``); every other record is expected to pass;
``run(quick=False) -> StudyResult``
    records (:class:`optanalysis.compare.Record`) plus the arrays behind the figure and the
    parameters (seeds included) that made them;
``plot(result) -> matplotlib Figure``
    drawn with :mod:`optanalysis.plotting`.

:func:`run_study` writes ``<out>/<name>.png``, ``.pdf``, ``.csv`` (records) and ``.json`` (records,
data, parameters, provenance), each atomically.
"""
from __future__ import annotations

import importlib
import importlib.util
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..comparison import Record, provenance, records_to_csv
from ..io import atomic_write, finite_or_null

__all__ = ["StudyResult", "Outcome", "STUDIES_DIR", "study_names", "load_study", "run_study", "reproduce",
           "write_summary", "verdict_line"]

STUDIES_DIR = Path(__file__).resolve().parent


@dataclass
class StudyResult:
    """What a study's ``run`` returns."""

    records: list
    data: dict = field(default_factory=dict)
    parameters: dict = field(default_factory=dict)


@dataclass
class Outcome:
    """A finished study: its records, the ones whose verdict differs from the expected one, files."""

    name: str
    title: str
    records: list
    mismatches: list  # (quantity, verdict, expected)
    seconds: float
    files: list

    @property
    def ok(self) -> bool:
        return not self.mismatches

    @property
    def verdicts(self) -> str:
        """``"pass 12, refuted 1"``: how many records have each verdict."""
        counts = {}
        for r in self.records:
            counts[r.verdict] = counts.get(r.verdict, 0) + 1
        return ", ".join(f"{v} {c}" for v, c in sorted(counts.items()))

    @property
    def status(self) -> str:
        return "as expected" if self.ok else "UNEXPECTED: " + "; ".join(
            f"{q} is {v}, expected {e}" for q, v, e in self.mismatches)


def study_names(directory=None) -> list:
    """The studies in ``directory`` (default :data:`STUDIES_DIR`), in file-name order."""
    return sorted(p.stem for p in Path(directory or STUDIES_DIR).glob("*.py") if not p.stem.startswith("_"))


def load_study(name, directory=None):
    """Import ``studies/<name>.py``; ``ValueError`` listing the valid names otherwise."""
    names = study_names(directory)
    if name not in names:
        raise ValueError(f"unknown study {name!r}; valid: {', '.join(names)}")
    directory = Path(directory or STUDIES_DIR)
    if directory == Path(__file__).resolve().parent:  # the packaged studies: modules of this package
        module = importlib.import_module(f"{__package__}.{name}")
    else:
        path = directory / f"{name}.py"
        spec = importlib.util.spec_from_file_location(f"optanalysis_studies.{name}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    for attr in ("TITLE", "run", "plot"):
        if not hasattr(module, attr):
            raise ValueError(f"study {name!r} does not define {attr}")
    return module


def verdict_line(records, expected=None) -> str:
    """``"verdict: all N records as expected"`` or how many are not, for figure titles."""
    expected = expected or {}
    bad = sum(r.verdict != expected.get(r.quantity, "pass") for r in records)
    return (f"verdict: all {len(records)} records as expected" if not bad
            else f"verdict: {bad} of {len(records)} records UNEXPECTED")


def _expected(module, record: Record) -> str:
    return getattr(module, "EXPECTED", {}).get(record.quantity, "pass")


def run_study(name, *, quick=False, out="figures", directory=None) -> Outcome:
    """Run one study and write its figure (PNG, PDF), records (CSV) and data (JSON)."""
    from ..comparison import _jsonable
    from ..plotting import save_figure

    module = load_study(name, directory)
    start = time.perf_counter()
    result = module.run(quick=quick)
    if not isinstance(result, StudyResult):
        result = StudyResult(list(result))
    seconds = time.perf_counter() - start
    out = Path(out)
    files = save_figure(module.plot(result), out / name)
    prov = provenance(**{**result.parameters, "quick": quick})
    payload = {
        "study": name, "title": module.TITLE, "quick": quick, "seconds": round(seconds, 3),
        "docstring": (module.__doc__ or "").strip(),
        "provenance": prov,
        "records": [r.__dict__ for r in result.records],
        "data": result.data,
    }
    files.append(atomic_write(out / f"{name}.json", json.dumps(finite_or_null(_jsonable(payload)), indent=1)))
    files.append(atomic_write(out / f"{name}.csv", records_to_csv(result.records, prov)))
    mismatches = [(r.quantity, r.verdict, _expected(module, r)) for r in result.records
                  if r.verdict != _expected(module, r)]
    return Outcome(name, module.TITLE, result.records, mismatches, seconds, [str(f) for f in files])


def _run_one(args):
    """Run a study; a crash becomes an unexpected verdict of that study, not the end of the run."""
    name, quick, out, directory = args
    start = time.perf_counter()
    try:
        return run_study(name, quick=quick, out=out, directory=directory)
    except Exception as exc:  # noqa: BLE001 - reported as the study's outcome
        return Outcome(name, "", [], [("run", f"error: {type(exc).__name__}: {exc}", "pass")],
                       time.perf_counter() - start, [])


def reproduce(names=None, *, quick=False, out="figures", jobs=1, directory=None, stream=None) -> list:
    """Run the named studies (all by default), ``jobs`` at a time, showing progress on ``stream``."""
    stream = sys.stderr if stream is None else stream
    names = list(names) if names else study_names(directory)
    for n in names:
        if n not in study_names(directory):
            raise ValueError(f"unknown study {n!r}; valid: {', '.join(study_names(directory))}")
    if not isinstance(jobs, int) or isinstance(jobs, bool) or jobs < 1:
        raise ValueError(f"jobs must be an integer >= 1, got {jobs!r}")
    tasks = [(n, quick, out, directory) for n in names]
    outcomes, start = [], time.perf_counter()

    def progress(o):
        outcomes.append(o)
        done = len(outcomes)
        bar = "#" * round(20 * done / len(names))
        status = "ok" if o.ok else f"{len(o.mismatches)} unexpected verdict(s)"
        print(f"[{bar:<20}] {done}/{len(names)} {o.name}: {status} ({o.seconds:.1f} s; "
              f"{time.perf_counter() - start:.0f} s total)", file=stream, flush=True)

    if jobs == 1 or len(names) == 1:
        for t in tasks:
            progress(_run_one(t))
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed

        with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("fork")) as pool:
            for fut in as_completed([pool.submit(_run_one, t) for t in tasks]):
                progress(fut.result())
    order = {n: i for i, n in enumerate(names)}
    return sorted(outcomes, key=lambda o: order[o.name])


def write_summary(outcomes, out="figures") -> Path:
    """``<out>/SUMMARY.md``: one row per study with its verdicts and figure."""
    lines = ["# optanalysis studies", "", "| study | claim | records | verdict | figure |", "|---|---|---|---|---|"]
    for o in outcomes:
        lines.append(f"| `{o.name}` | {o.title} | {o.verdicts} | {o.status} | ![{o.name}]({o.name}.png) |")
    return atomic_write(Path(out) / "SUMMARY.md", "\n".join(lines) + "\n")
