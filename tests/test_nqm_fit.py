"""The calibrated noisy quadratic model: its fast expected loss equals the toolkit's exact NQM
(optanalysis.theory.noisy.expected_loss), and the least-squares calibration recovers a curve it generated."""
import numpy as np
import pytest

from optanalysis.schedules import make_schedule
from optanalysis.theory.noisy import expected_loss
from optanalysis.theory.nqm_fit import NQM, fit_nqm, nqm_loss


@pytest.mark.parametrize("seed", range(3))
def test_equals_the_exact_nqm_of_the_toolkit(seed):
    rng = np.random.default_rng(seed)
    d = 6
    h, m0, c = rng.uniform(0.05, 1.0, d), rng.normal(size=d), rng.uniform(0.01, 1.0, d)
    # constant stretches (applied in closed form), warmup and cooldown steps (one at a time), a zero lr
    lrs = make_schedule("wsd:total_steps=150,warmup_steps=20,warmup_factor=0.1,cooldown_fraction=0.3,shape=sqrt"
                        ).lrs(0.9, 160)
    steps = np.sort(rng.choice(np.arange(161), 12, replace=False))
    noise = "diag:c=[" + ",".join(repr(float(v)) for v in c) + "]"
    want = expected_loss("gd", {"lr": 0.9}, x0=m0, hessian_diag=h, steps=160, noise=noise, lrs=lrs).loss[steps]
    # closed form r^n vs n products: a few ulps per step, far below 1e-12 over 160 steps
    np.testing.assert_allclose(nqm_loss(h, m0, c, lrs, steps), want, rtol=1e-12)


def test_calibration_recovers_the_curve_it_generated():
    truth = NQM(offset=2.0, kappa=300.0, alpha=1.8, e0=3.0, beta=1.5, sigma2=0.4, d=30)
    curves = []
    for base in (5e-4, 2e-3):  # two base lrs: the noise floor ~ lr separates sigma2 from the offset
        lrs = make_schedule("wsd:total_steps=4000,warmup_steps=100,warmup_factor=0.01,cooldown_fraction=0"
                            ).lrs(base, 4000)
        steps = np.arange(200, 4001, 100)
        curves.append((lrs, steps, truth.loss(lrs, steps)))
    fit = fit_nqm(curves, d=30)
    for lrs, steps, loss in curves:
        # noise-free data of the model's own family: the fit reaches it to the solver's tolerance
        np.testing.assert_allclose(fit.loss(lrs, steps), loss, rtol=1e-5)


def test_bad_input():
    with pytest.raises(ValueError, match="h, m0 and c must be 1-D arrays of one length"):
        nqm_loss([1.0], [1.0, 2.0], [1.0], [0.1], [0])
    with pytest.raises(ValueError, match="eta must be a 1-D array of finite lrs"):
        nqm_loss([1.0], [1.0], [1.0], [np.nan], [0])
    with pytest.raises(ValueError, match=r"steps must be increasing integers in \[0, 1\]"):
        nqm_loss([1.0], [1.0], [1.0], [0.1], [2])
    with pytest.raises(ValueError, match="at least one"):
        fit_nqm([])
