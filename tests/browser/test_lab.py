"""JupyterLab in a real browser: lesson 05's forget-gate slider redraws its figure; Hangul renders.

A JupyterLab server is started on 127.0.0.1 (free port, empty token) over a *copy* of the
notebooks folder, with its own settings (no news, no update check, no autosave), so the lessons in
the repository are never modified. The test opens ``notebooks/05_forget_gate.ipynb`` -- or, until
that lesson exists, the fixture ``fixtures/widget_forget_gate.ipynb`` -- runs all cells, moves
the first slider on the page with the keyboard and checks that the PNG in the widget's
``<img>`` changed (its bytes, not only its blob URL).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from course_tools._slides_notebook import notebook_title

from browser_support import FIXTURES, REPO_ROOT, has_hangul, korean_fonts, platform_fonts

pytestmark = pytest.mark.browser

LESSON = REPO_ROOT / "notebooks" / "05_forget_gate.ipynb"
FIXTURE = FIXTURES / "widget_forget_gate.ipynb"
SLIDER = ".widget-slider, .jupyter-widgets .slider"
START_TIMEOUT = 90  # s, server start
RUN_TIMEOUT = 150  # s, "run all cells" (a lesson takes <= 60 s on 2 cores)

LAB_OVERRIDES = {
    "@jupyterlab/apputils-extension:notification": {
        "fetchNews": "false", "checkForUpdates": False, "doNotDisturbMode": True},
    "@jupyterlab/docmanager-extension:plugin": {"autosave": False},
    # RISE's default theme ("simple") loads web fonts from the internet; "white" is offline.
    "jupyterlab-rise:plugin": {"theme": "white"},
}


def target_notebook() -> tuple[Path, str, str]:
    """(notebook, description, test id): lesson 05 once it exists, else the fixture.

    ``COURSE_LAB_NOTEBOOK=path/to.ipynb`` picks another notebook with a slider and an Image.
    """
    chosen = os.environ.get("COURSE_LAB_NOTEBOOK")
    if chosen:
        path = Path(chosen).resolve()
        return path, f"{path.name} (COURSE_LAB_NOTEBOOK)", f"chosen-{path.stem}"
    if LESSON.is_file():
        return LESSON, "lesson notebooks/05_forget_gate.ipynb", "lesson-05_forget_gate"
    return (FIXTURE, "fixture tests/browser/fixtures/widget_forget_gate.ipynb "
            "(notebooks/05_forget_gate.ipynb does not exist yet)", "fixture-lesson-05-missing")


TARGET = target_notebook()


@pytest.fixture(scope="module", params=[TARGET[:2]], ids=[TARGET[2]])
def target(request):
    """The notebook under test; its test id says whether it is lesson 05 or the fixture."""
    return request.param


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, timeout: float = 2.0):
    with urllib.request.urlopen(url, timeout=timeout) as r:  # only ever 127.0.0.1
        return json.loads(r.read().decode() or "null")


class Lab:
    def __init__(self, base: str, root: Path, notebook: str, proc: subprocess.Popen, log: Path):
        self.base, self.root, self.notebook, self.proc, self.log = base, root, notebook, proc, log

    def log_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""


@pytest.fixture(scope="module")
def lab(tmp_path_factory, browser, target):
    """A JupyterLab on 127.0.0.1 serving a throw-away copy of the notebooks."""
    source, label = target
    print(f"\nJupyterLab test runs against the {label}")
    work = tmp_path_factory.mktemp("lab")
    root = work / "root"
    notebooks = root / "notebooks"
    if source.parent == LESSON.parent:  # a lesson: copy its folder, relative paths keep working
        shutil.copytree(LESSON.parent, notebooks,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    else:
        notebooks.mkdir(parents=True)
        shutil.copy2(source, notebooks / source.name)
    for name in ("data", "lstmlib"):  # relative paths from the notebooks keep working
        if (REPO_ROOT / name).exists():
            (root / name).symlink_to(REPO_ROOT / name)
    settings = work / "app-settings"
    settings.mkdir()
    (settings / "overrides.json").write_text(json.dumps(LAB_OVERRIDES), encoding="utf-8")

    env = dict(os.environ)
    env.update({
        "JUPYTERLAB_SETTINGS_DIR": str(work / "user-settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(work / "workspaces"),
        "JUPYTER_CONFIG_DIR": str(work / "config"),
        "JUPYTER_RUNTIME_DIR": str(work / "runtime"),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")])),
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",
    })
    port = _free_port()
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
           "--ServerApp.port_retries=0", "--ServerApp.token=", "--ServerApp.password=",
           "--allow-root", f"--ServerApp.root_dir={root}",
           f"--LabApp.app_settings_dir={settings}", "--LabApp.expose_app_in_browser=True",
           "--LabApp.news_url="]
    log = work / "lab.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT)
    server = Lab(f"http://127.0.0.1:{port}", root, f"notebooks/{source.name}", proc, log)
    t0 = time.monotonic()
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if proc.poll() is not None:
                pytest.fail(f"JupyterLab exited with {proc.returncode}:\n{server.log_tail()}")
            try:
                _get(f"{server.base}/api/status")
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError, ValueError):
                if time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not answer within {START_TIMEOUT} s:\n{server.log_tail()}")
                time.sleep(0.3)
        print(f"JupyterLab server up in {time.monotonic() - t0:.1f} s")
        yield server
    finally:
        try:  # stop kernels cleanly, then the server
            for kernel in _get(f"{server.base}/api/kernels") or []:
                req = urllib.request.Request(f"{server.base}/api/kernels/{kernel['id']}", method="DELETE")
                urllib.request.urlopen(req, timeout=5).close()
        except Exception:
            pass
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture(scope="module")
def lab_page(lab, browser):
    """The notebook opened in JupyterLab with every cell run; console errors collected."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="ko-KR")
    page = context.new_page()
    page.set_default_timeout(30_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    page.on("console", lambda msg: errors.append(f"console.{msg.type}: {msg.text}")
            if msg.type == "error" else None)
    t0 = time.monotonic()
    page.goto(f"{lab.base}/lab/tree/{lab.notebook}?reset")
    page.wait_for_function(
        """() => {
            const app = window.jupyterapp;
            const w = app && app.shell.currentWidget;
            const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
            return !!(k && k.status === 'idle' && w.content && w.content.widgets.length);
        }""", timeout=START_TIMEOUT * 1000)
    print(f"JupyterLab page and kernel ready in {time.monotonic() - t0:.1f} s")
    t0 = time.monotonic()
    # Clear the stored outputs first so that "executed" below means executed in this session.
    page.evaluate("""async () => {
        await window.jupyterapp.commands.execute('notebook:clear-all-cell-outputs');
        await window.jupyterapp.commands.execute('notebook:run-all-cells');
    }""")
    # Done when the kernel is idle, no cell shows [*], and every code cell ran or one failed
    # (after an error "run all" stops).
    page.wait_for_function(
        """() => {
            const w = window.jupyterapp.shell.currentWidget;
            const code = w.content.widgets.filter(c => c.model.type === 'code');
            const busy = code.some(c => c.promptNode && c.promptNode.textContent.includes('*'));
            const failed = code.some(c => {
                const o = c.model.outputs;
                for (let j = 0; j < o.length; j++) if (o.get(j).type === 'error') return true;
                return false;
            });
            const ran = code.every(c => c.model.executionCount !== null);
            return !busy && (ran || failed) && w.sessionContext.session.kernel.status === 'idle';
        }""", timeout=RUN_TIMEOUT * 1000, polling=250)
    print(f"all cells ran in {time.monotonic() - t0:.1f} s")
    failures = page.evaluate(
        """() => {
            const w = window.jupyterapp.shell.currentWidget;
            const out = [];
            w.content.widgets.forEach((c, i) => {
                if (c.model.type !== 'code') return;
                const o = c.model.outputs;
                for (let j = 0; j < o.length; j++) {
                    const item = o.get(j).toJSON();
                    if (item.output_type === 'error') out.push(`cell ${i}: ${item.ename}: ${item.evalue}`);
                }
            });
            return out;
        }""")
    assert not failures, f"cells raised errors in JupyterLab: {failures}"
    yield page, errors
    context.close()


def _image_digest(page, img) -> tuple[str, str]:
    """(src, SHA-256 of the image bytes) of an <img> whose src is a blob: or data: URL."""
    src = img.get_attribute("src") or ""
    data = page.evaluate(
        """async (src) => {
            const buf = new Uint8Array(await (await fetch(src)).arrayBuffer());
            let s = ''; for (const b of buf) s += String.fromCharCode(b);
            return btoa(s);
        }""", src)
    return src, hashlib.sha256(data.encode()).hexdigest()


def test_slider_redraws_figure(lab_page, artifacts):
    page, errors = lab_page
    slider = page.locator(SLIDER).first
    slider.scroll_into_view_if_needed()
    assert slider.is_visible(), "no ipywidgets slider on the page after running all cells"
    # The figure: the first widget <img> in the slider's own cell (else the first on the page).
    img_handle = slider.evaluate_handle(
        """(el) => {
            const cell = el.closest('.jp-Cell');
            return (cell && cell.querySelector('img.widget-image, .jupyter-widgets img'))
                   || document.querySelector('img.widget-image, .jupyter-widgets img');
        }""")
    img = img_handle.as_element()
    assert img is not None, "no ipywidgets.Image next to the slider"
    page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=img)
    src_before, digest_before = _image_digest(page, img)
    readout = slider.locator(".widget-readout").first
    value_before = readout.inner_text() if readout.count() else None

    handle = slider.locator(".noUi-handle, [role=slider]").first
    now = float(handle.get_attribute("aria-valuenow") or 0)
    top = float(handle.get_attribute("aria-valuemax") or 1)
    low = float(handle.get_attribute("aria-valuemin") or 0)
    key = "ArrowLeft" if now - low > top - now else "ArrowRight"
    handle.focus()
    for _ in range(3):
        page.keyboard.press(key)
        time.sleep(0.1)
    handle.blur()  # a continuous_update=False slider may sync on change/blur

    page.wait_for_function("([img, before]) => img.getAttribute('src') !== before",
                           arg=[img, src_before], timeout=30_000)
    page.wait_for_function(
        "() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status === 'idle'")
    page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=img)
    src_after, digest_after = _image_digest(page, img)
    shot = artifacts / "lab_forget_gate_slider.png"
    slider.evaluate("(el) => el.closest('.jp-Cell').scrollIntoView({block: 'start'})")
    page.screenshot(path=str(shot))
    print(f"screenshot: {shot}")
    if errors:
        print("browser console errors (not failures):\n  " + "\n  ".join(errors[:20]))

    assert src_after != src_before
    assert digest_after != digest_before, "the slider changed the <img> src but not the picture"
    if value_before is not None:
        assert readout.inner_text() != value_before, "the slider's value did not change"


def test_hangul_renders_in_markdown(lab_page, lab):
    page, _ = lab_page
    source = lab.root / lab.notebook
    import nbformat

    title = notebook_title(nbformat.read(source, as_version=4), fallback="")
    assert has_hangul(title), f"the notebook's first heading has no Hangul: {title!r}"
    # Back to the top: JupyterLab renders only the cells near the viewport.
    page.evaluate("""async () => {
        const nb = window.jupyterapp.shell.currentWidget.content;
        nb.activeCellIndex = 0;
        await nb.scrollToItem(0, 'start');
    }""")
    heading = page.locator(".jp-RenderedMarkdown :is(h1, h2)").first
    page.wait_for_function("([el, t]) => el.innerText.includes(t)",
                           arg=[heading.element_handle(), title], timeout=10_000)
    assert title in heading.inner_text().replace("¶", "").strip()
    fonts = platform_fonts(page, ".jp-RenderedMarkdown h1, .jp-RenderedMarkdown h2")
    assert korean_fonts(fonts), (
        f"Hangul in the heading is drawn with {[f['familyName'] for f in fonts]}, none of them a "
        "Korean font: install one (apt-get install fonts-nanum)")
    # Every glyph came from some font; with no Korean font the Hangul would show as boxes.
    box = heading.bounding_box()
    assert box and box["width"] > 20 * len(title.replace(" ", "")) * 0.3


def test_rise_extension_loaded(lab_page):
    """jupyterlab-rise is installed and active: its commands exist and its preview opens."""
    page, _ = lab_page
    info = page.evaluate(
        """() => {
            const app = window.jupyterapp;
            return {
                plugin: app.hasPlugin('jupyterlab-rise:plugin'),
                active: app.isPluginActivated('jupyterlab-rise:plugin'),
                preview: app.commands.hasCommand('RISE:preview'),
                slideshow: app.commands.hasCommand('RISE:slideshow'),
            };
        }""")
    assert info == {"plugin": True, "active": True, "preview": True, "slideshow": True}, (
        f"jupyterlab-rise is not (fully) loaded in JupyterLab: {info}; pip install jupyterlab-rise")


@pytest.fixture(scope="module")
def rise_frame(lab_page, lab):
    """RISE's live slideshow of the (saved) notebook, opened with View -> Render as slideshow."""
    page, _ = lab_page
    outside: list[str] = []
    page.context.on("request", lambda r: outside.append(r.url)
                    if not r.url.startswith((lab.base, "data:", "blob:", "about:")) else None)
    page.evaluate("""async () => {
        const panel = window.jupyterapp.shell.currentWidget;
        panel.content.activeCellIndex = 0;  // RISE starts at the active cell
        await window.jupyterapp.commands.execute('docmanager:save');
        await window.jupyterapp.commands.execute('RISE:preview');
    }""")
    frame = page.wait_for_selector("iframe[src*='/rise/']", timeout=30_000).content_frame()
    frame.wait_for_selector(".reveal .slides section.present", state="attached", timeout=60_000)
    return frame, outside


def test_rise_preview_renders_slides(rise_frame, lab, artifacts):
    import nbformat

    from course_tools._slides_notebook import count_slides

    frame, outside = rise_frame
    nb = nbformat.read(lab.root / lab.notebook, as_version=4)
    # RISE keeps Reveal private: count the slides in the DOM (a stack's vertical slides, else 1).
    shown = frame.evaluate("""() => [...document.querySelectorAll('.reveal .slides > section')]
        .map(s => Math.max(1, s.querySelectorAll(':scope > section').length))
        .reduce((a, b) => a + b, 0)""")
    assert shown == count_slides(nb)
    title = notebook_title(nb, fallback="")
    first = frame.evaluate("() => document.querySelector('.reveal .slides section').textContent")
    assert title in first
    frame.page.screenshot(path=str(artifacts / "lab_rise_preview.png"))
    assert not outside, f"RISE (theme white) loaded resources from the internet: {outside}"


@pytest.mark.xfail(strict=True, reason=(  # strict: an upstream fix turns this red, so the note gets removed
    "known upstream bug jupyterlab-contrib/rise#119: with ipywidgets 8 the widget manager does "
    "not load inside RISE's slideshow (\"Shared module @jupyterlab/console doesn't exist\"), so "
    "live widgets show as text; present widget slides from JupyterLab or the static deck"))
def test_rise_shows_live_widgets(rise_frame):
    frame, _ = rise_frame
    frame.wait_for_selector(".widget-slider, .jupyter-widgets .slider", state="attached", timeout=2_000)
