"""The spec grammar: strings are parsed as data, malformed ones get one clear error."""
import pytest

from optanalysis.spec import (format_spec, parse_assignment, parse_assignments, parse_floats, parse_spec,
                              parse_value)


def test_values():
    assert parse_value("3") == 3 and isinstance(parse_value("3"), int)
    assert parse_value("0.1") == 0.1 and parse_value("1e-3") == 1e-3
    assert parse_value("true") is True and parse_value("False") is False
    assert parse_value("[30, 60,90]") == (30, 60, 90)
    assert parse_value("[]") == ()
    assert parse_value("min") == "min"


def test_specs():
    assert parse_spec("constant") == ("constant", {})
    assert parse_spec("step:step_size=30,gamma=0.1") == ("step", {"step_size": 30, "gamma": 0.1})
    assert parse_spec("multistep:milestones=[30,60],gamma=0.5") == (
        "multistep", {"milestones": (30, 60), "gamma": 0.5})
    assert parse_assignment("lr=0.01") == ("lr", 0.01)


@pytest.mark.parametrize("bad", ["", ":a=1", "step:step_size", "step:=3", "step:a=1,a=2", "step:a=[1,2",
                                 "step:a=1]", "__import__('os'):x=1", "step:a=os.system('x')", "st ep:a=1"])
def test_malformed_specs_raise_value_error(bad):
    with pytest.raises(ValueError):
        parse_spec(bad)


def test_floats():
    assert parse_floats("1,2.5, 3", what="--x0") == [1.0, 2.5, 3.0]
    for bad in ("1,,2", "1,nan", "1,inf", "a"):
        with pytest.raises(ValueError, match="--x0"):
            parse_floats(bad, what="--x0")


def test_assignment_lists_reject_a_name_given_twice():
    assert parse_assignments(["lr=0.1", "nesterov=true"], what="--param") == {"lr": 0.1, "nesterov": True}
    assert parse_assignments([]) == {}
    with pytest.raises(ValueError, match="--param: lr given twice"):
        parse_assignments(["lr=0.1", "lr=0.2"], what="--param")


def test_numbers_are_ascii_and_an_integer_beyond_int64_is_its_float():
    assert parse_value("-12") == -12 and parse_value(".5") == 0.5 and parse_value("5.") == 5.0
    assert parse_value("-1E+3") == -1000.0 and parse_value("-inf") == float("-inf")
    assert parse_value("9223372036854775807") == 2**63 - 1
    big = parse_value("9" * 400)  # a parameter's own check then says "must be finite"
    assert big == float("inf") and isinstance(big, float)
    assert parse_value("-" + "9" * 30) == -1e30
    # int() and float() alone would read these as 1000, 12 and 1
    for text in ("1_000", "\u0661\u0662", "\uff11", "0x10", "1e", "--1"):
        with pytest.raises(ValueError, match="is not a number"):
            parse_floats(text, what="--x0")
        with pytest.raises(ValueError):
            parse_spec(f"step:step_size={text}")


class _Nested:
    def __init__(self, spec):
        self.spec = spec


def test_format_spec_is_read_back_by_parse_spec():
    params = {"a": 3, "b": 0.1 + 0.2, "c": True, "d": (30, 60), "e": "min", "f": None, "g": 1e-300}
    text = format_spec("x", params)
    assert text == "x:a=3,b=0.30000000000000004,c=true,d=[30,60],e=min,g=1e-300"  # None (unset) left out
    assert parse_spec(text) == ("x", {k: v for k, v in params.items() if v is not None})
    assert format_spec("constant", {}) == "constant" and format_spec("x", {"f": None}) == "x"


def test_format_spec_writes_objects_with_a_spec_as_nested_items():
    subs = (_Nested("linear:start_factor=0.1,total_iters=5"), _Nested("constant"))
    text = format_spec("sequential", {"schedules": subs, "milestones": (5,)})
    assert text == "sequential:schedules=[linear(start_factor=0.1,total_iters=5);constant],milestones=[5]"
    assert parse_spec(text)[1]["schedules"] == tuple(s.spec for s in subs)
