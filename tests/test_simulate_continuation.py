"""simulate / simulate_batch from a given state and step count, with a given lr sequence.

* ``initial_state`` + ``start_step``: a run continued from the state after k steps, with
  ``start_step=k`` and the rest of its lrs, equals the uninterrupted run bit for bit (every
  kernel path: exact, fast, fused, lanes, split blocks, dense; float64 and float32; with noise,
  whose stream is keyed by the step count and so shifts with ``start_step``);
* ``start_step = 10**18`` is the steady state: ``beta**t`` is 0, bias corrections are 1;
* ``lrs``: a user's sequence is the schedule it tabulates.
"""
import numpy as np
import pytest

import optanalysis.simulation as sim
from optanalysis.kernels import threads
from optanalysis.models.quadratic import rotated_hessian
from optanalysis.rules import get_rule
from optanalysis.schedules import make_schedule
from optanalysis.simulation import simulate, simulate_batch

import naive

D = 10
H = np.linspace(0.05, 1.0, D)
X0 = np.cos(np.arange(D))
H_DENSE = rotated_hessian(np.linspace(0.1, 1.0, 6), seed=4)
X0_DENSE = np.linspace(1.0, -0.5, 6)
STEPS, K = 40, 13  # K odd: the continued run's fused passes start off the uninterrupted run's
SCHEDULE = "cosine:T_max=40"
RULES = {"adam": {"lr": 0.05, "amsgrad": True}, "heavy_ball": {"lr": 0.5, "momentum": 0.8},
         "rmsprop": {"lr": 0.01, "centered": True}, "adam_optax": {"lr": 0.05, "nesterov": True}}


def _continued(rule, params, lrs, **kw):
    """(uninterrupted run, its first K steps, the run continued from there)."""
    whole = simulate(rule, params, lrs=lrs, steps=STEPS, **kw)
    x0 = kw.pop("x0")
    head = simulate(rule, params, lrs=lrs[:K], steps=K, x0=x0, **kw)
    tail = simulate(rule, params, lrs=lrs[K:], steps=STEPS - K, initial_state=np.stack(head.state),
                    start_step=K, **kw)
    return whole, head, tail


def _assert_continues(whole, head, tail):
    assert np.array_equal(head.loss, whole.loss[:K + 1])
    assert np.array_equal(tail.loss, whole.loss[K:])
    for a, b in zip(tail.state, whole.state):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    assert tail.start_step == K and tail.steps == STEPS - K


@pytest.mark.parametrize("rule", sorted(RULES))
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("layout", ["diag", "dense"])
@pytest.mark.parametrize("noise", [None, "isotropic:sigma=0.2"])
def test_a_continued_run_equals_the_uninterrupted_run(rule, dtype, layout, noise):
    lrs = make_schedule(SCHEDULE).lrs(RULES[rule]["lr"], STEPS)
    problem = ({"x0": X0, "hessian_diag": H} if layout == "diag"
               else {"x0": X0_DENSE, "hessian": H_DENSE})
    whole, head, tail = _continued(rule, RULES[rule], lrs, dtype=dtype, noise=noise, seed=7,
                                   **problem)
    _assert_continues(whole, head, tail)
    assert whole.diverged_at is None and whole.loss[-1] < 0.9 * whole.loss[0]


def test_the_noise_and_the_step_count_shift_with_start_step():
    # the same state continued from another step count is another run: the comparison above
    # would hold vacuously if start_step were ignored
    lrs = np.full(STEPS, 0.05)
    whole, head, _ = _continued("adam", {"lr": 0.05}, lrs, x0=X0, hessian_diag=H)
    kw = dict(lrs=lrs[K:], steps=STEPS - K, initial_state=np.stack(head.state), hessian_diag=H)
    assert not np.array_equal(simulate("adam", **kw, start_step=K + 1).loss, whole.loss[K:])
    noisy = dict(kw, lrs=None, noise="isotropic:sigma=0.2", seed=3)
    a, b = simulate("adam", **noisy, start_step=K), simulate("adam", **noisy, start_step=K + 1)
    assert not np.array_equal(a.loss, b.loss)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_a_continued_batch_equals_the_uninterrupted_batch_in_lanes_and_alone(dtype):
    # heavy ball, open loop, noiseless, d small: simulate_batch advances problems as lanes
    params = [{"lr": 0.5, "momentum": 0.8}, {"lr": 0.3, "momentum": 0.5}]
    lrs = np.stack([make_schedule(SCHEDULE).lrs(p["lr"], STEPS) for p in params])
    kw = dict(hessian_diag=H, dtype=dtype)
    whole = simulate_batch("heavy_ball", params, lrs=lrs, steps=STEPS, x0=X0, **kw)
    heads = [simulate("heavy_ball", p, lrs=lrs[i, :K], steps=K, x0=X0, **kw)
             for i, p in enumerate(params)]
    states = np.stack([np.stack(h.state) for h in heads])
    tail = simulate_batch("heavy_ball", params, lrs=lrs[:, K:], steps=STEPS - K,
                          initial_state=states, start_step=K, **kw)
    assert np.array_equal(tail.loss, whole.loss[:, :, K:])
    assert np.array_equal(tail.x, whole.x)
    for i, p in enumerate(params):  # and each entry is its single run
        one = simulate("heavy_ball", p, lrs=lrs[i, K:], steps=STEPS - K, initial_state=states[i],
                       start_step=K, **kw)
        assert np.array_equal(one.loss, tail.loss[i, 0]) and np.array_equal(one.x, tail.x[i, 0])


def test_a_continued_large_problem_split_over_threads_equals_the_uninterrupted_run(monkeypatch):
    monkeypatch.setattr(threads, "count", lambda: 2)
    monkeypatch.setattr(sim, "_SPLIT_MIN_WORK", 0)  # every size takes the split path
    d = 1300  # three blocks
    kw = dict(hessian_diag=np.linspace(0.01, 1.0, d), noise="isotropic:sigma=0.1", seed=5)
    lrs = np.full(STEPS, 0.05)
    whole, head, tail = _continued("adam", {"lr": 0.05}, lrs, x0=np.cos(np.arange(d)), **kw)
    _assert_continues(whole, head, tail)


@pytest.mark.parametrize("rule", ["adam", "adamw", "adam_optax"])
@pytest.mark.parametrize("layout", ["diag", "dense"])
def test_the_steady_state_has_no_bias_correction(rule, layout):
    # start_step = 10**18: every beta**t underflows to 0 (the tabulated powers), the step count
    # is the float of 10**18 + k + 1; the naive reference calls the rule with that t
    r = get_rule(rule)
    lr = 0.02
    problem = ({"hessian_diag": H, "x0": X0} if layout == "diag"
               else {"hessian": H_DENSE, "x0": X0_DENSE})
    h, H_ = (H, None) if layout == "diag" else (None, H_DENSE)
    x0 = problem.pop("x0")
    state0 = np.stack([np.broadcast_to(s, x0.shape) + 0.1 * k
                       for k, s in enumerate(r.init(x0, *r.values(r.params(lr=lr))))])
    state0[1:] = np.abs(state0[1:])  # second moments are >= 0
    t0 = 10**18
    res = simulate(rule, {"lr": lr}, initial_state=state0, start_step=t0, steps=20, **problem)
    ref_loss, ref_state, _ = naive.run(r, r.params(lr=lr), x0=None, lrs=np.full(20, lr),
                                       xstar=np.zeros(x0.size), h=h, H=H_, state0=state0, t0=t0)
    np.testing.assert_allclose(res.loss, ref_loss, rtol=1e-12)
    for got, want in zip(res.state, ref_state):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)
    from_one = simulate(rule, {"lr": lr}, initial_state=state0, start_step=1, steps=20, **problem)
    assert not np.allclose(from_one.loss, res.loss, rtol=1e-6)  # the bias corrections mattered


def test_power_tables_start_at_the_run_s_step_count():
    km = sim.kernel_module("adam")
    bases = np.array([0.5, 0.9, 0.999, 1.0])
    for t0 in (0, 7, 2**53 - 3, 10**18):
        table = np.empty((bases.size, 10))
        km.power_table(table, bases, 0, t0, 0, 1)
        want = [[float(b) ** float(t0 + k + 1) for k in range(10)] for b in bases]
        assert table.tolist() == want, t0


def test_divergence_is_measured_from_the_run_s_own_start():
    # gd with lr h = 3 doubles the error's magnitude each step: the loss 1/2 x^2 grows 4x.  From
    # L0 = 5e19 the run diverges at the first K with L0 4^K > 1e30 L0, K = 50; from L0 = 1/2 at
    # the first K with 4^K / 2 > 1e30, K = 51 (from 5e19 against that limit it would be K = 8)
    res = simulate("gd", {"lr": 3.0}, initial_state=[[1e10]], hessian_diag=[1.0], steps=60,
                   start_step=100)
    assert res.diverged_at == 50
    fresh = simulate("gd", {"lr": 3.0}, x0=[1.0], hessian_diag=[1.0], steps=60)
    assert fresh.diverged_at == 51


def test_an_initial_state_equal_to_init_gives_the_run_from_x0():
    r = get_rule("adam")
    kw = dict(hessian_diag=H, steps=25, noise="isotropic:sigma=0.1", seed=2)
    state0 = np.stack([np.broadcast_to(s, X0.shape) for s in r.init(X0, *r.values(r.params()))])
    a = simulate("adam", x0=X0, **kw)
    b = simulate("adam", initial_state=state0, **kw)
    c = simulate("adam", x0=X0, initial_state=state0, **kw)  # x0 may be repeated
    assert np.array_equal(a.loss, b.loss) and np.array_equal(a.loss, c.loss)


@pytest.mark.parametrize("rule, schedule", [("heavy_ball", SCHEDULE), ("adam", "step:step_size=5"),
                                            ("gd", None)])
def test_lrs_are_the_schedule_they_tabulate(rule, schedule):
    kw = dict(x0=X0, hessian_diag=H, steps=30, noise="isotropic:sigma=0.1", seed=1)
    lrs = make_schedule(schedule).lrs(0.05, 30) if schedule else np.full(30, 0.05)
    by_schedule = simulate(rule, {"lr": 0.05}, schedule=schedule, **kw)
    by_lrs = simulate(rule, {"lr": 0.9}, lrs=lrs, **kw)  # the base lr is unused
    assert np.array_equal(by_schedule.loss, by_lrs.loss)
    assert np.array_equal(by_lrs.lr, lrs)
    batch = simulate_batch(rule, [{"lr": 0.05}, {"lr": 0.1}], seeds=[1], lrs=lrs,
                           **{k: v for k, v in kw.items() if k != "seed"})
    assert np.array_equal(batch.loss[0, 0], by_lrs.loss) and np.array_equal(batch.loss[1, 0],
                                                                             by_lrs.loss)


def test_batch_lrs_one_sequence_per_entry():
    kw = dict(x0=X0, hessian_diag=H, steps=20)
    lrs = np.stack([np.linspace(0.1, 0.0, 20), np.full(20, 0.3), np.linspace(0.1, 0.0, 20)])
    batch = simulate_batch("heavy_ball", [{}, {}, {"momentum": 0.5}], lrs=lrs, **kw)
    for p, prm in enumerate([{}, {}, {"momentum": 0.5}]):
        one = simulate("heavy_ball", prm, lrs=lrs[p], **kw)
        assert np.array_equal(one.loss, batch.loss[p, 0])
        assert np.array_equal(batch.lr[p, 0], lrs[p])
    assert not np.array_equal(batch.loss[0, 0], batch.loss[1, 0])


BAD = [
    (dict(lrs=np.full(10, 0.1), schedule="cosine:T_max=10"), ValueError, "either schedule or lrs"),
    (dict(lrs=np.full(9, 0.1)), ValueError, "lrs must have shape"),
    (dict(lrs=np.full((2, 10), 0.1)), ValueError, "lrs must have shape"),
    (dict(lrs=[0.1] * 9 + [-0.1]), ValueError, "lrs entries must be >= 0"),
    (dict(lrs=[0.1] * 9 + [np.nan]), ValueError, "lrs must be finite"),
    (dict(lrs="0.1"), TypeError, "lrs must be"),
    (dict(x0=None), TypeError, "x0 is required"),
    (dict(x0=None, initial_state=np.zeros((1, 3))), ValueError,
     r"initial_state must have shape \(2, 3\)"),
    (dict(x0=None, initial_state=[[0, 1, np.inf], [0, 0, 0]]), ValueError,
     "initial_state must be finite"),
    (dict(x0=None, initial_state=[["a"] * 3] * 2), TypeError, "initial_state must be"),
    (dict(x0=[1, 2, 3], initial_state=np.zeros((2, 3))), ValueError, "x0 must be omitted or equal"),
    (dict(x0=None, initial_state=[[1e39, 0, 0], [0, 0, 0]], dtype="float32"), ValueError,
     "initial_state must be within the float32 range"),
    (dict(x0=None, initial_state=[[0, 0, 0], [1e39, 0, 0]], dtype="float32"), ValueError,
     "initial_state must be within the float32 range"),
    (dict(x0=None, initial_state=[[1e300, 0, 0], [0, 0, 0]]), ValueError,
     "initial_state: the initial loss"),
    (dict(start_step=-1), ValueError, r"start_step must be an integer in \[0, "),
    (dict(start_step=1.0), TypeError, "start_step must be an integer"),
    (dict(start_step=True), TypeError, "start_step must be an integer"),
    (dict(start_step=2**63 - 5), ValueError, "start_step must be an integer in"),
]


@pytest.mark.parametrize("change, exc, match", BAD)
def test_bad_start_or_lrs_is_rejected_naming_the_argument(change, exc, match):
    kw = dict(x0=[1.0, 2.0, 3.0], hessian_diag=[1.0, 2.0, 3.0], steps=10)
    kw.update(change)
    with pytest.raises(exc, match=match):
        simulate("heavy_ball", {"lr": 0.1}, **kw)


def test_batch_initial_state_shapes():
    kw = dict(hessian_diag=[1.0, 2.0], steps=5)
    with pytest.raises(ValueError, match=r"initial_state must have shape \(2, 2\) or \(3, 2, 2\)"):
        simulate_batch("heavy_ball", [{}] * 3, initial_state=np.zeros((2, 2, 2)), **kw)
    with pytest.raises(ValueError, match=r"lrs must have shape \(5,\) or \(3, 5\)"):
        simulate_batch("heavy_ball", [{}] * 3, x0=[1, 1], lrs=np.zeros((2, 5)), **kw)
    one = simulate_batch("heavy_ball", [{}] * 3, initial_state=np.ones((2, 2)), **kw)
    assert np.array_equal(one.loss[0], one.loss[2])


def test_results_show_themselves_as_a_table():
    res = simulate("gd", {"lr": 3.0}, x0=[1.0], hessian_diag=[1.0], steps=60, start_step=4)
    html = res._repr_html_()
    assert html.startswith("<table>") and "<td>diverged at</td><td>51</td>" in html
    assert "<td>start step</td><td>4</td>" in html and "<td>steps</td><td>60</td>" in html
    batch = simulate_batch("gd", [{"lr": 0.1}, {"lr": 3.0}], seeds=[0, 1], x0=[1.0],
                           hessian_diag=[1.0], steps=60)
    html = batch._repr_html_()
    assert "2 parameter sets x 2 seeds, 60 steps" in html
    assert html.count("<tr>") == 5
    assert "<td>1</td><td>1</td><td>0.5</td><td>nan</td><td>51</td>" in html
