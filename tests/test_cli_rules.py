"""`optanalysis rules` and the CLI's error convention (one line on stderr, exit 2)."""
import json
import subprocess
import sys

import pytest

from optanalysis.cli import main
from optanalysis.rules import RULES


def test_rules_json(capsys):
    assert main(["rules", "--json"]) == 0
    table = json.loads(capsys.readouterr().out)
    assert [r["rule"] for r in table] == list(RULES)
    adam = next(r for r in table if r["rule"] == "adam")
    assert {p["name"]: p["range"] for p in adam["hyperparameters"]}["beta1"] == "[0, 1)"


def test_rules_text(capsys):
    assert main(["rules"]) == 0
    out = capsys.readouterr().out
    assert "heavy_ball" in out and "Polyak" in out


def test_unknown_command_is_one_line_exit_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["frobnicate"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1


def test_module_entry_point():
    out = subprocess.run([sys.executable, "-m", "optanalysis", "rules", "--json"], capture_output=True, text=True)
    assert out.returncode == 0 and json.loads(out.stdout)
    bad = subprocess.run([sys.executable, "-m", "optanalysis", "rules", "--bogus"], capture_output=True, text=True)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and len(bad.stderr.strip().splitlines()) == 1


def test_output_piped_into_a_closed_pipe_is_not_a_traceback():
    proc = subprocess.Popen([sys.executable, "-m", "optanalysis", "rules"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    proc.stdout.close()  # like `optanalysis rules | head -0`
    err = proc.stderr.read().decode()
    assert proc.wait() == 0 and "Traceback" not in err
