"""Relations of adaptive rules with other rules, proven with the preconditioner frozen.

The claims are those the rules declare (``Rule.relations``).  An adaptive rule is nonlinear, so
no identity of trajectories holds; what is proven is a statement about its frozen map: with the
declared state entries held at the declared values (the preconditioner, NAdam's mu-product),
the Jacobian of the rule's own symbolic update with respect to the remaining state, at the
minimiser of f = h x^2/2, is a linear recurrence, and it is equated with the other rule's under
the declared hyperparameter mapping (SymPy ``simplify(difference) == 0``).  Both maps come from
the rules' ``step`` functions; nothing is restated here.

``holds`` compares characteristic polynomials (identical per-eigen-direction dynamics, as for
:mod:`optanalysis.symbolic.equivalence`); ``same_matrix`` says whether the iteration matrices
themselves coincide (same state variables).  When a claim fails, a counterexample gives both
matrices' eigenvalues at sample values.

Theoretical guarantee on quadratics
    The relations the built-in rules declare: NAdam in the steady state (mu_t -> beta1,
    mu_prod -> 0) with den frozen at P is QHM with nu = momentum = beta1 and lr/P, hence Nesterov
    with lr (1 - beta1)/P and momentum beta1 (Dozat 2016, "Nesterov + Adam"); Adamax with u
    frozen at P is Adam with sqrt(v_hat) + eps frozen at the same P, at every step t (Kingma &
    Ba 2015, Sec. 7.1: the infinity-norm Adam differs only in how P is formed).

References
    T. Dozat (2016), Incorporating Nesterov Momentum into Adam, ICLR workshop; D. P. Kingma,
    J. Ba (2015), Adam: A Method for Stochastic Optimization, ICLR.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import sympy

from ..rules import RULES, Relation, get_rule
from .core import T, Z, source_key, update
from .equivalence import _sample_values
from .parsing import parse

__all__ = ["Q", "RelationResult", "relations", "relations_for", "check_relation", "check_relations_for", "frozen_map"]

Q = sympy.Symbol("Q", positive=True)  # a frozen positive magnitude (e.g. sqrt(v_hat))
_SAMPLE_T = 3  # the step count of a counterexample (t is otherwise a symbol)


@dataclass(frozen=True)
class RelationResult:
    """The engine's verdict on one declared :class:`~optanalysis.rules.Relation`."""

    rule: str
    other: str
    kind: str
    statement: str
    holds: bool  # identical characteristic polynomials under the mapping
    same_matrix: bool  # identical iteration matrices (same state variables)
    matrix: sympy.Matrix  # this rule's frozen map
    other_matrix: sympy.Matrix  # the other rule's, under the mapping
    counterexample: dict = field(default_factory=dict)  # when it fails
    declared: Relation | None = None  # the claim as the rule declares it

    def to_dict(self) -> dict:
        """JSON-able; expressions as strings that ``sympy.sympify`` reads back."""
        return {"rule": self.rule, "other": self.other, "kind": self.kind,
                "statement": self.statement, "holds": self.holds, "same_matrix": self.same_matrix,
                "matrix": [[str(e) for e in row] for row in self.matrix.tolist()],
                "other_matrix": [[str(e) for e in row] for row in self.other_matrix.tolist()],
                "counterexample": self.counterexample,
                **{k: dict(getattr(self.declared, k, ()))
                   for k in ("frozen", "other_frozen", "fixed", "other_fixed", "mapping")}}


def relations() -> tuple:
    """Every ``(rule name, Relation)`` the registered rules declare, in registry order."""
    return tuple((rule.name, r) for rule in RULES.values() for r in rule.relations)


def relations_for(rule: str) -> tuple:
    """The declared relations in which ``rule`` (a name) takes part, on either side."""
    return tuple((a, r) for a, r in relations() if rule in (a, r.other))


def _steady(expr):
    """The limit t -> oo: every power ``c**t`` (``c**(t psi)``) of a coefficient in [0, 1)
    vanishes (the rules' bias corrections and NAdam's warm-up 0.96^(t psi))."""
    return expr.replace(lambda e: e.is_Pow and e.exp.has(T), lambda e: sympy.Integer(0))


def frozen_map(rule, frozen: dict, steady: bool = False, **fixed) -> sympy.Matrix:
    """The Jacobian of ``rule``'s update on f = h x^2/2 with respect to its state entries that
    are not ``frozen``, at the minimiser (those entries 0), the ``frozen`` ones (name -> value
    before the step, SymPy) substituted.

    Parameters
    ----------
    rule : str or Rule
    frozen : dict
        State entry name -> its value before the step (a SymPy expression).
    steady : bool
        Take the limit t -> oo of the entries (every ``c**t``, 0 <= c < 1, vanishes).
    **fixed
        Hyperparameters: numbers, flags or SymPy expressions (a mapping); the others stay
        positive symbols named like the kernel arguments.

    Returns
    -------
    sympy.Matrix
        Simplified; in ``h``, ``t`` and the hyperparameter symbols.

    Raises
    ------
    ValueError
        If ``frozen`` names no state entry of the rule (``x`` cannot be frozen).
    """
    rule = get_rule(rule)
    unknown = [n for n in frozen if n not in rule.state[1:]]
    if unknown:
        raise ValueError(f"frozen names {unknown[0]!r}, not a state entry of rule {rule.name!r}; "
                         f"valid: {', '.join(rule.state[1:])}")
    state, new, _ = update(rule, t=T, **fixed)
    tracked = [i for i, n in enumerate(rule.state) if n not in frozen]
    sub = {state[i]: frozen[n] for i, n in enumerate(rule.state) if n in frozen}
    vec = sympy.Matrix([new[i].subs(sub) for i in tracked])
    jac = vec.jacobian([state[i] for i in tracked]).subs({state[i]: 0 for i in tracked})
    jac = jac.applyfunc(sympy.simplify)
    return jac.applyfunc(lambda e: sympy.simplify(_steady(e))) if steady else jac


def _scope(rule) -> dict:
    """The names an expression string of a relation may use: the hyperparameters, t, Q."""
    return {**{n: sympy.Symbol(n, positive=True) for n in rule.hyper_names}, "t": T, "Q": Q}


def _parsed(pairs, scope: dict, rule, what: str) -> dict:
    out = {}
    for name, value in pairs:
        if isinstance(value, str):
            try:
                out[name] = parse(value, scope)
            except ValueError as exc:
                raise ValueError(f"rule {rule.name!r}: relation {what} {name}: {exc}") from None
        else:
            out[name] = value
    return out


def check_relation(rule, relation: Relation) -> RelationResult:
    """Prove (or refute) ``relation`` declared by ``rule`` (cached by the two rules' sources).

    Parameters
    ----------
    rule : str or Rule
        The rule declaring the relation (its first side).
    relation : Relation

    Returns
    -------
    RelationResult

    Raises
    ------
    ValueError
        If the other rule is unknown, or a name or expression of the relation is not valid.
    """
    rule = get_rule(rule)
    if not isinstance(relation, Relation):
        raise TypeError(f"relation must be a Relation, got {type(relation).__name__}")
    other = get_rule(relation.other)
    return _check(rule.name, relation, source_key(rule), source_key(other))


@lru_cache(maxsize=None)
def _check(name: str, rel: Relation, key_a: str, key_b: str) -> RelationResult:
    rule, other = get_rule(name), get_rule(rel.other)
    scope = _scope(rule)
    unknown = [n for n, _ in rel.mapping + rel.other_fixed if n not in other.hyper_names]
    if unknown:
        raise ValueError(f"rule {name!r}: relation with {other.name!r} maps {unknown[0]!r}; "
                         f"valid: {', '.join(other.hyper_names)}")
    fixed = _parsed(rel.fixed, scope, rule, "fixed")
    ja = frozen_map(rule, _parsed(rel.frozen, scope, rule, "frozen"), rel.steady, **fixed)
    # the other rule's hyperparameters not mapped keep their names: the same symbols as this rule's
    other_fixed = {**_parsed(rel.other_fixed, scope, rule, "other_fixed"),
                   **_parsed(rel.mapping, scope, rule, "mapping")}
    jb = frozen_map(other, _parsed(rel.other_frozen, scope, rule, "other_frozen"), rel.steady,
                    **other_fixed)
    same_matrix = ja.shape == jb.shape and (ja - jb).applyfunc(sympy.simplify).is_zero_matrix
    cpa, cpb = ja.charpoly(Z).as_expr(), jb.charpoly(Z).as_expr()
    holds = ja.shape == jb.shape and sympy.simplify(sympy.expand(cpa - cpb)) == 0
    maps = ", ".join(f"{n} -> {v}" for n, v in rel.mapping)
    a = f"{name} ({rel.kind})"
    if holds:
        what = "the same iteration matrix as" if same_matrix else "the characteristic polynomial of"
        statement = f"{a} has {what} {other.name}" + (f" with {maps}" if maps else "")
    else:
        statement = f"{a} and {other.name}" + (f" with {maps}" if maps else "") + \
            " have different characteristic polynomials"
    counter = {} if holds else _counterexample(ja, jb)
    return RelationResult(name, other.name, rel.kind, statement, bool(holds), bool(same_matrix),
                          ja, jb, counter, rel)


def _counterexample(ja, jb) -> dict:
    """Both matrices' eigenvalues at sample values (t = 3 if t is still a symbol)."""
    syms = (ja.free_symbols | jb.free_symbols) - {T}
    values = {**_sample_values(syms), T: _SAMPLE_T}
    eig = lambda m: sorted((complex(e) for e in sympy.Matrix(m.subs(values)).evalf().eigenvals(  # noqa: E731
        multiple=True)), key=lambda c: (c.real, c.imag))
    fmt = lambda c: str(complex(round(c.real, 12), round(c.imag, 12)))  # noqa: E731
    return {"values": {str(k): str(v) for k, v in values.items()},
            "eigenvalues": [fmt(c) for c in eig(ja)],
            "other_eigenvalues": [fmt(c) for c in eig(jb)]}


def check_relations_for(rule: str) -> tuple:
    """:func:`check_relation` of every relation in which ``rule`` (a name) takes part.

    Parameters
    ----------
    rule : str

    Returns
    -------
    tuple of RelationResult
    """
    return tuple(check_relation(a, r) for a, r in relations_for(rule))
