"""The front door: ``import optanalysis as oa`` is light, and every exported name is the one function."""
import subprocess
import sys

import numpy as np
import pytest

import optanalysis as oa


def test_import_loads_neither_numba_nor_sympy():
    # a fresh interpreter: this process has long imported both
    code = ("import sys, optanalysis; heavy = [m for m in ('numba', 'sympy', 'numpy', 'matplotlib') "
            "if m in sys.modules]; print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


@pytest.mark.parametrize("name", [n for n in oa.__all__ if n != "__version__"])
def test_every_export_resolves_to_a_callable(name):
    assert callable(getattr(oa, name))
    assert name in dir(oa)


def test_exports_are_the_defining_functions():
    from optanalysis.comparison import compare
    from optanalysis.simulation import simulate
    from optanalysis.symbolic.derivation import derive
    from optanalysis.theory.prediction import predict

    assert (oa.simulate, oa.predict, oa.compare, oa.derive) == (simulate, predict, compare, derive)


def test_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no_such_name"):
        oa.no_such_name  # noqa: B018


def test_simulate_equals_predict_through_the_front_door():
    kw = dict(x0=[1.0, -1.0], hessian_diag=[1.0, 0.01], steps=200, schedule="step:step_size=50,gamma=0.5")
    sim = oa.simulate("sgd_momentum", {"lr": 0.1, "momentum": 0.9}, **kw)
    pred = oa.predict("sgd_momentum", {"lr": 0.1, "momentum": 0.9}, **kw)
    assert np.max(np.abs(pred.loss - sim.loss)) <= 1e-12 * sim.loss[0]


def test_results_show_as_html_tables():
    kw = dict(x0=[1.0, 1.0], hessian_diag=[1.0, 0.1], steps=40)
    records = oa.compare("heavy_ball", {"lr": 0.5, "momentum": 0.5}, **kw)
    html = records._repr_html_()
    assert html.startswith("<table>") and html.count("<tr>") == len(records) + 1
    assert "verdict" in html and f"{len(records)} records" in html
    assert "<table>" in records[0]._repr_html_()
    for obj in (oa.predict("gd", {"lr": 0.5}, **kw), oa.worst_case("gd", {"lr": 0.5}, mu=0.1, L=1.0, steps=5),
                oa.expected_loss("gd", {"lr": 0.5}, noise="isotropic:sigma=0.1", **kw)):
        assert obj._repr_html_().startswith("<table><caption>")


def test_html_escapes_text():
    from optanalysis.display import html_table

    assert "&lt;b&gt;" in html_table([["<b>"]], ["x"])


def test_rules_is_the_subpackage_and_lists_the_rules():
    import optanalysis.rules

    assert oa.rules is optanalysis.rules and oa.get_rule is optanalysis.rules.get_rule
    linear = oa.rules(linear=True)
    assert [r.name for r in linear] == [n for n, r in optanalysis.rules.RULES.items() if r.linear]
    assert {r.name for r in oa.rules()} == set(optanalysis.rules.RULES)
    assert "heavy_ball" in oa.rules()._repr_html_()
    with pytest.raises(TypeError, match="linear"):
        oa.rules(linear="yes")


def test_every_derived_object_typesets_itself():
    from optanalysis.symbolic.cycles import period2_orbit

    d = oa.derive("heavy_ball")
    objects = [d, d.charpoly_result if hasattr(d, "charpoly_result") else None, *d.regimes, *d.tunings,
               *d.equivalences, oa.linearize("adam"), period2_orbit("rmsprop")]
    for obj in filter(None, objects):
        latex = obj._repr_latex_()
        assert latex.startswith("$") and latex.endswith("$") and latex.strip("$"), type(obj).__name__
    assert r"\beta" in d._repr_latex_() and "momentum" not in d._repr_latex_()  # the literature's notation
