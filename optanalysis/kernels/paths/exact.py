"""Exact single steps: every step's loss summed, one step at a time (the plateau controller,
whose next lr depends on this step's loss), or all steps of a block in a row (an open-loop run
whose certificate failed, then a replay to the divergence step)."""
import numpy as np
from numba import njit
from numba.np.unsafe.ndarray import to_fixed_tuple

from optanalysis.kernels.reduce import lane_sum
from optanalysis.schedules import plateau_update as _plateau_update

from .binding import NHYPER, _load, _powers_at, _store
from .core import BLOCK, _OPTS, _advanced, _elem_loss, _finish, _lr_at, _noise


@njit(**_OPTS)
def _advance_exact(S, h, xs, a, noisy, seed, hrow, lrs, pwt, prow, b0, b1, k0, k1, t0, part, lt,
                   nz, xrec, rec_every, record_x):
    """Coordinates b0..b1-1 from step k0 to k1 of a run started at step count ``t0``; adds each
    step's block loss to ``part[k]``."""
    n = b1 - b0
    ub = np.uint64(b0)
    for k in range(k0, k1):
        hrow[0] = _lr_at(lrs, k)
        hp = to_fixed_tuple(hrow, NHYPER)
        pw = _powers_at(pwt, prow, k)
        t = k + 1
        tf = np.float64(t0 + t)
        if noisy:
            _noise(a, seed, t0 + k, b0, n, nz)
        for j in range(n):
            i = ub + np.uint64(j)  # unsigned: no negative-index wraparound, so the loop vectorises
            _store(S, i, _advanced(_load(S, i), i, h, xs, noisy, nz[j], hp, tf, pw))
            lt[j] = _elem_loss(S[0, i], h[i], xs[i])
        part[k] += lane_sum(lt, n)
        if record_x and t % rec_every == 0:
            xrec[t // rec_every, b0:b1] = S[0, b0:b1]


@njit(**_OPTS)
def _exact_diag(S, S0, h, xs, a, noisy, seed, hrow, lrs, steps, t0, pwt, prow, closed, cp, cs,
                interval, rec_every, loss0, limit, loss, lr_out, xrec, record_x):
    """A diagonal problem with the loss summed at every step; returns the divergence step or -1.
    A closed loop writes the lr of each step into ``lr_out``; an open loop's are ``lrs``.

    The path of the plateau controller (the lr of the next steps depends on this step's loss,
    so all blocks advance one step at a time) and of an open-loop run that failed the
    certificate (each block runs all its steps while in cache, then a replay to the exact
    divergence step).
    """
    d = h.size
    lt = np.empty(BLOCK)
    nz = np.zeros(BLOCK, S.dtype)
    part = np.zeros(steps)
    K = steps
    S[:] = S0
    if closed:
        lr = lrs[0]
        for k in range(steps):
            lr_out[k] = lr
            for b0 in range(0, d, BLOCK):
                _advance_exact(S, h, xs, a, noisy, seed, hrow, lr_out, pwt, prow, b0,
                               min(b0 + BLOCK, d), k, k + 1, t0, part, lt, nz, xrec, rec_every,
                               record_x)
            if not part[k] <= limit:  # also catches NaN
                K = k + 1
                break
            if (k + 1) % interval == 0:
                lr = _plateau_update(cp, cs, part[k], lr)
    else:
        for b0 in range(0, d, BLOCK):
            _advance_exact(S, h, xs, a, noisy, seed, hrow, lrs, pwt, prow, b0, min(b0 + BLOCK, d),
                           0, steps, t0, part, lt, nz, xrec, rec_every, record_x)
        for k in range(steps):
            if not part[k] <= limit:
                K = k + 1
                break
        if K < steps:  # replay to step K exactly, so that the state is the one at divergence
            S[:] = S0
            part[:] = 0.0
            for b0 in range(0, d, BLOCK):
                _advance_exact(S, h, xs, a, noisy, seed, hrow, lrs, pwt, prow, b0,
                               min(b0 + BLOCK, d), 0, K, t0, part, lt, nz, xrec, rec_every,
                               record_x)
    return _finish(loss0, part, K, rec_every, loss, lr_out, xrec, record_x)
