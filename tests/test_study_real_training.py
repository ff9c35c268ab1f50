"""The study schedules_real_training in quick mode: its records cover EXPECTED, the side-by-side table is
recomputed here from the archive and the fitted models, the claims' verdicts follow their stated criteria,
and a wrong lr sequence is caught (falsification)."""
import numpy as np
import pytest
from falsify import caught_by, unexpected
from scipy.stats import spearmanr

from optanalysis.data.training_logs import load_runs
from optanalysis.studies import run_study
from optanalysis.studies._expect import CHECK_VERDICTS, CLAIM_VERDICTS

NAME = "schedules_real_training"


@pytest.fixture(scope="module")
def outcome(tmp_path_factory):
    out = tmp_path_factory.mktemp("study")
    o = run_study(NAME, quick=True, out=out)
    for ext in ("png", "pdf", "csv", "json"):
        assert (out / f"{NAME}.{ext}").stat().st_size > 0
    return o


def _records(outcome, prefix):
    return [r for r in outcome.records if r.quantity.startswith(prefix)]


def test_verdicts_as_expected(outcome):
    assert outcome.ok, outcome.mismatches
    assert outcome.confirmed == 3 and len(outcome.exploratory) == len(outcome.records) - 3
    assert {r.verdict for r in outcome.records} <= set(CHECK_VERDICTS + CLAIM_VERDICTS)
    (lr_check,) = _records(outcome, "wsd schedule vs the logged lr")
    assert lr_check.verdict == "pass" and lr_check.observed <= 1e-12


def test_observed_gains_recomputed_from_the_archive(outcome):
    runs = load_runs()
    constant = {r.base_lr: r for r in runs if r.kind == "constant"}
    table = {row["run"]: row for row in outcome.data["table"]}
    assert len(table) == sum(r.kind != "constant" and r.base_lr in constant for r in runs) == 112
    for r in runs:
        if r.kind != "wsd" or r.total_steps != 25000:
            continue
        c = constant[r.base_lr]
        step = r.val_step[-1]
        (i,) = np.flatnonzero(c.val_step == step)  # the constant run is validated at the same steps
        row = table[f"wsd {r.shape} {r.cooldown_fraction:g}, lr {r.base_lr:g}, T {r.total_steps}"]
        assert row["step"] == step == r.total_steps - 200
        assert row["observed_gain"] == pytest.approx(c.val_loss[i] - r.val_loss[-1], abs=1e-12)


def test_goal_records_follow_the_table(outcome):
    table = outcome.data["table"]
    observed = [row["observed_final"] for row in table]
    for cal in ("per base lr", "joint"):
        err = {}
        for name in ("bound", "NQM"):
            gains = np.array([row[f"{name} ({cal}) gain"] for row in table])
            obs = np.array([row["observed_gain"] for row in table])
            err[name] = np.median(np.abs(gains - obs) / np.abs(obs))
            rho = spearmanr([row[f"{name} ({cal}) final"] for row in table], observed).statistic
            (rec,) = _records(outcome, f"Spearman of predicted vs real final losses >= 0.9: {name} ({cal})")
            assert rec.predicted == pytest.approx(rho, abs=1e-12)
            assert rec.verdict == ("supported" if rho >= 0.9 else "refuted")
        (rec,) = _records(outcome, f"median relative error of the cooldown gain: NQM < bound ({cal})")
        assert (rec.predicted, rec.observed) == pytest.approx((err["NQM"], err["bound"]), abs=1e-12)
        assert rec.verdict == ("supported" if err["NQM"] < err["bound"] else "refuted")


def test_drop_claims_follow_their_criterion(outcome):
    wsd = [row for row in outcome.data["table"] if row["kind"] == "wsd"]
    for cal in ("per base lr", "joint"):
        for name in ("bound", "NQM"):
            agree = [(row[f"{name} ({cal}) gain"] > 0) == (row["observed_gain"] > 0) for row in wsd]
            (rec,) = _records(outcome, f"the cooldown's drop is predicted ({name}, {cal})")
            share = np.mean(agree)
            assert rec.verdict == ("supported" if share == 1 else "qualified" if share >= 0.5 else "refuted")


def test_fits_are_physical(outcome):
    for cal, fits in outcome.data["fits"].items():
        for b, f in fits.items():
            assert f["bound"]["D2"] >= 0 and f["bound"]["G2"] >= 0
            nqm = f["NQM"]
            assert nqm["kappa"] > 0 and nqm["sigma2"] > 0 and nqm["e0"] > 0
            # the model's fastest direction is stable at the run's peak lr: kappa * lr * h_1 < 2
            assert nqm["kappa"] * float(b) < 2


def test_a_wrong_lr_sequence_is_caught(outcome):
    # the models fed the constant lr of each run (cooldowns ignored): the lr check fails and no cooldown can be
    # predicted any more
    wrong = lambda lrs: np.where(np.arange(lrs.size) < 300, lrs, lrs[300:].max())  # noqa: E731
    caught = caught_by(NAME, "lr_sequence", wrong) - unexpected(outcome)
    assert caught == {"wsd schedule vs the logged lr of every WSD/constant run (max relative deviation)"}
