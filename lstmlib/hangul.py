"""Hangul syllables <-> jamo by Unicode arithmetic (no dependency).

A precomposed syllable (U+AC00 '가' … U+D7A3 '힣', 11,172 of them) is built from an initial
consonant (초성, 19), a vowel (중성, 21) and an optional final consonant (종성, 27 + none)::

    code = 0xAC00 + (초성 × 21 + 중성) × 28 + 종성      (종성 = 0: no final consonant)

:func:`decompose` writes each syllable as two or three *conjoining* jamo — 초성 U+1100…U+1112,
중성 U+1161…U+1175, 종성 U+11A8…U+11C2 — so an initial ᄀ (U+1100) and a final ᆨ (U+11A8) are
different symbols, and a syllable always starts with a 초성: the stream splits back into
syllables without a separator. Every other character (space, newline, punctuation) is kept.

:func:`compose` is the inverse for any sequence, including ones a language model generates:
a 초성 followed by a 중성 (and optionally a 종성) becomes one syllable; a jamo that cannot be
part of a syllable (a 초성 without a vowel, a vowel or final without a 초성) is written as the
corresponding *compatibility* jamo (ㄱ, ㅏ …, U+3131…U+3163), which fonts show on their own.
:func:`syllable_report` counts how many syllables composed and how many jamo did not.
"""

from __future__ import annotations

from typing import NamedTuple

S_BASE, L_BASE, V_BASE, T_BASE = 0xAC00, 0x1100, 0x1161, 0x11A7
L_COUNT, V_COUNT, T_COUNT = 19, 21, 28  # T_COUNT includes "no final consonant"
N_SYLLABLES = L_COUNT * V_COUNT * T_COUNT  # 11,172

# compatibility jamo for display of jamo that do not compose
_COMPAT_L = "ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ"
_COMPAT_V = "ㅏㅐㅑㅒㅓㅔㅕㅖㅗㅘㅙㅚㅛㅜㅝㅞㅟㅠㅡㅢㅣ"
_COMPAT_T = "ㄱㄲㄳㄴㄵㄶㄷㄹㄺㄻㄼㄽㄾㄿㅀㅁㅂㅄㅅㅆㅇㅈㅊㅋㅌㅍㅎ"
assert len(_COMPAT_L) == L_COUNT and len(_COMPAT_V) == V_COUNT and len(_COMPAT_T) == T_COUNT - 1


def _check_str(name: str, s) -> str:
    if not isinstance(s, str):
        raise TypeError(f"{name} must be a str, got {type(s).__name__}")
    return s


def is_syllable(ch: str) -> bool:
    """True for a precomposed Hangul syllable (U+AC00…U+D7A3)."""
    return len(ch) == 1 and S_BASE <= ord(ch) < S_BASE + N_SYLLABLES


def is_initial(ch: str) -> bool:
    """True for a conjoining 초성 (U+1100…U+1112)."""
    return len(ch) == 1 and L_BASE <= ord(ch) < L_BASE + L_COUNT


def is_vowel(ch: str) -> bool:
    """True for a conjoining 중성 (U+1161…U+1175)."""
    return len(ch) == 1 and V_BASE <= ord(ch) < V_BASE + V_COUNT


def is_final(ch: str) -> bool:
    """True for a conjoining 종성 (U+11A8…U+11C2)."""
    return len(ch) == 1 and T_BASE < ord(ch) < T_BASE + T_COUNT


def is_jamo(ch: str) -> bool:
    """True for any of the conjoining jamo :func:`decompose` produces."""
    return is_initial(ch) or is_vowel(ch) or is_final(ch)


def split_syllable(ch: str) -> tuple[int, int, int]:
    """``(초성, 중성, 종성)`` indices of one syllable; 종성 = 0 means no final consonant."""
    if not is_syllable(ch):
        raise ValueError(f"ch must be one Hangul syllable (U+AC00..U+D7A3), got {ch!r}")
    s = ord(ch) - S_BASE
    return s // (V_COUNT * T_COUNT), (s % (V_COUNT * T_COUNT)) // T_COUNT, s % T_COUNT


def join_syllable(l: int, v: int, t: int = 0) -> str:
    """The syllable with 초성 index ``l`` (0..18), 중성 ``v`` (0..20) and 종성 ``t`` (0..27)."""
    for name, x, n in (("l", l, L_COUNT), ("v", v, V_COUNT), ("t", t, T_COUNT)):
        if isinstance(x, bool) or not isinstance(x, int) or not 0 <= x < n:
            raise ValueError(f"{name} must be an int in [0, {n - 1}], got {x!r}")
    return chr(S_BASE + (l * V_COUNT + v) * T_COUNT + t)


def decompose(text: str) -> str:
    """Each Hangul syllable of ``text`` -> its 2 or 3 conjoining jamo; other characters unchanged."""
    _check_str("text", text)
    out = []
    for ch in text:
        if is_syllable(ch):
            l, v, t = split_syllable(ch)
            out.append(chr(L_BASE + l) + chr(V_BASE + v) + (chr(T_BASE + t) if t else ""))
        else:
            out.append(ch)
    return "".join(out)


def _compat(ch: str) -> str:
    if is_initial(ch):
        return _COMPAT_L[ord(ch) - L_BASE]
    if is_vowel(ch):
        return _COMPAT_V[ord(ch) - V_BASE]
    return _COMPAT_T[ord(ch) - T_BASE - 1]


class SyllableReport(NamedTuple):
    """What :func:`syllable_report` counts in a jamo sequence."""

    text: str  # the composed text (see :func:`compose`)
    n_syllables: int  # syllables that composed (초성 + 중성 [+ 종성])
    n_stray: int  # jamo that could not be part of a syllable

    @property
    def valid_share(self) -> float:
        """``n_syllables / (n_syllables + n_stray)``: 1.0 when every jamo found its syllable."""
        total = self.n_syllables + self.n_stray
        return self.n_syllables / total if total else 1.0


def syllable_report(jamo: str) -> SyllableReport:
    """Compose ``jamo`` and count the syllables that composed and the stray jamo.

    Reading left to right: a 초성 followed by a 중성 starts a syllable, and a 종성 right after
    them closes it; anything else that is a jamo is stray and is shown as a compatibility jamo
    (e.g. ``ᄀ`` alone -> ``ㄱ``). Characters that are not jamo are copied.
    """
    _check_str("jamo", jamo)
    out, n_syl, n_stray, i, n = [], 0, 0, 0, len(jamo)
    while i < n:
        ch = jamo[i]
        if is_initial(ch) and i + 1 < n and is_vowel(jamo[i + 1]):
            l, v, t = ord(ch) - L_BASE, ord(jamo[i + 1]) - V_BASE, 0
            i += 2
            if i < n and is_final(jamo[i]):
                t = ord(jamo[i]) - T_BASE
                i += 1
            out.append(join_syllable(l, v, t))
            n_syl += 1
        elif is_jamo(ch):
            out.append(_compat(ch))
            n_stray += 1
            i += 1
        else:
            out.append(ch)
            i += 1
    return SyllableReport("".join(out), n_syl, n_stray)


def compose(jamo: str) -> str:
    """Inverse of :func:`decompose`; jamo that do not compose are shown as compatibility jamo."""
    return syllable_report(jamo).text
