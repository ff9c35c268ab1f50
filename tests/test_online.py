"""The online model of Reddi, Kale, Kumar (2018), run with the rules' Adam/AMSGrad step (the
claims and their records: tests/test_study_adaptive.py)."""
import math

import numpy as np
import pytest

from optanalysis.models.online import periodic_coefficients, run_online, stochastic_coefficients


def _paper_algorithm(coefs, lr, beta2, amsgrad):
    """Reddi et al.'s Algorithm (beta1 = 0, no bias correction, eps = 0) in 1-D, transcribed
    independently as a slow reference: x_{t+1} = clip(x_t - (lr/sqrt(t)) g_t/sqrt(v_hat_t))."""
    x, v, vhat = 0.0, 0.0, 0.0
    total, x_sum = 0.0, 0.0
    for t, g in enumerate(coefs, start=1):
        total += g * x
        x_sum += x
        v = beta2 * v + (1 - beta2) * g * g
        vhat = max(vhat, v) if amsgrad else v
        x = min(max(x - lr / math.sqrt(t) * g / math.sqrt(vhat), -1.0), 1.0)
    return x, total


@pytest.mark.parametrize("amsgrad", [False, True])
def test_uncorrected_run_is_the_papers_algorithm(amsgrad):
    coefs = periodic_coefficients(3.0, 3000)
    res = run_online(coefs, lr=0.5, beta2=0.1, amsgrad=amsgrad, bias_correction=False)
    x, total = _paper_algorithm(coefs, 0.5, 0.1, amsgrad)
    # Same operations in a different order (torch's lerp form of m, sqrt(v)/sqrt(1) + 0):
    # rounding-level agreement; the iterate is pinned/projected so errors do not grow.
    assert abs(res.x_final - x) < 1e-12
    best = -abs(coefs.sum())
    assert abs(res.regret - (total - best)) < 1e-9 * max(1.0, abs(total))


def test_bias_correction_does_not_change_the_outcome():
    coefs = periodic_coefficients(3.0, 30000)
    for amsgrad in (False, True):
        a = run_online(coefs, beta2=0.1, amsgrad=amsgrad, bias_correction=False)
        b = run_online(coefs, beta2=0.1, amsgrad=amsgrad, bias_correction=True)
        # Only sqrt(1 - 0.1^t) of the first steps differs; the limits coincide.
        assert a.x_final == pytest.approx(b.x_final, abs=1e-9)
        # The regrets differ by the first steps' losses only: at most 2C per step, ~10 steps.
        assert abs(a.regret - b.regret) < 10 * 2 * 3.0


def test_stochastic_coefficients_are_seeded():
    a, b = stochastic_coefficients(1000, seed=3), stochastic_coefficients(1000, seed=3)
    assert np.array_equal(a, b) and set(np.unique(a)) <= {1010.0, -10.0}
    assert not np.array_equal(a, stochastic_coefficients(1000, seed=4))


def test_validation():
    with pytest.raises(ValueError, match="coefs"):
        run_online([])
    with pytest.raises(ValueError, match=r"beta2 must be in \[0, 1\)"):
        run_online([1.0], beta2=1.0)
    with pytest.raises(ValueError, match="x1 must be in"):
        run_online([1.0], x1=2.0)
    with pytest.raises(ValueError, match="bound must be"):
        run_online([1.0], bound=0.0)
    with pytest.raises(TypeError, match="bias_correction"):
        run_online([1.0], bias_correction=1)
    with pytest.raises(ValueError, match="expected_slope"):
        run_online([1.0], expected_slope=math.inf)
    with pytest.raises(ValueError, match="period must be"):
        periodic_coefficients(3.0, 10, period=1)
    with pytest.raises(ValueError, match="p must be"):
        stochastic_coefficients(10, p=1.5)
