"""The counter-based Gaussian generator: distribution, independence, accuracy of the transform,
bits that depend on nothing but (seed, step, coordinate).

Every statistical check states its level: with n samples, a bound of 4.5 standard errors is
exceeded by chance with probability < 1e-5 (two-sided normal tail 6.8e-6), the KS bound below
with probability < 1e-4, the Anderson–Darling bound with probability 1%.  The samples are fixed
(seeded), so each test is deterministic; the levels say how surprising a failure would be.
"""
import math
import struct

import numpy as np
import pytest
from scipy import special

from optanalysis.kernels.noise import fill_normals, normal, step_key
from optanalysis.simulation import simulate, simulate_batch

N = 2**20  # >= 1e6 samples for the distribution tests (~10 ms to draw)


def _key(seed, step):
    return np.uint64(step_key(seed, step))  # Python receives an int: keep it unsigned


def _block(seed, steps, d):
    """(steps, d) normals through the block generator."""
    z = np.empty((steps, d))
    for k in range(steps):
        fill_normals(_key(seed, k), 0, d, z[k])
    return z


@pytest.fixture(scope="module")
def sample():
    return _block(seed=42, steps=16, d=N // 16).ravel()


def test_moments_of_a_million_normals(sample):
    z, n = sample, sample.size
    # standard errors of the sample moments of N(0,1): Var(z) = 1, Var(z^2) = 2, Var(z^3) = 15,
    # Var(z^4) = 105 - 9 = 96
    assert abs(z.mean()) < 4.5 / math.sqrt(n)
    assert abs(np.mean(z**2) - 1) < 4.5 * math.sqrt(2 / n)
    assert abs(np.mean(z**3)) < 4.5 * math.sqrt(15 / n)
    assert abs(np.mean(z**4) - 3) < 4.5 * math.sqrt(96 / n)


def test_cdf_of_a_million_normals_ks_anderson_darling_and_tails(sample):
    z = np.sort(sample)
    n = z.size
    F = special.ndtr(z)
    i = np.arange(1, n + 1)
    # Kolmogorov–Smirnov: P(sqrt(n) D > x) ~ 2 exp(-2 x^2) = 1e-4 at x = 2.226
    D = max(np.max(i / n - F), np.max(F - (i - 1) / n))
    assert math.sqrt(n) * D < math.sqrt(math.log(2e4) / 2)
    # Anderson–Darling, fully specified N(0,1): 1% critical value 3.857 (Stephens 1974), a test
    # that weighs the tails more than KS
    A2 = -n - np.mean((2 * i - 1) * (np.log(F) + np.log1p(-F[::-1])))
    assert A2 < 3.857
    # the tails, where an inaccurate log would show first: binomial SE sqrt(p (1 - p) / n)
    for c in (2.0, 3.0, 4.0):
        p = 2 * special.ndtr(-c)
        assert abs(np.mean(np.abs(z) > c) - p) < 4.5 * math.sqrt(p * (1 - p) / n)
    assert np.abs(z).max() < 8.5  # u >= 2^-52: |z| <= sqrt(104 log 2) = 8.49


def test_neighbours_in_step_coordinate_pair_and_seed_are_uncorrelated():
    z = _block(seed=7, steps=256, d=1024)
    other = _block(seed=8, steps=256, d=1024)
    cos, sin = z[:, 0::2], z[:, 1::2]  # the two normals of one pair
    pairs = [(z[1:], z[:-1]),  # the same coordinate at consecutive steps
             (z[:, 2:], z[:, :-2]),  # coordinates of neighbouring pairs
             (cos, sin),  # the two normals of a pair
             (cos**2, sin**2),  # and their squares (independent, not just uncorrelated)
             (z, other)]  # seeds
    for a, b in pairs:
        n = a.size
        # SE of a sample correlation of independent variables: 1/sqrt(n); 4.5 SE: < 1e-5
        assert abs(np.corrcoef(a.ravel(), b.ravel())[0, 1]) < 4.5 / math.sqrt(n)


def test_a_block_is_the_same_whatever_its_first_coordinate_and_length():
    key = _key(3, 11)
    whole = np.empty(40)
    fill_normals(key, 0, 40, whole)
    assert np.array_equal(whole[:7], [normal(key, i) for i in range(7)])
    for first in (0, 1, 2, 5):
        for n in (0, 1, 2, 3, 8, 17):
            part = np.full(n + 1, np.nan)
            fill_normals(key, first, n, part)
            assert np.array_equal(part[:n], whole[first:first + n])
            assert np.isnan(part[n])  # nothing written past n
    assert normal(_key(3, 2), 4) != normal(_key(3, 2), 5)
    assert step_key(np.uint64(2**64 - 1), 0) != step_key(np.uint64(0), 0)


# A reference of the same algorithm in Python floats (IEEE double: +, -, *, /, sqrt correctly
# rounded) and Python integers: the compiled, vectorised generator must give its bits, which
# holds only if LLVM contracted nothing into FMAs and used no approximate instruction: the bits
# then depend on no CPU.
_MASK = 2**64 - 1
_G = 0x9E3779B97F4A7C15


def _mix(z):
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


def _float(bits):
    return struct.unpack("<d", struct.pack("<Q", bits))[0]


def _uniforms(key, p):
    """u in (0, 1], y in [-pi/4, pi/4), quadrant q of pair p: the inputs of the transform."""
    base = (int(key) + 2 * p * _G) & _MASK
    h1, h2 = _mix((base + _G) & _MASK), _mix((base + 2 * _G) & _MASK)
    u = 2.0 - _float((h1 >> 12) | 0x3FF0000000000000)
    y = (_float(((h2 >> 10) & (2**52 - 1)) | 0x3FF0000000000000) - 1.5) * (0.5 * math.pi)
    return u, y, h2 >> 62


def _horner(coefficients, x):
    acc = coefficients[-1]
    for c in reversed(coefficients[:-1]):
        acc = c + x * acc
    return acc


def _reference_pair(key, p):
    from optanalysis.kernels import noise

    u, y, q = _uniforms(key, p)
    bits = struct.unpack("<q", struct.pack("<d", u))[0]
    k = (bits - 0x3FE6A09E667F3BCD) >> 52
    m = _float(bits - (k << 52))
    s = (m - 1.0) / (m + 1.0)
    log_u = k * math.log(2.0) + s * _horner(noise._LOG_C, s * s)
    r = math.sqrt(-2.0 * log_u)
    sn = y * _horner(noise._SIN_C, y * y)
    cs = _horner(noise._COS_C, y * y)
    a, b = (sn, cs) if q & 1 else (cs, sn)
    return r * ((1.0 - 2.0 * (((q + 1) >> 1) & 1)) * a), r * ((1.0 - 2.0 * (q >> 1)) * b)


def test_the_compiled_generator_has_the_bits_of_plain_ieee_arithmetic():
    key = _key(2024, 5)
    z = np.empty(4096)
    fill_normals(key, 0, z.size, z)
    for p in range(0, z.size // 2, 37):  # a spread of pairs, inside and across vectors
        assert (z[2 * p], z[2 * p + 1]) == _reference_pair(key, p)


def test_the_transform_is_box_muller_to_a_few_ulps():
    """Against libm's log, cos and sin of the same uniforms (each < 1 ulp from exact; the quarter
    turn by the quadrant is exact: a swap and signs): the truncated series err by < 4e-14
    relative (log; radius 2e-14), 3e-14 (sin) and 2e-15 (cos), the ~30 roundings by a few ulps,
    so each normal is within 5e-14 r of r cos(theta) or r sin(theta), r the radius."""
    key = _key(99, 0)
    n = 2 * 4000
    z = np.empty(n)
    fill_normals(key, 0, n, z)
    worst = 0.0
    for p in range(n // 2):
        u, y, q = _uniforms(key, p)
        r, c, s = math.sqrt(-2.0 * math.log(u)), math.cos(y), math.sin(y)
        rotated = ((c, s), (-s, c), (-c, -s), (s, -c))[q]
        for got, exact in zip(z[2 * p:2 * p + 2], rotated):
            worst = max(worst, abs(got - r * exact) / r)
    assert worst < 5e-14
    # the extremes of the radius: u = 1 gives r = 0, u = 2^-52 the largest |z|
    for u in (1.0, 2.0**-52, 0.5, math.sqrt(0.5), math.sqrt(2.0) / 2 * (1 + 2.0**-52)):
        # series: 2 s^17 / 17 <= 1.2e-14 absolute at |s| <= 0.172; rounding: a few ulps
        assert abs(_log_compiled(u) - math.log(u)) <= 2e-14 * max(1.0, abs(math.log(u)))


def _log_compiled(u):
    from numba import njit

    from optanalysis.kernels.noise import _log

    return njit(lambda v: _log(v))(u)


def test_simulate_draws_exactly_the_generators_normals_on_every_path():
    """gd with lr = 1 from x0 = 0 on h = 0: one step gives x = -sigma z exactly (sigma = 1), so
    the kernels' noise is the generator's, coordinate by coordinate, across the blocks of 512 and
    on the dense path."""
    d, seed = 1100, 5
    z = np.empty(d)
    fill_normals(_key(seed, 3), 0, d, z)
    kw = dict(x0=np.zeros(d), steps=1, noise="isotropic:sigma=1", seed=seed, start_step=3)
    assert np.array_equal(simulate("gd", {"lr": 1.0}, hessian_diag=np.zeros(d), **kw).x, -z)
    dense = simulate("gd", {"lr": 1.0}, hessian=np.zeros((20, 20)), **dict(kw, x0=np.zeros(20)))
    assert np.array_equal(dense.x, -z[:20])
    # and in a batch, beside another seed, on one or two threads
    runs = simulate_batch("gd", [{"lr": 1.0}], seeds=[seed, seed + 1], hessian_diag=np.zeros(d),
                          **{k: v for k, v in kw.items() if k != "seed"})
    assert np.array_equal(runs.x[0, 0], -z)
