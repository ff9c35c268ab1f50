"""Quasi-hyperbolic momentum (QHM), as in Ma & Yarats (2019) and the ``qhoptim`` package.

Algorithm (Ma & Yarats 2019, Eq. (3); qhoptim.pyt.QHM)
    buf <- momentum buf + (1 - momentum) g
    x   <- x - lr_t ((1 - nu) g + nu buf)
    an average of a plain gradient step and a momentum step (momentum = beta, nu = the
    immediate discount factor of the paper).

Theoretical guarantee on quadratics
    Per eigen-direction (a = lr h): z^2 - (1 + momentum - a (1 - nu momentum)) z
    + momentum (1 - a (1 - nu)).  Jury: stable iff 0 < a < 2(1 + momentum)/(1 + momentum
    - 2 nu momentum) (the condition momentum (1 - a (1 - nu)) > -1 follows from it; derived by
    ``optanalysis derive qhm``).  nu = 1 is heavy ball with lr (1 - momentum) lr
    (torch's dampened momentum), nu = 0 is gradient descent, nu = momentum is Nesterov with
    lr (1 - momentum) lr.  No setting beats heavy ball's optimal worst-case rate
    (sqrt(kappa) - 1)/(sqrt(kappa) + 1): QHM is a Krylov method with two states, and Polyak's
    tuning (nu = 1) attains the lower bound for quadratics.

Equivalences
    Declared and proven from the characteristic polynomials: gd at nu = 0 (the polynomial is
    (z - momentum)(z - 1 + lr h): the buffer's mode never reaches x; proven with momentum = 0,
    where it is a zero root; the trajectories are gd's for any momentum); heavy ball at nu = 1
    with lr -> (1 - momentum) lr; Nesterov at nu = momentum with lr -> (1 - momentum) lr.  The
    ``schedule_free_sgd`` rule with a constant weight c is QHM with nu = b1, momentum = 1 - c.

References
    J. Ma, D. Yarats (2019), Quasi-hyperbolic momentum and Adam for deep learning, ICLR;
    facebookresearch/qhoptim (qhoptim.pyt.QHM).
"""
from ..hyper import Real, coefficient, learning_rate
from . import Equivalence, HyperSymbol, RootTuning, Rule

RULE = Rule(
    name="qhm",
    hyper=(
        learning_rate(1e-3),
        coefficient("momentum", 0.999, "decay of the momentum buffer (beta)", symbol=r"\beta"),
        Real("nu", 0.7, 0.0, 1.0, doc="weight of the momentum buffer in the step", symbol=r"\nu"),
    ),
    state=("x", "buf"),
    linear=True,
    semantics="Ma & Yarats (2019) / qhoptim.pyt.QHM exactly (weight_decay=0)",
    references=("Ma & Yarats (2019) ICLR", "facebookresearch/qhoptim"),
    order=42,
    equivalences=(
        # nu = 0: x is gd whatever the momentum, but the unobserved buffer keeps its own root
        # (z - momentum) in the characteristic polynomial; with momentum = 0 it is a zero root
        Equivalence("gd", fixed={"nu": 0, "momentum": 0}),
        Equivalence("heavy_ball", fixed={"nu": 1}, solve_for=("lr", "momentum")),
        Equivalence("nesterov", fixed={"nu": HyperSymbol("momentum")}, solve_for=("lr", "momentum")),
    ),
    tunings=(
        RootTuning("Polyak (nu = 1)", "nu = 1; double roots at h = mu and h = L",
                   ("lr", "momentum"), at_mu=("r", "r"), at_L=("s", "s"), given=(("nu", "1"),)),
    ),
)


def step(x, buf, g, lr, momentum, nu, t):
    buf = momentum * buf + (1 - momentum) * g
    return (x - lr * ((1 - nu) * g + nu * buf), buf)
