"""The step loop of :func:`optanalysis.theory.prediction.predict`, compiled: each eigen-direction's
state advanced by its affine map, step after step, the per-direction loss recorded.

A NumPy loop costs ~8 µs a step whatever d (an ``einsum`` and a few small arrays); compiled, a
small problem's 100 steps take a few µs.  The arithmetic is NumPy's, operation for operation, so
the bits are those of the NumPy loop it replaces (``tests/test_call_paths.py`` compares them):
``new_i = (sum_j A_ij s_j, accumulated from 0 in order j) + a_i y*`` (``einsum`` then ``+``) and
``loss = 0.5 h (s_0 - y*)^2`` as ``(0.5 h) (e e)``.
"""
from __future__ import annotations

import numba
import numpy as np

__all__ = ["advance"]


@numba.njit(cache=True)
def advance(A, a, which, s, ystar, h, record_every, loss_dir, ys, record_x):
    """Advance ``s`` (d, n) in place through ``which.size`` steps; step k applies map
    ``which[k]``: ``s <- A[m] s + a[m] y*`` per direction (``A`` (M, d, n, n), ``a`` (M, d, n)).
    After every ``record_every``-th step, row r = (k + 1) / record_every of ``loss_dir``
    (and of ``ys`` if ``record_x``) gets the directions' losses (and iterates)."""
    d, n = s.shape
    new = np.empty(n)
    for k in range(which.size):
        m = which[k]
        for i in range(d):
            for r in range(n):
                acc = 0.0
                for c in range(n):
                    acc += A[m, i, r, c] * s[i, c]
                new[r] = acc + a[m, i, r] * ystar[i]
            for r in range(n):
                s[i, r] = new[r]
        if (k + 1) % record_every == 0:
            row = (k + 1) // record_every
            for i in range(d):
                e = s[i, 0] - ystar[i]
                loss_dir[row, i] = 0.5 * h[i] * (e * e)
                if record_x:
                    ys[row, i] = s[i, 0]
