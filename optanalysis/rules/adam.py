"""Adam (and AMSGrad) with torch.optim.Adam semantics, exactly.

Algorithm (torch/optim/adam.py)
    g <- g + weight_decay * x                               (coupled L2)
    m <- m + (1 - beta1)(g - m)                             (torch's lerp)
    v <- beta2 v + (1 - beta2) g^2
    amsgrad: vmax <- max(vmax, v)  (max of the raw v; bias correction after the max)
    denom = sqrt(vmax or v) / sqrt(1 - beta2^t) + eps       (eps outside the root)
    x <- x - lr_t / (1 - beta1^t) * m / denom

Theoretical guarantee on quadratics
    Nonlinear.  With the preconditioner P = sqrt(v_hat) + eps frozen (and bias correction of m
    ignored) it is heavy ball on P^-1 H with lr (1 - beta1) and momentum beta1: stable iff
    lambda_max(P^-1 H) < (2 + 2 beta1)/((1 - beta1) lr), i.e. 38/lr at beta1 = 0.9.  With eps = 0
    it is scale-invariant and does not converge linearly under a constant lr.

Equivalences
    optax.adam(eps_root=0) is the same formula (rounding differs); torch's Adam(amsgrad=True) is
    NOT optax.amsgrad (optax takes the max of the bias-corrected nu).

References
    D. P. Kingma, J. Ba (2015), Adam: A Method for Stochastic Optimization, ICLR; S. J. Reddi,
    S. Kale, S. Kumar (2018), On the Convergence of Adam and Beyond, ICLR (AMSGrad); PyTorch
    torch/optim/adam.py and issue #142323 (AMSGrad bias correction after the max).
"""
from .. import ops
from ..hyper import Flag, coefficient, learning_rate, nonnegative
from . import Rule

RULE = Rule(
    name="adam",
    hyper=(
        learning_rate(1e-3),
        coefficient("beta1", 0.9, "decay of the first-moment average (betas[0])", symbol=r"\beta_1"),
        coefficient("beta2", 0.999, "decay of the second-moment average (betas[1])", symbol=r"\beta_2"),
        nonnegative("eps", 1e-8, "added to sqrt(v_hat), outside the root", symbol=r"\epsilon"),
        nonnegative("weight_decay", 0.0, "coupled L2 penalty added to the gradient", symbol=r"\lambda"),
        Flag("amsgrad", False, "use the running maximum of v"),
    ),
    state=("x", "m", "v", "vmax"),
    linear=False,
    semantics="torch.optim.Adam exactly (maximize=False)",
    references=("Kingma & Ba (2015) ICLR", "Reddi, Kale, Kumar (2018) ICLR", "PyTorch torch/optim/adam.py"),
    order=70,
    preconditioner=("v", "vmax"),
    zero_by_default=("weight_decay",),
    linearize_excludes=("amsgrad",),  # max(vmax, v) has no zero-gradient inverse
    orbit=True,
    orbit_zero=("eps",),
)


def step(x, m, v, vmax, g, lr, beta1, beta2, eps, weight_decay, amsgrad, t):
    g = g + weight_decay * x
    m = m + (1 - beta1) * (g - m)
    v = beta2 * v + (1 - beta2) * g * g
    if amsgrad:
        vmax = ops.maximum(vmax, v)
        denom = ops.sqrt(vmax) / ops.sqrt(1 - beta2**t) + eps
    else:
        denom = ops.sqrt(v) / ops.sqrt(1 - beta2**t) + eps
    return (x - lr / (1 - beta1**t) * m / denom, m, v, vmax)
