"""The falsification hook: proof that a study's checks could have failed.

Every theoretical value a study judges observations (or a paper's formula) against passes through
``theory(name, value)``, where ``theory = Theory(HOOKS, perturb)`` is built at the top of the
study's ``run(quick=False, perturb=None)``.  ``HOOKS`` names those values, each with a line saying
what it is.  A run with ``perturb={name: f}`` judges against ``f(value)`` instead: a threshold 5 %
off, a rate off by 1e-3, a noise variance 10 % too large.  The tests inject such wrong theories and
assert that the verdicts turn unexpected; a user can do the same to see how sharp a check is::

    oa.study("gd_stability_and_rate", quick=True, perturb={"edge": lambda v: 1.05 * v}).ok  # False
"""
from __future__ import annotations

__all__ = ["Theory"]


class Theory:
    """``theory(name, value)``: ``value``, or ``perturb[name](value)`` when a perturbation is given.

    Parameters
    ----------
    hooks : dict
        The study's ``HOOKS``: ``{name: what the value is}``.
    perturb : dict, optional
        ``{name: callable}``; each name must be one of ``hooks``.
    """

    def __init__(self, hooks: dict, perturb: dict | None = None):
        perturb = {} if perturb is None else perturb
        if not isinstance(perturb, dict):
            raise TypeError(f"perturb must be a dict {{hook name: callable}}, got {type(perturb).__name__}")
        for name, f in perturb.items():
            if name not in hooks:
                raise ValueError(f"perturb: unknown hook {name!r}; valid: {', '.join(hooks) or 'none'}")
            if not callable(f):
                raise TypeError(f"perturb[{name!r}] must be callable (value -> perturbed value)")
        self.hooks, self.perturb, self.used = dict(hooks), dict(perturb), set()

    def __call__(self, name: str, value):
        if name not in self.hooks:  # a study passing an undeclared value is a bug in the study
            raise KeyError(f"hook {name!r} is not declared in the study's HOOKS")
        self.used.add(name)
        return self.perturb[name](value) if name in self.perturb else value
