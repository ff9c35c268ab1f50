"""Averaged SGD with torch.optim.ASGD semantics, exactly (float32 eta and mu by default).

Algorithm (torch/optim/asgd.py, ``_single_tensor_asgd``)
    eta = lr_1 and mu = 1 at t = 1 (torch creates them at the first step), then the values the
    previous step stored:
    g <- g + weight_decay x                        (x before the decay below)
    x <- x (1 - lambd eta);   x <- x - eta g       (the parameter is plain SGD with decay)
    ax <- x if mu == 1 else ax + (x - ax) mu       (the average; ax copies x while t <= t0 + 2)
    eta <- lr_t/(1 + lambd lr_t t)^alpha;   mu <- 1/max(1, t - t0)     (for the next step)
    eta and mu are 0-dim tensors of torch's default dtype: float32 unless
    torch.set_default_dtype(float64) (``float32_scalars``): the effective step is float32(lr).

Theoretical guarantee on quadratics
    The iterate x is gradient descent with the decaying step eta_t (1 + lambd/h) per direction:
    x_t = (1 - eta_t (lambd + h)) x_{t-1}, stable while eta_t (lambd + h) < 2; since
    eta_t ~ t^-alpha -> 0, every direction eventually contracts.  ax is the Polyak-Ruppert
    average of x from t0 on, which converges at the rate of the average (O(1/t) for the bias).
    Nonlinear in this toolkit's sense only through the stored step sizes (eta, mu are state,
    held fixed by the linearisation): for fixed eta the map is linear.

Equivalences
    With lambd = 0 and alpha = 0 (eta = lr) and t0 beyond the run, x is gradient descent: the
    same trajectory as the ``gd`` rule (up to the float32 rounding of lr when float32_scalars).

References
    B. T. Polyak, A. B. Juditsky (1992), Acceleration of Stochastic Approximation by Averaging,
    SIAM J. Control Optim. 30(4); PyTorch torch/optim/asgd.py (2.13).
"""
from .. import ops
from ..hyper import Flag, learning_rate, nonnegative
from . import Rule

RULE = Rule(
    name="asgd",
    hyper=(
        learning_rate(1e-2),
        nonnegative("lambd", 1e-4, "decay term of eta and of x", symbol=r"\lambda"),
        nonnegative("alpha", 0.75, "power of the eta decay", symbol=r"\alpha_\eta"),
        nonnegative("t0", 1e6, "step at which averaging starts", symbol=r"t_0"),
        nonnegative("weight_decay", 0.0, "coupled L2 penalty added to the gradient", symbol=r"\omega"),
        Flag("float32_scalars", True, "eta and mu held in float32 (torch's default dtype)"),
    ),
    state=("x", "ax", "eta", "mu"),
    linear=False,
    semantics="torch.optim.ASGD exactly (maximize=False; float32_scalars as torch's default dtype)",
    references=("Polyak & Juditsky (1992) SIAM J. Control Optim. 30(4)", "PyTorch torch/optim/asgd.py"),
    order=80,
    preconditioner=("eta", "mu"),
    zero_by_default=("weight_decay",),
)


def step(x, ax, eta, mu, g, lr, lambd, alpha, t0, weight_decay, float32_scalars, t):
    first = ops.eq(t, 1)
    eta = ops.where(first, ops.round32(lr) if float32_scalars else lr, eta)
    mu = ops.where(first, 1.0, mu)
    g = g + weight_decay * x
    x = x * (1 - lambd * eta)
    x = x - eta * g
    ax = ops.where(ops.eq(mu, 1), x, ax + (x - ax) * mu)
    eta = lr / (1 + lambd * lr * t) ** alpha
    mu = 1 / ops.maximum(1.0, t - t0)
    if float32_scalars:
        eta, mu = ops.round32(eta), ops.round32(mu)
    return (x, ax, eta + 0 * x, mu + 0 * x)
