"""The update rules, each written once (see DESIGN.md, "Rules are written once").

A rule module defines three plain-arithmetic functions and one :class:`Rule` record ``RULE``:

``init(x0, *hyper) -> state``
    the initial state tuple (first entry: the iterate ``x``);
``grad_point(*state, *hyper) -> y``
    where the gradient is evaluated (Nesterov's look-ahead; ``x`` for the others);
``step(*state, g, *hyper, t) -> state``
    one update; ``g`` is the gradient at ``grad_point``, ``t`` the 1-based step count.

``hyper`` are the declared hyperparameters in order, ``lr`` first (a schedule supplies the
learning rate of each step).  Only ``+ - * / **``, ``abs`` and :mod:`optanalysis.ops` are used,
and only flags (booleans, always concrete) are branched on, so the same functions run on SymPy
symbols (derivations), on floats/NumPy arrays (references) and under ``numba.njit`` (kernels).
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from functools import cached_property
from types import ModuleType
from typing import Callable

import numpy as np

from ..hyper import Flag, Real

__all__ = ["Rule", "RULES", "get_rule", "rule_names"]


@dataclass(frozen=True)
class Rule:
    """What a rule module declares about itself."""

    name: str
    hyper: tuple  # of Real / Flag, ``lr`` first
    state: tuple  # names of the state entries, ``x`` first
    linear: bool  # affine in (state, g) for fixed hyperparameters: exact linear theory applies
    semantics: str  # which library's update it reproduces exactly
    references: tuple = ()
    constraints: tuple = ()  # (predicate(params) -> bool, message) checked after the ranges
    module: ModuleType | None = field(default=None, compare=False, repr=False)

    @property
    def init(self) -> Callable:
        return self.module.init

    @property
    def grad_point(self) -> Callable:
        return self.module.grad_point

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
        if self.constraints or not set().union(*given_list) <= set(self.hyper_names):
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


_MODULES = ("gd", "heavy_ball", "sgd_momentum", "nesterov", "rmsprop", "rmsprop_optax",
            "adam", "adamw", "adam_optax", "adagrad")


def _load() -> dict:
    rules = {}
    for name in _MODULES:
        mod = importlib.import_module(f"{__name__}.{name}")
        rule = mod.RULE
        object.__setattr__(rule, "module", mod)
        rules[rule.name] = rule
    return rules


RULES: dict[str, Rule] = _load()


def rule_names(linear: bool | None = None) -> list:
    """Registered rule names (only the linear or only the adaptive ones if asked)."""
    return [n for n, r in RULES.items() if linear is None or r.linear == linear]


def get_rule(name) -> Rule:
    """The rule called ``name``; ``ValueError`` listing the valid names otherwise."""
    if isinstance(name, Rule):
        return name
    if not isinstance(name, str) or name not in RULES:
        raise ValueError(f"unknown rule {name!r}; valid: {', '.join(RULES)}")
    return RULES[name]
