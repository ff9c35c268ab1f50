"""Derivation objects: JSON round trip through sympify, printers, the iteration matrix against the
rule's float step, and the caches (in process and on disk, invalidated by editing a rule)."""
import importlib.util
import json
import sys

import numpy as np
import pytest
import sympy

from optanalysis.rules import RULES, get_rule
from optanalysis.symbolic import derivation as dmod
from optanalysis.symbolic.core import H, source_key
from optanalysis.symbolic.derivation import cache_key, derive, parse
from optanalysis.symbolic.numeric import iteration_matrix_fn

VARIANTS = [("gd", {}), ("heavy_ball", {}), ("nesterov", {}), ("sgd_momentum", {}),
            ("sgd_momentum", {"nesterov": True})]
KEYS = {"rule", "state", "iteration_matrix", "charpoly", "stability", "lr_bound", "optimal",
        "regimes", "equivalences"}


def _same(a, b, n=40):
    """Equal as functions (numbers or truth values) at random points of their symbols: the
    printed form may regroup terms (2*(m + 1) reads back as 2*m + 2)."""
    syms = sorted((a.free_symbols | b.free_symbols) if hasattr(a, "free_symbols") else set(), key=str)
    rng = np.random.default_rng(1)
    fa, fb = sympy.lambdify(syms, a, "numpy"), sympy.lambdify(syms, b, "numpy")
    for _ in range(n):
        pt = [float(v) for v in rng.uniform(0.01, 0.99, len(syms))]
        with np.errstate(all="ignore"):
            x, y = np.asarray(fa(*pt)), np.asarray(fb(*pt))
        if x.dtype == bool or y.dtype == bool:
            if bool(x) != bool(y):
                return False
        elif not np.allclose(x.astype(complex), y.astype(complex), rtol=1e-12, atol=1e-12,
                             equal_nan=True):
            return False
    return True


@pytest.mark.parametrize("rule,fixed", VARIANTS)
def test_to_dict_parses_back(rule, fixed):
    d = derive(rule, **fixed)
    data = json.loads(json.dumps(d.to_dict()))
    assert KEYS <= set(data)
    assert data["state"] == list(get_rule(rule).state)
    rd = lambda s: parse(s, rule, **d.params)  # noqa: E731
    T = sympy.Matrix([[rd(x) for x in row] for row in data["iteration_matrix"]])
    assert sympy.simplify(T - d.iteration_matrix) == sympy.zeros(*T.shape)
    assert sympy.expand(rd(data["charpoly"]) - d.charpoly) == 0
    assert sympy.simplify(rd(data["lr_bound"]) - d.lr_bound) == 0
    for text, rel in zip(data["stability"], d.stability):
        assert _same(rd(text), rel)
    for item, r in zip(data["regimes"], d.regimes):
        assert _same(rd(item["condition"]), r.condition)
        if r.spectral_radius is not None:
            assert _same(rd(item["spectral_radius"]), r.spectral_radius)
    assert _same(rd(data["spectral_radius"]), d.spectral_radius)
    assert _same(rd(data["worst_case"]["rate"]), d.worst_case_rate)
    if data["optimal"] is not None:
        for k, v in data["optimal"].items():
            if v is not None:
                want = d.optimal.rate if k == "rate" else d.optimal.values[k]
                assert sympy.simplify(rd(v) - want) == 0
    # plain sympify (no locals) parses every expression too
    for text in [data["charpoly"], data["lr_bound"], *data["stability"], data["spectral_radius"],
                 data["worst_case"]["rate"], *[j for j in data["jury"]]]:
        sympy.sympify(text)


@pytest.mark.parametrize("rule,fixed", VARIANTS)
def test_printers(rule, fixed):
    d = derive(rule, **fixed)
    md, tex, txt = d.to_markdown(), d.to_latex(), d.to_text()
    assert md.startswith("# Derivation") and "$$T(h) =" in md and "Jury" in md
    assert r"\begin{align*}" in tex and tex.count(r"\begin{align*}") == tex.count(r"\end{align*}")
    assert "largest stable lr" in txt
    assert d.to_dict()["latex"]["charpoly"]


@pytest.mark.parametrize("rule,fixed", VARIANTS)
def test_iteration_matrix_is_the_float_step(rule, fixed):
    """T(h) s equals the rule's plain float step at t = 2 with g = h * grad_point (linear rules)."""
    r = get_rule(rule)
    d = derive(rule, **fixed)
    names, T = iteration_matrix_fn(rule, **d.params)
    rng = np.random.default_rng(0)
    for _ in range(20):
        h = float(rng.uniform(0.1, 3))
        hyper = {n: float(rng.uniform(0.05, 0.9)) for n in names}
        params = r.params(**hyper, **d.params)
        vals = r.values(params)
        s = rng.uniform(-1, 1, len(r.state))
        g = h * r.grad_point(*s, *vals)
        want = np.array(r.step(*s, g, *vals, 2), dtype=float)
        got = np.asarray(T(h, *[params[n] for n in names]), dtype=float) @ s
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


# ---------------------------------------------------------------------------------------------
# caches


def test_disk_cache_round_trip(tmp_path, monkeypatch):
    monkeypatch.setenv("OPTANALYSIS_CACHE_DIR", str(tmp_path))
    dmod._derive.cache_clear()
    first = derive("heavy_ball")
    files = list((tmp_path / "derivations").glob("heavy_ball-*.json"))
    assert len(files) == 1
    dmod._derive.cache_clear()
    again = derive("heavy_ball")
    assert again.to_dict() == first.to_dict()
    # a corrupt entry is recomputed, not trusted
    files[0].write_text("{not json")
    dmod._derive.cache_clear()
    assert derive("heavy_ball").to_dict() == first.to_dict()
    assert derive("heavy_ball", cache=False).to_dict() == first.to_dict()


def _temporary_rule(tmp_path, name, old, new):
    """A copy of rule ``name`` whose module is a temporary file with ``old`` replaced by ``new``."""
    rule = get_rule(name)
    src = open(rule.module.__file__).read()
    assert old in src
    path = tmp_path / f"edited_{name}.py"
    path.write_text(src.replace(old, new).replace("from ..", "from optanalysis.").replace(
        "from . import", "from optanalysis.rules import"))
    spec = importlib.util.spec_from_file_location(f"edited_{name}", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    object.__setattr__(mod.RULE, "module", mod)
    return mod.RULE


def test_editing_a_rule_changes_the_derivation_and_the_key(tmp_path, monkeypatch):
    monkeypatch.setenv("OPTANALYSIS_CACHE_DIR", str(tmp_path / "cache"))
    original = RULES["heavy_ball"]
    before = derive("heavy_ball")
    key_before = cache_key("heavy_ball")
    # Polyak's step with the momentum term doubled: a different rule with the same name
    edited = _temporary_rule(tmp_path, "heavy_ball", "momentum * (x - x_prev)", "2 * momentum * (x - x_prev)")
    monkeypatch.setitem(RULES, "heavy_ball", edited)
    assert source_key("heavy_ball") != source_key(original)  # the lookup now finds the edit
    assert cache_key("heavy_ball") != key_before
    after = derive("heavy_ball")
    m = after.hyper["momentum"]
    assert sympy.simplify(after.lr_bound - 2 * (1 + 2 * m) / H) == 0
    assert sympy.simplify(before.lr_bound - 2 * (1 + m) / H) == 0
    assert after.to_dict()["charpoly"] != before.to_dict()["charpoly"]
    # editing the temporary module's file again changes the key again
    path = tmp_path / "edited_heavy_ball.py"
    key_edited = cache_key("heavy_ball")
    path.write_text(path.read_text() + "\n# touched\n")
    assert cache_key("heavy_ball") != key_edited
    monkeypatch.setitem(RULES, "heavy_ball", original)
    assert cache_key("heavy_ball") == key_before
    assert derive("heavy_ball").to_dict() == before.to_dict()


def test_unknown_and_adaptive_rules_are_refused():
    with pytest.raises(ValueError, match="unknown rule"):
        derive("nope")
    with pytest.raises(ValueError, match="adaptive"):
        derive("adam")
    with pytest.raises(ValueError, match="unknown hyperparameter"):
        derive("gd", momentum=0.5)
    with pytest.raises(ValueError, match="nesterov"):
        derive("sgd_momentum", nesterov=True, dampening=0.5)
