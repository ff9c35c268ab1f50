"""The ``models`` extra: one place that imports torch / scikit-learn and names the extra when absent."""
from __future__ import annotations

import importlib

EXTRA = "models"
_PIP = {"torch": "torch", "sklearn": "scikit-learn"}


def require(*modules: str):
    """Import ``modules`` (default ``torch``) and return the first; ``ImportError`` naming the extra
    if one is missing."""
    modules = modules or ("torch",)
    loaded = []
    for name in modules:
        try:
            loaded.append(importlib.import_module(name))
        except ImportError as exc:
            raise ImportError(f"optanalysis.landscape needs {_PIP.get(name, name)}: "
                              f'pip install "optanalysis[{EXTRA}]"') from exc
    return loaded[0]
