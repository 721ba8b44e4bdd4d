"""Exact SMS segment counting for GSM-7 and UCS-2 bodies (what the carrier bills, not what the user sees).

A body that is entirely in the GSM 03.38 basic set plus its extension table is sent as GSM-7:
160 septets in one segment, 153 per segment once concatenated (the user data header takes the rest);
an extension-table character (``€ [ ] { } ^ ~ | \\`` and form feed) costs two septets (escape + code).
Anything else turns the whole body into UCS-2: 70 UTF-16 code units in one segment, 67 per segment
when split, and a character outside the BMP (most emoji) costs two code units.

Splitting never cuts an escape sequence or a surrogate pair in half: the whole character moves to
the next segment, as handsets and Twilio's own segment calculator do, so a long body can need one
more segment than ``ceil(units / per_segment)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Encoding = Literal["GSM-7", "UCS-2"]

# 3GPP TS 23.038 default alphabet without ESC (0x1B). Position 0x09 is "Ç"; many SMSCs (and Twilio's
# calculator) also accept "ç" there, so both count as one septet.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇç\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
    " !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

GSM7_SINGLE = 160
GSM7_PART = 153
UCS2_SINGLE = 70
UCS2_PART = 67


@dataclass(frozen=True)
class SegmentInfo:
    encoding: Encoding
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2
    segments: int

    @property
    def per_segment(self) -> int:
        if self.encoding == "GSM-7":
            return GSM7_SINGLE if self.segments <= 1 else GSM7_PART
        return UCS2_SINGLE if self.segments <= 1 else UCS2_PART


def is_gsm7(text: str) -> bool:
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


def segments(text: str) -> SegmentInfo:
    """Encoding, unit count and segment count of ``text``; an empty body is 0 segments."""
    if is_gsm7(text):
        costs = [2 if ch in GSM7_EXTENSION else 1 for ch in text]
        encoding: Encoding = "GSM-7"
        single, part = GSM7_SINGLE, GSM7_PART
    else:
        costs = [2 if ord(ch) > 0xFFFF else 1 for ch in text]
        encoding = "UCS-2"
        single, part = UCS2_SINGLE, UCS2_PART
    units = sum(costs)
    if units == 0:
        count = 0
    elif units <= single:
        count = 1
    else:
        count = _pack(costs, part)
    return SegmentInfo(encoding=encoding, units=units, segments=count)


def _pack(costs: list[int], capacity: int) -> int:
    count, used = 1, 0
    for cost in costs:
        if used + cost > capacity:
            count, used = count + 1, 0
        used += cost
    return count
