"""Shared set-up of the browser tests: headless Debian Chromium driven by Playwright for Python.

Run them (from the repository root):

    python -m pytest tests/browser -v

They need Playwright's Python package (``pip install -e ".[test]"``) and a Chromium with Korean
fonts (Debian/Ubuntu: ``apt-get install chromium fonts-nanum``). Playwright's own browser
download (``playwright install``) is never used. Without a browser the tests are skipped with
that message. ``COURSE_CHROMIUM=/path/to/chromium`` picks another Chromium binary.
Screenshots are written to ``test-artifacts/`` at the repository root.
"""

from __future__ import annotations

import pytest

from pathlib import Path

from browser_support import ARTIFACTS, CHROMIUM_ARGS, INSTALL_HINT, chromium_path


@pytest.fixture(scope="session")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip('Playwright for Python is not installed: pip install -e ".[test]" '
                    f"(or pip install playwright); then {INSTALL_HINT}")
    executable = chromium_path()
    if executable is None:
        pytest.skip(f"Chromium not found: {INSTALL_HINT}")
    with sync_playwright() as pw:
        try:
            browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        except Exception as exc:  # a broken or incompatible Chromium
            pytest.skip(f"Chromium at {executable} did not start ({exc}); {INSTALL_HINT}")
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
