"""RAdam with torch.optim.RAdam semantics, exactly (rectification switch, decoupled_weight_decay).

Algorithm (torch/optim/radam.py, ``_single_tensor_radam``)::

    decoupled: x <- x (1 - lr_t weight_decay); else g <- g + weight_decay x
    m <- m + (1 - beta1)(g - m);   v <- beta2 v + (1 - beta2) g^2
    rho_inf = 2/(1 - beta2) - 1;   rho_t = rho_inf - 2 t beta2^t/(1 - beta2^t)
    rho_t > 5:  r = sqrt((rho_t - 4)(rho_t - 2) rho_inf/((rho_inf - 4)(rho_inf - 2) rho_t))
                x <- x - lr_t m/(1 - beta1^t) * sqrt(1 - beta2^t)/(sqrt(v) + eps) * r
    otherwise:  x <- x - lr_t m/(1 - beta1^t)          (momentum SGD, v and eps unused)
    (eps is added to the root of the UNcorrected v.)  The switch depends on t and beta2 only:
    with beta2 = 0.999 steps 1-5 are unrectified; with beta2 <= 2/3 (rho_inf <= 5) no step is.

Theoretical guarantee on quadratics
    Nonlinear.  Unrectified steps are torch SGD momentum with dampening 1 - beta1 and lr
    lr/(1 - beta1^t) (a linear recurrence); the rectified step is Adam's with the preconditioner
    P = sqrt(v/(1 - beta2^t)) + eps/sqrt(1 - beta2^t), times r; as t -> oo, r -> 1 and, P frozen,
    the stability threshold is Adam's, lambda_max(P^-1 H) < (2 + 2 beta1)/((1 - beta1) lr).

Equivalences
    With beta2 <= 2/3 every step is the unrectified one: momentum SGD with bias correction, whose
    steady state (t -> oo) has heavy ball's characteristic polynomial with lr (1 - beta1) lr.
    As t -> oo the rectified step tends to torch Adam's (r -> 1).

References
    L. Liu, H. Jiang, P. He, W. Chen, X. Liu, J. Gao, J. Han (2020), On the Variance of the
    Adaptive Learning Rate and Beyond, ICLR; PyTorch torch/optim/radam.py (2.13).
"""
from .. import ops
from ..hyper import Flag, coefficient, learning_rate, nonnegative
from . import Rule

RULE = Rule(
    name="radam",
    hyper=(
        learning_rate(1e-3),
        coefficient("beta1", 0.9, "decay of the first-moment average (betas[0])", symbol=r"\beta_1"),
        coefficient("beta2", 0.999, "decay of the second-moment average (betas[1])", symbol=r"\beta_2"),
        nonnegative("eps", 1e-8, "added to sqrt(v) (uncorrected), outside the root", symbol=r"\epsilon"),
        nonnegative("weight_decay", 0.0, "L2 penalty (coupled, or decoupled if asked)", symbol=r"\lambda"),
        Flag("decoupled_weight_decay", False, "decay x by lr*weight_decay (RAdamW) instead of L2"),
    ),
    state=("x", "m", "v"),
    linear=False,
    semantics="torch.optim.RAdam exactly (maximize=False)",
    references=("Liu et al. (2020) ICLR", "PyTorch torch/optim/radam.py"),
    order=74,
    preconditioner=("v",),
    zero_by_default=("weight_decay",),
)


def step(x, m, v, g, lr, beta1, beta2, eps, weight_decay, decoupled_weight_decay, t):
    if decoupled_weight_decay:
        x = x * (1 - lr * weight_decay)
    else:
        g = g + weight_decay * x
    m = m + (1 - beta1) * (g - m)
    v = beta2 * v + (1 - beta2) * g * g
    bc2 = 1 - beta2**t
    m_hat = m / (1 - beta1**t)
    rho_inf = 2 / (1 - beta2) - 1
    rho_t = rho_inf - 2 * t * beta2**t / bc2
    rect = ops.gt(rho_t, 5)
    # both branches are evaluated (no branching on values): keep the unused one finite
    ratio = (ops.where(rect, (rho_t - 4) * (rho_t - 2) * rho_inf, 1)
             / ops.where(rect, (rho_inf - 4) * (rho_inf - 2) * rho_t, 1))
    adaptive = 1 / (ops.sqrt(v) + eps) * ops.sqrt(bc2)
    return (ops.where(rect, x - m_hat * lr * adaptive * ops.sqrt(ratio), x - m_hat * lr), m, v)
