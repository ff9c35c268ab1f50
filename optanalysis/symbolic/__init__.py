"""Symbolic derivations (SymPy), computed from the rule definitions of :mod:`optanalysis.rules`."""
from .core import H, T, Z, hyper_symbols, iteration_matrix, state_symbols, update

__all__ = ["H", "T", "Z", "hyper_symbols", "iteration_matrix", "state_symbols", "update"]
