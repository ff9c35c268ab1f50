"""From a rule's single definition to its per-eigen-direction linear recurrence.

On f(x) = 1/2 h x^2 (one eigen-direction of a quadratic, minimiser 0) the gradient at the rule's
``grad_point`` is ``g = h * grad_point(state)``.  Calling ``step`` with SymPy symbols gives the
exact update; its Jacobian with respect to the state is the iteration matrix T(h).  For the
linear rules the update is linear in the state, so ``state_{t} = T(h, lr_t) state_{t-1}``.
"""
from __future__ import annotations

from functools import lru_cache

import sympy

from ..rules import Rule, get_rule

__all__ = ["hyper_symbols", "state_symbols", "update", "iteration_matrix", "H", "Z", "T"]

H = sympy.Symbol("h", positive=True)  # curvature of the eigen-direction
Z = sympy.Symbol("z")  # characteristic variable
T = sympy.Symbol("t", positive=True, integer=True)  # 1-based step count


def hyper_symbols(rule: Rule, **fixed) -> dict:
    """Hyperparameter values for a symbolic call: real ones as positive symbols named like the
    kernel arguments (``lr``, ``momentum``, ``beta1``, ...), unless fixed; flags at their default
    unless fixed.  Positive symbols mean the generic case (e.g. momentum != 0); fix a value to
    study a special case (``momentum=0``)."""
    out = {}
    for p in rule.hyper:
        if p.name in fixed:
            out[p.name] = sympy.nsimplify(fixed[p.name]) if not p.flag else p.validate(fixed[p.name])
        else:
            out[p.name] = p.default if p.flag else sympy.Symbol(p.name, positive=True)
    unknown = set(fixed) - set(out)
    if unknown:
        raise ValueError(f"unknown hyperparameter {sorted(unknown)[0]!r} for rule {rule.name!r}")
    return out


def state_symbols(rule: Rule) -> tuple:
    return tuple(sympy.Symbol(s, real=True) for s in rule.state)


def update(rule, t=T, g=None, **fixed) -> tuple:
    """The symbolic update: (state symbols, new state tuple, hyperparameter values).

    ``g=None`` means the quadratic model ``g = h * grad_point``; pass a symbol for a free gradient.
    """
    rule = get_rule(rule)
    hp = hyper_symbols(rule, **fixed)
    s = state_symbols(rule)
    vals = rule.values(hp)
    if g is None:
        g = H * rule.grad_point(*s, *vals)
    new = rule.step(*s, g, *vals, t)
    return s, tuple(sympy.sympify(e) for e in new), hp


@lru_cache(maxsize=None)
def _iteration_matrix(name: str, fixed: tuple) -> sympy.Matrix:
    rule = get_rule(name)
    if not rule.linear:
        raise ValueError(f"rule {name!r} has no linear recurrence; use its linearisation "
                         f"(optanalysis derive {name} --linearize)")
    # t = 2: the steady-state recurrence (torch's first momentum step is a special case).
    s, new, _ = update(rule, t=2, **dict(fixed))
    return sympy.Matrix(new).jacobian(sympy.Matrix(s)).applyfunc(sympy.expand)


def iteration_matrix(rule, **fixed) -> sympy.Matrix:
    """T(h) with ``state_t = T state_{t-1}`` for a linear rule (steady state, t >= 2)."""
    rule = get_rule(rule)
    return _iteration_matrix(rule.name, tuple(sorted(fixed.items())))
