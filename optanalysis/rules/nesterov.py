"""Nesterov's accelerated gradient in Sutskever's form (gradient at the look-ahead point).

Algorithm
    v_t = momentum * v_{t-1} - lr_t * grad f(x_{t-1} + momentum * v_{t-1}),   v_0 = 0
    x_t = x_{t-1} + v_t

Theoretical guarantee on quadratics
    z^2 - (1 + momentum)(1 - lr h) z + momentum (1 - lr h): stable iff
    0 < lr h < (2 + 2 momentum)/(1 + 2 momentum).  Lessard-Recht-Packard tuning lr = 4/(3L + mu),
    momentum = (sqrt(3 kappa + 1) - 2)/(sqrt(3 kappa + 1) + 2) gives 1 - 2/sqrt(3 kappa + 1);
    the standard lr = 1/L, momentum = (sqrt(kappa) - 1)/(sqrt(kappa) + 1) gives 1 - 1/sqrt(kappa).

Equivalences
    torch.optim.SGD(nesterov=True, dampening=0) and optax.sgd(nesterov=True) have the same
    characteristic polynomial (identical trajectories under a constant lr).

References
    Y. Nesterov (1983); Sutskever et al. (2013) ICML; Lessard, Recht, Packard (2016), SIAM J.
    Optim. 26(1), Prop. 1.
"""
from ..hyper import coefficient, learning_rate
from . import Equivalence, Rule

RULE = Rule(
    name="nesterov",
    hyper=(learning_rate(1e-3), coefficient("momentum", 0.9, "momentum factor", symbol=r"\beta")),
    state=("x", "v"),
    linear=True,
    semantics="Sutskever et al. (2013) velocity form (no library class; torch nesterov=True is its lr-rescaled twin)",
    references=("Sutskever et al. (2013) ICML", "Lessard, Recht, Packard (2016) SIAM J. Optim. 26(1)"),
    order=40,
    canonical=True,
    equivalences=(Equivalence("gd", fixed={"momentum": 0}),),
)


def grad_point(x, v, lr, momentum):
    return x + momentum * v


def step(x, v, g, lr, momentum, t):
    v = momentum * v - lr * g
    return (x + v, v)
