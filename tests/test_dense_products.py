"""Dense Hessians: the documented summation order (kernels/paths/dense.py) bit for bit, the
reused loss product, and a problem's bits alone, in a batch and on 1 or 2 threads.

d = 24 and 70 reach both parts of the product (rows taken 4 at a time, and 70 = 4*17 + 2
rows one at a time)."""
import numpy as np
import pytest

from optanalysis.kernels import threads
from optanalysis.models.quadratic import rotated_hessian
from optanalysis.simulation import simulate, simulate_batch

SIZES = (24, 70)


def _problem(d):
    H = rotated_hessian(np.linspace(0.1, 2.0, d), seed=d)
    x0 = np.linspace(-1.0, 1.0, d)
    xs = np.cos(np.arange(d))
    return H, x0, xs


def _product(H, v):
    """(H v)_i summed j ascending from 0.0 in Python floats (the documented order)."""
    d = len(v)
    out = []
    for i in range(d):
        acc = 0.0
        for j in range(d):
            acc += float(H[j, i]) * float(v[j])
        out.append(acc)
    return np.array(out)


def _loss(H, x, xs):
    e = x - xs
    r = _product(H, e)
    total = 0.0
    for i in range(len(e)):
        total += float(e[i]) * float(r[i])
    return 0.5 * total


@pytest.mark.parametrize("d", SIZES)
@pytest.mark.parametrize("rule,params", [("gd", {"lr": 0.3}),
                                         ("nesterov", {"lr": 0.3, "momentum": 0.8})])
def test_dense_steps_follow_the_documented_order_bit_for_bit(d, rule, params):
    # gd's gradient point is x (the loss's product is reused); Nesterov's is x + m v
    # (its own product): both must be the fixed-order sum exactly, and so must every loss.
    H, x0, xs = _problem(d)
    H = (H + H.T) / 2  # what make_quadratic runs on (exactly symmetric)
    steps = 3
    run = simulate(rule, params, x0=x0, hessian=H, xstar=xs, steps=steps, record_x=True)
    lr, m = params["lr"], params.get("momentum", 0.0)
    x, v = x0.copy(), np.zeros(d)  # Nesterov's velocity form: y = x + m v
    assert run.loss[0] == _loss(H, x, xs)
    for k in range(steps):
        g = _product(H, (x + m * v if rule == "nesterov" else x) - xs)
        if rule == "nesterov":
            v = m * v - lr * g
            x = x + v
        else:
            x = x - lr * g
        assert np.array_equal(run.xs[k + 1], x), k
        assert run.loss[k + 1] == _loss(H, x, xs), k


@pytest.mark.parametrize("d", SIZES)
def test_dense_matches_a_float64_numpy_recurrence(d):
    # heavy ball x+ = x - lr H (x - x*) + m (x - x_prev) with NumPy's (BLAS) products: another
    # summation order, so rounding-level differences (~d eps |H| |e| a step) that this stable
    # recurrence (lr L = 0.6, momentum 0.5) does not amplify beyond ~steps of them: 1e-12.
    H, x0, xs = _problem(d)
    lr, m, steps = 0.3, 0.5, 50
    run = simulate("heavy_ball", {"lr": lr, "momentum": m}, x0=x0, hessian=H, xstar=xs,
                   steps=steps)
    x, prev = x0.copy(), x0.copy()
    for _ in range(steps):
        prev, x = x, x - lr * (H @ (x - xs)) + m * (x - prev)
    assert np.max(np.abs(run.x - x)) <= 1e-12 * np.max(np.abs(x0 - xs))
    assert abs(run.loss[-1] - 0.5 * (x - xs) @ H @ (x - xs)) <= 1e-12 * run.loss[0]


@pytest.mark.parametrize("d", SIZES)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_dense_batch_equals_alone_on_one_or_two_threads(d, dtype, monkeypatch):
    H, x0, xs = _problem(d)
    params = [{"lr": 0.2, "momentum": 0.5}, {"lr": 1.5, "momentum": 0.9},  # the 2nd diverges
              {"lr": 0.1, "momentum": 0.0}]
    kw = dict(x0=x0, hessian=H, xstar=xs, steps=40, dtype=dtype, noise="isotropic:sigma=0.1")
    results = []
    for n in (1, 2):
        monkeypatch.setattr(threads, "count", lambda n=n: n)
        results.append(simulate_batch("nesterov", params, seeds=[1, 2], **kw))
    one, two = results
    assert np.array_equal(one.loss, two.loss, equal_nan=True)
    assert np.array_equal(one.x, two.x, equal_nan=True)
    assert one.diverged_at[1, 0] > 0 and one.diverged_at[0, 0] == -1
    for p, prm in enumerate(params):
        alone = simulate("nesterov", prm, seed=2, **kw)
        assert np.array_equal(alone.loss, one.loss[p, 1], equal_nan=True)
        assert np.array_equal(alone.x, one.x[p, 1], equal_nan=True)
