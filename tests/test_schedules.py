"""optanalysis.schedules against the closed forms of the schedules (docs/reference.md sections 8-9; typed here as
independent scalar oracles), the libraries' documented quirks, and bad input."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optanalysis import hyper
from optanalysis.schedules import (OpenLoop, Plateau, describe_schedule, make_schedule, plateau_update,
                                   schedule_names)
from optanalysis.schedules.base import Schedules
from optanalysis.schedules.registry import get_kind
from optanalysis.spec import parse_spec

BASE = 0.3
N = 400


# ------------------------------------------------------------------ closed forms (docs/reference.md sections 8-9)
def _lin_warm(k, init, peak, w):
    return init + (peak - init) * min(k, w) / w


def _exp_decay(k, init, t, r, b=0, staircase=False, end=None):
    if k <= b:
        return init
    p = (k - b) / t
    v = init * r ** (math.floor(p) if staircase else p)
    if end is not None:
        v = max(v, end) if r < 1 else min(v, end)
    return v


def _cos_decay(k, init, d, alpha=0.0, e=1.0):
    return init * ((1 - alpha) * (0.5 * (1 + math.cos(math.pi * min(k, d) / d))) ** e + alpha)


def _poly_optax(k, init, end, power, t, b=0):
    kk = min(max(k - b, 0), t)
    return (init - end) * (1 - kk / t) ** power + end


def _cos_torch(k, base, t, eta):
    return eta + (base - eta) * (1 + math.cos(math.pi * k / t)) / 2


ORACLES = {
    "constant": lambda k: BASE,
    "step:step_size=7,gamma=0.5": lambda k: BASE * 0.5 ** (k // 7),
    "multistep:milestones=[10,30,30,100],gamma=0.7":
        lambda k: BASE * 0.7 ** sum(m <= k for m in (10, 30, 30, 100)),
    "exponential:gamma=0.99": lambda k: BASE * 0.99 ** k,
    "inverse_time:decay=0.05": lambda k: BASE / (1 + 0.05 * k),
    "polynomial:total_iters=120,power=1.5": lambda k: BASE * (1 - min(k, 120) / 120) ** 1.5,
    "cosine:T_max=50,eta_min=0.01": lambda k: _cos_torch(k, BASE, 50, 0.01),  # not clamped: rises again
    "linear:start_factor=0.1,end_factor=0.6,total_iters=30":
        lambda k: BASE * (0.1 + (0.6 - 0.1) * min(k, 30) / 30),
    "constant_factor:factor=0.25,total_iters=12": lambda k: BASE * (0.25 if k < 12 else 1.0),
    "sequential:schedules=[linear(start_factor=0.2,total_iters=10);cosine(T_max=100,eta_min=0.02);"
    "exponential(gamma=0.98)],milestones=[10,150]":
        lambda k: (BASE * (0.2 + 0.8 * k / 10) if k < 10 else _cos_torch(k - 10, BASE, 100, 0.02) if k < 150
                   else BASE * 0.98 ** (k - 150)),
    # warmup-stable-decay, cosine to a floor, constant then decay (optanalysis.schedules.warmup_decay)
    "wsd:total_steps=300,warmup_steps=30,warmup_factor=0.01,cooldown_fraction=0.25,final_factor=0.1":
        lambda k: BASE * (0.01 + 0.99 * k / 30 if k < 30 else 1.0 if k < 225 else
                          1 - 0.9 * (k - 225) / 75 if k < 300 else 0.1),
    "warmup_cosine:total_steps=250,warmup_steps=50,final_factor=0.1":
        lambda k: BASE * (k / 50 if k < 50 else 0.1 + 0.9 * (1 + math.cos(math.pi * (k - 50) / 200)) / 2 if k < 250
                          else 0.1),
    "constant_then_decay:decay_start=100,decay_steps=150,shape=cosine,final_factor=0.2":
        lambda k: BASE if k < 100 else _cos_torch(k - 100, BASE, 150, 0.2 * BASE) if k < 250 else 0.2 * BASE,
    "wsd_optax:total_steps=360,warmup_steps=10,cooldown_fraction=0.5,shape=sqrt":
        lambda k: BASE * (k / 10 if k < 10 else 1.0 if k < 180 else 1 - math.sqrt(min(k - 180, 180) / 180)),
    "constant_then_decay_optax:decay_start=80,decay_steps=200,final_factor=0.05":
        lambda k: BASE if k < 80 else _poly_optax(k - 80, BASE, 0.05 * BASE, 1, 200),
    "polynomial_optax:end_value=0.01,power=2.0,transition_steps=150,transition_begin=20":
        lambda k: _poly_optax(k, BASE, 0.01, 2.0, 150, 20),
    "linear_optax:init_value=0.0,end_value=0.2,transition_steps=40,transition_begin=5":
        lambda k: _poly_optax(k, 0.0, 0.2, 1, 40, 5),
    "exponential_optax:transition_steps=10,decay_rate=0.8,transition_begin=5,staircase=true,end_value=0.02":
        lambda k: _exp_decay(k, BASE, 10, 0.8, 5, True, 0.02),
    "exponential_optax:init_value=0.1,transition_steps=7,decay_rate=1.01,end_value=0.2":
        lambda k: _exp_decay(k, 0.1, 7, 1.01, end=0.2),
    "cosine_optax:decay_steps=150,alpha=0.1,exponent=2.0": lambda k: _cos_decay(k, BASE, 150, 0.1, 2.0),
    # The documented form end + (peak - end)*c^e (optax computes peak*((1 - end/peak) c^e + end/peak)).
    "warmup_cosine_optax:init_value=0.0,peak_value=0.5,warmup_steps=20,decay_steps=220,end_value=0.05,exponent=1.5":
        lambda k: (_lin_warm(k, 0.0, 0.5, 20) if k < 20 else
                   0.05 + (0.5 - 0.05) * (0.5 * (1 + math.cos(math.pi * min(k - 20, 200) / 200))) ** 1.5),
    "warmup_exponential_optax:init_value=0.01,warmup_steps=15,transition_steps=10,decay_rate=0.7,"
    "transition_begin=5,end_value=0.005":
        lambda k: _lin_warm(k, 0.01, BASE, 15) if k < 15 else _exp_decay(k - 15, BASE, 10, 0.7, 5, end=0.005),
    "piecewise_constant_optax:boundaries=[10,40,41],scales=[0.5,2.0,0.1]":
        lambda k: BASE * math.prod(s for bnd, s in ((10, 0.5), (40, 2.0), (41, 0.1)) if k >= bnd),
    "join_optax:schedules=[linear_optax(init_value=0.0,end_value=0.1,transition_steps=20);"
    "cosine_optax(init_value=0.1,decay_steps=100);constant],boundaries=[20,120]":
        lambda k: (_poly_optax(k, 0.0, 0.1, 1, 20) if k < 20 else _cos_decay(k - 20, 0.1, 100) if k < 120 else BASE),
}


def test_every_open_loop_schedule_has_an_oracle():
    tested = {make_schedule(s).name for s in ORACLES}
    assert tested == {n for n in schedule_names() if not n.startswith("plateau")}


@pytest.mark.parametrize("spec", list(ORACLES))
def test_values_equal_closed_forms(spec):
    got = make_schedule(spec).lrs(BASE, N)
    want = np.array([ORACLES[spec](k) for k in range(N)])
    # torch's chained recursion and optax's arithmetic differ from the closed forms only by
    # accumulated rounding: k products of factors (<= N ulps = 9e-14) — and, for cosine, the
    # cancellation in 1 + cos(.) near its minima, which is an absolute error of a few ulps of
    # BASE per step; hence relative 1e-12 with a floor of BASE (absolute 3e-13).
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12 * BASE)
    assert got.dtype == np.float64 and got.shape == (N,)


def test_cosine_rises_after_t_max_while_optax_is_clamped():
    torch_cos = make_schedule("cosine:T_max=40").lrs(BASE, 81)
    optax_cos = make_schedule("cosine_optax:decay_steps=40").lrs(BASE, 81)
    assert abs(torch_cos[40]) < 1e-15 and optax_cos[40] == 0.0
    assert torch_cos[80] == pytest.approx(BASE, rel=1e-13) and torch_cos[60] == pytest.approx(BASE / 2, rel=1e-12)
    assert np.all(optax_cos[40:] == 0.0)


def test_cosine_recursion_drifts_from_the_closed_form_over_long_runs():
    # Why torch's chained recursion is reproduced rather than the closed form: over thousands of
    # steps (many periods) the two drift apart beyond 1e-13 relative (measured 8.8e-13 here).
    got = make_schedule("cosine:T_max=7").lrs(BASE, 3000)
    closed = np.array([_cos_torch(k, BASE, 7, 0.0) for k in range(3000)])
    assert np.max(np.abs(got - closed) / np.maximum(closed, 1e-3 * BASE)) > 1e-13


def test_torch_docstring_offsets_of_linear_and_polynomial():
    # LinearLR(start_factor=0.05, total_iters=40) docstring: "0.003687 if epoch == 0" — the code
    # (and we) give base*start_factor at step 0; the docstring's number is the step-1 value.
    lin = make_schedule("linear:start_factor=0.05,total_iters=40").lrs(0.05, 3)
    assert lin[0] == 0.05 * 0.05
    assert lin[1] == pytest.approx(0.003687, abs=1e-6) and lin[2] == pytest.approx(0.004875, abs=1e-6)
    poly = make_schedule("polynomial:total_iters=50,power=0.9").lrs(0.05, 3)
    assert poly[0] == 0.05  # docstring: "0.0490 if epoch == 0"
    assert poly[1] == pytest.approx(0.0490, abs=1e-4) and poly[2] == pytest.approx(0.0481, abs=1e-4)


def test_repeated_milestones_multiply_and_zero_milestone_applies_at_step_zero():
    lrs = make_schedule("multistep:milestones=[0,3,3],gamma=0.5").lrs(1.0, 5)
    assert lrs.tolist() == [0.5, 0.5, 0.5, 0.125, 0.125]


def test_sequential_restarts_each_schedule_at_its_milestone():
    seq = make_schedule("sequential:schedules=[constant_factor(factor=0.5,total_iters=100);"
                        "step(step_size=2,gamma=0.1)],milestones=[3]").lrs(1.0, 7)
    # constant_factor never reaches its total_iters; StepLR starts afresh at k = 3.
    np.testing.assert_allclose(seq, [0.5, 0.5, 0.5, 1.0, 1.0, 0.1, 0.1], rtol=1e-15)


def test_optax_absolute_values_default_to_base_lr():
    a = make_schedule("cosine_optax:decay_steps=10").lrs(0.7, 5)
    b = make_schedule("cosine_optax:init_value=0.7,decay_steps=10").lrs(0.01, 5)
    np.testing.assert_array_equal(a, b)


def test_steps_zero_and_spec_round_trip():
    for spec in ORACLES:
        s = make_schedule(spec)
        assert s.lrs(BASE, 0).shape == (0,)
        again = make_schedule(s.spec)
        assert again.spec == s.spec
        np.testing.assert_array_equal(again.lrs(BASE, 200), s.lrs(BASE, 200))


def test_make_schedule_accepts_none_objects_and_keywords():
    assert make_schedule(None).name == "constant"
    s = make_schedule("cosine", T_max=20)
    assert make_schedule(s) is s and isinstance(s, OpenLoop)
    p = make_schedule("plateau:patience=3")
    assert isinstance(p, Plateau) and make_schedule(p) is p and p.interval == 1


def test_every_schedule_is_described():
    for name in schedule_names():
        line = describe_schedule(name)
        assert line.startswith(name + ":") and ("torch" in line or "optax" in line) and "\n" not in line


# ------------------------------------------------------------------ reduce on plateau
def _evals_with_cut(sched, metrics):
    """Indices of the evaluations after which the lr went down."""
    lr = sched.lrs_for(1.0, metrics)[::sched.interval]
    return [j for j in range(len(metrics)) if lr[j + 1] < lr[j]]


def test_torch_cuts_after_patience_plus_one_bad_evaluations_optax_after_patience():
    flat = [1.0] * 12
    # Documented semantics: constant metric, patience=2: torch first cuts at evaluation 3 then every 3,
    # optax at evaluation 2 then every 2 (the first evaluation is an improvement over inf).
    assert _evals_with_cut(make_schedule("plateau:patience=2"), flat) == [3, 6, 9]
    assert _evals_with_cut(make_schedule("plateau_optax:patience=2"), flat) == [2, 4, 6, 8, 10]


def test_optax_patience_zero_cuts_on_every_improvement_and_never_on_a_plateau():
    s = make_schedule("plateau_optax:patience=0,factor=0.5")
    assert _evals_with_cut(s, [5.0, 4.0, 3.0, 2.0]) == [0, 1, 2, 3]
    assert _evals_with_cut(s, [5.0] * 6) == [0]
    assert make_schedule("plateau:patience=0,factor=0.5").lrs_for(1.0, [5.0, 4.0, 3.0]).tolist() == [1.0] * 4


def test_cooldown_ignores_bad_evaluations():
    # torch, patience=0, cooldown=2: a cut, then two evaluations in cooldown, then the next cut.
    assert _evals_with_cut(make_schedule("plateau:patience=0,cooldown=2"), [1.0] * 11) == [1, 4, 7, 10]
    # optax: cooldown evaluations leave the plateau count at 0.
    assert _evals_with_cut(make_schedule("plateau_optax:patience=1,cooldown=2"), [1.0] * 11) == [1, 4, 7, 10]


def test_min_lr_min_scale_and_eps_skip():
    lr = make_schedule("plateau:patience=0,factor=0.5,min_lr=0.3").lrs_for(1.0, [1.0] * 6)
    assert lr.tolist() == [1.0, 1.0, 0.5, 0.3, 0.3, 0.3, 0.3]
    # the cut 0.5 -> 0.25 is skipped because it changes the lr by no more than eps
    lr = make_schedule("plateau:patience=0,factor=0.5,eps=0.3").lrs_for(1.0, [1.0] * 4)
    assert lr.tolist() == [1.0, 1.0, 0.5, 0.5, 0.5]
    lr = make_schedule("plateau_optax:patience=1,factor=0.5,min_scale=0.3").lrs_for(2.0, [1.0] * 6)
    # optax patience=1 on a flat metric: a cut at every evaluation after the first; 0.25 -> 0.3
    assert lr.tolist() == [2.0, 2.0, 1.0, 0.6, 0.6, 0.6, 0.6]


def test_max_mode_and_threshold_modes():
    up, down = [float(k) for k in range(8)], [float(-k) for k in range(8)]
    assert _evals_with_cut(make_schedule("plateau:mode=max,patience=1"), up) == []
    assert _evals_with_cut(make_schedule("plateau:mode=max,patience=1"), down) == [2, 4, 6]
    # abs threshold 2.5 on 0, -1, -2, ...: best stays 0 until -3 beats it by 2.5 -> two bad
    # evaluations (1, 2) and a cut at 2; best = -3, then bad at 4, 5 and a cut at 5.  With the
    # default rel 1e-4 every step of 1 is an improvement.
    assert _evals_with_cut(make_schedule("plateau:patience=1,threshold=2.5,threshold_mode=abs"), down) == [2, 5]
    assert _evals_with_cut(make_schedule("plateau:patience=1"), down) == []


def test_negative_metrics_in_rel_mode_count_as_improvements():
    # A documented torch quirk: best*(1 - threshold) > best when best < 0, so a constant negative
    # metric is "better" every time and never triggers a cut; a constant positive one does.
    assert _evals_with_cut(make_schedule("plateau:patience=1"), [-1.0] * 8) == []
    assert _evals_with_cut(make_schedule("plateau:patience=1"), [1.0] * 8) == [2, 4, 6]


def test_optax_accumulation_averages_consecutive_evaluations():
    rng = np.random.default_rng(1)
    metrics = rng.uniform(1.0, 2.0, 40)
    acc = make_schedule("plateau_optax:patience=1,accumulation_size=2,rtol=0.01").lrs_for(1.0, metrics)
    means = (metrics[0::2] + metrics[1::2]) / 2
    single = make_schedule("plateau_optax:patience=1,rtol=0.01").lrs_for(1.0, means)
    assert len(set(single)) > 2  # the sequence exercises cuts
    np.testing.assert_array_equal(acc[2::2], single[1:])  # decided at every second evaluation
    np.testing.assert_array_equal(acc[1::2], acc[0:-1:2])  # unchanged after the first of each pair


def test_interval_repeats_each_lr_and_compiled_update_matches_python():
    rng = np.random.default_rng(2)
    metrics = np.cumsum(rng.normal(0, 1, 50))
    for spec in ("plateau:patience=1,cooldown=1,interval=3,threshold=0.1,min_lr=0.01",
                 "plateau_optax:patience=2,accumulation_size=2,interval=3,rtol=0.05,atol=0.1,min_scale=0.05"):
        s = make_schedule(spec)
        lr = s.lrs_for(0.5, metrics)
        assert lr.shape == (153,)
        np.testing.assert_array_equal(lr, np.repeat(lr[::3], 3))
        params, state = s.controller(0.5)
        cur, compiled = 0.5, [0.5]
        for m in metrics:
            cur = plateau_update(params, state, m, cur)
            compiled.append(cur)
        np.testing.assert_array_equal(compiled, lr[::3])


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize("spec, error, match", [
    ("nosuch", ValueError, "unknown schedule 'nosuch'; valid: constant, step"),
    ("step:step_size=3,gama=0.1", ValueError, "unknown parameter 'gama'.*valid: step_size, gamma"),
    ("step", ValueError, "requires step_size"),
    ("step:step_size=0", ValueError, "step_size must be an integer >= 1"),
    ("step:step_size=-3", ValueError, "step_size must be an integer >= 1"),
    ("step:step_size=2.5", TypeError, "step_size must be an integer"),
    ("step:step_size=true", TypeError, "step_size must be an integer"),
    ("step:step_size=3,gamma=0", ValueError, r"gamma must be in \(0, inf\)"),
    ("exponential:gamma=-0.5", ValueError, r"gamma must be in \(0, inf\)"),
    ("cosine:T_max=0", ValueError, "T_max must be an integer >= 1"),
    ("cosine:T_max=10,eta_min=-1", ValueError, r"eta_min must be in \[0, inf\)"),
    ("multistep:milestones=[3,x]", ValueError, "not a number"),
    ("multistep:milestones=[-1]", ValueError, "milestones must be an integer >= 0"),
    ("multistep:milestones=3", TypeError, "milestones must be a list"),
    ("linear:start_factor=0", ValueError, r"start_factor must be in \(0, 1\]"),
    ("constant_factor:factor=1.5", ValueError, r"factor must be in \(0, 1\]"),
    ("polynomial:total_iters=0", ValueError, "total_iters must be an integer >= 1"),
    ("plateau:factor=1", ValueError, r"factor must be in \(0, 1\)"),
    ("plateau:factor=0", ValueError, r"factor must be in \(0, 1\)"),
    ("plateau:mode=avg", ValueError, r"mode must be one of \{min, max\}"),
    ("plateau:threshold_mode=pct", ValueError, r"threshold_mode must be one of \{rel, abs\}"),
    ("plateau:patience=-1", ValueError, "patience must be an integer >= 0"),
    ("plateau:interval=0", ValueError, "interval must be an integer >= 1"),
    ("plateau_optax:rtol=0", ValueError, "at least one of rtol, atol"),
    ("plateau_optax:rtol=2", ValueError, r"rtol must be in \[0, 1\]"),
    ("cosine_optax:decay_steps=0", ValueError, "decay_steps must be an integer >= 1"),
    ("warmup_cosine_optax:warmup_steps=10,decay_steps=10", ValueError, "decay_steps must be > warmup_steps"),
    ("sequential:schedules=[step(step_size=2);cosine(T_max=5)],milestones=[]", ValueError, "one entry fewer"),
    ("sequential:schedules=[step(step_size=2);cosine(T_max=5)],milestones=[5,3]", ValueError,
     "milestones must have one entry fewer|strictly increasing"),
    ("sequential:schedules=[step(step_size=2);plateau],milestones=[5]", ValueError, "closed-loop"),
    ("sequential:schedules=[step(step_sz=2);cosine(T_max=5)],milestones=[5]", ValueError, "unknown parameter 'step_sz'"),
    ("join_optax:schedules=[constant;constant],boundaries=[1,2]", ValueError, "one entry fewer"),
    ("piecewise_constant_optax:boundaries=[1,2],scales=[0.5]", ValueError, "the same length"),
    ("piecewise_constant_optax:boundaries=[1],scales=[-0.5]", ValueError, r"scales must be in \[0, inf\)"),
    ("piecewise_constant_optax:boundaries=[2,1],scales=[1,1]", ValueError, "strictly increasing"),
    ("wsd:total_steps=100,warmup_steps=30,cooldown_fraction=0.8", ValueError,
     r"warmup_steps \+ cooldown_fraction\*total_steps must be <= total_steps, got 30 \+ 80 > 100"),
    ("wsd:total_steps=100,shape=cosine", ValueError, r"shape must be one of \{linear, sqrt\}"),
    ("wsd:total_steps=100,cooldown_fraction=1.5", ValueError, r"cooldown_fraction must be in \[0, 1\]"),
    ("wsd_optax:total_steps=0", ValueError, "total_steps must be an integer >= 1"),
    ("warmup_cosine:total_steps=10,warmup_steps=10", ValueError, "warmup_steps must be < total_steps"),
    ("constant_then_decay:decay_start=0,decay_steps=5", ValueError, "decay_start must be an integer >= 1"),
    ("constant_then_decay_optax:decay_start=0,decay_steps=5,final_factor=-0.1", ValueError,
     r"final_factor must be in \[0, 1\]"),
    ("step:step_size=[2", ValueError, "unbalanced"),
    ("step:step_size", ValueError, "expected NAME=VALUE"),
])
def test_bad_specs_raise_with_the_parameter_and_range(spec, error, match):
    with pytest.raises(error, match=match):
        make_schedule(spec)


# A valid spec of every kind, to vary one parameter at a time.
VALID = {**{make_schedule(s).name: s for s in ORACLES}, "plateau": "plateau", "plateau_optax": "plateau_optax"}


def test_every_parameter_is_declared_with_hyper():
    # one declaration system: every schedule parameter is a declaration of optanalysis.hyper, but for
    # the list of sub-schedules (it calls make_schedule), which follows the same protocol
    assert sorted(VALID) == sorted(schedule_names())
    for name in schedule_names():
        for d in get_kind(name).params:
            assert isinstance(d, hyper.Declaration), (name, d)
            assert type(d).__module__ == "optanalysis.hyper" or type(d) is Schedules, (name, d)
            assert type(d).__name__ in hyper.__all__ or type(d) is Schedules


@pytest.mark.parametrize("name", schedule_names())
def test_a_bad_value_of_any_parameter_names_the_schedule_and_the_parameter(name):
    valid = parse_spec(VALID[name])[1]
    for d in get_kind(name).params:
        with pytest.raises((TypeError, ValueError), match=rf"^schedule {name}: {d.name} must be "):
            make_schedule(name, **{**valid, d.name: {"not": "a value"}})


def test_a_missing_parameter_is_named_with_its_range():
    with pytest.raises(ValueError, match=r"schedule 'step' requires step_size \(integers >= 1\)"):
        make_schedule("step")
    with pytest.raises(ValueError, match=r"requires milestones \(lists of integers >= 1, strictly increasing\)"):
        make_schedule("sequential:schedules=[constant]")
    with pytest.raises(ValueError, match=r"requires scales \(lists of reals in \[0, inf\)\)"):
        make_schedule("piecewise_constant_optax:boundaries=[1]")
    with pytest.raises(TypeError, match=r"schedules must be a non-empty list \[NAME\(key=value,...\);...\] of "):
        make_schedule("sequential:milestones=[]", schedules=())
    with pytest.raises(ValueError, match="unknown schedule 'nosuch'"):
        get_kind("nosuch")


def test_bad_arguments():
    with pytest.raises(TypeError, match="schedule must be None, a spec string"):
        make_schedule(3)
    with pytest.raises(ValueError, match="given twice"):
        make_schedule("step:step_size=3", step_size=4)
    s = make_schedule("constant")
    with pytest.raises(ValueError, match=r"base_lr must be in \(0, inf\)"):
        s.lrs(0.0, 5)
    with pytest.raises(ValueError, match=r"base_lr must be in \(0, inf\)"):
        s.lrs(float("nan"), 5)
    with pytest.raises(ValueError, match="steps must be an integer >= 0"):
        s.lrs(0.1, -1)
    with pytest.raises(TypeError, match="steps must be an integer"):
        s.lrs(0.1, 2.0)
    p = make_schedule("plateau")
    with pytest.raises(ValueError, match="base_lr"):
        p.controller(-1.0)
    with pytest.raises(ValueError, match="metrics must be a 1-D"):
        p.lrs_for(0.1, [[1.0, 2.0]])


# ------------------------------------------------------------------ properties
@settings(max_examples=60, deadline=None)
@given(spec=st.sampled_from(list(ORACLES)), n=st.integers(0, 300), m=st.integers(0, 300))
def test_values_are_a_function_of_the_step_count_only(spec, n, m):
    s = make_schedule(spec)
    long, short = s.lrs(BASE, max(n, m)), s.lrs(BASE, min(n, m))
    np.testing.assert_array_equal(long[:min(n, m)], short)
    assert np.all(np.isfinite(long)) and np.all(long >= 0)


@settings(max_examples=60, deadline=None)
@given(spec=st.sampled_from([s for s in ORACLES if "optax" not in s]), c=st.floats(1e-3, 1e3))
def test_torch_schedules_scale_with_base_lr(spec, c):
    # torch schedules multiply the base lr (eta_min aside): lrs(c*base) = c*lrs(base) up to the
    # rounding of the chained products (<= 400 ulps over N steps).
    s = make_schedule(spec.replace("eta_min=0.01", "eta_min=0.0").replace("eta_min=0.02", "eta_min=0.0"))
    np.testing.assert_allclose(s.lrs(c * BASE, N), c * s.lrs(BASE, N), rtol=1e-13, atol=1e-13 * c * BASE)
