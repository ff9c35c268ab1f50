"""RMSProp with torch.optim.RMSprop semantics, exactly (eps outside the root, no bias correction).

Algorithm (torch/optim/rmsprop.py)
    g <- g + weight_decay * x
    v <- alpha v + (1 - alpha) g^2                         (v_0 = 0)
    centered:  gbar <- gbar + (1 - alpha)(g - gbar);  d = sqrt(v - gbar^2) + eps
    otherwise: d = sqrt(v) + eps
    b <- momentum b + g / d                               (b_0 = 0)
    x <- x - lr_t b

    With momentum = 0 the buffer is just g/d and x <- x - lr_t g/d, as torch computes it.

Theoretical guarantee on quadratics
    Nonlinear.  With v frozen (preconditioner P = sqrt(v) + eps) it is gradient descent
    (momentum = 0) or heavy ball (momentum > 0) on P^-1 H: stable iff lr lambda_max(P^-1 H) < 2
    (resp. 2(1 + momentum)).  With eps = 0 it is scale-invariant and ends on the period-2 orbit
    x = +-lr/2 on 1/2 h x^2 (see optanalysis.symbolic).

Equivalences
    optax.rmsprop(eps_in_sqrt=False, initial_scale=0, bias_correction=False) when momentum = 0 (see
    rmsprop_optax; with momentum optax applies the lr before its trace, equal under a constant lr).

References
    T. Tieleman, G. Hinton (2012), Lecture 6.5, COURSERA; A. Graves (2013) arXiv:1308.0850
    (centered); PyTorch torch/optim/rmsprop.py.
"""
from .. import ops
from ..hyper import Flag, coefficient, learning_rate, nonnegative
from . import Rule

RULE = Rule(
    name="rmsprop",
    hyper=(
        learning_rate(1e-2, symbol=r"\eta"),  # torch's alpha is the smoothing constant
        coefficient("alpha", 0.99, "smoothing constant of the squared-gradient average",
                    symbol=r"\alpha"),
        nonnegative("eps", 1e-8, "added to sqrt(v), outside the root", symbol=r"\epsilon"),
        nonnegative("weight_decay", 0.0, "coupled L2 penalty added to the gradient", symbol=r"\lambda"),
        coefficient("momentum", 0.0, "momentum factor of the buffer of g/d", symbol=r"\beta"),
        Flag("centered", False, "normalise by an estimate of the variance"),
    ),
    state=("x", "v", "gbar", "buf"),
    linear=False,
    semantics="torch.optim.RMSprop exactly (maximize=False)",
    references=("Tieleman & Hinton (2012) COURSERA Lecture 6.5", "Graves (2013) arXiv:1308.0850",
                "PyTorch torch/optim/rmsprop.py"),
    order=50,
    preconditioner=("v", "gbar"),
    zero_by_default=("weight_decay",),
    orbit=True,
    orbit_zero=("eps", "momentum"),
)


def step(x, v, gbar, buf, g, lr, alpha, eps, weight_decay, momentum, centered, t):
    g = g + weight_decay * x
    v = alpha * v + (1 - alpha) * g * g
    if centered:
        gbar = gbar + (1 - alpha) * (g - gbar)
        d = ops.sqrt(v - gbar * gbar) + eps
    else:
        d = ops.sqrt(v) + eps
    buf = momentum * buf + g / d
    # torch: x - lr*buf with momentum, else addcdiv x + (-lr*g)/d; same rounding order here.
    return (ops.where(ops.gt(momentum, 0), x - lr * buf, x - lr * g / d), v, gbar, buf)
