"""w* of a real model to rounding: L-BFGS to a small gradient, then Newton's method with the exact
dense Hessian (``torch.autograd.functional.hessian``), in float64.

Newton converges quadratically once the Hessian is positive definite, so a few steps take the
gradient norm from ~1e-6 to its floating-point floor (~1e-15 for these losses, sums of O(1) terms
rounded at 1e-16).  The accuracy of w* matters: a residual gradient g at w* is a constant force
that moves the fixed point by H^-1 g, and the local runs start a perturbation away from w*.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._deps import require

__all__ = ["Minimum", "find_minimum"]


@dataclass(frozen=True)
class Minimum:
    """``point`` w* (flat, float64), ``loss``, ``gradient_norm`` there, the full Hessian spectrum
    ``eigenvalues`` (ascending) and its eigenvectors ``eigenvectors`` (columns), the Newton steps
    taken."""

    point: np.ndarray
    loss: float
    gradient_norm: float
    eigenvalues: np.ndarray
    eigenvectors: np.ndarray
    newton_steps: int


def find_minimum(real_model, *, tol=1e-13, lbfgs_iterations=3000, newton_steps=30) -> Minimum:
    """A strict local minimum of a :class:`optanalysis.landscape.models.RealModel`'s loss, from its
    initial parameters.

    Parameters
    ----------
    real_model : RealModel
        From :func:`optanalysis.landscape.load_model` (its L2 term makes the minimum strict).
    tol : float > 0
        Stop when the gradient norm is below ``tol``.
    lbfgs_iterations, newton_steps : int
        Budgets of the two phases.

    Returns
    -------
    Minimum

    Raises
    ------
    RuntimeError
        If the Hessian at the end is not positive definite (a saddle, not a minimum) or Newton
        does not reach ``tol``.
    """
    torch = require("torch")
    op = real_model.operator()
    w = op.point.clone().requires_grad_(True)
    opt = torch.optim.LBFGS([w], lr=1.0, max_iter=lbfgs_iterations, tolerance_grad=1e-9, tolerance_change=0.0,
                            history_size=50, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = op.function(w)
        loss.backward()
        return loss

    opt.step(closure)
    x = w.detach().clone()
    steps, norm = 0, np.inf
    for steps in range(newton_steps + 1):
        xg = x.clone().requires_grad_(True)
        loss = op.function(xg)
        (g,) = torch.autograd.grad(loss, xg)
        norm = float(g.norm())
        hess = torch.autograd.functional.hessian(op.function, x, vectorize=True)
        hess = 0.5 * (hess + hess.T)
        vals, vecs = torch.linalg.eigh(hess)
        if norm < tol or steps == newton_steps:
            break
        if float(vals[0]) <= 0:
            raise RuntimeError(f"Newton from L-BFGS's point met a Hessian with eigenvalue {float(vals[0]):.3g} <= 0: "
                               "not near a strict minimum")
        d = vecs @ ((vecs.T @ g) / vals)
        step, f0 = 1.0, float(loss.detach())
        while step > 1e-4 and float(op.function(x - step * d)) > f0 + 1e-15 * abs(f0):
            step *= 0.5  # Armijo-like guard; near w* the full step is taken
        x = x - step * d
    if norm >= tol:
        raise RuntimeError(f"Newton did not reach a gradient norm of {tol:g} (got {norm:.3g})")
    if float(vals[0]) <= 0:
        raise RuntimeError(f"the point found is not a strict minimum (lambda_min = {float(vals[0]):.3g})")
    return Minimum(x.numpy().copy(), float(loss.detach()), norm, vals.numpy().copy(), vecs.numpy().copy(), steps)
