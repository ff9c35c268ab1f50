"""Adam with optax.adam semantics, exactly (eps_root inside the root, optional Nesterov/NAdam).

Algorithm (optax/_src/transform.py scale_by_adam; alias.py adam)
    mu <- (1 - b1) g + b1 mu;   nu <- (1 - b2) g^2 + b2 nu
    mu_hat = mu / (1 - b1^t)
    (nesterov: mu_hat = b1 mu / (1 - b1^(t+1)) + (1 - b1) g / (1 - b1^t))
    nu_hat = nu / (1 - b2^t)
    x <- x - lr_t mu_hat / (sqrt(nu_hat + eps_root) + eps)

Theoretical guarantee on quadratics
    As torch Adam (see :mod:`optanalysis.rules.adam`); eps_root > 0 keeps the root differentiable.

Equivalences
    torch.optim.Adam (amsgrad=False, weight_decay=0) when eps_root = 0, up to rounding (torch
    computes sqrt(v)/sqrt(1 - b2^t), optax sqrt(v/(1 - b2^t))).  nesterov=True is optax.nadam.

References
    Kingma & Ba (2015) ICLR; T. Dozat (2016), Incorporating Nesterov Momentum into Adam, ICLR
    workshop; optax/_src/transform.py; optax issue #571 (eps_root).
"""
from .. import ops
from ..hyper import Flag, coefficient, learning_rate, nonnegative
from . import Rule

RULE = Rule(
    name="adam_optax",
    hyper=(
        learning_rate(1e-3),
        coefficient("b1", 0.9, "decay of the first-moment average", symbol=r"\beta_1"),
        coefficient("b2", 0.999, "decay of the second-moment average", symbol=r"\beta_2"),
        nonnegative("eps", 1e-8, "added to the root", symbol=r"\epsilon"),
        nonnegative("eps_root", 0.0, "added inside the root", symbol=r"\bar{\epsilon}"),
        Flag("nesterov", False, "NAdam form of the first moment"),
    ),
    state=("x", "mu", "nu"),
    linear=False,
    semantics="optax.adam exactly (mu_dtype=None)",
    references=("Kingma & Ba (2015) ICLR", "Dozat (2016) ICLR workshop", "optax/_src/transform.py"),
    order=90,
    preconditioner=("nu",),
    orbit=True,
    orbit_zero=("eps", "eps_root"),
)


def step(x, mu, nu, g, lr, b1, b2, eps, eps_root, nesterov, t):
    mu = (1 - b1) * g + b1 * mu
    nu = (1 - b2) * (g * g) + b2 * nu
    if nesterov:
        mu_hat = b1 * mu / (1 - b1 ** (t + 1)) + (1 - b1) * g / (1 - b1**t)
    else:
        mu_hat = mu / (1 - b1**t)
    nu_hat = nu / (1 - b2**t)
    return (x - lr * (mu_hat / (ops.sqrt(nu_hat + eps_root) + eps)), mu, nu)
