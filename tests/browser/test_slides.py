"""The static lecture decks, opened from disk with every network request blocked.

Decks are built (``course_tools.slides``) from snapshots of the two fixture notebooks and of
lesson 05 (every lesson with ``COURSE_SLIDES_TEST_ALL=1``; ``test_slides_build.py`` builds all
lessons without a browser), into a temporary folder; the JavaScript comes from the usual cache
``build/slide-assets/`` (the first run fetches it from PyPI and npm). Each deck is opened as
``file://`` in Chromium with a route that aborts -- and records -- any request that is not
``file:``/``data:``/``blob:``/``about:``. Checked per deck: no request left the machine, no
JavaScript error, reveal.js shows as many slides as the notebook's ``slide_type`` metadata asks
for, MathJax typeset the equations, saved widgets rendered, every figure fits the 1280x720
screen and can be scrolled fully into view, and Hangul is drawn with a Korean font. Speaker
notes open in reveal.js's speaker view, and ``index.html`` links every deck.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

import nbformat
import pytest

from browser_support import FIXTURES, REPO_ROOT, has_hangul, korean_fonts, platform_fonts

pytestmark = pytest.mark.browser

WIDTH, HEIGHT = 1280, 720
FIXTURE_NOTEBOOKS = [FIXTURES / "widget_forget_gate.ipynb", FIXTURES / "equation_rnn.ipynb"]
ALL_LESSONS = sorted((REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
LESSONS = [p for p in ALL_LESSONS
           if os.environ.get("COURSE_SLIDES_TEST_ALL") or p.name == "05_forget_gate.ipynb"]
NOTEBOOKS = FIXTURE_NOTEBOOKS + LESSONS
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")
MATH = re.compile(r"\$\$.+?\$\$|\$[^$\n]+\$|\\\(|\\\[|\\begin\{", re.DOTALL)
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def expected_slides(nb) -> int:
    """Slides reveal.js must show, straight from the metadata (nbconvert's rules).

    The first cell that is neither ``notes`` nor ``skip`` opens the first slide; after it every
    ``slide`` or ``subslide`` cell opens one more. ``fragment``, ``-``, ``notes`` and ``skip``
    cells never do.
    """
    count, started = 0, False
    for cell in nb.cells:
        kind = cell.metadata.get("slideshow", {}).get("slide_type", "-")
        if not started:
            if kind not in ("notes", "skip"):
                count, started = 1, True
        elif kind in ("slide", "subslide"):
            count += 1
    return count


def has_math(nb) -> bool:
    return any(cell.cell_type == "markdown" and MATH.search(cell.source) for cell in nb.cells)


def saved_widget_views(nb) -> bool:
    state = nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {})
    views = [o["data"][WIDGET_VIEW]["model_id"] for c in nb.cells for o in c.get("outputs", [])
             if WIDGET_VIEW in o.get("data", {})]
    return bool(views) and all(v in state.get("state", {}) for v in views)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Build the decks once from snapshots; return (output folder, {stem: (notebook, deck)})."""
    from course_tools import slides

    src = tmp_path_factory.mktemp("notebooks")
    out = tmp_path_factory.mktemp("slides")
    copies = []
    for nb in NOTEBOOKS:  # the lessons may be edited while the tests run
        shutil.copy2(nb, src / nb.name)
        copies.append(src / nb.name)
    t0 = time.monotonic()
    code = slides.main([*map(str, copies), "--out", str(out), "--execute", "never", "--quiet"])
    assert code == 0, "the slides build failed (see its output above)"
    print(f"\nbuilt {len(copies)} decks in {time.monotonic() - t0:.1f} s: "
          f"{', '.join(p.stem for p in copies)}")
    decks = {nb.stem: (nb, out / f"{nb.stem}.slides.html") for nb in copies}
    for _, deck in decks.values():
        assert deck.is_file()
    return out, decks


class Offline:
    """A browser context in which only local URLs load; every other request is recorded."""

    def __init__(self, browser):
        self.leaked: list[str] = []
        self.errors: list[str] = []
        self.context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT})
        self.context.route("**/*", self._route)
        self.context.on("request", self._seen)

    def _seen(self, request):
        if not request.url.startswith(LOCAL_SCHEMES) and request.url not in self.leaked:
            self.leaked.append(request.url)

    def _route(self, route):
        if route.request.url.startswith(LOCAL_SCHEMES):
            route.continue_()
        else:
            self._seen(route.request)
            route.abort("internetdisconnected")

    def open(self, path: Path):
        page = self.context.new_page()
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        page.goto(path.as_uri())
        page.wait_for_function("() => window.Reveal && Reveal.isReady()", timeout=30_000)
        page.wait_for_function(
            "() => !window.MathJax || (MathJax.Hub && MathJax.Hub.queue.pending === 0 "
            "&& MathJax.Hub.queue.running === 0)", timeout=30_000)
        page.evaluate("() => Reveal.configure({transition: 'none', backgroundTransition: 'none'})")
        return page

    def close(self):
        self.context.close()


@pytest.fixture
def offline(browser):
    ctx = Offline(browser)
    yield ctx
    ctx.close()


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_deck_offline(notebook, built, offline, artifacts):
    _, decks = built
    snapshot, deck = decks[notebook.stem]
    nb = nbformat.read(snapshot, as_version=4)
    page = offline.open(deck)

    # Slides: the count the metadata asks for, in the API and in the DOM.
    total = page.evaluate("Reveal.getTotalSlides()")
    leaves = page.evaluate("document.querySelectorAll('.reveal .slides section:not(:has(section))').length")
    assert total == leaves == expected_slides(nb)

    # Equations were typeset by MathJax, without errors.
    if has_math(nb) or notebook.stem == "equation_rnn":
        n_math = page.evaluate("document.querySelectorAll('.MathJax, .MathJax_Display').length")
        assert n_math > 0, "no equation was typeset by MathJax"
        errors = page.evaluate("document.querySelectorAll('.MathJax_Error, merror').length")
        assert errors == 0, "MathJax reported errors"
        assert page.evaluate("MathJax.OutputJax['HTML-CSS'].fontInUse") == "STIX-Web"

    # Saved widget state was rendered by the local widget renderer.
    if saved_widget_views(nb):
        page.wait_for_selector(".reveal .widget-slider, .reveal .jupyter-widgets.widget-image, "
                               ".reveal .jupyter-widgets", state="attached", timeout=20_000)

    # Hangul in the first heading is drawn with a Korean font.
    heading = page.locator(".reveal h1, .reveal h2").first
    if has_hangul(heading.text_content() or ""):
        fonts = platform_fonts(page, ".reveal h1, .reveal h2")
        assert korean_fonts(fonts), f"heading drawn with {[f['familyName'] for f in fonts]}"
    page.screenshot(path=str(artifacts / f"slides_{notebook.stem}_first.png"))

    # Every figure fits the screen and can be brought fully into view on its slide.
    figures = page.evaluate("""() => Reveal.getSlides().map((s, k) => [k, s.querySelectorAll(
        '.jp-OutputArea-output img, img.widget-image').length]).filter(([k, n]) => n > 0)""")
    shot = False
    for k, n in figures:
        page.evaluate(f"() => {{ const ix = Reveal.getIndices(Reveal.getSlides()[{k}]); "
                      f"Reveal.slide(ix.h, ix.v, Infinity); }}")
        for i in range(n):
            box = page.evaluate(f"""() => {{
                const img = Reveal.getCurrentSlide().querySelectorAll(
                    '.jp-OutputArea-output img, img.widget-image')[{i}];
                img.scrollIntoView({{block: 'nearest'}});
                const r = img.getBoundingClientRect();
                return {{left: r.left, top: r.top, right: r.right, bottom: r.bottom,
                         w: r.width, h: r.height}};
            }}""")
            where = f"slide {k + 1}, figure {i + 1}: {box}"
            assert box["w"] > 50 and box["h"] > 50, f"figure not displayed ({where})"
            assert box["w"] <= WIDTH and box["h"] <= HEIGHT, f"figure larger than the screen ({where})"
            assert box["left"] >= -1 and box["right"] <= WIDTH + 1, f"figure cut off ({where})"
            assert box["top"] >= -1 and box["bottom"] <= HEIGHT + 1, f"figure not reachable ({where})"
        if not shot:
            page.screenshot(path=str(artifacts / f"slides_{notebook.stem}_figure.png"))
            shot = True

    assert not offline.errors, f"JavaScript errors in the deck: {offline.errors}"
    assert not offline.leaked, f"the deck tried to reach the network: {offline.leaked}"


def test_speaker_notes(built, offline):
    """Pressing S opens reveal.js's speaker view with the notes cell of the current slide."""
    _, decks = built
    snapshot, deck = decks[FIXTURE_NOTEBOOKS[0].stem]
    nb = nbformat.read(snapshot, as_version=4)
    note = next(c.source for c in nb.cells if c.metadata.get("slideshow", {}).get("slide_type") == "notes")
    page = offline.open(deck)
    k = page.evaluate("() => Reveal.getSlides().findIndex(s => s.querySelector('aside.notes'))")
    assert k >= 0, "no speaker notes in the deck"
    page.evaluate(f"() => {{ const ix = Reveal.getIndices(Reveal.getSlides()[{k}]); Reveal.slide(ix.h, ix.v); }}")
    with page.expect_popup(timeout=10_000) as popup_info:
        page.keyboard.press("s")
    popup = popup_info.value
    popup.wait_for_function(
        "(t) => { const n = document.querySelector('.speaker-controls-notes'); "
        "return n && n.innerText.includes(t); }", arg=note.split(":")[0], timeout=15_000)
    text = popup.evaluate("document.querySelector('.speaker-controls-notes').innerText")
    assert note[:20] in " ".join(text.split())
    assert not offline.leaked, f"the speaker view tried to reach the network: {offline.leaked}"


def test_index_links_every_deck(built, offline):
    out, decks = built
    page = offline.context.new_page()
    page.goto((out / "index.html").as_uri())
    links = page.eval_on_selector_all("ol.decks a", "els => els.map(a => [a.getAttribute('href'), a.textContent])")
    assert sorted(href for href, _ in links) == sorted(deck.name for _, deck in decks.values())
    for href, text in links:
        assert (out / href).is_file()
        snapshot = next(nb for nb, deck in decks.values() if deck.name == href)
        nb = nbformat.read(snapshot, as_version=4)
        heading = next(line for c in nb.cells if c.cell_type == "markdown"
                       for line in c.source.splitlines() if line.startswith("#"))
        assert text.strip() and text.strip() in heading, (text, heading)
    assert any(has_hangul(text) for _, text in links)
    assert platform_fonts(page, "ol.decks a") and korean_fonts(platform_fonts(page, "ol.decks a"))
    assert not offline.leaked, offline.leaked
