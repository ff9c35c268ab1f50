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

import dataclasses

from ..hyper import nonnegative
from . import adam

# Adam's declarations (state, preconditioner, orbit, ...), but weight decay is decoupled and
# defaults to torch's 1e-2.
RULE = dataclasses.replace(
    adam.RULE,
    name="adamw",
    hyper=tuple(nonnegative("weight_decay", 1e-2, "decoupled decay: x <- x (1 - lr weight_decay)",
                            symbol=r"\lambda")
                if p.name == "weight_decay" else p for p in adam.RULE.hyper),
    semantics="torch.optim.AdamW exactly (maximize=False)",
    references=("Loshchilov & Hutter (2019) ICLR", "PyTorch torch/optim/adamw.py"),
    order=80,
    module=None,  # set by the registration
)


def step(x, m, v, vmax, g, lr, beta1, beta2, eps, weight_decay, amsgrad, t):
    return adam.step(x * (1 - lr * weight_decay), m, v, vmax, g, lr, beta1, beta2, eps, 0.0, amsgrad, t)
