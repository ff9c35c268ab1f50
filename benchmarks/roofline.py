"""What bounds each contender: bytes that must stream per element-step vs measured bandwidth.

A kernel whose time loop is *outside* the coordinate loop streams its whole state through the
memory hierarchy every step; the least it can move per element-step is one read of each input
array and one write of each state array (a perfectly fused step).  Its bound is then
``bytes / bandwidth`` with the bandwidth a triad of the same working set reaches (cache or DRAM).
A kernel that runs all steps of a coordinate block while the block sits in L1/L2 moves ~0
bytes per element-step from memory: it is compute-bound, and is compared with the compute floor
measured by ``diagnostics/loop_shapes.py``.
"""
from __future__ import annotations

import numpy as np

from bandwidth import triad_bandwidth

__all__ = ["STREAM_ARRAYS", "stream_bytes", "working_set", "matched_bandwidth"]

# (arrays read, arrays written) per step by a perfectly fused streaming step on the diagonal
# quadratic g = h (x - xstar): heavy ball reads x, x_prev, h, xstar and writes x, x_prev;
# Adam (amsgrad off) reads x, m, v, h, xstar and writes x, m, v.
STREAM_ARRAYS = {"heavy_ball": (4, 2), "adam": (5, 3)}


def stream_bytes(rule: str, dtype) -> int:
    """Bytes per element-step of a perfectly fused streaming step (STREAM convention)."""
    reads, writes = STREAM_ARRAYS[rule]
    return (reads + writes) * np.dtype(dtype).itemsize


def working_set(rule: str, dtype, d: int) -> int:
    """Bytes of the arrays touched every step (each distinct array once)."""
    return STREAM_ARRAYS[rule][0] * np.dtype(dtype).itemsize * d


def matched_bandwidth(nbytes: int, dtype, threads: int, *, target: float = 0.15) -> float:
    """Best triad bandwidth (1 or ``threads`` threads) on a working set of ``nbytes`` bytes."""
    n = max(64, nbytes // (3 * np.dtype(dtype).itemsize))
    return max(triad_bandwidth(int(n), np.dtype(dtype).name, threads=k, target=target)
               for k in sorted({1, threads}))
