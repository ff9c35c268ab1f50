"""The local quadratic of a real model: Hessian spectra of a PyTorch model and what the rules'
derivations predict there.

Near a minimum w* every smooth loss is the quadratic 1/2 (w - w*)^T H (w - w*), so the thresholds
and rates derived for quadratics make sharp predictions on a real model once its Hessian is known.

=============================  =================================================================
``HessianOperator``            H at a point as a SciPy ``LinearOperator`` (float64, double backward)
``hessian_eigenvalues``        top-k / bottom-k eigenvalues by Lanczos (``scipy.sparse.linalg.eigsh``)
``spectral_density``           stochastic Lanczos quadrature (Ghorbani, Krishnan & Xiao 2019)
``preconditioner``             Adam's / RMSProp's P read from a torch optimizer's state
``preconditioned_sharpness``   lambda_max(P^-1 H) (Cohen et al. 2022)
``critical_lr``                the rule's derived largest stable lr at a (preconditioned) sharpness
``sharpness_threshold``        the (preconditioned) sharpness at which an lr is critical
``local_rate``                 the derived spectral radius over [lambda_min, lambda_max]
``load_model``                 the shipped small models on scikit-learn's bundled data
``find_minimum``               w* to a gradient norm ~1e-13 (L-BFGS, then Newton), float64
=============================  =================================================================

Everything here needs the ``models`` extra (torch and scikit-learn): ``pip install
"optanalysis[models]"``.  Importing this subpackage imports neither; each function imports what
it needs and raises an ``ImportError`` naming the extra when it is missing.
"""
from __future__ import annotations

import importlib

_EXPORTS = {
    "HessianOperator": "hessian",
    "hessian_eigenvalues": "hessian",
    "spectral_density": "density",
    "SpectralDensity": "density",
    "preconditioner": "preconditioned",
    "preconditioned_sharpness": "preconditioned",
    "critical_lr": "predict",
    "sharpness_threshold": "predict",
    "local_rate": "predict",
    "load_model": "models",
    "MODELS": "models",
    "find_minimum": "minimum",
}

__all__ = list(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
