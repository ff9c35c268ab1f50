"""Numba kernels built from the rules' single definitions.

``kernel_module(rule)`` gives a package with the batch kernels ``run_diag`` (diagonal Hessian),
``run_lanes`` (small diagonal problems side by side), ``run_dense`` (dense Hessian),
``run_diag_blocks``/``finish_diag_blocks`` (one large diagonal problem over threads),
``limits`` and ``power_table``, each compiled once per dtype (float64, float32) and cached on
disk (under :func:`optanalysis.cache.cache_dir`).  The public, validated entry points are
:func:`optanalysis.simulation.simulate` and :func:`optanalysis.simulation.simulate_batch`; see
``paths/`` for the loops (one module per execution path), ``contract.py`` for what they take
from a rule, ``build.py`` for how a rule is bound into them, ``rewrite.py``/``mixed.py`` for
how its source is adapted, ``arguments.py`` for the arrays a batch passes them and
``threads.py`` for the threads that run them.
"""
from .build import kernel_module

__all__ = ["kernel_module"]
