"""The compiled kernels against the naive reference, for every rule x {diagonal, dense} x dtype.

One compilation per rule x layout x dtype (the hyperparameter variants are runtime arguments).
"""
import numpy as np
import pytest

from optanalysis.models.quadratic import make_noise, make_quadratic, rotated_hessian
from optanalysis.rules import RULES
from optanalysis.schedules import make_schedule
from optanalysis.simulation import simulate

import naive

D, STEPS, LR = 6, 30, 0.05
H_DIAG = np.linspace(0.2, 2.0, D)
X0 = np.linspace(-1.0, 1.5, D)
XSTAR = np.linspace(0.3, -0.2, D)
H_DENSE = rotated_hessian(H_DIAG, seed=3)
NOISE = "isotropic:sigma=0.05"
SCHEDULE = "step:step_size=10,gamma=0.5"  # the lr changes during the run
# float64: the kernel performs the naive loop's operations in the same order except the loss
# sum (8 lanes vs NumPy's pairwise) and the dense matvec (sequential vs BLAS): rounding-level
# differences, amplified little over 30 steps.
RTOL64 = 1e-12
# float32: both sides keep scalar expressions (1 - beta1, beta2**t) in float64 and round them to
# float32 where they meet an array (kernels/mixed.py; NumPy's NEP 50 with Python floats), so
# the states are bit-identical on a diagonal H (asserted) and the losses differ by the sum order
# only.  Dense H: both matvecs are float64 (sequential vs BLAS order) rounded to float32, which
# can land on either side of a float32 rounding boundary: a few float32 ulps over 30 steps.
RTOL32 = 1e-6


def _variants(rule):
    """Three hyperparameter sets: defaults, every flag on, every zero-default real switched on."""
    flags = {p.name: True for p in rule.hyper if p.flag}
    if "eps" in rule.hyper_names:  # centered + bias correction: the first variance estimate is
        flags["eps"] = 1e-2        # exactly 0, so eps alone sets the first step (1e-8: a blow-up)
    reals = {p.name: 0.05 for p in rule.hyper if not p.flag and p.name != "lr" and p.default == 0}
    out = [{"lr": LR}, {"lr": LR, **flags}, {"lr": LR, **reals}]
    return [rule.params(**{**v, **MOVES.get(rule.name, {})}) for v in out]


# Adadelta's first steps have size ~ lr sqrt(eps) |g| / sqrt((1 - rho) g^2 + eps): with eps = 0.1
# (lr stays LR, the schedule's base) 30 steps move the loss by more than the 1 % the test asks.
MOVES = {"adadelta": {"eps": 0.1}}


CASES = [(name, layout, dtype) for name in RULES for layout in ("diag", "dense")
         for dtype in ("float64", "float32")]


@pytest.mark.parametrize("name,layout,dtype", CASES)
def test_kernel_equals_naive_reference(name, layout, dtype):
    rule = RULES[name]
    rtol = RTOL64 if dtype == "float64" else RTOL32
    q = make_quadratic(**({"hessian_diag": H_DIAG} if layout == "diag" else {"hessian": H_DENSE}),
                       xstar=XSTAR)
    noise = make_noise(NOISE, q)
    hkw = {"hessian_diag": H_DIAG} if layout == "diag" else {"hessian": H_DENSE}
    lrs = make_schedule(SCHEDULE).lrs(LR, STEPS)
    for params in _variants(rule):
        for with_noise in (False, True):
            res = simulate(rule.name, params, x0=X0, xstar=XSTAR, steps=STEPS, dtype=dtype,
                           schedule=SCHEDULE, noise=NOISE if with_noise else None, seed=11, **hkw)
            ref_loss, ref_state, ref_div = naive.run(
                rule, params, x0=X0, xstar=XSTAR, lrs=lrs, dtype=dtype,
                h=H_DIAG if layout == "diag" else None, H=H_DENSE if layout == "dense" else None,
                scale=noise.scale if with_noise else None, seed=11)
            where = f"{name} {layout} {dtype} {params} noise={with_noise}"
            assert res.diverged_at is None and ref_div is None, where
            assert abs(ref_loss[-1] - ref_loss[0]) > 0.01 * ref_loss[0], where  # the run moved
            np.testing.assert_allclose(res.loss, ref_loss, rtol=RTOL64, err_msg=where)
            for got, want in zip(res.state, ref_state):
                assert got.dtype == np.dtype(dtype)
                if dtype == "float32" and layout == "diag":
                    np.testing.assert_array_equal(got, want, err_msg=where)
                scale = max(1.0, np.abs(want).max())
                np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * scale, err_msg=where)
            assert np.array_equal(res.lr, lrs)
