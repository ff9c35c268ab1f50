"""Small real models on data that ship with scikit-learn (no download), for the real-model studies.

=========================  ======================================================  ==========
name                       model, data, loss                                       parameters
=========================  ======================================================  ==========
``logistic``               logistic regression, breast cancer (569 x 30,           31
                           standardised), binary cross-entropy (convex)
``mlp_digits``             MLP 64-16-10 (tanh), 8x8 digits (first 400,             1210
                           pixels / 16), cross-entropy
``cnn_digits``             conv 4 3x3 (tanh) + linear 144-10, 8x8 digits,          1490
                           cross-entropy
``mlp_regression``         MLP 10-16-1 (tanh), diabetes (442 x 10, standardised     193
                           inputs and target), mean squared error
=========================  ======================================================  ==========

Each loss carries an L2 term ``regularization / 2 ||w||^2`` (``REGULARIZATION``): it makes the
minimum strict, so that w* is isolated and Newton's method finds it to rounding (the networks'
symmetries would otherwise leave flat directions; the logistic loss may have its infimum at
infinity on nearly separable data).  The models are float64; tanh keeps the loss smooth (the
local quadratic is a Taylor expansion).  Initialisation is torch's default, seeded.
"""
from __future__ import annotations

from dataclasses import dataclass

from ._deps import require

__all__ = ["MODELS", "REGULARIZATION", "RealModel", "load_model"]

DIGITS = 400  # the first 400 of the 1797 digits (about 40 per class): keeps a full-batch step ~1-5 ms
MODELS = ("logistic", "mlp_digits", "cnn_digits", "mlp_regression")
# L2 strengths: the smallest that keep lambda_min / lambda_max at w* above ~1e-3, so that a gd run
# resolves the slowest direction within a few thousand steps (docs/real_models.md).
REGULARIZATION = {"logistic": 1e-2, "mlp_digits": 1e-2, "cnn_digits": 1e-2, "mlp_regression": 1e-2}


@dataclass
class RealModel:
    """A model with its full batch: ``loss_fn(model(inputs), targets)`` + L2 ``regularization``."""

    name: str
    model: object
    loss_fn: object
    inputs: object
    targets: object
    regularization: float
    description: str

    def operator(self, point=None):
        """The :class:`optanalysis.landscape.HessianOperator` of this model at ``point``."""
        from .hessian import HessianOperator

        return HessianOperator(self.model, self.loss_fn, self.inputs, self.targets, point, self.regularization)


def _conv(torch):
    """A 3x3 convolution with 4 channels on 8x8 images given as their 3x3 patches (``unfold``, done
    once on the data): the same map as ``Conv2d(1, 4, 3)`` on the images, with the same parameters,
    much faster than torch's float64 CPU convolution and its double backward."""
    nn = torch.nn

    class PatchConv(nn.Module):
        def __init__(self):
            super().__init__()
            ref = nn.Conv2d(1, 4, 3)  # torch's default initialisation
            self.weight, self.bias = nn.Parameter(ref.weight.detach()), nn.Parameter(ref.bias.detach())

        def forward(self, x):
            return (self.weight.reshape(4, 9) @ x + self.bias[:, None]).reshape(-1, 4, 6, 6)

    return PatchConv


def _standardise(torch, x):
    x = torch.as_tensor(x, dtype=torch.float64)
    return (x - x.mean(0)) / x.std(0)


def load_model(name, seed=0) -> RealModel:
    """One of :data:`MODELS`, initialised with ``torch.manual_seed(seed)``.

    Parameters
    ----------
    name : str
        One of :data:`MODELS`.
    seed : int

    Returns
    -------
    RealModel

    Raises
    ------
    ValueError
        An unknown name.
    ImportError
        Without torch and scikit-learn (the ``models`` extra).
    """
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; valid: {', '.join(MODELS)}")
    torch = require("torch", "sklearn")
    from sklearn import datasets

    nn, F = torch.nn, torch.nn.functional
    torch.manual_seed(seed)
    if name == "logistic":
        x, y = datasets.load_breast_cancer(return_X_y=True)
        model = nn.Linear(30, 1)

        def loss_fn(out, t):
            return F.binary_cross_entropy_with_logits(out[:, 0], t)

        inputs, targets = _standardise(torch, x), torch.as_tensor(y, dtype=torch.float64)
        text = "logistic regression on breast cancer (569 x 30, standardised), cross-entropy"
    elif name in ("mlp_digits", "cnn_digits"):
        x, y = datasets.load_digits(return_X_y=True)
        x, y = x[:DIGITS], y[:DIGITS]
        inputs = torch.as_tensor(x / 16.0, dtype=torch.float64)
        targets = torch.as_tensor(y, dtype=torch.long)
        if name == "mlp_digits":
            model = nn.Sequential(nn.Linear(64, 16), nn.Tanh(), nn.Linear(16, 10))
            text = "MLP 64-16-10 (tanh) on 8x8 digits (first 400), cross-entropy"
        else:
            model = nn.Sequential(_conv(torch)(), nn.Tanh(), nn.Flatten(), nn.Linear(4 * 6 * 6, 10))
            inputs = torch.nn.functional.unfold(inputs.reshape(-1, 1, 8, 8), 3)  # (N, 9, 36) patches
            text = "CNN conv 4x3x3 (tanh) + linear 144-10 on 8x8 digits (first 400; inputs: 3x3 patches), cross-entropy"
        loss_fn = F.cross_entropy
    else:
        x, y = datasets.load_diabetes(return_X_y=True)
        model = nn.Sequential(nn.Linear(10, 16), nn.Tanh(), nn.Linear(16, 1))
        inputs, targets = _standardise(torch, x), _standardise(torch, y[:, None])
        loss_fn = F.mse_loss
        text = "MLP 10-16-1 (tanh) on diabetes (442 x 10, standardised), mean squared error"
    return RealModel(name, model.to(torch.float64), loss_fn, inputs, targets, REGULARIZATION[name], text)
