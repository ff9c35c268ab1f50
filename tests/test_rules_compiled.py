"""Every rule's compiled step equals its symbolic step and its plain float step.

The kernels call ``rule.step`` under Numba (registered by ``optanalysis.kernels.jitable``, flags
as 0.0/1.0 floats, ``error_model="numpy"``); the symbolic engine calls the same function on SymPy
symbols.  Both must describe one and the same update.
"""
import itertools

import numpy as np
import pytest
import sympy
from numba import njit

import optanalysis.kernels.jitable  # noqa: F401  (registers the rules with Numba)
from optanalysis.rules import RULES
from optanalysis.symbolic.core import update

# A step is a few dozen flops on O(1) inputs: each rounding is <= 2^-53 relative, and the worst
# cancellation (e.g. m - g, v - gbar^2 with random inputs) loses at most a few digits.
RTOL = 1e-12


def _flag_combinations(rule):
    flags = [p.name for p in rule.hyper if p.flag]
    return [dict(zip(flags, bits)) for bits in itertools.product((False, True), repeat=len(flags))]


def _random_case(rule, flags, t, rng):
    """A reachable state before step ``t`` (t - 1 float steps with random gradients from a random
    x0, so that e.g. v >= gbar^2 holds), a random gradient and random valid hyperparameters."""
    hyper = {p.name: flags[p.name] if p.flag else rng.uniform(0.05, 0.6) for p in rule.hyper}
    for p in rule.hyper:  # cross-parameter constraints (torch: nesterov needs dampening 0)
        try:
            rule.params(**hyper)
            break
        except ValueError:
            if not p.flag:
                hyper[p.name] = p.default
    values = rule.values(rule.params(**hyper))
    state = rule.init(rng.uniform(-1.0, 1.0), *values)
    for k in range(1, t):
        state = rule.step(*state, rng.uniform(-1.0, 1.0), *values, k)
    return [float(s) for s in state], rng.uniform(-1.0, 1.0), rule.params(**hyper)


@pytest.fixture(scope="module")
def compiled():
    """One Numba compilation of each rule's step (float arguments, flags as floats)."""
    return {name: njit(error_model="numpy")(rule.step) for name, rule in RULES.items()}


@pytest.mark.parametrize("name", list(RULES))
def test_compiled_step_equals_symbolic_and_float_step(name, compiled):
    rule = RULES[name]
    rng = np.random.default_rng(sum(map(ord, name)))
    g_sym = sympy.Symbol("g", real=True)
    for flags in _flag_combinations(rule):
        for t in (1, 2, 7):
            state, g, hyper = _random_case(rule, flags, t, rng)
            syms, new, hp = update(rule, t=t, g=g_sym, **flags)
            subs = dict(zip(syms, map(sympy.Float, state)))
            subs[g_sym] = sympy.Float(g)
            subs.update({hp[p.name]: sympy.Float(hyper[p.name]) for p in rule.hyper if not p.flag})
            exact = np.array([float(sympy.N(e.subs(subs), 30)) for e in new])
            values = [hyper[p.name] for p in rule.hyper]
            as_floats = [float(v) for v in values]  # what the kernels pass (flags 0.0/1.0)
            got = np.array(compiled[name](*state, g, *as_floats, t), dtype=np.float64)
            plain = np.array(rule.step(*state, g, *values, t), dtype=np.float64)
            where = f"{name} flags={flags} t={t}"
            np.testing.assert_allclose(got, exact, rtol=RTOL, atol=RTOL, err_msg=where)
            np.testing.assert_allclose(got, plain, rtol=RTOL, atol=RTOL, err_msg=where)


def test_compiled_grad_point_equals_float_grad_point():
    """grad_point is compiled too (Nesterov's look-ahead): equal to the float version."""
    for name, rule in RULES.items():
        gp = njit(rule.grad_point)
        state = np.linspace(0.3, 0.9, len(rule.state))
        vals = [float(p.default) for p in rule.hyper]
        assert gp(*state, *vals) == rule.grad_point(*state, *vals), name
