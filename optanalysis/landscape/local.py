"""The observed side at a minimum: the rules run by torch.optim on the model itself (full batch,
float64), started at w* plus a tiny perturbation.

The quantity followed is ||grad L(w_k)||^2: at a minimum it is (w_k - w*)^T H^2 (w_k - w*), a sum of
the same exponentials as the loss (so :func:`optanalysis.rates.fit_rate` applies), it needs no w*
(an error e in w* would leave ||w_k - w*|| at |e| instead of 0) and it does not cancel against
L(w*) as the loss difference does.

torch's Adam is started in the steady state of its bias corrections: its state is created with
``step`` = 10^6 and zero moments (``beta ** step`` underflows, both corrections are 1), as after a
long run whose moments have decayed.  From a fresh state the first steps take the larger effective
step lr (1 - beta1)/(1 - beta1^t), whose transient growth would mask the onset (the same choice as
:func:`optanalysis.theory.adaptive.critical_lr_probe`).
"""
from __future__ import annotations

import math

import numpy as np

from ._deps import require
from .predict import TORCH

__all__ = ["torch_optimizer", "gradient_norms", "bisect_critical_lr", "STEADY_STEP"]

STEADY_STEP = 10**6


def torch_optimizer(name: str, params, hyper: dict):
    """The torch.optim optimizer of a :data:`optanalysis.landscape.predict.TORCH` name."""
    torch = require("torch")
    if name not in TORCH:
        raise ValueError(f"unknown optimizer {name!r}; valid: {', '.join(TORCH)}")
    lr = hyper["lr"]
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr)
    if name in ("sgd_momentum", "nesterov"):
        return torch.optim.SGD(params, lr=lr, momentum=hyper["momentum"], nesterov=name == "nesterov")
    if name == "adam":
        opt = torch.optim.Adam(params, lr=lr, betas=(hyper.get("beta1", 0.9), hyper.get("beta2", 0.999)),
                               eps=hyper.get("eps", 1e-8))
        for p in opt.param_groups[0]["params"]:
            opt.state[p] = {"step": torch.tensor(float(STEADY_STEP)), "exp_avg": torch.zeros_like(p),
                            "exp_avg_sq": torch.zeros_like(p)}
        return opt
    return torch.optim.RMSprop(params, lr=lr, alpha=hyper.get("alpha", 0.99), eps=hyper.get("eps", 1e-8))


def gradient_norms(real_model, start, name: str, hyper: dict, steps: int, *, growth=1e6, return_optimizer=False):
    """||grad||^2 at steps 0..steps of torch.optim ``name`` from the flat point ``start``.

    Parameters
    ----------
    real_model : RealModel
    start : array_like
        The flat starting point (w* + perturbation).
    name : str
        A :data:`optanalysis.landscape.predict.TORCH` name.
    hyper : dict
        Its hyperparameters (``lr``, ``momentum``, ``beta1``, ``eps``, ...).
    steps : int
    growth : float
        Stop early (the rest is inf) once ||grad||^2 exceeds ``growth`` x its start: the run left
        the quadratic neighbourhood, which decides "unstable".
    return_optimizer : bool
        Also return the optimizer (its state gives P).

    Returns
    -------
    numpy.ndarray or (numpy.ndarray, torch.optim.Optimizer)
    """
    import copy

    torch = require("torch")
    model = copy.deepcopy(real_model.model).to(torch.float64)
    params = [p for p in model.parameters() if p.requires_grad]
    sizes = [p.numel() for p in params]
    with torch.no_grad():
        for p, c in zip(params, torch.split(torch.as_tensor(np.asarray(start, dtype=np.float64)), sizes)):
            p.copy_(c.reshape(p.shape))
    opt = torch_optimizer(name, params, hyper)
    reg = real_model.regularization
    out = np.full(steps + 1, np.inf)
    for k in range(steps + 1):
        opt.zero_grad()
        loss = real_model.loss_fn(model(real_model.inputs), real_model.targets)
        if reg:
            loss = loss + 0.5 * reg * sum((p * p).sum() for p in params)
        loss.backward()
        g2 = float(sum((p.grad * p.grad).sum() for p in params))
        out[k] = g2
        if not math.isfinite(g2) or g2 > growth * out[0] or k == steps:
            break
        opt.step()
    return (out, opt) if return_optimizer else out


DECAYED = 1e-6  # ||grad||^2 below this fraction of its start: decayed (well above the rounding floor)


def unstable(norms: np.ndarray) -> bool:
    """A run is unstable if it left the neighbourhood (non-finite, early stop), or if it has not
    decayed by ``DECAYED`` and its gradient norm at the last step exceeds the one at half the run.
    A decayed run is stable whatever its last values do: they may be at the rounding floor of the
    gradient (~1e-16 absolute), where their order is noise."""
    n = norms.size - 1
    if not np.isfinite(norms[-1]):
        return True
    return norms[-1] > DECAYED * norms[0] and norms[-1] > norms[n // 2]


def bisect_critical_lr(run, predicted: float, *, low=0.9, high=1.1, rel=1e-3) -> tuple:
    """Observed critical lr by bisection on ``run(lr) -> unstable?`` in [low, high] x ``predicted``
    (geometric midpoints) to relative width ``rel``.

    Returns
    -------
    (float, bool, int)
        The bracket's geometric centre, whether the bracket held the onset (stable at its low end,
        unstable at its high end), and the runs made.
    """
    lo, hi = low * predicted, high * predicted
    runs = 2
    bracketed = (not run(lo)) and run(hi)
    if not bracketed:
        return (lo if run(lo) else hi), False, runs + 1
    while hi / lo - 1 > rel:
        mid = math.sqrt(lo * hi)
        runs += 1
        lo, hi = (lo, mid) if run(mid) else (mid, hi)
    return math.sqrt(lo * hi), True, runs
