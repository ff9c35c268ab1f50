"""Dense Hessians: the gradient H (y - x*) and the noise A z as fixed-order float64 products,
the loss summed at every step (``run_dense``): one problem at a time or, for a batch sharing H,
a group of problems advanced together.

Products (:func:`_matmul`): output i of M v is the float64 sum of M[j, i] v_j over j ascending,
built as axpy sweeps over M's contiguous rows (``acc += M[j] v_j``).  Each sweep is elementwise
over i, so LLVM vectorises it without reassociating any sum, and every output's order is fixed:
a problem's products have the same bits alone or in a group (a group only shares each block of
M's rows, in cache, among its problems).  This is row i of M v for the symmetric H
(``make_quadratic`` symmetrises it exactly); the noise is applied with A^T (``simulate`` passes
it contiguous).  BLAS is not used: its order depends on the build, threads and shapes.

The loss 1/2 sum_i e_i (H e)_i, e = x - x* in float64, i ascending, needs H e at every step.
When the rule's next gradient point y - x* equals e exactly (gd, heavy ball, Adam: y = x, in
float64), H e *is* that gradient's product: it is reused, one product per step serves both.
"""
import numpy as np
from numba import njit
from numba.np.unsafe.ndarray import to_fixed_tuple

from optanalysis.kernels.noise import fill_normals, step_key
from optanalysis.schedules import plateau_update as _plateau_update

from .binding import NHYPER, _grad_point, _load, _powers_at, _step, _store
from .core import _OPTS, _divergence_limit, _finish, _lr_at

# Rows of M added per sweep over the accumulator (unrolled below: 4 sequential adds per output),
# so the accumulator is loaded and stored once per 4 rows; the bits are those of 1 row a sweep.
_ROWS = 4


@njit(**_OPTS)
def _matmul(MT, V, acc, out):
    """Row b of out = M V[b] for each row b of V (``MT`` = M^T, C order): out[b, i] = sum over
    j ascending of MT[j, i] V[b, j], in float64 (``acc``), rounded to out's dtype.  Each block
    of rows of MT serves every b while it is in cache; row b's bits do not depend on the others."""
    G, d = V.shape
    acc[:] = 0.0
    j = 0
    while j + _ROWS <= d:
        m0, m1, m2, m3 = MT[j], MT[j + 1], MT[j + 2], MT[j + 3]
        for b in range(G):
            vb, ab = V[b], acc[b]
            v0, v1 = np.float64(vb[j]), np.float64(vb[j + 1])
            v2, v3 = np.float64(vb[j + 2]), np.float64(vb[j + 3])
            for i in range(d):
                a = ab[i] + np.float64(m0[i]) * v0
                a = a + np.float64(m1[i]) * v1
                a = a + np.float64(m2[i]) * v2
                ab[i] = a + np.float64(m3[i]) * v3
        j += _ROWS
    while j < d:
        mj = MT[j]
        for b in range(G):
            vj, ab = np.float64(V[b, j]), acc[b]
            for i in range(d):
                ab[i] += np.float64(mj[i]) * vj
        j += 1
    for b in range(G):
        for i in range(d):
            out[b, i] = acc[b, i]


@njit(**_OPTS)
def _matvec(MT, v, acc, out):
    """out = M v (``MT`` = M^T): :func:`_matmul` of one row."""
    d = v.size
    _matmul(MT, v.reshape((1, d)), acc.reshape((1, d)), out.reshape((1, d)))


@njit(**_OPTS)
def _losses_dense(E, R, b):
    """Problem b's loss 1/2 sum_i E[b, i] R[b, i] (e = x - x*, R = H e), i ascending."""
    total = 0.0
    for i in range(E.shape[1]):
        total += E[b, i] * R[b, i]
    return 0.5 * total


@njit(**_OPTS)
def _group_dense(S, S0, s0_row, H, xs, AT, noisy, seeds, hp, lr_table, lr_row, steps, t0, pwt,
                 pw_rows, closed, cp, cs, interval, rec_every, loss, lr_out, diverged, xrec,
                 record_x, p0, G):
    """Problems p0..p0+G-1 (noise A z, A A^T = covariance, ``AT`` = A^T), their products H Y
    and H E as one :func:`_matmul` per step (row b: problem p0 + b; a diverged problem's rows
    are zeroed and no longer advanced); each problem's bits are those it has alone (G = 1)."""
    d = xs.size
    Y = np.zeros((G, d), S.dtype)
    Gr = np.empty((G, d), S.dtype)
    E = np.zeros((G, d))
    R = np.zeros((G, d))
    acc = np.empty((G, d))
    nz = np.zeros(d, S.dtype)
    z = np.empty(d)
    accv = np.empty(d)
    part = np.zeros((G, steps))
    loss0 = np.empty(G)
    limit = np.empty(G)
    lr = np.empty(G)
    K = np.full(G, steps)
    active = np.ones(G, np.bool_)
    hrows = hp[p0:p0 + G].copy()
    for b in range(G):
        p = p0 + b
        S[p][:] = S0[s0_row[p]]
        for i in range(d):
            E[b, i] = np.float64(S[p, 0, i]) - np.float64(xs[i])
        if record_x:
            xrec[p, 0] = S[p, 0]
        lr[b] = lr_table[lr_row[p], 0]
    _matmul(H, E, acc, R)
    for b in range(G):
        loss0[b] = _losses_dense(E, R, b)
        limit[b] = _divergence_limit(loss0[b])
    left = G
    for k in range(steps):
        t = k + 1
        tf = np.float64(t0 + t)
        same = True
        for b in range(G):
            if not active[b]:
                continue
            p = p0 + b
            if closed[p]:
                lr_out[p, k] = lr[b]
            else:
                lr[b] = _lr_at(lr_table[lr_row[p]], k)
            hrows[b, 0] = lr[b]
            hp_b = to_fixed_tuple(hrows[b], NHYPER)
            Sp = S[p]
            for i in range(d):
                Y[b, i] = _grad_point(*_load(Sp, i), *hp_b) - xs[i]
                same = same and np.float64(Y[b, i]) == E[b, i]
        # equal values (signed zeros aside, which no sum starting at +0.0 tells apart): every
        # active problem's H y is the H e the loss just computed
        if same:
            for b in range(G):
                for i in range(d):
                    Gr[b, i] = R[b, i]
        else:
            _matmul(H, Y, acc, Gr)
        for b in range(G):
            if not active[b]:
                continue
            p = p0 + b
            hp_b = to_fixed_tuple(hrows[b], NHYPER)
            Sp = S[p]
            if noisy:
                fill_normals(step_key(seeds[p], t0 + k), 0, d, z)
                _matvec(AT, z, accv, nz)
            pw = _powers_at(pwt, pw_rows[p], k)
            for i in range(d):
                gi = Gr[b, i] + nz[i] if noisy else Gr[b, i]
                _store(Sp, i, _step(*_load(Sp, i), gi, *hp_b, tf, pw))
                E[b, i] = np.float64(Sp[0, i]) - np.float64(xs[i])
        _matmul(H, E, acc, R)
        for b in range(G):
            if not active[b]:
                continue
            p = p0 + b
            part[b, k] = _losses_dense(E, R, b)
            if record_x and t % rec_every == 0:
                xrec[p, t // rec_every] = S[p, 0]
            if not part[b, k] <= limit[b]:
                K[b] = k + 1
                active[b] = False
                left -= 1
                E[b] = 0.0
                Y[b] = 0.0
            elif closed[p] and t % interval[p] == 0:
                lr[b] = _plateau_update(cp[p], cs[p], part[b, k], lr[b])
        if left == 0:
            break
    for b in range(G):
        p = p0 + b
        diverged[p] = _finish(loss0[b], part[b], K[b], rec_every, loss[p], lr_out[p], xrec[p],
                              record_x)


@njit(nogil=True, **_OPTS)
def run_dense(S, S0, s0_row, H, xs, AT, noisy, seeds, hp, lr_table, lr_row, steps, t0, pw_table,
              pw_rows, closed, cp, cs, interval, rec_every, loss, lr_out, diverged, xrec, record_x,
              group, first, stride):
    """As :func:`run_diag` with a dense symmetric Hessian ``H``, the problems advanced ``group``
    at a time (item g: problems g*group ... ; group 1: one problem per item): one pass over H per
    step serves the group, and every problem keeps the bits it has alone."""
    n = S.shape[0]
    for g in range(first, -(-n // group), stride):
        p0 = g * group
        _group_dense(S, S0, s0_row, H, xs, AT, noisy, seeds, hp, lr_table, lr_row, steps, t0,
                     pw_table, pw_rows, closed, cp, cs, interval, rec_every, loss, lr_out,
                     diverged, xrec, record_x, p0, min(group, n - p0))
