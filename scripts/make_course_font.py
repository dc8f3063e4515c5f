"""Build lstmlib/fonts/LstmlibGothic.ttf from NanumGothic.ttf (SIL OFL 1.1).

Why: NanumGothic has no U+2212 MINUS SIGN, and matplotlib's mathtext always draws "-" as U+2212
(e.g. the tick labels 10⁻² of every log axis), which prints a missing-glyph warning per figure.
This script makes a Modified Version whose cmap also maps U+2212 (and U+2011, a non-breaking
hyphen) to the glyph of the ASCII hyphen-minus. Nothing else changes. The OFL reserves the name
"NanumGothic" for the original, so the family is renamed "LstmlibGothic".

    python scripts/make_course_font.py [path/to/NanumGothic.ttf]

The source font comes from Debian's fonts-nanum (default path below) or any NanumGothic.ttf
(e.g. inside the koreanize-matplotlib wheel on PyPI). Output is deterministic (no timestamps).
"""

import sys
from pathlib import Path

from fontTools.ttLib import TTFont

SRC = Path(sys.argv[1] if len(sys.argv) > 1 else "/usr/share/fonts/truetype/nanum/NanumGothic.ttf")
OUT = Path(__file__).resolve().parents[1] / "lstmlib" / "fonts" / "LstmlibGothic.ttf"
FAMILY = "LstmlibGothic"


def main() -> None:
    font = TTFont(SRC, recalcTimestamp=False)
    for table in font["cmap"].tables:
        if table.isUnicode() and 0x2D in table.cmap:
            hyphen = table.cmap[0x2D]
            table.cmap.setdefault(0x2212, hyphen)
            table.cmap.setdefault(0x2011, hyphen)
    names = font["name"]
    for rec in names.names:
        if rec.nameID in (1, 4, 16):  # family, full name, typographic family
            rec.string = FAMILY
        elif rec.nameID == 6:  # PostScript name
            rec.string = FAMILY + "-Regular"
        elif rec.nameID == 3:  # unique id
            rec.string = FAMILY + ";modified from NanumGothic (U+2212 added to cmap)"
    font.save(OUT)
    print(f"wrote {OUT.name} from {SRC.name}")


if __name__ == "__main__":
    main()
