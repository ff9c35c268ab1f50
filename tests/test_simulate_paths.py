"""The diagonal kernel's three paths give the same bits.

* fast: an open-loop run sums its loss only at recorded steps and certifies every other step
  elementwise (h_i e_i^2 <= limit / d, ``limits`` in kernels/paths/core.py);
* exact: every step's loss summed (the plateau controller; an open-loop run whose certificate
  failed is redone this way);
* split: one large open-loop problem's coordinate blocks shared among threads.
"""
import math
from pathlib import Path

import numpy as np
import pytest

import optanalysis.simulation as sim
from optanalysis.kernels import threads as kernel_threads
from optanalysis.kernels.arguments import lr_plans
from optanalysis.kernels.build import kernel_module
from optanalysis.rules import RULES as RULES_ALL, get_rule
from optanalysis.schedules import make_schedule
from optanalysis.simulation import simulate, simulate_batch

import naive

D = 2500  # several blocks of coordinates, the last one partial (asserted below)
H = np.linspace(0.01, 1.0, D)
X0 = np.cos(np.arange(D))
NEVER_CUTS = "plateau:patience=100000"  # closed loop (exact path) with a constant lr
RULES = {"heavy_ball": {"lr": 0.5}, "adam": {"lr": 0.05, "amsgrad": True},
         "rmsprop": {"lr": 0.01, "centered": True}, "sgd_momentum": {"lr": 0.3, "momentum": 0.9}}


@pytest.fixture
def threads(monkeypatch):
    """Set the thread count simulate uses (Python threads over nogil kernels: any count works
    on any machine) and let every problem size take the split path."""
    def use(n):
        monkeypatch.setattr(kernel_threads, "count", lambda: n)
    monkeypatch.setattr(sim, "_SPLIT_MIN_WORK", 0)
    return use


@pytest.mark.parametrize("rule", sorted(RULES))
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("record_every", [1, 7])
def test_fast_path_equals_the_per_step_path(rule, dtype, record_every):
    kw = dict(x0=X0, hessian_diag=H, steps=40, noise="isotropic:sigma=0.2", seed=11, dtype=dtype,
              record_every=record_every, record_x=True)
    fast = simulate(rule, RULES[rule], **kw)
    exact = simulate(rule, RULES[rule], schedule=NEVER_CUTS, **kw)
    assert np.all(exact.lr == RULES[rule]["lr"])  # the controller never acted
    for a, b in [(fast.loss, exact.loss), (fast.xs, exact.xs), *zip(fast.state, exact.state)]:
        assert np.array_equal(a, b)
    assert fast.diverged_at is None and np.all(np.isfinite(fast.loss))


@pytest.mark.parametrize("rule", sorted(RULES_ALL))
@pytest.mark.parametrize("d", [3, 10, 24])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("record_every", [4, 10])
def test_a_small_block_run_as_whole_vectors_keeps_every_rules_bits(rule, d, dtype, record_every):
    # The fast path runs a block of n coordinates as a multiple of LANE_PAD lanes (3, 10 and 24
    # as 8, 16 and 24), the extra ones a zero state of a zero Hessian beside the block's own h
    # and x*.  A block of at most DEEP_BYTES per row (all but d = 24 in float64) runs DEEP = 8
    # steps per pass where no record falls inside (record_every = 10: steps 1-8, 11-18, 21-28;
    # the others two or one at a time) if the rule allows it (at most two state arrays, no
    # tabulated powers: gd, heavy_ball, sgd_momentum, nesterov, adagrad).
    kw = dict(x0=X0[:d], hessian_diag=H[-d:], xstar=np.linspace(-1, 1, d), steps=30,
              noise="isotropic:sigma=0.2", seed=7, dtype=dtype, record_every=record_every,
              record_x=True)
    fast = simulate(rule, {"lr": 0.01}, **kw)
    exact = simulate(rule, {"lr": 0.01}, schedule=NEVER_CUTS, **kw)
    for a, b in [(fast.loss, exact.loss), (fast.xs, exact.xs), *zip(fast.state, exact.state)]:
        assert np.array_equal(a, b)
    assert fast.diverged_at is None and np.all(np.isfinite(fast.loss))


@pytest.mark.parametrize("rule", sorted(RULES))
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_a_varying_lr_in_fused_steps_keeps_the_bits_of_single_steps(rule, dtype):
    # record_every = 9: steps fused two at a time, each with its own lr (the 8-step passes need
    # a constant lr); record_every = 1: one step per pass
    kw = dict(x0=X0[:10], hessian_diag=H[-10:], xstar=np.linspace(-1, 1, 10), steps=37,
              schedule="cosine:T_max=20", noise="isotropic:sigma=0.2", seed=5, dtype=dtype)
    fused = simulate(rule, RULES[rule], record_every=9, **kw)
    single = simulate(rule, RULES[rule], record_every=1, **kw)
    assert np.array_equal(fused.loss, single.loss[::9])
    for a, b in zip(fused.state, single.state):
        assert np.array_equal(a, b)
    assert len(set(fused.lr.tolist())) > 10  # the premise: the lr varies


def test_a_constant_lr_is_one_value_and_the_lrs_used_are_every_steps():
    steps = 10**7  # one value, not an 80 MB table
    table, row, closed, *_ = lr_plans(np.array([0.1, 0.2, 0.1]),
                                      [None, NEVER_CUTS, "step:step_size=20000000"], steps, 1)
    assert table.shape == (3, 1) and table[row, 0].tolist() == [0.1, 0.2, 0.1]
    assert closed.tolist() == [False, True, False]
    spec = "step:step_size=2,gamma=0.5"
    table, row, *_ = lr_plans(np.array([0.1, 0.1]), [None, spec], 9, 1)
    assert table.shape == (2, 9) and np.all(table[row[0]] == 0.1)
    assert np.array_equal(table[row[1]], make_schedule(spec).lrs(0.1, 9))
    res = simulate("gd", {"lr": 0.1}, x0=[1.0, 2.0], hessian_diag=[1.0, 3.0], steps=50)
    assert res.lr.shape == (50,) and np.all(res.lr == 0.1)


def _transient_case():
    """gd with a coordinate (h = 4, in the first block) grown by lr = 1, i.e. x <- -3 x, for
    30 steps, then zeroed by lr = 1/4: its h x^2 passes limit / d (the certificate fails) but
    the loss stays below the limit, so the run must not be called divergent."""
    d = 2048
    h = np.full(d, 1e-3)
    h[0] = 4.0
    x0 = np.zeros(d)
    x0[0] = 1.0
    return dict(x0=x0, hessian_diag=h, steps=45, schedule="multistep:milestones=[30],gamma=0.25")


def test_failed_certificate_without_divergence_gives_the_exact_run():
    case = _transient_case()
    loss0 = 0.5 * 4.0
    limit = 1e30 * max(1.0, loss0)
    _, _, cap = kernel_module("gd").limits(case["x0"], case["hessian_diag"], np.zeros(2048),
                                           float(np.finfo(np.float64).max))
    assert 4.0 * 9.0**28 > cap and 0.5 * 4.0 * 9.0**30 < limit  # the premise: trips, no divergence
    res = simulate("gd", {"lr": 1.0}, record_x=True, **case)
    assert res.diverged_at is None
    assert res.xs[30][0] == (-3.0) ** 30 and res.x[0] == 0.0  # powers of 3 are exact in float64
    ref_loss, ref_state, _ = naive.run(get_rule("gd"), {"lr": 1.0}, x0=case["x0"], lrs=res.lr,
                                       xstar=np.zeros(2048), h=case["hessian_diag"])
    np.testing.assert_allclose(res.loss, ref_loss, rtol=1e-12)  # see test_kernels.RTOL64
    # the recorded subsample is the same rerun
    sub = simulate("gd", {"lr": 1.0}, record_every=5, **case)
    assert np.array_equal(sub.loss, res.loss[::5]) and np.array_equal(sub.x, res.x)


@pytest.mark.parametrize("record_every", [1, 3])
def test_divergence_in_a_later_block_is_found_at_its_exact_step(record_every):
    # gd, lr = 1, with h = 4 at a coordinate of the second block: x_k = (-3)^k there (as in
    # test_simulate's 1-D case); the other coordinates contribute < 1e-3 to the loss.
    d, i = 2048, 1500
    h = np.full(d, 1e-9)
    h[i] = 4.0
    x0 = np.zeros(d)
    x0[i] = 2.0
    res = simulate("gd", {"lr": 1.0}, x0=x0, hessian_diag=h, steps=100, record_every=record_every,
                   record_x=True)
    loss0 = 0.5 * 4.0 * 4.0
    k_pred = math.floor(math.log(1e30 * loss0 / loss0) / (2 * math.log(3.0))) + 1
    assert res.diverged_at == k_pred
    assert res.x[i] == (-3.0) ** k_pred * 2.0
    n_ok = k_pred // record_every  # recorded rows at steps <= K
    assert np.all(np.isfinite(res.loss[:n_ok + 1])) and np.all(np.isnan(res.loss[n_ok + 1:]))
    assert np.all(np.isnan(res.xs[n_ok + 1:])) and np.all(np.isnan(res.lr[k_pred:]))


def test_divergence_inside_a_pass_of_several_steps_is_found_at_its_exact_step():
    # gd, lr = 1, h = 3 at one of 3 coordinates: x_k = (-2)^k x_0 there, the loss 4^k loss_0
    # passes 1e30 loss_0 at step 50, inside the pass of steps 49-56 of the 8-step passes
    # (record_every = 64 puts no record in between).
    h = np.array([1e-9, 3.0, 1e-9])
    kw = dict(x0=[0.0, 2.0, 0.0], hessian_diag=h, steps=100, record_every=64, record_x=True)
    res = simulate("gd", {"lr": 1.0}, **kw)
    exact = simulate("gd", {"lr": 1.0}, schedule=NEVER_CUTS, **kw)
    k_pred = math.floor(math.log(1e30) / math.log(4.0)) + 1
    assert k_pred == 50 and res.diverged_at == k_pred == exact.diverged_at
    assert res.x[1] == (-2.0) ** k_pred * 2.0
    for a, b in [(res.loss, exact.loss), (res.xs, exact.xs), *zip(res.state, exact.state)]:
        assert np.array_equal(a, b, equal_nan=True)


CASES = {
    "noisy, recorded": dict(rule="adam", params={"lr": 0.05}, x0=X0, hessian_diag=H, steps=30,
                            noise="hessian:sigma=0.3", seed=4, record_every=4, record_x=True),
    "float32": dict(rule="heavy_ball", params={"lr": 0.5, "momentum": 0.8}, x0=X0,
                    hessian_diag=H, steps=25, dtype="float32", record_x=True),
    "failed certificate": dict(rule="gd", params={"lr": 1.0}, record_x=True, **_transient_case()),
    "divergence": dict(rule="heavy_ball", params={"lr": 4.5, "momentum": 0.5}, x0=X0,
                       hessian_diag=H, steps=200, record_every=2, record_x=True),
    "closed loop": dict(rule="gd", params={"lr": 0.9}, x0=X0, hessian_diag=H, steps=30,
                        schedule="plateau:patience=1,factor=0.5,interval=2",
                        noise="isotropic:sigma=0.5", seed=5),
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("n_threads", [2, 3])
def test_one_problem_split_over_threads_equals_one_thread(threads, case, n_threads):
    kw = dict(CASES[case])
    rule, params = kw.pop("rule"), kw.pop("params")
    threads(1)
    one = simulate(rule, params, **kw)
    threads(n_threads)
    many = simulate(rule, params, **kw)
    for name in ("loss", "lr", "x") + (("xs",) if kw.get("record_x") else ()):
        assert np.array_equal(getattr(one, name), getattr(many, name), equal_nan=True), name
    assert one.diverged_at == many.diverged_at
    assert (one.diverged_at is not None) == (case == "divergence")


def test_the_problem_size_spans_blocks_with_a_partial_last_one():
    assert D > 2 * kernel_module("gd").BLOCK and D % kernel_module("gd").BLOCK


def test_threads_run_every_share_once_and_reraise_after_all_finish(threads):
    threads(3)
    seen = []

    def kernel(out, first, stride):
        seen.append((first, stride))
        out[first] = 1
        if first == 2:
            raise ZeroDivisionError("share 2")

    out = np.zeros(3)
    with pytest.raises(ZeroDivisionError, match="share 2"):
        kernel_threads.run(kernel, (out,), 10)
    assert sorted(seen) == [(0, 3), (1, 3), (2, 3)] and np.all(out == 1)
    seen.clear()
    # 2 items: 2 threads
    kernel_threads.run(lambda first, stride: seen.append((first, stride)), (), 2)
    assert sorted(seen) == [(0, 2), (1, 2)]


def test_split_path_is_taken_and_a_batch_smaller_than_the_thread_count_matches(threads, monkeypatch):
    calls = []
    original = sim._run_blocks
    monkeypatch.setattr(sim, "_run_blocks", lambda *a: calls.append(1) or original(*a))
    threads(3)  # two problems < three threads: each is split
    kw = dict(seeds=[1, 2], x0=X0, hessian_diag=H, steps=20, noise="isotropic:sigma=0.1")
    batch = simulate_batch("nesterov", [{"lr": 0.3}], **kw)
    assert len(calls) == 2
    for s, seed in enumerate(kw["seeds"]):
        threads(1)
        one = simulate("nesterov", {"lr": 0.3}, seed=seed,
                       **{k: v for k, v in kw.items() if k != "seeds"})
        assert np.array_equal(one.loss, batch.loss[0, s]) and np.array_equal(one.x, batch.x[0, s])


@pytest.mark.parametrize("rule, params_list", [
    ("adagrad", [{"lr": 0.1, "initial_accumulator_value": 0.5}, {"lr": 0.1},
                 {"lr": 0.2, "initial_accumulator_value": 2.0, "lr_decay": 0.01}]),
    ("rmsprop_optax", [{"lr": 0.01, "initial_scale": 0.5, "centered": True}, {"lr": 0.01},
                       {"lr": 0.02, "initial_scale": 2.0, "centered": True, "momentum": 0.5}]),
])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_batch_setup_shared_rows_and_grouped_inits_equal_single_runs(rule, params_list, dtype):
    # _run builds the initial states once per combination of flags (hyperparameter columns
    # broadcast through rule.init) and shares the lr rows of equal (schedule, base lr) pairs.
    schedules = ["step:step_size=3,gamma=0.5", "step:step_size=3,gamma=0.5", None]
    kw = dict(x0=X0[:50], hessian_diag=H[:50], steps=12, dtype=dtype)
    batch = simulate_batch(rule, params_list, schedule=schedules, **kw)
    for p, (prm, sch) in enumerate(zip(params_list, schedules)):
        one = simulate(rule, prm, schedule=sch, **kw)
        assert np.array_equal(one.loss, batch.loss[p, 0]) and np.array_equal(one.x, batch.x[p, 0])
        assert np.array_equal(one.lr, batch.lr[p, 0])
    assert len({tuple(row) for row in batch.x[:, 0]}) == 3  # the three runs differ


@pytest.mark.parametrize("rule, powers", [("adam", 2), ("adamw", 2), ("adam_optax", 3),
                                          ("rmsprop_optax", 1), ("heavy_ball", 0)])
def test_powers_of_the_step_count_are_tabulated_with_the_bits_of_python_pow(rule, powers):
    # kernels/rewrite.py replaces beta ** t (and b1 ** (t + 1), optax's NAdam) by a table computed
    # once per distinct base; Python's float ** is libm pow, like the kernels' (and torch's).
    # The table writes +0 without calling pow where the power is below 2^-1100 (0.5 ** t from
    # t = 1101, 0.8 ** t from 3417, 0.9 ** t from 7237, 1e-300 and 5e-324 from t = 2): those
    # entries are compared with pow too; -0.0 keeps its sign at odd t.
    km = kernel_module(rule)
    assert km.NPOW == powers and len(km.POW_BASES) == powers
    source = Path(km.__file__).with_name("binding.py").read_text()
    bases = np.array([0.0, -0.0, 5e-324, 1e-300, 0.5, 0.8, 0.9, 0.999, np.nextafter(1.0, 0.0)])
    for j in range(km.NPOW):
        exponent = source.split(f"if j == {j}:\n        return ", 1)[1].split("\n", 1)[0]
        shift = {"t": 0, "_add(t, 1)": 1}[exponent]
        steps = 2 * km.POWER_CHUNK + 100  # three chunks, as two threads would share them
        table, shared = np.empty((bases.size, steps)), np.empty((bases.size, steps))
        km.power_table(table, bases, j, 0, 0, 1)
        km.power_table(shared, bases, j, 0, 1, 2)
        km.power_table(shared, bases, j, 0, 0, 2)
        assert np.array_equal(table, shared)
        for r, b in enumerate(bases):
            assert table[r].tolist() == [float(b) ** float(t + shift) for t in range(1, steps + 1)]
            assert all(math.copysign(1, v) == math.copysign(1, float(b) ** float(t + shift))
                       for t, v in enumerate(table[r].tolist(), 1))


def test_powers_skipped_after_underflow_are_the_zeros_of_pow():
    # 0.999 ** t underflows to 0 from t ~ 7.45e5 and the table stops calling pow at t = 762081
    # (t log2(0.999) < -1100): every column around both and after is pow's own value.
    km = kernel_module("adam")
    steps = 800_000
    table = np.empty((1, steps))
    km.power_table(table, np.array([0.999]), 0, 0, 0, 1)
    first_zero = int(np.argmax(table[0] == 0.0)) + 1
    assert 7e5 < first_zero < 7.6e5 and not table[0, first_zero - 2] == 0.0
    for t in list(range(first_zero - 2000, first_zero + 2000)) + list(range(755_000, steps + 1)):
        assert table[0, t - 1] == 0.999 ** float(t), t


@pytest.mark.parametrize("rule, varied", [("adam", ["beta1", "beta2"]), ("adamw", ["beta1"]),
                                          ("adam_optax", ["b1", "b2"])])
def test_a_batch_shares_power_rows_and_equals_single_runs(rule, varied):
    params = [{"lr": 0.01, **{name: value for name in varied}} for value in (0.5, 0.9, 0.5, 0.99)]
    params[1]["lr"] = 0.02
    if rule == "adam_optax":
        params[2]["nesterov"] = True
    kw = dict(x0=X0[:40], hessian_diag=H[:40], steps=50, noise="isotropic:sigma=0.1")
    batch = simulate_batch(rule, params, seeds=[3], **kw)
    for p, prm in enumerate(params):
        one = simulate(rule, prm, seed=3, **kw)
        assert np.array_equal(one.loss, batch.loss[p, 0]) and np.array_equal(one.x, batch.x[p, 0])
