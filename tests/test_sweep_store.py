"""The store: Parquet per chunk + manifest with checksums, resume, corruption, refusal of a foreign
spec, interruption, failed chunks, progress."""
import hashlib
import io
import json

import numpy as np
import pytest

pytest.importorskip("pyarrow")
pytest.importorskip("pandas")

import optanalysis as oa  # noqa: E402
from optanalysis.sweeps import compute  # noqa: E402
from optanalysis.sweeps.spec import parse_spec  # noqa: E402
from optanalysis.sweeps.store import MANIFEST, load_sweep, run_sweep  # noqa: E402

SPEC = {"steps": 40, "record_every": 4, "seeds": 2, "chunk_size": 4,
        "quantities": ["final_loss", "loss", "diverged_at", "rate"],
        "rule": [{"name": "heavy_ball", "lr": [0.2, 0.6, 1.0], "momentum": [0.0, 0.3, 0.6]}],
        "problem": [{"name": "p", "spectrum": "uniform:mu=0.2,L=1,d=4", "x0": 1.0}]}


@pytest.fixture
def counted(monkeypatch):
    """run_chunk wrapped: records each call's chunk index; ``fail`` maps index -> times to raise,
    ``stop_after`` raises KeyboardInterrupt once that many chunks were computed."""
    calls, fail, stop = [], {}, {}
    real = compute.run_chunk

    def wrapper(spec, index):
        if stop and len(calls) == stop["after"]:
            stop.clear()
            raise KeyboardInterrupt
        calls.append(index)
        if fail.get(index, 0) > 0:
            fail[index] -= 1
            raise RuntimeError(f"boom in {index}")
        return real(spec, index)

    monkeypatch.setattr(compute, "run_chunk", wrapper)
    return calls, fail, stop


def run(out, spec=SPEC, **kw):
    return run_sweep(parse_spec(spec), out, progress=False, **kw)


def test_manifest_checksums_and_table(tmp_path, counted):
    r = run(tmp_path / "o")
    sweep = parse_spec(SPEC)
    assert r.ok and r.computed == r.n_chunks == 5 and r.skipped == 0 and r.n_points == 18
    m = json.loads((tmp_path / "o" / MANIFEST).read_text())
    assert m["hash"] == sweep.hash and parse_spec(m["spec"]) == sweep and m["versions"]["pyarrow"]
    for i, e in m["chunks"].items():
        data = (tmp_path / "o" / e["file"]).read_bytes()
        assert e["status"] == "done" and e["sha256"] == hashlib.sha256(data).hexdigest()
    df = load_sweep(tmp_path / "o")
    assert list(df["point"]) == list(range(18)) and df.attrs["failed"] == {} and df.attrs["missing"] == []
    direct = oa.simulate_batch("heavy_ball", [{"lr": 1.0, "momentum": 0.6}], seeds=[0, 1], steps=40,
                               record_every=4, hessian_diag=np.linspace(0.2, 1, 4), x0=np.ones(4))
    last = df[(df["hp.lr"] == 1.0) & (df["hp.momentum"] == 0.6)]
    assert np.array_equal(np.stack(last["loss"].to_numpy()), direct.loss[0])
    assert np.array_equal(last["final_loss"].to_numpy(), direct.loss[0, :, -1])


def test_resume_skips_finished_and_recomputes_corrupted(tmp_path, counted):
    calls, _, _ = counted
    out = tmp_path / "o"
    run(out)
    before = load_sweep(out)
    calls.clear()
    r = run(out)
    assert calls == [] and r.skipped == 5 and r.computed == 0
    path = out / "chunk-00002.parquet"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # flip bits inside the file
    path.write_bytes(bytes(data))
    assert load_sweep(out).attrs["missing"] == [2]  # detected on load as well
    (out / "chunk-00004.parquet").unlink()
    r = run(out)
    assert sorted(calls) == [2, 4] and r.computed == 2 and r.skipped == 3
    after = load_sweep(out)
    assert after.drop(columns="loss").equals(before.drop(columns="loss"))
    assert np.array_equal(np.stack(after["loss"]), np.stack(before["loss"]))


def test_other_spec_refused_and_nothing_written(tmp_path, counted):
    calls, _, _ = counted
    out = tmp_path / "o"
    run(out)
    files = {p.name: p.read_bytes() for p in out.iterdir()}
    calls.clear()
    with pytest.raises(ValueError, match="holds a sweep of another spec"):
        run(out, {**SPEC, "steps": 80})
    with pytest.raises(ValueError, match="holds a sweep of another spec"):
        oa.sweep({**SPEC, "steps": 80}, out, progress=False)
    assert calls == [] and {p.name: p.read_bytes() for p in out.iterdir()} == files
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="holds no manifest.json"):
        run(tmp_path / "other")
    assert [p.name for p in (tmp_path / "other").iterdir()] == ["notes.txt"]


def test_chunks_of_another_format_are_not_mixed_in(tmp_path, counted):
    """Same spec, chunks written with other columns (an older version): refused, nothing written."""
    calls, _, _ = counted
    out = tmp_path / "o"
    run(out)
    manifest = json.loads((out / "manifest.json").read_text())
    (out / "manifest.json").write_text(json.dumps({**manifest, "format": 1}))
    files = {p.name: p.read_bytes() for p in out.iterdir()}
    calls.clear()
    with pytest.raises(ValueError, match="holds chunks of sweep format 1"):
        run(out)
    assert calls == [] and {p.name: p.read_bytes() for p in out.iterdir()} == files


def test_interrupted_run_keeps_finished_chunks_and_rerun_completes(tmp_path, counted):
    calls, _, stop = counted
    full = tmp_path / "full"
    run(full)
    calls.clear()
    stop["after"] = 2
    out = tmp_path / "o"
    with pytest.raises(KeyboardInterrupt):
        run(out)
    part = load_sweep(out)
    assert list(part["point"]) == list(range(8)) and part.attrs["missing"] == [2, 3, 4]
    calls.clear()
    r = run(out)
    assert calls == [2, 3, 4] and r.skipped == 2
    a, b = load_sweep(out), load_sweep(full)
    assert a.drop(columns="loss").equals(b.drop(columns="loss"))
    for name in ("chunk-00000.parquet", "chunk-00004.parquet"):  # written again: the same bytes
        assert (out / name).read_bytes() == (full / name).read_bytes()


def test_chunk_failing_twice_is_recorded_and_rest_finishes(tmp_path, counted):
    calls, fail, _ = counted
    fail.update({1: 2, 3: 1})  # chunk 1 fails twice, chunk 3 once (retried, succeeds)
    out = tmp_path / "o"
    r = run(out)
    assert not r.ok and set(r.failed) == {1} and "RuntimeError: boom in 1" in r.failed[1]
    assert calls.count(1) == 2 and calls.count(3) == 2 and r.computed == 4
    m = json.loads((out / MANIFEST).read_text())
    assert m["chunks"]["1"]["status"] == "failed" and "boom in 1" in m["chunks"]["1"]["error"]
    df = load_sweep(out)
    assert df.attrs["failed"] == {1: r.failed[1]} and 4 not in set(df["point"]) and len(df) == 14
    calls.clear()
    r2 = run(out)  # a rerun retries the failed chunk only
    assert calls == [1] and r2.ok and len(load_sweep(out)) == 18


def test_progress_line(tmp_path):
    buf = io.StringIO()
    run_sweep(parse_spec(SPEC), tmp_path / "o", stream=buf)
    last = buf.getvalue().strip().splitlines()[-1]
    assert last.startswith("sweep: 5/5 chunks, ") and "points/s" in last and last.endswith("left")
