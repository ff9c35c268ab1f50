"""From a rule's single definition to its per-eigen-direction linear recurrence.

On f(x) = 1/2 h x^2 (one eigen-direction of a quadratic, minimiser 0) the gradient at the rule's
``grad_point`` is ``g = h * grad_point(state)``.  Calling ``step`` with SymPy symbols gives the
exact update; its Jacobian with respect to the state is the iteration matrix T(h).  For the
linear rules the update is linear in the state, so ``state_{t} = T(h, lr_t) state_{t-1}``.

Every cache in :mod:`optanalysis.symbolic` is keyed by :func:`source_key`, a hash of the source
of the rule's module (and of the optanalysis modules it uses), so that editing a rule, or
swapping its module for another one, can never return the derivation of the old text.
"""
from __future__ import annotations

import hashlib
import inspect
import math
import os
import sys
from functools import lru_cache, wraps
from types import ModuleType

import sympy

from ..rules import HyperSymbol, Rule, get_rule

__all__ = ["hyper_symbols", "state_symbols", "update", "iteration_matrix", "H", "Z", "T",
           "source_key", "rule_cached", "pinned", "with_pinned"]

H = sympy.Symbol("h", positive=True)  # curvature of the eigen-direction
Z = sympy.Symbol("z")  # characteristic variable
T = sympy.Symbol("t", positive=True, integer=True)  # 1-based step count


# --------------------------------------------------------------------------------------------
# Source keys and rule-keyed caches


@lru_cache(maxsize=None)
def _file_digest(path: str, mtime_ns: int, size: int) -> str:
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


def _module_digest(module: ModuleType) -> str:
    path = getattr(module, "__file__", None)
    try:
        st = os.stat(path) if path else None
    except OSError:
        st = None
    if st is not None:
        return _file_digest(path, st.st_mtime_ns, st.st_size)
    try:  # a module without a file (built in memory): hash what inspect can see
        return hashlib.sha256(inspect.getsource(module).encode()).hexdigest()
    except (OSError, TypeError):
        return hashlib.sha256(repr(sorted(vars(module))).encode()).hexdigest()


_DEPENDENCIES: dict = {}  # module name -> (module, its dependencies): found once per module object


def _dependencies(module: ModuleType) -> list:
    """The module and every ``optanalysis`` module it references (transitively), by name.

    Found once per module object (a walk of every namespace costs ~20 µs, paid by every
    prediction): a module's imports are made when it is executed, and an edited file imported
    again is a new module object."""
    hit = _DEPENDENCIES.get(module.__name__)
    if hit is None or hit[0] is not module:
        hit = _DEPENDENCIES[module.__name__] = (module, _walk(module))
    return hit[1]


def _walk(module: ModuleType) -> list:
    seen, todo = {}, [module]
    while todo:
        mod = todo.pop()
        if mod.__name__ in seen:
            continue
        seen[mod.__name__] = mod
        if hasattr(mod, "__path__"):  # a package: its own text only, not every submodule
            continue
        for value in vars(mod).values():
            dep = value if isinstance(value, ModuleType) else sys.modules.get(
                getattr(value, "__module__", None) or "")
            if isinstance(dep, ModuleType) and dep.__name__.startswith("optanalysis") \
                    and not dep.__name__.startswith("optanalysis.symbolic"):
                todo.append(dep)
    return [seen[k] for k in sorted(seen)]


def source_key(rule) -> str:
    """Hash of the source text of the rule's module and of the optanalysis modules it uses
    (``ops``, ``hyper``, a rule it builds on, ...).  Editing any of them changes the key."""
    rule = get_rule(rule)
    if rule.module is None:
        raise ValueError(f"rule {rule.name!r} has no module")
    h = hashlib.sha256(rule.name.encode())
    for mod in _dependencies(rule.module):
        h.update(mod.__name__.encode())
        h.update(_module_digest(mod).encode())
    return h.hexdigest()


def _freeze(fixed: dict) -> tuple:
    return tuple(sorted(fixed.items()))


def rule_cached(fn):
    """Cache ``fn(rule, **fixed)`` in process, keyed by rule, :func:`source_key` and ``fixed``."""

    @lru_cache(maxsize=None)
    def inner(rule, key, fixed):
        return fn(rule, **dict(fixed))

    @wraps(fn)
    def wrapper(rule, **fixed):
        rule = get_rule(rule)
        return inner(rule, source_key(rule), _freeze(fixed))

    wrapper.cache_clear = inner.cache_clear
    return wrapper


# --------------------------------------------------------------------------------------------
# Symbols


def _probe_value(p) -> float:
    """A value of a real hyperparameter other than its default, inside its range."""
    lo = p.low if math.isfinite(p.low) else p.default - 1.0
    hi = p.high if math.isfinite(p.high) else p.default + 1.0
    v = 0.5 * (lo + hi) if math.isfinite(p.high) else p.default + 1.0
    return v if v != p.default else 0.5 * (p.default + lo if p.default != lo else p.default + hi)


def pinned(rule, **fixed) -> dict:
    """Real hyperparameters that the rule's constraints tie to their default once the given
    values are fixed (e.g. torch's ``nesterov=true`` requires ``dampening = 0``).

    Found from the constraints themselves: a parameter is pinned when moving it away from its
    default (others at their defaults or fixed values) violates a constraint.
    """
    rule = get_rule(rule)
    if not rule.constraints:
        return {}
    numeric = {k: v for k, v in fixed.items() if isinstance(v, (bool, int, float))}
    rule.params(**numeric)  # the fixed values themselves must be valid
    out = {}
    for p in rule.hyper:
        if p.flag or p.name in fixed:
            continue
        try:
            rule.params(**{**numeric, p.name: _probe_value(p)})
        except ValueError:
            out[p.name] = p.default
    return out


def _fixed_value(p, value):
    """A fixed hyperparameter value, validated (a number in range, a flag, or a SymPy expression;
    never a string: ``nsimplify`` would parse and evaluate it)."""
    if p.flag:
        return p.validate(value)
    if isinstance(value, HyperSymbol):  # another hyperparameter's symbol (see hyper_symbols)
        return sympy.Symbol(value.name, positive=True)
    if isinstance(value, sympy.Basic):
        if value.is_number:
            p.validate(float(value))
        return value
    p.validate(value)
    return sympy.nsimplify(value)


def hyper_symbols(rule: Rule, **fixed) -> dict:
    """Hyperparameter values for a symbolic call: real ones as positive symbols named like the
    kernel arguments (``lr``, ``momentum``, ``beta1``, ...), unless fixed; flags at their default
    unless fixed.  Positive symbols mean the generic case (e.g. momentum != 0); fix a value to
    study a special case (``momentum=0``)."""
    out = {}
    for p in rule.hyper:
        if p.name in fixed:
            out[p.name] = _fixed_value(p, fixed[p.name])
        else:
            out[p.name] = p.default if p.flag else sympy.Symbol(p.name, positive=True)
    unknown = set(fixed) - set(out)
    if unknown:
        raise ValueError(f"unknown hyperparameter {sorted(unknown)[0]!r} for rule {rule.name!r}")
    return out


def with_pinned(rule, fixed: dict) -> dict:
    """``fixed`` plus the values the rule's constraints then pin (see :func:`pinned`)."""
    return {**pinned(rule, **fixed), **fixed}


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


@rule_cached
def _iteration_matrix(rule, **fixed) -> sympy.Matrix:
    if not rule.linear:
        raise ValueError(f"rule {rule.name!r} has no linear recurrence; use its linearisation "
                         f"(optanalysis derive {rule.name} --linearize)")
    varying = rule.varies_in_time(fixed)
    if varying:
        raise ValueError(f"rule {rule.name!r} with {varying} changes its map at every step (no "
                         f"time-invariant recurrence); leave it free or fix another value")
    # t = 2: the steady-state recurrence (torch's first momentum step is a special case).
    s, new, _ = update(rule, t=2, **fixed)
    T = sympy.Matrix(new).jacobian(sympy.Matrix(s)).applyfunc(sympy.expand)
    if any(e.has(*s) for e in T):  # a Jacobian that depends on the state: not affine
        from ..rules import RuleContractError
        from ..rules._contract import where

        raise RuleContractError(f"rule {rule.name!r}, {where(rule.step)}: declared linear=True, but its "
                                f"step is not affine in the state; declare linear=False (and its "
                                f"preconditioner) or fix the arithmetic")
    return sympy.ImmutableMatrix(T)


def iteration_matrix(rule, **fixed) -> sympy.Matrix:
    """T(h) with ``state_t = T state_{t-1}`` for a linear rule (steady state, t >= 2)."""
    return sympy.Matrix(_iteration_matrix(rule, **fixed))
