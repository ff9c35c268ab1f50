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
    """Advance ``s`` in place through ``which.size`` steps; step k applies map ``m = which[k]``:
    ``s <- A[m] s + a[m] y*`` in each direction.

    Parameters
    ----------
    A, a : numpy.ndarray
        (M, d, n, n) state Jacobians and (M, d, n) minimiser derivatives of the M distinct maps.
    which : numpy.ndarray
        (steps,) int64, the map of each step.
    s : numpy.ndarray
        (d, n) state of each direction, updated in place.
    ystar, h : numpy.ndarray
        (d,) minimiser coordinates and curvatures.
    record_every : int
        After every ``record_every``-th step, row ``(k + 1) // record_every`` of ``loss_dir``
        (and of ``ys`` if ``record_x``) gets the directions' losses (and iterates).
    loss_dir, ys : numpy.ndarray
        (n_rec + 1, d) outputs (``ys`` unused, may be empty, unless ``record_x``).
    record_x : bool
    """
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
