"""Lion with optax.lion semantics, exactly.

Algorithm (optax/_src/alias.py lion = chain(scale_by_lion, add_decayed_weights, scale_by_learning_rate))
    c = (1 - b1) g + b1 m
    x <- x - lr_t (sign(c) + weight_decay x)     (sign(0) = 0; the decay is scaled by lr)
    m <- (1 - b2) g + b2 m                        (the stored momentum decays with b2, after c)

Theoretical guarantee on quadratics
    Nonlinear (sign-based): every coordinate moves by exactly lr (plus the decay), so with a
    constant lr it cannot converge to a minimiser off the lattice x0 + lr Z; it settles into an
    oscillation of amplitude ~ lr around xstar (sign flips), the distance to xstar decreasing
    linearly in t (by lr per step) until then.  With weight_decay > 0 the fixed point satisfies
    sign(c) = -weight_decay x: bounded |x| <= 1/weight_decay (Chen et al. 2023).

Equivalences
    Sign descent (signSGD with momentum) when b1 = b2 and weight_decay = 0; none is declared
    with another rule (there is no sign rule besides this one).

References
    X. Chen, C. Liang, D. Huang, E. Real, et al. (2023), Symbolic Discovery of Optimization
    Algorithms, NeurIPS; optax/_src/transform.py scale_by_lion (0.2.8).
"""
from .. import ops
from ..hyper import coefficient, learning_rate, nonnegative
from . import Rule

RULE = Rule(
    name="lion",
    hyper=(
        learning_rate(1e-4, symbol=r"\eta"),
        coefficient("b1", 0.9, "interpolation of the sign's argument", symbol=r"\beta_1"),
        coefficient("b2", 0.99, "decay of the stored momentum", symbol=r"\beta_2"),
        nonnegative("weight_decay", 1e-3, "decoupled decay, scaled by lr (optax default 1e-3)",
                    symbol=r"\lambda"),
    ),
    state=("x", "m"),
    linear=False,
    semantics="optax.lion exactly (mu_dtype=None, mask=None)",
    references=("Chen et al. (2023) NeurIPS", "optax/_src/transform.py scale_by_lion"),
    order=92,
    preconditioner=("m",),
    zero_by_default=("weight_decay",),
)


def step(x, m, g, lr, b1, b2, weight_decay, t):
    u = ops.sign((1 - b1) * g + b1 * m) + weight_decay * x
    return (x + -lr * u, (1 - b2) * g + b2 * m)
