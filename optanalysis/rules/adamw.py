"""AdamW (decoupled weight decay) with torch.optim.AdamW semantics, exactly.

Algorithm (torch/optim/adamw.py; Adam(decoupled_weight_decay=True) in torch >= 2.7)
    x <- x (1 - lr_t weight_decay)      (with the scheduled lr, before the Adam step)
    then the Adam step of :mod:`optanalysis.rules.adam` with weight_decay = 0.

Theoretical guarantee on quadratics
    As Adam on f + (weight_decay / 2)|x|^2 only when the preconditioner is frozen to 1; otherwise
    the decay is not preconditioned (that is the point of decoupling).

Equivalences
    optax.adamw(lr, ..., weight_decay) computes the same update; its default weight_decay is 1e-4,
    torch's 1e-2.

References
    I. Loshchilov, F. Hutter (2019), Decoupled Weight Decay Regularization, ICLR; PyTorch
    torch/optim/adamw.py.
"""

from ..hyper import nonnegative
from . import Rule, adam

RULE = Rule(
    name="adamw",
    # Adam's declarations, but weight decay is decoupled and defaults to torch's 1e-2.
    hyper=tuple(nonnegative("weight_decay", 1e-2, "decoupled decay: x <- x (1 - lr weight_decay)")
                if p.name == "weight_decay" else p for p in adam.RULE.hyper),
    state=adam.RULE.state,
    linear=False,
    semantics="torch.optim.AdamW exactly (maximize=False)",
    references=("Loshchilov & Hutter (2019) ICLR", "PyTorch torch/optim/adamw.py"),
)

init = adam.init
grad_point = adam.grad_point


def step(x, m, v, vmax, g, lr, beta1, beta2, eps, weight_decay, amsgrad, t):
    return adam.step(x * (1 - lr * weight_decay), m, v, vmax, g, lr, beta1, beta2, eps, 0.0, amsgrad, t)
