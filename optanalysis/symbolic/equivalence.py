"""Equivalences between formulations, proven by identical characteristic polynomials.

The claims are those the rules declare (``Rule.equivalences``).  A claim names two (rule,
fixed hyperparameters) pairs and how the second one's symbols map to the first's.  The mapping
is either stated (``h -> h + weight_decay``, parsed, never evaluated) or *solved for*: the
coefficients of the two characteristic polynomials are equated and SymPy solves for the second
rule's hyperparameters; a mapping that does not depend on h is an equivalence "under a change of
hyperparameters" (torch's dampening rescales the learning rate), the identity mapping is an
equivalence outright.  When the identity fails, a concrete counterexample (roots at sample
values) is reported.

Identical characteristic polynomials mean identical per-eigen-direction dynamics for a
*constant* learning rate.  Under a schedule the question is whether one fixed change of state
variables maps one recurrence to the other for every lr: :func:`schedule_check` solves
``S T_b(lr) = T_a(lr) S`` for an invertible S independent of lr and h (none means they differ once
lr changes between steps) and shows a concrete two-step product that differs, computed from the
rules.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import sympy

from ..rules import RULES, get_rule
from .analysis import characteristic_polynomial
from .core import H, Z, iteration_matrix, source_key, with_pinned
from .notation import Typeset, latex, symbol_latex
from .parsing import parse

__all__ = ["Claim", "EquivalenceResult", "claims", "check_claim", "claims_for", "schedule_check"]

SAMPLE = {"lr": sympy.Rational(1, 10), "momentum": sympy.Rational(9, 10),
          "dampening": sympy.Rational(1, 2), "weight_decay": sympy.Rational(1, 10),
          "h": sympy.Integer(1)}


def _sample_values(symbols) -> dict:
    """Sample values of ``symbols`` (SAMPLE, else 1/3), in a fixed order (SAMPLE's, then by
    name): a set of symbols iterates in an order that changes with the hash seed, and the
    values end up in the derivation reports."""
    order = list(SAMPLE)
    key = lambda s: (order.index(s.name) if s.name in order else len(order), s.name)  # noqa: E731
    return {s: SAMPLE.get(s.name, sympy.Rational(1, 3)) for s in sorted(symbols, key=key)}


@dataclass(frozen=True)
class Claim:
    """``rule_a(fixed_a)`` versus ``rule_b(fixed_b)``."""

    rule_a: str
    fixed_a: tuple
    rule_b: str
    fixed_b: tuple
    solve_for: tuple = ()  # hyperparameters of b to solve for (else identity by name)
    mapping: tuple = ()  # stated (symbol name of a, expression string in a's symbols) pairs
    schedule: bool = False  # also compare under a varying lr

    def label(self, which: str) -> str:
        rule, fixed = (self.rule_a, self.fixed_a) if which == "a" else (self.rule_b, self.fixed_b)
        return rule + (f"({', '.join(f'{k}={v}' for k, v in fixed)})" if fixed else "")


@dataclass(frozen=True)
class EquivalenceResult(Typeset):
    statement: str
    holds: bool  # identical characteristic polynomials under ``mapping``
    mapping: dict  # symbol name -> expression (empty: identity)
    zero_roots: tuple  # dropped zero roots (a, b)
    identity_holds: bool  # identical without any mapping
    counterexample: dict = field(default_factory=dict)  # when the identity fails
    schedule: dict = field(default_factory=dict)  # schedule_check result when asked
    rule: str = ""  # the first rule of the claim: ``mapping`` is written in its symbols

    def to_latex(self, notation: str = "plain") -> str:
        """The statement as text, then the mapping (``\\alpha \\mapsto ...``) as math
        (``notation``: see :mod:`optanalysis.symbolic.notation`)."""
        rule = self.rule or None
        text = r"\text{" + self.statement.replace("_", r"\_") + "}"
        maps = ", ".join(f"{symbol_latex(k, rule, notation)} \\mapsto {latex(v, rule, notation)}"
                         for k, v in self.mapping.items())
        return f"{text}\\quad {maps}" if maps else text


def claims() -> tuple:
    """Every claim the registered rules declare, in registry order."""
    return tuple(Claim(rule.name, e.fixed, e.other, e.other_fixed, e.solve_for, e.mapping,
                       e.schedule)
                 for rule in RULES.values() for e in rule.equivalences)


def claims_for(rule: str) -> tuple:
    """The claims in which ``rule`` (a name) takes part, on either side."""
    return tuple(c for c in claims() if rule in (c.rule_a, c.rule_b))


def _roots(expr, values):
    return sorted((complex(r) for r in sympy.Poly(expr.subs(values), Z).nroots()),
                  key=lambda c: (c.real, c.imag))


def check_claim(claim: Claim) -> EquivalenceResult:
    """Compare the two characteristic polynomials of ``claim`` (cached by the rules' sources)."""
    return _check_claim(claim, source_key(claim.rule_a), source_key(claim.rule_b))


@lru_cache(maxsize=None)
def _check_claim(claim: Claim, key_a: str, key_b: str) -> EquivalenceResult:
    cpa = characteristic_polynomial(claim.rule_a, **dict(claim.fixed_a))
    cpb = characteristic_polynomial(claim.rule_b, **dict(claim.fixed_b))
    pa, pb = cpa.expr, cpb.expr
    by_name = {s.name: s for s in list(cpa.expr.free_symbols) + [H]}
    b_syms = {s.name: s for s in cpb.expr.free_symbols}
    # identity: rename b's symbols to a's by name
    ren = {s: by_name.get(n, s) for n, s in b_syms.items()}
    pb_id = sympy.expand(pb.subs(ren, simultaneous=True))
    identity = sympy.expand(pa - pb_id) == 0 and cpa.degree == cpb.degree
    mapping = {}
    if claim.mapping:
        scope = {s.name: s for s in cpa.expr.free_symbols | {H}}
        mapping = {n: parse(e, scope) for n, e in claim.mapping}
        sub = {b_syms.get(n, by_name.get(n)): v for n, v in mapping.items()}
        holds = sympy.expand(pa - pb_id.subs(sub, simultaneous=True)) == 0
    elif claim.solve_for:
        new = {n: sympy.Symbol(n + "_b", positive=True) for n in claim.solve_for}
        pb_new = pb_id.subs({by_name[n]: new[n] for n in claim.solve_for}, simultaneous=True)
        eqs = sympy.Poly(sympy.expand(pa - pb_new), Z).all_coeffs() if cpa.degree == cpb.degree \
            else [1]
        sols = sympy.solve(eqs, list(new.values()), dict=True)
        sols = [s for s in sols if not any(v.has(H) for v in s.values())
                and len(s) == len(new)]
        holds = bool(sols)
        if holds:
            mapping = {n: sympy.factor(sols[0][new[n]]) for n in claim.solve_for}
    else:
        holds = identity
    counter = {}
    if not identity:
        values = _sample_values((pa.free_symbols | pb_id.free_symbols) - {Z})
        counter = {"values": {str(k): str(v) for k, v in values.items()},
                   "roots_a": [str(complex(round(r.real, 12), round(r.imag, 12)))
                               for r in _roots(pa, values)],
                   "roots_b": [str(complex(round(r.real, 12), round(r.imag, 12)))
                               for r in _roots(pb_id, values)]}
    a, b = claim.label("a"), claim.label("b")
    if holds and not mapping:
        statement = f"{a} has the same characteristic polynomial as {b}"
    elif holds:
        statement = (f"{a} has the characteristic polynomial of {b} with "
                     + ", ".join(f"{n} -> {v}" for n, v in mapping.items())
                     + ("" if identity else " (not with the same hyperparameters)"))
    else:
        statement = f"{a} and {b} have different characteristic polynomials"
    if cpa.zero_roots != cpb.zero_roots:
        statement += f" (up to zero roots: {cpa.zero_roots} vs {cpb.zero_roots})"
    sched = schedule_check(claim) if claim.schedule and holds else {}
    if sched:
        statement += ("; under a varying lr they differ" if not sched["equivalent"]
                      else "; also under any lr schedule")
    return EquivalenceResult(statement, holds, mapping, (cpa.zero_roots, cpb.zero_roots),
                             identity, counter, sched, claim.rule_a)


# --------------------------------------------------------------------------------------------
# Under a learning-rate schedule


def _intertwiners(Ta, Tb, lr, for_every_lr: bool) -> list:
    """Invertible S with ``S Tb = Ta S`` that does not depend on h (a change of the optimizer's
    state variables, the same for every eigen-direction): one S for every lr
    (``for_every_lr``), else one per lr.

    Per lr, the free parameters of the solution are chosen to keep the iterate (first row
    ``e1``) when possible, else the first choice with ``det S != 0``.
    """
    n = Ta.shape[0]
    S = sympy.Matrix(n, n, lambda i, j: sympy.Symbol(f"s{i}{j}"))
    M = sympy.expand(S * Tb - Ta * S)
    eqs = []
    for e in M:
        eqs += sympy.Poly(e, lr, H).coeffs() if for_every_lr else sympy.Poly(e, H).coeffs()
    norms = [[S[0, j] - (1 if j == 0 else 0) for j in range(n)]]  # keep the iterate if possible
    norms += [[x - 1] for x in S]
    for extra in norms:
        for sol in sympy.solve(eqs + extra, list(S), dict=True):
            Ss = S.subs(sol)
            free = sorted(Ss.free_symbols & set(S), key=str)
            for fill in (0, 1):
                cand = sympy.simplify(Ss.subs({f: fill for f in free}))
                if sympy.simplify(cand.det()) != 0:
                    return [cand]
    return []


def schedule_check(claim: Claim, lr1=sympy.Rational(1, 10), lr2=sympy.Rational(1, 20)) -> dict:
    """Are two formulations with identical characteristic polynomials also identical when the
    learning rate changes between steps?  See the module doc."""
    fa = with_pinned(claim.rule_a, dict(claim.fixed_a))
    fb = with_pinned(claim.rule_b, dict(claim.fixed_b))
    # a is the library form, b the textbook form: S maps the library state onto the textbook one
    Ta, Tb = iteration_matrix(claim.rule_b, **fb), iteration_matrix(claim.rule_a, **fa)
    lr = next(s for s in Ta.free_symbols if s.name == "lr")
    ren = {s: next((t for t in Ta.free_symbols | {H} if t.name == s.name), s) for s in Tb.free_symbols}
    Tb = Tb.subs(ren, simultaneous=True)
    fixed_S = _intertwiners(Ta, Tb, lr, True)
    per_lr = _intertwiners(Ta, Tb, lr, False)
    out = {"textbook": claim.label("b"), "library": claim.label("a"),
           "lr_independent_change_of_variables": [str(S.tolist()) for S in fixed_S],
           "equivalent": bool(fixed_S)}
    vals = _sample_values({s for s in Ta.free_symbols | Tb.free_symbols if s.name != "lr"})
    if per_lr and not fixed_S:
        S = per_lr[0]
        out["state_map"] = str(S.tolist())
        keeps_iterate = list(S[0, :]) == [1] + [0] * (S.shape[1] - 1)
        pa = (Ta.subs(lr, lr2) * Ta.subs(lr, lr1)).subs(vals)
        pb = (S.subs(lr, lr2) * Tb.subs(lr, lr2) * Tb.subs(lr, lr1) * S.subs(lr, lr1).inv()).subs(vals)
        const = (S.subs(lr, lr1) * Tb.subs(lr, lr1) * Tb.subs(lr, lr1) * S.subs(lr, lr1).inv()
                 - Ta.subs(lr, lr1) * Ta.subs(lr, lr1)).subs(vals)
        mat = lambda m: [[str(sympy.nsimplify(x)) for x in row] for row in m.tolist()]  # noqa: E731
        out["example"] = {
            "values": {str(k): str(v) for k, v in vals.items()}, "lr1": str(lr1), "lr2": str(lr2),
            "textbook_product": mat(pa),
            "library_product_in_textbook_coordinates": mat(pb),
            "difference": mat(pb - pa),
            "difference_at_constant_lr": mat(const),
        }
        if keeps_iterate:
            out["trajectory"] = _trajectory_example(claim, float(lr1), float(lr2), vals)
    return out


def _trajectory_example(claim: Claim, lr1: float, lr2: float, vals: dict) -> dict:
    """x after two steps from the same x0 at rest, by calling the rules' ``step`` on floats."""
    h = float(vals.get(H, 1))
    res = {}
    for which, name, fixed in (("library", claim.rule_a, dict(claim.fixed_a)),
                               ("textbook", claim.rule_b, dict(claim.fixed_b))):
        rule = get_rule(name)
        params = rule.params(**{**{k: float(v) for k, v in
                                   ((s.name, v) for s, v in vals.items())
                                   if k in rule.hyper_names and k != "lr"}, **fixed})
        for label, lrs in (("schedule", (lr1, lr2)), ("constant", (lr1, lr1))):
            state = rule.init(1.0, *rule.values({**params, "lr": lrs[0]}))
            for t, lr in enumerate(lrs, start=1):
                v = rule.values({**params, "lr": lr})
                g = h * rule.grad_point(*state, *v)
                state = rule.step(*state, g, *v, t)
            res.setdefault(label, {})[which] = float(state[0])
    return res
