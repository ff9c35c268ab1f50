"""Schedule-free SGD (Defazio et al. 2024) with optax.contrib.schedule_free_sgd semantics.

Algorithm (Defazio et al. 2024, Eq. (SF); optax/contrib/_schedule_free.py)
    y_t = (1 - b1) z_t + b1 x_t                         (the gradient point: optax's params)
    z_{t+1} = z_t - lr_t (grad f(y_t) + weight_decay y_t)
    x_{t+1} = (1 - c_{t+1}) x_t + c_{t+1} z_{t+1}       (x: the evaluation point, state[0])
    c_{t+1} = 1/t at step t (uniform averaging, optax's weights under a constant lr) when c = 0;
    the constant c otherwise.  x_0 = z_0 = x0.

Theoretical guarantee on quadratics
    With a constant weight c it is linear and time-invariant (the form the derivation analyses):
    z^2 - (2 - c - lr h (1 - b1 + c b1)) z + (1 - c)(1 - lr h (1 - b1)).  It is QHM with
    lr -> lr, nu -> b1, momentum -> 1 - c (declared below, proven by the engine), so its optimal
    worst-case rate over [mu, L] is heavy ball's, reached at b1 = 1 (primal averaging) with
    c = 1 - momentum_Polyak: (sqrt(kappa) - 1)/(sqrt(kappa) + 1).  With c = 0 the weight 1/t
    varies in time: the map of step t is T_t(h) with c = 1/t, a time-varying linear system
    (exact in the kernels and NumPy; the LTI tools, derive/predict/worst_case, refuse it);
    for a constant lr the average forgets the start like 1/t, so x converges sublinearly
    (O(1/t)) even on a strongly convex quadratic, while z and y converge linearly.

Equivalences
    Constant c: QHM with nu = b1 and momentum = 1 - c (proven); c = 1: x = y = z, gradient
    descent on z.  b1 = 0: z is SGD and x its Polyak-Ruppert average; b1 = 1: primal averaging.  optax.contrib.schedule_free_sgd(lr, b1=b1, weight_decay=...) exactly under a
    constant lr (c = 0); under a varying lr optax weights c_t = max_lr_t^2/sum(max_lr_k^2), with
    the schedule evaluated one step ahead of the SGD step, which this rule does not reproduce.
    The PyPI ``schedulefree.SGDScheduleFree`` holds y in place of x and folds the interpolation
    into one update of y (y <- (1 - c) y + c z + lr (b1 (1 - c) - 1) g): the same iterates
    mathematically under a constant lr with warmup_steps = 0 and r = 0.

References
    A. Defazio, X. Yang, H. Mehta, K. Mishchenko, A. Khaled, A. Cutkosky (2024), The Road Less
    Scheduled, NeurIPS; optax/contrib/_schedule_free.py (0.2.8).
"""
from .. import ops
from ..hyper import Real, learning_rate, nonnegative
from . import Equivalence, Rule, RootTuning

RULE = Rule(
    name="schedule_free_sgd",
    hyper=(
        learning_rate(1e-3, symbol=r"\gamma"),
        Real("b1", 0.9, 0.0, 1.0, doc="interpolation of the gradient point between z and x",
             symbol=r"\beta"),
        nonnegative("weight_decay", 0.0, "L2 penalty at the gradient point y", symbol=r"\lambda"),
        Real("c", 0.0, 0.0, 1.0, doc="averaging weight; 0: uniform c_t = 1/t (optax, the paper)",
             symbol="c"),
    ),
    state=("x", "z"),
    linear=True,
    semantics="optax.contrib.schedule_free_sgd exactly under a constant lr (c = 0); the LTI form with constant c",
    references=("Defazio et al. (2024) NeurIPS", "optax/contrib/_schedule_free.py"),
    order=46,
    time_varying=(("c", 0.0),),
    equivalences=(
        Equivalence("qhm", fixed={"weight_decay": 0}, mapping={"nu": "b1", "momentum": "1 - c"}),
    ),
    tunings=(
        RootTuning("primal averaging (b1 = 1), Polyak", "b1 = 1; double roots at h = mu and h = L",
                   ("lr", "c"), at_mu=("r", "r"), at_L=("s", "s"), given=(("b1", "1"),)),
    ),
)


def init(x0, lr, b1, weight_decay, c):
    return (x0, x0)


def grad_point(x, z, lr, b1, weight_decay, c):
    return b1 * x + (1 - b1) * z


def step(x, z, g, lr, b1, weight_decay, c, t):
    y = b1 * x + (1 - b1) * z
    z = z + -lr * (g + weight_decay * y)
    ck = ops.where(ops.eq(c, 0), 1 / t, c)
    return ((1 - ck) * x + ck * z, z)
