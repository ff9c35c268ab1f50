"""torch.optim.SGD with momentum, dampening, Nesterov and coupled weight decay, exactly.

Algorithm (torch/optim/sgd.py)
    g <- g + weight_decay * x
    b <- g                                  at t = 1 (dampening is NOT applied to the first step)
    b <- momentum * b + (1 - dampening) * g  for t >= 2
    d <- g + momentum * b if nesterov else b      (d = g when momentum = 0: torch keeps no buffer)
    x <- x - lr_t * d

Theoretical guarantee on quadratics
    For t >= 2 and nesterov=False: z^2 - (1 + momentum - lr(1 - dampening)h) z + momentum, stable
    iff 0 < lr(1 - dampening)h < 2(1 + momentum) — dampening rescales the learning rate.
    With nesterov=True: z^2 - (1 + momentum)(1 - lr h) z + momentum(1 - lr h).

Equivalences
    Heavy ball with the same (lr, momentum) when dampening = 0 (identical trajectories under a
    constant lr); Sutskever NAG when nesterov=True; optax.sgd(lr, momentum, nesterov) exactly
    when dampening = 0 and weight_decay = 0.

References
    PyTorch torch/optim/sgd.py; Sutskever, Martens, Dahl, Hinton (2013), On the importance of
    initialization and momentum in deep learning, ICML.
"""
from .. import ops
from ..hyper import Flag, Real, coefficient, learning_rate, nonnegative
from . import Equivalence, Rule

RULE = Rule(
    name="sgd_momentum",
    hyper=(
        learning_rate(1e-3),
        coefficient("momentum", 0.9, "momentum factor", symbol=r"\beta"),
        Real("dampening", 0.0, 0.0, 1.0, doc="dampening of the gradient in the buffer (t >= 2)",
             symbol=r"\tau"),
        nonnegative("weight_decay", 0.0, "coupled L2 penalty added to the gradient", symbol=r"\lambda"),
        Flag("nesterov", False, "use g + momentum*b as the direction"),
    ),
    state=("x", "buf"),
    linear=True,
    semantics="torch.optim.SGD exactly (maximize=False); optax.sgd when dampening = weight_decay = 0",
    references=("PyTorch torch/optim/sgd.py", "Sutskever et al. (2013) ICML"),
    constraints=(
        (lambda p: not p["nesterov"] or (p["momentum"] > 0 and p["dampening"] == 0),
         "nesterov=true requires momentum in (0, 1) and dampening = 0"),
    ),
    order=30,
    equivalences=(
        Equivalence("heavy_ball", fixed={"dampening": 0, "weight_decay": 0}, schedule=True),
        Equivalence("nesterov", fixed={"nesterov": True, "weight_decay": 0}, schedule=True),
        Equivalence("heavy_ball", fixed={"weight_decay": 0}, solve_for=("lr", "momentum")),
        # coupled weight decay is gradient descent on h + weight_decay
        Equivalence("sgd_momentum", fixed={"dampening": 0},
                    other_fixed={"dampening": 0, "weight_decay": 0},
                    mapping={"h": "h + weight_decay"}),
        Equivalence("gd", fixed={"momentum": 0, "weight_decay": 0}),
    ),
)


def step(x, buf, g, lr, momentum, dampening, weight_decay, nesterov, t):
    g = g + weight_decay * x
    buf = ops.where(ops.eq(t, 1), g, momentum * buf + (1 - dampening) * g)
    buf = ops.where(ops.eq(momentum, 0), g, buf)
    d = g + momentum * buf if nesterov else buf
    return (x - lr * d, buf)
