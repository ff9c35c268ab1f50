"""The one integer check of every public function."""
import numpy as np
import pytest

from optanalysis.checks import integer


def test_integers_in_range_come_back_as_int():
    assert integer(3, "n", 1) == 3 and type(integer(np.int64(3), "n", 1)) is int
    assert integer(5, "n", 0, 5) == 5 and integer(0, "n", 0, 5) == 0  # both ends included


@pytest.mark.parametrize("value, high, error, match", [
    (True, None, TypeError, r"n must be an integer >= 1, got True"),
    (2.0, None, TypeError, r"n must be an integer >= 1, got 2.0"),
    (0, None, ValueError, r"n must be an integer >= 1, got 0"),
    (6, 5, ValueError, r"n must be an integer in \[1, 5\], got 6"),
    (2**63, None, ValueError, r"n must be an integer >= 1 and <= 2\*\*63 - 1, got 9223372036854775808"),
    (10**400, None, ValueError, r"n must be an integer >= 1 and <= 2\*\*63 - 1"),
])
def test_rejections_name_the_argument_and_the_range(value, high, error, match):
    with pytest.raises(error, match=match):
        integer(value, "n", 1, high)


def test_an_explicit_upper_bound_may_exceed_int64():  # seeds go up to 2**64 - 1
    assert integer(2**64 - 1, "seed", 0, 2**64 - 1) == 2**64 - 1
