"""lstmlib.hangul: syllables <-> conjoining jamo by Unicode arithmetic."""

import unicodedata
from pathlib import Path

import pytest

from lstmlib import data, hangul

ROOT = Path(__file__).resolve().parents[1]


def test_split_and_join_every_syllable():
    for code in range(0xAC00, 0xD7A4):
        ch = chr(code)
        l, v, t = hangul.split_syllable(ch)
        assert 0 <= l < 19 and 0 <= v < 21 and 0 <= t < 28
        assert hangul.join_syllable(l, v, t) == ch


def test_decompose_agrees_with_unicode_nfd():
    text = "가각힣 닭 값 않았다 뷁, 별 헤는 밤\n"
    assert hangul.decompose(text) == unicodedata.normalize("NFD", text)
    assert hangul.compose(hangul.decompose(text)) == unicodedata.normalize("NFC", hangul.decompose(text)) == text


def test_known_decompositions():
    assert hangul.decompose("가") == "\u1100\u1161"
    assert hangul.decompose("각") == "\u1100\u1161\u11a8"
    assert hangul.decompose("힣") == "\u1112\u1175\u11c2"
    assert hangul.split_syllable("닭") == (3, 0, 9)  # ᄃ ᅡ ᆰ
    assert [hangul.is_initial(c) for c in hangul.decompose("닭")] == [True, False, False]
    assert [hangul.is_final(c) for c in hangul.decompose("닭")] == [False, False, True]


def test_round_trip_on_the_corpus():
    text = data.load_text(ROOT / "data" / "korean_poems.txt")
    jamo = hangul.decompose(text)
    assert hangul.compose(jamo) == text
    rep = hangul.syllable_report(jamo)
    assert rep.n_stray == 0 and rep.valid_share == 1.0
    assert rep.n_syllables == sum(hangul.is_syllable(c) for c in text)
    assert len(set(jamo)) < len(set(text)) // 5  # about 70 symbols instead of 524
    assert all(hangul.is_jamo(c) or not hangul.is_syllable(c) for c in jamo)


def test_sequences_that_do_not_compose():
    L, V, T = "\u1100", "\u1161", "\u11a8"  # ᄀ ᅡ ᆨ
    cases = {
        L: ("ㄱ", 0, 1),  # an initial without a vowel
        V: ("ㅏ", 0, 1),  # a vowel without an initial
        T: ("ㄱ", 0, 1),  # a final alone
        L + L + V: ("ㄱ가", 1, 1),
        L + V + T + T: ("각ㄱ", 1, 1),  # one final per syllable
        L + V + V: ("가ㅏ", 1, 1),
        L + " " + V: ("ㄱ ㅏ", 0, 2),
        L + V + L + V + T: ("가각", 2, 0),
        "abc": ("abc", 0, 0),
        "": ("", 0, 0),
    }
    for jamo, (text, n_syl, n_stray) in cases.items():
        rep = hangul.syllable_report(jamo)
        assert (rep.text, rep.n_syllables, rep.n_stray) == (text, n_syl, n_stray), jamo
        assert hangul.compose(jamo) == text
    assert hangul.syllable_report(L + V + L).valid_share == 0.5
    assert hangul.syllable_report("").valid_share == 1.0


def test_stray_finals_map_to_their_own_letters():
    finals = [chr(c) for c in range(0x11A8, 0x11C3)]
    shown = hangul.compose("".join(finals))
    assert len(shown) == 27 and all("\u3131" <= ch <= "\u314e" for ch in shown)
    assert shown[8] == "ㄺ" and shown[-1] == "ㅎ"
    assert hangul.compose("\u1112") == "ㅎ" and hangul.compose("\u1175") == "ㅣ"


def test_bad_input():
    with pytest.raises(TypeError, match="text must be a str"):
        hangul.decompose(["가"])
    with pytest.raises(TypeError, match="jamo must be a str"):
        hangul.compose(None)
    with pytest.raises(ValueError, match="one Hangul syllable"):
        hangul.split_syllable("a")
    with pytest.raises(ValueError, match="one Hangul syllable"):
        hangul.split_syllable("가나")
    with pytest.raises(ValueError, match=r"v must be an int in \[0, 20\]"):
        hangul.join_syllable(0, 21)
