"""A model's Hessian as a SciPy ``LinearOperator`` of Hessian-vector products, and its extreme
eigenvalues by Lanczos.

The operator holds a float64 copy of the model and the full batch.  The gradient is built once
with ``create_graph=True``; each product H v is then one backward pass through that graph
(double backward, Pearlmutter's trick), about the cost of two gradients.  Products are counted
(:attr:`HessianOperator.n_hvp`): the cost of a spectrum is reported in products, which do not
depend on the machine.
"""
from __future__ import annotations

import copy
import math

import numpy as np
from scipy.sparse.linalg import LinearOperator, eigsh

from ._deps import require

__all__ = ["HessianOperator", "hessian_eigenvalues"]


def _finite_tensor(torch, value, name: str):
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if value.is_floating_point():
        value = value.detach().to(torch.float64)
        if not bool(torch.isfinite(value).all()):
            raise ValueError(f"{name} must be finite: it holds NaN or inf")
    return value.detach()


class HessianOperator(LinearOperator):
    """The Hessian of ``loss_fn(model(inputs), targets)`` with respect to the model's parameters, at
    the model's current parameters (or at ``point``), in float64.

    Parameters
    ----------
    model : torch.nn.Module
        The model; it is copied and converted to float64 (the original is not changed).  Its
        parameters, in ``model.parameters()`` order, flattened and concatenated, are the
        coordinates of the operator.
    loss_fn : callable
        ``loss_fn(outputs, targets)`` returning a scalar tensor (e.g. ``torch.nn.functional.
        cross_entropy``).  Regularisation goes into ``regularization``.
    inputs, targets : torch.Tensor
        The full batch; floating tensors are converted to float64 and must be finite.
    point : array_like, optional
        Flat parameter vector at which to evaluate (default: the model's parameters).
    regularization : float >= 0
        Adds ``regularization / 2 * ||w||^2`` to the loss (weight decay as an L2 term).

    Raises
    ------
    ValueError
        A model without parameters, non-finite data, a loss that is not a scalar or not finite,
        a loss that does not depend differentiably on the parameters.
    TypeError
        A model that is not a ``torch.nn.Module``, data that are not tensors, a non-callable loss.
    ImportError
        Without torch (the ``models`` extra).

    Attributes
    ----------
    n_hvp : int
        Hessian-vector products computed so far.
    loss, gradient : float, numpy.ndarray
        The loss and its gradient at the point.
    parameters : list of torch.Tensor
        The original model's parameters, in coordinate order (to read an optimizer's state).
    """

    def __init__(self, model, loss_fn, inputs, targets, point=None, regularization=0.0):
        torch = require("torch")
        if not isinstance(model, torch.nn.Module):
            raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        if not callable(loss_fn):
            raise TypeError("loss_fn must be callable: loss_fn(outputs, targets) -> scalar tensor")
        params = [p for p in model.parameters() if p.requires_grad]
        if not params:
            raise ValueError("model has no parameters (that require grad): its Hessian is empty")
        if not (isinstance(regularization, (int, float)) and math.isfinite(regularization) and regularization >= 0):
            raise ValueError(f"regularization must be a finite number >= 0, got {regularization!r}")
        self.inputs = _finite_tensor(torch, inputs, "inputs")
        self.targets = _finite_tensor(torch, targets, "targets")
        self.loss_fn, self.regularization = loss_fn, float(regularization)
        self.parameters = params
        self.model = copy.deepcopy(model).to(torch.float64)
        names = [n for n, p in model.named_parameters() if p.requires_grad]
        self._names, self._shapes = names, [p.shape for p in params]
        self._sizes = [p.numel() for p in params]
        n = sum(self._sizes)
        if point is None:
            w = torch.cat([p.detach().reshape(-1).to(torch.float64) for p in params])
        else:
            w = torch.as_tensor(np.asarray(point, dtype=np.float64).copy())
            if w.shape != (n,):
                raise ValueError(f"point must be a flat vector of the model's {n} parameters, got shape "
                                 f"{tuple(w.shape)}")
            if not bool(torch.isfinite(w).all()):
                raise ValueError("point must be finite")
        self.point = w.detach().clone()
        self._w = self.point.clone().requires_grad_(True)
        loss = self.function(self._w)
        if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
            shape = tuple(loss.shape) if isinstance(loss, torch.Tensor) else type(loss).__name__
            raise ValueError(f"loss_fn must return a scalar tensor, got {shape}")
        if not bool(torch.isfinite(loss)):
            raise ValueError(f"the loss is not finite at the point ({float(loss)})")
        if not loss.requires_grad:
            raise ValueError("the loss is not differentiable with respect to the model's parameters "
                             "(no gradient path: detached, integer or piecewise-constant computation)")
        (self._g,) = torch.autograd.grad(loss.reshape(()), self._w, create_graph=True)
        self.loss = float(loss.detach())
        self.gradient = self._g.detach().numpy().copy()
        self.n_hvp = 0
        super().__init__(dtype=np.float64, shape=(n, n))

    def function(self, w):
        """The loss at the flat parameter vector ``w`` (a float64 tensor): a differentiable function
        for ``torch.autograd.functional.hessian`` and for minimisers."""
        torch = require("torch")
        chunks = torch.split(w, self._sizes)
        state = {n: c.reshape(s) for n, c, s in zip(self._names, chunks, self._shapes)}
        out = torch.func.functional_call(self.model, state, (self.inputs,))
        loss = self.loss_fn(out, self.targets)
        if self.regularization and isinstance(loss, torch.Tensor):
            loss = loss + 0.5 * self.regularization * (w * w).sum()
        return loss

    def _matvec(self, v):
        torch = require("torch")
        v = torch.as_tensor(np.asarray(v, dtype=np.float64).reshape(-1))
        self.n_hvp += 1
        if not self._g.requires_grad:  # the gradient does not depend on w: H = 0
            return np.zeros(self.shape[0])
        (hv,) = torch.autograd.grad(self._g, self._w, grad_outputs=v, retain_graph=True, allow_unused=True)
        return np.zeros(self.shape[0]) if hv is None else hv.detach().numpy().copy()

    def _rmatvec(self, v):  # symmetric
        return self._matvec(v)

    def _adjoint(self):
        return self


def hessian_eigenvalues(operator, k=1, which="largest", *, tol=0.0, seed=0, vectors=False):
    """The ``k`` largest or smallest eigenvalues of a symmetric operator by implicitly restarted
    Lanczos (``scipy.sparse.linalg.eigsh``).

    Parameters
    ----------
    operator : scipy.sparse.linalg.LinearOperator
        Symmetric, e.g. a :class:`HessianOperator`.
    k : int, 1 <= k < n
    which : {"largest", "smallest"}
        Algebraically largest (the sharpness first) or smallest (lambda_min first).
    tol : float >= 0
        eigsh's relative accuracy (0: machine precision).
    seed : int
        Seed of the starting vector (reproducible results and product counts).
    vectors : bool
        Also return the eigenvectors (columns).

    Returns
    -------
    numpy.ndarray or (numpy.ndarray, numpy.ndarray)
        Eigenvalues, largest first for ``"largest"``, smallest first for ``"smallest"``.

    Raises
    ------
    ValueError
        ``k`` out of range or an unknown ``which``.
    """
    n = operator.shape[0]
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k < n:
        raise ValueError(f"k must be an integer in [1, {n - 1}], got {k!r}")
    if which not in ("largest", "smallest"):
        raise ValueError(f"which must be 'largest' or 'smallest', got {which!r}")
    v0 = np.random.default_rng(seed).standard_normal(n)
    vals, vecs = eigsh(operator, k=int(k), which="LA" if which == "largest" else "SA", tol=tol, v0=v0)
    order = np.argsort(vals)[::-1] if which == "largest" else np.argsort(vals)
    return (vals[order], vecs[:, order]) if vectors else vals[order]
