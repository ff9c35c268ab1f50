"""Batches of small open-loop noiseless diagonal problems run side by side as lanes
(``run_lanes`` in kernels/paths/lanes.py): each problem has the bits it has when run alone
(``run_diag``), whatever the grouping, the thread count, its schedule or its divergence."""
import numpy as np
import pytest

import optanalysis.simulation as sim
from optanalysis.kernels import threads
from optanalysis.kernels.build import kernel_module
from optanalysis.simulation import simulate, simulate_batch

# the rules without tabulated powers take the lanes path (see _LANES_MAX_D in simulation.py)
LANE_RULES = {
    "gd": [{"lr": 0.3}, {"lr": 1.9}],
    "heavy_ball": [{"lr": 0.5, "momentum": 0.8}, {"lr": 0.2}],
    "nesterov": [{"lr": 0.4, "momentum": 0.5}, {"lr": 0.9}],
    "sgd_momentum": [{"lr": 0.3, "dampening": 0.2, "weight_decay": 0.01}, {"lr": 0.5}],
    # eps = 0: the parked lanes (zero state and Hessian) compute 0 / 0 at every step
    "rmsprop": [{"lr": 0.01, "momentum": 0.5}, {"lr": 0.02, "alpha": 0.9, "eps": 0.0}],
    "adagrad": [{"lr": 0.1, "lr_decay": 0.01}, {"lr": 0.3, "initial_accumulator_value": 0.5}],
}
DIVERGES = {"gd": {"lr": 5.0}, "heavy_ball": {"lr": 4.5, "momentum": 0.5},
            "nesterov": {"lr": 5.0}, "sgd_momentum": {"lr": 6.0},
            "rmsprop": {"lr": 1e300}, "adagrad": {"lr": 1e300}}
D = 5
H = np.linspace(0.05, 1.0, D)
X0 = np.cos(np.arange(D) + 1.0)


@pytest.fixture
def lanes(monkeypatch):
    """``lanes(rule)``: the list of the ``first`` argument of each later call of the rule's
    run_lanes (one per thread)."""
    def watch(rule):
        calls = []
        km = kernel_module(rule)
        original = km.run_lanes
        monkeypatch.setattr(km, "run_lanes", lambda *a: calls.append(a[-2]) or original(*a))
        return calls
    return watch


def _equal_alone(batch, rule, params_list, schedules, **kw):
    for p, (prm, sch) in enumerate(zip(params_list, schedules)):
        one = simulate(rule, prm, schedule=sch, **kw)
        for name in ("loss", "lr", "x"):
            assert np.array_equal(getattr(one, name), getattr(batch, name)[p, 0],
                                  equal_nan=True), (p, name)
        assert batch.diverged_at[p, 0] == (-1 if one.diverged_at is None else one.diverged_at)


@pytest.mark.parametrize("rule", sorted(LANE_RULES))
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_a_batch_of_small_problems_runs_in_lanes_with_the_bits_of_each_run_alone(lanes, rule,
                                                                                 dtype):
    calls = lanes(rule)
    # schedules varying at every step and constant ones in one group; record_every does not
    # divide steps (the last pass is a single step); a problem that diverges is redone alone;
    # 25 lanes, run as 32 (LANE_PAD)
    params_list = LANE_RULES[rule] * 2 + [DIVERGES[rule]]
    schedules = ["cosine:T_max=20", None, None, "exponential:gamma=0.97", None]
    kw = dict(x0=X0, hessian_diag=H, steps=37, dtype=dtype, record_every=5)
    batch = simulate_batch(rule, params_list, schedule=schedules, **kw)
    assert len(calls) == 1
    _equal_alone(batch, rule, params_list, schedules, **kw)
    div = batch.diverged_at[:, 0]
    assert np.all(div[:-1] == -1) and div[-1] > 0  # the premise: only the last one diverged
    assert len({row.tobytes() for row in batch.x[:4, 0]}) == 4


def test_groups_and_threads_do_not_change_the_bits(lanes, monkeypatch):
    # d = 100: ten problems a group (LANES = 1024); 25 parameter sets x 2 seeds -> five groups,
    # the last partial, shared among 1, 2 or 3 threads, with problems that diverge among them
    rng = np.random.default_rng(3)
    d = 100
    h, x0 = rng.uniform(0.01, 1.0, d), rng.standard_normal(d)
    params_list = [{"lr": float(lr), "momentum": float(m)}
                   for lr, m in zip(rng.uniform(0.1, 8.0, 25), rng.uniform(0.0, 0.95, 25))]
    kw = dict(x0=x0, hessian_diag=h, steps=60, record_every=7,
              schedule="step:step_size=30,gamma=0.7")
    results = []
    calls = lanes("heavy_ball")
    for n_threads in (1, 2, 3):
        monkeypatch.setattr(threads, "count", lambda: n_threads)
        results.append(simulate_batch("heavy_ball", params_list, seeds=[0, 1], **kw))
        assert sorted(calls) == list(range(n_threads))
        calls.clear()
    div = results[0].diverged_at
    assert 0 < np.sum(div >= 0) < div.size and np.array_equal(div[:, 0], div[:, 1])
    for other in results[1:]:
        for name in ("loss", "lr", "x", "diverged_at"):
            assert np.array_equal(getattr(results[0], name), getattr(other, name),
                                  equal_nan=True), name
    for p in range(25):
        one = simulate("heavy_ball", params_list[p], **kw)
        for s in range(2):
            for name in ("loss", "lr", "x"):
                assert np.array_equal(getattr(one, name), getattr(results[0], name)[p, s],
                                      equal_nan=True), (p, s, name)


@pytest.mark.parametrize("rule, flagged", [
    ("sgd_momentum", [{"lr": 0.3, "nesterov": True}, {"lr": 0.3}, {"lr": 0.2, "nesterov": True}]),
    ("rmsprop", [{"lr": 0.01, "centered": True}, {"lr": 0.01}, {"lr": 0.05, "centered": True}]),
])
def test_problems_with_different_flags_in_one_group_each_give_their_own_run(lanes, rule, flagged):
    calls = lanes(rule)
    kw = dict(x0=X0, hessian_diag=H, steps=30, record_every=4)
    batch = simulate_batch(rule, flagged, schedule="cosine:T_max=30", **kw)
    assert len(calls) == 1
    _equal_alone(batch, rule, flagged, ["cosine:T_max=30"] * 3, **kw)
    assert not np.array_equal(batch.x[0, 0], batch.x[1, 0])  # the flag mattered


def test_a_failed_certificate_without_divergence_in_a_lane_gives_the_exact_run(lanes):
    # gd, lr = 1 on h = 4: x <- -3 x for 31 steps, then lr = 1/4 zeroes it: h x^2 passes the
    # certificate's bound but the loss stays below the divergence limit (as the d = 2048
    # case of test_simulate_paths, here among lanes)
    h = np.array([4.0, 1e-3, 1e-3, 1e-3])
    x0 = np.array([1.0, 0.0, 0.0, 0.0])
    km = kernel_module("gd")
    loss0, limit, cap = km.limits(x0, h, np.zeros(4), float(np.finfo(np.float64).max))
    assert 4.0 * 9.0**31 > cap and 0.5 * 4.0 * 9.0**31 < limit  # the premise
    calls = lanes("gd")
    kw = dict(x0=x0, hessian_diag=h, steps=40, record_every=3)
    schedules = ["multistep:milestones=[31],gamma=0.25", None]
    params_list = [{"lr": 1.0}, {"lr": 0.1}]
    batch = simulate_batch("gd", params_list, schedule=schedules, **kw)
    assert len(calls) == 1
    _equal_alone(batch, "gd", params_list, schedules, **kw)
    assert np.all(batch.diverged_at == -1) and batch.x[0, 0, 0] == 0.0
    assert batch.loss[0, 0, 10] == 0.5 * 4.0 * 9.0**30  # step 30, recorded (powers of 3 exact)


@pytest.mark.parametrize("rule, params_list", [
    ("adam", [{"lr": 0.05}, {"lr": 0.02, "beta1": 0.5, "amsgrad": True},
              {"lr": 0.05, "beta2": 0.9}]),
    ("adam_optax", [{"lr": 0.05, "nesterov": True}, {"lr": 0.05, "b1": 0.5, "nesterov": True}]),
])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_rules_with_tabulated_powers_also_give_their_bits_in_lanes(lanes, monkeypatch, rule,
                                                                   params_list, dtype):
    # simulate does not send them to lanes (slower, see _LANES_MAX_D), but run_lanes is
    # written for every rule: each lane's powers of t come from its problem's table rows
    monkeypatch.setattr(sim, "_lanes_pay", lambda km: True)
    calls = lanes(rule)
    kw = dict(x0=X0, hessian_diag=H, steps=33, dtype=dtype, record_every=4)
    schedules = ["cosine:T_max=20"] + [None] * (len(params_list) - 1)
    batch = simulate_batch(rule, params_list, schedule=schedules, **kw)
    assert len(calls) == 1
    _equal_alone(batch, rule, params_list, schedules, **kw)


def test_lanes_are_not_used_where_they_do_not_apply(lanes):
    kw = dict(x0=X0, hessian_diag=H, steps=10)
    for rule, params, extra in [("adam", {"lr": 0.1}, {}),  # tabulated powers
                                ("gd", {"lr": 0.1}, {"noise": "isotropic:sigma=0.1"}),
                                ("gd", {"lr": 0.1}, {"schedule": "plateau:patience=2"})]:
        calls = lanes(rule)
        simulate_batch(rule, [params, params], seeds=[1], **kw, **extra)
        assert not calls, rule
    calls = lanes("gd")
    simulate("gd", {"lr": 0.1}, **kw)  # a single problem
    simulate_batch("gd", [{"lr": 0.1}] * 2, x0=np.ones(129), hessian_diag=np.ones(129), steps=5)
    assert not calls
