"""Symbolic derivations (SymPy), computed from the rule definitions of :mod:`optanalysis.rules`.

``core`` (symbols, the symbolic update, T(h)) is imported eagerly; the heavier parts load on
first use: :func:`derive` / :class:`Derivation` (everything for a linear rule, cached),
:func:`worst_case_rate` and :func:`roots` (fast numeric functions),
:func:`linearize` (adaptive rules around a frozen preconditioner), :func:`latex` (an
expression in the plain or the literature's notation).
"""
import importlib

from .core import H, T, Z, hyper_symbols, iteration_matrix, source_key, state_symbols, update

_LAZY = {
    "derive": "derivation", "Derivation": "derivation", "parse": "derivation",
    "characteristic_polynomial": "analysis", "MU": "analysis", "L": "analysis",
    "KAPPA": "analysis",
    "worst_case_rate": "numeric", "roots": "numeric",
    "linearize": "linearization", "linearization_dict": "linearization",
    "latex": "notation",
}

__all__ = ["H", "T", "Z", "hyper_symbols", "iteration_matrix", "source_key", "state_symbols",
           "update", *_LAZY]


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
