"""Slow, obviously-correct references for the kernel tests (tests only, never the package).

A plain Python loop over steps that calls the rule's own ``step`` on NumPy arrays, with the loss
and the gradient written out directly.  The gradient noise uses the package's counter-based
normal generator (checked separately for its moments), so noisy runs can be compared exactly.
"""
import numpy as np

from optanalysis.kernels.noise import normal, step_key


def noise_vector(seed, step, d):
    """z ~ N(0, I_d) of one step, element by element from the counter-based generator."""
    key = np.uint64(step_key(seed, step))
    return np.array([normal(key, i) for i in range(d)])


def loss(x, xstar, h=None, H=None):
    e = np.asarray(x, dtype=np.float64) - np.asarray(xstar, dtype=np.float64)
    if h is not None:
        return float(np.sum(0.5 * np.asarray(h, dtype=np.float64) * e * e))
    return float(0.5 * e @ (np.asarray(H, dtype=np.float64) @ e))


def run(rule, params, *, x0, lrs, xstar, h=None, H=None, scale=None, seed=0, dtype=np.float64,
        state0=None, t0=0):
    """Run ``rule`` with the per-step learning rates ``lrs`` on the diagonal (``h``) or dense
    (``H``) quadratic; ``scale`` is the noise scale (vector for diagonal H, matrix for dense).
    ``state0``: the initial state (rows in ``rule.state`` order) instead of ``rule.init(x0)``;
    ``t0``: steps already taken (step k counts t = t0 + k + 1 and draws the noise of t0 + k).

    Returns (losses after steps 0..K, final state tuple, K if diverged else None), K the first
    step whose loss is non-finite or > 1e30 max(1, loss_0).
    """
    dt = np.dtype(dtype).type
    # Hyperparameters as Python floats, as torch passes them: NumPy (NEP 50) rounds them to
    # float32 where they meet a float32 array and keeps scalar expressions in float64.
    vals = [v if isinstance(v, bool) else float(v) for v in rule.values(params)]
    xs = np.asarray(xstar, dtype=dt)
    hd = None if h is None else np.asarray(h, dtype=dt)
    Hd = None if H is None else np.asarray(H, dtype=dt)
    if state0 is None:
        state0 = rule.init(np.asarray(x0, dtype=dt), *vals)
    state = tuple(np.array(np.broadcast_to(s, xs.shape), dtype=dt) for s in state0)
    losses = [loss(state[0], xs, hd, Hd)]
    limit = 1e30 * max(1.0, losses[0])
    for k, lr in enumerate(lrs):
        hp = [float(lr)] + vals[1:]
        e = rule.grad_point(*state, *hp) - xs
        g = hd * e if hd is not None else (Hd.astype(np.float64) @ e.astype(np.float64)).astype(dt)
        if scale is not None:
            z = noise_vector(seed, t0 + k, xs.size)
            g = g + (scale * z if np.ndim(scale) == 1 else scale @ z).astype(dt)
        with np.errstate(all="ignore"):
            state = tuple(np.asarray(s, dtype=dt) for s in rule.step(*state, g, *hp, t0 + k + 1))
            losses.append(loss(state[0], xs, hd, Hd))
        if not losses[-1] <= limit:
            return np.array(losses), state, k + 1
    return np.array(losses), state, None
