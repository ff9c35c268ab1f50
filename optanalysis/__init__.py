"""optanalysis: derive and verify the convergence of first-order optimizers on quadratics.

The front door: ``import optanalysis as oa``, then ``oa.derive("heavy_ball")``, ``oa.simulate(...)``,
``oa.predict(...)``, ``oa.compare(...)``, ``oa.study("gd_stability_and_rate", quick=True)``, ...
Each name is loaded on first use (PEP 562), so that importing the package pulls in neither SymPy
nor Numba: a notebook or a command that only lists rules starts at once.

=====================  ==========================================================================
``derive``             symbolic derivation of a linear rule (T(h), p(z), stability, rates, tuning)
``linearize``          frozen-preconditioner linearisation of an adaptive rule
``spectral_radius``    spectral radius of a linear rule's iteration map at curvatures h
``largest_stable_lr``  certified largest stable lr of a linear rule of any degree at curvature h
``simulate``           one run of a rule on a quadratic (compiled kernels)
``simulate_batch``     many (hyperparameters x seeds) runs at once, bit-identical to ``simulate``
``predict``            exact deterministic trajectory of a linear rule under any lr sequence
``expected_loss``      exact expected loss under gradient noise (noisy quadratic model)
``worst_case``         exact n-step worst case over all quadratics with spectrum in [mu, L]
``compare``            predicted vs observed, as judged records
``monte_carlo``        Monte Carlo mean loss over seeds with confidence intervals
``make_schedule``      a learning-rate schedule from a spec string (torch / optax semantics)
``get_rule``           a rule's declaration (a name, ``path/to/rule.py`` or ``package.module``); ``rules()`` lists them all
``register_rule``      add a rule written in the user's own module: it then gets the whole analysis
``study``              run one study (figure, records, verdicts) for a notebook
``reproduce``          every derivation, figure and study, written under one directory
``sweep``              a declarative grid (TOML) run in chunks, in-process or on Dask, into Parquet
``load_sweep``         a sweep's results as a pandas table
=====================  ==========================================================================
"""
from __future__ import annotations

import importlib

__version__ = "0.1.0"

# public name -> module that defines it (relative to this package)
_EXPORTS = {
    "derive": "symbolic.derivation",
    "linearize": "symbolic.linearization",
    "spectral_radius": "theory.spectrum",
    "largest_stable_lr": "symbolic.schur",
    "simulate": "simulation",
    "simulate_batch": "simulation",
    "predict": "theory.prediction",
    "expected_loss": "theory.noisy",
    "worst_case": "theory.worst_case",
    "compare": "comparison",
    "monte_carlo": "comparison",
    "make_schedule": "schedules",
    "get_rule": "rules",
    "register_rule": "rules",
    "rules": "rules",
    "study": "studies",
    "reproduce": "reproduction",
    "sweep": "sweeps",
    "load_sweep": "sweeps",
}

__all__ = [*_EXPORTS, "__version__"]


def __getattr__(name):
    if name in _EXPORTS:
        module = importlib.import_module(f".{_EXPORTS[name]}", __name__)
        # ``rules`` is the subpackage itself (callable: ``oa.rules()`` lists the rules), so that
        # the import system's binding of the subpackage and the front door's name agree
        value = module if _EXPORTS[name] == name else getattr(module, name)
        globals()[name] = value  # later look-ups skip this function
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
