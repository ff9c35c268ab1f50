"""The studies: one file per claim, and the runner that writes their figures, data and verdicts.

A study is a module of this package whose name does not start with ``_`` (see
:mod:`optanalysis.studies._runner` for what it defines).  The runner's names are looked up on
:mod:`._runner` when asked for, so ``from optanalysis.studies import run_study`` always gets the
runner's current function, and importing a study loads nothing heavy.
"""
from . import _runner

__all__ = list(_runner.__all__)


def __getattr__(name):
    if name in _runner.__all__:
        return getattr(_runner, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
