"""JSON Schema patterns for what the API accepts, so that its OpenAPI document says what it does: a value a
pattern admits passes the rule, a value it refuses is refused (issue 18, defect 10: Schemathesis found
schema-valid requests the API turned down). The text patterns say what `hotline.core.text` checks — its
controls and invisible letters are read off its own functions, character by character; its letters, digits
and combining marks are Unicode's general categories L, N and M, which is how it defines them. The phone
pattern is libphonenumber's Korean mobile ranges as people write them; the date patterns are the years the
API books.

Patterns use what Python's `re` (through Schemathesis), Rust's `regex` (jsonschema-rs) and ECMA-262 in
Unicode mode read alike: `\\uXXXX` escapes, `[0-9]` (never `\\d`, which some read as every script's
digits), `\\p{L}`, `\\p{N}`, `\\p{M}` and a negative lookahead. Character classes stay short: a generator
that expands a class of a hundred thousand letters takes seconds per value."""

from __future__ import annotations

import sys
import unicodedata
from functools import cache

from hotline.core import text


def _escape(code: int) -> str:
    return f"\\u{code:04X}" if code <= 0xFFFF else f"\\U{code:08X}"


def _members(codes: list[int]) -> str:
    """`codes` (ascending) as the inside of a character class, runs written as ranges."""
    out, i = [], 0
    while i < len(codes):
        j = i
        while j + 1 < len(codes) and codes[j + 1] == codes[j] + 1:
            j += 1
        out.append(_escape(codes[i]) if i == j else f"{_escape(codes[i])}-{_escape(codes[j])}")
        i = j + 1
    return "".join(out)


@cache
def _classes() -> dict[str, str]:
    """Class members: `control` (refused in any text), `blank` (stripped from the ends before a length or
    an emptiness is judged: Unicode White_Space, which is str.isspace() less controls), `invisible` (letters
    that do not make a name visible: the Hangul fillers)."""
    control, blank, invisible = [], [], []
    for code in range(sys.maxunicode + 1):
        c = chr(code)
        if 0xD800 <= code < 0xE000:
            continue  # no JSON string carries a lone surrogate, and no class may name one
        if text.has_control(c):
            control.append(code)
        elif c.isspace():
            blank.append(code)
        elif unicodedata.category(c)[0] in "LN" and not text.has_visible_letter(c):
            invisible.append(code)
    return {"control": _members(control), "blank": _members(blank), "invisible": _members(invisible)}


@cache
def text_pattern() -> str:
    """Any text a schema takes: no control or direction-override character (NUL included)."""
    return f"^[^{_classes()['control']}]*$"


@cache
def filled_text_pattern() -> str:
    """Text that must not be empty once stripped: some character that is neither white space nor control."""
    c = _classes()
    return f"^[^{c['control']}]*[^{c['control']}{c['blank']}][^{c['control']}]*$"


@cache
def name_pattern() -> str:
    """A name: no control characters, at least one visible letter or digit, and no more than
    MAX_MARKS_IN_A_ROW combining marks in a row (what `hotline.core.schemas` checks of every name)."""
    c = _classes()
    # a mark or a letter may itself be refused (U+0344 is a mark NFC turns into two): never one of those
    marks = f"(?:(?![{c['control']}])\\p{{M}}){{0,{text.MAX_MARKS_IN_A_ROW}}}"
    other = f"[^{c['control']}\\p{{M}}]"
    visible = f"(?![{c['invisible']}{c['control']}])[\\p{{L}}\\p{{N}}]"
    return f"^(?:{marks}{other})*{marks}{visible}(?:{marks}{other})*{marks}$"


# a character input keeps once stripped: `"pattern": NOT_BLANK` (unanchored) holds for text that is not
# empty once stripped (White_Space lies below U+3001, so this needs no scan of every code point)
NOT_BLANK = "[^" + _members([c for c in range(0x3001) if chr(c).isspace() and not text.has_control(chr(c))]) + "]"


# Korean mobiles as written (0 or +82, spaces or hyphens between the groups), within libphonenumber's mobile
# ranges for KR: 010 (but 010-597x…599x), 011 and 016–019 with a 3- or 4-digit middle group
KR_MOBILE = (r"^(?:0|\+82[ -]?)1(?:0[ -]?(?:[0-46-9][0-9]{2,3}|5(?:[0-8][0-9]|9[0-6])[0-9]?)|[16-9][ -]?[0-9]{3,4})"
             r"[ -]?[0-9]{4}$")

_MONTH_DAY = r"-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
_TIME = r"[Tt](?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]+)?(?:[Zz]|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])"
YEARS_2000_2100 = r"(?:20[0-9]{2}|2100)"
YEARS_1990_2100 = r"(?:199[0-9]|20[0-9]{2}|2100)"


def date_pattern(years: str = YEARS_2000_2100) -> str:
    """An RFC 3339 full-date within the given years (the format keeps out 30 February)."""
    return f"^{years}{_MONTH_DAY}$"


def datetime_pattern(years: str = YEARS_2000_2100) -> str:
    """An RFC 3339 date-time within the given years (no leap second: Python has none)."""
    return f"^{years}{_MONTH_DAY}{_TIME}$"
