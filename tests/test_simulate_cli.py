"""``optanalysis simulate``: JSON output equal to the Python API, errors as one line + exit 2."""
import json

import numpy as np
import pytest

from optanalysis.cli import main
from optanalysis.models.quadratic import rotated_hessian, spectrum
from optanalysis.simulation import simulate


def _run(capsys, *argv):
    code = main(["simulate", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_equals_the_python_api(capsys):
    code, out, err = _run(capsys, "adam", "--param", "lr=0.05", "--param", "amsgrad=true",
                          "--spectrum", "uniform:mu=0.1,L=1,d=4", "--x0", "1", "--xstar", "0.5,0,0,-1",
                          "--steps", "12", "--record-every", "4", "--schedule", "step:step_size=5,gamma=0.5",
                          "--noise", "hessian:sigma=0.2", "--batch", "2", "--seed", "7", "--json")
    assert code == 0 and err == ""
    got = json.loads(out)
    ref = simulate("adam", {"lr": 0.05, "amsgrad": True}, x0=np.ones(4), xstar=[0.5, 0, 0, -1],
                   hessian_diag=spectrum("uniform:mu=0.1,L=1,d=4"), steps=12, record_every=4,
                   schedule="step:step_size=5,gamma=0.5", noise="hessian:sigma=0.2", batch=2, seed=7)
    assert got["loss"] == ref.loss.tolist() and len(got["loss"]) == 4
    assert got["lr"] == ref.lr.tolist() and got["x"] == ref.x.tolist()
    assert got["diverged_at"] is None


def test_divergence_gives_null_for_non_finite_values(capsys):
    code, out, _ = _run(capsys, "gd", "--param", "lr=3", "--hessian-diag", "1,2", "--x0", "1",
                        "--steps", "40", "--json")
    got = json.loads(out)
    k = got["diverged_at"]
    assert code == 0 and isinstance(k, int) and 0 < k < 40
    assert got["loss"][k] is not None and all(v is None for v in got["loss"][k + 1:])
    assert all(v is None for v in got["lr"][k:])


def test_rotated_dense_float32(capsys):
    code, out, _ = _run(capsys, "heavy_ball", "--param", "lr=0.1", "--hessian-diag", "1,2,3",
                        "--rotate", "4", "--x0", "1,2,3", "--steps", "5", "--dtype", "float32", "--json")
    ref = simulate("heavy_ball", {"lr": 0.1}, x0=[1, 2, 3], hessian=rotated_hessian([1, 2, 3], 4),
                   steps=5, dtype="float32")
    assert code == 0 and json.loads(out)["loss"] == ref.loss.tolist()


def test_text_summary(capsys):
    code, out, _ = _run(capsys, "gd", "--param", "lr=0.5", "--hessian-diag", "1", "--x0", "2",
                        "--steps", "3")
    assert code == 0 and out.startswith("gd: loss 2 -> 0.03125 after 3 steps (did not diverge)")


@pytest.mark.parametrize("argv,match", [
    (["nope", "--hessian-diag", "1", "--x0", "1", "--steps", "2"], "unknown rule"),
    (["gd", "--param", "lr", "--hessian-diag", "1", "--x0", "1", "--steps", "2"], "expected NAME=VALUE"),
    (["gd", "--param", "lr=1", "--param", "lr=2", "--hessian-diag", "1", "--x0", "1", "--steps", "2"],
     "lr given twice"),
    (["gd", "--hessian-diag", "1,x", "--x0", "1", "--steps", "2"], "--hessian-diag: 'x' is not a number"),
    (["gd", "--hessian-diag", "1,2,3", "--x0", "1,2", "--steps", "2"], "--x0 must have 1 or d = 3 values, got 2"),
    (["gd", "--spectrum", "uniform:mu=1", "--x0", "1", "--steps", "2"], "missing L"),
    (["gd", "--hessian-diag", "1", "--x0", "1", "--steps", "0"], "steps must be"),
    (["gd", "--hessian-diag", "1", "--x0", "1", "--steps", "2", "--noise", "isotropic:sigma=1"],
     "seed is required"),
    (["gd", "--hessian-diag", "1", "--spectrum", "powerlaw:d=1", "--x0", "1", "--steps", "2"],
     "not allowed with"),
    (["gd", "--param", "amsgrad=true", "--hessian-diag", "1", "--x0", "1", "--steps", "2"],
     "unknown hyperparameter"),
])
def test_bad_input_is_one_line_and_exit_2(capsys, argv, match):
    try:
        code = main(["simulate", *argv])
    except SystemExit as exc:  # argparse errors (e.g. mutually exclusive options) exit directly
        code = exc.code
    _, err = capsys.readouterr()
    assert code == 2 and match in err and err.count("\n") == 1


def test_help_documents_the_spec_grammar(capsys):
    with pytest.raises(SystemExit):
        main(["simulate", "--help"])
    out = capsys.readouterr().out
    for word in ("uniform:mu=M,L=L,d=D", "powerlaw:d=D", "isotropic:sigma=S", "hessian:sigma=S",
                 "diag:c=[c1,...]", "step:step_size=30,gamma=0.1", "plateau:patience=5"):
        assert word in out
