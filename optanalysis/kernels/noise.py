"""Counter-based Gaussian noise: a standard normal for every (seed, step, coordinate).

Each value is a pure function of its three integers, so the noise of a run never depends on
the thread count, on the other problems of a batch, on the order in which coordinates are
visited or on the block size, and no seeds x steps x d array is ever stored.

``step_key(seed, step)`` is hoisted out of the coordinate loop.  Coordinates 2p and 2p + 1 of a
step share the *pair* p: two splitmix64 hashes of (key, p) give a radius and an angle, and
Box–Muller turns them into two normals, r cos(theta) for the even coordinate and r sin(theta)
for the odd one (independent standard normals).  ``fill_normals(key, first, n, out)`` writes
coordinates first .. first + n - 1 in a loop that LLVM vectorises; ``normal(key, i)`` is one
coordinate (the same bits).  All are ``njit(cache=True)`` and callable from Python.

Same bits on every machine: the transform uses only integer operations and IEEE ``+ - * /``
and ``sqrt`` (correctly rounded everywhere), no libm call, whose last bits vary between libraries
and SIMD variants:

* radius r = sqrt(-2 log u), u in (0, 1] a multiple of 2^-52 (|z| <= 8.49): log u = k log 2 +
  log m, with k and m in [sqrt(1/2), sqrt(2)) read from the bits of u, log m = 2 atanh(s),
  s = (m - 1)/(m + 1), by its series in s^2 <= 0.0295 up to s^15 (the first term left out is
  below 4e-14 relative);
* angle: two bits of the hash choose a quadrant, 52 others a uniform y in [-pi/4, pi/4), and
  (cos y, sin y) by their Taylor series to y^14 / y^13 (the first terms left out are below
  2e-15 / 3e-14) are rotated by the quadrant: the angle is uniform on the whole circle.

Each normal is thus within 5e-14 r of the exact transform of its two uniforms (two terms more
per series would give a few ulps, for 12 % more time), far below what any statistical test of
the distribution can see (tests/test_kernels_noise.py).
"""
import math

import numpy as np
from numba import njit, types
from numba.extending import intrinsic

__all__ = ["step_key", "normal", "fill_normals"]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)  # splitmix64 increment (2^64 / golden ratio)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31 = np.uint64(30), np.uint64(27), np.uint64(31)
_ONE, _TWO = np.uint64(1), np.uint64(2)
_S10, _S12, _S52, _S62 = np.uint64(10), np.uint64(12), np.uint64(52), np.uint64(62)
_ONE_BITS = np.uint64(0x3FF0000000000000)  # the bits of 1.0: exponent 0, mantissa 0
_MANTISSA = np.uint64(0x000FFFFFFFFFFFFF)
_SQRT_HALF_BITS = np.int64(0x3FE6A09E667F3BCD)  # the bits of sqrt(1/2)
_LN2 = math.log(2.0)
_HALF_PI = 0.5 * math.pi
# 2 / (2j + 1): log m = s (2 + s^2 (2/3 + s^2 (2/5 + ...))), to s^15
_LOG_C = tuple(2.0 / (2 * j + 1) for j in range(8))
# (-1)^j / (2j + 1)! and (-1)^j / (2j)!: the Taylor series of sin to y^13 and cos to y^14
_SIN_C = tuple((-1) ** j / math.factorial(2 * j + 1) for j in range(7))
_COS_C = tuple((-1) ** j / math.factorial(2 * j) for j in range(8))
_LC0, _LC1, _LC2, _LC3, _LC4, _LC5, _LC6, _LC7 = _LOG_C
_SC0, _SC1, _SC2, _SC3, _SC4, _SC5, _SC6 = _SIN_C
_CC0, _CC1, _CC2, _CC3, _CC4, _CC5, _CC6, _CC7 = _COS_C


@intrinsic
def _as_float(typingctx, bits):
    """The float64 whose IEEE bits are the uint64 ``bits`` (a register reinterpretation)."""
    if bits != types.uint64:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(types.float64))

    return types.float64(types.uint64), codegen


@intrinsic
def _as_bits(typingctx, x):
    """The IEEE bits of the float64 ``x``, as an int64."""
    if x != types.float64:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(types.int64))

    return types.int64(types.float64), codegen


@njit(cache=True, error_model="numpy")
def _mix(z):
    """The splitmix64 finaliser (a bijection of uint64 with full avalanche)."""
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(cache=True, error_model="numpy")
def step_key(seed, step):
    """The key of one step's noise: a hash of ``(seed, step)``.

    Parameters
    ----------
    seed, step : int
        Non-negative integers below 2^64.

    Returns
    -------
    numpy.uint64
        The key from which :func:`fill_normals` and :func:`normal` draw that step's normals
        (called from Python it returns an ``int``: pass it on as ``numpy.uint64(key)``).
    """
    return _mix(_mix(np.uint64(seed) + _GOLDEN) + np.uint64(step) * _GOLDEN)


@njit(cache=True, error_model="numpy", inline="always")
def _log(u):
    """log u for a normal float64 u > 0, from IEEE operations only (see the module docstring)."""
    bits = _as_bits(u)
    k = (bits - _SQRT_HALF_BITS) >> 52  # arithmetic shift: the exponent of u / sqrt(1/2)
    m = _as_float(np.uint64(bits - (k << 52)))  # u / 2^k, in [sqrt(1/2), sqrt(2))
    s = (m - 1.0) / (m + 1.0)
    s2 = s * s
    p = _LC6 + s2 * _LC7
    p = _LC5 + s2 * p
    p = _LC4 + s2 * p
    p = _LC3 + s2 * p
    p = _LC2 + s2 * p
    p = _LC1 + s2 * p
    p = _LC0 + s2 * p
    return k * _LN2 + s * p


@njit(cache=True, error_model="numpy", inline="always")
def _pair(key, p):
    """The two normals (r cos theta, r sin theta) of pair ``p`` (coordinates 2p and 2p + 1)."""
    base = key + _TWO * np.uint64(p) * _GOLDEN
    h1 = _mix(base + _GOLDEN)
    h2 = _mix(base + _TWO * _GOLDEN)
    u = 2.0 - _as_float((h1 >> _S12) | _ONE_BITS)  # 1 - f, f in [0, 1): u in (0, 1], exact
    r = math.sqrt(-2.0 * _log(u))
    y = (_as_float(((h2 >> _S10) & _MANTISSA) | _ONE_BITS) - 1.5) * _HALF_PI  # [-pi/4, pi/4)
    y2 = y * y
    sn = _SC5 + y2 * _SC6
    sn = _SC4 + y2 * sn
    sn = _SC3 + y2 * sn
    sn = _SC2 + y2 * sn
    sn = _SC1 + y2 * sn
    sn = y * (_SC0 + y2 * sn)
    cs = _CC6 + y2 * _CC7
    cs = _CC5 + y2 * cs
    cs = _CC4 + y2 * cs
    cs = _CC3 + y2 * cs
    cs = _CC2 + y2 * cs
    cs = _CC1 + y2 * cs
    cs = _CC0 + y2 * cs
    # rotate (cos y, sin y) by q quarter turns: (c, s), (-s, c), (-c, -s), (s, -c)
    q = h2 >> _S62
    odd = (q & _ONE) == _ONE
    a = sn if odd else cs
    b = cs if odd else sn
    flip_a = 1.0 - 2.0 * float(((q + _ONE) >> _ONE) & _ONE)  # quadrants 1, 2
    flip_b = 1.0 - 2.0 * float(q >> _ONE)  # quadrants 2, 3
    return r * (flip_a * a), r * (flip_b * b)


@njit(cache=True, error_model="numpy")
def normal(key, i):
    """Standard normal of coordinate ``i`` under ``key`` (one value of :func:`fill_normals`).

    Parameters
    ----------
    key : numpy.uint64
        A step's key (:func:`step_key`).
    i : int
        The coordinate, >= 0.

    Returns
    -------
    float
        The even (cosine) or odd (sine) normal of pair ``i // 2``.
    """
    c, s = _pair(np.uint64(key), np.uint64(i) >> _ONE)
    return s if i & 1 else c


@njit(cache=True, error_model="numpy", inline="always")
def _times(scale, i, v):
    """``v``, or ``scale[i] * v`` (float64) when a scale is given (the branch is compiled away)."""
    if scale is None:
        return v
    return scale[i] * v


@njit(cache=True, error_model="numpy")
def fill_normals(key, first, n, out, scale=None):
    """The standard normals of coordinates ``first .. first + n - 1`` under ``key``, into ``out``.

    Parameters
    ----------
    key : numpy.uint64
        A step's key (:func:`step_key`).
    first : int
        The first coordinate, >= 0.
    n : int
        How many, 0 <= n <= out.size.
    out : numpy.ndarray
        ``out[j]`` receives coordinate ``first + j``: bit for bit ``normal(key, first + j)``,
        whatever ``first`` and ``n`` (the pairs cut by the ends are computed whole), rounded to
        ``out``'s dtype.
    scale : numpy.ndarray of float64, optional
        Per coordinate factors: ``out[j] = scale[first + j] * normal(key, first + j)`` (the
        float64 product, then rounded to ``out``'s dtype).  Scaling here rather than in a second
        loop over ``out`` spares a pass over a buffer just written.
    """
    key = np.uint64(key)
    uf = np.uint64(first)
    j = 0
    if n > 0 and first & 1:  # an odd first coordinate: the sine of its pair
        out[0] = _times(scale, uf, _pair(key, uf >> _ONE)[1])
        j = 1
    p0 = np.uint64(first + j) >> _ONE
    pairs = (n - j) >> 1
    uj = np.uint64(j)
    for p in range(pairs):  # whole pairs: the vectorised loop
        i = uj + _TWO * np.uint64(p)  # unsigned: no negative-index wraparound, so it vectorises
        c, s = _pair(key, p0 + np.uint64(p))
        out[i] = _times(scale, uf + i, c)
        out[i + _ONE] = _times(scale, uf + i + _ONE, s)
    if j + 2 * pairs < n:  # a last even coordinate: the cosine of its pair
        last = np.uint64(n - 1)
        out[last] = _times(scale, uf + last, _pair(key, p0 + np.uint64(pairs))[0])
