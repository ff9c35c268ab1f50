"""run_chunk: a pure function of (spec dict, chunk index), bit-identical to a direct simulate_batch
of the same configurations and independent of how the grid is chunked."""
import json

import numpy as np
import pytest

from optanalysis.simulation import simulate_batch
from optanalysis.sweeps.compute import run_chunk
from optanalysis.sweeps.grid import chunks
from optanalysis.sweeps.spec import parse_spec

SPEC = {
    "steps": 60, "record_every": 3, "seeds": [0, 7, 11],
    "quantities": ["final_loss", "loss", "rate", "diverged_at", "predicted_final_loss", "records"],
    "chunk_size": 5, "schedules": ["constant", "step:step_size=20,gamma=0.5"], "noise": ["none", "isotropic:sigma=0.05"],
    "rule": [{"name": "heavy_ball", "lr": [0.5, 1.0, 3.5], "momentum": [0.0, 0.5]},
             {"name": "adam", "lr": [0.01, 0.1]}],
    "problem": [{"name": "u", "spectrum": "uniform:mu=0.1,L=1,d=6", "x0": 1.0, "xstar": [0.5, 0, 0, 0, 0, 0]}],
}


def all_columns(spec):
    sweep = parse_spec(spec)
    parts = [run_chunk(sweep.to_dict(), c.index) for c in chunks(sweep)]
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def test_run_chunk_equals_direct_simulate_batch():
    sweep = parse_spec(SPEC)
    for c in chunks(sweep)[:: 3]:
        cols = run_chunk(sweep.to_dict(), c.index)
        a = c.problem.arrays()
        res = simulate_batch(c.rule, c.params, seeds=list(c.seeds), steps=60, record_every=3,
                             schedule=None if c.schedule == "constant" else c.schedule,
                             noise=None if c.noise == "none" else c.noise, **a)
        n = c.points
        assert np.array_equal(cols["loss"], res.loss.reshape(n, -1))
        assert np.array_equal(cols["final_loss"], res.loss.reshape(n, -1)[:, -1])
        assert np.array_equal(cols["diverged_at"], res.diverged_at.reshape(n))
        assert np.array_equal(cols["point"], np.arange(c.first, c.first + n))
        assert list(cols["seed"]) == list(c.seeds) * len(c.params)
        assert np.array_equal(cols["hp.lr"], np.repeat([p["lr"] for p in c.params], len(c.seeds)))


def test_independent_of_chunk_size():
    one = all_columns({**SPEC, "chunk_size": 2})  # seeds split across chunks
    other = all_columns({**SPEC, "chunk_size": 7})
    assert np.array_equal(one["point"], np.arange(one["point"].size))
    for k in one:
        if k == "chunk":
            continue
        if one[k].dtype == object:
            assert list(one[k]) == list(other[k]), k
        else:
            assert one[k].tobytes() == other[k].tobytes(), k  # the same bytes, NaNs included


def test_quantities():
    cols = all_columns(SPEC)
    n = cols["point"].size
    assert all(v.shape[0] == n for v in cols.values())
    assert cols["loss"].shape == (n, 21) and cols["final_loss"].dtype == np.float64
    hb = cols["rule"] == "heavy_ball"
    diverged = cols["diverged_at"] >= 0
    assert diverged.any() and (~diverged).any()  # lr = 3.5 > 2/L diverges
    assert np.all(np.isnan(cols["rate"][diverged]))
    assert all(r.startswith("diverged at step") for r in cols["rate_refused"][diverged])
    ok = ~diverged & (cols["noise"] == "none") & (cols["schedule"] == "constant") & hb
    assert np.all(np.isfinite(cols["rate"][ok])) and all(r == "" for r in cols["rate_refused"][ok])
    # predicted: exact for heavy ball without noise (to rounding), NaN with a reason for adam
    det = hb & ~diverged & (cols["noise"] == "none")
    assert np.allclose(cols["predicted_final_loss"][det], cols["final_loss"][det], rtol=1e-9, atol=1e-14)
    noisy = hb & (cols["noise"] != "none") & ~diverged
    assert np.all(np.isfinite(cols["predicted_final_loss"][noisy]))
    assert np.all(np.isnan(cols["predicted_final_loss"][~hb]))
    assert all("adaptive" in r for r in cols["predicted_refused"][~hb])
    # records: compare's, as JSON, for heavy ball without noise; empty with the reason otherwise
    i = int(np.flatnonzero(det)[0])
    recs = json.loads(cols["records"][i])
    assert recs and all(r["verdict"] == "pass" for r in recs) and recs[0]["rule"] == "heavy_ball"
    assert all(cols["records"][j] == "" and "Monte Carlo" in cols["records_refused"][j] for j in np.flatnonzero(noisy))
    assert np.all(np.isnan(cols["hp.momentum"][~hb])) and np.all(cols["hp.beta1"][~hb] == 0.9)


def test_run_chunk_bad_index():
    with pytest.raises(ValueError, match="chunk index"):
        run_chunk(parse_spec(SPEC).to_dict(), 10**6)
