"""simulate / simulate_batch: batch = single runs bit for bit, thread counts, divergence, closed
loop, recording, noise statistics, multi-block diagonal problems."""
import math

import numba
import numpy as np
import pytest

from optanalysis.kernels.build import kernel_module
from optanalysis.models.quadratic import make_noise, make_quadratic, rotated_hessian
from optanalysis.rules import get_rule
from optanalysis.schedules import OpenLoop, make_schedule
from optanalysis.simulation import simulate, simulate_batch

import naive

D = 5
H_DIAG = np.linspace(0.5, 2.0, D)
X0 = np.linspace(1.0, -1.0, D)
H_DENSE = rotated_hessian(H_DIAG, seed=1)
LAYOUTS = {"diag": {"hessian_diag": H_DIAG}, "dense": {"hessian": H_DENSE}}
PLATEAU = "plateau:patience=1,factor=0.5,interval=2"


@pytest.mark.parametrize("layout", ["diag", "dense"])
def test_batch_entries_equal_single_runs_bit_for_bit(layout):
    params = [{"lr": 0.1, "momentum": 0.5}, {"lr": 0.05, "momentum": 0.9}]
    schedules = ["step:step_size=7,gamma=0.5", PLATEAU]
    seeds = [3, 0, 2**64 - 1]
    kw = dict(x0=X0, steps=40, noise="hessian:sigma=0.3", batch=2, record_every=3, **LAYOUTS[layout])
    b = simulate_batch("heavy_ball", params, seeds=seeds, schedule=schedules, **kw)
    assert b.loss.shape == (2, 3, 14) and b.lr.shape == (2, 3, 40) and b.x.shape == (2, 3, D)
    for p, prm in enumerate(params):
        for s, seed in enumerate(seeds):
            one = simulate("heavy_ball", prm, seed=seed, schedule=schedules[p], **kw)
            assert np.array_equal(one.loss, b.loss[p, s])
            assert np.array_equal(one.lr, b.lr[p, s])
            assert np.array_equal(one.x, b.x[p, s])
            assert b.diverged_at[p, s] == -1 and one.diverged_at is None
    # the seeds matter and the plateau reacted: the comparison above is not vacuous
    assert not np.array_equal(b.loss[0, 0], b.loss[0, 1])
    assert len(set(b.lr[1, 0])) > 1


def test_results_do_not_depend_on_the_thread_count():
    kw = dict(seeds=list(range(6)), x0=X0, hessian_diag=H_DIAG, steps=30, noise="isotropic:sigma=0.1")
    params = [{"lr": 0.01}, {"lr": 0.02, "amsgrad": True}]
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = simulate_batch("adam", params, **kw)
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        many = simulate_batch("adam", params, **kw)
    finally:
        numba.set_num_threads(before)
    assert np.array_equal(one.loss, many.loss) and np.array_equal(one.x, many.x)


@pytest.mark.parametrize("layout", ["diag", "dense"])
@pytest.mark.parametrize("schedule", [None, "plateau:patience=1000"])
def test_divergence_is_reported_at_the_step_predicted_by_the_gd_recurrence(layout, schedule):
    # gd on a 1-D quadratic h x^2/2: x_k = (1 - lr h)^k x_0 (docs/reference.md §4.1), so the loss
    # first exceeds 1e30 max(1, loss_0) at the smallest k with |1 - lr h|^(2k) > 1e30 max(1, loss_0)/loss_0.
    h, lr, x0 = 4.0, 1.0, 2.0  # 1 - lr h = -3: every iterate (-3)^k x0 is exact in binary
    loss0 = 0.5 * h * x0**2
    k_pred = math.floor(math.log(1e30 * max(1.0, loss0) / loss0) / (2 * math.log(abs(1 - lr * h)))) + 1
    kw = {"hessian_diag": [h]} if layout == "diag" else {"hessian": [[h]]}
    res = simulate("gd", {"lr": lr}, x0=[x0], steps=200, schedule=schedule, record_x=True, **kw)
    assert res.diverged_at == k_pred
    assert np.all(np.isfinite(res.loss[:k_pred + 1])) and np.all(np.isnan(res.loss[k_pred + 1:]))
    assert np.all(res.lr[:k_pred] == lr) and np.all(np.isnan(res.lr[k_pred:]))
    # the state is the one after step K (not later)
    assert res.x[0] == (1 - lr * h) ** k_pred * x0
    assert np.array_equal(res.xs[k_pred], res.x) and np.all(np.isnan(res.xs[k_pred + 1:]))


def test_divergence_to_nan_is_reported():
    # Adagrad with eps = 0 from x = x*: g = 0, s = 0, so 0/0 = NaN at the first step.
    res = simulate("adagrad", {"lr": 0.1, "eps": 0.0}, x0=[1.0, 0.0], xstar=[1.0, 0.0],
                   hessian_diag=[1.0, 1.0], steps=5)
    assert res.diverged_at == 1 and np.isnan(res.loss[1])


def test_closed_loop_lr_follows_the_plateau_reference_and_replays_open_loop():
    """The plateau lr sequence is Plateau.lrs_for of the run's own losses, and replaying that lr
    sequence open loop (blocked path) gives the same losses bit for bit (per-step path)."""
    d, steps = 2500, 40  # > one block of coordinates
    h = np.linspace(0.01, 1.0, d)
    x0 = np.cos(np.arange(d))
    kw = dict(x0=x0, hessian_diag=h, steps=steps, noise="isotropic:sigma=0.5", seed=5)
    closed = simulate("gd", {"lr": 0.9}, schedule=PLATEAU, **kw)
    plateau = make_schedule(PLATEAU)
    metrics = closed.loss[plateau.interval::plateau.interval]
    expected = plateau.lrs_for(0.9, metrics)[:steps]
    assert np.array_equal(closed.lr, expected)
    assert closed.lr[-1] < 0.9  # it did reduce
    replay = OpenLoop("replay", {}, lambda base, n: closed.lr[:n])
    opened = simulate("gd", {"lr": 0.9}, schedule=replay, **kw)
    assert np.array_equal(opened.loss, closed.loss) and np.array_equal(opened.x, closed.x)
    ref_loss, ref_state, _ = naive.run(get_rule("gd"), {"lr": 0.9}, x0=x0, lrs=closed.lr,
                                       xstar=np.zeros(d), h=h, scale=np.full(d, 0.5), seed=5)
    np.testing.assert_allclose(closed.loss, ref_loss, rtol=1e-12)  # see test_kernels.RTOL64
    np.testing.assert_allclose(closed.x, ref_state[0], rtol=1e-12, atol=1e-14)


def test_open_loop_schedule_is_used():
    spec = "step:step_size=5,gamma=0.5"
    res = simulate("nesterov", {"lr": 0.1}, x0=X0, hessian_diag=H_DIAG, steps=17, schedule=spec)
    assert np.array_equal(res.lr, make_schedule(spec).lrs(0.1, 17))


def test_record_every_subsamples_the_full_record():
    kw = dict(x0=X0, hessian_diag=H_DIAG, steps=20, noise="isotropic:sigma=0.1", seed=1)
    full = simulate("rmsprop", {"lr": 0.01}, record_x=True, **kw)
    sub = simulate("rmsprop", {"lr": 0.01}, record_every=6, record_x=True, **kw)
    assert sub.loss.shape == (4,) and sub.xs.shape == (4, D)
    assert np.array_equal(sub.loss, full.loss[::6]) and np.array_equal(sub.xs, full.xs[::6])
    assert np.array_equal(sub.x, full.x) and sub.xs is not None and full.xs[-1].tolist() == full.x.tolist()


def test_dense_kernel_with_a_diagonal_matrix_equals_the_diagonal_kernel():
    kw = dict(x0=X0, steps=25, noise="diag:c=[0.1,0.2,0.3,0.4,0.5]", seed=9)
    a = simulate("adamw", {"lr": 0.02}, hessian_diag=H_DIAG, **kw)
    b = simulate("adamw", {"lr": 0.02}, hessian=np.diag(H_DIAG), **kw)
    # Same noise values and same per-coordinate arithmetic (a matvec with zeros off the
    # diagonal is exact); only the loss is summed differently: 1e-14 relative.
    assert np.array_equal(a.x, b.x)
    np.testing.assert_allclose(a.loss, b.loss, rtol=1e-14)


def test_gradient_noise_sample_moments():
    """gd on H = 0 from x* for one step with lr = 1 returns x* - xi: the noise itself."""
    d, sigma, batch = 20000, 2.0, 4
    res = simulate("gd", {"lr": 1.0}, x0=np.zeros(d), hessian_diag=np.zeros(d), steps=1,
                   noise=f"isotropic:sigma={sigma}", batch=batch, seed=123)
    xi = -res.x
    var = sigma**2 / batch  # = 1
    # mean: standard error sqrt(var/d) = 0.0071; 4.5 SE keeps the false-alarm rate < 1e-5
    assert abs(xi.mean()) < 4.5 * math.sqrt(var / d)
    # variance: SE of the sample variance of a normal is var*sqrt(2/(d-1)) = 0.01
    assert abs(xi.var(ddof=1) - var) < 4.5 * var * math.sqrt(2 / (d - 1))
    # Gaussian tails: P(|z| > 3) = 0.0027 -> expected 54 of 20000, sd 7.3
    assert abs(np.sum(np.abs(xi) > 3 * math.sqrt(var)) - 54) < 5 * 7.3


def test_dense_hessian_noise_has_covariance_sigma2_h_over_batch():
    n, sigma, batch = 4000, 0.7, 2
    H = rotated_hessian([0.5, 1.0, 3.0], seed=4)
    b = simulate_batch("gd", [{"lr": 1.0}], seeds=list(range(n)), x0=np.zeros(3),
                       hessian=H, steps=1, noise=f"hessian:sigma={sigma}", batch=batch)
    xi = -b.x[0]
    cov = sigma**2 * H / batch
    sample = np.cov(xi.T)
    # SE of a sample covariance entry of a Gaussian: sqrt((C_ii C_jj + C_ij^2)/n)
    se = np.sqrt((np.outer(np.diag(cov), np.diag(cov)) + cov**2) / n)
    assert np.all(np.abs(sample - cov) < 5 * se)
    assert np.all(np.abs(xi.mean(axis=0)) < 5 * np.sqrt(np.diag(cov) / n))


def test_noise_model_covariances():
    q = make_quadratic(hessian=H_DENSE)
    np.testing.assert_allclose(make_noise("hessian:sigma=2", q, 4).covariance(), H_DENSE, atol=1e-12)
    qd = make_quadratic(hessian_diag=H_DIAG)
    assert np.allclose(make_noise("hessian:sigma=2", qd, 4).covariance(), np.diag(H_DIAG))
    assert np.allclose(make_noise("diag:c=[1,2,3,4,5]", qd, 2).scale ** 2, [0.5, 1, 1.5, 2, 2.5])
    assert make_noise(None, qd) is None


def test_float32_run_is_float32_throughout():
    res = simulate("adam", {"lr": 0.01}, x0=X0, hessian_diag=H_DIAG, steps=5, dtype="float32",
                   record_x=True)
    assert res.x.dtype == np.float32 and res.xs.dtype == np.float32 and res.loss.dtype == np.float64
    assert all(s.dtype == np.float32 for s in res.state)


def test_kernel_module_is_generated_once_per_rule():
    assert kernel_module("adam") is kernel_module(get_rule("adam"))
    assert kernel_module("adam").NSTATE == 4 and kernel_module("adam").NHYPER == 6


BAD = [
    (dict(rule="nope"), ValueError, "unknown rule"),
    (dict(params={"lr": -1}), ValueError, "lr must be in"),
    (dict(params={"momentum": 0.5}), ValueError, "unknown hyperparameter"),
    (dict(params=[("lr", 1)]), TypeError, "params must be a dict"),
    (dict(x0=[1.0, 2.0]), ValueError, r"x0 must have shape \(5,\)"),
    (dict(x0=[1.0, np.nan, 0, 0, 0]), ValueError, "x0 must be finite"),
    (dict(x0=[1e200, 0, 0, 0, 0]), ValueError, "initial loss .* overflows"),
    (dict(hessian_diag=None), ValueError, "exactly one of hessian_diag"),
    (dict(hessian=np.eye(5)), ValueError, "exactly one of hessian_diag"),
    (dict(hessian_diag=[1, 2, -3, 4, 5]), ValueError, "hessian_diag must be >= 0"),
    (dict(hessian_diag=[1, 2, np.inf, 4, 5]), ValueError, "hessian_diag must be finite"),
    (dict(xstar=[0, 0]), ValueError, "xstar must have length d = 5"),
    (dict(steps=0), ValueError, "steps must be an integer >= 1"),
    (dict(steps=2.5), TypeError, "steps must be an integer"),
    (dict(record_every=11), ValueError, r"record_every must be an integer in \[1, 10\]"),
    (dict(dtype="float16"), ValueError, "dtype must be 'float64' or 'float32'"),
    (dict(noise="isotropic:sigma=1"), ValueError, "seed is required"),
    (dict(noise="gaussian:sigma=1", seed=1), ValueError, "noise: unknown kind"),
    (dict(noise="isotropic:sigma=-1", seed=1), ValueError, "sigma must be"),
    (dict(noise="diag:c=[1,2]", seed=1), ValueError, "noise diag c must have length d = 5"),
    (dict(noise="isotropic:sigma=1", seed=1, batch=0), ValueError, "batch must be an integer >= 1"),
    (dict(noise="isotropic:sigma=1", seed=-1), ValueError, r"seed must be an integer in \[0, "),
    (dict(schedule="nonsense"), ValueError, "schedule"),
    (dict(record_x=1), TypeError, "record_x must be a bool"),
]


@pytest.mark.parametrize("change,exc,match", BAD)
def test_bad_input_is_rejected_with_the_argument_named(change, exc, match):
    kw = dict(rule="gd", params=None, x0=X0, hessian_diag=H_DIAG, steps=10)
    kw.update(change)
    rule = kw.pop("rule")
    with pytest.raises(exc, match=match):
        simulate(rule, **kw)


def test_batch_bad_input():
    kw = dict(x0=X0, hessian_diag=H_DIAG, steps=3)
    with pytest.raises(TypeError, match="params_list"):
        simulate_batch("gd", {"lr": 1.0}, **kw)
    with pytest.raises(TypeError, match="seeds"):
        simulate_batch("gd", [{}], seeds=[], **kw)
    with pytest.raises(ValueError, match="one entry per params_list entry"):
        simulate_batch("gd", [{}, {}], schedule=[None], **kw)
