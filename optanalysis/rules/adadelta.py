"""Adadelta with torch.optim.Adadelta semantics, exactly.

Algorithm (torch/optim/adadelta.py, ``_single_tensor_adadelta``)
    g <- g + weight_decay x
    v <- rho v + (1 - rho) g^2
    delta = sqrt(u + eps)/sqrt(v + eps) * g       (eps inside BOTH roots; u before its update)
    u <- rho u + (1 - rho) delta^2
    x <- x - lr_t delta                           (lr defaults to 1.0)

Theoretical guarantee on quadratics
    Nonlinear.  With both accumulators frozen it is gradient descent on P^-1 H with
    P = sqrt(v + eps)/sqrt(u + eps): stable iff lr lambda_max(P^-1 H) < 2.  From u = 0 the first
    steps are of size ~ sqrt(eps)/sqrt((1 - rho) g^2 + eps) |g|, so progress starts slowly and u
    (the average of squared steps) grows geometrically at first: the effective step size is
    learned, not set by lr.

Equivalences
    None with another rule: even at rho = 0, delta = sqrt(u + eps)/sqrt(g^2 + eps) g keeps the
    previous squared step u, so no fixed-hyperparameter identity holds; none is declared.

References
    M. D. Zeiler (2012), ADADELTA: An Adaptive Learning Rate Method, arXiv:1212.5701; PyTorch
    torch/optim/adadelta.py (2.13).
"""
from .. import ops
from ..hyper import coefficient, learning_rate, nonnegative
from . import Rule

RULE = Rule(
    name="adadelta",
    hyper=(
        learning_rate(1.0),
        coefficient("rho", 0.9, "decay of both running averages", symbol=r"\rho"),
        nonnegative("eps", 1e-6, "added inside both square roots", symbol=r"\epsilon"),
        nonnegative("weight_decay", 0.0, "coupled L2 penalty added to the gradient", symbol=r"\lambda"),
    ),
    state=("x", "v", "u"),
    linear=False,
    semantics="torch.optim.Adadelta exactly (maximize=False)",
    references=("Zeiler (2012) arXiv:1212.5701", "PyTorch torch/optim/adadelta.py"),
    order=78,
    preconditioner=("v", "u"),
    zero_by_default=("weight_decay",),
)


def step(x, v, u, g, lr, rho, eps, weight_decay, t):
    g = g + weight_decay * x
    v = rho * v + (1 - rho) * g * g
    delta = ops.sqrt(u + eps) / ops.sqrt(v + eps) * g
    u = rho * u + (1 - rho) * delta * delta
    return (x - lr * delta, v, u)
