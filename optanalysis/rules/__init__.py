"""The update rules, each written once (see DESIGN.md, "Rules are written once").

A rule module defines one :class:`Rule` record ``RULE`` and up to three plain-arithmetic
functions:

``step(*state, g, *hyper, t) -> state``
    one update; ``g`` is the gradient at ``grad_point``, ``t`` the 1-based step count;
``init(x0, *hyper) -> state`` (optional)
    the initial state tuple (first entry: the iterate ``x``); by default ``x0`` followed by
    zeros;
``grad_point(*state, *hyper) -> y`` (optional)
    where the gradient is evaluated (Nesterov's look-ahead); by default the iterate ``x``.

``hyper`` are the declared hyperparameters in order, ``lr`` first (a schedule supplies the
learning rate of each step).  Only ``+ - * / **``, ``abs`` and :mod:`optanalysis.ops` are used,
and only flags (booleans, always concrete) are branched on, so the same functions run on SymPy
symbols (derivations), on floats/NumPy arrays (references) and under ``numba.njit`` (kernels).

Everything the library knows about a rule is declared in its ``RULE`` (which state entries form
the preconditioner, whether the eps = 0 orbit analysis applies, its equivalences, ...); the rule
modules of this package are found by :mod:`pkgutil` and :func:`register` adds one more.

Rules from outside the package (:mod:`._external`): :func:`get_rule` also takes a file
``path/to/rule.py``, a module ``package.module`` or the name of an installed package's entry point
(group ``optanalysis.rules``), and :func:`register_rule` registers a module; such rules are first
checked against the contract above (:mod:`._contract`, :class:`RuleContractError`).
"""
from __future__ import annotations

import importlib
import pkgutil
import sys
from dataclasses import dataclass, field
from functools import cached_property
from types import ModuleType
from typing import Callable

import numpy as np

from ..hyper import Flag, Real
from ._contract import RuleContractError

__all__ = ["Rule", "Equivalence", "Relation", "RootTuning", "HyperSymbol", "RULES", "RuleList", "get_rule",
           "rule_names", "register", "register_rule", "RuleContractError"]


@dataclass(frozen=True)
class Rule:
    """What a rule module declares about itself: the one place the library learns it from.

    Attributes
    ----------
    name, hyper, state, linear, semantics, references, constraints
        The rule's name, hyperparameter declarations (``lr`` first), state entry names (``x``
        first), whether exact linear theory applies, which library it reproduces, its sources
        and cross-parameter constraints ``(predicate(params) -> bool, message)``.
    order : int
        Rank of a built-in rule in listings (``optanalysis rules``), ties by module name: the
        teaching order (gd, momentum forms, then adaptive rules, torch before its optax twin),
        which names alone do not give.  Rules registered later follow, in registration order.
    canonical : bool
        A textbook form (gd, heavy ball, Nesterov) that linearisations are matched against.
    equivalences : tuple of Equivalence
        Claims with this rule on the first side, proven by characteristic polynomials.
    relations : tuple of Relation
        Claims of an adaptive rule on the first side that hold with its preconditioner frozen
        (proven by :mod:`optanalysis.symbolic.adaptive_relations`).
    preconditioner : tuple of str
        State entries forming the preconditioner, held fixed by the linearisation (empty for
        linear rules).
    zero_by_default : tuple of str
        Hyperparameters the adaptive analyses set to 0 unless given (weight decay, ...).
    linearize_excludes : tuple of str
        Flags the frozen-preconditioner linearisation cannot take (they must be false).
    orbit : bool
        The eps = 0 sign-alternating period-2 orbit analysis applies.
    orbit_zero : tuple of str
        Hyperparameters that analysis also sets to 0 unless given (``eps``, ``momentum``).
    tunings : tuple of RootTuning
        Tunings stated as conditions on the roots of the characteristic polynomial, solved by
        SymPy (:mod:`optanalysis.symbolic.tuning`), besides those its family gives.
    time_varying : tuple of (str, value)
        Hyperparameter values at which a linear rule's map still varies with ``t`` after step 2
        (schedule-free SGD's uniform weight 1/t): the time-invariant analyses (``derive``,
        ``predict``, ``worst_case``) refuse them; kernels and references run them exactly.
    """

    name: str
    hyper: tuple  # of Real / Flag, ``lr`` first
    state: tuple  # names of the state entries, ``x`` first
    linear: bool  # affine in (state, g) for fixed hyperparameters: exact linear theory applies
    semantics: str  # which library's update it reproduces exactly
    references: tuple = ()
    constraints: tuple = ()  # (predicate(params) -> bool, message) checked after the ranges
    order: int = 1000  # rank of a built-in rule in listings (`optanalysis rules`)
    canonical: bool = False  # a textbook form that linearisations are matched against
    equivalences: tuple = ()  # of Equivalence: claims with this rule on the first side
    relations: tuple = ()  # of Relation: frozen-preconditioner claims with this rule first
    preconditioner: tuple = ()  # state entries forming the preconditioner (empty: linear rule)
    zero_by_default: tuple = ()  # hyperparameters the adaptive analyses set to 0 unless given
    linearize_excludes: tuple = ()  # flags the frozen-preconditioner linearisation cannot take
    orbit: bool = False  # the eps = 0 sign-alternating period-2 orbit analysis applies
    orbit_zero: tuple = ()  # hyperparameters that analysis also sets to 0 (eps, momentum, ...)
    tunings: tuple = ()  # of RootTuning: root conditions solved by the engine
    time_varying: tuple = ()  # (name, value): the map varies with t beyond step 2 there
    module: ModuleType | None = field(default=None, compare=False, repr=False)

    def __post_init__(self):
        names = [p.name for p in self.hyper]
        if not names or names[0] != "lr" or not self.state or self.state[0] != "x":
            raise ValueError(f"rule {self.name!r}: hyper must start with lr and state with x")
        for what, given, valid in (("preconditioner", self.preconditioner, self.state),
                                   ("zero_by_default", self.zero_by_default, names),
                                   ("linearize_excludes", self.linearize_excludes, names),
                                   ("orbit_zero", self.orbit_zero, names)):
            unknown = [n for n in given if n not in valid]
            if unknown:
                raise ValueError(f"rule {self.name!r}: {what} names {unknown[0]!r}; valid: "
                                 f"{', '.join(valid)}")
        if self.linear and (self.preconditioner or self.orbit):
            raise ValueError(f"rule {self.name!r}: a linear rule has no preconditioner nor orbit")
        if not all(isinstance(e, Equivalence) for e in self.equivalences):
            raise TypeError(f"rule {self.name!r}: equivalences must be Equivalence records")
        for r in self.relations:
            if not isinstance(r, Relation):
                raise TypeError(f"rule {self.name!r}: relations must be Relation records")
            for what, given, valid in (("frozen", [n for n, _ in r.frozen], self.state[1:]),
                                       ("fixed", [n for n, _ in r.fixed], names)):
                unknown = [n for n in given if n not in valid]
                if unknown:
                    raise ValueError(f"rule {self.name!r}: relation with {r.other!r}: {what} names "
                                     f"{unknown[0]!r}; valid: {', '.join(valid)}")
        if not all(isinstance(e, RootTuning) for e in self.tunings):
            raise TypeError(f"rule {self.name!r}: tunings must be RootTuning records")
        unknown = [n for n, _ in self.time_varying if n not in names]
        if unknown or (self.time_varying and not self.linear):
            raise ValueError(f"rule {self.name!r}: time_varying names hyperparameters of a "
                             f"linear rule; valid: {', '.join(names)}")

    def varies_in_time(self, params: dict) -> str:
        """The hyperparameter setting of ``params`` at which the map varies with t beyond step 2
        (e.g. ``"c=0"``), or ``""``."""
        for name, value in self.time_varying:
            if name in params and not isinstance(params[name], str) and params[name] == value:
                return f"{name}={value:g}"
        return ""

    @property
    def init(self) -> Callable:
        return getattr(self.module, "init", None) or _zeros_after_x0(len(self.state))

    @property
    def grad_point(self) -> Callable:
        return getattr(self.module, "grad_point", None) or grad_point

    @property
    def step(self) -> Callable:
        return self.module.step

    @cached_property  # read in every validation: a sweep validates thousands of dicts
    def hyper_names(self) -> tuple:
        return tuple(p.name for p in self.hyper)

    @property
    def defaults(self) -> dict:
        return {p.name: p.default for p in self.hyper}

    @property
    def doc(self) -> str:
        return self.module.__doc__ or ""

    def params(self, **given) -> dict:
        """Validated hyperparameters: defaults overridden by ``given``, in declared order.

        Raises ``ValueError``/``TypeError`` naming the parameter and its valid range.
        """
        out = {p.name: p.validate(given[p.name] if p.name in given else p.default)
               for p in self.hyper}
        if len(given) > len(out) or not given.keys() <= out.keys():  # cheap in a sweep's loop
            unknown = sorted(given.keys() - out.keys())
            raise ValueError(f"unknown hyperparameter {unknown[0]!r} for rule {self.name!r}; "
                             f"valid: {', '.join(self.hyper_names)}")
        for ok, message in self.constraints:
            if not ok(out):
                raise ValueError(f"{self.name}: {message}")
        return out

    def params_table(self, given_list) -> np.ndarray:
        """(P, hyperparameters) float64 table of ``params(**given)`` for each dict of
        ``given_list``, flags as 0.0/1.0: the validation of a sweep.

        Each column is checked at once (types, then the range on the whole column); the first
        bad value, or any rule with cross-parameter constraints, goes through :meth:`params`, so
        the errors are its errors.  ~10x faster than a loop of :meth:`params` on 4096 dicts.
        """
        if (len(given_list) == 1 or self.constraints  # one dict: params() costs less than columns
                or not set().union(*given_list) <= set(self.hyper_names)):
            return np.array([list(self.params(**g).values()) for g in given_list], np.float64)
        out = np.empty((len(given_list), len(self.hyper)))
        for k, p in enumerate(self.hyper):
            column = [g.get(p.name, p.default) for g in given_list]
            ok = set(map(type, column)) <= ({bool} if p.flag else {float, int})
            if ok:
                try:
                    out[:, k] = column
                except OverflowError:  # an int beyond float64
                    ok = False
                ok = ok and (p.flag or bool(np.all(p.contains(out[:, k]))))
            if not ok:  # other types, or a bad value: params() raises its own error first
                for g in given_list:
                    self.params(**g)
                out[:, k] = [p.validate(v) for v in column]  # all valid (numpy scalars, ...)
        return out

    def values(self, params: dict) -> tuple:
        """Hyperparameter values in declared order (flags as bools)."""
        return tuple(params[n] for n in self.hyper_names)


@dataclass(frozen=True)
class HyperSymbol:
    """A fixed value that is the symbol of another hyperparameter of the same rule (QHM's
    ``nu = momentum``): the symbolic side turns it into that positive symbol, so that a rule
    module needs no SymPy (a run of the kernels then never imports it)."""

    name: str

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Equivalence:
    """A claim declared by a rule: with ``fixed`` it has the characteristic polynomial of rule
    ``other`` with ``other_fixed`` (checked by :mod:`optanalysis.symbolic.equivalence`).

    ``solve_for`` names hyperparameters of ``other`` solved for (a change of hyperparameters,
    e.g. torch's dampening rescales lr); ``mapping`` states one as ``{symbol: expression}``
    (a string in this rule's symbols, parsed by SymPy's parser, never evaluated as Python);
    ``schedule`` also compares the two under a varying learning rate.  Dicts are stored as
    ``(name, value)`` tuples, in the order given.
    """

    other: str
    fixed: tuple = ()
    other_fixed: tuple = ()
    solve_for: tuple = ()
    mapping: tuple = ()
    schedule: bool = False

    def __post_init__(self):
        for name in ("fixed", "other_fixed", "mapping"):
            value = getattr(self, name)
            if isinstance(value, dict):
                object.__setattr__(self, name, tuple(value.items()))


@dataclass(frozen=True)
class Relation:
    """A claim declared by an adaptive rule: with the state entries ``frozen`` held at the given
    values, the map of its remaining state on f = h x^2/2 has the characteristic polynomial of
    rule ``other`` (checked by :mod:`optanalysis.symbolic.adaptive_relations`).

    ``kind`` says in words what kind of relation it is (``"frozen preconditioner, steady
    state"``).  ``frozen`` and ``other_frozen`` give each frozen entry's value *before* the step
    as an expression string; ``mapping`` gives hyperparameters of ``other`` as expression
    strings; ``fixed`` and ``other_fixed`` fix hyperparameters to numbers or flags.  Every string
    is written in this rule's hyperparameter names, ``t`` (the step count) and ``Q`` (a positive
    frozen magnitude, e.g. sqrt(v_hat)), parsed by SymPy's parser, never evaluated as Python.
    ``steady`` takes the limit t -> oo (every ``c**t`` with 0 <= c < 1 vanishes).  Dicts are
    stored as ``(name, value)`` tuples, in the order given.
    """

    other: str
    kind: str
    frozen: tuple = ()
    fixed: tuple = ()
    other_frozen: tuple = ()
    other_fixed: tuple = ()
    mapping: tuple = ()
    steady: bool = False

    def __post_init__(self):
        for name in ("frozen", "fixed", "other_frozen", "other_fixed", "mapping"):
            value = getattr(self, name)
            if isinstance(value, dict):
                object.__setattr__(self, name, tuple(value.items()))
        if not isinstance(self.other, str) or not isinstance(self.kind, str) or not self.kind:
            raise TypeError("Relation: other and kind must be non-empty strings")


@dataclass(frozen=True)
class RootTuning:
    """A tuning a rule states as conditions on the roots of its characteristic polynomial at the
    extremal curvatures, which SymPy solves for ``unknowns`` (:mod:`optanalysis.symbolic.tuning`).

    ``at_mu`` and ``at_L`` list the roots wanted at h = mu and h = L, as expression strings (a new
    name is an unknown root; a name listed twice at one point is a double root), parsed by SymPy's
    parser, never evaluated as Python; ``given`` fixes other hyperparameters first
    (``(name, expression in mu, L)`` pairs).  The worst-case rate is the largest root modulus,
    checked against the exact worst case when derived.
    """

    name: str
    principle: str
    unknowns: tuple
    at_mu: tuple = ()
    at_L: tuple = ()
    given: tuple = ()


# The defaults of the optional functions.  ``grad_point`` is compiled into the kernels from its
# source (kernels/rewrite.py), so it is a plain module-level function.
def grad_point(x, *state_and_hyper):
    """The default gradient point: the iterate itself."""
    return x


def _zeros_after_x0(n: int) -> Callable:
    def init(x0, *hyper):
        """The default initial state: ``x0``, then zeros shaped like it."""
        return (x0, *(0 * x0 for _ in range(n - 1)))
    return init


RULES: dict[str, Rule] = {}


def register(module: ModuleType, *, external: bool = False) -> Rule:
    """Add the rule that ``module`` declares (its ``RULE`` and functions) to :data:`RULES`.

    The internal hook behind the built-in rules and :func:`register_rule`; gives the module the
    default ``grad_point`` if it defines none (the kernels compile ``module.grad_point``).
    ``external`` rules are first checked against the contract (:mod:`._contract`); registering
    the same module again returns its rule, and a module of the same name or file (an edited
    file imported again) replaces the rule it registered.

    Raises
    ------
    ValueError
        If ``module`` has no ``RULE``, no ``step``, or a rule name already registered by another
        module; ``RuleContractError`` (a ``ValueError``) if an external rule breaks the contract.
    """
    if not isinstance(module, ModuleType):
        raise TypeError(f"module must be a module, got {type(module).__name__}")
    rule = getattr(module, "RULE", None)
    if not isinstance(rule, Rule):
        raise ValueError(f"module {module.__name__!r} declares no RULE (a Rule record)")
    if not callable(getattr(module, "step", None)):
        raise ValueError(f"module {module.__name__!r} defines no step function")
    old = RULES.get(rule.name)
    if old is not None and old.module is module:
        return old
    if old is not None and not (old.module.__name__ == module.__name__
                                or getattr(old.module, "__file__", None)
                                == getattr(module, "__file__", 0)):
        raise ValueError(f"rule name {rule.name!r} (module {module.__name__!r}) is already "
                         f"registered by {old.module.__name__!r}; rename the rule")
    if rule.module is not None and rule.module is not module:
        raise ValueError(f"rule {rule.name!r} is declared by {rule.module.__name__!r}, not by "
                         f"{module.__name__!r}")
    if not hasattr(module, "grad_point"):
        module.grad_point = grad_point
    object.__setattr__(rule, "module", module)
    if external:
        from ._contract import check_call, check_rule

        try:
            check_rule(rule)
            check_call(rule)
        except BaseException:
            object.__setattr__(rule, "module", None)
            raise
    RULES[rule.name] = rule
    return rule


def register_rule(module_or_rule) -> Rule:
    """Register a rule from outside the package; it then gets the whole analysis (``derive``,
    ``linearize``, kernels, ``simulate``, ``predict``, ``worst_case``, ``compare``, studies).

    Parameters
    ----------
    module_or_rule : module, Rule or str
        A module that defines ``RULE`` (a :class:`Rule`) and ``step`` (optionally ``init`` and
        ``grad_point``) in the contract of this package; its ``RULE`` (the module that declares
        it is found); or a path ``path/to/file.py`` or a dotted module name, as ``get_rule``
        takes them.

    Returns
    -------
    Rule
        The registered rule (its ``name`` works wherever a rule name is accepted).

    Raises
    ------
    RuleContractError
        (a ``ValueError``) If the rule breaks the contract: the message names the rule, the file
        and line, and the fix.
    ValueError
        If the name is taken by another module.
    TypeError
        If ``module_or_rule`` is none of the above.
    """
    if isinstance(module_or_rule, str):
        return get_rule(module_or_rule)
    if isinstance(module_or_rule, Rule):
        rule = module_or_rule
        module = rule.module or next((m for m in list(sys.modules.values())
                                      if getattr(m, "RULE", None) is rule), None)
        if module is None:
            raise ValueError(f"rule {rule.name!r}: no module declares it as RULE; pass the module")
        return register(module, external=True)
    if isinstance(module_or_rule, ModuleType):
        return register(module_or_rule, external=True)
    raise TypeError(f"module_or_rule must be a module, a Rule or a path/module name, got "
                    f"{type(module_or_rule).__name__}")


def _load() -> None:
    """Register the rule modules of this package, in their declared ``order``."""
    modules = [importlib.import_module(f"{__name__}.{m.name}")
               for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")]
    for module in sorted(modules, key=lambda m: (getattr(getattr(m, "RULE", None), "order", 0),
                                                 m.__name__)):
        register(module)


_load()


def rule_names(linear: bool | None = None) -> list:
    """Registered rule names (only the linear or only the adaptive ones if asked), with the
    rules of installed packages' entry points."""
    from ._external import load_entry_points

    load_entry_points()
    return [n for n, r in RULES.items() if linear is None or r.linear == linear]


def get_rule(name) -> Rule:
    """The rule called ``name``: a registered name, a file ``path/to/rule.py``, a dotted module
    name ``package.module`` or the name of an installed package's entry point.

    Parameters
    ----------
    name : str or Rule
        A registered rule's name, a rule file's path, a module name or an entry point's name
        (a ``Rule`` is returned as it is).

    Returns
    -------
    Rule

    Raises
    ------
    ValueError
        If no rule has that name (the message lists the valid names), or the rule's file or
        module breaks the contract (``RuleContractError``).
    """
    if isinstance(name, Rule):
        return name
    if isinstance(name, str):
        hit = RULES.get(name)
        if hit is not None:
            return hit
        from ._external import resolve

        hit = resolve(name)
        if hit is not None:
            return hit
    raise ValueError(f"unknown rule {name!r}; valid: {', '.join(RULES)}, a file path/to/rule.py "
                     f"or a module package.module")


class RuleList(list):
    """A list of :class:`Rule` that shows itself as a table in a notebook."""

    def _repr_html_(self) -> str:
        from ..display import html_table

        rows = ([r.name, "linear" if r.linear else "adaptive",
                 ", ".join(f"{p.name}={p.default}" for p in r.hyper), r.semantics] for r in self)
        return html_table(rows, ("rule", "kind", "hyperparameters (defaults)", "semantics"),
                          f"{len(self)} rules")


class _Package(ModuleType):
    """This package, callable, so that ``oa.rules()`` and the subpackage ``optanalysis.rules`` are
    one object (the import system binds the subpackage to the parent's ``rules`` attribute)."""

    def __call__(self, linear: bool | None = None) -> RuleList:
        """The registered rules, in their declared order (only the linear or adaptive ones if asked)."""
        if linear is not None and not isinstance(linear, bool):
            raise TypeError(f"linear must be None or a bool, got {linear!r}")
        return RuleList(RULES[n] for n in rule_names(linear))


sys.modules[__name__].__class__ = _Package
