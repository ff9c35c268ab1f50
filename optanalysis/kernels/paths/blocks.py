"""Shared blocks: one large open-loop diagonal problem whose coordinate blocks are spread over
the threads, with the bits of ``run_diag`` (blocks are independent; losses added in block
order)."""
import numpy as np
from numba import njit

from .core import BLOCK, _OPTS, _accept
from .exact import _exact_diag
from .fused import DEEP, _advance_fast, _block_buffer


@njit(nogil=True, **_OPTS)
def run_diag_blocks(S, S0, h, xs, a, noisy, seed, hp, lrs, steps, t0, pwt, prow, cap, rec_every,
                    rloss, trips, xrec, record_x, first, stride):
    """Blocks ``first, first + stride, ...`` of ONE open-loop diagonal problem (state ``S``) on
    the certified fast path, so that one large problem uses every thread: block b adds its
    recorded losses to ``rloss[b]`` (zeros on entry) and sets ``trips[b]``; then
    :func:`finish_diag_blocks`.  Blocks are independent, so this equals :func:`run_diag`."""
    lt = np.empty(BLOCK)
    NZ = np.zeros((DEEP, BLOCK), S.dtype)
    W = _block_buffer(S)
    hrow = hp.copy()
    for b in range(first, trips.size, stride):
        b0 = b * BLOCK
        trips[b] = _advance_fast(S, W, S0, h, xs, a, noisy, seed, hrow, lrs, steps, t0, pwt, prow,
                                 b0, min(b0 + BLOCK, h.size), cap, rec_every, rloss[b], lt, NZ,
                                 xrec, record_x)


@njit(**_OPTS)
def finish_diag_blocks(S, S0, h, xs, a, noisy, seed, hp, lrs, steps, t0, pwt, prow, rec_every,
                       loss0, limit, rloss, trips, loss, xrec, record_x):
    """After :func:`run_diag_blocks`: the block losses summed in block order (the order of
    :func:`run_diag`, hence its bits) or, if a block failed the certificate, the exact rerun
    from ``S0``.  Returns the divergence step or -1."""
    if record_x:
        xrec[0] = S0[0]
    if not trips.any():
        total = np.zeros(loss.size)
        for b in range(trips.size):
            total += rloss[b]
        return _accept(loss0, total, loss)
    none = np.zeros(0)
    return _exact_diag(S, S0, h, xs, a, noisy, seed, hp.copy(), lrs, steps, t0, pwt, prow, False,
                       none, none, 1, rec_every, loss0, limit, loss, none, xrec, record_x)
