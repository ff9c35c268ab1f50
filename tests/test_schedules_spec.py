"""The nested-list extension of the spec grammar (used by sequential and join_optax schedules)."""
import pytest

from optanalysis.spec import parse_spec, parse_value


def test_nested_specs_become_spec_strings():
    name, params = parse_spec("sequential:schedules=[linear(start_factor=0.1,total_iters=5);cosine(T_max=95)],"
                              "milestones=[5]")
    assert name == "sequential"
    assert params == {"schedules": ("linear:start_factor=0.1,total_iters=5", "cosine:T_max=95"), "milestones": (5,)}
    assert parse_spec(params["schedules"][0]) == ("linear", {"start_factor": 0.1, "total_iters": 5})


def test_nesting_keeps_inner_lists_and_bare_names():
    value = parse_value("[multistep(milestones=[3,6],gamma=0.5);constant;"
                        "join_optax(schedules=[constant;constant],boundaries=[4])]")
    assert value == ("multistep:milestones=[3,6],gamma=0.5", "constant",
                     "join_optax:schedules=[constant;constant],boundaries=[4]")
    assert parse_spec(value[2])[1]["schedules"] == ("constant", "constant")


def test_number_lists_are_unchanged():
    assert parse_value("[1, 2.5]") == (1, 2.5) and parse_value("[inf]") == (float("inf"),)


@pytest.mark.parametrize("bad", ["[linear(a=1]", "[linear(a)]", "[1;2]", "[a(b=1)x]", "[a b]", "[a(b=os.system(1))]",
                                 "[(a=1)]"])
def test_malformed_nested_lists(bad):
    with pytest.raises(ValueError):
        parse_value(bad)
