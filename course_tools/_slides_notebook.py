"""What the slides build reads from a notebook and changes on the way to a deck.

Which cells are slides, subslides, fragments, speaker notes or skipped is decided by
``metadata.slideshow.slide_type`` alone. On top of that, :class:`SlideCodePreprocessor` decides
per code cell what the audience sees of the *input* (first rule that matches wins):

1. tag ``slides-hide-input``, or JupyterLab's "collapsed input" (``metadata.jupyter.source_hidden``):
   input removed, output shown;
2. tag ``slides-show-input``: input shown in full;
3. the source contains ``### BEGIN SOLUTION``: input folded as "정답 코드 보기 (N줄)";
4. tag ``slides-collapse-input``, more than ``max_lines`` lines (default 10), or a figure or
   widget output and more than ``figure_max_lines`` lines (default 4 -- on a slide the figure
   comes first): input folded as "코드 보기 (N줄)";
5. otherwise: input shown.

"Folded" is an HTML ``<details>`` element: the output stays on the slide and the presenter opens
the code with one click. In markdown cells, links to other lessons (``05_forget_gate.ipynb``)
are pointed at their decks (``05_forget_gate.slides.html``), and images stored as local files
next to the notebook are embedded, so the deck folder stands alone.
"""

from __future__ import annotations

import base64
import mimetypes
import re
from pathlib import Path

from nbconvert.preprocessors import Preprocessor
from traitlets import Integer, Unicode

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
FIGURE_MIMES = ("image/png", "image/jpeg", "image/svg+xml", WIDGET_VIEW)

HIDE_TAG = "slides-hide-input"
SHOW_TAG = "slides-show-input"
COLLAPSE_TAG = "slides-collapse-input"
SOLUTION_MARK = "### BEGIN SOLUTION"

_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.+?)\s*#*\s*$")
_HTML_HEADING = re.compile(r"<h([1-6])[^>]*>(.*?)</h\1>", re.IGNORECASE | re.DOTALL)
#: a relative link to a lesson notebook, in markdown ``](x.ipynb#a)`` or HTML ``href="x.ipynb"``
_LESSON_LINK = re.compile(r"""(\]\(|href=["'])(?:\./)?(\d\d_[\w.-]+?)\.ipynb(?:#[^)"'\s]*)?(?=[)"'\s])""")
_MD_IMAGE = re.compile(r"""(!\[[^\]]*\]\()([^)\s]+)((?:\s+["'][^)]*["'])?\))""")
_HTML_IMAGE = re.compile(r"""(<img\b[^>]*?\bsrc=["'])([^"']+)(["'])""", re.IGNORECASE)


def slide_type(cell) -> str:
    meta = cell.get("metadata", {}).get("slideshow", {})
    return meta.get("slide_type", "-") if isinstance(meta, dict) else "-"


def count_slides(nb) -> int:
    """How many slides reveal.js will show (``Reveal.getTotalSlides()``).

    nbconvert opens a slide at every ``slide`` and ``subslide`` cell and makes the first visible
    cell (not ``notes``/``skip``) a slide whatever its type; notes, skipped cells and fragments
    never start one.
    """
    starts = [slide_type(c) in ("slide", "subslide") for c in nb.cells]
    visible = [i for i, c in enumerate(nb.cells) if slide_type(c) not in ("notes", "skip")]
    if not visible:
        return 0
    return 1 + sum(starts[visible[0] + 1:])


def _strip_inline_markdown(text: str) -> str:
    text = re.sub(r"<[^>]+>", "", text)  # inline HTML such as <a id=...></a>
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)  # links and images -> their text
    text = re.sub(r"(\*\*|__|\*|_|`)(.+?)\1", r"\2", text)  # emphasis and code spans
    return " ".join(text.split())


def notebook_title(nb, fallback: str) -> str:
    """The text of the first markdown heading (``# 05. 망각 게이트`` -> ``05. 망각 게이트``)."""
    for cell in nb.cells:
        if cell.get("cell_type") != "markdown":
            continue
        in_fence = False
        for line in cell.get("source", "").splitlines():
            if line.lstrip().startswith(("```", "~~~")):
                in_fence = not in_fence
                continue
            match = None if in_fence else _HEADING.match(line)
            if match:
                title = _strip_inline_markdown(match.group(2))
                if title:
                    return title
        match = _HTML_HEADING.search(cell.get("source", ""))
        if match and _strip_inline_markdown(match.group(2)):
            return _strip_inline_markdown(match.group(2))
    return fallback


def widget_views(nb) -> list[str]:
    """Model ids of every widget view stored in the notebook's outputs."""
    ids = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            view = out.get("data", {}).get(WIDGET_VIEW)
            if isinstance(view, dict) and "model_id" in view:
                ids.append(view["model_id"])
    return ids


def missing_widget_state(nb) -> list[str]:
    """Widget views whose model is not in the saved widget state (they would render empty)."""
    state = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    return [mid for mid in widget_views(nb) if mid not in state]


def _shows_figure(cell) -> bool:
    return any(m in out.get("data", {}) for out in cell.get("outputs", []) for m in FIGURE_MIMES)


def _data_uri(path: Path) -> str | None:
    mime = mimetypes.guess_type(path.name)[0]
    if not mime or not mime.startswith("image/") or not path.is_file():
        return None
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


class SlideCodePreprocessor(Preprocessor):
    """Fold or hide code input on slides; make markdown links and images work in the deck."""

    max_lines = Integer(10, help="Fold the input of code cells longer than this many lines.").tag(config=True)
    figure_max_lines = Integer(
        4, help="Fold the input of cells showing a figure or widget when longer than this.").tag(config=True)
    notebook_dir = Unicode("", help="Folder of the notebook, for local images.").tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "markdown":
            cell.source = self._markdown(cell.source, resources)
        elif cell.cell_type == "code":
            self._code(cell)
        return cell, resources

    def _markdown(self, source: str, resources) -> str:
        source = _LESSON_LINK.sub(lambda m: f"{m.group(1)}{m.group(2)}.slides.html", source)
        folder = Path(self.notebook_dir or resources.get("metadata", {}).get("path") or ".")

        def embed(m):
            target = m.group(2)
            if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE) or target.startswith("#"):
                return m.group(0)  # a URL (the build's check reports http ones) or attachment
            uri = _data_uri((folder / target).resolve())
            return f"{m.group(1)}{uri}{m.group(3)}" if uri else m.group(0)

        return _HTML_IMAGE.sub(embed, _MD_IMAGE.sub(embed, source))

    def _code(self, cell) -> None:
        tags = set(cell.metadata.get("tags", []))
        source = cell.source.rstrip("\n")
        n_lines = len(source.splitlines())
        fold = None
        if HIDE_TAG in tags or cell.metadata.get("jupyter", {}).get("source_hidden"):
            cell.metadata["transient"] = {"remove_source": True}
        elif SHOW_TAG in tags or not source:
            pass
        elif SOLUTION_MARK in source:
            fold = f"정답 코드 보기 ({n_lines}줄)"
        elif (COLLAPSE_TAG in tags or n_lines > self.max_lines
              or (n_lines > self.figure_max_lines and _shows_figure(cell))):
            fold = f"코드 보기 ({n_lines}줄)"
        if fold:
            cell.metadata["course_slides"] = {"fold_input": fold}
