"""The HTML sections of a page, each from the package's own declarations, derivations and outputs.

Every function returns an HTML fragment; text from docstrings and study files is escaped, formulas
are MathML (:mod:`optanalysis.lecture.mathml`) in the literature's notation
(:mod:`optanalysis.symbolic.notation`).
"""
from __future__ import annotations

import html
import re
import textwrap

from .mathml import math

__all__ = ["docstring", "derivation", "linearization", "semantics", "study", "schedules",
           "thresholds", "references"]

_NOTATION = "literature"
_VERDICT_CLASS = {"pass": "ok", "supported": "ok", "qualified": "mid", "refuted": "bad", "fail": "bad"}


def _e(text) -> str:
    return html.escape(str(text))


def docstring(doc: str) -> str:
    """A numpydoc-style module docstring as HTML.

    Parameters
    ----------
    doc : str
        A summary, then ``Heading`` lines over indented bodies.

    Returns
    -------
    str
        The summary as a lead paragraph; an "Algorithm" body kept as written (it is pseudo-code),
        other bodies as paragraphs; all text escaped.
    """
    lines = textwrap.dedent(doc).strip("\n").splitlines()
    out, k = [], 0
    summary = []
    while k < len(lines) and lines[k].strip():
        summary.append(lines[k].strip())
        k += 1
    out.append(f'<p class="lead">{_e(" ".join(summary))}</p>')
    heading, body = None, []

    def flush():
        if heading is None:
            return
        text = textwrap.dedent("\n".join(body)).strip("\n")
        out.append(f"<h4>{_e(heading)}</h4>")
        if heading.lower().startswith("algorithm"):
            out.append(f'<pre class="algorithm">{_e(text)}</pre>')
        else:
            for para in re.split(r"\n\s*\n", text):
                if para.strip():
                    out.append(f"<p>{_e(' '.join(x.strip() for x in para.splitlines()))}</p>")

    for line in lines[k:]:
        if line.strip() and not line[:1].isspace():
            flush()
            heading, body = line.strip().removesuffix("::"), []  # '::' marks a literal block for Sphinx
        elif heading is not None:
            body.append(line)
        elif line.strip():
            out.append(f"<p>{_e(line.strip())}</p>")
    flush()
    return "\n".join(out)


def _lx(expr, rule) -> str:
    from ..symbolic.notation import latex

    return latex(expr, rule, _NOTATION)


def _sym(name, rule) -> str:
    from ..symbolic.notation import symbol_latex

    return symbol_latex(name, rule, _NOTATION)


def _row(label: str, content: str) -> str:
    return f"<dt>{_e(label)}</dt><dd>{content}</dd>"


def _piecewise(name: str, expr, rule) -> str:
    """``name = expr`` as display math; a piecewise expression one piece a line, each with its
    condition (one formula per condition), so that no line is wider than a handout."""
    import sympy

    if not isinstance(expr, sympy.Piecewise):
        return math(rf"{name} = {_lx(expr, rule)}", True)
    lines = []
    for value, condition in expr.args:
        when = "otherwise" if condition is sympy.true else "when " + _conditions(condition, rule)
        lines.append(f"<li>{math(rf'{name} = {_lx(value, rule)}')} {when}</li>")
    return f'<ul class="pieces">{"".join(lines)}</ul>'


def _conditions(condition, rule) -> str:
    """A conjunction as one formula per condition, joined by "and": the line can wrap between
    them."""
    import sympy

    parts = condition.args if isinstance(condition, sympy.And) else (condition,)
    return " and ".join(math(_lx(c, rule)) for c in parts)


def derivation(rule_name: str) -> str:
    """The derivation of a linear rule, typeset.

    Parameters
    ----------
    rule_name : str
        A linear rule.

    Returns
    -------
    str
        HTML: the state, iteration matrix, characteristic polynomial, Jury conditions, stability,
        largest stable lr and curvature, spectral radius, regimes, optimal tunings and
        equivalences of :func:`optanalysis.derive`.
    """
    from ..symbolic import derive

    d = derive(rule_name)
    r = d.rule
    lx = lambda e: _lx(e, r)  # noqa: E731
    state = ", ".join(_sym(n, r) for n in d.state)
    rows = [_row("state", math(rf"\left({state}\right)") + " per eigen-direction of curvature "
                 + math("h") + ", gradient " + math(r"g = h\,y") + " at the rule's gradient point"),
            _row("iteration matrix", math(rf"T(h) = {lx(d.iteration_matrix)}", True)),
            _row("characteristic polynomial", math(rf"p(z) = {lx(d.charpoly)}", True)),
            _row("Jury conditions", "".join(math(rf"{lx(c)} > 0", True) for c in d.jury)),
            _row("stable iff", "".join(math(lx(c), True) for c in d.stability) or "always")]
    if d.lr_bound is not None:
        rows.append(_row("largest stable step", math(rf"{_sym('lr', r)} < {lx(d.lr_bound)}", True)))
    if d.h_bound is not None:
        rows.append(_row("largest stable curvature", math(rf"h < {lx(d.h_bound)}", True)))
    rows.append(_row("spectral radius", _piecewise("\\rho", d.spectral_radius, r)))
    table = f'<dl class="derived">{"".join(rows)}</dl>'
    regimes = "".join(
        f"<li><b>{_e(g.name)}</b> ({_e(g.description)}) when {_conditions(g.condition, r)}: "
        + math(r"\rho = " + lx(g.spectral_radius) if g.spectral_radius is not None else r"\rho \ge 1")
        + "</li>" for g in d.regimes)
    regimes = f'<h4>Regimes of the roots</h4><ul class="regimes">{regimes}</ul>'
    tunings = []
    for t in d.tunings:
        values = ", ".join(f"{_sym(k, r)} = {lx(v)}" for k, v in t.values.items())
        check = t.check
        tunings.append(
            f"<li><b>{_e(t.name)}</b> ({_e(t.principle)}): {math(values)}, worst-case rate "
            f"{math(lx(t.rate))}. <span class=\"check\">Checked at κ = {_e(check['kappa'])}: derived "
            f"rate {check['rate']:.9g}, exact worst case {check['worst_case']:.9g}.</span></li>")
    tuning = ("<h4>Optimal tuning over [μ, L]</h4><ul>" + "".join(tunings) + "</ul>" if tunings
              else "<p>No closed-form optimal tuning is derived for this rule.</p>")
    eqs = "".join(f"<li>{_e(e.statement)}.</li>" for e in d.equivalences)
    equiv = f"<h4>Equivalences (same characteristic polynomial)</h4><ul>{eqs}</ul>" if eqs else ""
    assumptions = "; ".join(_e(a) for a in d.assumptions)
    return (f'<div class="derivation" data-rule="{_e(r)}"><p class="note">Derived by SymPy from the '
            f"rule's own step function, assuming {assumptions}.</p>{table}{regimes}{tuning}{equiv}</div>")


def linearization(rule_name: str) -> str:
    """The frozen-preconditioner linearisation of an adaptive rule, typeset.

    Parameters
    ----------
    rule_name : str
        An adaptive rule.

    Returns
    -------
    str
        HTML: the preconditioner, the iteration matrix and polynomial in the preconditioned
        curvature, the equivalent linear rule and the threshold of :func:`optanalysis.linearize`,
        and the eps = 0 period-2 orbit where the rule declares it applies.
    """
    from ..rules import get_rule
    from ..symbolic.cycles import period2_orbit
    from ..symbolic.linearization import linearize

    rule = get_rule(rule_name)
    lin = linearize(rule)
    r = rule.name
    lx = lambda e: _lx(e, r)  # noqa: E731
    lam = _sym("lam", r)
    rows = [_row("frozen", _e(", ".join(lin.frozen)) + " (tracked: " + _e(", ".join(lin.tracked)) + ")"),
            _row("preconditioner", math(rf"P = {lx(lin.preconditioner)},\quad {lam} = h/P", True)),
            _row("iteration matrix", math(rf"T({lam}) = {lx(lin.matrix)}", True)),
            _row("characteristic polynomial", math(rf"p(z) = {lx(lin.charpoly)}", True))]
    if lin.equivalent:
        # the equivalent rule's hyperparameters by name: its symbols would clash with this rule's
        mapping = ", ".join(f"<code>{_e(k)}</code> = {math(lx(v))}" for k, v in lin.mapping.items())
        rows.append(_row("equivalent to", f"<code>{_e(lin.equivalent)}</code> on "
                         + math(r"P^{-1}H") + " with " + mapping))
    rows.append(_row("stable iff", math(rf"\lambda_{{\max}}(P^{{-1}}H) < {lx(lin.threshold)}", True)))
    if rule.orbit:  # one formula per state entry, then the polynomial: each fits a handout's width
        parts = [p for part in period2_orbit(r).to_latex(_NOTATION).split(r",\quad")
                 for p in part.split(r",\ ")]
        rows.append(_row("ε = 0: period-2 orbit", "".join(math(p.strip(), True) for p in parts)))
    return (f'<div class="derivation" data-rule="{_e(r)}"><p class="note">Nonlinear: the second-moment '
            f"state is held fixed and the rule's own update differentiated (a linearisation around "
            f"the minimiser).</p><dl class=\"derived\">{''.join(rows)}</dl></div>")


def semantics(rule_name: str) -> str:
    """What a rule reproduces exactly, and its hyperparameters as declared.

    Parameters
    ----------
    rule_name : str
        A rule.

    Returns
    -------
    str
        HTML: the rule's ``semantics`` line and a table of its hyperparameters (torch's names,
        literature symbols, defaults, valid ranges, meaning).
    """
    from ..rules import get_rule

    rule = get_rule(rule_name)
    rows = []
    for p in rule.hyper:
        symbol = math(p.symbol) if getattr(p, "symbol", "") else ""
        rng = "{false, true}" if p.flag else str(p.range)
        rows.append(f"<tr><td><code>{_e(p.name)}</code></td><td>{symbol}</td><td><code>{_e(p.default)}</code>"
                    f"</td><td>{_e(rng)}</td><td>{_e(p.doc)}</td></tr>")
    return (f"<p><b><code>{_e(rule.name)}</code></b>: {_e(rule.semantics)}.</p>"
            '<table class="hyper"><thead><tr><th>name</th><th>symbol</th><th>default</th><th>range</th>'
            f"<th>meaning</th></tr></thead><tbody>{''.join(rows)}</tbody></table>")


def study(name: str, payload: dict | None, folder: str = "figures") -> str:
    """A study's figure, its claim and its verdicts.

    Parameters
    ----------
    name : str
        The study's name.
    payload : dict or None
        Its JSON as the study runner wrote it (None: the study did not run).
    folder : str
        Where the page finds the study's files, relative to the page.

    Returns
    -------
    str
        HTML: the figure, a status line, and for each expectation written from theory the
        verdicts its records got, the predicted verdict and the reason; a verdict theory did not
        predict is flagged.
    """
    from .evidence import verdict_groups

    if payload is None:
        return (f'<section class="study" id="study-{_e(name)}"><h3>{_e(name)}</h3>'
                '<p class="unexpected">This study did not run (see the build\'s output).</p></section>')
    rows = []
    for g in verdict_groups(payload):
        got = ", ".join(f'<span class="verdict {_VERDICT_CLASS.get(v, "mid")}">{_e(v)}</span>'
                        + (f" ×{n}" if n > 1 else "") for v, n in g["got"].items())
        expected = "exploratory" if g["expected"] == "exploratory" else _e(g["expected"])
        flag = "" if g["ok"] else ' class="unexpected"'
        rows.append(f"<tr{flag}><td>{_e(g['claim'])}</td><td>{got}</td><td>{expected}</td>"
                    f"<td>{_e(g['reason'])}</td></tr>")
    unexpected = payload.get("unexpected") or []
    mode = " (quick mode: smaller grids)" if payload.get("quick") else ""
    status = (f'<p class="unexpected">{len(unexpected)} verdict(s) differ from what theory predicted: '
              + _e("; ".join(" / ".join(map(str, u)) for u in unexpected)) + "</p>" if unexpected else
              f'<p class="status">Every verdict is the one theory predicted before the run{mode}, '
              "or is reported as exploratory where theory does not decide.</p>")
    files = " · ".join(f'<a href="{folder}/{_e(name)}.{ext}">{ext}</a>' for ext in ("pdf", "csv", "json"))
    return (f'<section class="study" id="study-{_e(name)}"><div class="keep"><h3>{_e(payload["title"])}</h3>'
            f'<figure><img src="{folder}/{_e(name)}.png" alt="{_e(payload["title"])}">'
            f"<figcaption>Study <code>{_e(name)}</code> ({files}).</figcaption></figure></div>{status}"
            '<table class="verdicts"><thead><tr><th>claim</th><th>verdict</th><th>expected</th>'
            f"<th>why (from theory, before the run)</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
            "</section>")


def schedules(names) -> str:
    """The schedules' library semantics.

    Parameters
    ----------
    names : iterable of str
        Schedule names of the registry (``optanalysis schedules`` lists them).

    Returns
    -------
    str
        HTML: a table of the class or function reproduced, the formula of the lr at step k and
        the parameters with their defaults, and how a schedule enters the exact prediction.
    """
    from ..hyper import REQUIRED
    from ..schedules.registry import get_kind

    rows = []
    for n in names:
        kind = get_kind(n)
        params = ", ".join(f"{p.name}" + ("" if p.default is REQUIRED else f"={p.default}")
                           for p in kind.params)
        rows.append(f"<tr><td><code>{_e(n)}</code></td><td>{_e(kind.library)}</td>"
                    f"<td><code>{_e(kind.formula)}</code></td><td><code>{_e(params)}</code></td></tr>")
    return ('<table class="schedules"><thead><tr><th>spec name</th><th>library</th><th>lr at step k</th>'
            f"<th>parameters</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
            "<p>The lr used at optimizer step k is the scheduler's value at k (torch: "
            "<code>optimizer.step(); scheduler.step()</code>; optax: <code>count</code> from 0). "
            "On a quadratic the exact state after n steps of a linear rule under any schedule is the "
            "product of the derived iteration matrices, " + math(r"x_n = T(h, \alpha_{n-1}) \cdots "
                                                                 r"T(h, \alpha_0)\, x_0") + ".</p>")


THRESHOLD_RULES = ("gd", "heavy_ball", "nesterov", "rmsprop", "adam", "adagrad")


def thresholds() -> str:
    """The largest stable sharpness of the rules in :data:`THRESHOLD_RULES`, derived.

    Returns
    -------
    str
        HTML: a table of the largest stable curvature of each linear rule and the largest stable
        preconditioned curvature of each adaptive one (frozen preconditioner).
    """
    from ..rules import get_rule
    from ..symbolic import derive
    from ..symbolic.linearization import linearize

    rows = []
    for n in THRESHOLD_RULES:
        rule = get_rule(n)
        if rule.linear:
            bound = derive(n).h_bound
            cell = math(rf"h < {_lx(bound, n)}")
        else:
            cell = math(rf"\lambda_{{\max}}(P^{{-1}}H) < {_lx(linearize(n).threshold, n)}")
        rows.append(f"<tr><td><code>{_e(n)}</code></td><td>{cell}</td></tr>")
    return ('<table class="thresholds"><caption>Largest stable sharpness (derived)</caption><thead><tr>'
            f"<th>rule</th><th>stable iff</th></tr></thead><tbody>{''.join(rows)}</tbody></table>")


def references(rules, payloads) -> str:
    """The references of a page.

    Parameters
    ----------
    rules : iterable of str
        Rules whose declared references are listed.
    payloads : iterable of dict or None
        Study JSON payloads whose docstring's References section is listed.

    Returns
    -------
    str
        HTML: one list, duplicates removed.
    """
    from ..rules import get_rule

    items = []
    for n in rules:
        items += get_rule(n).references
    for payload in payloads:
        if payload is None:
            continue
        found = re.search(r"\nReferences?\n(.*?)(\n\S|\Z)", payload.get("docstring", ""), re.S)
        if found:
            items.append(" ".join(found.group(1).split()))
    items = list(dict.fromkeys(items))
    return "<ul class=\"references\">" + "".join(f"<li>{_e(i)}</li>" for i in items) + "</ul>"
