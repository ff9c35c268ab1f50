"""AdaBelief with optax.adabelief semantics, exactly (eps_root accumulates in the state).

Algorithm (optax/_src/transform.py scale_by_belief; alias.py adabelief)
    m <- (1 - b1) g + b1 m
    s <- (1 - b2)(g - m)^2 + b2 s + eps_root       (of the NEW m; eps_root is stored every step)
    m_hat = m/(1 - b1^t)   (nesterov: b1 m/(1 - b1^(t+1)) + (1 - b1) g/(1 - b1^t))
    s_hat = s/(1 - b2^t)
    x <- x - lr_t m_hat/(sqrt(s_hat) + eps)         (eps outside the root)
    optax's defaults are eps = eps_root = 1e-16.

Theoretical guarantee on quadratics
    Nonlinear.  With s frozen it is Adam's frozen-preconditioner map (heavy ball on P^-1 H with
    lr (1 - b1) lr and momentum b1, P = sqrt(s_hat) + eps).  On a deterministic quadratic the
    "belief" g - m shrinks as the iterates converge, so P -> sqrt(eps_root t/(1 - b2^t)) + eps:
    the effective step grows as the run converges (unlike Adam's, whose v tracks g^2).

Equivalences
    Adam with v replaced by the EMA of (g - m)^2; no fixed-hyperparameter identity with another
    rule, none is declared.

References
    J. Zhuang, T. Tang, Y. Ding, S. Tatikonda, N. Dvornek, X. Papademetris, J. Duncan (2020),
    AdaBelief Optimizer: Adapting Stepsizes by the Belief in Observed Gradients, NeurIPS;
    optax/_src/transform.py scale_by_belief (0.2.8).
"""
from .. import ops
from ..hyper import Flag, coefficient, learning_rate, nonnegative
from . import Rule

RULE = Rule(
    name="adabelief",
    hyper=(
        learning_rate(1e-3),
        coefficient("b1", 0.9, "decay of the first-moment average", symbol=r"\beta_1"),
        coefficient("b2", 0.999, "decay of the belief average", symbol=r"\beta_2"),
        nonnegative("eps", 1e-16, "added to the root (optax default 1e-16)", symbol=r"\epsilon"),
        nonnegative("eps_root", 1e-16, "added to the stored s every step", symbol=r"\bar{\epsilon}"),
        Flag("nesterov", False, "Nesterov (NAdam) form of the first moment"),
    ),
    state=("x", "m", "s"),
    linear=False,
    semantics="optax.adabelief exactly",
    references=("Zhuang et al. (2020) NeurIPS", "optax/_src/transform.py scale_by_belief"),
    order=94,
    preconditioner=("s",),
    zero_by_default=("eps_root",),
)


def step(x, m, s, g, lr, b1, b2, eps, eps_root, nesterov, t):
    m = (1 - b1) * g + b1 * m
    d = g - m
    s = (1 - b2) * (d * d) + b2 * s + eps_root
    if nesterov:
        m_hat = b1 * (m / (1 - b1 ** (t + 1))) + (1 - b1) * (g / (1 - b1**t))
    else:
        m_hat = m / (1 - b1**t)
    return (x + -lr * (m_hat / (ops.sqrt(s / (1 - b2**t)) + eps)), m, s)
