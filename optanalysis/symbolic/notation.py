"""LaTeX of derived expressions, fit for slides: a choice of notation, polynomials ordered in z.

Notations (the ``notation=`` option of every ``to_latex``):

``"plain"``
    symbols named like the kernel arguments (``lr``, ``momentum``, ``beta1``); multi-letter names
    upright (``\\mathrm{lr}``), Greek names as SymPy writes them (``\\beta_{1}``, ``\\mu``);
``"literature"``
    each hyperparameter as its declaration's ``symbol`` says (``\\alpha`` for lr, ``\\beta`` for
    momentum, ``\\beta_1``, ``\\epsilon`` for Adam, ...: set in the rule's own file), and the
    preconditioned curvature ``lam`` as ``\\lambda``.

Order: a polynomial in z is written in descending powers, each coefficient (factored when that
is shorter) with its sign pulled out, ``z^{2} - \\left(1 + \\beta - \\alpha h\\right) z + \\beta``;
in products the hyperparameters come first, in their declared order (``\\alpha h``), and sums
start with their constant (``1 - \\alpha h``), as the literature writes them.
"""
from __future__ import annotations

import sympy
from sympy.printing.latex import LatexPrinter, greek_letters_set

from ..rules import get_rule
from .core import Z

__all__ = ["NOTATIONS", "Typeset", "check_notation", "symbol_latex", "latex", "polynomial_latex"]

NOTATIONS = ("plain", "literature")
_LITERATURE = {"lam": r"\lambda"}  # analysis symbols whose plain name is not the usual letter
_CURVATURE = ("h", "lam")  # a coefficient is collected in these


def check_notation(notation) -> str:
    """``notation`` itself if valid; ``ValueError`` naming the valid ones otherwise."""
    if notation not in NOTATIONS:
        raise ValueError(f"notation must be one of {', '.join(map(repr, NOTATIONS))}, "
                         f"got {notation!r}")
    return notation


def _plain(name: str) -> str | None:
    base = name.rstrip("0123456789")
    if len(base) > 1 and base.lower() not in greek_letters_set:
        return r"\mathrm{" + name.replace("_", r"\_") + "}"
    return None  # SymPy's own rendering (x, h, beta1 -> \beta_{1}, x_prev -> x_{prev})


def symbol_latex(name: str, rule=None, notation: str = "plain") -> str:
    """The LaTeX of the symbol called ``name`` (a hyperparameter of ``rule``, or ``h``, ``z``, ...)."""
    table = _table(rule, check_notation(notation))
    return table.get(name) or _plain(name) or sympy.latex(sympy.Symbol(name))


def _table(rule, notation: str) -> dict:
    if notation != "literature":
        return {}
    hyper = get_rule(rule).hyper if rule is not None else ()
    return {**_LITERATURE, **{p.name: p.symbol for p in hyper if p.symbol}}


def _display(expr, rule, notation: str):
    """``expr`` with its symbols swapped for ones that sort as the literature orders them
    (hyperparameters first, in declared order), and the LaTeX name of each."""
    table = _table(rule, notation)
    order = list(get_rule(rule).hyper_names) if rule is not None else []
    swap, names = {}, {}
    for s in sorted(getattr(expr, "free_symbols", ()), key=str):
        if not isinstance(s, sympy.Symbol) or isinstance(s, sympy.Dummy):
            continue
        key = f"A{order.index(s.name):02d}" if s.name in order else s.name
        new = sympy.Symbol(key, **s.assumptions0)
        swap[s] = new
        names[new] = table.get(s.name) or _plain(s.name) or sympy.latex(sympy.Symbol(s.name))
    return (expr.xreplace(swap) if swap else expr), names


class _Printer(LatexPrinter):
    """SymPy's printer with sums ordered as the literature writes them: the constant first
    (``1 + \\beta``, ``1 - \\alpha h``) unless it is negative (``\\kappa - 1``, not ``-1 + \\kappa``)."""

    def _as_ordered_terms(self, expr, order=None):
        terms = list(expr.as_ordered_terms(order="rev-lex"))
        first = next((k for k, t in enumerate(terms) if not t.could_extract_minus_sign()), 0)
        return [terms[first], *terms[:first], *terms[first + 1:]]


def _print(expr, names: dict) -> str:
    return _Printer({"symbol_names": names}).doprint(expr)


def latex(expr, rule=None, notation: str = "plain") -> str:
    """``expr`` (an expression, relational or matrix) as LaTeX in ``notation`` (see module doc);
    a polynomial in z is written by :func:`polynomial_latex`."""
    check_notation(notation)
    expr = sympy.sympify(expr)
    if isinstance(expr, sympy.Expr) and expr.has(Z) and expr.is_polynomial(Z):
        return polynomial_latex(expr, rule, notation)
    shown, names = _display(expr, rule, notation)
    if isinstance(shown, sympy.Expr) and (shown.is_Mul or shown.is_Pow):
        sign, body = _signed(shown)
        if sign > 0 or shown.could_extract_minus_sign():  # fewer minus signs, not more
            return ("- " if sign < 0 else "") + _print(body, names)
    return _print(shown, names)


def _signed(c) -> tuple:
    """(sign, body) with ``c = sign * body``, ``body`` written without a minus in front: the
    sign of a product (or a quotient) pulled out of each of its factors, a sum negated when
    most of its terms are negative, or half of them and its constant (``-(1 - h)``)."""
    if c.is_Mul:
        sign, factors = 1, []
        for f in c.args:
            s, b = _signed(f)
            sign, factors = sign * s, factors + [b]
        return sign, sympy.Mul(*factors)
    if c.is_Pow and c.exp.is_integer:
        s, b = _signed(c.base)
        return (s if c.exp.is_odd else 1), b**c.exp
    if c.is_Number:
        return (-1, -c) if c < 0 else (1, c)
    if c.is_Add:
        negative = sum(t.could_extract_minus_sign() for t in c.args)
        constant, _ = c.as_coeff_Add()
        if 2 * negative > len(c.args) or (2 * negative == len(c.args) and constant < 0):
            return -1, -c
    return 1, c


def _coefficient(c):
    """A coefficient of the polynomial as the literature writes it: factored if it factors,
    else collected in the curvature (``1 + \\beta_1 - \\alpha \\lambda (1 - \\beta_1)``) when
    that is shorter, each term with its sign pulled out."""
    factored = sympy.factor(c)
    if factored.is_Mul:
        return factored
    curvature = [s for s in c.free_symbols if s.name in _CURVATURE]
    if curvature:
        parts = sympy.collect(sympy.expand(c), curvature, evaluate=False)
        collected = sympy.Add(*[sympy.Mul(*_signed(sympy.factor(k))) * v for v, k in parts.items()])
        if sympy.count_ops(collected) < sympy.count_ops(c):
            return collected
    return c


def polynomial_latex(expr, rule=None, notation: str = "plain", var=Z) -> str:
    """A polynomial in ``var`` as LaTeX in descending powers, each coefficient factored (when
    that is a product), its sign pulled out in front of the term."""
    check_notation(notation)
    shown, names = _display(expr, rule, notation)
    names.pop(var, None)
    poly = sympy.Poly(sympy.expand(shown), var)
    parts = []
    for (k,), c in sorted(poly.terms(), reverse=True):
        sign, body = _signed(_coefficient(c))
        power = "" if k == 0 else sympy.latex(var) + ("" if k == 1 else f"^{{{k}}}")
        if body == 1 and power:
            text = power
        else:
            text = _print(body, names)
            if body.is_Add and (power or sign < 0):
                text = rf"\left({text}\right)"
            text = f"{text} {power}" if power else text
        parts.append(("- " if sign < 0 else "+ ") + text)
    if not parts:
        return "0"
    first = parts[0]
    return " ".join([first[2:] if first.startswith("+") else "-" + first[2:], *parts[1:]])


class Typeset:
    """Mixin of the derived objects: Jupyter shows one as display math in the literature's
    notation, from its own ``to_latex``."""

    def _repr_latex_(self) -> str:
        return f"$${self.to_latex('literature')}$$"
