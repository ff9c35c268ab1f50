"""Rprop (iRprop- without weight backtracking) with torch.optim.Rprop semantics, exactly.

Algorithm (torch/optim/rprop.py, ``_single_tensor_rprop``)::

    s = lr_1 at t = 1 (torch creates the per-coordinate step size at the first step)
    f = etaplus if g prev > 0;  etaminus if g prev < 0;  1 otherwise
    s <- clamp(s f, step_size_min, step_size_max)      (also at t = 1, where f = 1)
    g <- 0 where g prev < 0                            (after a sign flip: no move this step)
    x <- x - sign(g) s;   prev <- g                    (the zeroed gradient is stored, so the
                                                        step after a flip has f = 1)
    The gradient's magnitude is never used.

Theoretical guarantee on quadratics
    Nonlinear (sign-based).  Per coordinate the iterate moves by +-s towards the minimiser,
    s growing by etaplus while the sign holds; past the minimiser the sign flips, s shrinks by
    etaminus and the coordinate waits one step.  So |x - xstar| shrinks geometrically at the
    rate of the step size once oscillating, s_k ~ (etaminus etaplus)^(k/3) per flip-wait-move
    cycle, until s reaches step_size_min, where the coordinate oscillates with amplitude
    ~ step_size_min: no convergence to xstar beyond that floor.

Equivalences
    None with another rule: the update depends only on signs.

References
    M. Riedmiller, H. Braun (1993), A direct adaptive method for faster backpropagation
    learning: the RPROP algorithm, IEEE ICNN; C. Igel, M. Huesken (2000), Improving the Rprop
    learning algorithm (iRprop-); PyTorch torch/optim/rprop.py (2.13).
"""
from .. import ops
from ..hyper import Real, learning_rate, nonnegative, positive
from . import Rule

RULE = Rule(
    name="rprop",
    hyper=(
        learning_rate(1e-2),
        Real("etaminus", 0.5, 0.0, 1.0, low_open=True, high_open=True,
             doc="step-size factor after a sign flip (etas[0])", symbol=r"\eta^-"),
        Real("etaplus", 1.2, 1.0, low_open=True, doc="step-size factor while the sign holds (etas[1])",
             symbol=r"\eta^+"),
        nonnegative("step_size_min", 1e-6, "lower clamp of the step size (step_sizes[0])",
                    symbol=r"\Gamma_{\min}"),
        positive("step_size_max", 50.0, "upper clamp of the step size (step_sizes[1])",
                 symbol=r"\Gamma_{\max}"),
    ),
    state=("x", "prev", "s"),
    linear=False,
    semantics="torch.optim.Rprop exactly (maximize=False)",
    references=("Riedmiller & Braun (1993) IEEE ICNN", "Igel & Huesken (2000)", "PyTorch torch/optim/rprop.py"),
    constraints=((lambda p: p["step_size_min"] <= p["step_size_max"],
                  "step_size_min must be <= step_size_max"),),
    order=82,
    preconditioner=("s", "prev"),
)


def step(x, prev, s, g, lr, etaminus, etaplus, step_size_min, step_size_max, t):
    s = ops.where(ops.eq(t, 1), lr + 0 * s, s)  # lr in s's dtype (torch: full_like(g, lr))
    prod = g * prev
    flip = ops.gt(0, prod)
    # s times etaplus / etaminus / 1 (each product in s's dtype, as torch's float32 factors)
    s = ops.where(ops.gt(prod, 0), s * etaplus, ops.where(flip, s * etaminus, s))
    # clamp(s, min, max) = min(max(s, min), max), the min written with maximum (exact)
    s = -ops.maximum(-ops.maximum(s, step_size_min), -step_size_max)
    g = ops.where(flip, 0.0 * g, g)
    return (x - ops.sign(g) * s, g, s)
