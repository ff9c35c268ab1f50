"""Counter-based Gaussian noise: a standard normal for every (seed, step, coordinate).

Each value is a pure function of its three integers (splitmix64 hashing, then Box–Muller), so the
noise of a run never depends on the thread count, on the other problems of a batch or on the
order in which coordinates are visited, and no seeds x steps x d array is ever stored.

``step_key(seed, step)`` is hoisted out of the coordinate loop; ``normal(key, i)`` is the
standard normal of coordinate ``i`` at that step.  Both are ``njit(cache=True)`` and callable
from Python (the tests check the sample moments through them).
"""
import math

import numpy as np
from numba import njit

__all__ = ["step_key", "normal"]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)  # splitmix64 increment (2^64 / golden ratio)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_ONE, _TWO = np.uint64(1), np.uint64(2)
_TWO_M53 = 2.0**-53  # 53 random bits -> a double in [0, 1)
_TWO_PI = 2.0 * math.pi


@njit(cache=True)
def _mix(z):
    """The splitmix64 finaliser (a bijection of uint64 with full avalanche)."""
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(cache=True)
def step_key(seed, step):
    """The key of one step's noise: a hash of ``(seed, step)``, both non-negative integers."""
    return _mix(_mix(np.uint64(seed) + _GOLDEN) + np.uint64(step) * _GOLDEN)


@njit(cache=True)
def normal(key, i):
    """Standard normal of coordinate ``i`` under ``key``: outputs 2i, 2i+1 of the splitmix64
    stream started at ``key``, as two 53-bit uniforms, through Box–Muller (cosine branch)."""
    base = np.uint64(key) + _TWO * np.uint64(i) * _GOLDEN
    u1 = (float(_mix(base + _GOLDEN) >> _S11) + 1.0) * _TWO_M53  # in (0, 1]: log is finite
    u2 = float(_mix(base + _TWO * _GOLDEN) >> _S11) * _TWO_M53
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(_TWO_PI * u2)
