"""Does every slide fit its 1280x720 frame? Measured in headless Chromium, fragments shown.

    .venv/bin/python -m course_tools.slide_fit notebooks/05_forget_gate.ipynb
    .venv/bin/python -m course_tools.slide_fit                 # every lesson
    .venv/bin/python -m course_tools.slide_fit --all-slides --screenshots /tmp/fit notebooks/00_*.ipynb

The decks are built (``course_tools.slides``, stored outputs, nothing executed) into a temporary
folder and opened one after another in ONE headless Chromium (Debian's ``chromium`` driven by
Playwright; ``playwright install`` is never used). On every slide, shown with all its fragments
(``Reveal.slide(h, v, Infinity)``) and after MathJax has typeset it, the leaf ``<section>`` is
measured:

* ``ratio`` = content height / ``Reveal.getConfig().height``, where the content height is the
  bottom of the lowest leaf element drawn on the slide (text, image, equation, widget part),
  relative to the slide's top, in slide px (divided by ``Reveal.getScale()``). Slides are
  top-aligned (``center: false``). A slide overflows when its content goes more than 1 px below
  the 720 px frame: that part is cut off on a projector (the deck gives such a slide a scroll
  bar, which a lecturer cannot use while presenting). ``section.scrollHeight`` would also count
  the bottom padding and margins of the last box, flagging slides that visibly fit;
* ``wide`` = content width / ``Reveal.getConfig().width`` -- content wider than the frame;
* ``scrolled`` -- code or output blocks inside the slide that need their own scroll bar
  (a ``pre`` or output area whose content is taller or wider than its box, e.g. a code line
  longer than the slide is wide): reported, not counted as overflow.

Prints one line per overflowing slide: its number in the deck (the ``c/t`` slide number shown
in the corner), the id of its first cell, its first heading and the ratio. Exit status 1 when
any slide overflows, 2 on usage errors, 3 when Chromium or Playwright is missing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
WIDTH, HEIGHT = 1280, 720
TOLERANCE = 1.0  # px: sub-pixel rounding

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]
INSTALL_HINT = ("install Debian's Chromium and Korean fonts: `apt-get install chromium fonts-nanum` "
                "(never `playwright install`), or set COURSE_CHROMIUM to a Chromium binary")


class BrowserMissing(RuntimeError):
    """Playwright or Chromium is not available (the message says how to install it)."""


@dataclass
class SlideFit:
    deck: str  #: notebook stem
    number: int  #: 1-based position in the deck (the slide number reveal.js shows)
    h: int
    v: int
    cell: str  #: id of the first notebook cell on the slide ('' if none)
    heading: str  #: first heading on the slide ('' if none)
    height: float  #: content height in slide px (bottom of the lowest drawn element)
    width: float  #: content width in px (scrollWidth)
    ratio: float  #: height / frame height
    wide: float  #: width / frame width
    scrolled: list = field(default_factory=list)  #: ids of cells whose code/output blocks scroll inside

    @property
    def overflows(self) -> bool:
        return self.height > HEIGHT + TOLERANCE or self.width > WIDTH + TOLERANCE

    def describe(self) -> str:
        parts = [f"slide {self.number:3d} ({self.h}.{self.v})", f"cell {self.cell or '?'}",
                 f"height {self.ratio:.2f}x ({self.height:.0f} of {HEIGHT} px)"]
        if self.wide > 1 + TOLERANCE / WIDTH:
            parts.append(f"width {self.wide:.2f}x")
        if self.heading:
            parts.append(repr(self.heading[:60]))
        return "  ".join(parts)


def chromium_path() -> str | None:
    explicit = os.environ.get("COURSE_CHROMIUM")
    if explicit:
        return explicit if Path(explicit).is_file() else None
    for candidate in ("/usr/bin/chromium", "/usr/bin/chromium-browser"):
        if Path(candidate).is_file():
            return candidate
    return shutil.which("chromium") or shutil.which("chromium-browser")


def build_decks(notebooks: list[Path], out: Path) -> dict[str, Path]:
    """Build the decks (stored outputs, no execution) of snapshots of ``notebooks`` into ``out``."""
    from . import slides

    src = out / "_notebooks"
    src.mkdir(parents=True, exist_ok=True)
    copies = []
    for nb in notebooks:  # snapshots: a lesson may be edited while we measure
        shutil.copy2(nb, src / nb.name)
        copies.append(src / nb.name)
    code = slides.main([*map(str, copies), "--out", str(out), "--execute", "never", "--quiet"])
    if code != 0:
        raise RuntimeError(f"the slides build failed (exit {code})")
    return {p.stem: out / f"{p.stem}.slides.html" for p in copies}


_SETTLE_JS = r"""
async () => {
  // Wait until MathJax is idle and has typeset every equation on the current slide at its
  // displayed size: the deck re-renders a slide's math when it is shown (a slide typeset while
  // hidden has zero-width equations), and that happens a moment after Reveal.slide() returns.
  const frame = () => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  const idle = () => new Promise(r => (window.MathJax && MathJax.Hub && MathJax.Hub.Queue) ? MathJax.Hub.Queue(r) : r());
  const pause = ms => new Promise(r => setTimeout(r, ms));
  const s = Reveal.getCurrentSlide();
  let last = -1;
  for (let i = 0; i < 60; i++) {
    await frame();
    await idle();
    await frame();
    // every equation (a math/tex script) outside speaker notes and folded code has a rendered,
    // visible MathJax element just before it
    const pending = Array.from(s.querySelectorAll('script[type^="math/tex"]'))
      .filter(sc => !sc.closest('aside.notes, details:not([open])'))
      .filter(sc => {
        const out = sc.previousElementSibling;
        return !(out && (out.classList.contains('MathJax') || out.classList.contains('MathJax_Display'))
                 && out.getBoundingClientRect().width > 0);
      }).length;
    const h = s.scrollHeight;
    if (!pending && h === last) return i;
    last = h;
    await pause(50);
  }
  return -1;
}
"""

_MEASURE_JS = r"""
async ([width, height, settleSrc]) => {
  const settle = eval(settleSrc);
  Reveal.configure({transition: 'none', backgroundTransition: 'none', fragments: true});
  const slides = Reveal.getSlides();
  const out = [];
  for (let k = 0; k < slides.length; k++) {
    const s = slides[k];
    const ix = Reveal.getIndices(s);
    Reveal.slide(ix.h, ix.v || 0, Infinity);
    s.querySelectorAll('.fragment').forEach(f => f.classList.add('visible'));
    await settle();
    // The bottom of what is drawn on the slide, in slide px: the lowest leaf element (text,
    // image, equation, widget part). Boxes' bottom padding and margins (scrollHeight counts them)
    // and the empty collapser bars JupyterLab's HTML puts beside each cell are not content.
    const top = s.getBoundingClientRect().top, left = s.getBoundingClientRect().left;
    const scale = Reveal.getScale() || 1;
    let bottom = 0, right = 0;
    const clipCache = new Map();
    s.querySelectorAll('*').forEach(el => {
      if (el.children.length && !['IMG', 'svg', 'SVG', 'CANVAS', 'PRE', 'VIDEO'].includes(el.tagName)) return;
      if (el.closest('aside.notes, .jp-Collapser, script, style') || el.closest('details:not([open]) > :not(summary)')) return;
      const r = el.getBoundingClientRect();
      if (!r.width || !r.height) return;
      // what a box with its own scroll bar (a long code line in a <pre>) hides is not on the slide
      let b = r.bottom, rt = r.right;
      for (let a = el.parentElement; a && a !== s; a = a.parentElement) {
        if (!clipCache.has(a)) {
          const cs = getComputedStyle(a);
          clipCache.set(a, cs.overflowX !== 'visible' || cs.overflowY !== 'visible' ? a.getBoundingClientRect() : null);
        }
        const c = clipCache.get(a);
        if (c) { b = Math.min(b, c.bottom); rt = Math.min(rt, c.right); }
      }
      bottom = Math.max(bottom, b);
      right = Math.max(right, rt);
    });
    // a tall slide has a fixed height and scrolls (course-scroll); the rects are still those of
    // the unscrolled content (the deck never scrolls it by itself)
    const h = Math.max(0, (bottom - top) / scale + s.scrollTop);
    const w = Math.max(0, (right - left) / scale);
    const firstCell = s.querySelector('[id^="cell-id="]');
    const heading = s.querySelector('h1, h2, h3, h4');
    const scrolled = [];
    s.querySelectorAll('.jp-OutputArea-output, .jp-InputArea-editor, pre').forEach(el => {
      if (!el.getClientRects().length) return;  // e.g. code folded into a closed <details>
      const cs = getComputedStyle(el);
      if ((el.scrollHeight > el.clientHeight + 16 && cs.overflowY !== 'visible') ||
          (el.scrollWidth > el.clientWidth + 16 && cs.overflowX !== 'visible')) {
        const c = el.closest('[id^="cell-id="]');
        const id = c ? c.id.slice(8) : '?';
        if (!scrolled.includes(id)) scrolled.push(id);
      }
    });
    out.push({number: k + 1, h: ix.h, v: ix.v || 0,
              cell: firstCell ? firstCell.id.slice(8) : '',
              heading: heading ? heading.textContent.replace(/\u00b6/g, '').trim().replace(/\s+/g, ' ') : '',
              height: h, width: w, ratio: h / height, wide: w / width, scrolled});
  }
  return out;
}
"""


def open_deck(context, deck: Path, timeout_ms: int = 60_000):
    page = context.new_page()
    page.goto(deck.as_uri())
    page.wait_for_function("() => window.Reveal && Reveal.isReady()", timeout=timeout_ms)
    page.wait_for_function(
        "() => !window.MathJax || (MathJax.Hub && MathJax.Hub.queue.pending === 0 "
        "&& MathJax.Hub.queue.running === 0)", timeout=timeout_ms)
    return page


def measure_deck(context, deck: Path, stem: str | None = None, screenshots: Path | None = None,
                 all_slides: bool = False) -> list[SlideFit]:
    """Measure every slide of one deck in an open Playwright browser context (1280x720 viewport)."""
    page = open_deck(context, deck)
    try:
        cfg = page.evaluate("() => [Reveal.getConfig().width, Reveal.getConfig().height]")
        if [int(cfg[0]), int(cfg[1])] != [WIDTH, HEIGHT]:
            raise RuntimeError(f"{deck.name}: deck is {cfg[0]}x{cfg[1]}, expected {WIDTH}x{HEIGHT}")
        rows = page.evaluate(_MEASURE_JS, [WIDTH, HEIGHT, _SETTLE_JS])
        fits = [SlideFit(deck=stem or deck.name.split(".")[0], **r) for r in rows]
        if screenshots is not None:
            screenshots.mkdir(parents=True, exist_ok=True)
            for f in fits:
                if all_slides or f.overflows:
                    page.evaluate(f"() => Reveal.slide({f.h}, {f.v}, Infinity)")
                    page.evaluate(_SETTLE_JS)
                    page.screenshot(path=str(screenshots / f"{f.deck}_slide{f.number:03d}.png"))
        return fits
    finally:
        page.close()


def launch(playwright):
    executable = chromium_path()
    if executable is None:
        raise BrowserMissing(f"Chromium not found: {INSTALL_HINT}")
    return playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)


def measure(notebooks: list[Path], screenshots: Path | None = None, all_slides: bool = False,
            workdir: Path | None = None, log=print) -> dict[str, list[SlideFit]]:
    """Build and measure the decks of ``notebooks`` in one browser session."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        raise BrowserMissing(f'Playwright for Python is not installed (pip install -e ".[test]"); then {INSTALL_HINT}') from exc
    if chromium_path() is None:  # before spending time on the build
        raise BrowserMissing(f"Chromium not found: {INSTALL_HINT}")
    tmp = None
    if workdir is None:
        tmp = tempfile.TemporaryDirectory(prefix="slide-fit-")
        workdir = Path(tmp.name)
    try:
        t0 = time.monotonic()
        decks = build_decks(notebooks, workdir)
        log(f"built {len(decks)} deck(s) in {time.monotonic() - t0:.1f} s")
        results = {}
        with sync_playwright() as pw:
            browser = launch(pw)
            try:
                context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT})
                for stem, deck in decks.items():
                    t1 = time.monotonic()
                    results[stem] = measure_deck(context, deck, stem, screenshots, all_slides)
                    log(f"measured {stem}: {len(results[stem])} slides in {time.monotonic() - t1:.1f} s")
                context.close()
            finally:
                browser.close()
        return results
    finally:
        if tmp is not None:
            tmp.cleanup()


def report(results: dict[str, list[SlideFit]], all_slides: bool = False) -> str:
    lines = []
    total = over = 0
    for stem, fits in results.items():
        bad = [f for f in fits if f.overflows]
        total += len(fits)
        over += len(bad)
        lines.append(f"{stem}: {len(bad)} of {len(fits)} slides overflow 1280x720")
        for f in (fits if all_slides else bad):
            mark = "OVER " if f.overflows else "     "
            lines.append(f"  {mark}{f.describe()}")
        scrolled = sorted({c for f in fits for c in f.scrolled})
        if scrolled:
            lines.append(f"  (code/output that scrolls inside its box, not counted: {', '.join(scrolled)})")
    lines.append(f"total: {over} of {total} slides overflow")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m course_tools.slide_fit", description=__doc__.split("\n\n")[0])
    ap.add_argument("notebooks", nargs="*", type=Path, help="lesson notebooks (default: every notebooks/NN_*.ipynb)")
    ap.add_argument("--all-slides", action="store_true", help="list every slide, not only overflowing ones")
    ap.add_argument("--screenshots", type=Path, help="save a PNG of each overflowing slide (all with --all-slides) here")
    ap.add_argument("--json", type=Path, help="write every measurement to this JSON file")
    args = ap.parse_args(argv)
    notebooks = args.notebooks or sorted((REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    missing = [str(p) for p in notebooks if not p.is_file()]
    if missing:
        print(f"error: no such notebook: {', '.join(missing)}", file=sys.stderr)
        return 2
    try:
        results = measure(notebooks, args.screenshots, args.all_slides, log=lambda m: print(m, file=sys.stderr))
    except BrowserMissing as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    print(report(results, args.all_slides))
    if args.json:
        args.json.write_text(json.dumps({k: [asdict(f) for f in v] for k, v in results.items()},
                                        ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return 1 if any(f.overflows for fits in results.values() for f in fits) else 0


if __name__ == "__main__":
    sys.exit(main())
