"""Adamax (Adam's infinity-norm variant) with torch.optim.Adamax semantics, exactly.

Algorithm (torch/optim/adamax.py, ``_single_tensor_adamax``)
    g <- g + weight_decay x                           (coupled L2 only)
    m <- m + (1 - beta1)(g - m)
    u <- max(beta2 u, |g| + eps)                      (eps INSIDE the max)
    x <- x - lr_t/(1 - beta1^t) * m/u                 (only m is bias-corrected)

Theoretical guarantee on quadratics
    Nonlinear.  With u frozen it is heavy ball on u^-1 H with lr (1 - beta1) lr/(1 - beta1^t)
    and momentum beta1: stable iff lambda_max(u^-1 H) < (2 + 2 beta1)/((1 - beta1) lr).  Since
    u >= |g| the step |lr m/u| is bounded by lr/(1 - beta1^t) * max|g|/|g|-like ratios: like
    Adam with eps = 0 it is scale-invariant in g.

Equivalences
    Adam with the L^2 norm of the gradient history replaced by the L^inf norm (Kingma & Ba 2015,
    Sec. 7.1): u_t = max(beta2^(t-k) |g_k|) is the limit p -> oo of (sum (1 - beta2^p) beta2^(p(t-k))
    |g_k|^p)^(1/p).  With the preconditioner frozen, adamax and adam have the same linearised
    dynamics (heavy ball on P^-1 H, same lr and momentum); they differ only in how P is formed.
    This is a relation of the frozen-preconditioner linearisations, not an identity of the
    nonlinear rules (declared as ``relations``, proven by
    ``optanalysis.symbolic.adaptive_relations``; listed by ``optanalysis derive adamax``).

References
    D. P. Kingma, J. Ba (2015), Adam: A Method for Stochastic Optimization, ICLR, Sec. 7.1;
    PyTorch torch/optim/adamax.py (2.13).
"""
from .. import ops
from ..hyper import coefficient, learning_rate, nonnegative
from . import Relation, Rule

RULE = Rule(
    name="adamax",
    hyper=(
        learning_rate(2e-3),
        coefficient("beta1", 0.9, "decay of the first-moment average (betas[0])", symbol=r"\beta_1"),
        coefficient("beta2", 0.999, "decay of the infinity norm (betas[1])", symbol=r"\beta_2"),
        nonnegative("eps", 1e-8, "added to |g| inside the max", symbol=r"\epsilon"),
        nonnegative("weight_decay", 0.0, "coupled L2 penalty added to the gradient", symbol=r"\lambda"),
    ),
    state=("x", "m", "u"),
    linear=False,
    semantics="torch.optim.Adamax exactly (maximize=False)",
    references=("Kingma & Ba (2015) ICLR, Sec. 7.1", "PyTorch torch/optim/adamax.py"),
    order=76,
    preconditioner=("u",),
    zero_by_default=("weight_decay",),
    relations=(  # Kingma & Ba (2015), Sec. 7.1: P = Q + eps on both sides, at every step t
        Relation("adam", "u frozen at Q + eps, Adam's sqrt(v_hat) + eps too; every t", frozen={"u": "(Q + eps)/beta2"},
                 fixed={"weight_decay": 0}, other_fixed={"weight_decay": 0},
                 other_frozen={"v": "Q**2*(1 - beta2**t)/beta2", "vmax": "0"}),
    ),
)


def step(x, m, u, g, lr, beta1, beta2, eps, weight_decay, t):
    g = g + weight_decay * x
    m = m + (1 - beta1) * (g - m)
    u = ops.maximum(beta2 * u, abs(g) + eps)
    return (x + (-lr / (1 - beta1**t)) * m / u, m, u)
