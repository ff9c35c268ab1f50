"""Dense Hessians: one problem per thread, the gradient H (y - x*) and the noise A z as
fixed-order float64 matrix-vector products, the loss summed at every step (``run_dense``)."""
import numpy as np
from numba import njit
from numba.np.unsafe.ndarray import to_fixed_tuple

from optanalysis.kernels.noise import fill_normals, step_key
from optanalysis.schedules import plateau_update as _plateau_update

from .binding import NHYPER, _grad_point, _load, _powers_at, _step, _store
from .core import _OPTS, _divergence_limit, _finish, _lr_at


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
            fill_normals(step_key(seed, t0 + k), 0, d, z)
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
def run_dense(S, S0, s0_row, H, xs, A, noisy, seeds, hp, lr_table, lr_row, steps, t0, pw_table,
              pw_rows, closed, cp, cs, interval, rec_every, loss, lr_out, diverged, xrec, record_x,
              first, stride):
    """As :func:`run_diag` with a dense Hessian ``H`` and noise ``A z`` (A A^T = covariance)."""
    for p in range(first, S.shape[0], stride):
        diverged[p] = _problem_dense(S[p], S0[s0_row[p]], H, xs, A, noisy, seeds[p], hp[p].copy(),
                                     lr_table[lr_row[p]], steps, t0, pw_table, pw_rows[p],
                                     closed[p], cp[p], cs[p], interval[p], rec_every, loss[p],
                                     lr_out[p], xrec[p], record_x)
