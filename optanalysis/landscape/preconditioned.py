"""The preconditioned sharpness lambda_max(P^-1 H) of Adam and RMSProp, with P read from a torch
optimizer's own state (Cohen et al. 2022).

P is the diagonal the rule divides by, as the rule's frozen-preconditioner linearisation derives it
(:func:`optanalysis.symbolic.linearization.linearize`, ``preconditioner_t``): for torch Adam
P = sqrt(v / (1 - beta2^t)) + eps (the bias-corrected second moment, eps outside the root), for
torch RMSprop P = sqrt(v) + eps.  The expression is the rule's, evaluated on the optimizer's
``exp_avg_sq`` / ``square_avg`` and ``step``; nothing is retyped here.  The symmetric form
P^-1/2 H P^-1/2 has the eigenvalues of P^-1 H and is what Lanczos is run on.
"""
from __future__ import annotations

import numpy as np
from scipy.sparse.linalg import LinearOperator

from ._deps import require
from .hessian import hessian_eigenvalues

__all__ = ["preconditioner", "preconditioned_sharpness", "optimizer_rule"]

# torch optimizer class -> (rule, state key of the frozen second moment, flags that must be off)
_TORCH = {"Adam": ("adam", "exp_avg_sq", ("amsgrad",)), "RMSprop": ("rmsprop", "square_avg", ("centered",))}


def optimizer_rule(optimizer) -> tuple:
    """(rule name, hyperparameters in the rule's names) of a torch Adam or RMSprop with one
    parameter group; ``TypeError``/``ValueError`` otherwise."""
    torch = require("torch")
    name = type(optimizer).__name__
    if not isinstance(optimizer, torch.optim.Optimizer) or name not in _TORCH:
        raise TypeError(f"optimizer must be a torch.optim.Adam or torch.optim.RMSprop, got {name}")
    if len(optimizer.param_groups) != 1:
        raise ValueError("optimizer must have one parameter group")
    group = optimizer.param_groups[0]
    rule, _, off = _TORCH[name]
    for flag in off:
        if group.get(flag):
            raise ValueError(f"optimizer: {flag}=True is not supported (its P is not the rule's {rule} P)")
    if rule == "adam":
        params = {"lr": group["lr"], "beta1": group["betas"][0], "beta2": group["betas"][1], "eps": group["eps"],
                  "weight_decay": group["weight_decay"]}
    else:
        params = {"lr": group["lr"], "alpha": group["alpha"], "eps": group["eps"],
                  "weight_decay": group["weight_decay"], "momentum": group["momentum"]}
    return rule, {k: float(v) for k, v in params.items()}


def preconditioner(optimizer, operator=None) -> np.ndarray:
    """P (flat) from the state of a torch Adam or RMSprop, in the coordinates of ``operator`` (whose
    model's parameters the optimizer updates) or, without it, in the optimizer's parameter order.

    Parameters
    ----------
    optimizer : torch.optim.Adam or torch.optim.RMSprop
        After at least one step (its state holds the second moment and the step count).
    operator : optanalysis.landscape.HessianOperator, optional
        Built on the model whose parameters ``optimizer`` updates.

    Returns
    -------
    numpy.ndarray
        P > 0, float64, one entry per coordinate.

    Raises
    ------
    ValueError
        A parameter of the operator that the optimizer does not hold or has not stepped.
    TypeError
        Another optimizer.
    """
    from ..rules import get_rule
    from ..theory.adaptive import _flags, _preconditioner_fn

    rule_name, hyper = optimizer_rule(optimizer)
    rule = get_rule(rule_name)
    p_fn, _, names = _preconditioner_fn(rule.name, _flags(rule, rule.params(**hyper)))
    key = _TORCH[type(optimizer).__name__][1]
    parts = []
    params = optimizer.param_groups[0]["params"] if operator is None else operator.parameters
    for p in params:
        state = optimizer.state.get(p)
        if not state or key not in state:
            raise ValueError("optimizer has no state for a parameter of the operator's model: step it first, "
                             "and build the operator on the model it optimizes")
        v = state[key].detach().to(dtype=require("torch").float64).reshape(-1).numpy()
        t = float(state["step"])
        parts.append(np.broadcast_to(p_fn(v, t, *[hyper[n] for n in names]), v.shape).astype(np.float64))
    return np.concatenate(parts)


def preconditioned_sharpness(operator, optimizer=None, *, p=None, k=1, seed=0) -> np.ndarray:
    """The ``k`` largest eigenvalues of P^-1 H (``k = 1``: the preconditioned sharpness).

    Parameters
    ----------
    operator : optanalysis.landscape.HessianOperator
    optimizer : torch.optim.Adam or torch.optim.RMSprop, optional
        P is read from its state (:func:`preconditioner`).
    p : array_like, optional
        P given directly (positive, one entry per coordinate), instead of ``optimizer``.
    k : int
    seed : int
        Seed of Lanczos' starting vector.

    Returns
    -------
    numpy.ndarray
        Largest first.

    Raises
    ------
    ValueError
        Neither or both of ``optimizer`` and ``p``; a ``p`` of the wrong size or not positive.
    """
    if (optimizer is None) == (p is None):
        raise ValueError("give exactly one of optimizer and p")
    p = preconditioner(optimizer, operator) if p is None else np.asarray(p, dtype=np.float64)
    n = operator.shape[0]
    if p.shape != (n,) or not np.all(np.isfinite(p) & (p > 0)):
        raise ValueError(f"p must be {n} finite positive numbers")
    s = 1.0 / np.sqrt(p)
    sym = LinearOperator((n, n), matvec=lambda v: s * operator.matvec(s * np.ravel(v)), dtype=np.float64)
    return hessian_eigenvalues(sym, k, "largest", seed=seed)
