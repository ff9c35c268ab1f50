"""Memory bandwidth measured in the same run: a STREAM-style triad (Numba, all threads) and a
NumPy copy (one thread), reported in bytes/s with STREAM's convention (each array read or
written counts once; the write-allocate read of the destination is not counted)."""
from __future__ import annotations

import time

import numba
import numpy as np
from numba import njit, prange

__all__ = ["triad_bandwidth", "copy_bandwidth"]


@njit(parallel=True, cache=True)
def _triad(a, b, c, s):
    for i in prange(a.size):
        a[i] = b[i] + s * c[i]


@njit(cache=True)
def _triad_serial(a, b, c, s, passes):
    """``passes`` triads in one call (no call overhead for small arrays), ping-ponging a and b
    so that no pass is redundant."""
    for p in range(passes):
        src, dst = (b, a) if p % 2 == 0 else (a, b)
        for i in range(a.size):
            dst[i] = src[i] + s * c[i]


def _best(fn, repeats):
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def triad_bandwidth(n: int, dtype="float64", *, threads: int | None = None,
                    target: float = 0.2, repeats: int = 5) -> float:
    """Bytes/s of ``a = b + s c`` on three arrays of ``n`` elements (3 n itemsize bytes a pass).

    Parameters
    ----------
    n : int
        Elements per array: 3 n itemsize beyond the last-level cache measures DRAM, smaller
        sizes measure the caches a kernel of that working set sees.
    dtype : str
        ``float64`` or ``float32``.
    threads : int or None
        Numba threads for the triad (``None``: the current setting).  On one thread the passes
        run inside one compiled call, so that small (cache-resident) sizes are not timed as
        call overhead.
    target, repeats : float, int
        Passes are batched to last about ``target`` seconds; the best of ``repeats`` is kept.
    """
    if not (isinstance(n, int) and n >= 1):
        raise ValueError(f"n must be an integer >= 1, got {n!r}")
    a, b, c = (np.full(n, v, dtype) for v in (0.0, 1.0, 2.0))
    s = a.dtype.type(0.5)
    old = numba.get_num_threads()
    if threads is not None:
        numba.set_num_threads(threads)
    try:
        if numba.get_num_threads() == 1:  # passes looped inside the compiled call
            _triad_serial(a, b, c, s, 1)  # compile, first touch
            one = _best(lambda: _triad_serial(a, b, c, s, 100), 3) / 100
            passes = max(1, int(target / max(one, 1e-12)))
            seconds = _best(lambda: _triad_serial(a, b, c, s, passes), repeats)
        else:
            _triad(a, b, c, s)  # compile, first touch
            one = _best(lambda: _triad(a, b, c, s), 3)
            passes = max(1, int(target / max(one, 1e-9)))

            def many():
                for _ in range(passes):
                    _triad(a, b, c, s)

            seconds = _best(many, repeats)
    finally:
        numba.set_num_threads(old)
    return 3 * n * a.itemsize * passes / seconds


def copy_bandwidth(n: int = 2**25, *, repeats: int = 5) -> float:
    """Bytes/s of ``numpy.copyto`` between two float64 arrays of ``n`` elements (2 n 8 bytes)."""
    if not (isinstance(n, int) and n >= 1):
        raise ValueError(f"n must be an integer >= 1, got {n!r}")
    a, b = np.zeros(n), np.ones(n)
    np.copyto(a, b)
    return 2 * n * 8 / _best(lambda: np.copyto(a, b), repeats)
