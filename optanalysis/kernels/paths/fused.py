"""Fused steps: an open-loop diagonal problem, its loss summed only at the recorded steps and
every other step certified elementwise, several steps per pass over a block (``run_diag``)."""
import numpy as np
from numba import njit
from numba.np.unsafe.ndarray import to_fixed_tuple

from .binding import NHYPER, NPOW, NSTATE, _load, _powers_at, _round, _store
from .core import (BLOCK, FUSE, _OPTS, _accept, _advanced, _block_loss, _fails, _noise, _padded,
                   limits)
from .exact import _exact_diag

# A block of at most DEEP_BYTES per state row (two 64-byte vectors) runs DEEP steps per pass
# instead of two: its state makes one round trip through memory per DEEP steps.  Fusing changes
# no bit: each step's result is rounded to the state's dtype as a store would round it.
DEEP = 8
DEEP_BYTES = 128


@njit(**_OPTS)
def _advance_fast(S, W, S0, h, xs, a, noisy, seed, hrow, lrs, steps, t0, pwt, prow, b0, b1, cap,
                  rec_every, rloss, lt, NZ, xrec, record_x):
    """Coordinates b0..b1-1 over all steps of an open-loop run, the loss summed only at the
    recorded steps (added to ``rloss[r]``), every step checked against the certificate
    h_i (x_i - x*_i)^2 <= cap of :func:`limits`: an elementwise flag, no float64 sum, so the
    loop costs little more than the update.  Returns whether some step fails it (the caller
    then redoes the run on the exact path, which finds the step).

    The block runs in the calling thread's own buffer ``W`` (from :func:`_block_buffer`),
    copied from the initial state ``S0`` and, if no step fails, into ``S`` at the end: threads
    whose blocks meet inside a cache line of ``S`` would otherwise both write that line at
    every step, and a problem's state rows, d apart in ``S``, may alias modulo 4 KiB.  The
    block's h and x* are copied beside it, and its lanes padded to a multiple of LANE_PAD with
    a zero state of a zero Hessian, which stays zero (a rule whose zero state gives NaN, e.g.
    eps = 0, fails the certificate there and takes the exact path): no coordinate is left to
    the scalar remainder of the vectorised loop, and no padding lane touches a real one.

    With ``FUSE`` (rules of at most two state arrays), steps are fused unless a record falls
    between them: each coordinate is loaded once, advanced several times (rounded to the
    state's dtype in between, as a store would: the same bits) and stored once.  Two steps
    per pass in general, DEEP for a block of at most DEEP_BYTES (see there); larger states are
    not fused.  The reasons for each choice, measured: benchmarks/README.md.
    """
    n = b1 - b0
    w = _padded(n)
    W[:, n:w] = 0
    W[:NSTATE, :n] = S0[:, b0:b1]
    W[NSTATE, :n] = h[b0:b1]
    W[NSTATE + 1, :n] = xs[b0:b1]
    hb, xsb = W[NSTATE], W[NSTATE + 1]
    NZ[:, n:w] = 0  # noise of the padding lanes (earlier blocks may have left values there)
    nz, nz2 = NZ[0], NZ[1]  # of steps k and k + 1
    # DEEP steps of one pass share their hyperparameters (lr constant, no tabulated powers)
    deep = FUSE and NPOW == 0 and lrs.size == 1 and w * W.itemsize <= DEEP_BYTES
    hrow2 = hrow.copy()
    r = 0
    next_rec = rec_every  # a countdown instead of t % rec_every: no integer division per step
    k = 0  # steps done
    # A constant lr's hyperparameters are made into a tuple once, not per pass (a store into
    # hrow and its reload on the critical path of a small block)
    hrow[0] = lrs[0]
    hp = to_fixed_tuple(hrow, NHYPER)
    while k < steps:
        if lrs.size > 1:
            hrow[0] = lrs[k]
            hp = to_fixed_tuple(hrow, NHYPER)
        pw = _powers_at(pwt, prow, k)
        tf = np.float64(t0 + k + 1)
        if noisy:
            _noise(a, seed, t0 + k, b0, n, nz)
        bad = False
        if deep and k + DEEP <= min(steps, next_rec):  # steps k .. k + DEEP - 1 together
            if noisy:
                for q in range(1, DEEP):
                    _noise(a, seed, t0 + k + q, b0, n, NZ[q])
            for j in range(w):
                i = np.uint64(j)
                s = _load(W, i)
                for q in range(DEEP):  # a constant trip count: unrolled
                    # t converted from the integer, as a single step converts it
                    s = _round(W, _advanced(s, i, hb, xsb, noisy, NZ[q, j], hp,
                                            np.float64(t0 + k + 1 + q), pw))
                    bad |= _fails(s[0], i, hb, xsb, cap)
                _store(W, i, s)
            k += DEEP
        elif FUSE and k + 1 < steps and k + 1 != next_rec:  # steps k and k + 1 together
            hp2 = hp
            if lrs.size > 1:
                hrow2[0] = lrs[k + 1]
                hp2 = to_fixed_tuple(hrow2, NHYPER)
            pw2 = _powers_at(pwt, prow, k + 1)
            tf2 = np.float64(t0 + k + 2)
            if noisy:
                _noise(a, seed, t0 + k + 1, b0, n, nz2)
            for j in range(w):
                i = np.uint64(j)  # unsigned: no negative-index wraparound, so the loop vectorises
                s = _round(W, _advanced(_load(W, i), i, hb, xsb, noisy, nz[j], hp, tf, pw))
                bad |= _fails(s[0], i, hb, xsb, cap)
                _store(W, i, _advanced(s, i, hb, xsb, noisy, nz2[j], hp2, tf2, pw2))
                bad |= _fails(W[0, i], i, hb, xsb, cap)
            k += 2
        else:
            for j in range(w):
                i = np.uint64(j)
                _store(W, i, _advanced(_load(W, i), i, hb, xsb, noisy, nz[j], hp, tf, pw))
                bad |= _fails(W[0, i], i, hb, xsb, cap)
            k += 1
        if bad:
            return True
        if k == next_rec:
            next_rec += rec_every
            r += 1
            rloss[r] += _block_loss(W[0], hb, xsb, 0, n, lt)
            if record_x:
                xrec[r, b0:b1] = W[0, :n]
    S[:, b0:b1] = W[:NSTATE, :n]
    return False


@njit(**_OPTS)
def _block_buffer(S):
    """A thread's buffer for one block's state, h and x* (rows NSTATE and NSTATE + 1; see
    :func:`_advance_fast`).  Its rows are BLOCK + 16 long: rows 4 KiB apart would put x_i and
    m_i at the same address modulo 4 KiB, where the CPU mistakes a load for one depending on an
    earlier store (4K aliasing)."""
    return np.empty((NSTATE + 2, BLOCK + 16), S.dtype)


@njit(**_OPTS)
def _problem_diag(S, S0, h, xs, a, noisy, seed, hrow, lrs, steps, t0, pwt, prow, closed, cp, cs,
                  interval, rec_every, cap_max, loss, lr_out, xrec, record_x):
    """One diagonal problem on one thread; returns the divergence step or -1.

    Open loop: the blocks run on the certified fast path; if one fails the certificate, the
    run is redone from the start with every step's loss summed (same recorded bits).
    """
    loss0, limit, cap = limits(S0[0], h, xs, cap_max)
    if record_x:
        xrec[0] = S0[0]
    if not closed:
        rloss = np.zeros(loss.size)
        lt = np.empty(BLOCK)
        NZ = np.zeros((DEEP, BLOCK), S.dtype)  # noise of the steps of a pass
        W = _block_buffer(S)
        tripped = False
        for b0 in range(0, h.size, BLOCK):
            if _advance_fast(S, W, S0, h, xs, a, noisy, seed, hrow, lrs, steps, t0, pwt, prow,
                             b0, min(b0 + BLOCK, h.size), cap, rec_every, rloss, lt, NZ,
                             xrec, record_x):
                tripped = True
                break
        if not tripped:
            return _accept(loss0, rloss, loss)
    return _exact_diag(S, S0, h, xs, a, noisy, seed, hrow, lrs, steps, t0, pwt, prow, closed, cp,
                       cs, interval, rec_every, loss0, limit, loss, lr_out, xrec, record_x)


@njit(nogil=True, **_OPTS)
def run_diag(S, S0, s0_row, h, xs, a, noisy, seeds, hp, lr_table, lr_row, steps, t0, pw_table,
             pw_rows, closed, cp, cs, interval, rec_every, cap_max, loss, lr_out, diverged, xrec,
             record_x, first, stride):
    """Problems ``first, first + stride, ...`` of the batch (``S[p]`` updated in place), diagonal
    Hessian ``h``.  ``nogil``: callers run one call per thread with ``stride`` = thread count.

    Per problem: ``seeds[p]`` (uint64), ``hp[p]``, the lrs ``lr_table[lr_row[p]]`` (open
    loop: one per step, or one for all ``steps``; the first is the base lr of a closed loop) or
    the plateau controller ``cp[p]``, ``cs[p]`` every ``interval[p]`` steps when ``closed[p]``,
    the tabulated powers of the rule (``rewrite.py``) in rows ``pw_rows[p]`` of ``pw_table``
    (see :func:`power_table`); outputs ``loss[p]``, ``diverged[p]``, the lrs of a closed loop
    in ``lr_out[p]`` (an open loop's are its lrs, read from the table) and, if ``record_x``,
    ``xrec[p]``.
    ``cap_max``: the largest float of the working dtype (see :func:`limits`).
    """
    for p in range(first, S.shape[0], stride):
        diverged[p] = _problem_diag(S[p], S0[s0_row[p]], h, xs, a, noisy, seeds[p], hp[p].copy(),
                                    lr_table[lr_row[p]], steps, t0, pw_table, pw_rows[p],
                                    closed[p], cp[p], cs[p], interval[p], rec_every, cap_max,
                                    loss[p], lr_out[p], xrec[p], record_x)
