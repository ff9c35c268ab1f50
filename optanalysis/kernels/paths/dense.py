"""Dense Hessians: one problem per thread, the gradient H (y - x*) and the noise A z as
fixed-order float64 matrix-vector products, the loss summed at every step (``run_dense``).

Products (:func:`_matvec`): output i of M v is the float64 sum of M[j, i] v_j over j ascending,
built as axpy sweeps over M's contiguous rows (``acc += M[j] v_j``).  Each sweep is elementwise
over i, so LLVM vectorises it without reassociating any sum, and every output's order is fixed
whatever the problem's neighbours.  This is row i of M v for the symmetric H (``make_quadratic``
symmetrises it exactly); the noise is applied with A^T (``simulate`` passes it contiguous).

The loss 1/2 sum_i e_i (H e)_i, e = x - x* in float64, i ascending, needs H e at every step.
When the rule's next gradient point y - x* equals e exactly (gd, heavy ball, Adam: y = x, in
float64), H e *is* that gradient's product: it is reused, one product per step serves both.
"""
import numpy as np
from numba import njit
from numba.np.unsafe.ndarray import to_fixed_tuple

from optanalysis.kernels.noise import normal, step_key
from optanalysis.schedules import plateau_update as _plateau_update

from .binding import NHYPER, _grad_point, _load, _powers_at, _step, _store
from .core import _OPTS, _divergence_limit, _finish, _lr_at

# Rows of M added per sweep over the accumulator (in order: 4 sequential adds per output), so
# the accumulator is loaded and stored once per 4 rows.  Any value gives the same bits.
_ROWS = 4


@njit(**_OPTS)
def _matvec(MT, v, acc, out):
    """out = M v where ``MT`` = M^T (C order): out_i = sum over j ascending of MT[j, i] v_j,
    in float64 (``acc``), rounded to out's dtype."""
    d = v.size
    acc[:] = 0.0
    j = 0
    while j + _ROWS <= d:
        v0, v1 = np.float64(v[j]), np.float64(v[j + 1])
        v2, v3 = np.float64(v[j + 2]), np.float64(v[j + 3])
        m0, m1, m2, m3 = MT[j], MT[j + 1], MT[j + 2], MT[j + 3]
        for i in range(d):
            a = acc[i] + np.float64(m0[i]) * v0
            a = a + np.float64(m1[i]) * v1
            a = a + np.float64(m2[i]) * v2
            acc[i] = a + np.float64(m3[i]) * v3
        j += _ROWS
    while j < d:
        vj, mj = np.float64(v[j]), MT[j]
        for i in range(d):
            acc[i] += np.float64(mj[i]) * vj
        j += 1
    for i in range(d):
        out[i] = acc[i]


@njit(**_OPTS)
def _loss_dense(x, H, xs, e, r):
    """1/2 e^T (H e), e = x - x* (float64, into ``e``; H e into ``r``), summed i ascending."""
    for i in range(x.size):
        e[i] = np.float64(x[i]) - np.float64(xs[i])
    _matvec(H, e, r, r)
    total = 0.0
    for i in range(x.size):
        total += e[i] * r[i]
    return 0.5 * total


@njit(**_OPTS)
def _problem_dense(S, S0, H, xs, AT, noisy, seed, hrow, lrs, steps, t0, pwt, prow, closed, cp, cs,
                   interval, rec_every, loss, lr_out, xrec, record_x):
    """One problem with a dense Hessian (noise A z, A A^T = covariance, ``AT`` = A^T);
    divergence step or -1."""
    d = xs.size
    y = np.empty(d, S.dtype)
    g = np.empty(d, S.dtype)
    nz = np.zeros(d, S.dtype)
    z = np.empty(d)
    e = np.empty(d)
    r = np.empty(d)
    acc = np.empty(d)
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
        same = True  # y - x* == e, the point whose product r = H e the loss just computed
        for i in range(d):
            y[i] = _grad_point(*_load(S, i), *hp) - xs[i]
            same = same and np.float64(y[i]) == e[i]
        if same:  # equal values (signed zeros aside, which no sum starting at +0.0 tells apart)
            for i in range(d):
                g[i] = r[i]
        else:
            _matvec(H, y, acc, g)
        if noisy:
            key = step_key(seed, t0 + k)
            for j in range(d):
                z[j] = normal(key, j)
            _matvec(AT, z, acc, nz)
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
def run_dense(S, S0, s0_row, H, xs, AT, noisy, seeds, hp, lr_table, lr_row, steps, t0, pw_table,
              pw_rows, closed, cp, cs, interval, rec_every, loss, lr_out, diverged, xrec, record_x,
              first, stride):
    """As :func:`run_diag` with a dense symmetric Hessian ``H`` and noise ``A z``
    (A A^T = covariance; ``AT`` = A^T, C order)."""
    for p in range(first, S.shape[0], stride):
        diverged[p] = _problem_dense(S[p], S0[s0_row[p]], H, xs, AT, noisy, seeds[p],
                                     hp[p].copy(), lr_table[lr_row[p]], steps, t0, pw_table,
                                     pw_rows[p], closed[p], cp[p], cs[p], interval[p], rec_every,
                                     loss[p], lr_out[p], xrec[p], record_x)
