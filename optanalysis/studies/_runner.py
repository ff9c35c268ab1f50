"""Run the studies: one in a notebook (:func:`study`), or many with files and progress.

A study is one module ``optanalysis/studies/<name>.py`` in the shape of PEPit's examples: its
docstring states the claim, the theory, the method and the references, and it defines

``TITLE``
    the claim in one line (SUMMARY.md and the README gallery);
``EXPECTED``
    ``{quantity pattern: expect(verdict, reason) or exploratory(reason)}``, written from theory
    before the run, covering every record (:mod:`optanalysis.studies._expect` says how records are
    judged against it);
``HOOKS``
    ``{name: what it is}``: the theoretical values the study judges against, each passed through
    the falsification hook (:mod:`optanalysis.studies._hooks`);
``run(quick=False, perturb=None) -> StudyResult``
    records (:class:`optanalysis.comparison.Record`) plus the arrays behind the figure and the
    parameters (seeds included) that made them;
``plot(result) -> matplotlib Figure``
    drawn with :mod:`optanalysis.plotting`; the runner calls it inside the package style;
``REQUIRES``, ``EXTRA`` (optional)
    the modules a study needs beyond the core (e.g. ``("torch", "sklearn")``) and the optional
    extra that installs them.  Without them the study is not run: :func:`study` raises
    :class:`MissingExtra` (the CLI prints its one line and exits 2) and :func:`run_studies`
    reports it as *not run*, with that line, neither a failure nor an unexpected verdict.

:func:`study` runs one and returns its :class:`Outcome`; given an output directory it writes
``<out>/<name>.png``, ``.pdf``, ``.csv`` (records) and ``.json`` (records, data, parameters,
provenance), each atomically.  :func:`run_study` is the same with ``figures/`` as the default
directory, and :func:`run_studies` runs many, in parallel processes if asked.
"""
from __future__ import annotations

import importlib
import importlib.util
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

from ..checks import boolean
from ._expect import Expect, exploratory, expect, judge
from ._hooks import Theory
from ._outcome import EXPLORATORY_COLUMNS, SUMMARY_COLUMNS, Outcome, StudyResult, verdict_line

__all__ = ["MissingExtra", "missing_extra", "StudyResult", "Outcome", "SUMMARY_COLUMNS", "EXPLORATORY_COLUMNS", "Expect", "expect", "exploratory",
           "Theory", "STUDIES_DIR", "study_names", "load_study", "study",
           "run_study", "run_studies", "write_summary", "verdict_line", "output_dir"]

STUDIES_DIR = Path(__file__).resolve().parent


def study_names(directory=None) -> list:
    """The studies in ``directory`` (default :data:`STUDIES_DIR`), in file-name order."""
    return sorted(p.stem for p in Path(directory or STUDIES_DIR).glob("*.py") if not p.stem.startswith("_"))


def load_study(name, directory=None):
    """Import the study ``name``; ``ValueError`` listing the valid names otherwise."""
    if not isinstance(name, str):
        raise TypeError(f"name must be a study's name (str), got {type(name).__name__}")
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
        sys.modules[spec.name] = module  # findable by name, as an imported module is (a study may
        try:  # declare a rule of its own: oa.register_rule(sys.modules[__name__]))
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[spec.name]
            raise
    for attr in ("TITLE", "EXPECTED", "run", "plot"):
        if not hasattr(module, attr):
            raise ValueError(f"study {name!r} does not define {attr}")
    return module


class MissingExtra(ImportError):
    """A study needs modules that are not installed; the message is one line naming the extra."""


def _importable(name: str) -> bool:
    """Whether ``import name`` would find the module, without importing it (torch is slow to import)."""
    if name in sys.modules:
        return sys.modules[name] is not None  # None: import blocked (as tests hide a package)
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def missing_extra(module) -> str | None:
    """The one-line reason why the study ``module`` cannot run here (a module of its ``REQUIRES``
    is not importable), or None."""
    missing = [m for m in getattr(module, "REQUIRES", ()) if not _importable(m)]
    if not missing:
        return None
    extra = getattr(module, "EXTRA", None)
    how = f'pip install "optanalysis[{extra}]"' if extra else "install them"
    return f"not run: needs {', '.join(missing)} ({how})"


def output_dir(out) -> Path:
    """``out`` as a directory path; ``ValueError`` for an empty one (it would mean the current
    directory by accident)."""
    if not isinstance(out, (str, Path)):
        raise TypeError(f"out must be a directory path (str or Path), got {type(out).__name__}")
    if not str(out).strip():
        raise ValueError("out must be a directory path, got an empty string")
    return Path(out)


def study(name, *, quick=False, out=None, directory=None, perturb=None) -> Outcome:
    """Run one study: its records, verdicts, parameters and figure, in a notebook or a script.

    Parameters
    ----------
    name : str
        The study's module name (:func:`study_names` lists them).
    quick : bool
        The study's quick mode (smaller grids, fewer seeds).
    out : str or pathlib.Path, optional
        If given, write ``<out>/<name>.png``, ``.pdf``, ``.csv`` and ``.json`` there, each
        atomically; nothing is written otherwise.
    directory : str or pathlib.Path, optional
        Where to find the study (default: the packaged studies).
    perturb : dict, optional
        ``{hook: callable}``: judge against a perturbed theory (the study's ``HOOKS`` name the
        values; see :mod:`optanalysis.studies._hooks`).  A sharp check turns unexpected.

    Returns
    -------
    Outcome
        Displays in Jupyter as the records table, the verdict line and the figure.

    Raises
    ------
    MissingExtra
        The study needs packages that are not installed (its ``REQUIRES``; the message names
        the extra to install).

    Examples
    --------
    >>> import optanalysis as oa
    >>> result = oa.study("gd_stability_and_rate", quick=True)  # doctest: +SKIP
    >>> result.ok, result.verdicts[0][1:]  # doctest: +SKIP
    (True, ('pass', 'pass'))
    """
    boolean(quick, "quick")
    out = None if out is None else output_dir(out)
    module = load_study(name, directory)
    reason = missing_extra(module)
    if reason is not None:
        raise MissingExtra(f"study {name}: {reason}")
    expected = dict(module.EXPECTED)
    judge(expected, [])  # a malformed EXPECTED fails before the run, not after
    if perturb is not None:
        Theory(getattr(module, "HOOKS", {}), perturb)  # unknown hook names fail before the run
    start = time.perf_counter()
    result = module.run(quick=quick) if perturb is None else module.run(quick=quick, perturb=perturb)
    if not isinstance(result, StudyResult):
        result = StudyResult(list(result))
    seconds = time.perf_counter() - start
    from ..plotting import style

    with style():  # plot() reads rcParams as it draws lines, legends and colour maps
        fig = module.plot(result)
    j = judge(expected, list(result.records))
    outcome = Outcome(name, module.TITLE, list(result.records), j.mismatches, seconds, [], expected,
                      dict(result.parameters), result.data, fig, j.verdicts, j.exploratory, j.confirmed)
    if out is not None:
        outcome.files = [str(f) for f in _write(outcome, (module.__doc__ or "").strip(), quick, out)]
    return outcome


def _write(outcome: Outcome, docstring: str, quick: bool, out: Path) -> list:
    """The figure (PNG, PDF), records (CSV) and everything (JSON) of ``outcome``, atomically."""
    from ..comparison import _jsonable, provenance, records_to_csv
    from ..io import atomic_write, finite_or_null
    from ..plotting import save_figure

    files = save_figure(outcome.figure, out / outcome.name)
    prov = provenance(**{**outcome.parameters, "quick": quick})
    payload = {
        "study": outcome.name, "title": outcome.title, "quick": quick,
        "docstring": docstring,
        "provenance": prov,
        "expected": {k: {"verdict": e.verdict or "exploratory", "reason": e.reason, "verdicts": list(e.verdicts)}
                     for k, e in outcome.expected.items()},
        "records": [r.__dict__ for r in outcome.records],
        "judged": [{"quantity": q, "expected": e, "verdict": v} for q, e, v in outcome.verdicts],
        "unexpected": [list(m) for m in outcome.mismatches],
        "data": outcome.data,
    }
    files.append(atomic_write(out / f"{outcome.name}.json",
                              json.dumps(finite_or_null(_jsonable(payload)), indent=1)))
    files.append(atomic_write(out / f"{outcome.name}.csv", records_to_csv(outcome.records, prov)))
    _log_time(out, outcome.name, quick, outcome.seconds)
    return files


def _log_time(out: Path, name: str, quick: bool, seconds: float) -> None:
    """One line appended to ``<out>/timings.log``: run times stay out of the outputs, which the same
    inputs must reproduce to the byte."""
    from datetime import datetime, timezone

    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    with open(out / "timings.log", "a", encoding="utf-8") as log:
        log.write(f"{stamp} {name}{' --quick' if quick else ''} {seconds:.3f} s\n")


def run_study(name, *, quick=False, out="figures", directory=None) -> Outcome:
    """:func:`study` writing its files, under ``figures/`` by default (the CLI's ``study``)."""
    return study(name, quick=quick, out=out, directory=directory)


def _run_one(args) -> Outcome:
    """Run and write a study; a crash becomes an unexpected verdict of that study, not the end of
    the run.  The figure is dropped: it is in the files, and need not cross processes."""
    name, quick, out, directory = args
    start = time.perf_counter()
    module = load_study(name, directory)
    reason = missing_extra(module)
    if reason is not None:
        return Outcome(name, module.TITLE, [], [], 0.0, [], not_run=reason)
    try:
        return replace(run_study(name, quick=quick, out=out, directory=directory), figure=None)
    except Exception as exc:  # noqa: BLE001 - reported as the study's outcome
        return Outcome(name, "", [], [("run", f"error: {type(exc).__name__}: {exc}", "pass")],
                       time.perf_counter() - start, [])


def run_studies(names=None, *, quick=False, out="figures", jobs=1, directory=None, stream=None) -> list:
    """Run and write the named studies (all by default), ``jobs`` at a time, with progress.

    Parameters
    ----------
    names : list of str, optional
        Studies to run, in the order of the returned outcomes (default: all).
    quick : bool
        Each study's quick mode.
    out : str or pathlib.Path
        Output directory.
    jobs : int
        Studies run at once, each in its own process when more than one.
    directory : str or pathlib.Path, optional
        Where to find the studies (default: the packaged studies).
    stream : file, optional
        Where progress goes (default: the current ``sys.stderr``).

    Returns
    -------
    list of Outcome
        In the order of ``names``; a study that raised is an outcome with an ``error`` verdict.
    """
    from ..checks import integer

    stream = sys.stderr if stream is None else stream
    boolean(quick, "quick")
    out = output_dir(out)
    valid = study_names(directory)
    names = list(names) if names else valid
    for n in names:
        if n not in valid:
            raise ValueError(f"unknown study {n!r}; valid: {', '.join(valid)}")
    jobs = integer(jobs, "jobs", 1, 1024)
    tasks = [(n, quick, out, directory) for n in names]
    outcomes, start = [], time.perf_counter()

    def progress(o):
        outcomes.append(o)
        done = len(outcomes)
        bar = "#" * round(20 * done / len(names))
        status = o.not_run or ("ok" if o.ok else f"{len(o.mismatches)} unexpected verdict(s)")
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
    """``<out>/SUMMARY.md``: one row per study with its verdicts and figure, then the exploratory
    findings apart from the confirmations."""
    from ..io import atomic_write

    def row(cells):
        return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"

    lines = ["# optanalysis studies", "",
             "Confirmed: records whose verdict is the one theory predicted before the run. Exploratory: "
             "records theory does not decide; reported as found, never counted as confirmations.", "",
             row(SUMMARY_COLUMNS + ("figure",)), "|---" * (len(SUMMARY_COLUMNS) + 1) + "|"]
    for o in outcomes:
        name, *rest = o.summary_row()
        lines.append(row((f"`{name}`", *rest, f"![{name}]({name}.png)")))
    found = [r for o in outcomes for r in o.exploratory_rows()]
    lines += ["", "## Exploratory findings", ""]
    if found:
        lines += [row(EXPLORATORY_COLUMNS), "|---" * len(EXPLORATORY_COLUMNS) + "|"]
        lines += [row((f"`{name}`", q, got, reason)) for name, q, got, reason in found]
    else:
        lines.append("None: every record of these studies is decided by theory.")
    return atomic_write(output_dir(out) / "SUMMARY.md", "\n".join(lines) + "\n")
