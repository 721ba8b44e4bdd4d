"""Korean particles after words we insert into sentences, and initial-consonant (초성) search.

A name or label put into Korean text needs the particle its last syllable takes (김하늘이 but 이하나가,
김하늘을 but 이하나를): "이(가)" printed for both reads as an unfinished form. The choice (with
digits read in Korean, 7 → 칠, and capital acronyms, SMS → 에스) is the `hangeul` package's; this module is
the one place that calls it, so every message picks particles the same way.

초성 search: 'ㄱㅎㄴ' finds 김하늘 (a name typed on a phone keypad without the vowels)."""

from __future__ import annotations

import hangeul

# what may close a word we insert without being read: quotes and brackets around a label, spaces
_UNREAD_TAIL = "'\"’”」』)] \t"
# the compatibility jamo that begin a syllable (ㄱ … ㅎ, doubled ones too): a query made only of these is
# an initial-consonant query
INITIALS = frozenset(hangeul.CHOSOENG)


def particle(word: str, pair: str) -> str:
    """The particle of `pair` ("이/가", "을/를", "은/는", "와/과", "으로/로", …) that follows `word`."""
    core = word.rstrip(_UNREAD_TAIL) or word
    return hangeul.get_josa(core, pair) if core else ""


def with_particle(word: str, pair: str) -> str:
    """`word` followed by its particle: with_particle("김하늘", "이/가") == "김하늘이"."""
    return f"{word}{particle(word, pair)}"


def quoted_with_particle(word: str, pair: str) -> str:
    """`word` in quotes, then its particle: quoted_with_particle("확정", "으로/로") == "'확정'으로"."""
    return f"'{word}'{particle(word, pair)}"


def initials(text: str) -> str:
    """Each Hangul syllable replaced by its initial consonant ('김하늘' → 'ㄱㅎㄴ'); other characters kept."""
    return hangeul.get_chosung(text)


def is_initials_query(query: str) -> bool:
    """A query of two or more initial consonants and nothing else (spaces aside), e.g. 'ㄱㅎㄴ'."""
    letters = query.replace(" ", "")
    return len(letters) >= 2 and all(c in INITIALS for c in letters)


def matches_initials(text: str, query: str) -> bool:
    """Whether an initial-consonant query ('ㄱㅎㄴ', 'ㅎㄴ') occurs in `text`'s initials (김하늘 → yes)."""
    return is_initials_query(query) and query.replace(" ", "") in initials(text).replace(" ", "")
