"""NAdam with torch.optim.NAdam semantics, exactly (momentum_decay, decoupled_weight_decay).

Algorithm (torch/optim/nadam.py, ``_single_tensor_nadam``)::

    decoupled: x <- x (1 - lr_t weight_decay); else g <- g + weight_decay x
    mu_t = beta1 (1 - 0.5 * 0.96^(t psi)),  mu_{t+1} likewise       (psi = momentum_decay)
    mu_prod <- mu_prod * mu_t      (a 0-dim tensor of torch's default dtype: float32 unless
                                    torch.set_default_dtype(float64); ``float32_scalars``)
    m <- m + (1 - beta1)(g - m);   v <- beta2 v + (1 - beta2) g^2
    den = sqrt(v / (1 - beta2^t)) + eps                      (eps outside the root)
    x <- x - lr_t (1 - mu_t)/(1 - mu_prod) g/den - lr_t mu_{t+1}/(1 - mu_prod mu_{t+1}) m/den

Theoretical guarantee on quadratics
    Nonlinear.  With den frozen it is a Nesterov-type momentum method on den^-1 H: as t grows
    mu_t -> beta1 and mu_prod -> 0, so the step is x <- x - lr((1 - beta1) g + beta1 m)/den with
    m <- beta1 m + (1 - beta1) g, i.e. quasi-hyperbolic momentum with nu = beta1 (Nesterov's
    look-ahead written on the averaged gradient; Dozat 2016), preconditioned as Adam.

Equivalences
    Nesterov + Adam: with den frozen at P and t -> oo the update is the ``qhm`` rule with
    nu = momentum = beta1 and lr = lr/P (the same iteration matrix), which has Nesterov's
    characteristic polynomial with lr (1 - beta1)/P (declared as ``relations``, proven by
    ``optanalysis.symbolic.adaptive_relations``; listed by ``optanalysis derive nadam``).  This is a relation of the
    frozen-preconditioner steady state, not of the full nonlinear rule (bias corrections and the
    momentum warm-up mu_t differ at finite t).  optax.nadam is a different formula (the
    ``adam_optax`` rule with nesterov=true).

References
    T. Dozat (2016), Incorporating Nesterov Momentum into Adam, ICLR workshop; PyTorch
    torch/optim/nadam.py (2.13).
"""
from .. import ops
from ..hyper import Flag, coefficient, learning_rate, nonnegative
from . import Relation, Rule

# den = sqrt(v_new/(1 - beta2^t)) + eps frozen at P = Q + eps (at the minimiser v_new = beta2 v)
_FROZEN = {"v": "Q**2*(1 - beta2**t)/beta2", "mu_prod": "0"}  # mu_prod -> 0 as t -> oo
_STEADY = "den = sqrt(v_hat) + eps frozen at Q + eps, steady state t -> oo"

RULE = Rule(
    name="nadam",
    hyper=(
        learning_rate(2e-3),
        coefficient("beta1", 0.9, "decay of the first-moment average (betas[0])", symbol=r"\beta_1"),
        coefficient("beta2", 0.999, "decay of the second-moment average (betas[1])", symbol=r"\beta_2"),
        nonnegative("eps", 1e-8, "added to sqrt(v_hat), outside the root", symbol=r"\epsilon"),
        nonnegative("weight_decay", 0.0, "L2 penalty (coupled, or decoupled if asked)", symbol=r"\lambda"),
        nonnegative("momentum_decay", 4e-3, "psi in mu_t = beta1 (1 - 0.96^(t psi)/2)", symbol=r"\psi"),
        Flag("decoupled_weight_decay", False, "decay x by lr*weight_decay (NAdamW) instead of L2"),
        Flag("float32_scalars", True, "mu_prod held in float32 (torch's default dtype)"),
    ),
    state=("x", "m", "v", "mu_prod"),
    linear=False,
    semantics="torch.optim.NAdam exactly (maximize=False; float32_scalars as torch's default dtype)",
    references=("Dozat (2016) ICLR workshop", "PyTorch torch/optim/nadam.py"),
    order=72,
    preconditioner=("v", "mu_prod"),
    zero_by_default=("weight_decay",),
    linearize_excludes=("float32_scalars",),  # round32 has no symbolic form; mu_prod -> 0 either way
    relations=(  # Dozat (2016): "Nesterov + Adam"
        Relation("qhm", _STEADY, frozen=_FROZEN, fixed={"float32_scalars": False, "weight_decay": 0},
                 mapping={"nu": "beta1", "momentum": "beta1", "lr": "lr/(Q + eps)"}, steady=True),
        Relation("nesterov", _STEADY, frozen=_FROZEN,
                 fixed={"float32_scalars": False, "weight_decay": 0},
                 mapping={"lr": "lr*(1 - beta1)/(Q + eps)", "momentum": "beta1"}, steady=True),
    ),
)


def init(x0, lr, beta1, beta2, eps, weight_decay, momentum_decay, decoupled_weight_decay,
         float32_scalars):
    return (x0, 0 * x0, 0 * x0, 0 * x0 + 1)


def step(x, m, v, mu_prod, g, lr, beta1, beta2, eps, weight_decay, momentum_decay,
         decoupled_weight_decay, float32_scalars, t):
    if decoupled_weight_decay:
        x = x * (1 - lr * weight_decay)
    else:
        g = g + weight_decay * x
    mu = beta1 * (1 - 0.5 * 0.96 ** (t * momentum_decay))
    mu_next = beta1 * (1 - 0.5 * 0.96 ** ((t + 1) * momentum_decay))
    if float32_scalars:
        mu_prod = ops.round32(mu_prod * ops.round32(mu))
    else:
        mu_prod = mu_prod * mu
    m = m + (1 - beta1) * (g - m)
    v = beta2 * v + (1 - beta2) * g * g
    den = ops.sqrt(v / (1 - beta2**t)) + eps
    x = x + (-lr * (1 - mu) / (1 - mu_prod)) * g / den
    x = x + (-lr * mu_next / (1 - mu_prod * mu_next)) * m / den
    return (x, m, v, mu_prod)
