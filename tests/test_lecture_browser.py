"""The lecture site in a real browser: headless Chromium (Debian's ``chromium``, driven by Playwright
through ``executable_path``; never ``playwright install``) opens every built page.

Each page: no console error, no failed request, every image loaded, every formula typeset by the
browser as MathML (no raw LaTeX left in the text, no ``merror`` node, fractions laid out as
fractions); on the pages with an interactive figure the sliders move the point and change the
plotted trajectory; in print layout (A4, the stylesheet's margins) no element reaches past the page's
width, and the printed PDF has every heading of the page.  Screenshots of each page (screen and
print) go to the test's output folder.
"""
import re
import shutil
import subprocess
from pathlib import Path

import pytest

sync_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")

ROOT = Path(__file__).resolve().parents[1]
# the pages built: every topic, plus a page for a linear rule and one for an adaptive rule
TOPICS = ["gd", "momentum", "nesterov", "rmsprop", "adam", "schedules", "edge_of_stability"]
RULE_PAGES = ["sgd_momentum", "adagrad"]
PAGES = ["index", *TOPICS, *RULE_PAGES]
EXPLORERS = {"gd": False, "momentum": True, "nesterov": True, "sgd_momentum": True}  # page: has momentum
# A4 (210 mm) less the stylesheet's @page margins (2 x 14 mm), in CSS pixels (96 per inch)
PRINT_WIDTH = round((210 - 2 * 14) / 25.4 * 96)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from optanalysis.lecture import build

    out = tmp_path_factory.mktemp("site")
    # the committed outputs of `optanalysis reproduce` (figures/): the pages, not the studies, are
    # under test here (tests/test_lecture.py runs the path that runs studies)
    build([*TOPICS, *RULE_PAGES], out, figures=ROOT / "figures", stream=open("/dev/null", "w"))
    return out


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield b
        b.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    return tmp_path_factory.mktemp("screenshots")


def _open(browser, site, name, problems, **context):
    page = browser.new_page(viewport={"width": 1200, "height": 900}, **context)
    page.on("console", lambda m: m.type == "error" and problems.append(f"console: {m.text}"))
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url} {r.failure}"))
    page.goto((site / f"{name}.html").as_uri(), wait_until="load")
    return page


@pytest.mark.parametrize("name", PAGES)
def test_page_loads_clean_and_typesets_every_formula(site, browser, shots, name):
    problems = []
    page = _open(browser, site, name, problems)
    try:
        images = page.eval_on_selector_all("img", "els => els.map(e => [e.getAttribute('src'), e.complete, e.naturalWidth])")
        assert [i for i in images if not (i[1] and i[2] > 0)] == []
        if name in ("momentum", "gd", "schedules"):
            assert images, "a topic page with studies shows their figures"
        # MathML, typeset by the browser: no error node, no LaTeX command left in the visible text
        assert page.locator("merror").count() == 0
        text = page.evaluate("""() => { const c = document.querySelector('main').cloneNode(true);
            c.querySelectorAll('pre, code').forEach(e => e.remove()); return c.innerText; }""")
        assert re.findall(r"\\[A-Za-z]+|\$", text) == []
        n_math = page.locator("math").count()
        if name != "index":
            assert n_math > (5 if name not in ("schedules", "edge_of_stability") else 0)
            # every formula has a box, and a fraction is laid out as one (numerator above the
            # denominator): the browser typesets MathML instead of running it together as text
            empty = page.eval_on_selector_all("math", "els => els.filter(e => { const r = e.getBoundingClientRect();"
                                              " return r.width === 0 || r.height === 0; }).length")
            assert empty == 0
            stacked = page.eval_on_selector_all("mfrac", """els => els.slice(0, 20).map(f => {
                const [a, b] = f.children; return a.getBoundingClientRect().bottom <= b.getBoundingClientRect().top + 1; })""")
            assert all(stacked) and (stacked or name == "schedules")  # its formulas have no fraction
        page.screenshot(path=shots / f"{name}.png", full_page=True)
        assert problems == []
    finally:
        page.close()


@pytest.mark.parametrize("name", sorted(EXPLORERS))
def test_sliders_move_the_point_and_change_the_trajectory(site, browser, name):
    problems = []
    page = _open(browser, site, name, problems)
    try:
        def state():
            return page.evaluate("""() => { const f = document.querySelector('figure.explorer');
                const c = f.querySelector('circle.point'); return [c.getAttribute('cx'), c.getAttribute('cy'),
                f.querySelector('path.trajectory').getAttribute('d'), f.querySelector('.readout').textContent]; }""")

        before = state()
        assert before[2].startswith("M") and "ρ =" in before[3]
        page.focus("figure.explorer input[name=lr]")
        for _ in range(3):
            page.keyboard.press("ArrowRight")
        after_lr = state()
        assert float(after_lr[0]) > float(before[0])  # a larger step size: the point moves right
        assert after_lr[1] == before[1] and after_lr[2] != before[2] and after_lr[3] != before[3]
        if EXPLORERS[name]:
            page.focus("figure.explorer input[name=momentum]")
            page.keyboard.press("ArrowLeft")
            after_m = state()
            assert float(after_m[1]) > float(after_lr[1])  # less momentum: lower on the plot (SVG y grows down)
            assert after_m[2] != after_lr[2]
        page.focus("figure.explorer input[name=kappa]")
        page.keyboard.press("ArrowRight")
        assert state()[3] != after_lr[3]  # another curvature range: another rho and run
        assert problems == []
    finally:
        page.close()


@pytest.mark.parametrize("name", PAGES)
def test_print_layout_fits_the_page_and_the_pdf_has_every_heading(site, browser, shots, name):
    problems = []
    page = _open(browser, site, name, problems)
    try:
        page.emulate_media(media="print")
        page.set_viewport_size({"width": PRINT_WIDTH, "height": 1000})
        # every visible element inside the page's width, and no element scrolling or clipping
        # content wider than itself (that part would be cut off on paper)
        wide = page.evaluate("""(W) => { const out = [];
            for (const e of document.body.querySelectorAll('*')) {
              const s = getComputedStyle(e); if (s.display === 'none' || s.visibility === 'hidden') continue;
              const r = e.getBoundingClientRect(); if (r.width === 0) continue;
              if (r.right > W + 1 || r.left < -1) out.push(e.tagName + ' right=' + Math.round(r.right));
              else if (e.scrollWidth > e.clientWidth + 1 && e.clientWidth > 0 && s.overflowX !== 'visible')
                out.push(e.tagName + ' clips ' + e.scrollWidth + ' > ' + e.clientWidth);
            } return out.slice(0, 5); }""", PRINT_WIDTH)
        assert wide == []
        assert page.evaluate("document.documentElement.scrollWidth") <= PRINT_WIDTH
        assert page.locator("figure.explorer .controls").is_hidden()
        headings = page.eval_on_selector_all("h1, h2", "els => els.map(e => e.textContent.trim())")
        pdf = shots / f"{name}.pdf"
        page.pdf(path=str(pdf), prefer_css_page_size=True, print_background=False)
        assert pdf.stat().st_size > 1000
        page.screenshot(path=shots / f"{name}.print.png", full_page=True)
        if shutil.which("pdftotext"):
            printed = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                                     check=True).stdout
            flat = " ".join(printed.split())
            missing = [h for h in headings if " ".join(h.split()) not in flat]
            assert missing == []
        assert problems == []
    finally:
        page.close()
