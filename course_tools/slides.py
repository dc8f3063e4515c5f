"""Build the lecture decks: every lesson notebook as an offline reveal.js slideshow.

    python -m course_tools.slides                 # all lessons -> slides/ (+ slides/index.html)
    python -m course_tools.slides notebooks/05_forget_gate.ipynb --out /tmp/deck
    python -m course_tools.slides --help

Each cell's ``metadata.slideshow.slide_type`` (slide / subslide / fragment / skip / notes / -)
decides the slide structure; long code input is folded (see ``_slides_notebook``). The decks load
nothing from the network: reveal.js, require.js, jQuery, MathJax and the widget renderer are
copied into ``<out>/_assets`` from pinned registry packages, cached in ``build/slide-assets/``
(see ``_slides_assets``). The output folder can be zipped and opened anywhere with a browser.

Widgets show the state saved in the notebook. A notebook whose widget views have no saved state
(for example saved from JupyterLab, which does not store it by default) is executed first with
nbclient (``--execute auto``, the default), in memory: the notebook file is never changed.
"""

from __future__ import annotations

import argparse
import html
import json
import re
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from . import _slides_assets as assets
from ._slides_notebook import SlideCodePreprocessor, count_slides, missing_widget_state, notebook_title

REPO_ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = Path(__file__).resolve().parent / "slide_templates"
TEMPLATE_NAME = "course_reveal"
LESSON_GLOB = "[0-9][0-9]_*.ipynb"
MANIFEST = "decks.json"
DEFAULT_WIDTH, DEFAULT_HEIGHT = 1280, 720


@dataclass
class Deck:
    file: str  #: deck file name inside the output folder
    source: str  #: notebook path (relative to the repository when inside it)
    title: str
    slides: int


def lesson_notebooks(notebooks_dir: Path) -> list[Path]:
    """``notebooks/NN_*.ipynb`` in lesson order (exercises/ and other folders excluded)."""
    return sorted(p for p in notebooks_dir.glob(LESSON_GLOB) if p.is_file())


def offline_themes(reveal_dir: Path) -> list[str]:
    """reveal.js themes whose CSS loads nothing from the network (several import web fonts)."""
    themes = []
    for css in sorted((reveal_dir / "dist" / "theme").glob("*.css")):
        if not re.search(r"url\(\s*['\"]?(https?:)?//", css.read_text(encoding="utf-8")):
            themes.append(css.stem)
    return themes


def _display_path(path: Path) -> str:
    try:
        return path.resolve().relative_to(REPO_ROOT).as_posix()
    except ValueError:
        return str(path)


_REMOTE = r"""(?:https?:)?//[^"'\s)]+"""
_LOADS = (
    # elements that fetch their src/href when the page is shown (plain <a href> links do not)
    re.compile(r"""<(?:script|img|iframe|source|video|audio|embed|input|track)\b[^>]*?\bsrc\s*=\s*["']?(""" + _REMOTE + ")", re.I),
    re.compile(r"""<link\b[^>]*?\bhref\s*=\s*["']?(""" + _REMOTE + ")", re.I),
    re.compile(r"""<object\b[^>]*?\bdata\s*=\s*["']?(""" + _REMOTE + ")", re.I),
    re.compile(r"""@import\s+(?:url\()?["']?(""" + _REMOTE + ")", re.I),
    re.compile(r"""url\(\s*["']?(""" + _REMOTE + ")", re.I),
    re.compile(r"""\bimport\b[^;'"]*?\bfrom\s*["'](""" + _REMOTE + ")", re.I),
    re.compile(r"""\bimport\s*\(\s*["'](""" + _REMOTE + ")", re.I),
)


def network_loads(html_text: str) -> list[str]:
    """URLs on other hosts that the page would fetch by itself when opened (links excluded)."""
    found = set()
    for pattern in _LOADS:
        found.update(pattern.findall(html_text))
    return sorted(found)


def make_exporter(args):
    from nbconvert import SlidesExporter
    from traitlets.config import Config

    urls = assets.URLS
    c = Config()
    c.SlidesExporter.extra_template_basedirs = [str(TEMPLATES)]
    c.SlidesExporter.template_name = TEMPLATE_NAME
    c.SlidesExporter.reveal_url_prefix = urls["reveal_url_prefix"]
    c.SlidesExporter.reveal_theme = args.theme
    c.SlidesExporter.reveal_transition = args.transition
    c.SlidesExporter.reveal_number = "c/t"
    c.SlidesExporter.reveal_width = str(args.width)
    c.SlidesExporter.reveal_height = str(args.height)
    c.SlidesExporter.require_js_url = urls["require_js_url"]
    c.SlidesExporter.jquery_url = urls["jquery_url"]
    c.SlidesExporter.mathjax_url = urls["mathjax_url"]
    c.SlidesExporter.widget_renderer_url = urls["widget_renderer_url"]
    c.SlidesExporter.language_code = "ko"
    c.SlidesExporter.exclude_input_prompt = True
    c.SlidesExporter.exclude_output_prompt = True
    c.SlideCodePreprocessor.max_lines = args.max_code_lines
    c.SlideCodePreprocessor.figure_max_lines = args.max_figure_code_lines
    exporter = SlidesExporter(config=c)
    exporter.register_preprocessor(SlideCodePreprocessor(config=c), enabled=True)
    return exporter


def execute_in_memory(nb, path: Path, timeout: int) -> None:
    """Run the notebook with nbclient in its own folder, storing the widget state (file untouched)."""
    from nbclient import NotebookClient

    kernel = nb.metadata.get("kernelspec", {}).get("name", "python3")
    NotebookClient(nb, timeout=timeout, kernel_name=kernel, store_widget_state=True,
                   resources={"metadata": {"path": str(path.parent)}}).execute()


def build_deck(path: Path, out_dir: Path, exporter, args, log, font_url: str | None) -> Deck:
    import nbformat

    nb = nbformat.read(path, as_version=4)
    title = notebook_title(nb, fallback=path.stem)
    missing = missing_widget_state(nb)
    if args.execute == "always" or (args.execute == "auto" and missing):
        why = "--execute always" if args.execute == "always" else f"{len(missing)} widget view(s) without saved state"
        log(f"  executing {path.name} ({why}) ...")
        execute_in_memory(nb, path, args.timeout)
    elif missing:
        log(f"  warning: {path.name}: {len(missing)} widget view(s) have no saved state and will "
            "render empty (use --execute auto)")
    nb.metadata["title"] = title
    resources = {"metadata": {"name": path.stem, "path": str(path.parent)},
                 "course_slides": {"korean_font_url": font_url,
                                   "widgets_dir": assets.URLS["widget_renderer_url"].rsplit("/", 1)[0]}}
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    leaks = network_loads(body)
    if leaks:
        raise RuntimeError(f"{path.name}: the deck would load {leaks} from the network")
    deck_name = path.stem + ".slides.html"
    (out_dir / deck_name).write_text(body, encoding="utf-8")
    return Deck(file=deck_name, source=_display_path(path), title=title, slides=count_slides(nb))


INDEX_TEMPLATE = """<!DOCTYPE html>
<html lang="ko">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
@font-face {{
  font-family: "CourseKoreanFont";
  src: {font_src};
}}
body {{
  font-family: "NanumGothic", "CourseKoreanFont", "Noto Sans CJK KR", "Apple SD Gothic Neo",
               "Malgun Gothic", sans-serif;
  max-width: 52rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.6; color: #222;
}}
h1 {{ font-size: 1.8rem; }}
ol {{ padding-left: 0; list-style: none; }}
li {{ margin: 0.5rem 0; display: flex; gap: 0.8rem; align-items: baseline; }}
li .num {{ font-variant-numeric: tabular-nums; color: #888; min-width: 2ch; }}
li a {{ font-size: 1.15rem; }}
li .meta {{ color: #888; font-size: 0.85rem; }}
footer {{ margin-top: 2rem; color: #666; font-size: 0.9rem; }}
kbd {{ border: 1px solid #bbb; border-radius: 3px; padding: 0 0.3em; font-size: 0.85em; }}
</style>
</head>
<body>
<h1>{title}</h1>
<ol class="decks">
{items}
</ol>
<footer>
<p>발표 중 <kbd>S</kbd>: 발표자 노트(speaker notes), <kbd>F</kbd>: 전체 화면,
<kbd>Esc</kbd>/<kbd>O</kbd>: 슬라이드 개요. 인터넷 연결 없이 열립니다.</p>
</footer>
</body>
</html>
"""


def write_index(out_dir: Path, decks: list[Deck], title: str, font_url: str | None) -> Path:
    items = []
    for deck in decks:
        # a lesson number in front, unless the title already starts with it ("05. 망각 게이트")
        num = deck.file[:2] if deck.file[:2].isdigit() and not deck.title.startswith(deck.file[:2]) else ""
        number = f'<span class="num">{html.escape(num)}</span>' if num else ""
        items.append(
            f'<li>{number}<a href="{html.escape(deck.file, quote=True)}">{html.escape(deck.title)}</a>'
            f'<span class="meta">슬라이드 {deck.slides}장 · {html.escape(deck.source)}</span></li>')
    font_src = 'local("NanumGothic"), local("나눔고딕")'
    if font_url:
        font_src += f', url("{html.escape(font_url, quote=True)}") format("truetype")'
    page = INDEX_TEMPLATE.format(title=html.escape(title), font_src=font_src, items="\n".join(items))
    path = out_dir / "index.html"
    path.write_text(page, encoding="utf-8")
    return path


def _read_manifest(out_dir: Path) -> dict[str, Deck]:
    try:
        data = json.loads((out_dir / MANIFEST).read_text(encoding="utf-8"))
        return {d["file"]: Deck(**d) for d in data["decks"]}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="python -m course_tools.slides",
        description="Build offline reveal.js decks (and index.html) from the lesson notebooks.")
    p.add_argument("notebooks", nargs="*", type=Path,
                   help="notebooks to build (default: every notebooks/NN_*.ipynb)")
    p.add_argument("--out", type=Path, default=REPO_ROOT / "slides",
                   help="output folder (default: slides/ at the repository root)")
    p.add_argument("--notebooks-dir", type=Path, default=REPO_ROOT / "notebooks",
                   help="where the lessons are when no notebook is named (default: notebooks/)")
    p.add_argument("--assets-cache", type=Path, default=REPO_ROOT / "build" / "slide-assets",
                   help="cache of the downloaded JavaScript (default: build/slide-assets/)")
    p.add_argument("--max-code-lines", type=int, default=10,
                   help="fold the input of code cells longer than this (default: 10)")
    p.add_argument("--max-figure-code-lines", type=int, default=4,
                   help="fold the input of cells that show a figure or widget when longer than "
                        "this (default: 4)")
    p.add_argument("--execute", choices=("auto", "always", "never"), default="auto",
                   help="run notebooks before export: auto = only those whose widget views lack "
                        "saved state (default)")
    p.add_argument("--timeout", type=int, default=180, help="per-cell timeout when executing (s)")
    p.add_argument("--theme", default="white", help="reveal.js theme (offline ones only; default white)")
    p.add_argument("--transition", default="slide", help="reveal.js transition (default slide)")
    p.add_argument("--width", type=int, default=DEFAULT_WIDTH, help="slide width in px (default 1280)")
    p.add_argument("--height", type=int, default=DEFAULT_HEIGHT, help="slide height in px (default 720)")
    p.add_argument("--title", default="LSTM 강의 슬라이드", help="heading of index.html")
    p.add_argument("--quiet", action="store_true", help="print only errors and the summary")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    log = (lambda *a, **k: None) if args.quiet else (lambda *a, **k: print(*a, **k, flush=True))
    started = time.perf_counter()

    explicit = bool(args.notebooks)
    notebooks = [p for p in args.notebooks] if explicit else lesson_notebooks(args.notebooks_dir)
    missing = [p for p in notebooks if not p.is_file()]
    if missing:
        print(f"error: no such notebook: {', '.join(map(str, missing))}", file=sys.stderr)
        return 2
    if not notebooks:
        print(f"error: no lesson notebooks ({LESSON_GLOB}) in {args.notebooks_dir}", file=sys.stderr)
        return 2

    out_dir = args.out
    out_dir.mkdir(parents=True, exist_ok=True)
    log(f"assets: {_display_path(args.assets_cache)} -> {_display_path(out_dir / assets.ASSETS_DIRNAME)}")
    try:
        asset_dir, font_url = assets.install_assets(args.assets_cache, out_dir, log=log)
    except assets.AssetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if font_url is None:
        log("  warning: lstmlib ships no .ttf font; Hangul in the decks relies on the viewer's fonts")
    themes = offline_themes(asset_dir / "reveal.js")
    if args.theme not in themes:
        print(f"error: theme {args.theme!r} is not one that works offline; choose from {themes}",
              file=sys.stderr)
        return 2

    exporter = make_exporter(args)
    decks = _read_manifest(out_dir) if explicit else {}
    for path in notebooks:
        t0 = time.perf_counter()
        deck = build_deck(path, out_dir, exporter, args, log, font_url)
        decks[deck.file] = deck
        log(f"  {deck.file}: {deck.title} ({deck.slides} slides, {time.perf_counter() - t0:.1f} s)")

    if not explicit:  # a full build: drop decks of lessons that no longer exist
        for stale in out_dir.glob("*.slides.html"):
            if stale.name not in decks:
                stale.unlink()
                log(f"  removed stale {stale.name}")
    ordered = [decks[k] for k in sorted(decks) if (out_dir / k).is_file()]
    (out_dir / MANIFEST).write_text(
        json.dumps({"decks": [asdict(d) for d in ordered]}, ensure_ascii=False, indent=1) + "\n",
        encoding="utf-8")
    index = write_index(out_dir, ordered, args.title, font_url)
    print(f"built {len(notebooks)} deck(s) in {time.perf_counter() - started:.1f} s; "
          f"open {index.resolve().as_uri()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
