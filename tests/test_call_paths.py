"""The fast paths of a small call (issue 18): the caches of pure work are keyed by everything the
work depends on, the one-problem path has the bits of the batch path, and predict's compiled step
loop has the bits of the NumPy loop it replaced."""
import numpy as np
import pytest

import optanalysis as oa
from optanalysis.kernels import kernel_module
from optanalysis.kernels.arguments import _power_table, power_tables
from optanalysis.rules import get_rule
from optanalysis.schedules import make_schedule, open_loop_lrs
from optanalysis.theory.prediction import _init_state, linear_maps

H = np.linspace(0.05, 1.0, 6)
X0 = np.linspace(-1.0, 1.0, 6)


def test_open_loop_lrs_are_keyed_by_schedule_base_and_steps():
    spec = "cosine:T_max=20"
    first = open_loop_lrs(spec, 0.5, 30)
    assert open_loop_lrs(spec, 0.5, 30) is first  # cached
    assert not first.flags.writeable  # shared: nobody may change it
    for other, args in [("cosine:T_max=21", (0.5, 30)), (spec, (0.25, 30)), (spec, (0.5, 31))]:
        got = open_loop_lrs(other, *args)
        np.testing.assert_array_equal(got, make_schedule(other).lrs(*args))
        assert got.shape != first.shape or not np.array_equal(got, first)
    sched = make_schedule(spec)  # an object: keyed by identity, the same values
    np.testing.assert_array_equal(open_loop_lrs(sched, 0.5, 30), first)
    assert open_loop_lrs("plateau:patience=2", 0.5, 30) is None  # closed loop
    long = open_loop_lrs(spec, 0.5, 20001)  # beyond the cached lengths: still right
    np.testing.assert_array_equal(long, make_schedule(spec).lrs(0.5, 20001))
    with pytest.raises(TypeError, match="schedule must be"):
        open_loop_lrs({"not": "hashable"}, 0.5, 30)  # make_schedule's error, not the cache's


def test_a_changed_schedule_or_hyperparameter_changes_the_run():
    kw = dict(hessian_diag=H, x0=X0, steps=40)
    runs = [oa.simulate("adam", {"lr": 0.1, "beta1": b1}, schedule=s, **kw).loss
            for b1 in (0.9, 0.8) for s in ("cosine:T_max=40", "cosine:T_max=20")]
    for i in range(4):
        for j in range(i):
            assert not np.array_equal(runs[i], runs[j])


@pytest.mark.parametrize("rule, params", [("adam", {"lr": 0.05, "beta1": 0.8}),
                                          ("heavy_ball", {"lr": 0.5, "momentum": 0.7})])
def test_one_problem_path_has_the_bits_of_the_batch_path(rule, params):
    """simulate (one problem: cached powers and lrs, no row sharing) against the same problem
    inside a batch (np.unique rows, the table computed afresh)."""
    other = dict(params, lr=0.01)
    kw = dict(hessian_diag=H, x0=X0, steps=30, schedule="step:step_size=7,gamma=0.5")
    alone = oa.simulate(rule, params, **kw)
    batch = oa.simulate_batch(rule, [other, params], **kw)
    np.testing.assert_array_equal(batch.loss[1, 0], alone.loss)
    np.testing.assert_array_equal(batch.x[1, 0], alone.x)
    np.testing.assert_array_equal(batch.lr[1, 0], alone.lr)


def test_power_rows_are_keyed_by_bits_and_start_step():
    km = kernel_module("adam")
    rule = get_rule("adam")
    for beta1, start in [(0.9, 0), (0.8, 0), (0.8, 5), (-0.0, 0), (0.0, 0)]:
        hp = rule.params_table([{"beta1": beta1}])
        table, rows = power_tables(km, hp, 9, start)
        for j, base in enumerate(km.POW_BASES):
            fresh = _power_table(km, j, hp[:, base].view(np.int64), 9, start)
            np.testing.assert_array_equal(table[rows[0, j]].view(np.int64), fresh[0].view(np.int64))


def _numpy_loop(rule, params, h, y0, ystar, lrs):
    """The NumPy loop predict ran before its loop was compiled: einsum of each step's map."""
    rule = get_rule(rule)
    params = rule.params(**params)
    maps = linear_maps(rule, params)
    rest = maps.rest(params)
    s = _init_state(rule, rule.values(params), y0)
    losses = [0.5 * h * (s[:, 0] - ystar) ** 2]
    with np.errstate(over="ignore", invalid="ignore"):
        for k, lr in enumerate(lrs):
            t = 1 if k == 0 else 2
            A, a = maps.A(t, h, lr, rest), maps.a(t, h, lr, rest)[..., 0]
            s = np.einsum("dij,dj->di", A, s) + a * ystar[:, None]
            losses.append(0.5 * h * (s[:, 0] - ystar) ** 2)
    return np.array(losses), s


@pytest.mark.parametrize("rule, params", [("gd", {"lr": 0.7}),
                                          ("heavy_ball", {"lr": 0.6, "momentum": 0.8}),
                                          ("sgd_momentum", {"lr": 0.3, "momentum": 0.7,
                                                            "dampening": 0.2, "nesterov": False}),
                                          ("nesterov", {"lr": 0.4, "momentum": 0.9}),
                                          ("gd", {"lr": 2.5})])  # on H * 1e9: overflows to inf
def test_compiled_prediction_loop_has_the_numpy_loop_bits(rule, params):
    rng = np.random.default_rng(3)
    xstar = rng.normal(size=H.size)
    lrs = np.where(rng.random(25) < 0.3, -0.0, rng.uniform(0, 1, 25)) * params["lr"]
    lrs[3:9] = lrs[2]  # repeated lrs share a map
    for steps_kw in (dict(lrs=lrs), dict(steps=25, schedule="cosine:T_max=25"), dict(steps=25)):
        steps = steps_kw.pop("steps", 25)
        h = H * 1e9 if params["lr"] > 2 else H
        pred = oa.predict(rule, params, hessian_diag=h, x0=X0, xstar=xstar, steps=steps,
                          record_x=True, **steps_kw)
        assert (pred.diverged_at is not None) == (params["lr"] > 2)
        losses, s = _numpy_loop(rule, params, h, X0.copy(), xstar, pred.lr)
        np.testing.assert_array_equal(pred.loss_directions.view(np.int64), losses.view(np.int64))
        np.testing.assert_array_equal(np.stack(pred.state, axis=1).view(np.int64),
                                      s.view(np.int64))
