"""The threads that run the kernels: Python threads over ``nogil`` kernels.

``run(kernel, args, n)`` spreads items (problems, or blocks of one problem) over ``count()``
threads; item p is computed by thread p % threads, alone and in the same order whatever the
thread count, so results are bit-identical.  Why Python threads rather than ``prange``, and
why helper threads are kept: benchmarks/README.md.
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor, wait

import numba

__all__ = ["count", "run"]


def count() -> int:
    """Threads to use: Numba's setting (``numba.set_num_threads``, ``NUMBA_NUM_THREADS``)."""
    return numba.get_num_threads()


def run(kernel, args, n: int) -> None:
    """Run ``kernel(*args, first, stride)`` on ``min(n, count())`` threads.

    The kernels release the GIL.  The calling thread takes share 0 and waiting helper threads
    the others (a thread started per call starts its share late).
    """
    threads = 1 if n == 1 else min(n, count())  # (count() costs a µs: a small call's share)
    if threads == 1:
        kernel(*args, 0, 1)
        return
    shares = [_helpers().submit(kernel, *args, first, threads) for first in range(1, threads)]
    try:
        kernel(*args, 0, threads)
    finally:
        wait(shares)  # they write into the same arrays: never leave one running
    for share in shares:
        share.result()  # re-raises a helper's exception


_pool = None  # the helper threads of run (each started when a share first needs it)


def _helpers() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(thread_name_prefix="optanalysis")
    return _pool


def _forget_helpers() -> None:
    """A forked child (``studies`` runs jobs in forked processes) has the pool but not its
    threads: it makes its own."""
    global _pool
    _pool = None


os.register_at_fork(after_in_child=_forget_helpers)
