"""Optimal tuning over an eigenvalue interval [mu, L], solved by SymPy from stated conditions.

A tuning is a set of *optimality conditions on the root structure* at the extremal eigenvalues,
not a formula: SymPy solves them for the unknown hyperparameters, the candidate solutions are
filtered (declared ranges, real values) and ranked by the exact worst-case rate
(:func:`optanalysis.symbolic.numeric.worst_case_rate`) at a sample condition number.  The
conditions come from the structure of the derived characteristic polynomial (its family), never
from the rule's name:

* degree 1 (gradient-descent family), one root r(h) affine in h: the worst case over [mu, L] is
  max(``|r(mu)|``, ``|r(L)|``), minimised by equalising the extremal modes with opposite signs,
  ``r(mu) = -r(L)``.
* degree 2 with c0 independent of h (heavy-ball family): every complex mode has the same modulus
  sqrt(c0), so the best is to make the extremal modes critically damped: a double root at
  h = mu and a double root at h = L (Polyak; Goh's "repeated roots at the extremal eigenvalues").
* degree 2 with c0 depending on h (Nesterov family): Lessard-Recht-Packard's tuning is a double
  root r at h = mu with the root of the slowest mode at h = L equal to -r (the extremal modes
  equalised, one critically damped, the other sign-flipping); the *standard* tuning fixes
  lr = 1/L (the mode at L is annihilated) and asks for a double root at h = mu.

Every derived result is checked numerically against the exact worst case when derived, and by
the tests against a grid over h and a grid over the hyperparameters.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import sympy

from ..rules import get_rule
from .analysis import KAPPA, L, MU, CharPoly, characteristic_polynomial, nice, tidy
from .core import H, Z
from .notation import Typeset, latex, symbol_latex

__all__ = ["Tuning", "TuningResult", "tunings_for", "solve_tuning", "optimal_tunings",
           "SAMPLE_KAPPA"]

SAMPLE_KAPPA = 10  # condition number at which candidate solutions are ranked and checked


@dataclass(frozen=True)
class Mode:
    """A condition on the roots at curvature ``at`` (an expression in mu, L).

    kind "double": p(z; at) = (z - r)^2 with a new unknown root r;
    kind "root":   p(value; at) = 0, ``value`` an expression in earlier roots or a new unknown.
    """

    at: sympy.Expr
    kind: str
    root: str  # name of the new unknown root, or "" for kind "root" with a given value
    value: object = None  # for kind "root": a function of the earlier roots' symbols

    def describe(self, roots: dict) -> str:
        where = f"h = {self.at}"
        if self.kind == "double":
            return f"double root {self.root} at {where}"
        val = self.value(roots) if self.value is not None else sympy.Symbol(self.root)
        return f"a root equal to {val} at {where}"


@dataclass(frozen=True)
class Tuning:
    name: str
    principle: str
    modes: tuple
    unknowns: tuple  # hyperparameter names solved for
    given: tuple = ()  # (name, value as a function of (mu, L)) set before solving


@dataclass(frozen=True)
class TuningResult(Typeset):
    name: str
    principle: str
    conditions: tuple  # human-readable strings
    values: dict  # name -> expression in mu, L (lr) or kappa (dimensionless parameters)
    rate: sympy.Expr  # worst-case rate, in kappa
    check: dict  # {"kappa": ..., "rate": float, "worst_case": float}
    rule: str = ""  # whose hyperparameters ``values`` sets

    def to_latex(self, notation: str = "plain") -> str:
        """The tuned values and the worst-case rate, e.g. ``\\alpha = ..., \\beta = ...,\\quad
        \\text{rate} = ...`` (``notation``: see :mod:`optanalysis.symbolic.notation`)."""
        rule = self.rule or None
        values = ", ".join(f"{symbol_latex(k, rule, notation)} = {latex(v, rule, notation)}"
                           for k, v in self.values.items())
        return rf"{values},\quad \text{{rate}} = {latex(self.rate, rule, notation)}"


def family(cp: CharPoly) -> str:
    if cp.degree == 1:
        return "gradient descent"
    if cp.degree == 2:
        return "heavy ball" if not cp.c0.has(H) else "nesterov"
    return "other"


def tunings_for(cp: CharPoly) -> tuple:
    """The tunings whose conditions fit the family of ``cp`` (see module doc)."""
    fam = family(cp)
    syms = cp.symbols
    has = lambda n: isinstance(syms.get(n), sympy.Symbol)  # noqa: E731
    if fam == "gradient descent" and has("lr"):
        return (Tuning("optimal", "equalise the extremal modes: r(mu) = -r(L)",
                       (Mode(MU, "root", "r"), Mode(L, "root", "", lambda r: -r["r"])), ("lr",)),)
    if fam == "heavy ball" and has("lr") and has("momentum"):
        return (Tuning("Polyak", "critical damping of both extremal modes: double roots at "
                                 "h = mu and h = L", (Mode(MU, "double", "r"), Mode(L, "double", "s")),
                       ("lr", "momentum")),)
    if fam == "nesterov" and has("lr") and has("momentum"):
        return (
            Tuning("Lessard-Recht-Packard", "double root r at h = mu and the mode at h = L "
                                            "equalised to -r",
                   (Mode(MU, "double", "r"), Mode(L, "root", "", lambda r: -r["r"])),
                   ("lr", "momentum")),
            Tuning("standard (lr = 1/L)", "lr = 1/L, double root at h = mu",
                   (Mode(MU, "double", "r"),), ("momentum",), (("lr", 1 / L),)),
        )
    return ()


def _nice(e):
    """A short form of a tuning result (few symbols, so ``simplify`` is affordable)."""
    e = sympy.sympify(e)
    return nice(e, extra=(sympy.simplify(e),))


def solve_tuning(rule, tuning: Tuning, cp: CharPoly | None = None, **fixed):
    """Solve a tuning's conditions with SymPy; the best valid solution, or None.

    A solution is valid when it is real, satisfies the equations (residuals at a sample point),
    lies in the declared hyperparameter ranges, is stable, and the modulus of its extremal mode
    equals the exact worst-case rate over [mu, L] (at mu = 1, kappa = SAMPLE_KAPPA); among the
    valid ones the smallest worst case wins."""
    from .numeric import worst_case_rate

    rule = get_rule(rule)
    cp = cp or characteristic_polynomial(rule, **fixed)
    syms = dict(cp.symbols)
    p = cp.expr
    for name, value in tuning.given:
        p = p.subs(syms[name], value)
    p = p.subs(L, KAPPA * MU)
    roots, eqs = {}, []
    for mode in tuning.modes:
        at = sympy.sympify(mode.at).subs(L, KAPPA * MU)
        pm = sympy.Poly(sympy.expand(p.subs(H, at)), Z)
        if mode.kind == "double":
            r = sympy.Symbol(mode.root, real=True)
            roots[mode.root] = r
            target = sympy.Poly((Z - r) ** pm.degree(), Z)
            eqs += [a - b for a, b in zip(pm.all_coeffs()[1:], target.all_coeffs()[1:])]
        else:
            if mode.value is None:
                r = sympy.Symbol(mode.root, real=True)
                roots[mode.root] = r
                val = r
            else:
                val = mode.value(roots)
            eqs.append(pm.as_expr().subs(Z, val))
    unknowns = [syms[n] for n in tuning.unknowns] + list(roots.values())
    eqs = [sympy.expand(sympy.numer(sympy.together(e))) for e in eqs]
    # check=False: SymPy's own check simplifies every solution (slow); each solution is instead
    # checked below by its residuals and by the exact worst-case rate at a sample point.
    sols = _complete(sympy.solve(eqs, unknowns, dict=True, check=False, manual=True), eqs, unknowns)
    # rank the solutions by the exact worst-case rate at a sample condition number
    k = SAMPLE_KAPPA
    numeric_fixed = {n: float(v) for n, v in fixed.items() if not isinstance(v, bool)}
    flags = {n: v for n, v in fixed.items() if isinstance(v, bool)}
    best = None
    sample = {MU: 1, KAPPA: k, L: k}
    for sol in sols:
        if set(sol) != set(unknowns):
            continue
        vals = {}
        try:
            # symbols left free (dampening, weight_decay, ...) at generic sample values
            # (by name: a set's order follows the hash seed, and params end up in the reports)
            others = {x: _sample_value(rule, x.name) for x in
                      sorted(set().union(*[sol[syms[n]].free_symbols for n in tuning.unknowns])
                             - {MU, KAPPA, L}, key=str)}
            for n in tuning.unknowns:
                v = complex(sympy.N(sol[syms[n]].subs(sample).subs(others)))
                if abs(v.imag) > 1e-12:
                    raise ValueError
                vals[n] = v.real
            for n, value in tuning.given:
                vals[n] = float(sympy.sympify(value).subs(sample))
            point = {**sample, **others, **{x: sympy.N(v.subs(sample).subs(others), 30)
                                             for x, v in sol.items()}}
            if any(abs(complex(sympy.N(e.subs(point)))) > 1e-9 for e in eqs):
                raise ValueError("residual")
            params = {**numeric_fixed, **flags, **{s.name: v for s, v in others.items()}, **vals}
            rule.params(**{n: v for n, v in params.items()})
            wc = worst_case_rate(rule, 1.0, float(k), **params)
        except (ValueError, TypeError):
            continue
        if not math.isfinite(wc) or wc >= 1:
            continue
        rate_cands = [sympy.Abs(sol[r]) for r in roots.values()]
        rate_vals = [float(sympy.N(c.subs(sample).subs(others))) for c in rate_cands]
        i = max(range(len(rate_vals)), key=rate_vals.__getitem__)
        if abs(rate_vals[i] - wc) > 1e-6 * wc:
            continue  # the conditions' mode is not the worst case: not a valid tuning
        if best is None or wc < best[0]:
            r = sol[list(roots.values())[i]]
            rate = r if float(sympy.N(r.subs(sample).subs(others))) > 0 else -r
            best = (wc, sol, rate, rate_vals[i], params)
    if best is None:
        return None
    wc, sol, rate, rate_val, params = best
    values = {}
    cs = tuple(v for v in syms.values() if isinstance(v, sympy.Symbol))
    for n in tuning.unknowns:
        v = sol[syms[n]]
        v = _nice(v.subs(KAPPA, L / MU)) if n == "lr" else _nice(v)  # lr in (mu, L)
        values[n] = tidy(v, cs)
    for n, value in tuning.given:
        values[n] = sympy.sympify(value)
    conds = tuple(m.describe(roots) for m in tuning.modes)
    return TuningResult(tuning.name, tuning.principle,
                        tuple(f"{n} = {v}" for n, v in tuning.given) + conds, values, _nice(rate),
                        {"kappa": k, "rate": rate_val, "worst_case": wc,
                         "params": {n: float(v) for n, v in params.items() if not isinstance(v, bool)}},
                        rule.name)


def _complete(sols, eqs, unknowns) -> list:
    """Solutions that leave unknowns free (SymPy's manual solver may drop an equation) completed
    by solving the equations left over for them; others unchanged."""
    out = []
    for sol in sols:
        free = [u for u in unknowns if u not in sol]
        if not free:
            out.append(sol)
            continue
        left = [e for e in (sympy.expand(sympy.numer(sympy.together(e.subs(sol)))) for e in eqs)
                if e != 0]
        if not left:
            continue
        for rest in sympy.solve(left, free, dict=True, check=False):
            if set(rest) == set(free):
                out.append({**{k: v.subs(rest) for k, v in sol.items()}, **rest})
    return out


def _sample_value(rule, name):
    """Generic sample values for parameters left symbolic in a tuning (dampening, ...)."""
    p = next(q for q in get_rule(rule).hyper if q.name == name)
    if math.isfinite(p.high):
        return sympy.Rational(1, 3) * (p.high - p.low) + p.low
    return sympy.Rational(1, 10)


def declared_tunings(rule, cp: CharPoly, **fixed) -> tuple:
    """The rule's own :class:`~optanalysis.rules.RootTuning` records as :class:`Tuning`: a root
    named for the first time is a new unknown, a root listed twice at one point a double root
    (for a quadratic, both roots).  Tunings whose unknowns or given parameters are fixed, or whose
    root count does not match the degree, are skipped."""
    from .parsing import parse

    free = {n for n, v in cp.symbols.items() if isinstance(v, sympy.Symbol)}
    out = []
    for rt in get_rule(rule).tunings:
        given = tuple((n, parse(v, {"mu": MU, "L": L})) for n, v in rt.given)
        if not set(rt.unknowns) | {n for n, _ in given} <= free:
            continue
        if any(len(r) != cp.degree for r in (rt.at_mu, rt.at_L)):
            continue
        modes, names = [], set()
        for at, roots in ((MU, rt.at_mu), (L, rt.at_L)):
            if len(set(roots)) == 1 and len(roots) > 1:
                names.add(roots[0])
                modes.append(Mode(at, "double", roots[0]))
                continue
            for text in roots:
                expr = sympy.sympify(parse(text, {n: sympy.Symbol(n, real=True) for n in
                                                  _names(text)}))
                new = [str(x) for x in expr.free_symbols if str(x) not in names]
                if isinstance(expr, sympy.Symbol) and new:
                    names.add(new[0])
                    modes.append(Mode(at, "root", new[0]))
                else:
                    modes.append(Mode(at, "root", "", lambda r, e=expr: e.subs(
                        {x: r[str(x)] for x in e.free_symbols})))
        out.append(Tuning(rt.name, rt.principle, tuple(modes), tuple(rt.unknowns), given))
    return tuple(out)


def _names(text: str) -> list:
    import re

    return re.findall(r"[A-Za-z_]\w*", text)


def optimal_tunings(rule, **fixed) -> tuple:
    cp = characteristic_polynomial(rule, **fixed)
    out = []
    # a rule's own tunings replace its family's (which may not fit its parametrisation: QHM's
    # nu, TMM's gamma left free make the family's equations slow to solve and meaningless)
    for t in declared_tunings(rule, cp, **fixed) or tunings_for(cp):
        res = solve_tuning(rule, t, cp, **fixed)
        if res is not None:
            out.append(res)
    return tuple(out)
