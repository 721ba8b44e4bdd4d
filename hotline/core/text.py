"""Rules for text people type, applied at every boundary (API bodies, forms, SMS): Unicode NFC (a name typed
on a phone as decomposed jamo is stored, searched and counted as the syllables it shows), names need a
visible letter (not U+3164 HANGUL FILLER, zero-width joiners or combining marks alone), and numbers are
ASCII digits only — `"²".isdigit()` is True and `int("²")` then fails (issue 18, defects 2, 7 and 8)."""

from __future__ import annotations

import unicodedata

from hotline.core.errors import invalid
from hotline.core.korean import with_particle

# Letters that render as nothing: the Hangul fillers are category Lo, so "is a letter" alone would pass them
_INVISIBLE_LETTERS = frozenset("\u115f\u1160\u3164\uffa0")
# combining marks stacked on one letter beyond this are noise, never a name (Korean needs none once NFC)
MAX_MARKS_IN_A_ROW = 4


# direction overrides and isolates (U+202A–U+202E, U+2066–U+2069) reorder what staff read; with the C0/C1
# controls (tab and newline aside) nobody types them into a form
_CONTROLS = frozenset(chr(c) for c in [*range(0x00, 0x20), *range(0x7f, 0xa0), *range(0x202a, 0x202f),
                                       *range(0x2066, 0x206a)]) - set("\t\n\r")


# characters Unicode normalisation (NFC) turns into two or more (U+0344, precomposed Devanagari nukta
# letters, …: composition exclusions): with them a name within its length limit as typed would be over it
# as stored, so they are refused with the controls (unicodedata 14.0.0; test_text checks the list)
GROWS_WHEN_NORMALISED = frozenset("\u0344\u0958\u0959\u095A\u095B\u095C\u095D\u095E\u095F\u09DC\u09DD\u09DF\u0A33\u0A36\u0A59\u0A5A\u0A5B\u0A5E\u0B5C\u0B5D\u0F43\u0F4D\u0F52\u0F57\u0F5C\u0F69\u0F73\u0F75\u0F76\u0F78\u0F81\u0F93\u0F9D\u0FA2\u0FA7\u0FAC\u0FB9\u2ADC\uFB1D\uFB1F\uFB2A\uFB2B\uFB2C\uFB2D\uFB2E\uFB2F\uFB30\uFB31\uFB32\uFB33\uFB34\uFB35\uFB36\uFB38\uFB39\uFB3A\uFB3B\uFB3C\uFB3E\uFB40\uFB41\uFB43\uFB44\uFB46\uFB47\uFB48\uFB49\uFB4A\uFB4B\uFB4C\uFB4D\uFB4E\U0001D15E\U0001D15F\U0001D160\U0001D161\U0001D162\U0001D163\U0001D164\U0001D1BB\U0001D1BC\U0001D1BD\U0001D1BE\U0001D1BF\U0001D1C0")


def has_control(text: str) -> bool:
    """A character nobody types into a form: a control, a direction override, or one NFC would lengthen."""
    return not _CONTROLS.isdisjoint(text) or not GROWS_WHEN_NORMALISED.isdisjoint(text)


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
        raise invalid(field_name, f"{with_particle(what_ko, '은/는')} 0-9 숫자로만 입력해 주세요.", f"Give {what_en} in digits 0-9.")
    return int(text)
