"""Predictions equal the compiled kernels' trajectories, for every linear rule and schedule kind."""
import numpy as np
import pytest

from optanalysis.theory.prediction import predict
from optanalysis.schedules import make_schedule, schedule_names
from optanalysis.simulation import simulate

RULES = {
    "gd": {"lr": 0.3},
    "heavy_ball": {"lr": 0.2, "momentum": 0.7},
    "sgd_momentum": {"lr": 0.2, "momentum": 0.6, "dampening": 0.2, "weight_decay": 0.01},
    "nesterov": {"lr": 0.2, "momentum": 0.8},
}
# One spec per open-loop kind (kept in sync with the registry by test_every_kind_is_covered).
SPECS = {
    "constant": "constant",
    "step": "step:step_size=150,gamma=0.5",
    "multistep": "multistep:milestones=[100,100,400],gamma=0.6",
    "exponential": "exponential:gamma=0.998",
    "inverse_time": "inverse_time:decay=0.01",
    "polynomial": "polynomial:total_iters=800,power=2",
    "cosine": "cosine:T_max=300,eta_min=0.01",
    "linear": "linear:start_factor=0.2,total_iters=50",
    "constant_factor": "constant_factor:factor=0.5,total_iters=30",
    "sequential": "sequential:schedules=[linear(start_factor=0.1,total_iters=20);cosine(T_max=600)],milestones=[20]",
    "polynomial_optax": "polynomial_optax:end_value=0.01,power=1.5,transition_steps=700,transition_begin=50",
    "linear_optax": "linear_optax:end_value=0.02,transition_steps=500",
    "exponential_optax": "exponential_optax:transition_steps=100,decay_rate=0.7,staircase=true",
    "cosine_optax": "cosine_optax:decay_steps=900,alpha=0.05",
    "piecewise_constant_optax": "piecewise_constant_optax:boundaries=[100,300],scales=[0.5,0.2]",
    "join_optax": "join_optax:schedules=[constant();exponential(gamma=0.995)],boundaries=[200]",
    "warmup_cosine_optax": "warmup_cosine_optax:init_value=0.01,warmup_steps=50,decay_steps=1000",
    "warmup_exponential_optax": "warmup_exponential_optax:init_value=0.01,warmup_steps=40,transition_steps=50,"
                                "decay_rate=0.8",
    "wsd": "wsd:total_steps=900,warmup_steps=50,warmup_factor=0.01,cooldown_fraction=0.3,shape=sqrt",
    "wsd_optax": "wsd_optax:total_steps=1000,warmup_steps=20,cooldown_fraction=0.2,final_factor=0.1",
    "warmup_cosine": "warmup_cosine:total_steps=800,warmup_steps=30,final_factor=0.1",
    "constant_then_decay": "constant_then_decay:decay_start=300,decay_steps=400,shape=cosine",
    "constant_then_decay_optax": "constant_then_decay_optax:decay_start=200,decay_steps=500,final_factor=0.05",
}
CLOSED = ("plateau", "plateau_optax")
STEPS = 1000
TOL = 1e-10  # the brief's bar, relative to the initial loss: both sides only round differently


def _problem(dense):
    rng = np.random.default_rng(7)
    h = np.concatenate(([0.05, 1.0], rng.uniform(0.05, 1.0, 4)))
    x0, xs = rng.normal(size=6), rng.normal(size=6)
    if dense:
        Q, _ = np.linalg.qr(rng.normal(size=(6, 6)))
        return {"hessian": (Q * h) @ Q.T, "x0": x0, "xstar": xs}
    return {"hessian_diag": h, "x0": x0, "xstar": xs}


def test_every_kind_is_covered():
    assert set(SPECS) | set(CLOSED) == set(schedule_names())


@pytest.mark.parametrize("dense", [False, True])
@pytest.mark.parametrize("name", sorted(RULES))
def test_prediction_equals_kernel_for_every_schedule(name, dense):
    prob = _problem(dense)
    for kind, spec in SPECS.items():
        sim = simulate(name, RULES[name], steps=STEPS, schedule=spec, **prob)
        assert sim.diverged_at is None, kind
        pred = predict(name, RULES[name], steps=STEPS, schedule=spec, **prob)
        np.testing.assert_array_equal(pred.lr, sim.lr)  # same schedule, same lrs
        err = np.max(np.abs(pred.loss - sim.loss)) / sim.loss[0]
        assert err <= TOL, (kind, err)


@pytest.mark.parametrize("spec", ["plateau:patience=3,factor=0.5,threshold=0.9,interval=10",
                                  "plateau_optax:patience=2,factor=0.5,rtol=0.9,interval=10"])
@pytest.mark.parametrize("name", sorted(RULES))
def test_plateau_prediction_is_exact_given_the_lrs_the_run_used(name, spec):
    # a slow direction (h = 0.002) keeps the loss far above the rounding floor for 1000 steps
    prob = {"hessian_diag": [0.002, 0.05, 1.0], "x0": [10.0, -1.0, 2.0], "xstar": [0.5, 0.0, 0.0]}
    sim = simulate(name, RULES[name], steps=STEPS, schedule=spec, **prob)
    assert np.unique(sim.lr).size > 2  # the controller really acted
    pred = predict(name, RULES[name], steps=STEPS, lrs=sim.lr, **prob)
    assert np.max(np.abs(pred.loss - sim.loss)) / sim.loss[0] <= TOL
    # Closed loop on the prediction alone: the controller fed with the predicted losses replays
    # the run's lrs while the loss is >= 1e-4 loss_0 — there the two losses agree to 1e-6
    # relative, so only an exact tie could flip a decision; deeper, near the rounding floor, the
    # decisions are decided by rounding and may legitimately differ.
    sched = make_schedule(spec)
    evals = pred.loss[sched.interval::sched.interval]
    deep = np.flatnonzero(evals < 1e-4 * pred.loss[0])
    n = STEPS if deep.size == 0 else sched.interval * (1 + int(deep[0]))
    replay = sched.lrs_for(RULES[name]["lr"], evals)[:n]
    assert np.unique(replay).size >= 2
    np.testing.assert_array_equal(replay, sim.lr[:n])
    # the same through predict(schedule=plateau): the closed loop run on predicted losses
    closed = predict(name, RULES[name], steps=n, schedule=spec, **prob)
    np.testing.assert_array_equal(closed.lr, sim.lr[:n])
    assert np.max(np.abs(closed.loss - sim.loss[:n + 1])) / sim.loss[0] <= TOL


def test_recorded_iterates_and_final_state_match_the_kernel():
    prob = _problem(True)
    sim = simulate("sgd_momentum", RULES["sgd_momentum"], steps=300, schedule=SPECS["cosine"], record_x=True,
                   record_every=10, **prob)
    pred = predict("sgd_momentum", RULES["sgd_momentum"], steps=300, schedule=SPECS["cosine"], record_x=True,
                   record_every=10, **prob)
    scale = np.linalg.norm(prob["x0"] - prob["xstar"])
    np.testing.assert_allclose(pred.xs, sim.xs, rtol=0, atol=1e-11 * scale)
    for got, want in zip(pred.state, sim.state):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-11 * scale)


def test_stall_floor_matches_the_kernel():
    """gd under exponential decay stops at prod_k (1 - lr_k h): the kernel's loss after the floor's
    horizon and 500 steps more both equal the predicted floor (rounding only)."""
    from optanalysis.theory.spectrum import stall_floor

    prob = {"hessian_diag": [0.02, 0.3, 1.0], "x0": [3.0, -1.0, 2.0], "xstar": [1.0, 0.0, 0.0]}
    fl = stall_floor("gd", {"lr": 0.5}, schedule="exponential:gamma=0.98", **prob)
    sim = simulate("gd", {"lr": 0.5}, steps=fl.steps + 500, schedule="exponential:gamma=0.98", **prob)
    # it really stalls: sum lr = 25 and h = 0.02 keep about exp(-2 * 0.02 * 25) of that direction's loss
    assert fl.loss_directions[0] > 0.3 * 0.5 * 0.02 * (3.0 - 1.0) ** 2
    for k in (fl.steps, fl.steps + 500):
        assert sim.loss[k] == pytest.approx(fl.loss, rel=1e-12)
