"""`optanalysis schedules`: the list with descriptions, an lr sequence, errors as one line."""
import json

import pytest

from optanalysis.cli import main
from optanalysis.schedules import schedule_names


def test_list(capsys):
    assert main(["schedules", "--json"]) == 0
    table = json.loads(capsys.readouterr().out)
    assert list(table) == schedule_names() and "CosineAnnealingLR" in table["cosine"]


def test_sequence_is_the_schedule(capsys):
    assert main(["schedules", "step:step_size=2,gamma=0.5", "--lr", "0.8", "--steps", "5", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["lr"] == [0.8, 0.8, 0.4, 0.4, 0.2] and out["spec"] == "step:step_size=2,gamma=0.5"


@pytest.mark.parametrize("argv, message", [
    (["schedules", "cosine:T_max=0"], "T_max must be an integer >= 1"),
    (["schedules", "plateau"], "closed-loop"),
    (["schedules", "cosine:T_max=5", "--steps", "-1"], "steps must be an integer >= 0"),
])
def test_errors_are_one_line(capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
