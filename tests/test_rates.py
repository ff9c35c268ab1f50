"""Observed rates (optanalysis.rates): exact on synthetic lines, the theory's rate on kernel runs,
and clear refusals."""
import math

import numpy as np
import pytest

from optanalysis.theory.spectrum import phase_rates, spectral_radius
from optanalysis.rates import fit_rate
from optanalysis.simulation import simulate


def test_pure_geometric_sequence_gives_its_ratio():
    loss = 3.0 * 0.8 ** np.arange(200)
    fit = fit_rate(loss)
    # log-linear data: least squares recovers the slope up to rounding of the logs
    assert fit.ok and fit.rate == pytest.approx(0.8, rel=1e-13) and fit.stderr < 1e-12


def test_transient_and_floor_are_excluded():
    k = np.arange(1500)
    # a fast mode dominates the first ~60 steps; then 0.95^k; values below 1e-24 x loss_0 are floor
    loss = 1e4 * 0.5**k + 0.95**k
    loss = np.maximum(loss, 1e-25 * loss[0])
    fit = fit_rate(loss)
    assert fit.ok
    assert fit.window[0] >= 30  # the transient is dropped ...
    assert fit.window[1] < np.flatnonzero(loss <= 1e-24 * loss[0])[0]  # ... and so is the floor
    assert fit.rate == pytest.approx(0.95, rel=1e-6)
    # fitting everything instead is visibly biased by the transient
    assert abs(fit_rate(loss, window=(0, 60)).rate - 0.95) > 0.05


@pytest.mark.parametrize("name, params", [
    ("gd", {"lr": 0.4}),
    ("heavy_ball", {"lr": 0.3, "momentum": 0.3}),
    ("nesterov", {"lr": 0.3, "momentum": 0.5}),
])
def test_kernel_run_rate_equals_the_squared_spectral_radius(name, params):
    h = np.array([0.1, 0.6, 1.5])
    sim = simulate(name, params, x0=[1.0, 1.0, 1.0], hessian_diag=h, steps=600)
    fit = fit_rate(sim.loss, diverged_at=sim.diverged_at)
    rho = float(np.max(spectral_radius(name, params, h)))
    assert fit.ok
    # theory: loss ~ C rho^(2k) (distinct real roots here, no polynomial prefactor); 3 stderr plus
    # the 1e-6 relative rounding of a fit over 1e-24 of dynamic range
    assert abs(fit.rate - rho**2) <= 3 * fit.stderr + 1e-6 * rho**2
    assert fit.iterate_rate == pytest.approx(math.sqrt(fit.rate))


def test_phase_rates_observed_per_phase():
    """Each phase of a step schedule decays at its own rate (phase_rates); fit over each phase."""
    h = np.array([0.2, 1.0])
    sim = simulate("gd", {"lr": 0.5}, x0=[1.0, 1.0], hessian_diag=h, steps=300, schedule="step:step_size=100,gamma=0.5")
    for ph in phase_rates("gd", {"lr": 0.5}, sim.lr, h=h):
        # skip 20 steps of each phase so the slow mode dominates (fast mode at most 0.75^40 behind)
        fit = fit_rate(sim.loss, window=(ph.start + 20, ph.stop))
        assert fit.rate == pytest.approx(ph.rate**2, rel=1e-6)


def test_refusals_say_why():
    assert fit_rate([1.0, 2.0, np.inf]).reason.startswith("diverged")
    assert fit_rate(0.9 ** np.arange(50), diverged_at=30).reason == "diverged at step 30"
    assert fit_rate(0.9 ** np.arange(5)).reason.startswith("at the floor") or \
        fit_rate(0.9 ** np.arange(5)).reason.startswith("too short")
    assert fit_rate(0.9 ** np.arange(100), window=(10, 14)).reason.startswith("too short")
    floor = fit_rate(1e-30 ** np.arange(10))
    assert floor.reason.startswith("at the floor") and floor.rate is None
    assert fit_rate(np.zeros(10)).reason.startswith("at the floor")


@pytest.mark.parametrize("kwargs, match", [
    ({"record_every": 0}, "record_every"),
    ({"min_points": 2}, "min_points"),
    ({"floor": 2.0}, "floor"),
    ({"window": (5, 3)}, "window"),
    ({"window": "all"}, "window"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        fit_rate(0.9 ** np.arange(50), **kwargs)


def test_record_every_scales_steps():
    loss = 0.9 ** (5 * np.arange(100))
    fit = fit_rate(loss, record_every=5)
    assert fit.rate == pytest.approx(0.9, rel=1e-12) and fit.window[1] % 5 == 0
