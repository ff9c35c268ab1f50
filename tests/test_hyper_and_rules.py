"""Hyperparameter declarations and the rule registry: validation is complete and names the parameter."""
import math

import numpy as np
import pytest

from optanalysis.hyper import Flag, Real
from optanalysis import rules
from optanalysis.rules import RULES, get_rule


def test_registry_has_every_rule_of_the_mission():
    expected = {"gd", "heavy_ball", "sgd_momentum", "nesterov", "rmsprop", "rmsprop_optax",
                "adam", "adamw", "adam_optax", "adagrad",
                # issue 24: every elementwise torch.optim class, optax's lion, adabelief and
                # schedule-free SGD, and the literature's linear methods
                "nadam", "radam", "adamax", "adadelta", "asgd", "rprop", "lion", "adabelief",
                "schedule_free_sgd", "schedule_free_adamw", "qhm", "triple_momentum"}
    assert set(RULES) == expected
    assert {n for n, r in RULES.items() if r.linear} == {"gd", "heavy_ball", "sgd_momentum", "nesterov", "qhm",
                                                         "triple_momentum", "schedule_free_sgd"}


@pytest.mark.parametrize("name", sorted(RULES))
def test_rule_contract(name):
    import inspect

    rule = RULES[name]
    assert rule.hyper[0].name == "lr" and rule.state[0] == "x"
    hp = rule.hyper_names
    # The functions' signatures are the declared state and hyperparameters, in order; a rule
    # that writes no init or grad_point gets the defaults (x0 then zeros; the iterate x).
    assert list(inspect.signature(rule.step).parameters) == [*rule.state, "g", *hp, "t"]
    mod = vars(rule.module)
    if "grad_point" in mod and mod["grad_point"] is not rules.grad_point:
        assert list(inspect.signature(rule.grad_point).parameters) == [*rule.state, *hp]
    else:
        assert rule.module.grad_point is rules.grad_point and rule.grad_point(*range(7)) == 0
    if "init" in mod:
        assert list(inspect.signature(rule.init).parameters) == ["x0", *hp]
    else:
        assert rule.init(2.0, *rule.values(rule.defaults)) == (2.0, *[0.0] * (len(rule.state) - 1))
    doc = rule.doc
    for section in ("Algorithm", "Theoretical guarantee", "Equivalences", "References"):
        assert section in doc, f"{name} docstring lacks {section}"
    assert rule.params() == rule.defaults


@pytest.mark.parametrize("name", sorted(RULES))
@pytest.mark.parametrize("bad", [0.0, -1e-3, math.nan, math.inf, -math.inf])
def test_bad_lr_names_parameter_and_range(name, bad):
    with pytest.raises(ValueError, match=r"lr must be in \(0, inf\)"):
        RULES[name].params(lr=bad)


@pytest.mark.parametrize("name,param", [(n, p.name) for n, r in sorted(RULES.items()) for p in r.hyper
                                        if not p.flag and p.name != "lr"])
def test_every_real_hyperparameter_rejects_out_of_range(name, param):
    p = next(q for q in RULES[name].hyper if q.name == param)
    for bad in (p.low - 1.0 if math.isfinite(p.low) else None, p.high + 1.0 if math.isfinite(p.high) else None,
                math.nan, math.inf):
        if bad is None:
            continue
        with pytest.raises(ValueError, match=param):
            RULES[name].params(**{param: bad})
    with pytest.raises(TypeError, match=param):
        RULES[name].params(**{param: "0.5"})
    with pytest.raises(TypeError, match=param):
        RULES[name].params(**{param: True})


def test_betas_exclude_one_and_negative():
    adam = get_rule("adam")
    for beta in ("beta1", "beta2"):
        with pytest.raises(ValueError, match=rf"{beta} must be in \[0, 1\)"):
            adam.params(**{beta: 1.0})
        with pytest.raises(ValueError, match=beta):
            adam.params(**{beta: -0.1})
    assert adam.params(beta1=0.0)["beta1"] == 0.0


def test_negative_eps_rejected_zero_allowed():
    for name in ("adam", "rmsprop", "adagrad", "adam_optax", "rmsprop_optax"):
        with pytest.raises(ValueError, match=r"eps must be in \[0, inf\)"):
            get_rule(name).params(eps=-1e-8)
        assert get_rule(name).params(eps=0.0)["eps"] == 0.0


def test_flags_and_unknown_names():
    sgd = get_rule("sgd_momentum")
    with pytest.raises(TypeError, match="nesterov"):
        sgd.params(nesterov="yes")
    with pytest.raises(ValueError, match="unknown hyperparameter 'betas'"):
        get_rule("adam").params(betas=(0.9, 0.99))
    with pytest.raises(ValueError, match="unknown rule 'sgdd'"):
        get_rule("sgdd")
    # torch raises for nesterov without momentum or with dampening.
    with pytest.raises(ValueError, match="nesterov"):
        sgd.params(nesterov=True, momentum=0.0)
    with pytest.raises(ValueError, match="nesterov"):
        sgd.params(nesterov=True, momentum=0.9, dampening=0.1)
    assert sgd.params(nesterov=1)["nesterov"] is True
    assert sgd.params(nesterov=np.bool_(True))["nesterov"] is True
    assert get_rule("adam").params(lr=np.float32(0.5))["lr"] == 0.5


def test_declarations_render_ranges():
    assert Real("a", 0.5, 0.0, 1.0, high_open=True).range == "[0, 1)"
    assert Real("lr", 1.0, 0.0, low_open=True).range == "(0, inf)"
    assert Flag("f", False).validate(0) is False


def test_torch_defaults():
    # torch.optim defaults (docs/reference.md §2–§3), including AdamW's larger weight decay.
    assert get_rule("sgd_momentum").defaults["lr"] == 1e-3
    assert get_rule("rmsprop").defaults == {"lr": 1e-2, "alpha": 0.99, "eps": 1e-8, "weight_decay": 0.0,
                                             "momentum": 0.0, "centered": False}
    assert get_rule("adam").defaults["eps"] == 1e-8 and get_rule("adamw").defaults["weight_decay"] == 1e-2
    assert get_rule("adagrad").defaults["eps"] == 1e-10
    assert get_rule("rmsprop_optax").defaults["decay"] == 0.9


BAD_ENTRIES = [{"lr": 0.0}, {"lr": math.nan}, {"lr": -1}, {"lr": True}, {"lr": "0.1"},
               {"lr": 10**400}, {"lr": None}, {"momentum": 1.5}, {"momentum": 0.5, "foo": 1.0},
               {"nesterov": 2}, {"nesterov": "true"}]


@pytest.mark.parametrize("name", ["heavy_ball", "sgd_momentum", "adam"])
@pytest.mark.parametrize("bad", BAD_ENTRIES, ids=repr)
def test_params_table_raises_the_error_of_params_for_the_first_bad_entry(name, bad):
    rule = get_rule(name)
    bad = {k: v for k, v in bad.items() if k in rule.hyper_names or k == "foo"} or {"lr": -2.0}
    with pytest.raises((TypeError, ValueError)) as single:
        rule.params(**bad)
    given = [{"lr": 0.1}, {"lr": 0.2}, bad, {"lr": -5.0}]  # the later bad one is not reported
    with pytest.raises(single.type) as table:
        rule.params_table(given)
    assert str(table.value) == str(single.value)


@pytest.mark.parametrize("name", sorted(RULES))
def test_params_table_rows_are_the_validated_params(name):
    import numpy as np

    rule = get_rule(name)
    flags = [p.name for p in rule.hyper if p.flag]
    given = [{}, {"lr": 0.5}, {"lr": np.float32(0.25)}, {"lr": 3}, {"lr": np.int64(2)},
             {"lr": 0.1, **{f: True for f in flags}}, {"lr": 0.1, **{f: 1 for f in flags}},
             {"lr": 0.1, **{f: np.True_ for f in flags}}]
    table = rule.params_table(given)
    assert table.dtype == np.float64 and table.shape == (len(given), len(rule.hyper))
    for row, g in zip(table, given):
        expected = [float(v) for v in rule.params(**g).values()]
        assert row.tolist() == expected
