"""RMSProp with optax.rmsprop semantics, exactly (eps inside the root by default).

Algorithm (optax/_src/alias.py rmsprop = chain(scale_by_rms | scale_by_stddev,
scale_by_learning_rate, trace(momentum, nesterov)))

    nu <- (1 - decay) g^2 + decay nu                    (nu_0 = initial_scale)
    centered: mu <- (1 - decay) g + decay mu            (mu_0 = 0)
    bias_correction: nu_hat = nu/(1 - decay^t), mu_hat = mu/(1 - decay^t); else unchanged
    s = nu_hat - mu_hat^2 if centered else nu_hat
    u = -lr_t * (g / sqrt(s + eps) if eps_in_sqrt else g / (sqrt(s) + eps))
    tr <- u + momentum tr;  u <- u + momentum tr if nesterov else tr
    x <- x + u

Theoretical guarantee on quadratics
    As rmsprop; the preconditioner is sqrt(nu + eps) (eps_in_sqrt) instead of sqrt(v) + eps.

Equivalences
    torch.optim.RMSprop with eps_in_sqrt=False, initial_scale=0, bias_correction=False, and
    momentum = 0 (optax's trace runs after the lr scaling: equal to torch with momentum only under
    a constant lr).  optax's default decay is 0.9, torch's alpha 0.99.

References
    optax/_src/transform.py (scale_by_rms, scale_by_stddev), optax/_src/alias.py; optax issue #532.
"""
from .. import ops
from ..hyper import Flag, coefficient, learning_rate, nonnegative
from . import Rule

RULE = Rule(
    name="rmsprop_optax",
    hyper=(
        learning_rate(1e-2, symbol=r"\eta"),
        coefficient("decay", 0.9, "decay of the squared-gradient average", symbol=r"\rho"),
        nonnegative("eps", 1e-8, "added inside the root (eps_in_sqrt) or to it", symbol=r"\epsilon"),
        nonnegative("initial_scale", 0.0, "initial value of nu (TF1 used 1)", symbol=r"\nu_0"),
        Flag("eps_in_sqrt", True, "eps inside the square root (optax default)"),
        Flag("centered", False, "normalise by an estimate of the variance"),
        coefficient("momentum", 0.0, "trace decay after the lr scaling (0 = no trace)",
                    symbol=r"\beta"),
        Flag("nesterov", False, "Nesterov form of the trace"),
        Flag("bias_correction", False, "divide the averages by 1 - decay^t"),
    ),
    state=("x", "nu", "mu", "trace"),
    linear=False,
    semantics="optax.rmsprop exactly",
    references=("optax/_src/transform.py scale_by_rms, scale_by_stddev", "optax issue #532"),
    order=60,
    preconditioner=("nu", "mu"),
    zero_by_default=("initial_scale",),
    orbit=True,
    orbit_zero=("eps", "momentum"),
)


def init(x0, lr, decay, eps, initial_scale, eps_in_sqrt, centered, momentum, nesterov, bias_correction):
    return (x0, 0 * x0 + initial_scale, 0 * x0, 0 * x0)


def step(x, nu, mu, trace, g, lr, decay, eps, initial_scale, eps_in_sqrt, centered, momentum,
         nesterov, bias_correction, t):
    nu = (1 - decay) * (g * g) + decay * nu
    mu = (1 - decay) * g + decay * mu if centered else mu
    nu_hat, mu_hat = (nu / (1 - decay**t), mu / (1 - decay**t)) if bias_correction else (nu, mu)
    s = nu_hat - mu_hat * mu_hat if centered else nu_hat
    u = g * ops.rsqrt(s + eps) if eps_in_sqrt else g / (ops.sqrt(s) + eps)
    u = -lr * u
    trace = u + momentum * trace
    u = u + momentum * trace if nesterov else trace
    return (x + u, nu, mu, trace)
