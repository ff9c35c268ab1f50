"""Adagrad with torch.optim.Adagrad semantics, exactly.

Algorithm (torch/optim/adagrad.py)
    g <- g + weight_decay * x
    clr = lr_t / (1 + (t - 1) lr_decay)          (built-in inverse-time decay)
    s <- s + g^2                                 (s_0 = initial_accumulator_value)
    x <- x - clr g / (sqrt(s) + eps)             (eps outside the root)

Theoretical guarantee on quadratics
    The effective per-coordinate step clr/(sqrt(s_t) + eps) is non-increasing; on 1/2 h x^2 with
    s_0 = 0 and lr_decay = 0 the first step moves x by exactly lr (sign-like), and later steps
    shrink as the accumulated squared gradients grow (s_t >= h^2 x_t^2 + ...).

Equivalences
    optax.adagrad differs by default (S_0 = 0.1, eps = 1e-7 inside the root, no lr_decay).

References
    J. Duchi, E. Hazan, Y. Singer (2011), Adaptive Subgradient Methods for Online Learning and
    Stochastic Optimization, JMLR 12; PyTorch torch/optim/adagrad.py.
"""
from .. import ops
from ..hyper import learning_rate, nonnegative
from . import Rule

RULE = Rule(
    name="adagrad",
    hyper=(
        learning_rate(1e-2, symbol=r"\eta"),
        nonnegative("lr_decay", 0.0, "inverse-time decay of the lr inside the optimizer",
                    symbol=r"\delta"),
        nonnegative("weight_decay", 0.0, "coupled L2 penalty added to the gradient", symbol=r"\lambda"),
        nonnegative("initial_accumulator_value", 0.0, "initial value of the sum of squares",
                    symbol=r"\tau"),
        nonnegative("eps", 1e-10, "added to sqrt(s), outside the root", symbol=r"\epsilon"),
    ),
    state=("x", "s"),
    linear=False,
    semantics="torch.optim.Adagrad exactly (maximize=False)",
    references=("Duchi, Hazan, Singer (2011) JMLR 12", "PyTorch torch/optim/adagrad.py"),
    order=100,
    preconditioner=("s",),
    zero_by_default=("lr_decay", "weight_decay", "initial_accumulator_value"),
)


def init(x0, lr, lr_decay, weight_decay, initial_accumulator_value, eps):
    return (x0, 0 * x0 + initial_accumulator_value)


def step(x, s, g, lr, lr_decay, weight_decay, initial_accumulator_value, eps, t):
    g = g + weight_decay * x
    clr = lr / (1 + (t - 1) * lr_decay)
    s = s + g * g
    return (x - clr * g / (ops.sqrt(s) + eps), s)
