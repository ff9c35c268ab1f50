"""What every execution path shares: sizes, the loss and its summation order, the divergence
test and its certificate, one coordinate's step, the recorded outputs.
"""
import numpy as np
from numba import njit

from optanalysis.kernels.mixed import cast_like as _cast_like
from optanalysis.kernels.noise import fill_normals, step_key
from optanalysis.kernels.reduce import lane_sum

from .binding import NSTATE, _grad_point, _step

# Coordinates advanced together: a block's state stays in cache while all its steps run, and a
# single problem of d > BLOCK spreads its blocks over the threads (run_diag_blocks).  The blocks
# fix the order in which the loss is summed, so this constant is part of every kernel's bits
# (its value: benchmarks/README.md).
BLOCK = 512
FUSE = NSTATE <= 2  # steps fused per pass over a block (fused.py, lanes.py)
LANE_PAD = 8  # vectorised loops run over a multiple of this many lanes (fused.py, lanes.py)
_OPTS = dict(cache=True, error_model="numpy")  # numpy model: division never branches or raises


@njit(**_OPTS)
def _padded(lanes):
    """``lanes`` rounded up to a multiple of LANE_PAD."""
    return -(-lanes // LANE_PAD) * LANE_PAD


@njit(**_OPTS)
def _lr_at(lrs, k):
    """The lr of step k: ``lrs`` holds one per step, or a single one for a constant lr (a run
    of 1e7 steps then reads no 80 MB table)."""
    return lrs[min(k, lrs.size - 1)]


@njit(**_OPTS)
def _elem_loss(x, h, xs):
    """One coordinate's float64 loss term: the one expression every path sums (same bits)."""
    e = np.float64(x) - np.float64(xs)
    return 0.5 * np.float64(h) * e * e


@njit(**_OPTS)
def _block_loss(x, h, xs, b0, n, lt):
    """Loss of coordinates b0..b0+n-1 (n <= BLOCK): ``lane_sum`` of their terms."""
    ub = np.uint64(b0)
    for j in range(n):
        i = ub + np.uint64(j)
        lt[j] = _elem_loss(x[i], h[i], xs[i])
    return lane_sum(lt, n)


@njit(**_OPTS)
def _loss_diag(x, h, xs, lt):
    """The loss: block losses added in block order (as every kernel path adds them)."""
    total = 0.0
    for b0 in range(0, h.size, BLOCK):
        total += _block_loss(x, h, xs, b0, min(BLOCK, h.size - b0), lt)
    return total


@njit(**_OPTS)
def _divergence_limit(loss0):
    """A run diverges at the first step whose loss is non-finite or above this."""
    return 1e30 * max(1.0, loss0)


@njit(**_OPTS)
def limits(x, h, xs, cap_max):
    """(initial loss, divergence limit, certificate bound ``cap``) of a diagonal problem.

    A step is certified without summing its loss when every h_i (x_i - x*_i)^2, computed in
    the working dtype, is <= cap = limit / d: the float64 loss is then <= limit/2 (1 + O(eps))
    < limit.  ``cap_max`` (the dtype's largest float) keeps cap finite, so an overflow fails.
    """
    loss0 = _loss_diag(x, h, xs, np.empty(BLOCK))
    limit = _divergence_limit(loss0)
    cap = np.empty(1, x.dtype)
    cap[0] = min(limit / h.size, cap_max)  # rounded to the dtype: within the factor-2 margin
    return loss0, limit, cap[0]


@njit(**_OPTS)
def _noise(a, seed, k, b0, n, nz):
    """The noise of coordinates b0..b0+n-1 at step k into ``nz``: ``a`` times the standard
    normals, rounded to the working dtype."""
    fill_normals(step_key(seed, k), b0, n, nz, a)


@njit(**_OPTS)
def _advanced(s, i, h, xs, noisy, nzj, hp, tf, pw):
    """Coordinate i's state ``s`` after one step (gradient h (y - x*) at the rule's point y)."""
    g = h[i] * (_grad_point(*s, *hp) - xs[i])
    if noisy:
        g = g + nzj
    return _step(*s, g, *hp, tf, pw)


@njit(**_OPTS)
def _fails(x, i, h, xs, cap):
    """The certificate of :func:`limits` fails at coordinate i (NaN fails too).  ``cap`` is
    compared in h's dtype (exactly: :func:`limits` makes it a value of that dtype), whatever
    its type here (a Python float from ``simulate``): a float64 ``cap`` would widen a float32
    kernel's h_i (x_i - x*_i)^2 to float64, at half the SIMD width."""
    e = x - xs[i]
    return not (h[i] * e * e <= _cast_like(cap, h))


@njit(**_OPTS)
def _finish(loss0, part, K, rec_every, loss, lr_out, xrec, record_x):
    """Record the per-step losses; NaN after a divergence at step K (K == steps: none), in the
    losses, the recorded iterates and ``lr_out`` (which may be empty: an open loop's lrs are
    its schedule's)."""
    steps = part.size
    loss[0] = loss0
    for r in range(1, loss.size):
        k = r * rec_every
        loss[r] = part[k - 1] if k <= K else np.nan
        if record_x and k > K:
            xrec[r] = np.nan
    lr_out[K:] = np.nan
    return K if K < steps else -1


@njit(**_OPTS)
def _accept(loss0, rloss, loss):
    """Outputs of a certified open-loop run (no divergence)."""
    loss[0] = loss0
    loss[1:] = rloss[1:]
    return -1
