"""LaTeX to MathML, at build time: the site's formulas need no network and no JavaScript.

Why MathML made at build time rather than a bundled typesetter (KaTeX, MathJax): browsers render
MathML Core themselves (Chromium since 109, Firefox, Safari), so a page carries its formulas as
markup — nothing to download, nothing to run, nothing that can fail on a projector with no
connection, and printing needs no script to have finished.  A formula the converter cannot read
fails the build, instead of showing an error box to a class.  And the notation stays in one place:
the derived expressions are printed by :mod:`optanalysis.symbolic.notation` (the literature's
symbols, polynomials ordered in z) and only that LaTeX is converted, by ``latex2mathml`` (pure
Python, MIT, no dependencies), rather than printed a second time by another printer.
"""
from __future__ import annotations

import html
import re

__all__ = ["math"]

_UNKNOWN = re.compile(r">(\\[A-Za-z]+)<")


def math(tex: str, display: bool = False) -> str:
    """LaTeX as a MathML ``<math>`` element.

    Parameters
    ----------
    tex : str
        LaTeX math (no ``$``).
    display : bool
        A display formula (``display="block"``) rather than one in the text.

    Returns
    -------
    str
        The ``<math>`` element, with the LaTeX as its ``alttext``.

    Raises
    ------
    ValueError
        If ``tex`` is not LaTeX the converter reads (the formula is named).
    """
    from latex2mathml.converter import convert

    if not isinstance(tex, str):
        raise TypeError(f"tex must be a LaTeX string, got {type(tex).__name__}")
    try:
        markup = convert(tex, display="block" if display else "inline")
    except Exception as exc:  # the converter raises its own exception types
        raise ValueError(f"cannot typeset {tex!r}: {exc}") from exc
    unknown = _UNKNOWN.search(markup)  # the converter passes an unknown command through as text
    if unknown:
        raise ValueError(f"cannot typeset {tex!r}: unknown command {unknown[1]}")
    # a readable fallback for screen readers and for copying: the LaTeX it was made from
    return markup.replace("<math ", f'<math alttext="{html.escape(tex)}" ', 1)
