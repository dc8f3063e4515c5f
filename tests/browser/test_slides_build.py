"""The slides build without a browser: every lesson builds, decks are self-contained, rules hold.

Runs in the ordinary test pass (no Chromium needed). The first build on a machine fetches the
pinned JavaScript packages from PyPI and npm into ``build/slide-assets/``; later builds are
offline, which ``test_cached_build_needs_no_registry`` checks.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import time

import nbformat
import pytest

from browser_support import FIXTURES, REPO_ROOT
from course_tools import _slides_assets as assets
from course_tools import slides
from course_tools._slides_notebook import SlideCodePreprocessor, count_slides, notebook_title

LESSONS = sorted((REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
FIXTURE_NOTEBOOKS = sorted(FIXTURES.glob("*.ipynb"))
REQUIRED_ASSETS = [
    "reveal.js/dist/reveal.js", "reveal.js/dist/reveal.css", "reveal.js/dist/theme/white.css",
    "reveal.js/plugin/notes/notes.js", "components/require.js", "components/jquery.min.js",
    "mathjax/MathJax.js", "mathjax/config/TeX-AMS-MML_HTMLorMML-full.js", "mathjax/extensions/Safe.js",
    "mathjax/fonts/HTML-CSS/STIX-Web/woff/STIXMathJax_Main-Regular.woff",
    "html-manager/embed-amd.js",
]


@pytest.fixture(scope="module")
def all_decks(tmp_path_factory):
    src = tmp_path_factory.mktemp("nb")
    out = tmp_path_factory.mktemp("decks")
    copies = []
    for nb in LESSONS + FIXTURE_NOTEBOOKS:  # snapshots: lessons may be edited meanwhile
        shutil.copy2(nb, src / nb.name)
        copies.append(src / nb.name)
    t0 = time.monotonic()
    assert slides.main([*map(str, copies), "--out", str(out), "--execute", "never", "--quiet"]) == 0
    print(f"\nbuilt {len(copies)} decks in {time.monotonic() - t0:.1f} s")
    return out, copies


def test_every_deck_is_built_and_self_contained(all_decks):
    out, copies = all_decks
    for rel in REQUIRED_ASSETS:
        assert (out / "_assets" / rel).is_file(), f"missing asset {rel}"
    manifest = {d["file"]: d for d in json.loads((out / "decks.json").read_text(encoding="utf-8"))["decks"]}
    for nb_path in copies:
        nb = nbformat.read(nb_path, as_version=4)
        deck = out / f"{nb_path.stem}.slides.html"
        html = deck.read_text(encoding="utf-8")
        assert slides.network_loads(html) == [], f"{deck.name} loads from the network"
        assert manifest[deck.name]["slides"] == count_slides(nb)
        assert manifest[deck.name]["title"] == notebook_title(nb, nb_path.stem)
        # every script and stylesheet the deck references exists next to it
        for ref in re.findall(r"""<(?:script|link)\b[^>]*?\b(?:src|href)="([^"#]+)\"""", html):
            target = out / ref.split("?")[0]
            assert target.is_file(), f"{deck.name} references missing {ref}"
        assert html.count('<aside class="notes">') == sum(
            c.metadata.get("slideshow", {}).get("slide_type") == "notes" for c in nb.cells)
        text = _visible_text(html)
        for cell in nb.cells:  # a cell tagged slides-hide-input shows its output but not its code
            if cell.cell_type == "code" and "slides-hide-input" in cell.metadata.get("tags", []):
                code = " ".join(cell.source.split())
                assert code not in text, f"{deck.name} shows hidden code {code[:60]!r}"
    index = (out / "index.html").read_text(encoding="utf-8")
    for entry in manifest.values():
        assert f'href="{entry["file"]}"' in index
        assert entry["title"] in index


def test_cached_build_needs_no_registry(all_decks, tmp_path, monkeypatch):
    def no_download(asset, dest):
        raise AssertionError(f"a cached build tried to download {asset.spec}")

    monkeypatch.setattr(assets, "_download", no_download)
    monkeypatch.setenv("PATH", "")  # no pip subprocess, no npm either
    t0 = time.monotonic()
    code = slides.main([str(FIXTURES / "equation_rnn.ipynb"), "--out", str(tmp_path), "--quiet"])
    assert code == 0
    assert (tmp_path / "_assets" / "mathjax" / "MathJax.js").is_file()
    print(f"cached build of one deck: {time.monotonic() - t0:.1f} s")


def test_theme_that_loads_web_fonts_is_refused(tmp_path, capsys):
    code = slides.main([str(FIXTURES / "equation_rnn.ipynb"), "--out", str(tmp_path), "--theme", "simple"])
    assert code == 2
    assert "offline" in capsys.readouterr().err


def _visible_text(page: str) -> str:
    """The deck's text with tags removed and white space folded (code is split into spans)."""
    import html as html_lib

    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", "", page)).split())


def _cell(kind, source, slide_type="-", **meta):
    make = nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell
    cell = make(source, metadata={"slideshow": {"slide_type": slide_type}, **meta})
    return cell


def test_fold_and_hide_rules():
    pre = SlideCodePreprocessor()
    png = nbformat.v4.new_output("display_data", data={"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"})
    cells = {
        "short": _cell("code", "x = 1\nprint(x)"),
        "long": _cell("code", "\n".join(f"a{i} = {i}" for i in range(11))),
        "figure": _cell("code", "\n".join(f"b{i} = {i}" for i in range(5))),
        "solution": _cell("code", "def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION"),
        "hidden": _cell("code", "secret()", tags=["slides-hide-input"]),
        "lab-collapsed": _cell("code", "secret()", jupyter={"source_hidden": True}),
        "shown": _cell("code", "\n".join(f"c{i} = {i}" for i in range(20)), tags=["slides-show-input"]),
        "tagged": _cell("code", "y = 2", tags=["slides-collapse-input"]),
    }
    cells["figure"].outputs = [png]
    for cell in cells.values():
        pre.preprocess_cell(cell, {}, 0)
    fold = {k: c.metadata.get("course_slides", {}).get("fold_input") for k, c in cells.items()}
    assert fold == {"short": None, "long": "코드 보기 (11줄)", "figure": "코드 보기 (5줄)",
                    "solution": "정답 코드 보기 (4줄)", "hidden": None, "lab-collapsed": None,
                    "shown": None, "tagged": "코드 보기 (1줄)"}
    # nbconvert's templates read metadata.transient.remove_source (not a cell attribute)
    assert cells["hidden"].metadata["transient"] == {"remove_source": True}
    assert cells["lab-collapsed"].metadata["transient"] == {"remove_source": True}
    assert "transient" not in cells["short"].metadata


def test_markdown_links_and_local_images(tmp_path):
    (tmp_path / "figs").mkdir()
    (tmp_path / "figs" / "cell.png").write_bytes(b"\x89PNG\r\n\x1a\nfake")
    cell = _cell("markdown", "[다음](06_input_gate.ipynb) · [앞](./04_sigmoid_tanh_gates.ipynb#요약) · "
                             "[논문](https://example.org/x.ipynb) · ![셀](figs/cell.png) · "
                             '<img src="figs/cell.png" width="100"> · ![없음](figs/missing.png)')
    SlideCodePreprocessor().preprocess_cell(cell, {"metadata": {"path": str(tmp_path)}}, 0)
    src = cell.source
    assert "](06_input_gate.slides.html)" in src
    assert "](04_sigmoid_tanh_gates.slides.html)" in src
    assert "](https://example.org/x.ipynb)" in src  # other sites untouched
    uri = "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\nfake").decode()
    assert src.count(uri) == 2
    assert "](figs/missing.png)" in src


def test_count_slides_and_title():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        _cell("markdown", "note first", "notes"),
        _cell("code", "import x", "skip"),
        _cell("markdown", "# **망각** 게이트 `f`", "-"),  # first visible cell: opens slide 1
        _cell("markdown", "a", "fragment"),
        _cell("markdown", "b", "subslide"),
        _cell("markdown", "c", "notes"),
        _cell("markdown", "d", "slide"),
        _cell("code", "e", "skip"),
    ]
    assert count_slides(nb) == 3
    assert notebook_title(nb, "fallback") == "망각 게이트 f"
    nb.cells = [_cell("markdown", "no heading here")]
    assert notebook_title(nb, "fallback") == "fallback"


def test_missing_widget_state_is_filled_by_executing(tmp_path):
    """A notebook saved without widget state (JupyterLab's default) is run in memory first."""
    nb = nbformat.read(FIXTURES / "widget_forget_gate.ipynb", as_version=4)
    del nb.metadata["widgets"]
    src = tmp_path / "no_state.ipynb"
    nbformat.write(nb, src)
    before = src.read_bytes()
    out = tmp_path / "out"
    assert slides.main([str(src), "--out", str(out), "--quiet", "--timeout", "120"]) == 0
    html = (out / "no_state.slides.html").read_text(encoding="utf-8")
    state = re.search(r'<script type="application/vnd.jupyter.widget-state\+json">(.*?)</script>',
                      html, re.DOTALL)
    assert state, "the deck has no widget state"
    models = json.loads(state.group(1))["state"]
    assert any(m["model_name"] == "FloatSliderModel" for m in models.values())
    assert src.read_bytes() == before, "the notebook file was modified"
