"""``optanalysis reproduce`` and ``oa.reproduce``: every derived result, figure and study, under one directory.

The work is a list of :class:`Job` objects (:data:`JOBS`), each writing its own files atomically
and returning their paths; add a job to add an output.  Current jobs:

``derivations``
    every linear rule (and each variant with one flag switched, e.g. torch's ``nesterov``)
    derived symbolically: ``derivations/<rule>.md`` (readable, LaTeX) and ``.json``.
``stability_regions``
    ``stability_regions.png``/``.pdf``: the stable region and spectral-radius map of gd, heavy
    ball and Nesterov in the (lr*h, momentum) plane, drawn from the derived conditions, with
    the data (``stability_regions.csv``, ``.json``) and provenance.
``studies``
    the studies of :mod:`optanalysis.studies` and ``SUMMARY.md``.
"""
from __future__ import annotations

import csv
import io
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from .io import atomic_write

__all__ = ["Job", "JOBS", "job_names", "reproduce", "Reproduction", "derivation_variants"]


@dataclass(frozen=True)
class Job:
    name: str
    description: str
    # run(out: Path, quick: bool, stream) -> list of written paths; the studies job also takes
    # names, jobs and the list its outcomes go to
    run: Callable


@dataclass
class Reproduction:
    """What :func:`reproduce` wrote and found.

    Attributes
    ----------
    out : pathlib.Path
        The output directory.
    files : list of pathlib.Path
        Every file written, in the order written.
    outcomes : list of optanalysis.studies.Outcome
        One per study run (empty when the ``studies`` job did not run).
    """

    out: Path
    files: list = field(default_factory=list)
    outcomes: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether every study's verdicts are the expected ones."""
        return all(o.ok for o in self.outcomes)

    def _repr_html_(self) -> str:
        from .display import html_table
        from .studies import SUMMARY_COLUMNS

        bad = sum(not o.ok for o in self.outcomes)
        caption = (f"{len(self.files)} file(s) under {self.out}; "
                   f"{len(self.outcomes) - bad}/{len(self.outcomes)} studies as expected")
        return html_table([o.summary_row() for o in self.outcomes], SUMMARY_COLUMNS, caption)


# --------------------------------------------------------------------------------------------
# derivations


def derivation_variants() -> list:
    """(file stem, rule, fixed flags): each linear rule, and each with one flag switched."""
    from .rules import RULES

    out = []
    for name, rule in RULES.items():
        if not rule.linear:
            continue
        out.append((name, name, {}))
        for p in rule.hyper:
            if p.flag:
                value = not p.default
                try:
                    rule.params(**{p.name: value})
                except ValueError:
                    continue
                out.append((f"{name}-{p.name}" if value else f"{name}-no-{p.name}", name,
                            {p.name: value}))
    return out


def _derivations(out: Path, quick: bool, stream) -> list:
    from .comparison import provenance
    from .symbolic.derivation import derive

    files = []
    for stem, rule, fixed in derivation_variants():
        start = time.perf_counter()
        d = derive(rule, **fixed)
        payload = {**d.to_dict(), "provenance": provenance(rule=rule, **fixed)}
        files.append(atomic_write(out / "derivations" / f"{stem}.json", json.dumps(payload, indent=1)))
        files.append(atomic_write(out / "derivations" / f"{stem}.md", d.to_markdown()))
        print(f"    derived {stem} ({time.perf_counter() - start:.1f} s)", file=stream, flush=True)
    return files


# --------------------------------------------------------------------------------------------
# stability regions

_REGION_RULES = ("gd", "heavy_ball", "nesterov")


def _stability_regions(out: Path, quick: bool, stream) -> list:
    from .comparison import provenance
    from .plotting import save_figure, stability_regions
    from .symbolic.regions import stability_map

    nx, nm = (121, 41) if quick else (241, 100)
    x = np.linspace(4.4 / nx, 4.4, nx)
    m = np.linspace(0.0, 0.99, nm)
    maps = [stability_map(r, x if r != "gd" else np.linspace(2.6 / nx, 2.6, nx),
                          None if r == "gd" else m) for r in _REGION_RULES]
    files = save_figure(stability_regions(maps), out / "stability_regions")
    rows = io.StringIO()
    w = csv.writer(rows, lineterminator="\n")
    w.writerow(["rule", "lr_h", "momentum", "spectral_radius", "stable"])
    for d in maps:
        if d["momentum"] is None:
            for xi, r, s in zip(d["x"], d["rho"], d["stable"]):
                w.writerow([d["rule"], f"{xi:.10g}", "", f"{r:.10g}", int(s)])
        else:
            for j, mj in enumerate(d["momentum"]):
                for i, xi in enumerate(d["x"]):
                    w.writerow([d["rule"], f"{xi:.10g}", f"{mj:.10g}", f"{d['rho'][j, i]:.10g}",
                                int(d["stable"][j, i])])
    files.append(atomic_write(out / "stability_regions.csv", rows.getvalue()))
    summary = {
        "description": "stability regions in the (lr*h, momentum) plane at h = 1, from the derived "
                       "conditions; rho from the derived characteristic polynomial",
        "rules": {d["rule"]: {
            "expressions": d["expressions"],
            "momentum": None if d["momentum"] is None else d["momentum"].tolist(),
            "boundary_lr_h": d["boundary"] if np.ndim(d["boundary"]) == 0 else d["boundary"].tolist(),
            "complex_interval_lr_h": None if d["complex"] is None else
            np.where(np.isfinite(d["complex"]), d["complex"], None).tolist(),
        } for d in maps},
        "provenance": provenance(grid={"lr_h": [float(x[0]), float(x[-1]), nx],
                                       "momentum": [0.0, 0.99, nm]}, quick=quick),
    }
    files.append(atomic_write(out / "stability_regions.json", json.dumps(summary, indent=1)))
    return files


# --------------------------------------------------------------------------------------------
# studies


def _studies(out: Path, quick: bool, stream, names=None, jobs=1, outcomes=None) -> list:
    from .studies import run_studies, study_names, write_summary

    if not study_names():
        print("    no studies yet", file=stream, flush=True)
        return []
    done = run_studies(names, quick=quick, out=out, jobs=jobs, stream=stream)
    outcomes.extend(done)
    files = [Path(f) for o in done for f in o.files]
    files.append(write_summary(done, out))
    bad = [o.name for o in done if not o.ok]
    if bad:
        print(f"    unexpected verdicts in: {', '.join(bad)}", file=stream, flush=True)
    return files


JOBS = [
    Job("derivations", "symbolic derivation of every linear rule (Markdown + JSON)", _derivations),
    Job("stability_regions", "stable regions and spectral-radius maps (figure + data)",
        _stability_regions),
    Job("studies", "the studies of studies/ with SUMMARY.md", _studies),
]


def job_names() -> list:
    return [j.name for j in JOBS]


def reproduce(out="figures", only=None, *, quick=False, jobs=1, stream=None) -> Reproduction:
    """Run the jobs (all, or those named in ``only``), writing under ``out``.

    Parameters
    ----------
    out : str or pathlib.Path
        Output directory (created).
    only : list of str, optional
        Jobs (:func:`job_names`) or single studies to run; naming a study runs the ``studies``
        job with just the named ones (``optanalysis reproduce --only edge_of_stability``).
    quick : bool
        Small grids and each study's quick mode.
    jobs : int, 1 to 1024
        Studies run at once, each in its own process when more than one.
    stream : file, optional
        Where progress goes (default: the current ``sys.stderr``).

    Returns
    -------
    Reproduction
        The files written and the study outcomes (``.ok`` if every verdict is the expected one).

    Examples
    --------
    >>> import optanalysis as oa
    >>> done = oa.reproduce("out", ["gd_stability_and_rate"], quick=True)  # doctest: +SKIP
    >>> done.ok, [str(f) for f in done.files][:1]  # doctest: +SKIP
    (True, ['out/gd_stability_and_rate.png'])
    """
    from .checks import integer
    from .studies import output_dir, study_names
    from .checks import boolean

    stream = sys.stderr if stream is None else stream
    jobs = integer(jobs, "jobs", 1, 1024)  # checked before any job starts
    boolean(quick, "quick")
    out = output_dir(out)
    if isinstance(only, str):  # one name, not its letters
        only = [only]
    if only is not None and (not isinstance(only, (list, tuple)) or not all(isinstance(n, str) for n in only)):
        raise TypeError(f"only must be a name or a list of names (str), got {only!r}")
    names = list(only) if only else job_names()
    unknown = [n for n in names if n not in job_names() and n not in study_names()]
    if unknown:
        raise ValueError(f"unknown job or study {unknown[0]!r}; valid jobs: {', '.join(job_names())}; "
                         f"studies: {', '.join(study_names())}")
    picked = [n for n in names if n in study_names() and n not in job_names()]
    if picked and "studies" not in names:
        names.append("studies")
    out.mkdir(parents=True, exist_ok=True)  # an unusable path fails here, before any job
    done, start = Reproduction(out), time.perf_counter()
    selected = [j for j in JOBS if j.name in names]
    for i, job in enumerate(selected):
        print(f"[{i + 1}/{len(selected)}] {job.name}: {job.description}", file=stream, flush=True)
        t = time.perf_counter()
        if job.name == "studies":
            written = job.run(out, quick, stream, names=picked or None, jobs=jobs, outcomes=done.outcomes)
        else:
            written = job.run(out, quick, stream)
        done.files += written
        print(f"    {len(written)} file(s) in {time.perf_counter() - t:.1f} s", file=stream, flush=True)
    print(f"done: {len(done.files)} file(s) under {out} in {time.perf_counter() - start:.1f} s",
          file=stream, flush=True)
    return done
