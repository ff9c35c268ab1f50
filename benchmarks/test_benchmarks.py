"""Checks of the benchmark harness itself, part of the suite (``testpaths`` in pyproject.toml): the
timings are only as good as the contenders are correct.

The NumPy competitor is checked against the rules' own single definitions run on NumPy arrays
(an independent oracle: the rule functions accept arrays through optanalysis.ops), torch and
optax against NumPy.
"""
import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

from numpy_baseline import make_numpy  # noqa: E402
from problem import RULE_PARAMS, check_normal, quadratic  # noqa: E402
from report import write_json  # noqa: E402
from sweep import grid  # noqa: E402
from timing import time_steps  # noqa: E402

from optanalysis.rules import get_rule  # noqa: E402

STEPS = 30
# Different operation order (in-place ufunc chains vs the rule's expression): a few ulps per
# step, relative to the distance travelled from x0.
RTOL = {"float64": 100 * STEPS * 2.0**-52, "float32": 100 * STEPS * 2.0**-23}


def _rule_reference(rule, h, x0, xstar, steps):
    r = get_rule(rule)
    vals = r.values(r.params(**RULE_PARAMS[rule]))
    state = r.init(x0.copy(), *vals)
    for t in range(1, steps + 1):
        g = h * (r.grad_point(*state, *vals) - xstar)
        state = r.step(*state, g, *vals, t)
    return np.asarray(state[0], np.float64)


def _final(make_fn, *args):
    run, state = make_fn(*args)
    run(STEPS)
    return np.asarray(state()[0], np.float64)


def _close(x, ref, x0, dtype):
    err = np.max(np.abs(x - ref)) / np.max(np.abs(ref - x0))
    assert err <= RTOL[dtype], err


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("rule", ["heavy_ball", "adam"])
def test_numpy_baseline_is_the_rule(rule, dtype):
    h, x0, xstar = quadratic(33, dtype)
    x = _final(make_numpy, rule, RULE_PARAMS[rule], h, x0, xstar)
    _close(x, _rule_reference(rule, h, x0, xstar, STEPS), x0, dtype)


@pytest.mark.parametrize("variant", ["foreach", "fused"])
@pytest.mark.parametrize("rule", ["heavy_ball", "adam"])
def test_torch_matches_numpy(rule, variant):
    pytest.importorskip("torch")
    from torch_baseline import make_torch

    h, x0, xstar = quadratic(33, "float64")
    x = _final(make_torch, rule, variant, RULE_PARAMS[rule], h, x0, xstar)
    _close(x, _final(make_numpy, rule, RULE_PARAMS[rule], h, x0, xstar), x0, "float64")


@pytest.mark.parametrize("rule", ["heavy_ball", "adam"])
def test_optax_matches_numpy(rule):
    pytest.importorskip("optax")
    from jax_baseline import make_optax

    h, x0, xstar = quadratic(33, "float64")
    x = _final(make_optax, rule, RULE_PARAMS[rule], h, x0, xstar)
    _close(x, _final(make_numpy, rule, RULE_PARAMS[rule], h, x0, xstar), x0, "float64")


def test_check_normal_rejects_subnormal_and_nonfinite():
    check_normal(np.array([0.0, 1.0, -2.5e-300]), np.zeros(3, np.float32))
    with pytest.raises(RuntimeError, match="subnormal"):
        check_normal(np.array([1.0, 1e-310]))
    with pytest.raises(RuntimeError, match="subnormal"):
        check_normal(np.array([1e-40], np.float32))
    with pytest.raises(RuntimeError, match="finite"):
        check_normal(np.array([np.nan]))


def test_quadratic_validates():
    with pytest.raises(ValueError, match="d must be"):
        quadratic(0, "float64")
    with pytest.raises(ValueError, match="dtype"):
        quadratic(3, "int64")


def test_time_steps_reports_consistent_rates():
    calls = []
    t = time_steps(lambda steps: calls.append(steps), 7, target=1e-4, repeats=3)
    assert t["steps"] >= 1 and len(t["all_seconds"]) == 3 and t["seconds"] == min(t["all_seconds"])
    assert t["ns_per_element_step"] == pytest.approx(t["seconds"] / (7 * t["steps"]) * 1e9)
    assert calls[-3:] == [t["steps"]] * 3
    with pytest.raises(ValueError, match="repeats"):
        time_steps(lambda s: None, 7, repeats=0)


def test_sweep_grid_is_stable_and_complete():
    params, columns = grid("heavy_ball", 8)
    assert len(params) == 64 and columns.shape == (64, 2)
    # Jury: 0 < lr h < 2 (1 + momentum) with h <= 1 on the benchmarked quadratic.
    assert all(0 < p["lr"] < 2 * (1 + p["momentum"]) and 0 <= p["momentum"] < 1 for p in params)
    assert len({(p["lr"], p["momentum"]) for p in params}) == 64


def test_write_json_is_atomic(tmp_path):
    path = tmp_path / "r.json"
    write_json(path, {"a": [1, 2.5]})
    write_json(path, {"a": [3]})
    assert json.loads(path.read_text()) == {"a": [3]}
    assert os.listdir(tmp_path) == ["r.json"]


def test_our_contenders_are_available():
    """A contender whose module is missing is left out of the table silently (torch and optax are
    optional); ours never are, or the targets would vanish with them (a renamed module did that)."""
    from contenders import available

    for name in ("optanalysis.simulate", "optanalysis run_diag"):
        for rule in ("heavy_ball", "adam"):
            assert available(name, rule), name
