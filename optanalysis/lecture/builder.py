"""Build the lecture site: one page per topic (and per rule asked for), an index, the study
figures, the interactive figures' data and the static assets, under one directory.

Layout of the site::

    index.html  <topic>.html ...   the pages (open index.html: no server needed)
    static/lecture.css, explorer.js   the stylesheet (screen and print) and the sliders' script
    data/<rule>.js                    the interactive figure's grid (a script, so file:// URLs work)
    figures/<study>.{png,pdf,csv,json}  the studies' outputs (see optanalysis.lecture.evidence)
"""
from __future__ import annotations

import html
import json
import os
import sys
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from . import sections
from .mathml import math
from .templates import EXPLORER, INDEX, MOMENTUM, PAGE
from .topics import TOPICS, Topic, rule_topic

__all__ = ["build", "resolve_topics", "Site"]


@dataclass(frozen=True)
class Site:
    """What :func:`build` made.

    Attributes
    ----------
    index : pathlib.Path
        The site's ``index.html``.
    pages : list of pathlib.Path
        The topic and rule pages, in course order.
    unexpected : dict
        study name -> its verdicts that differ from the expected ones (empty when all are as
        theory predicted; a study that did not run maps to ``["did not run"]``).
    seconds : float
        Build time.
    """

    index: Path
    pages: list
    unexpected: dict
    seconds: float


def resolve_topics(names=()) -> list:
    """The pages to build.

    Parameters
    ----------
    names : sequence of str
        Topic names, or else rules (resolved by :func:`optanalysis.rules.get_rule`); all built-in
        topics if empty.

    Returns
    -------
    list of Topic
        One per distinct name, in the order given.

    Raises
    ------
    ValueError
        If a name is neither a topic nor a rule.
    """
    by_name = {t.name: t for t in TOPICS}
    if isinstance(names, str):
        raise TypeError("topics must be a list of names, not a string")
    out = []
    for n in names or by_name:
        if not isinstance(n, str) or not n.strip():
            raise ValueError(f"topic must be a topic's or a rule's name, got {n!r}")
        if n in by_name:
            out.append(by_name[n])
        else:
            try:
                out.append(rule_topic(n))
            except ValueError as exc:
                raise ValueError(f"unknown topic {n!r}: not a topic ({', '.join(by_name)}) nor a rule "
                                 f"({exc})") from None
    if any(t.name == "index" for t in out):  # the page would replace the site's index.html
        raise ValueError("a rule called 'index' cannot have a page (index.html is the site's index)")
    return list({t.name: t for t in out}.values())


def build(topics=(), out="site", *, quick=False, figures=None, jobs=1, stream=None) -> Site:
    """Build the lecture site.

    Parameters
    ----------
    topics : sequence of str
        Topics (:data:`optanalysis.lecture.TOPICS`, in course order) or rules to give a page;
        all topics if empty.
    out : str or pathlib.Path
        The site's directory (created; files in it are replaced).
    quick : bool
        Run the studies the pages need in quick mode (smaller grids).
    figures : str or pathlib.Path, optional
        A directory of study outputs (``optanalysis reproduce --out DIR``) to copy instead of
        running the studies.
    jobs : int
        Studies run at once (each in its own process when more than one).
    stream : file, optional
        Where progress goes (default: ``sys.stderr``).

    Returns
    -------
    Site
        The index, the pages, the studies' unexpected verdicts and the build time.

    Raises
    ------
    ValueError
        An unknown topic or rule, an empty ``out``, or a ``figures`` that is not a directory.
    """
    from .. import __version__
    from ..checks import boolean
    from ..io import atomic_write
    from ..studies import output_dir
    from .evidence import gather
    from .explorer import explorer_data

    boolean(quick, "quick")
    stream = sys.stderr if stream is None else stream
    out = output_dir(out)
    if figures is not None and not Path(figures).is_dir():
        raise ValueError(f"figures must be a directory of study outputs, got {str(figures)!r}")
    chosen = resolve_topics(topics)
    start = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    assets = resources.files(__package__)
    for name in ("lecture.css", "explorer.js"):
        atomic_write(out / "static" / name, (assets / name).read_bytes())
    studies = [s for t in chosen for s in t.studies]
    payloads = gather(studies, out / "figures", quick=quick, figures=figures, jobs=jobs, stream=stream)
    print(f"studies ready ({time.perf_counter() - start:.1f} s)", file=stream, flush=True)
    order, pages = [t.name for t in chosen], []
    for k, topic in enumerate(chosen):
        body, scripts = _body(topic, payloads)
        if topic.explorer:
            data = explorer_data(topic.explorer)
            text = json.dumps(data, separators=(",", ":"), allow_nan=False)
            atomic_write(out / "data" / f"{topic.explorer}.js",
                         f"window.OA_EXPLORER = window.OA_EXPLORER || {{}};\n"
                         f"window.OA_EXPLORER[{json.dumps(topic.explorer)}] = {text};\n")
        page = PAGE.substitute(version=__version__, title=html.escape(topic.title),
                               summary=html.escape(topic.summary), nav=_nav(order, k), body=body,
                               scripts=scripts)
        pages.append(atomic_write(out / f"{topic.name}.html", page))
        print(f"{topic.name}.html ({time.perf_counter() - start:.1f} s)", file=stream, flush=True)
    items = "\n".join(f'<li><a href="{t.name}.html">{html.escape(t.title)}</a>. '
                      f"{html.escape(t.summary.split('. ')[0])}.</li>" for t in chosen)
    index = INDEX.substitute(version=__version__, count=len(chosen), topics=items, docs=_docs(out))
    index = atomic_write(out / "index.html", index)
    unexpected = {n: ["did not run"] if p is None else p["unexpected"]
                  for n, p in payloads.items() if p is None or p["unexpected"]}
    return Site(index, pages, unexpected, time.perf_counter() - start)


def _nav(order: list, k: int) -> str:
    links = ['<a href="index.html">Course</a>']
    if k > 0:
        links.append(f'<a href="{order[k - 1]}.html" rel="prev">← previous</a>')
    if k + 1 < len(order):
        links.append(f'<a href="{order[k + 1]}.html" rel="next">next →</a>')
    return " ".join(links)


def _section(number: int, anchor: str, title: str, content: str) -> str:
    return f'<section id="{anchor}"><h2>{number}. {html.escape(title)}</h2>\n{content}\n</section>'


def _body(topic: Topic, payloads: dict) -> tuple:
    """The page's sections (numbered in order) and its scripts."""
    from ..rules import get_rule

    parts, scripts = [], ""
    rules = [get_rule(n) for n in topic.rules]
    add = lambda anchor, title, content: parts.append(  # noqa: E731
        _section(len(parts) + 1, anchor, title, content))
    if rules:
        add("algorithm", "The algorithm", "\n".join(
            f"<h3><code>{html.escape(r.name)}</code></h3>{sections.docstring(r.doc)}" for r in rules))
        add("theory", "What theory derives", "\n".join(
            f"<h3><code>{html.escape(r.name)}</code></h3>"
            + (sections.derivation(r.name) if r.linear else sections.linearization(r.name))
            for r in rules))
    if topic.schedules:
        add("schedules", "The schedules, exactly as the libraries compute them",
            sections.schedules(topic.schedules))
    if topic.thresholds:
        add("thresholds", "Where each rule stops being stable",
            "<p>With a frozen preconditioner an adaptive rule is a linear rule on "
            + math(r"P^{-1}H") + "; its threshold is on the preconditioned sharpness.</p>"
            + sections.thresholds())
    if topic.explorer:
        rule = get_rule(topic.explorer)
        has_m = "momentum" in rule.hyper_names
        from .explorer import MOMENTA, N_LR, KAPPAS

        momentum = MOMENTUM.substitute(max=len(MOMENTA) - 1, value=MOMENTA.index(0.8)) if has_m else ""
        add("explore", "Explore: step size, " + ("momentum " if has_m else "") + "and curvature",
            EXPLORER.substitute(rule=html.escape(rule.name), lr_max=N_LR - 1, lr_value=N_LR // 3,
                                momentum=momentum, kappa_max=len(KAPPAS) - 1))
        scripts = (f'<script src="data/{html.escape(rule.name)}.js"></script>\n'
                   '<script src="static/explorer.js"></script>')
    if topic.studies:
        add("evidence", "The evidence: studies and their verdicts",
            "<p>Each claim below was given the verdict theory predicts, with its reason, before the "
            "study ran; a claim theory does not decide is marked exploratory and reported as found. "
            "Supported, qualified (true under a condition, stated in the reason) and refuted judge a "
            "lecture's claim; pass and fail judge a computed value against its prediction.</p>"
            + "\n".join(sections.study(s, payloads.get(s)) for s in topic.studies))
    if rules:
        add("semantics", "Exact library semantics", "\n".join(sections.semantics(r.name) for r in rules)
            + "<p>Hyperparameters carry torch's names; the symbol column is the notation used on this "
              "page.</p>")
    add("references", "References",
        sections.references(topic.rules, [payloads.get(s) for s in topic.studies]))
    return "\n".join(parts), scripts


def _docs(out: Path) -> str:
    """Links to the project's documentation when the site is built inside a checkout (the
    package's parent holds ``docs/``), as relative paths that work offline."""
    root = Path(__file__).resolve().parents[2]
    docs = root / "docs"
    pages = [("README.md", "Documentation index"), ("reference.md", "Exact semantics and theory, with sources"),
             ("studies.md", "How a study is judged")]
    found = [(docs / name, title) for name, title in pages if (docs / name).exists()]
    if not found:
        return ""
    items = "".join(f'<li><a href="{html.escape(Path(os.path.relpath(p, out.resolve())).as_posix())}">'
                    f"{html.escape(title)}</a></li>" for p, title in found)
    return f"<h2>Documentation</h2><ul>{items}</ul>"
