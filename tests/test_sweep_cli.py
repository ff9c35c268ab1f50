"""``optanalysis sweep``: 0 on success (and on resume), 1 when a chunk failed, 2 with one line on
bad input; and the front door's lazy exports."""
import subprocess
import sys

import pytest

pytest.importorskip("pyarrow")
pytest.importorskip("pandas")

import optanalysis as oa  # noqa: E402
from optanalysis.cli import main  # noqa: E402
from optanalysis.sweeps import compute  # noqa: E402

SPEC = """\
steps = 30
record_every = 3
seeds = [0, 1]
chunk_size = 4
quantities = ["final_loss", "rate"]
[[rule]]
name = "nesterov"
lr = {linspace = [0.2, 1.0, 3]}
momentum = 0.5
[[problem]]
name = "two"
hessian_diag = [1.0, 0.1]
x0 = [1.0, 1.0]
"""


def _cli(capsys, *argv):
    try:
        code = main(["sweep", *argv])
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def spec(tmp_path):
    p = tmp_path / "grid.toml"
    p.write_text(SPEC)
    return p


def test_runs_resumes_and_loads(capsys, spec, tmp_path):
    out = tmp_path / "res"
    code, stdout, err = _cli(capsys, str(spec), "--out", str(out))
    assert code == 0 and "6 points in 2 chunks" in stdout and "(2 computed, 0 already done, 0 failed)" in stdout
    assert "sweep: 2/2 chunks" in err and "points/s" in err
    code, stdout, _ = _cli(capsys, str(spec), "--out", str(out), "--quiet")
    assert code == 0 and "(0 computed, 2 already done, 0 failed)" in stdout
    df = oa.load_sweep(out)
    assert list(df["point"]) == list(range(6)) and set(df["rule"]) == {"nesterov"}
    assert df["rate"].notna().all()


def test_default_out_is_beside_the_spec(capsys, spec):
    code, stdout, _ = _cli(capsys, str(spec), "--quiet")
    assert code == 0 and (spec.parent / "grid.sweep" / "manifest.json").exists()


def test_failed_chunk_exits_1(capsys, spec, tmp_path, monkeypatch):
    real = compute.run_chunk

    def flaky(s, index):
        if index == 1:
            raise RuntimeError("worker lost its mind")
        return real(s, index)

    monkeypatch.setattr(compute, "run_chunk", flaky)
    code, stdout, _ = _cli(capsys, str(spec), "--out", str(tmp_path / "res"), "--quiet")
    assert code == 1 and "1 failed" in stdout and "chunk 1 failed: RuntimeError: worker lost its mind" in stdout
    assert oa.load_sweep(tmp_path / "res").attrs["failed"] == {1: "RuntimeError: worker lost its mind"}


@pytest.mark.parametrize("text, words", [
    ("steps = 30\nseeds = = 2\n", "malformed TOML"),
    (SPEC.replace('"nesterov"', '"nesterof"'), "unknown rule 'nesterof'"),
    (SPEC.replace("momentum = 0.5", "momentum = 0.5\nbeta = 2"), "unknown hyperparameter 'beta'"),
    (SPEC.replace('"rate"]', '"rates"]'), "unknown quantity 'rates'"),
    (SPEC.replace("momentum = 0.5", "momentum = []"), "empty list"),
    (SPEC.replace("steps = 30", "steps = -30"), "steps must be an integer >= 1"),
    (SPEC.replace("{linspace = [0.2, 1.0, 3]}", "{linspace = [0.01, 1.0, 1000000]}")
     .replace("momentum = 0.5", "momentum = {linspace = [0.0, 0.9, 1000]}"), "confirm with yes=True"),
])
def test_bad_input_one_line_exit_2(capsys, tmp_path, text, words):
    p = tmp_path / "bad.toml"
    p.write_text(text)
    out = tmp_path / "res"
    code, stdout, err = _cli(capsys, str(p), "--out", str(out))
    assert code == 2 and stdout == "" and err.count("\n") == 1 and words in err, err
    assert err.startswith(f"error: {p}") or "yes=True" in err
    assert not out.exists()  # nothing written


def test_other_spec_in_same_dir_exit_2(capsys, spec, tmp_path):
    out = tmp_path / "res"
    assert _cli(capsys, str(spec), "--out", str(out), "--quiet")[0] == 0
    spec.write_text(SPEC.replace("steps = 30", "steps = 60"))
    code, stdout, err = _cli(capsys, str(spec), "--out", str(out))
    assert code == 2 and "holds a sweep of another spec" in err and err.count("\n") == 1


def test_missing_file_and_conflicting_flags(capsys, tmp_path):
    code, _, err = _cli(capsys, str(tmp_path / "none.toml"))
    assert code == 2 and "no such file" in err
    code, _, err = _cli(capsys, str(tmp_path / "none.toml"), "--scheduler", "tcp://h:1", "--local-workers", "2")
    assert code == 2 and "not allowed with argument" in err


def test_front_door_exports_stay_lazy():
    assert {"sweep", "load_sweep"} <= set(oa.__all__)
    code = ("import sys, optanalysis; print(sorted(m for m in ('numpy', 'pandas', 'pyarrow', 'dask') "
            "if m in sys.modules)); optanalysis.sweep; print(sorted(m for m in ('pandas', 'pyarrow', 'dask') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out == "[]\n[]\n"
