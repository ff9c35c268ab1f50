"""Schedule-free AdamW (Defazio et al. 2024) with optax.contrib.schedule_free_adamw semantics.

Algorithm (optax/contrib/_schedule_free.py: schedule_free(chain(scale_by_rms(b2, eps, eps_in_sqrt=False, bias_correction=True), add_decayed_weights, scale_by_learning_rate)))
    y = (1 - b1) z + b1 x                             (the gradient point: optax's params)
    v <- b2 v + (1 - b2) g^2
    z <- z - lr_t (g/(sqrt(v/(1 - b2^t)) + eps) + weight_decay y)
    x <- (1 - 1/t) x + (1/t) z                        (x: the evaluation point, state[0])
    x_0 = z_0 = x0.  The weight 1/t is optax's max_lr^2/sum(max_lr^2) under a constant lr.

Theoretical guarantee on quadratics
    Nonlinear.  With v frozen at P^2 (1 - b2^t), it is schedule-free SGD on P^-1 H (plus the decay):
    with a constant weight c, QHM with nu = b1, momentum = 1 - c on the preconditioned curvature
    (see :mod:`optanalysis.rules.schedule_free_sgd`); with c_t = 1/t the average x converges
    sublinearly (O(1/t)) while z and y converge linearly.

Equivalences
    The ``schedule_free_sgd`` rule with g replaced by g/(sqrt(v_hat) + eps) (no declared identity:
    the rules differ by the preconditioner).  optax exactly under a constant lr; under a varying lr
    optax weights c_t = max_lr_t^2/sum(max_lr_k^2), not reproduced.  The PyPI
    ``schedulefree.AdamWScheduleFree`` (warmup_steps = 0, r = 0) computes the same iterates up to
    rounding: it holds y and updates it as y <- (1 - c) y + c z + lr (b1 (1 - c) - 1) u; its
    warmup_steps multiplies lr by min(1, (k + 1)/warmup) and, through max_lr, the weights.

References
    A. Defazio, X. Yang, H. Mehta, K. Mishchenko, A. Khaled, A. Cutkosky (2024), The Road Less
    Scheduled, NeurIPS; optax/contrib/_schedule_free.py (0.2.8); facebookresearch/schedule_free.
"""
from .. import ops
from ..hyper import Real, coefficient, learning_rate, nonnegative
from . import Rule

RULE = Rule(
    name="schedule_free_adamw",
    hyper=(
        learning_rate(2.5e-3, symbol=r"\gamma"),
        Real("b1", 0.9, 0.0, 1.0, low_open=True, doc="interpolation of the gradient point between z and x",
             symbol=r"\beta_1"),
        coefficient("b2", 0.999, "decay of the squared-gradient average", symbol=r"\beta_2"),
        nonnegative("eps", 1e-8, "added to the root of the bias-corrected v", symbol=r"\epsilon"),
        nonnegative("weight_decay", 0.0, "decoupled decay at the gradient point y", symbol=r"\lambda"),
    ),
    state=("x", "z", "v"),
    linear=False,
    semantics="optax.contrib.schedule_free_adamw exactly under a constant lr",
    references=("Defazio et al. (2024) NeurIPS", "optax/contrib/_schedule_free.py"),
    order=96,
    preconditioner=("v",),
    zero_by_default=("weight_decay",),
)


def init(x0, lr, b1, b2, eps, weight_decay):
    return (x0, x0, 0 * x0)


def grad_point(x, z, v, lr, b1, b2, eps, weight_decay):
    return b1 * x + (1 - b1) * z


def step(x, z, v, g, lr, b1, b2, eps, weight_decay, t):
    y = b1 * x + (1 - b1) * z
    v = (1 - b2) * (g * g) + b2 * v
    u = g / (ops.sqrt(v / (1 - b2**t)) + eps) + weight_decay * y
    z = z + -lr * u
    ck = 1 / t
    return ((1 - ck) * x + ck * z, z, v)
