"""The parameter declarations of optanalysis.hyper: one protocol, one form of message for a bad value
("NAME must be ..., got VALUE", naming the valid range), the converted value for a good one."""
import math

import numpy as np
import pytest

from optanalysis import hyper
from optanalysis.hyper import (REQUIRED, Choice, Declaration, Flag, Int, ListOf, Optional, Real, coefficient,
                               learning_rate, nonnegative, positive)

EXAMPLES = [
    Real("x", 0.5, 0.0, 1.0, high_open=True), Flag("f", False), Int("n", 3, 1), Choice("mode", "min", ("min", "max")),
    ListOf(Int("milestones", REQUIRED, 0), increasing=True), ListOf(nonnegative("scales", REQUIRED)),
    Optional(nonnegative("init_value", 0.0, "initial lr", r"\eta_0"), unset="base_lr"),
]


def test_every_declaration_class_is_a_declaration_with_the_whole_protocol():
    classes = {type(d) for d in EXAMPLES}
    public = {getattr(hyper, n) for n in hyper.__all__}
    assert classes == {c for c in public if isinstance(c, type) and issubclass(c, Declaration)} - {Declaration}
    for d in EXAMPLES:
        assert isinstance(d.name, str) and d.name and isinstance(d.range, str) and d.range
        assert isinstance(d.doc, str) and isinstance(d.symbol, str) and d.flag == isinstance(d, Flag)
        if d.default is not REQUIRED:
            assert d.validate(d.default) == d.default


@pytest.mark.parametrize("decl, value, error, message", [
    (Real("x", 0.5, 0.0, 1.0, high_open=True), "0.5", TypeError, r"x must be a real number in [0, 1), got '0.5'"),
    (Real("x", 0.5, 0.0, 1.0, high_open=True), 1.0, ValueError, r"x must be in [0, 1), got 1.0"),
    (Real("x", 0.5, 0.0, 1.0, high_open=True), math.nan, ValueError, r"x must be in [0, 1), got nan"),
    (positive("gamma"), 10**400, ValueError, r"gamma must be in (0, inf), got 1000"),
    (Flag("f", False), 2, TypeError, r"f must be a boolean (true/false), got 2"),
    (Int("n", 3, 1), 0, ValueError, r"n must be an integer >= 1, got 0"),
    (Int("n", 3, 1), 2.0, TypeError, r"n must be an integer >= 1, got 2.0"),
    (Int("n", 3, 1), True, TypeError, r"n must be an integer >= 1, got True"),
    (Choice("mode", "min", ("min", "max")), "avg", ValueError, r"mode must be one of {min, max}, got 'avg'"),
    (Choice("mode", "min", ("min", "max")), 1, ValueError, r"mode must be one of {min, max}, got 1"),
    (ListOf(Int("milestones", REQUIRED, 0), increasing=True), 3, TypeError,
     r"milestones must be a list [..] of integers >= 0, strictly increasing, got 3"),
    (ListOf(Int("milestones", REQUIRED, 0), increasing=True), (1, -1), ValueError,
     r"milestones must be an integer >= 0, got -1"),
    (ListOf(Int("milestones", REQUIRED, 0), increasing=True), [2, 2], ValueError,
     r"milestones must be strictly increasing, got [2, 2]"),
    (ListOf(nonnegative("scales", REQUIRED)), "0.5", TypeError,
     r"scales must be a list [..] of reals in [0, inf), got '0.5'"),
    (ListOf(nonnegative("scales", REQUIRED)), (0.5, -1.0), ValueError, r"scales must be in [0, inf), got -1.0"),
    (Optional(nonnegative("init_value", 0.0)), -1.0, ValueError, r"init_value must be in [0, inf), got -1.0"),
    (Optional(nonnegative("init_value", 0.0)), "x", TypeError, r"init_value must be a real number in [0, inf)"),
])
def test_a_bad_value_is_named_with_its_valid_range(decl, value, error, message):
    with pytest.raises(error) as info:
        decl.validate(value)
    assert str(info.value).startswith(message)


def test_good_values_are_converted():
    assert Int("n", 3, 1).validate(np.int32(4)) == 4 and type(Int("n", 3, 1).validate(np.int32(4))) is int
    assert Real("x", 0.5).validate(np.float32(0.25)) == 0.25 and type(Real("x", 0.5).validate(1)) is float
    assert Flag("f", False).validate(np.bool_(True)) is True
    assert ListOf(Int("m", REQUIRED, 0), increasing=True).validate([1, 3]) == (1, 3)
    assert ListOf(nonnegative("s", REQUIRED)).validate([1, 0.5]) == (1.0, 0.5)
    assert ListOf(Int("m", REQUIRED, 0)).validate([3, 3, 1]) == (3, 3, 1)  # not asked to increase
    assert Optional(nonnegative("v", 0.0)).validate(None) is None and Optional(nonnegative("v", 0.0)).default is None


def test_ranges_and_wrappers():
    assert Int("n", 3, 1).range == "integers >= 1"
    assert Choice("mode", "min", ("min", "max")).range == "{min, max}"
    assert ListOf(Int("m", REQUIRED, 0), increasing=True).range == "lists of integers >= 0, strictly increasing"
    assert ListOf(positive("s")).range == "lists of reals in (0, inf)"
    opt = Optional(nonnegative("init_value", 0.0, "initial lr", r"\eta_0"), unset="base_lr")
    assert (opt.name, opt.doc, opt.symbol, opt.range, opt.unset) == (
        "init_value", "initial lr", r"\eta_0", "[0, inf)", "base_lr")
    assert ListOf(Int("m", REQUIRED, 0)).default is REQUIRED and repr(REQUIRED) == "REQUIRED"


def test_shared_declarations_state_the_same_range():
    assert learning_rate(0.1).range == positive("gamma").range == "(0, inf)"
    assert coefficient("beta", 0.9).range == "[0, 1)" and nonnegative("eps", 0.0).range == "[0, inf)"
    assert positive("gamma").default is REQUIRED
