"""What the rules' own derivations predict at a minimum of a real model.

Near w* the loss is 1/2 (w - w*)^T H (w - w*): a linear rule is stable iff its derived ``lr_bound``
(Jury conditions of its characteristic polynomial) at h = lambda_max(H) exceeds lr, and converges
at the derived spectral radius, worst over the eigenvalues.  An adaptive rule with its
preconditioner P frozen is the linear rule its linearisation names (Adam: heavy ball with lr
(1 - beta1) lr and momentum beta1) on P^-1 H, stable iff lambda_max(P^-1 H) is below the derived
threshold.  Every number here comes from :func:`optanalysis.symbolic.derive` or
:func:`optanalysis.symbolic.linearization.linearize`; no formula is retyped.

The torch optimizers map onto the rules as follows (``TORCH``): ``SGD(lr)`` is ``gd``,
``SGD(lr, momentum)`` is ``sgd_momentum``, ``SGD(lr, momentum, nesterov=True)`` is
``sgd_momentum`` with ``nesterov=True``, ``Adam`` is ``adam``, ``RMSprop`` is ``rmsprop``.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import sympy

__all__ = ["TORCH", "critical_lr", "sharpness_threshold", "local_rate"]

# the torch.optim runs of the studies: name -> (rule, fixed flags)
TORCH = {
    "sgd": ("gd", {}),
    "sgd_momentum": ("sgd_momentum", {"nesterov": False}),
    "nesterov": ("sgd_momentum", {"nesterov": True}),
    "adam": ("adam", {}),
    "rmsprop": ("rmsprop", {}),
}


def _rule(name):
    from ..rules import get_rule

    if name in TORCH:
        rule, flags = TORCH[name]
        return get_rule(rule), dict(flags)
    return get_rule(name), {}


@lru_cache(maxsize=None)
def _lr_bound(rule_name: str, flags: tuple):
    from ..symbolic import derive

    bound = derive(rule_name, **dict(flags)).lr_bound
    return bound, sorted(str(s) for s in bound.free_symbols)


def _values(rule, params: dict, flags: dict) -> dict:
    full = rule.params(**{**{k: v for k, v in params.items() if k != "lr"}, **flags})
    return {k: v for k, v in full.items() if not isinstance(v, bool)}


def critical_lr(rule, sharpness, **params) -> float:
    """The derived largest stable lr of ``rule`` at a sharpness (or, for an adaptive rule, a
    preconditioned sharpness lambda_max(P^-1 H)).

    Parameters
    ----------
    rule : str
        A rule name, or a name of :data:`TORCH` (``"nesterov"``: torch SGD with nesterov=True).
    sharpness : float > 0
    **params
        The other hyperparameters (defaults fill the rest; ``lr`` is ignored).

    Returns
    -------
    float

    Raises
    ------
    ValueError
        A sharpness that is not a positive number, or an invalid hyperparameter.
    """
    if isinstance(sharpness, bool) or not isinstance(sharpness, (int, float, np.floating)) or not sharpness > 0 \
            or not np.isfinite(sharpness):
        raise ValueError(f"sharpness must be a finite number > 0, got {sharpness!r}")
    rule, flags = _rule(rule)
    if not rule.linear:
        from ..theory.adaptive import critical_lr as adaptive

        return adaptive(rule, float(sharpness), **{k: v for k, v in params.items() if k != "lr"}, **flags)
    bound, names = _lr_bound(rule.name, tuple(sorted(flags.items())))
    values = {**_values(rule, params, flags), "h": float(sharpness)}
    return float(bound.subs({s: values[str(s)] for s in bound.free_symbols}))


def sharpness_threshold(rule, lr, **params) -> float:
    """The (preconditioned) sharpness at which ``lr`` is the derived critical lr: 2/lr for gd,
    (2 + 2 b)/lr for heavy ball, 38/lr for Adam at beta1 = 0.9, ... (solved from the derivation).

    Parameters
    ----------
    rule : str
        As in :func:`critical_lr`.
    lr : float > 0
    **params
        The other hyperparameters.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        A non-positive lr or an invalid hyperparameter.
    """
    if isinstance(lr, bool) or not isinstance(lr, (int, float, np.floating)) or not lr > 0:
        raise ValueError(f"lr must be a number > 0, got {lr!r}")
    rule, flags = _rule(rule)
    if not rule.linear:
        from ..symbolic.linearization import linearize

        values = _values(rule, params, flags)
        lin = linearize(rule.name, **flags)
        expr = lin.threshold
        return float(expr.subs({s: (float(lr) if str(s) == "lr" else values[str(s)]) for s in expr.free_symbols}))
    # lr_bound(h) is decreasing in h: the critical lr at h = 1 scales as 1/h without weight decay
    bound, _ = _lr_bound(rule.name, tuple(sorted(flags.items())))
    h = sympy.Symbol("h", positive=True)
    values = _values(rule, params, flags)
    sub = {s: values[str(s)] for s in bound.free_symbols if str(s) != "h"}
    (sol,) = sympy.solve(sympy.Eq(bound.subs(sub).subs({s: h for s in bound.free_symbols if str(s) == "h"}),
                                  sympy.nsimplify(float(lr))), h)
    return float(sol)


def local_rate(rule, lam_min, lam_max, *, points=2001, **params) -> float:
    """The derived spectral radius, worst over [lam_min, lam_max]: the predicted per-step
    contraction of ||w - w*|| at a minimum whose (preconditioned) spectrum spans that interval.

    Parameters
    ----------
    rule : str
        As in :func:`critical_lr`; an adaptive rule is its linearisation's equivalent linear rule
        with the mapped hyperparameters, on the preconditioned spectrum.
    lam_min, lam_max : float, 0 < lam_min <= lam_max
    points : int
        Grid points on the interval (its ends included: the worst case of gd, heavy ball and
        Nesterov is at an end).
    **params
        The rule's hyperparameters, ``lr`` included.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        An empty or non-positive interval, or invalid hyperparameters.
    """
    from ..theory.spectrum import spectral_radius

    if not (0 < lam_min <= lam_max < np.inf):
        raise ValueError(f"need 0 < lam_min <= lam_max < inf, got {lam_min!r}, {lam_max!r}")
    rule, flags = _rule(rule)
    h = np.linspace(lam_min, lam_max, int(points))
    if rule.linear:
        return float(np.max(spectral_radius(rule, {**params, **flags}, h)))
    from ..symbolic.linearization import linearize

    lin = linearize(rule.name, **flags)
    values = {**rule.params(**{**params, **flags})}
    mapped = {k: float(v.subs({s: values[str(s)] for s in v.free_symbols})) for k, v in lin.mapping.items()}
    return float(np.max(spectral_radius(lin.equivalent, mapped, h)))
