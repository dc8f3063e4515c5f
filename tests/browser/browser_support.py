"""Helpers shared by the browser tests (constants, Chromium discovery, font checks)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
ARTIFACTS = REPO_ROOT / "test-artifacts"

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
INSTALL_HINT = ("install Debian's Chromium and Korean fonts: `apt-get install chromium fonts-nanum` "
                "(never `playwright install`), or set COURSE_CHROMIUM to a Chromium binary")

#: Font families that carry Hangul, as Chromium reports the font it used for a text node.
KOREAN_FONT_WORDS = ("nanum", "나눔", "cjk kr", "cjk", "noto sans kr", "malgun", "apple sd gothic",
                     "gulim", "dotum", "batang", "baekmuk", "un dotum", "unfonts", "korean",
                     "coursekoreanfont", "lstmlibgothic")


def chromium_path() -> str | None:
    explicit = os.environ.get("COURSE_CHROMIUM")
    if explicit:
        return explicit if Path(explicit).is_file() else None
    for candidate in ("/usr/bin/chromium", "/usr/bin/chromium-browser"):
        if Path(candidate).is_file():
            return candidate
    return shutil.which("chromium") or shutil.which("chromium-browser")


def platform_fonts(page, selector: str) -> list[dict]:
    """The fonts Chromium actually used to draw the text inside the first ``selector`` match.

    Uses the DevTools protocol (``CSS.getPlatformFontsForNode``): each entry has ``familyName``,
    ``isCustomFont`` (a web font) and ``glyphCount``. A Hangul text drawn as tofu boxes shows no
    Korean family here.
    """
    cdp = page.context.new_cdp_session(page)
    try:
        cdp.send("DOM.enable")
        cdp.send("CSS.enable")
        root = cdp.send("DOM.getDocument", {"depth": 0})["root"]["nodeId"]
        node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
        if not node:
            return []
        return cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    finally:
        cdp.detach()


def korean_fonts(fonts: list[dict]) -> list[dict]:
    return [f for f in fonts
            if any(w in f.get("familyName", "").lower() or w in f.get("postScriptName", "").lower()
                   for w in KOREAN_FONT_WORDS)]


def has_hangul(text: str) -> bool:
    return any("\uac00" <= ch <= "\ud7a3" for ch in text)
