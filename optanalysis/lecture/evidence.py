"""The studies behind the pages: their outputs gathered into the site, and their verdicts read back.

Each study's figure, records and data (``<study>.png``, ``.pdf``, ``.csv``, ``.json``, as the study
runner writes them) go to ``<site>/figures/``, from one of three places, in this order:

1. ``figures=DIR``: a directory that ``optanalysis reproduce`` or ``optanalysis study`` wrote
   (e.g. the checkout's ``figures/``): the files are copied, nothing is run;
2. the site's own ``figures/`` from an earlier build, if it was made by the same package sources
   (a hash of every source file of the package) in the same mode (``quick`` or not): reused;
3. otherwise the study is run into the site (:func:`optanalysis.studies.run_studies`).

The pages then read each study's JSON: its title, its expectations (written from theory before the
run, each with its reason) and how each record was judged.
"""
from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

__all__ = ["gather", "verdict_groups", "sources_hash"]

_SUFFIXES = (".png", ".pdf", ".csv", ".json")
_MANIFEST = "lecture-sources.json"  # what made the studies' files in the site's figures/


_FACES = ("lecture", "cli")  # nothing a study runs imports them (DESIGN: the faces are on top)


def sources_hash() -> str:
    """A hash of the package's source files that a study's outputs can depend on.

    Returns
    -------
    str
        16 hex digits over every source file but the faces' (the lecture builder and the command
        line), and the figure style.
    """
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    paths = [p for p in sorted(root.rglob("*.py")) if p.relative_to(root).parts[0] not in _FACES]
    for path in paths + sorted(root.glob("*.mplstyle")):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def gather(names, folder, *, quick=False, figures=None, jobs=1, stream=None) -> dict:
    """Put the outputs of the studies ``names`` into ``folder`` and return their JSON payloads.

    Parameters
    ----------
    names : iterable of str
        Study names.
    folder : pathlib.Path
        The site's ``figures/`` directory (created if needed).
    quick : bool
        Run missing studies in their quick mode.
    figures : str or pathlib.Path, optional
        A directory of existing study outputs to copy from (see module doc).
    jobs : int
        Studies run at once (each in its own process when more than one).
    stream : file, optional
        Progress of the studies that are run.

    Returns
    -------
    dict
        study name -> its JSON payload (as the runner wrote it).

    Raises
    ------
    ValueError
        If ``figures`` is not a directory, or a study name is unknown.
    """
    from ..io import atomic_write
    from ..studies import run_studies, study_names

    names = list(dict.fromkeys(names))
    valid = study_names()
    for n in names:
        if n not in valid:
            raise ValueError(f"unknown study {n!r}; valid: {', '.join(valid)}")
    if figures is not None and not Path(figures).is_dir():
        raise ValueError(f"figures must be a directory of study outputs, got {str(figures)!r}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    key = {"sources": sources_hash(), "quick": bool(quick)}
    manifest_path = folder / _MANIFEST
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        manifest = {}
    todo = []
    for n in names:
        if figures is not None and _complete(Path(figures), n):
            for suffix in _SUFFIXES:
                source = Path(figures) / f"{n}{suffix}"
                if source.exists():
                    shutil.copyfile(source, folder / f"{n}{suffix}")
            manifest[n] = {"copied from": str(Path(figures).resolve())}
        elif manifest.get(n) == key and _complete(folder, n):
            continue
        else:
            todo.append(n)
    if todo:
        for outcome in run_studies(todo, quick=quick, out=folder, jobs=min(jobs, len(todo)),
                                   stream=stream):
            if outcome.files:
                manifest[outcome.name] = key
    atomic_write(manifest_path, json.dumps(manifest, indent=1, sort_keys=True))
    payloads = {}
    for n in names:
        path = folder / f"{n}.json"
        if not path.exists():  # the study crashed: the page says so
            payloads[n] = None
            continue
        payloads[n] = json.loads(path.read_text(encoding="utf-8"))
    return payloads


def _complete(folder: Path, name: str) -> bool:
    return all((folder / f"{name}{s}").exists() for s in (".png", ".json"))


def verdict_groups(payload: dict) -> list:
    """The study's expectations with what its records got, one row per expectation.

    Parameters
    ----------
    payload : dict
        The study's JSON as the study runner wrote it.

    Returns
    -------
    list of dict
        ``claim`` (the quantity pattern, ``{}`` shown as ``…``), ``expected`` (a verdict or
        ``"exploratory"``), ``reason`` (from theory, with its reference), ``got`` (verdict ->
        count, in record order) and ``ok`` (every record got the expected verdict, or the
        expectation is exploratory and every verdict is one it allows).
    """
    from ..studies._expect import matches

    groups = {key: {"claim": key.replace("{}", "…"), "expected": e["verdict"], "reason": e["reason"],
                    "got": {}, "allowed": e["verdicts"]}
              for key, e in payload["expected"].items()}
    for j in payload["judged"]:
        hits = [k for k in groups if matches(k, j["quantity"])]
        if len(hits) == 1:
            got = groups[hits[0]]["got"]
            got[j["verdict"]] = got.get(j["verdict"], 0) + 1
    rows = []
    for g in groups.values():
        if g["expected"] == "exploratory":
            g["ok"] = bool(g["got"]) and set(g["got"]) <= set(g["allowed"])
        else:
            g["ok"] = set(g["got"]) == {g["expected"]}
        del g["allowed"]
        rows.append(g)
    return rows
