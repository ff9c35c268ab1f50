"""What the falsification tests share: which record families a falsification turns unexpected, and a
study run with a wrong rule, the falsification that the studies' literature oracles must catch.

:func:`run_with_wrong_rule` changes one piece of one rule's arithmetic (a textual replacement in a
copy of its module, which must apply exactly once), registers the copy under the rule's own name in
a fresh interpreter, before anything is derived, compiled or cached in that process, and runs a
study there in quick mode.  The derivation and the kernels then both follow the wrong rule and agree
with each other; only a comparison with the paper's formula can tell.  The disk caches key on the
rule's source, so the wrong rule never shares a derivation or a kernel with the right one.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import optanalysis.rules as rules



def unexpected(outcome) -> set:
    """The families (quantity up to its first comma) of ``outcome``'s unexpected records."""
    return {m[0].split(",")[0] for m in outcome.mismatches}


def caught_by(study_name: str, hook: str, wrong) -> set:
    """The families that a run of ``study_name`` (quick) against the wrong theory ``{hook: wrong}``
    turns unexpected."""
    from optanalysis.studies import study

    return unexpected(study(study_name, quick=True, perturb={hook: wrong}))


SCRIPT = r'''
import importlib.util, json, sys
import optanalysis.rules as rules
from optanalysis.studies import study

name, path, study_name = sys.argv[1:4]
spec = importlib.util.spec_from_file_location("optanalysis.rules._wrong_" + name, path)
module = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = module
spec.loader.exec_module(module)
del rules.RULES[name]
rules.register(module)
outcome = study(study_name, quick=True)
print(json.dumps({"ok": outcome.ok, "mismatches": [list(m) for m in outcome.mismatches],
                  "confirmed": outcome.confirmed}))
'''


def run_with_wrong_rule(study: str, rule: str, old: str, new: str, tmp_path: Path) -> dict:
    """``{"ok", "mismatches", "confirmed"}`` of ``study`` (quick) with ``old`` -> ``new`` in ``rule``."""
    source = Path(rules.get_rule(rule).module.__file__).read_text()
    assert source.count(old) == 1, f"{old!r} must occur exactly once in the {rule} rule"
    path = tmp_path / f"wrong_{rule}.py"
    path.write_text(source.replace(old, new))
    done = subprocess.run([sys.executable, "-c", SCRIPT, rule, str(path), study], capture_output=True,
                          text=True, env={**os.environ, "PYTHONHASHSEED": "0"}, timeout=1200)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])
