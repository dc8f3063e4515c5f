"""JupyterLab in a real browser: ``lstmlib.train``'s progress bar moves live and ends finished.

The bar is an ipywidgets ``IntProgress`` whose saved text is fixed before training (so strict
nbval passes and GitHub shows no "0%"); this checks that it still works as a live bar in
JupyterLab: while a slow training cell runs, the bar's label shows a step strictly between 0
and the total, and at the end the bar is full and the printed line says training finished.
Reuses the JupyterLab server fixtures of ``test_lab.py`` on a throw-away notebook.
"""

from __future__ import annotations

import re

import nbformat
import pytest

from test_lab import lab, lab_page  # noqa: F401  (fixtures reused with this module's target)

pytestmark = pytest.mark.browser

STEPS = 300
TRAIN_CELL = f"""\
import time
import numpy as np
from lstmlib import train

def slow_loss(p, batch):
    time.sleep(0.01)
    return 1.0, {{"w": np.ones(2)}}

history = train.train({{"w": np.zeros(2)}}, slow_loss, lambda s: None, n_steps={STEPS}, lr=0.01, desc="진행 막대")
"""


@pytest.fixture(scope="module")
def target(tmp_path_factory):
    folder = tmp_path_factory.mktemp("progress-nb")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# 진행 막대 확인"), nbformat.v4.new_code_cell(TRAIN_CELL)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = folder / "progress_bar.ipynb"
    nbformat.write(nb, path)
    return path, "a throw-away notebook that trains with lstmlib.train"


def test_progress_bar_is_live_and_ends_finished(lab_page):
    page, _ = lab_page  # all cells have run
    out = page.evaluate("""() => {
        const w = window.jupyterapp.shell.currentWidget;
        const cell = w.content.widgets.find(c => c.model.type === 'code');
        const o = cell.model.outputs; const items = [];
        for (let j = 0; j < o.length; j++) items.push(o.get(j).toJSON());
        const bar = cell.node.querySelector('.widget-hprogress .progress-bar');
        const labels = Array.from(cell.node.querySelectorAll('.widget-label')).map(e => e.textContent);
        return {items, labels, bar: bar ? {width: bar.style.width, cls: bar.className} : null};
    }""")
    texts = [i.get("text") or (i.get("data") or {}).get("text/plain", "") for i in out["items"]]
    assert any(f"진행 막대: 학습 {STEPS}/{STEPS}단계 완료" in t for t in texts), texts
    assert not any(re.search(r"\b0%", t) for t in texts), texts
    assert f"{STEPS}/{STEPS}" in out["labels"], out["labels"]
    assert out["bar"] is not None, "no progress widget rendered in JupyterLab"
    assert out["bar"]["width"] == "100%" and "progress-bar-success" in out["bar"]["cls"], out["bar"]


def test_progress_bar_moves_while_training(lab_page):
    """Run the training cell again and watch the label pass through an intermediate step."""
    page, _ = lab_page
    page.evaluate("""() => {  // not awaited: the label is watched while the cell runs
        const app = window.jupyterapp;
        app.commands.execute('notebook:clear-all-cell-outputs').then(() => app.commands.execute('notebook:run-all-cells'));
    }""")
    midway = page.wait_for_function(
        f"""() => {{ const labels = Array.from(document.querySelectorAll('.jp-Cell .widget-label'));
                    for (const l of labels) {{ const m = /^(\\d+)\\/{STEPS}$/.exec(l.textContent.trim());
                      if (m && +m[1] > 0 && +m[1] < {STEPS}) return l.textContent; }}
                    return false; }}""", timeout=60_000, polling=50)
    print(f"label while training: {midway.json_value()}")
    page.wait_for_function(
        f"() => Array.from(document.querySelectorAll('.jp-Cell .widget-label'))"
        f".some(l => l.textContent.trim() === '{STEPS}/{STEPS}')", timeout=60_000)
