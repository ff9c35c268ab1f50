"""The generic simulation loops, written once for every rule (a template, see ``build.py``).

``build.py`` copies this file into the kernel cache with the BINDING block replaced by one
rule's functions and sizes, so that the ``njit(cache=True)`` kernels below are plain
module-level functions of a real file (Numba's disk cache misses closures and functions passed
as arguments) whose globals ``_step``/``_grad_point`` are that rule's single definition (its
arithmetic routed through ``mixed.py``).  As written here the binding is ``gd``'s, so this file
is also a valid module.

Conventions shared by the kernels
    * one problem = one row of the batch arrays, computed by one thread, so its result does
      not depend on the thread count or on the other problems (threads: see
      ``optanalysis.simulate``; Python threads over ``nogil`` kernels instead of ``prange``,
      whose parfor lowering cost ~40% more CPU in every cold compilation); a large diagonal
      problem may instead share its coordinate blocks among threads (``run_diag_blocks``):
      blocks are independent and their losses are added in block order either way;
    * state ``S[p]`` is ``(NSTATE, d)`` in the working dtype, written from the initial state
      ``S0[s0_row[p]]`` (shared by the seeds of a parameter set; read only, so that a rerun can
      start again from it); hyperparameters ``hp[p]`` are
      float64 (torch's Python floats; ``mixed.py`` rounds them where they meet float32 values)
      in the rule's order, lr first, flags as 0.0/1.0; ``t`` is the 1-based step count, passed
      as a float (``beta**t`` is then libm ``pow`` as in Python, hoisted out of the coordinate
      loop by LLVM);
    * losses are float64 sums in a fixed order (``lane_sum`` per block, blocks in order),
      *recorded* every ``rec_every`` steps;
    * divergence at step K (first non-finite loss or loss > 1e30 max(1, loss_0)): the state is
      the one after step K, later losses, lrs and recorded iterates are NaN.  Every step is
      checked: an open-loop diagonal run sums its loss only at recorded steps and certifies the
      others elementwise (``limits``); a failed certificate reruns it with every loss summed.
      The plateau controller and dense Hessians sum the loss at every step.
"""
import numpy as np
from numba import njit
from numba.np.unsafe.ndarray import to_fixed_tuple

from optanalysis.kernels.noise import normal, step_key
from optanalysis.kernels.reduce import lane_sum
from optanalysis.schedules import plateau_update as _plateau_update

# BINDING START
from numba.extending import register_jitable

from optanalysis import ops
from optanalysis.kernels.mixed import (add as _add, cast_like as _cast_like, mul as _mul, pow as _pow,
                                       sub as _sub, truediv as _truediv)

# optanalysis.rules.gd's grad_point and step, as kernels/rewrite.py writes them
@register_jitable
def _grad_point(x, lr):
    return x


@register_jitable
def _step(x, g, lr, t, _pw):
    return (_sub(x, _mul(lr, g)),)


NPOW = 0
POW_BASES = ()


@register_jitable
def _exponent(j, t):
    """The exponent of tabulated power j at step t, as the rule writes it."""
    return np.nan


NSTATE = 1
NHYPER = 1
FLAGS = np.array([], np.int64)  # indices of the flag hyperparameters


@njit
def _load(S, i):
    return (S[0, i],)


@njit
def _store(S, i, s):
    S[0, i] = s[0]


@njit
def _round(S, s):
    return (_cast_like(s[0], S),)


@njit
def _powers_at(pwt, prow, k):
    return ()


@njit
def _hyper_lane(HP, LR, t, i, F):
    return (LR[t, i],)


@njit
def _powers_lane(PW, t, i):
    return ()
# BINDING END

# Coordinates advanced together: a block's state stays in cache while all its steps run, and a
# single problem of d > BLOCK spreads its blocks over the threads (run_diag_blocks).  512, not
# 1024: a d = 1e3 problem is then two blocks, on two threads (measured 1.6-1.9x faster; one
# thread, 512 and 1024 time alike, 256 ~5% slower).  The blocks fix the order in which
# the loss is summed, so this constant is part of every kernel's bits.
BLOCK = 512
FUSE = NSTATE <= 2  # two steps per pass over a block (see _advance_fast)
# A block of at most DEEP_BYTES per state row (two 64-byte vectors: 16 float64 or 32 float32
# lanes) runs DEEP steps per pass instead of two (_advance_fast): the state makes one round
# trip through memory per DEEP steps, and a small block is bound by that round trip and the
# latency of a step, not by arithmetic.  Measured, one heavy-ball problem of d = 10, run_diag:
# 6.6 -> 5.4 ns per step in float64, 5.9 -> 4.75 in float32 (a step's dependency chain alone:
# ~4.1 ns); 4 steps per pass 5.7 / 5.1, 16: 5.3 / 6.7.  Larger blocks are faster with two
# (float64 d = 24: 7.8 -> 8.2 ns per step; float32 d = 64: 9.8 -> 10.5).
DEEP = 8
DEEP_BYTES = 128
LANES = 1024  # lanes of a group of small problems (run_lanes)
LANE_PAD = 8  # a group's lane loop runs over a multiple of this many lanes (see run_lanes)
POWER_CHUNK = 4096  # steps of a tabulated power computed by one thread at a time
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


# b ** e is +0 where e log2(b) < this: the exact power is then below 2^-1100, under 2^-26 of the
# smallest subnormal 2^-1074, which a pow accurate to better than 1 - 2^-26 ulp (glibc's: 0.54)
# can only round to +0.  Calling pow there costs 70-110 ns instead of 10-30 (it raises the
# underflow by a multiplication whose result is 0, which x86 handles in microcode): an Adam
# run's beta2 = 0.999 powers from step 762081 on, and its beta1 = 0.9 ones from step 7237.
_UNDERFLOWED = -1100.0


@njit(nogil=True, **_OPTS)
def power_table(out, bases, j, t0, first, stride):
    """``out[r, k] = bases[r] ** _exponent(j, t0 + k + 1)`` for the columns k of chunks ``first,
    first + stride, ...`` of POWER_CHUNK steps (``t0``: the step count before column 0): the
    rule's tabulated power j (see ``rewrite.py``) by the rule's own ``_pow`` and exponent, so
    each value has the bits of the in-step ``pow`` it replaces (+0 without the call where it
    has underflowed, see ``_UNDERFLOWED``); computed once per distinct base, shared by the
    problems.  libm ``pow`` is the cost, so callers spread the chunks over threads like
    problems."""
    steps = out.shape[1]
    for c in range(first, -(-steps // POWER_CHUNK), stride):
        for r in range(bases.size):
            b = bases[r]
            lb = np.log2(b) if b > 0 else np.nan  # not for -0.0: (-0.0) ** 3 is -0.0
            # t counts in a float (exact below 2^53, else converted from the integer as the
            # steps convert it): the loop does not vectorise, which would call pow in every
            # lane and mask the result
            exact = t0 + steps < 2**53
            tf = np.float64(t0 + c * POWER_CHUNK)
            for k in range(c * POWER_CHUNK, min((c + 1) * POWER_CHUNK, steps)):
                tf = tf + 1.0 if exact else np.float64(t0 + k + 1)
                e = _exponent(j, tf)
                out[r, k] = 0.0 if e * lb < _UNDERFLOWED else _pow(b, e)


@njit(**_OPTS)
def _noise(a, seed, k, b0, n, nz):
    key = step_key(seed, k)
    for j in range(n):
        nz[j] = a[b0 + j] * normal(key, b0 + j)  # rounded to the working dtype here


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
    kernel's h_i (x_i - x*_i)^2 to float64 (measured 1.8x slower)."""
    e = x - xs[i]
    return not (h[i] * e * e <= _cast_like(cap, h))


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
    every step, and a problem's state rows, d apart in ``S``, may alias modulo 4 KiB.
    Measured with blocks of 256 at d = 1e3, one thread: heavy ball float32 0.22 -> 0.12 ns,
    Adam float32 0.79 -> 0.45 ns per element-step.  The block's h and x* are copied beside
    it, and its lanes padded to a multiple of LANE_PAD with a zero state of a zero Hessian,
    which stays zero (a rule whose zero state gives NaN, e.g. eps = 0, fails the certificate
    there and takes the exact path): no coordinate is left to the scalar remainder of the
    vectorised loop (measured, one heavy-ball problem of d = 10: 10.4 -> 6.9 ns per step
    in float64, 9.9 -> 6.1 in float32).

    With ``FUSE`` (rules of at most two state arrays), steps are fused unless a record falls
    between them: each coordinate is loaded once, advanced several times (rounded to the
    state's dtype in between, as a store would) and stored once.  Two steps per pass in
    general (measured: heavy ball float32 at d = 1e3 0.101 -> 0.078 ns per element-step; Adam,
    whose doubled loop body no longer fits the registers, 0.56 -> 0.74 ns, hence no fusion for
    larger states); DEEP steps per pass for a block of at most DEEP_BYTES (see there).
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
    # A constant lr's hyperparameters are made into a tuple once: made per pass (a store into
    # hrow and its reload), they cost ~0.4 ns per step at d = 10 (float64 5.65 -> 5.2 ns).
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


@njit(**_OPTS)
def _accept(loss0, rloss, loss):
    """Outputs of a certified open-loop run (no divergence)."""
    loss[0] = loss0
    loss[1:] = rloss[1:]
    return -1


@njit(**_OPTS)
def _matvec(M, v, out):
    """out = M v with a sequential float64 sum per row (fixed order), rounded to out's dtype."""
    for i in range(M.shape[0]):
        acc = 0.0
        for j in range(M.shape[1]):
            acc += np.float64(M[i, j]) * np.float64(v[j])
        out[i] = acc


@njit(**_OPTS)
def _loss_dense(x, H, xs, e, r):
    for i in range(x.size):
        e[i] = np.float64(x[i]) - np.float64(xs[i])
    _matvec(H, e, r)
    total = 0.0
    for i in range(x.size):
        total += e[i] * r[i]
    return 0.5 * total


@njit(**_OPTS)
def _problem_dense(S, S0, H, xs, A, noisy, seed, hrow, lrs, steps, t0, pwt, prow, closed, cp, cs,
                   interval, rec_every, loss, lr_out, xrec, record_x):
    """One problem with a dense Hessian (noise A z, A A^T = covariance); divergence step or -1."""
    d = xs.size
    y = np.empty(d, S.dtype)
    g = np.empty(d, S.dtype)
    nz = np.zeros(d, S.dtype)
    z = np.empty(d)
    e = np.empty(d)
    r = np.empty(d)
    part = np.zeros(steps)
    S[:] = S0
    loss0 = _loss_dense(S[0], H, xs, e, r)
    limit = _divergence_limit(loss0)
    if record_x:
        xrec[0] = S[0]
    K = steps
    lr = lrs[0]
    for k in range(steps):
        if closed:
            lr_out[k] = lr
        else:
            lr = _lr_at(lrs, k)
        hrow[0] = lr
        hp = to_fixed_tuple(hrow, NHYPER)
        t = k + 1
        tf = np.float64(t0 + t)
        for i in range(d):
            y[i] = _grad_point(*_load(S, i), *hp) - xs[i]
        _matvec(H, y, g)
        if noisy:
            key = step_key(seed, t0 + k)
            for j in range(d):
                z[j] = normal(key, j)
            _matvec(A, z, nz)
        for i in range(d):
            gi = g[i] + nz[i] if noisy else g[i]
            _store(S, i, _step(*_load(S, i), gi, *hp, tf, _powers_at(pwt, prow, k)))
        part[k] = _loss_dense(S[0], H, xs, e, r)
        if record_x and t % rec_every == 0:
            xrec[t // rec_every] = S[0]
        if not part[k] <= limit:
            K = k + 1
            break
        if closed and t % interval == 0:
            lr = _plateau_update(cp, cs, part[k], lr)
    return _finish(loss0, part, K, rec_every, loss, lr_out, xrec, record_x)


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

    One problem of small d is a latency chain (each step waits for the previous one, ~4 ns
    for heavy ball here, whatever d); a group lays its problems' coordinates side by side as
    lanes, each with its problem's hyperparameters, lr and powers, so the step loop vectorises
    across problems.  Lanes are independent and run the coordinate's own arithmetic
    (``_advanced``; two steps per pass with ``FUSE``, as :func:`_advance_fast`), the loss of a
    problem is ``_block_loss`` of its d lanes in order, and a problem that fails the certificate
    is redone alone on the exact path: each problem has the bits of :func:`run_diag`, whatever
    the grouping and the thread count.  ``lr_const[r]``: row r of ``lr_table`` is constant
    (a group of constant rows fills its lanes' lrs once, not every step).  The lane loop runs
    over a multiple of ``LANE_PAD`` lanes, the extra ones parked (as a tripped problem's are),
    so that no lane is left to the scalar remainder of the vectorised loop (measured: two
    heavy-ball problems of d = 10, 20 lanes, 0.71 -> 0.46 ns per element-step).
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


@njit(nogil=True, **_OPTS)
def run_dense(S, S0, s0_row, H, xs, A, noisy, seeds, hp, lr_table, lr_row, steps, t0, pw_table,
              pw_rows, closed, cp, cs, interval, rec_every, loss, lr_out, diverged, xrec, record_x,
              first, stride):
    """As :func:`run_diag` with a dense Hessian ``H`` and noise ``A z`` (A A^T = covariance)."""
    for p in range(first, S.shape[0], stride):
        diverged[p] = _problem_dense(S[p], S0[s0_row[p]], H, xs, A, noisy, seeds[p], hp[p].copy(),
                                     lr_table[lr_row[p]], steps, t0, pw_table, pw_rows[p],
                                     closed[p], cp[p], cs[p], interval[p], rec_every, loss[p],
                                     lr_out[p], xrec[p], record_x)
