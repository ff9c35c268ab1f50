"""Polyak's heavy ball.

Algorithm
    x_{t} = x_{t-1} - lr_t * g_t + momentum * (x_{t-1} - x_{t-2}),   x_{-1} = x_0.

Theoretical guarantee on quadratics
    Per eigen-direction the characteristic polynomial is z^2 - (1 + momentum - lr*h) z + momentum:
    stable iff 0 < lr*h < 2(1 + momentum) for 0 <= momentum < 1; complex roots (modulus
    sqrt(momentum)) iff (1 - sqrt(momentum))^2 < lr*h < (1 + sqrt(momentum))^2.  Polyak's tuning
    lr = 4/(sqrt(L) + sqrt(mu))^2, momentum = ((sqrt(kappa) - 1)/(sqrt(kappa) + 1))^2 gives the
    rate (sqrt(kappa) - 1)/(sqrt(kappa) + 1).

Equivalences
    Same characteristic polynomial as torch.optim.SGD(lr, momentum, dampening=0) (Goh's form
    z+ = momentum z + g, w+ = w - lr z+); identical trajectories under a constant lr only, since
    torch rescales its whole buffer by the current lr.

References
    B. T. Polyak (1964), Some methods of speeding up the convergence of iteration methods, USSR
    Comput. Math. & Math. Phys. 4(5); G. Goh (2017), Why Momentum Really Works, Distill.
"""
from ..hyper import coefficient, learning_rate
from . import Equivalence, Rule

RULE = Rule(
    name="heavy_ball",
    hyper=(learning_rate(1e-3),
           coefficient("momentum", 0.9, "weight of the previous displacement", symbol=r"\beta")),
    state=("x", "x_prev"),
    linear=True,
    semantics="Polyak's two-step form (no library class; torch SGD momentum is its lr-rescaled twin)",
    references=("Polyak (1964) USSR Comput. Math. Math. Phys. 4(5)", "Goh (2017) Distill"),
    order=20,
    canonical=True,
    equivalences=(Equivalence("gd", fixed={"momentum": 0}),),
)


def init(x0, lr, momentum):
    return (x0, x0)


def step(x, x_prev, g, lr, momentum, t):
    return (x - lr * g + momentum * (x - x_prev), x)
