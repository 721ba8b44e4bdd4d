"""Rules for text people type, applied at every boundary (API bodies, forms, SMS): Unicode NFC (a name typed
on a phone as decomposed jamo is stored, searched and counted as the syllables it shows), names need a
visible letter (not U+3164 HANGUL FILLER, zero-width joiners or combining marks alone), and numbers are
ASCII digits only — `"²".isdigit()` is True and `int("²")` then fails (issue 18, defects 2, 7 and 8)."""

from __future__ import annotations

import unicodedata

from hotline.core.errors import invalid

# Letters that render as nothing: the Hangul fillers are category Lo, so "is a letter" alone would pass them
_INVISIBLE_LETTERS = frozenset("\u115f\u1160\u3164\uffa0")
# combining marks stacked on one letter beyond this are noise, never a name (Korean needs none once NFC)
MAX_MARKS_IN_A_ROW = 4


# direction overrides and isolates (U+202A–U+202E, U+2066–U+2069) reorder what staff read; with the C0/C1
# controls (tab and newline aside) nobody types them into a form
_CONTROLS = frozenset(chr(c) for c in [*range(0x00, 0x20), *range(0x7f, 0xa0), *range(0x202a, 0x202f),
                                       *range(0x2066, 0x206a)]) - set("\t\n\r")


def has_control(text: str) -> bool:
    return not _CONTROLS.isdisjoint(text)


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def has_visible_letter(text: str) -> bool:
    return any(unicodedata.category(c)[0] in "LN" and c not in _INVISIBLE_LETTERS for c in text)


def stacked_marks(text: str) -> bool:
    """More than a few combining marks on one character (Zalgo text: 10,000 marks on an `a`)."""
    run = 0
    for c in text:
        run = run + 1 if unicodedata.category(c).startswith("M") else 0
        if run > MAX_MARKS_IN_A_ROW:
            return True
    return False


def whole_number(text: str, field_name: str, *, what_ko: str = "숫자", what_en: str = "a number") -> int:
    """A non-negative whole number written with ASCII digits, else a 422 naming the field."""
    text = text.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 6:
        raise invalid(field_name, f"{what_ko}은(는) 0-9 숫자로만 입력해 주세요.", f"Give {what_en} in digits 0-9.")
    return int(text)
