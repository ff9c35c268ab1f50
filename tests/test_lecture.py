"""`optanalysis lecture` without a browser: topics, pages and their content, the interactive figure's
data against the literature's formulas, the reuse of study outputs, and the CLI's errors.
(tests/test_lecture_browser.py opens the pages in Chromium.)"""
import html
import json
import re
import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from optanalysis.cli import main
from optanalysis.lecture import TOPICS, build, resolve_topics, topic_names
from optanalysis.lecture import evidence, sections
from optanalysis.lecture.explorer import KAPPAS, explorer_data
from optanalysis.lecture.mathml import math

ROOT = Path(__file__).resolve().parents[1]
FIGURES = ROOT / "figures"  # the committed outputs of `optanalysis reproduce`
QUIET = open("/dev/null", "w")


def test_topics_follow_the_course_and_other_names_are_rules():
    assert topic_names() == ["gd", "momentum", "nesterov", "rmsprop", "adam", "schedules", "edge_of_stability"]
    assert [t.name for t in resolve_topics()] == topic_names()
    hb, adagrad = resolve_topics(["heavy_ball", "adagrad"])
    assert (hb.rules, hb.explorer, hb.studies) == (("heavy_ball",), "heavy_ball", ())
    assert (adagrad.rules, adagrad.explorer) == (("adagrad",), None)  # adaptive: no interactive figure
    with pytest.raises(ValueError, match="unknown topic 'nope'.*momentum.*unknown rule"):
        resolve_topics(["nope"])
    # every study a topic names exists (a page would otherwise fail to build)
    from optanalysis.studies import study_names
    assert {s for t in TOPICS for s in t.studies} <= set(study_names())


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    result = build(["gd", "momentum", "adam", "adagrad"], out, figures=FIGURES, stream=QUIET)
    return out, result


def _alttexts(page: str) -> list:
    return [html.unescape(a) for a in re.findall(r'<math alttext="([^"]*)"', page)]


def test_build_writes_the_pages_assets_data_and_figures(site):
    out, result = site
    assert [p.name for p in result.pages] == ["gd.html", "momentum.html", "adam.html", "adagrad.html"]
    assert result.index == out / "index.html" and result.unexpected == {}
    index = result.index.read_text()
    assert [m for m in re.findall(r'href="(\w+)\.html"', index) if m != "index"] == ["gd", "momentum", "adam", "adagrad"]
    for name in ("static/lecture.css", "static/explorer.js", "data/gd.js", "data/heavy_ball.js",
                 "figures/gd_stability_and_rate.png", "figures/momentum_rate_map.json"):
        assert (out / name).stat().st_size > 0, name
    assert not (out / "data" / "adagrad.js").exists()
    gd = (out / "gd.html").read_text()
    # gd's largest stable step is 2/h (Cauchy; docs/reference.md 4.2): derived, then typeset
    assert r"\alpha < \frac{2}{h}" in _alttexts(gd)
    assert 'src="data/gd.js"' in gd and 'src="static/explorer.js"' in gd
    for page in result.pages:
        text = page.read_text()
        assert "<merror" not in text
        # no LaTeX outside the formulas' alttext (their source) and the pseudo-code
        visible = re.sub(r'alttext="[^"]*"|<pre.*?</pre>|<code>.*?</code>', "", text, flags=re.S)
        assert re.findall(r"\\[A-Za-z]+", re.sub(r"<[^>]+>", " ", visible)) == []


def test_adaptive_pages_show_the_linearisation(site):
    out, _ = site
    adam = (out / "adam.html").read_text()
    assert "<code>heavy_ball</code> on" in adam  # frozen Adam is heavy ball on P^-1 H
    assert any(a.startswith(r"\lambda_{\max}(P^{-1}H) <") for a in _alttexts(adam))
    assert "torch.optim.Adam exactly" in adam and "optax" in adam
    assert "period-2 orbit" in adam


def test_each_claim_shows_the_verdict_its_study_recorded(site):
    out, _ = site
    page = (out / "momentum.html").read_text()
    for study in ("lesson_momentum_accelerates", "formulation_equivalence"):
        payload = json.loads((FIGURES / f"{study}.json").read_text())
        assert f'src="figures/{study}.png"' in page and html.escape(payload["title"]) in page
        section = page[page.index(f'id="study-{study}"'):]
        section = section[:section.index("</section>")]
        for quantity, e in payload["expected"].items():
            if "{}" in quantity:
                continue
            row = re.search(r"<tr[^>]*><td>" + re.escape(html.escape(quantity)) + r"</td><td>(.*?)</td>", section)
            assert row, quantity
            shown = re.findall(r'class="verdict \w+">(\w+)<', row.group(1))
            recorded = [j["verdict"] for j in payload["judged"] if j["quantity"] == quantity]
            assert shown == recorded, quantity


def test_a_study_with_unexpected_verdicts_says_so():
    payload = json.loads((FIGURES / "lesson_nesterov_faster.json").read_text())
    q = next(j for j in payload["judged"] if j["verdict"] in ("supported", "qualified", "refuted")
             and "{}" not in j["quantity"] and j["quantity"] in payload["expected"])
    flipped = "supported" if q["verdict"] != "supported" else "refuted"
    payload["judged"] = [dict(j, verdict=flipped) if j is q else j for j in payload["judged"]]
    payload["unexpected"] = [[q["quantity"], flipped, q["expected"]]]
    shown = sections.study("lesson_nesterov_faster", payload)
    assert "differ from what theory predicted" in shown
    assert re.search(r'<tr class="unexpected"><td>' + re.escape(html.escape(q["quantity"])), shown)
    assert "did not run" in sections.study("x", None)


def test_gd_explorer_data_is_the_exact_theory():
    data = explorer_data("gd")
    assert data["boundary"] == [2.0] and data["momentum"] == [None]
    lrs = np.array(data["lr"])
    for k, kappa in enumerate(KAPPAS):
        h = np.geomspace(1 / kappa, 1, 5)
        factor = 1 - lrs[:, None] * h[None, :]  # gd multiplies the error along h by 1 - lr h
        rho = np.abs(factor).max(axis=1)
        assert np.abs(np.array(data["rho"][k])[:, 0] - rho).max() <= 5e-5 + 1e-12  # rounded to 4 decimals
        for i, lr in enumerate(lrs):
            t = np.arange(len(data["loss"][k][i][0])) * data["every"]
            exact = np.log10((h[None, :] * factor[i][None, :] ** (2 * t[:, None])).sum(axis=1) / h.sum())
            shown = np.array([np.nan if v is None else v for v in data["loss"][k][i][0]])
            keep = ~np.isnan(shown) & (exact > -29)  # above the floor the figure clips to
            assert keep.sum() > 3 or data["diverged"][k][i][0] >= 0
            assert np.abs(shown[keep] - exact[keep]).max() <= 0.005 + 1e-9  # rounded to 2 decimals
            diverged = data["diverged"][k][i][0] >= 0
            assert (not diverged) if rho[i] < 1 else (diverged or shown[~np.isnan(shown)][-1] > 0)


def test_heavy_ball_explorer_has_polyaks_boundary_and_tuning():
    data = explorer_data("heavy_ball")
    beta = np.array(data["momentum"])
    # stable iff lr h < 2(1 + beta) (Polyak 1964), at h = L = 1
    assert np.abs(np.array(data["boundary"]) - 2 * (1 + beta)).max() <= 1e-6
    for kappa, tuned in zip(data["kappa"], data["tuned"]):
        assert tuned["lr"] == pytest.approx(4 / (1 + kappa ** -0.5) ** 2, rel=1e-12)
        assert tuned["momentum"] == pytest.approx(((kappa ** 0.5 - 1) / (kappa ** 0.5 + 1)) ** 2, rel=1e-12)
    stable = np.array(data["rho"]) < 1
    assert (np.array(data["diverged"])[stable] < 0).all()  # a stable point never diverges


def _fake_runner(calls):
    def run_studies(names, *, quick, out, jobs, stream):
        calls.append((list(names), quick))
        for n in names:
            for suffix in (".png", ".json"):
                shutil.copyfile(FIGURES / f"{n}{suffix}", Path(out) / f"{n}{suffix}")
        return [SimpleNamespace(name=n, files=[str(Path(out) / f"{n}.png")]) for n in names]
    return run_studies


def test_study_outputs_are_reused_only_from_the_same_sources_and_mode(tmp_path, monkeypatch):
    from optanalysis.studies import _runner

    calls = []
    monkeypatch.setattr(_runner, "run_studies", _fake_runner(calls))
    folder, name = tmp_path / "figures", "gd_stability_and_rate"
    first = evidence.gather([name], folder, stream=QUIET)
    assert calls == [([name], False)] and first[name]["study"] == name
    evidence.gather([name], folder, stream=QUIET)
    assert len(calls) == 1  # same sources, same mode: reused
    evidence.gather([name], folder, quick=True, stream=QUIET)
    assert calls[-1] == ([name], True)  # another mode: run again
    monkeypatch.setattr(evidence, "sources_hash", lambda: "edited")
    evidence.gather([name], folder, quick=True, stream=QUIET)
    assert len(calls) == 3  # the package changed: run again
    evidence.gather(["adaptive_cycles"], folder, figures=FIGURES, stream=QUIET)
    assert len(calls) == 3 and (folder / "adaptive_cycles.csv").exists()  # copied, not run
    with pytest.raises(ValueError, match="unknown study 'nope'"):
        evidence.gather(["nope"], folder)
    with pytest.raises(ValueError, match="figures must be a directory"):
        evidence.gather([name], folder, figures=tmp_path / "missing")


def test_cli_builds_a_page_running_its_study(tmp_path, capsys):
    assert main(["lecture", "gd", "--out", str(tmp_path / "site"), "--quick"]) == 0
    assert "1 page(s)" in capsys.readouterr().out
    payload = json.loads((tmp_path / "site" / "figures" / "gd_stability_and_rate.json").read_text())
    assert payload["quick"] is True and payload["unexpected"] == []
    assert "gd_stability_and_rate.png" in (tmp_path / "site" / "gd.html").read_text()


@pytest.mark.parametrize("argv, message", [
    (["lecture", "nope"], "unknown topic 'nope'"),
    (["lecture", "gd", "--figures", "/nonexistent/dir"], "--figures must be a directory"),
    (["lecture", "--jobs", "0"], "--jobs must be an integer"),
    (["lecture", "--out", ""], "--out: empty"),
])
def test_cli_errors_are_one_line_exit_2(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exc:
        status = main(argv)
        raise SystemExit(status)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and "Traceback" not in err


def test_mathml_fails_the_build_on_what_it_cannot_typeset():
    assert "<mfrac>" in math(r"\frac{2}{\alpha}", display=True)
    with pytest.raises(ValueError, match=r"unknown command \\foo"):
        math(r"\foo{x}")
    with pytest.raises(ValueError, match="cannot typeset"):
        math(r"\frac{1}{")


def test_docstring_keeps_the_algorithm_as_written_and_escapes_text():
    shown = sections.docstring("One line <b>.\n\nAlgorithm\n    x <- x - lr g\n        indented\n\n"
                               "Theory\n    First\n    paragraph.\n\n    Second.\n")
    assert shown.startswith('<p class="lead">One line &lt;b&gt;.</p>')
    assert '<pre class="algorithm">x &lt;- x - lr g\n    indented</pre>' in shown
    assert "<p>First paragraph.</p>" in shown and "<p>Second.</p>" in shown
