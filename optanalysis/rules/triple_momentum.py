"""The triple momentum method (TMM) of Van Scoy, Freeman & Lynch (2018).

Algorithm (Van Scoy, Freeman, Lynch 2018, Eq. (3), output point omitted)
    y_t = x_t + gamma (x_t - x_{t-1})                   (where the gradient is evaluated)
    x_{t+1} = x_t + beta (x_t - x_{t-1}) - lr_t grad f(y_t),   x_{-1} = x_0
    Three momentum-like coefficients: beta (the step), gamma (the gradient point) and delta (the
    output x_t + delta (x_t - x_{t-1}), a fixed combination of the state, omitted here: on a
    quadratic it converges at the same rate).

Theoretical guarantee on quadratics
    Per eigen-direction: z^2 - (1 + beta - lr h (1 + gamma)) z + beta - lr h gamma.  The paper's
    tuning, rho = 1 - 1/sqrt(kappa), lr = (1 + rho)/L, beta = rho^2/(2 - rho),
    gamma = rho^2/((1 + rho)(2 - rho)), converges at the rate rho for every L-smooth,
    mu-strongly convex function, the fastest known such guarantee; on a quadratic its roots are
    {rho, rho^2} at h = mu and {-rho, 0} at h = L, which the declared tuning below asks SymPy to
    solve for.  On quadratics heavy ball's (sqrt(kappa) - 1)/(sqrt(kappa) + 1) is faster.
    gamma = 0 is heavy ball, gamma = beta is Nesterov.

Equivalences
    Declared and proven: heavy ball at gamma = 0, Nesterov at gamma = beta.

References
    B. Van Scoy, R. A. Freeman, K. M. Lynch (2018), The Fastest Known Globally Convergent
    First-Order Method for Minimizing Strongly Convex Functions, IEEE Control Syst. Lett. 2(1).
"""
from ..hyper import coefficient, learning_rate
from . import Equivalence, HyperSymbol, Rule, RootTuning

RULE = Rule(
    name="triple_momentum",
    hyper=(
        learning_rate(1e-3),
        coefficient("beta", 0.9, "weight of the previous displacement in the step", symbol=r"\beta"),
        coefficient("gamma", 0.9, "look-ahead of the gradient point", symbol=r"\gamma"),
    ),
    state=("x", "x_prev"),
    linear=True,
    semantics="Van Scoy, Freeman & Lynch (2018) Eq. (3) (no library class)",
    references=("Van Scoy, Freeman, Lynch (2018) IEEE Control Syst. Lett. 2(1)",),
    order=44,
    equivalences=(
        Equivalence("heavy_ball", fixed={"gamma": 0}, other_fixed={}, mapping={"momentum": "beta"}),
        Equivalence("nesterov", fixed={"gamma": HyperSymbol("beta")}, mapping={"momentum": "beta"}),
    ),
    tunings=(
        RootTuning("Van Scoy-Freeman-Lynch", "roots {r, r^2} at h = mu and {-r, 0} at h = L",
                   ("lr", "beta", "gamma"), at_mu=("r", "r**2"), at_L=("-r", "0")),
    ),
)


def init(x0, lr, beta, gamma):
    return (x0, x0)


def grad_point(x, x_prev, lr, beta, gamma):
    return x + gamma * (x - x_prev)


def step(x, x_prev, g, lr, beta, gamma, t):
    return (x + beta * (x - x_prev) - lr * g, x)
