"""The counter-based Gaussian generator: moments, independence, reproducibility."""
import math

import numpy as np

from optanalysis.kernels.noise import normal, step_key


def _sample(seed, steps, d):
    return np.array([[normal(np.uint64(step_key(seed, k)), i) for i in range(d)] for k in range(steps)])


def test_moments_of_the_normal_generator():
    z = _sample(seed=42, steps=100, d=400).ravel()  # n = 40000
    n = z.size
    # standard errors of the sample moments of N(0,1): mean 1/sqrt(n), variance sqrt(2/n),
    # skewness sqrt(6/n), kurtosis sqrt(24/n); 4.5 SE keeps false alarms below 1e-5 each
    assert abs(z.mean()) < 4.5 / math.sqrt(n)
    assert abs(z.var() - 1) < 4.5 * math.sqrt(2 / n)
    assert abs(np.mean(z**3)) < 4.5 * math.sqrt(15 / n)  # Var(z^3) = 15
    assert abs(np.mean(z**4) - 3) < 4.5 * math.sqrt(96 / n)  # Var(z^4) = 105 - 9 = 96
    # the CDF at a few points (binomial SE sqrt(p(1-p)/n))
    for c, p in ((-1.0, 0.158655), (0.0, 0.5), (1.96, 0.975002)):
        assert abs(np.mean(z < c) - p) < 4.5 * math.sqrt(p * (1 - p) / n)


def test_neighbours_in_step_coordinate_and_seed_are_uncorrelated():
    z = _sample(seed=7, steps=200, d=200)
    other = _sample(seed=8, steps=200, d=200)
    n = z[1:].size
    se = 1 / math.sqrt(n)  # SE of a sample correlation between independent normals
    for a, b in ((z[1:], z[:-1]), (z[:, 1:], z[:, :-1]), (z, other)):
        assert abs(np.corrcoef(a.ravel(), b.ravel())[0, 1]) < 4.5 * se


def test_reproducible_and_pure():
    a = _sample(seed=3, steps=3, d=5)
    assert np.array_equal(a, _sample(seed=3, steps=3, d=5))
    assert normal(np.uint64(step_key(3, 2)), 4) == a[2, 4]  # order of evaluation is irrelevant
    assert step_key(np.uint64(2**64 - 1), 0) != step_key(np.uint64(0), 0)
