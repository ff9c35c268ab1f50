"""Characteristic polynomial, Jury stability conditions, largest stable step, root regimes.

Everything here is computed from :func:`optanalysis.symbolic.core.iteration_matrix`, i.e. from
the rule's single definition; nothing about a particular rule is typed in.

Conventions
-----------
The characteristic polynomial is ``det(z I - T(h))``.  A factor ``z**k`` that divides it for
*every* value of the symbols (a state entry that the next state does not depend on, e.g. torch's
momentum buffer at momentum 0) is dropped and reported as ``zero_roots = k``: a zero root never
affects stability or the spectral radius.  What is left is monic, ``z + c0`` or
``z**2 + c1 z + c0``.

Jury (Schur-Cohn) conditions for all roots strictly inside the unit circle:
degree 1: ``|c0| < 1``; degree 2: ``|c0| < 1, p(1) > 0, p(-1) > 0``; degree >= 3: factor by
factor in z, Jury's table for an irreducible factor (:mod:`optanalysis.symbolic.schur`).  Each is
written ``e > 0``.
They are simplified under the declared hyperparameter ranges (``lr > 0``, coefficients in
``[0, 1)``, ...): every condition of these rules is affine in ``lr`` (and in ``h``), so it is a
bound on ``lr``; bounds that a proof (:func:`sign`) shows to be implied by another bound or by the
ranges are dropped.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import sympy

from ..rules import get_rule
from .core import H, Z, hyper_symbols, iteration_matrix, rule_cached, with_pinned
from .notation import Typeset, latex

__all__ = ["CharPoly", "characteristic_polynomial", "sign", "range_substitution", "jury_conditions",
           "Stability", "stability", "Regime", "regimes", "spectral_radius_expr", "MU", "L", "KAPPA"]

MU = sympy.Symbol("mu", positive=True)  # smallest eigenvalue
L = sympy.Symbol("L", positive=True)  # largest eigenvalue
KAPPA = sympy.Symbol("kappa", positive=True)  # condition number L/mu


@dataclass(frozen=True)
class CharPoly(Typeset):
    """``expr`` = monic characteristic polynomial in ``Z`` with ``zero_roots`` factors of z removed."""

    expr: sympy.Expr
    degree: int
    zero_roots: int
    symbols: dict  # hyperparameter name -> symbol or fixed value
    rule: str = ""  # whose characteristic polynomial

    def to_latex(self, notation: str = "plain") -> str:
        """``p(z) = ...`` in descending powers of z (``notation``: see
        :mod:`optanalysis.symbolic.notation`)."""
        return f"p(z) = {latex(self.display, self.rule or None, notation)}"

    @property
    def coeffs(self) -> tuple:
        """(c_{n-1}, ..., c_0), the leading 1 omitted."""
        return tuple(sympy.Poly(self.expr, Z).all_coeffs()[1:])

    @property
    def c0(self):
        return self.coeffs[-1]

    @property
    def c1(self):
        return self.coeffs[-2] if self.degree >= 2 else sympy.Integer(1)

    @property
    def discriminant(self):
        """``c1**2 - 4 c0`` for degree 2 (factored, or in compact coefficients), else ``None``."""
        if self.degree != 2:
            return None
        f = sympy.factor(self.c1**2 - 4 * self.c0)
        if isinstance(f, sympy.Add):  # no factorisation: keep the structure c1**2 - 4 c0
            f = self.compact(self.c1) ** 2 - 4 * self.compact(self.c0)
        return f

    def compact(self, e):
        """``e`` collected in ``lr`` (or ``h``) with factored coefficients, or factored, whichever
        is shorter (display only: the value is unchanged)."""
        var = self.symbols.get("lr")
        var = var if isinstance(var, sympy.Symbol) else H
        coeffs = sympy.collect(sympy.expand(e), var, evaluate=False)
        cs = tuple(v for v in self.symbols.values() if isinstance(v, sympy.Symbol))
        collected = sum((tidy(sympy.factor(c), cs) * k for k, c in coeffs.items()), sympy.Integer(0))
        return min((tidy(sympy.factor(e), cs), collected), key=sympy.count_ops)

    @property
    def display(self):
        """The polynomial with compact coefficients."""
        return sum((self.compact(c) * Z**k for k, c in
                    zip(range(self.degree - 1, -1, -1), self.coeffs)), Z**self.degree)

    def at(self, z):
        return sympy.expand(self.expr.subs(Z, z))


def characteristic_polynomial(rule, **fixed) -> CharPoly:
    """``det(z I - T(h))`` of a linear rule, with trivial zero roots dropped (see module doc).

    Real hyperparameters that the rule's constraints pin once ``fixed`` is given (torch's
    ``nesterov=true`` needs ``dampening = 0``) take their pinned value."""
    rule = get_rule(rule)
    return _characteristic_polynomial(rule, **with_pinned(rule, fixed))


@rule_cached
def _characteristic_polynomial(rule, **fixed) -> CharPoly:
    T = iteration_matrix(rule, **fixed)
    poly = sympy.Poly(T.charpoly(Z).as_expr(), Z)
    k = 0
    while poly.degree() > 0 and sympy.expand(poly.coeff_monomial(1)) == 0:
        poly = sympy.Poly(sympy.cancel(poly.as_expr() / Z), Z)
        k += 1
    poly = sympy.Poly([sympy.expand(c) for c in poly.all_coeffs()], Z)
    return CharPoly(poly.as_expr(), poly.degree(), k, hyper_symbols(rule, **fixed), rule.name)


# --------------------------------------------------------------------------------------------
# Signs under the declared ranges


def range_substitution(rule, symbols: dict) -> dict:
    """A substitution that builds the declared ranges into positive symbols: a parameter in
    ``[0, 1)`` (or ``[0, 1]``) becomes ``s/(1 + s)`` with ``s > 0``; one in ``[0, inf)`` stays a
    positive symbol.  A sign proved after the substitution holds on the whole range (generic
    interior points)."""
    rule = get_rule(rule)
    out = {}
    for p in rule.hyper:
        sym = symbols.get(p.name)
        if p.flag or not isinstance(sym, sympy.Symbol):
            continue
        if p.low == 0 and math.isfinite(p.high):
            s = sympy.Dummy(f"{p.name}_s", positive=True)
            out[sym] = sympy.nsimplify(p.high) * s / (1 + s)
    return out


def _factor_sign(base):
    """+1/-1 if the factor has a provable sign (all positive symbols), else None."""
    if base.is_positive:
        return 1
    if base.is_negative:
        return -1
    syms = sorted(base.free_symbols, key=str)
    if not syms or not all(s.is_positive for s in syms):
        return None
    try:
        coeffs = sympy.Poly(base, *syms).coeffs()
    except sympy.PolynomialError:
        return None
    if all(c.is_positive for c in coeffs):
        return 1
    if all(c.is_negative for c in coeffs):
        return -1
    return None


def sign(expr, subs: dict | None = None):
    """Provable sign of ``expr`` (+1, -1, 0) for all positive values of its symbols (after
    ``subs``), or ``None`` when no proof is found.  Sound, not complete: numerator and denominator
    are factored and every factor must be a polynomial with coefficients of one sign."""
    e = sympy.sympify(expr)
    if subs:
        e = e.subs(subs)
    e = sympy.together(e)
    if e == 0:
        return 0
    num, den = sympy.fraction(e)
    total = 1
    for part in (num, den):
        try:
            c, factors = sympy.factor_list(sympy.expand(part))
        except (sympy.PolynomialError, NotImplementedError):
            s = _factor_sign(part)
            if s is None:
                return None
            total *= s
            continue
        if c == 0:
            return 0
        total *= 1 if c > 0 else -1
        for base, k in factors:
            s = _factor_sign(base)
            if s is None:
                if k % 2:
                    return None
                s = 1  # an even power: non-negative, generically positive
            total *= s**k
    return total


# --------------------------------------------------------------------------------------------
# Stability


@lru_cache(maxsize=None)
def _factors(expr) -> tuple:
    """Monic factors in ``Z`` of ``expr`` (a monic polynomial), over the rational functions of the
    other symbols; ``(expr,)`` if a factor's leading coefficient is not a number."""
    from .schur import exact

    out = []
    for f, k in sympy.factor_list(exact(expr))[1]:
        if not f.has(Z):
            continue
        poly = sympy.Poly(f, Z)
        lead = poly.LC()
        if not lead.is_number:
            return (sympy.Poly(expr, Z),)
        out += [sympy.Poly([sympy.expand(c / lead) for c in poly.all_coeffs()], Z)] * k
    return tuple(sorted(out, key=lambda q: (q.degree(), str(q.as_expr()))))


def factors(cp: CharPoly) -> tuple:
    """The monic factors in z of the characteristic polynomial (as ``sympy.Poly`` in ``Z``),
    lowest degree first: the roots of a product are those of its factors."""
    return _factors(cp.expr) if cp.degree >= 3 else (sympy.Poly(cp.expr, Z),)


def _monic_conditions(poly) -> tuple:
    """Jury's conditions of one monic factor: closed forms up to degree 2, the table beyond."""
    c = poly.all_coeffs()
    d = poly.degree()
    if d == 0:
        return ()
    c0 = c[-1]
    if d == 1:
        return (sympy.expand(1 - c0), sympy.expand(1 + c0))
    if d == 2:
        return (sympy.expand(1 - c0), sympy.expand(1 + c0), sympy.expand(poly.eval(1)),
                sympy.expand(poly.eval(-1)))
    from .schur import jury_table

    return jury_table(c)


def jury_conditions(cp: CharPoly) -> tuple:
    """Schur-Cohn/Jury conditions as expressions ``e`` meaning ``e > 0``, for any degree.

    Degree <= 2: the closed forms of the module doc.  Degree >= 3: the polynomial is factored in
    z (a product is stable iff each factor is) and each factor gets its own conditions, Jury's
    table (:func:`optanalysis.symbolic.schur.jury_table`) for an irreducible factor of degree
    >= 3; conditions that hold identically or repeat are dropped."""
    if cp.degree <= 2:
        return _monic_conditions(sympy.Poly(cp.expr, Z))
    out = []
    for poly in factors(cp):
        for e in _monic_conditions(poly):
            if not (e.is_number and e > 0) and e not in out:
                out.append(e)
    return tuple(out)


@dataclass(frozen=True)
class Stability:
    """Simplified stability conditions solved for ``var`` (``lr``, or ``h`` when lr is fixed)."""

    var: sympy.Symbol
    lower: sympy.Expr  # var > lower (0 when only the range remains)
    upper: sympy.Expr | None  # var < upper; None if unbounded
    other: tuple  # conditions not involving var (Relationals), not implied by the ranges
    unresolved: tuple  # conditions that could not be simplified (expressions e > 0)

    @property
    def conditions(self) -> tuple:
        out = []
        if self.lower != 0:
            out.append(sympy.StrictGreaterThan(self.var, self.lower))
        if self.upper is not None:
            out.append(sympy.StrictLessThan(self.var, self.upper))
        out.extend(self.other)
        out.extend(sympy.StrictGreaterThan(e, 0) for e in self.unresolved)
        return tuple(out)


def nice(e, symbols=None, extra=()):
    """A short form of ``e``: the shortest of ``e``, ``factor(e)``, ``extra`` and a
    square-root-aware factorisation.

    For every symbol x (default: all) under exactly one kind of square root sqrt(a x + b) (e.g.
    sqrt(kappa), sqrt(3 kappa + 1), sqrt(momentum)): substitute x = (q**2 - b)/a with q > 0,
    factor the now rational expression and put q back — e.g. ``kappa - 2 sqrt(kappa) + 1``
    becomes ``(sqrt(kappa) - 1)**2``.
    """
    e = sympy.sympify(e)
    cands = [e, sympy.factor(e), *extra]
    forward, back = {}, {}
    for x in sorted(symbols if symbols is not None else e.free_symbols, key=str):
        bases = {a.base for a in e.atoms(sympy.Pow)
                 if a.exp.is_Rational and a.exp.q == 2 and a.base.has(x)}
        if len(bases) != 1:
            continue
        base = bases.pop()
        if not base.is_polynomial(x) or sympy.Poly(base, x).degree() != 1 \
                or any(b.has(x) for b in base.free_symbols - {x}) \
                or any(base.has(y) for y in forward):
            continue
        q = sympy.Dummy("q", positive=True)
        a, b = sympy.Poly(base, x).all_coeffs()
        forward[x], back[q] = (q**2 - b) / a, sympy.sqrt(base)
    if forward:
        work = sympy.factor(sympy.cancel(sympy.together(e.subs(forward, simultaneous=True))))
        cands.append(work.subs(back, simultaneous=True))
    return min(cands, key=lambda c: (sympy.count_ops(c), len(str(c))))


def _simplify_bound(e):
    cands = [sympy.factor(e), sympy.simplify(e), sympy.cancel(e)]
    return min(cands, key=sympy.count_ops)  # ties: the factored form


def tidy(expr, coefficient_symbols=()):
    """Cosmetic: write factors like ``(dampening - 1)`` as ``-(1 - dampening)`` when that removes
    minus signs (for symbols with range [0, 1], e.g. ``lr*(1 - dampening)``)."""
    if not isinstance(expr, sympy.Basic) or isinstance(expr, sympy.logic.boolalg.Boolean) \
            and not isinstance(expr, sympy.core.relational.Relational):
        return expr
    if isinstance(expr, sympy.core.relational.Relational):
        return expr.func(tidy(expr.lhs, coefficient_symbols), tidy(expr.rhs, coefficient_symbols))
    best = expr
    for p in coefficient_symbols:
        if not expr.has(p):
            continue
        q = sympy.Dummy("q", positive=True)
        cand = sympy.factor(best.subs(p, 1 - q)).subs(q, 1 - p)
        if str(cand).count("-") < str(best).count("-"):
            best = cand
    return best


def coefficient_symbols(rule, symbols: dict) -> tuple:
    """Symbols of the hyperparameters declared in [0, 1] or [0, 1)."""
    rule = get_rule(rule)
    return tuple(symbols[p.name] for p in rule.hyper
                 if not p.flag and isinstance(symbols.get(p.name), sympy.Symbol)
                 and p.low == 0 and p.high == 1)


def _keep_extreme(bounds: list, subs: dict, upper: bool) -> list:
    """Drop every bound that is provably implied by another one."""
    kept = list(bounds)
    changed = True
    while changed and len(kept) > 1:
        changed = False
        for i, a in enumerate(kept):
            for b in kept:
                if a is b:
                    continue
                s = sign(a - b, subs)  # upper: a >= b => a redundant; lower: a <= b => redundant
                if s is not None and ((upper and s >= 0) or (not upper and s <= 0)):
                    kept.pop(i)
                    changed = True
                    break
            if changed:
                break
    return kept


def stability(rule, cp: CharPoly, var=None) -> Stability:
    """Simplify the Jury conditions of ``cp`` into bounds on ``var`` (default: ``lr`` if it is a
    symbol, else ``h``).  ``var`` itself is positive by assumption (lower bounds <= 0 drop)."""
    symbols = cp.symbols
    if var is None:
        lr = symbols.get("lr")
        var = lr if isinstance(lr, sympy.Symbol) else H
    subs = range_substitution(rule, symbols)
    lowers, uppers, other, unresolved = [sympy.Integer(0)], [], [], []
    for e in jury_conditions(cp):
        poly = sympy.Poly(e, var) if e.has(var) else None
        if poly is None:
            s = sign(e, subs)
            if s is None or s <= 0:
                other.append(sympy.StrictGreaterThan(sympy.factor(e), 0))
            continue
        if poly.degree() != 1:
            unresolved.append(sympy.factor(e))
            continue
        a, b = poly.all_coeffs()
        sa = sign(a, subs)
        if sa is None:
            unresolved.append(sympy.factor(e))
            continue
        bound = tidy(_simplify_bound(-b / a), coefficient_symbols(rule, symbols))
        (lowers if sa > 0 else uppers).append(bound)
    lowers = _keep_extreme(lowers, subs, upper=False)
    uppers = _keep_extreme(uppers, subs, upper=True)
    lower = lowers[0] if len(lowers) == 1 else sympy.Max(*lowers)
    upper = None if not uppers else uppers[0] if len(uppers) == 1 else sympy.Min(*uppers)
    return Stability(var, lower, upper, tuple(other), tuple(unresolved))


# --------------------------------------------------------------------------------------------
# Regimes and spectral radius


def zeros_of(expr, x) -> list:
    """Solutions for ``x`` of ``expr = 0`` (factor by factor; closed forms up to degree 2)."""
    out = []
    _, factors = sympy.factor_list(sympy.together(expr))
    for f, _k in factors:
        if f.has(x):
            out += [r for r in sympy.roots(sympy.Poly(f, x), cubics=False, quartics=False)
                    if not (r.is_positive is False and x.is_positive)]
    return out


@dataclass(frozen=True)
class Regime(Typeset):
    """A region of the (hyperparameter, h) space with its root structure and spectral radius."""

    name: str
    condition: object  # SymPy Boolean
    spectral_radius: sympy.Expr | None  # None where it is "any value >= 1"
    description: str
    rule: str = ""  # whose regime

    def to_latex(self, notation: str = "plain") -> str:
        """``condition:\\ \\rho = ...`` (``notation``: see :mod:`optanalysis.symbolic.notation`)."""
        rule = self.rule or None
        rho = r"\ge 1" if self.spectral_radius is None else "= " + latex(self.spectral_radius, rule, notation)
        return rf"{latex(self.condition, rule, notation)}:\quad \rho {rho}"


MAX_ABS_ROOT = sympy.Function("max_abs_root")  # rho of a factor of degree >= 3 (no closed form)


def _factor_cp(cp: CharPoly, poly) -> CharPoly:
    return CharPoly(poly.as_expr(), poly.degree(), 0, cp.symbols, cp.rule)


def spectral_radius_expr(cp: CharPoly):
    """max ``|root|``: a Piecewise over the sign of the discriminant (degree 2); for degree >= 3 the
    maximum over the factors in z, an irreducible factor of degree >= 3 written
    ``max_abs_root(p)`` (evaluated numerically: :func:`optanalysis.theory.spectrum.spectral_radius`)."""
    if cp.degree == 1:
        return sympy.Abs(cp.c0)
    if cp.degree >= 3:
        parts = [spectral_radius_expr(_factor_cp(cp, q)) if q.degree() <= 2
                 else MAX_ABS_ROOT(q.as_expr()) for q in factors(cp) if q.degree() > 0]
        return sympy.Max(*parts)
    c1, c0, D = cp.compact(cp.c1), cp.compact(cp.c0), cp.discriminant
    return sympy.Piecewise((sympy.sqrt(c0), D < 0), ((sympy.Abs(c1) + sympy.sqrt(D)) / 2, True))


def _simple(e):
    """A cheap tidy-up (``simplify`` is too slow with four or five symbols)."""
    return min((e, sympy.factor(e)), key=sympy.count_ops)


def regimes(cp: CharPoly, stable) -> tuple:
    """Real roots (monotone or sign-flipping), complex roots, critical damping, divergence."""
    unstable = sympy.Not(sympy.And(*stable)) if stable else sympy.false
    if cp.degree >= 3:
        return (
            Regime("stable", sympy.And(*stable), spectral_radius_expr(cp),
                   "every root inside the unit circle; rho is the largest root modulus over the "
                   "factors of p(z)", cp.rule),
            Regime("divergence", unstable, None, "a root of modulus >= 1", cp.rule),
        )
    if cp.degree == 1:
        root = _simple(-cp.c0)
        return (
            Regime("monotone", sympy.And(root > 0, *stable), root,
                   "one real positive root: the error keeps its sign", cp.rule),
            Regime("sign-flipping oscillation", sympy.And(root < 0, *stable), _simple(-root),
                   "one real negative root: the error flips sign every step", cp.rule),
            Regime("divergence", unstable, None, "|root| >= 1", cp.rule),
        )
    c1, c0, D = cp.compact(cp.c1), cp.compact(cp.c0), cp.discriminant
    sq = sympy.sqrt(D)
    return (
        Regime("complex roots", sympy.And(D < 0, *stable), _simple(sympy.sqrt(c0)),
               "complex pair of modulus sqrt(c0): damped rotation (ripples)", cp.rule),
        Regime("critical damping", sympy.And(sympy.Eq(D, 0), *stable), _simple(sympy.Abs(c1) / 2),
               "double real root -c1/2", cp.rule),
        Regime("real roots, monotone", sympy.And(D > 0, c1 < 0, *stable), _simple((-c1 + sq) / 2),
               "two real roots, the dominant one positive", cp.rule),
        Regime("real roots, sign-flipping oscillation", sympy.And(D > 0, c1 > 0, *stable),
               _simple((c1 + sq) / 2), "two real roots, the dominant one negative: the error "
                                       "flips sign every step", cp.rule),
        Regime("divergence", unstable, None, "a root of modulus >= 1", cp.rule),
    )
