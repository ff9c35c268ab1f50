"""The generated kernel packages hit Numba's disk cache in a new process (the reason they exist),
and bind exactly what the paths take from a rule (kernels/contract.py)."""
import os
import subprocess
import sys
from pathlib import Path

import re

from optanalysis.kernels.contract import NAMES, binding_source
from optanalysis.rules import get_rule

REPO = Path(__file__).resolve().parent.parent
PROBE = """
import numpy as np
from optanalysis.kernels import kernel_module
from optanalysis.simulation import simulate
simulate("gd", {"lr": 0.1}, x0=np.ones(3), hessian_diag=np.ones(3), steps=3)
stats = kernel_module("gd").run_diag.stats
print(sum(stats.cache_hits.values()), sum(stats.cache_misses.values()), kernel_module("gd").__file__)
"""


def _probe(cache):
    env = {**os.environ, "OPTANALYSIS_CACHE_DIR": str(cache),
           "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True,
                         check=True, cwd=REPO).stdout.split()
    return int(out[0]), int(out[1]), Path(out[2])


def test_second_process_loads_the_compiled_kernel_from_disk(tmp_path):
    hits, misses, path = _probe(tmp_path)
    assert (hits, misses) == (0, 1) and path.parent.parent == tmp_path / "kernels"
    assert path.parent.name.startswith("optanalysis_kernel_gd_") and path.name == "__init__.py"
    hits, misses, again = _probe(tmp_path)
    assert (hits, misses) == (1, 0) and again == path


def test_generated_source_binds_the_rule():
    src = binding_source(get_rule("adam"))
    # the rule's own functions, their arithmetic through kernels/mixed.py
    # and its powers of t tabulated (kernels/rewrite.py): beta2 ** t is _pw[0], beta1 ** t _pw[1]
    assert "def _step(x, m, v, vmax, g, lr, beta1, beta2, eps, weight_decay, amsgrad, t, _pw):" in src
    assert "denom = _add(_truediv(ops.sqrt(v), ops.sqrt(_sub(1, _pw[0]))), eps)" in src
    assert "NPOW = 2\nPOW_BASES = (2, 1)\n" in src
    adamw = binding_source(get_rule("adamw"))  # another rule's step, called by this one, is rewritten too
    assert "def _adam_step(" in adamw and "return _adam_step(_mul(x, _sub(1, _mul(lr, weight_decay)))" in adamw
    assert "amsgrad, t, _pw)" in adamw and "_pw[1]" in adamw
    assert "NSTATE = 4\nNHYPER = 6\n" in src
    assert "return (S[0, i], S[1, i], S[2, i], S[3, i],)" in src
    assert "optanalysis.rules.gd" not in src
    defined = set(re.findall(r"^def (\w+)\(|^(\w+) =", src, re.M))
    defined = {a or b for a, b in defined}
    assert defined == set(NAMES)  # the contract, exactly


def test_rewrite_tabulates_only_hyperparameters_to_powers_of_t(tmp_path, monkeypatch):
    import importlib
    import types

    from optanalysis.kernels.rewrite import binding_functions

    (tmp_path / "fake_rule.py").write_text(
        "def grad_point(x, lr, beta, gamma):\n    return x\n\n\n"
        "def step(x, g, lr, beta, gamma, t):\n"
        "    a = beta ** t + beta ** (t + 1)  # tabulated twice, as two powers\n"
        "    gamma = gamma * 2\n"
        "    b = gamma ** t  # gamma is no longer the hyperparameter: not tabulated\n"
        "    c = beta ** x  # an exponent that is not a function of t alone\n"
        "    return (x - lr * g * a * b * c,)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    fake = types.SimpleNamespace(hyper_names=("lr", "beta", "gamma"),
                                 module=importlib.import_module("fake_rule"))
    source, npow = binding_functions(fake)
    assert npow == 2 and "POW_BASES = (1, 1)" in source
    assert "a = _add(_pw[0], _pw[1])" in source
    assert "b = _pow(gamma, t)" in source and "c = _pow(beta, x)" in source
    assert "if j == 0:\n        return t\n    if j == 1:\n        return _add(t, 1)\n" in source


def test_the_fingerprint_covers_the_rule_file_and_the_plateau_controller():
    import inspect

    from optanalysis.kernels.build import _inlined_files
    from optanalysis.schedules import plateau_update

    files = _inlined_files(get_rule("adamw"))
    controller = getattr(plateau_update, "py_func", plateau_update)
    for path in (inspect.getsourcefile(get_rule("adamw").module),
                 inspect.getsourcefile(controller)):
        assert Path(path).resolve() in files
    names = {p.name for p in files}
    assert {"ops.py", "adam.py", "noise.py", "reduce.py", "mixed.py", "rewrite.py",
            "contract.py"} <= names


def test_a_kernel_package_is_written_once_and_never_replaced(tmp_path):
    from optanalysis.io import directory_once

    target = tmp_path / "pkg"
    assert directory_once(target, {"a.py": "first\n", "b.py": "x = 1\n"})
    mtime = (target / "a.py").stat().st_mtime_ns
    assert not directory_once(target, {"a.py": "second\n"})
    assert (target / "a.py").read_text() == "first\n" and (target / "b.py").exists()
    assert (target / "a.py").stat().st_mtime_ns == mtime
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pkg"]  # no temporary left
