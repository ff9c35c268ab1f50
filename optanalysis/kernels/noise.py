"""Counter-based Gaussian noise: a standard normal for every (seed, step, coordinate).

Each value is a pure function of its three integers (splitmix64 hashing, then Box–Muller), so the
noise of a run never depends on the thread count, on the other problems of a batch or on the
order in which coordinates are visited, and no seeds x steps x d array is ever stored.

``step_key(seed, step)`` is hoisted out of the coordinate loop; ``normal(key, i)`` is the
standard normal of coordinate ``i`` at that step and ``fill_normals`` a run of them (both halves
of each Box–Muller pair used).  All are ``njit(cache=True)`` and callable from Python (from
Python pass keys as ``np.uint64``; the tests check the sample moments through them).
"""
import math

import numpy as np
from numba import njit

__all__ = ["step_key", "normal", "fill_normals"]

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
def _pair(key, j):
    """Box–Muller pair j under ``key``: outputs 2j, 2j+1 of the splitmix64 stream started at
    ``key`` as two 53-bit uniforms, turned into two independent standard normals."""
    base = np.uint64(key) + _TWO * np.uint64(j) * _GOLDEN
    u1 = (float(_mix(base + _GOLDEN) >> _S11) + 1.0) * _TWO_M53  # in (0, 1]: log is finite
    u2 = float(_mix(base + _TWO * _GOLDEN) >> _S11) * _TWO_M53
    r = math.sqrt(-2.0 * math.log(u1))
    return r * math.cos(_TWO_PI * u2), r * math.sin(_TWO_PI * u2)


@njit(cache=True)
def normal(key, i):
    """Standard normal of coordinate ``i`` (>= 0) under ``key``: the cosine (even i) or sine
    (odd i) half of Box–Muller pair i // 2."""
    z0, z1 = _pair(key, i >> 1)
    return z0 if i % 2 == 0 else z1


@njit(cache=True)
def fill_normals(key, first, out):
    """``out[j] = normal(key, first + j)`` for every j, computing each pair once."""
    n, j = out.size, 0
    if first % 2 == 1 and n > 0:
        out[0] = normal(key, first)
        j = 1
    while j + 1 < n:
        out[j], out[j + 1] = _pair(key, (first + j) >> 1)
        j += 2
    if j < n:
        out[j] = normal(key, first + j)
