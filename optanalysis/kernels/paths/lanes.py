"""SIMD lanes: open-loop noiseless diagonal problems of small d advanced side by side, each
with the bits it has alone (``run_lanes``)."""
import numpy as np
from numba import njit
from numba.np.unsafe.ndarray import to_fixed_tuple

from .binding import (FLAGS, NHYPER, NPOW, NSTATE, _hyper_lane, _load, _powers_lane, _round,
                      _store)
from .core import (BLOCK, FUSE, _OPTS, _advanced, _block_loss, _divergence_limit, _fails,
                   _lr_at, _padded, limits)
from .exact import _exact_diag
from .fused import _problem_diag

LANES = 1024  # lanes of a group of small problems (no effect on the bits: lanes are independent)


@njit(**_OPTS)
def _lanes_init(SL, HP, hl, xsl, live, loss0, S0, s0_row, h, xs, hp, cap_max, p0, m):
    """Lanes q d .. q d + d - 1 of a group hold problem p0 + q: its initial state, its
    hyperparameters and the diagonal problem; ``loss0[q]`` its initial loss.  Returns the
    group's certificate bound (the least of its problems', so it certifies each of them), or
    NaN if its problems' flags differ (the lanes share them).  Lanes m d onwards are padding."""
    d = h.size
    cap = np.inf
    for q in range(m):
        for f in FLAGS:
            if hp[p0 + q, f] != hp[p0, f]:
                return np.nan
        s0 = S0[s0_row[p0 + q]]
        loss0[q], _, c = limits(s0[0], h, xs, cap_max)
        cap = min(cap, c)
        for i in range(d):
            j = q * d + i
            SL[:, j] = s0[:, i]
            HP[:, j] = hp[p0 + q]
            hl[j], xsl[j] = h[i], xs[i]
            live[j] = True
    for j in range(m * d, SL.shape[1]):  # padding: parked as tripped lanes are
        SL[:, j] = 0
        HP[:, j] = hp[p0]
        hl[j], xsl[j] = 0, 0
        live[j] = False
    return cap


@njit(**_OPTS)
def _lanes_fill(LR, PW, t, k, lr, lr_table, lr_row, pw_table, pw_rows, p0, m, d):
    """Slot t of a pass: step k's tabulated powers of each problem in its lanes, and its lr if
    ``lr`` (else the lrs stay as filled: every lr row of the group is constant)."""
    for q in range(m):
        if lr:
            v = _lr_at(lr_table[lr_row[p0 + q]], k)
            for j in range(q * d, (q + 1) * d):
                LR[t, j] = v
        for n in range(NPOW):
            v = pw_table[pw_rows[p0 + q, n], k]
            for j in range(q * d, (q + 1) * d):
                PW[t, n, j] = v


@njit(**_OPTS)
def _lane_step(s, i, hl, xsl, zero, HP, LR, PW, F, t, tf):
    """Lane i's state ``s`` after one step, with slot t of the lrs and powers (no noise: ``zero``
    is in the working dtype, as a float64 one would widen the gradient to float64)."""
    return _advanced(s, i, hl, xsl, False, zero, _hyper_lane(HP, LR, t, i, F), tf,
                     _powers_lane(PW, t, i))


@njit(**_OPTS)
def _lanes_trip(SL, hl, xsl, fl, live, tripped, m, d):
    """Problems with a live lane that failed the certificate (``fl``) are tripped: they will be
    redone alone on the exact path.  Their lanes are parked at a zero state of a zero
    Hessian, where most rules stay finite, so that they stop failing (a parked lane that
    fails anyway is not live: it costs a scan, never a wrong trip)."""
    for q in range(m):
        for i in range(d):
            j = q * d + i
            tripped[q] |= live[j] and fl[j]
        if tripped[q]:
            for i in range(d):
                j = q * d + i
                live[j] = False
                SL[:, j] = 0
                hl[j], xsl[j] = 0, 0


@njit(nogil=True, **_OPTS)
def run_lanes(S, S0, s0_row, h, xs, a, seeds, hp, lr_table, lr_row, lr_const, steps, t0, pw_table,
              pw_rows, rec_every, cap_max, loss, diverged, xrec, first, stride):
    """Open-loop noiseless diagonal problems of small d, ``LANES // d`` at a time: groups
    ``first, first + stride, ...`` of the batch (arguments as :func:`run_diag`; no lr output:
    a problem's lrs are its row of ``lr_table``, NaN from its divergence step on).

    One problem of small d is a latency chain (each step waits for the previous one, whatever
    d); a group lays its problems' coordinates side by side as
    lanes, each with its problem's hyperparameters, lr and powers, so the step loop vectorises
    across problems.  Lanes are independent and run the coordinate's own arithmetic
    (``_advanced``; two steps per pass with ``FUSE``, as :func:`_advance_fast`), the loss of a
    problem is ``_block_loss`` of its d lanes in order, and a problem that fails the certificate
    is redone alone on the exact path: each problem has the bits of :func:`run_diag`, whatever
    the grouping and the thread count.  ``lr_const[r]``: row r of ``lr_table`` is constant
    (a group of constant rows fills its lanes' lrs once, not every step).  The lane loop runs
    over a multiple of ``LANE_PAD`` lanes, the extra ones parked (as a tripped problem's are),
    so that no lane is left to the scalar remainder of the vectorised loop.  Measurements:
    benchmarks/README.md.
    """
    n, d = S.shape[0], h.size
    m = max(1, LANES // d)
    w = _padded(m * d)
    SL = np.empty((NSTATE, w), S.dtype)
    hl, xsl = np.empty(w, h.dtype), np.empty(w, xs.dtype)
    HP = np.empty((NHYPER, w))
    LR = np.zeros((2, w))
    PW = np.zeros((2, max(NPOW, 1), w))
    fl = np.zeros(w, np.bool_)
    live = np.empty(w, np.bool_)
    loss0 = np.empty(m)
    tripped = np.empty(m, np.bool_)
    rloss = np.empty((m, loss.shape[1]))
    lt = np.empty(BLOCK)
    none = np.zeros(0)
    zero = np.zeros(1, S.dtype)[0]  # see _lane_step
    for g in range(first, -(-n // m), stride):
        p0 = g * m
        mg = min(m, n - p0)
        wg = _padded(mg * d)
        cap = _lanes_init(SL[:, :wg], HP[:, :wg], hl[:wg], xsl[:wg], live[:wg], loss0, S0, s0_row,
                          h, xs, hp, cap_max, p0, mg)
        if np.isnan(cap):  # mixed flags: one problem at a time
            for p in range(p0, p0 + mg):
                diverged[p] = _problem_diag(S[p], S0[s0_row[p]], h, xs, a, False, seeds[p],
                                            hp[p].copy(), lr_table[lr_row[p]], steps, t0, pw_table,
                                            pw_rows[p], False, none, none, 1, rec_every, cap_max,
                                            loss[p], none, xrec[p], False)
            continue
        F = to_fixed_tuple(hp[p0].copy(), NHYPER)
        varying = False
        for q in range(mg):
            varying |= not lr_const[lr_row[p0 + q]]
        for t in range(2):
            _lanes_fill(LR, PW, t, 0, True, lr_table, lr_row, pw_table, pw_rows, p0, mg, d)
        tripped[:] = False
        rloss[:] = 0.0
        next_rec = rec_every
        r = 0
        k = 0  # steps done
        while k < steps:
            two = FUSE and k + 1 < steps and k + 1 != next_rec
            if varying or NPOW:
                _lanes_fill(LR, PW, 0, k, varying, lr_table, lr_row, pw_table, pw_rows, p0, mg, d)
            tf = np.float64(t0 + k + 1)
            bad = False
            if two:
                if varying or NPOW:
                    _lanes_fill(LR, PW, 1, k + 1, varying, lr_table, lr_row, pw_table, pw_rows,
                                p0, mg, d)
                tf2 = np.float64(t0 + k + 2)
                for j in range(wg):
                    i = np.uint64(j)
                    s = _round(SL, _lane_step(_load(SL, i), i, hl, xsl, zero, HP, LR, PW, F, 0, tf))
                    f = _fails(s[0], i, hl, xsl, cap)
                    _store(SL, i, _lane_step(s, i, hl, xsl, zero, HP, LR, PW, F, 1, tf2))
                    f |= _fails(SL[0, i], i, hl, xsl, cap)
                    fl[j] = f
                    bad |= f
                k += 2
            else:
                for j in range(wg):
                    i = np.uint64(j)
                    _store(SL, i, _lane_step(_load(SL, i), i, hl, xsl, zero, HP, LR, PW, F, 0, tf))
                    f = _fails(SL[0, i], i, hl, xsl, cap)
                    fl[j] = f
                    bad |= f
                k += 1
            if bad:
                _lanes_trip(SL, hl, xsl, fl, live, tripped, mg, d)
            if k == next_rec:
                next_rec += rec_every
                r += 1
                for q in range(mg):
                    if not tripped[q]:
                        rloss[q, r] = _block_loss(SL[0], hl, xsl, q * d, d, lt)
        for q in range(mg):
            p = p0 + q
            if tripped[q]:
                diverged[p] = _exact_diag(S[p], S0[s0_row[p]], h, xs, a, False, seeds[p],
                                          hp[p].copy(), lr_table[lr_row[p]], steps, t0, pw_table,
                                          pw_rows[p], False, none, none, 1, rec_every, loss0[q],
                                          _divergence_limit(loss0[q]), loss[p], none, xrec[p],
                                          False)
            else:
                S[p] = SL[:, q * d:(q + 1) * d]
                loss[p, 0] = loss0[q]
                loss[p, 1:] = rloss[q, 1:]
                diverged[p] = -1
