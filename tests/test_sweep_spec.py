"""Sweep specs: the TOML grammar, validation through the library's own declarations, the canonical
form and hash, and the chunks (deterministic, tiling the points)."""
import json
import subprocess
import sys

import numpy as np
import pytest

from optanalysis.sweeps.grid import chunk, chunks, n_chunks
from optanalysis.sweeps.spec import load_spec, parse_spec
from optanalysis.sweeps.store import check_size

BASE = """
steps = 20
record_every = 5
seeds = 3
chunk_size = 4
schedules = ["constant", "step:step_size=10,gamma=0.5"]
noise = ["none", "hessian:sigma=0.1"]
batch = [1, 4]
[[rule]]
name = "heavy_ball"
lr = {geomspace = [0.01, 1.0, 3]}
momentum = [0.0, 0.5]
[[rule]]
name = "adam"
lr = {linspace = [0.1, 0.3, 3]}
[[problem]]
name = "lu"
spectrum = "loguniform:mu=0.01,L=1,d=5,seed=0"
x0 = 1.0
[[problem]]
hessian_diag = [1.0, 0.1]
x0 = [1.0, -1.0]
xstar = 0.5
"""


def write(tmp_path, text, name="s.toml"):
    p = tmp_path / name
    p.write_text(text)
    return p


def small(**over):
    d = {"steps": 20, "rule": [{"name": "gd", "lr": [0.1, 0.2]}],
         "problem": [{"name": "p", "hessian_diag": [1.0, 0.5], "x0": 1.0}]}
    d.update(over)
    return d


def test_toml_grammar_and_values(tmp_path):
    s = load_spec(write(tmp_path, BASE))
    hb, adam = s.rules
    assert hb.params == (("lr", tuple(np.geomspace(0.01, 1.0, 3))), ("momentum", (0.0, 0.5)))
    assert adam.params == (("lr", tuple(np.linspace(0.1, 0.3, 3))),)
    assert s.seeds == (0, 1, 2) and s.batch == (1, 4) and s.noise == ("none", "hessian:sigma=0.1")
    assert s.problems[1].name == "problem2" and s.problems[1].x0 == (1.0, -1.0) and s.problems[1].xstar == 0.5
    # (6 + 3 configs) x 2 problems x 2 noise x 2 batch x 2 schedules x 3 seeds
    assert s.n_points == 9 * 2 * 2 * 2 * 2 * 3
    assert hb.config(3) == {"lr": 0.1, "momentum": 0.5}  # last declared parameter fastest


def test_canonical_form_round_trips_and_hash_is_stable(tmp_path):
    s = load_spec(write(tmp_path, BASE))
    again = parse_spec(json.loads(json.dumps(s.to_dict())))
    assert again == s and again.hash == s.hash
    # the order of keys in the file does not matter; the values do
    reordered = BASE.replace('lr = {geomspace = [0.01, 1.0, 3]}\nmomentum = [0.0, 0.5]',
                             'momentum = [0.0, 0.5]\nlr = {geomspace = [0.01, 1.0, 3]}')
    assert load_spec(write(tmp_path, reordered, "r.toml")).hash == s.hash
    assert load_spec(write(tmp_path, BASE.replace("steps = 20", "steps = 40"), "o.toml")).hash != s.hash
    code = ("from optanalysis.sweeps.spec import load_spec; import sys; "
            f"print(load_spec({str(tmp_path / 's.toml')!r}).hash)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == s.hash  # another process (another hash seed) gives the same hash


def test_chunks_deterministic_and_tile_points(tmp_path):
    s = load_spec(write(tmp_path, BASE))
    cs = chunks(s)
    assert len(cs) == n_chunks(s) and cs == chunks(load_spec(tmp_path / "s.toml"))
    assert all(c.points <= s.chunk_size for c in cs)
    first = 0
    for i, c in enumerate(cs):
        assert c.index == i and c.first == first and chunk(s, i) == c
        first += c.points
    assert first == s.n_points
    # seeds beyond chunk_size: one config per chunk, its seeds split
    s2 = parse_spec(small(seeds=5, chunk_size=2))
    c2 = chunks(s2)
    assert [c.seeds for c in c2[:3]] == [(0, 1), (2, 3), (4,)] and [c.first for c in c2[:4]] == [0, 2, 4, 5]
    assert sum(c.points for c in c2) == s2.n_points == 10
    with pytest.raises(ValueError, match="chunk index"):
        chunk(s2, len(c2))


@pytest.mark.parametrize("over, match", [
    ({"rule": [{"name": "nope", "lr": 0.1}]}, "unknown rule 'nope'"),
    ({"rule": [{"name": "gd", "momentum": 0.1}]}, "unknown hyperparameter 'momentum' for rule 'gd'"),
    ({"rule": [{"name": "heavy_ball", "momentum": [0.5, 1.5]}]}, r"momentum must be in \[0, 1\)"),
    ({"rule": [{"name": "gd", "lr": -1.0}]}, "lr must be in"),
    ({"rule": [{"name": "gd", "lr": []}]}, "empty list"),
    ({"rule": []}, "at least one"),
    ({"rule": [{"name": "gd", "lr": {"linspace": [0.1, 0.2, 0]}}]}, "linspace n must be an integer in"),
    ({"rule": [{"name": "gd", "lr": {"geomspace": [0.0, 0.2, 3]}}]}, "geomspace endpoints must be > 0"),
    ({"rule": [{"name": "gd", "lr": {"arange": [0, 1, 2]}}]}, "linspace"),
    ({"steps": 0}, "steps must be an integer >= 1"),
    ({"steps": -5}, "steps must be an integer >= 1"),
    ({"record_every": 3}, "record_every must divide steps"),
    ({"quantities": ["final_loss", "speed"]}, "unknown quantity 'speed'"),
    ({"schedules": ["cosine:T_max=-1"]}, "T_max"),
    ({"schedules": ["warp"]}, "warp"),
    ({"noise": ["hessian:sigma=-1"]}, "sigma"),
    ({"noise": ["diag:c=[1,2,3]"]}, "problem p: noise diag c must have length"),
    ({"batch": [0]}, "batch entry must be an integer in"),
    ({"seeds": 0}, "seeds must be an integer in"),
    ({"seeds": [1, 1]}, "distinct"),
    ({"chunk_size": 0}, "chunk_size must be"),
    ({"problem": [{"name": "p", "spectrum": "uniform:mu=2,L=1,d=3"}]}, "mu must be <= L"),
    ({"problem": [{"name": "p", "hessian_diag": [1.0, 0.5], "x0": [1.0, 2.0, 3.0]}]}, "x0 must have"),
    ({"problem": [{"name": "p", "spectrum": "uniform:mu=1,L=2,d=3", "hessian_diag": [1.0]}]}, "exactly one"),
    ({"problem": [{"name": "p", "hessian_diag": [1.0], "rotate": 3}]}, "unknown key 'rotate'"),
    ({"speed": 3}, "unknown key 'speed'"),
])
def test_bad_specs_name_the_problem(over, match):
    with pytest.raises((ValueError, TypeError), match=match):
        parse_spec(small(**over))


def test_cross_parameter_constraints_checked_up_front():
    from optanalysis.rules import get_rule

    rule = next((r for r in ("sgd_momentum",) if get_rule(r).constraints), None)
    if rule is None:
        pytest.skip("no rule with cross-parameter constraints")
    with pytest.raises(ValueError, match="sgd_momentum"):
        parse_spec(small(rule=[{"name": "sgd_momentum", "lr": 0.1, "momentum": [0.0, 0.5],
                                "nesterov": True, "dampening": 0.5}]))


def test_malformed_toml_names_file_and_line(tmp_path):
    p = write(tmp_path, "steps = 20\nseeds = = 3\nchunk_size = 4\n")
    with pytest.raises(ValueError, match=r"s\.toml: malformed TOML: .*line 2"):
        load_spec(p)


def test_huge_grid_needs_yes():
    s = parse_spec(small(chunk_size=300, rule=[{"name": "heavy_ball", "lr": {"linspace": [0.01, 1.0, 100000]},
                                                "momentum": {"linspace": [0.0, 0.9, 20000]}}]))
    assert s.n_points == 2 * 10**9
    with pytest.raises(ValueError, match="confirm with yes=True"):
        check_size(s, yes=False)
    check_size(s, yes=True)
    assert n_chunks(s) == 2 * 10**9 // 300 + 1 and chunk(s, n_chunks(s) - 1).points == 2 * 10**9 % 300


def test_the_documented_example_is_a_valid_sweep(tmp_path):
    """The file the docstring and ``optanalysis sweep --help`` show parses and validates."""
    from optanalysis.sweeps.spec import EXAMPLE, load_spec

    path = tmp_path / "grid.toml"
    path.write_text(EXAMPLE)
    sweep = load_spec(path)
    assert sweep.n_points == 20 * 3 * 2 * 2 * 4 and sweep.rules[0].name == "heavy_ball"
