"""The user_rule_walkthrough study's checks have power: a wrong theory (through its ``HOOKS``) or a
wrong rule (one coefficient of the study's own rule changed) turns the named records unexpected."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from falsify import caught_by

import optanalysis.studies.user_rule_walkthrough as walkthrough

RATES = {f"rate at lr={x}*bound" for x in ("0.978", "0.983", "0.988", "0.993", "0.998", "1.002", "1.008",
                                            "1.012", "1.018", "1.022")}
THEORY = {
    "a threshold 5% off": ("edge", lambda v: 1.05 * v, {"lr bound at avg=0: certified vs 2(1+momentum)/h",
                                                        "stability edge lr"}),
    "a rate off by 1e-3": ("rate", lambda v: v + 1e-3, RATES),
    "a prediction off by 1e-6 relative": ("prediction", lambda v: v * (1 + 1e-6),
                                          {"exact loss trajectory: predicted vs kernel"}),
    "a worst case off by 1e-5": ("worst_case", lambda v: v + 1e-5,
                                 {"worst-case rate over [mu"}),  # the family: up to the first comma
    "a coefficient off by 1e-9": ("charpoly", lambda v: v + 1e-9,
                                  {"charpoly coefficient c2: derived vs by hand",
                                   "charpoly coefficient c1: derived vs by hand",
                                   "charpoly coefficient c0: derived vs by hand"}),
}


@pytest.mark.parametrize("case", list(THEORY))
def test_user_rule_walkthrough_catches_a_wrong_theory(case):
    hook, wrong, caught = THEORY[case]
    assert caught_by("user_rule_walkthrough", hook, wrong) == caught


SCRIPT = r'''
import json, sys
from optanalysis.studies import study

outcome = study("user_rule_walkthrough", quick=True, directory=sys.argv[1])
print(json.dumps({"mismatches": [list(m) for m in outcome.mismatches]}))
'''


@pytest.mark.slow
def test_user_rule_walkthrough_catches_a_wrong_rule(tmp_path):
    """The study's rule with its momentum term scaled by 0.9, in a copy of the study file run in a
    fresh interpreter: derivation, certified bound and kernels follow the wrong rule and agree with
    each other; the hand-derived polynomial and Polyak's bound at avg = 0 do not."""
    source = Path(walkthrough.__file__).read_text()
    old = "x_new = x - lr * g + momentum * (x - x_prev)"
    assert source.count(old) == 1
    (tmp_path / "user_rule_walkthrough.py").write_text(
        source.replace(old, "x_new = x - lr * g + 0.9 * momentum * (x - x_prev)"))
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], capture_output=True, text=True,
                          env={**os.environ, "PYTHONHASHSEED": "0"}, timeout=1200)
    assert done.returncode == 0, done.stderr[-3000:]
    mismatches = json.loads(done.stdout.strip().splitlines()[-1])["mismatches"]
    families = {m[0].split(",")[0] for m in mismatches}
    # every coefficient of p carries momentum (c0 = -avg momentum); the bound at momentum = 0 agrees
    assert families == {"charpoly coefficient c2: derived vs by hand", "charpoly coefficient c1: derived vs by hand",
                        "charpoly coefficient c0: derived vs by hand",
                        "lr bound at avg=0: certified vs 2(1+momentum)/h"}
