"""Gradient descent.

Algorithm
    x_{t} = x_{t-1} - lr_t * g_t,   g_t = grad f(x_{t-1}).

Theoretical guarantee on quadratics
    Per eigen-direction of curvature h the error is multiplied by 1 - lr*h: stable iff
    0 < lr*h < 2; over h in [mu, L] the rate max(``|1 - lr*mu|``, ``|1 - lr*L|``) is smallest at
    lr = 2/(L + mu), giving (kappa - 1)/(kappa + 1).

Equivalences
    torch.optim.SGD(lr, momentum=0) and optax.sgd(lr) exactly; every momentum rule at momentum 0.

References
    Cauchy (1847); Goh, "Why Momentum Really Works", Distill (2017); Cohen et al., "Gradient
    Descent on Neural Networks Typically Occurs at the Edge of Stability", ICLR 2021.
"""
from ..hyper import learning_rate
from . import Rule

RULE = Rule(
    name="gd",
    hyper=(learning_rate(1e-3),),
    state=("x",),
    linear=True,
    semantics="torch.optim.SGD(momentum=0) and optax.sgd exactly",
    references=("Goh (2017) Why Momentum Really Works, Distill",),
    order=10,
    canonical=True,
)


def step(x, g, lr, t):
    return (x - lr * g,)
