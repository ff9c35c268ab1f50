"""The shipped training logs (optanalysis/data/lr_scheduling_124m) and their reader: provenance, size, dedupe
of resumed runs, the wsd schedule against every logged lr, and clear errors for malformed logs."""
import json

import numpy as np
import pytest

from optanalysis.data.training_logs import ARCHIVE, build_archive, load_runs, read_log
from optanalysis.schedules import make_schedule


def _log(**override):
    log = {"config": {"lr": 1e-3, "scheduler": "wsd", "iterations": 400, "warmup_steps": 100, "wsd_fract_decay": 0.5,
                      "decay_type": "sqrt"},
           "history": {"train": {"iter": [50, 100, 150, 100, 150, 200], "train_lr": [1, 2, 3, 4, 5, 6],
                                 "train_loss": [7.0, 6.0, 5.0, 6.5, 5.5, 4.0]},
                       "val": {"iter": [0, 200], "val_loss": [7.5, 4.2]}}}
    for path, value in override.items():
        node = log
        *head, last = path.split(".")
        for key in head:
            node = node[key]
        if value is None:
            del node[last]
        else:
            node[last] = value
    return log


def test_shipped_archive_is_small_with_its_license_and_all_runs():
    assert ARCHIVE.stat().st_size < 2_000_000
    assert "MIT License" in (ARCHIVE.parent / "LICENSE").read_text()
    assert "fabian-sp/lr-scheduling" in (ARCHIVE.parent / "README.md").read_text()
    runs = load_runs()
    kinds = {k: sum(r.kind == k for r in runs) for k in ("constant", "wsd", "cosine")}
    assert len(runs) == 117 and kinds == {"constant": 4, "wsd": 92, "cosine": 21}
    for r in runs:
        assert np.all(np.diff(r.train_step) > 0) and np.all(np.diff(r.val_step) > 0)
        assert r.train_step.shape == r.train_lr.shape == r.train_loss.shape
        assert np.all(np.isfinite(r.val_loss)) and r.val_step[-1] <= r.total_steps


def test_wsd_schedule_equals_every_logged_lr():
    # The logs' lr at iteration i is base * (warmup 0.01 -> 1 over 300 steps, 1, cooldown 1 - p or 1 - sqrt p):
    # the toolkit's wsd at step k = i (LambdaLR convention); the same few operations, so 1e-12 relative.
    for r in load_runs():
        if r.kind == "cosine":
            continue
        s = make_schedule(f"wsd:total_steps={r.total_steps},warmup_steps={r.warmup_steps},warmup_factor=0.01,"
                          f"cooldown_fraction={r.cooldown_fraction!r},shape={r.shape}")
        lrs = s.lrs(r.base_lr, r.total_steps + 1)
        np.testing.assert_allclose(lrs[r.train_step], r.train_lr, rtol=0, atol=1e-12 * r.base_lr, err_msg=r.name)


def test_resumed_runs_keep_the_last_record_of_each_step(tmp_path):
    path = tmp_path / "stable-x_slimpajama_y_lr0.001_sched_wsd_z.json"
    path.write_text(json.dumps(_log()))
    run = read_log(path)
    assert run.train_step.tolist() == [50, 100, 150, 200]
    assert run.train_lr.tolist() == [1, 4, 5, 6] and run.train_loss.tolist() == [7.0, 6.5, 5.5, 4.0]
    assert (run.kind, run.shape, run.cooldown_fraction, run.base_lr) == ("wsd", "sqrt", 0.5, 1e-3)
    assert build_archive(tmp_path, tmp_path / "a.npz") == 1
    (back,) = load_runs(tmp_path / "a.npz")
    assert back.name == run.name and back.train_loss.tolist() == run.train_loss.tolist()


@pytest.mark.parametrize("field", ["config.lr", "config.wsd_fract_decay", "history.train.train_loss",
                                   "history.train", "history.val.val_loss"])
def test_a_log_with_a_missing_field_names_it(tmp_path, field):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(_log(**{field: None})))
    with pytest.raises(ValueError, match=rf"log bad.json: missing field '{field}"):
        read_log(path)


def test_other_malformed_logs(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text("{not json")
    with pytest.raises(ValueError, match="log bad.json: not valid JSON"):
        read_log(path)
    path.write_text(json.dumps(_log(**{"history.val.val_loss": [1.0]})))
    with pytest.raises(ValueError, match="log bad.json: the logged fields have different lengths"):
        read_log(path)
    with pytest.raises(ValueError, match="source: no \\*.json log"):
        build_archive(tmp_path / "empty_dir_does_not_exist", tmp_path / "a.npz")
    np.savez(tmp_path / "b.npz", x=np.zeros(1))
    with pytest.raises(ValueError, match="missing field 'meta'"):
        load_runs(tmp_path / "b.npz")
