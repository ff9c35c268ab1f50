"""``momentum_rate_map --full``: the rate map as a sweep (optanalysis.studies._rate_map_full)."""
import json

import numpy as np
import pytest

pytest.importorskip("pyarrow")
pytest.importorskip("pandas")

import optanalysis as oa  # noqa: E402
from optanalysis.cli import main  # noqa: E402
from optanalysis.studies import momentum_rate_map as study  # noqa: E402
from optanalysis.studies._rate_map_full import SPECTRA, STEM, full_spec, run_full  # noqa: E402
from optanalysis.sweeps.spec import parse_spec  # noqa: E402


def test_spec_parses_with_the_study_settings():
    sw = parse_spec(full_spec(400))
    assert sw.n_points == 400 * 400 * len(SPECTRA)
    assert sw.steps == study.STEPS and sw.record_every == 1 and sw.rate_floor == study.FLOOR
    assert set(sw.quantities) == {"rate", "diverged_at"}
    (rule,) = sw.rules
    lrs, moms = (np.array(v) for _, v in rule.params)
    assert np.array_equal(lrs, np.linspace(0.05, 4.0, 400)) and np.array_equal(moms, np.linspace(0, 0.95, 400))
    assert np.array_equal(sw.problems[0].arrays()["hessian_diag"], study.SPECTRUM)
    with pytest.raises(ValueError, match="unknown spectrum"):
        full_spec(8, ["nope"])


def test_default_rate_floor_keeps_the_hash():
    spec = full_spec(4)
    spec.pop("rate_floor")
    from optanalysis.rates import FLOOR

    assert parse_spec(spec).hash == parse_spec({**spec, "rate_floor": FLOOR}).hash
    assert "rate_floor" not in parse_spec(spec).to_dict()
    assert parse_spec(full_spec(4)).hash != parse_spec(spec).hash


@pytest.fixture(scope="module")
def full(tmp_path_factory):
    out = tmp_path_factory.mktemp("full")
    png = run_full(out, resolution=8, spectra=["twopoint"], progress=False)
    return out, png


def test_writes_the_files_and_agrees_within_the_study_tolerance(full):
    out, png = full
    assert png == out / f"{STEM}.png"
    for ext in ("png", "pdf", "json"):
        assert (out / f"{STEM}.{ext}").stat().st_size > 0
    summary = json.loads((out / f"{STEM}.json").read_text())
    df = oa.load_sweep(out / f"{STEM}.sweep")
    assert summary["sweep_hash"] == df.attrs["hash"] and summary["total"]["points"] == 64 == len(df)
    # the judgement, recomputed from the table and the study's own tolerance
    from optanalysis.theory.spectrum import spectral_radius

    h = np.where(np.arange(16) < 8, 0.1, 1.0)
    derived = np.max(spectral_radius("heavy_ball", {"momentum": df["hp.momentum"].to_numpy()[None]}, h[:, None],
                                     lr=df["hp.lr"].to_numpy()[None]), axis=0)
    observed = np.sqrt(df["rate"].to_numpy())
    stable = derived < 1
    indicator = df["rate_indicator"].to_numpy() / (2 * observed)  # in the iterate factor, as the study refuses
    judged = stable & np.isfinite(observed) & ~(indicator > study.REFUSE)
    s = summary["spectra"]["twopoint"]
    assert s["stable_points"] == stable.sum() and s["judged_points"] == judged.sum()
    assert s["judged_fraction"] == judged.sum() / stable.sum() >= study.JUDGED
    assert s["max_error"] == pytest.approx(np.max(np.abs(observed - derived)[judged]), abs=0)
    assert s["max_error"] <= study.TOL and s["judged_points_beyond_tolerance"] == 0
    assert s["beyond_edge_stayed_bounded"] == 0 and s["inside_edge_grew"] == 0


def test_resume_reruns_nothing(full):
    out, _ = full
    before = json.loads((out / f"{STEM}.json").read_text())
    run_full(out, resolution=8, spectra=["twopoint"], progress=False)
    after = json.loads((out / f"{STEM}.json").read_text())
    assert after["run"]["computed"] == 0 and after["run"]["skipped"] == before["run"]["chunks"]
    assert after["total"] == before["total"] and after["sweep_hash"] == before["sweep_hash"]


def _cli(capsys, *argv):
    try:
        code = main(["study", *argv])
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_full_on_another_study_is_refused(capsys, tmp_path):
    code, out, err = _cli(capsys, "gd_stability_and_rate", "--full", "--out", str(tmp_path))
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1 and "momentum_rate_map" in err
    code, _, err = _cli(capsys, "momentum_rate_map", "--resolution", "8", "--out", str(tmp_path))
    assert code == 2 and "--full" in err
    code, _, err = _cli(capsys, "momentum_rate_map", "--full", "--quick", "--out", str(tmp_path))
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert not any(tmp_path.iterdir())


def test_cli_full_runs_and_resumes(capsys, full):
    out, _ = full
    code, stdout, _ = _cli(capsys, "momentum_rate_map", "--full", "--resolution", "8", "--spectra", "twopoint",
                           "--out", str(out))
    assert code == 0 and "0 chunks computed" in stdout and "judged 44 of 44" in stdout
