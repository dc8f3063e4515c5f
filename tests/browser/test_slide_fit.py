"""Every slide of every lesson deck fits a 1280x720 frame with all fragments shown.

The decks are built from snapshots of the lessons (stored outputs, nothing executed) and measured
one after another in the session's single headless Chromium by :mod:`course_tools.slide_fit`:
a slide overflows when what is drawn on it (the lowest leaf element: text, image, equation,
widget part), measured with every fragment visible and after MathJax has typeset it, goes below
(or beyond) the frame. A synthetic deck
with a known-overflowing slide checks that the measure sees overflow (also when it comes from a
fragment) and passes a slide that fits.

One lesson by hand, listing its overflowing slides:

    .venv/bin/python -m course_tools.slide_fit notebooks/05_forget_gate.ipynb
"""

from __future__ import annotations

import time

import nbformat
import pytest

from browser_support import REPO_ROOT
from course_tools import slide_fit

pytestmark = pytest.mark.browser

LESSONS = sorted((REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


@pytest.fixture(scope="module")
def context(browser):
    ctx = browser.new_context(viewport={"width": slide_fit.WIDTH, "height": slide_fit.HEIGHT})
    yield ctx
    ctx.close()


@pytest.fixture(scope="module")
def measured(request, context, tmp_path_factory):
    """{lesson stem: [SlideFit, ...]} for the selected lessons (``-k``), measured in one browser session."""
    selected = [item.callspec.params["lesson"] for item in request.session.items
                if getattr(item, "originalname", None) == "test_every_slide_fits_1280x720" and hasattr(item, "callspec")]
    lessons = [p for p in LESSONS if p in selected] or LESSONS
    out = tmp_path_factory.mktemp("fit-decks")
    t0 = time.monotonic()
    decks = slide_fit.build_decks(lessons, out)
    t1 = time.monotonic()
    results = {stem: slide_fit.measure_deck(context, deck, stem) for stem, deck in decks.items()}
    n = sum(map(len, results.values()))
    over = sum(f.overflows for fits in results.values() for f in fits)
    print(f"\nslide fit: built {len(decks)} decks in {t1 - t0:.1f} s, measured {n} slides in "
          f"{time.monotonic() - t1:.1f} s; {over} overflow")
    return results


@pytest.mark.parametrize("lesson", LESSONS, ids=[p.stem for p in LESSONS])
def test_every_slide_fits_1280x720(lesson, measured):
    fits = measured[lesson.stem]
    assert fits, f"{lesson.stem}: the deck has no slides"
    bad = [f for f in fits if f.overflows]
    assert not bad, (f"{lesson.stem}: {len(bad)} of {len(fits)} slides overflow 1280x720 (fragments shown); "
                     "split them, fold or move long code to notes, size figures for the frame:\n  "
                     + "\n  ".join(f.describe() for f in bad))


def _md(src, slide="-", cid=None):
    c = nbformat.v4.new_markdown_cell(src)
    c.metadata["slideshow"] = {"slide_type": slide}
    if cid:
        c.id = cid
    return c


def test_the_measure_sees_known_overflow(context, tmp_path):
    bullets = "\n".join(f"- 줄 {i}: 셀 상태 $c_t$가 흐르는 컨베이어 벨트" for i in range(40))
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        _md("# 맞는 슬라이드\n\n짧은 문장 하나.", "slide", "fits"),
        _md("## 넘치는 슬라이드\n\n" + bullets, "slide", "too-long"),
        _md("## 조각이 넘치게 하는 슬라이드\n\n" + "\n".join(f"- 첫 부분 {i}" for i in range(8)), "slide", "frag-head"),
        _md("\n".join(f"- 나중에 나타나는 줄 {i}" for i in range(20)), "fragment", "frag-tail"),
        _md("## 거의 꽉 찬 슬라이드\n\n" + "\n".join(f"- 줄 {i}" for i in range(9)), "slide", "nearly-full"),
    ]
    src = tmp_path / "fit_probe.ipynb"
    nbformat.write(nb, src)
    decks = slide_fit.build_decks([src], tmp_path / "out")
    fits = {f.cell: f for f in slide_fit.measure_deck(context, decks["fit_probe"], "fit_probe")}
    assert list(fits) == ["fits", "too-long", "frag-head", "nearly-full"]
    assert not fits["fits"].overflows and fits["fits"].ratio < 0.5
    assert fits["too-long"].overflows and fits["too-long"].ratio > 1.5, fits["too-long"]
    assert fits["too-long"].heading == "넘치는 슬라이드"
    assert fits["frag-head"].overflows, "content revealed by a fragment must count"
    assert not fits["nearly-full"].overflows and 0.4 < fits["nearly-full"].ratio <= 1.0, fits["nearly-full"]
    assert "too-long" in fits["too-long"].describe() and "1." in fits["too-long"].describe()
