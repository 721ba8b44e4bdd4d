"""Segment counting: GSM-7 vs UCS-2 limits, extension characters, surrogate pairs."""

import pytest

from hotline.sms.segments import segments


@pytest.mark.parametrize(
    ("text", "encoding", "units", "count"),
    [
        ("", "GSM-7", 0, 0),
        ("a" * 160, "GSM-7", 160, 1),
        ("a" * 161, "GSM-7", 161, 2),
        ("a" * 306, "GSM-7", 306, 2),
        ("a" * 307, "GSM-7", 307, 3),
        ("€[]{}", "GSM-7", 10, 1),
        ("€" * 80, "GSM-7", 160, 1),
        ("€" * 80 + "a", "GSM-7", 161, 2),
        ("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà", "GSM-7", 44, 1),
        ("가" * 70, "UCS-2", 70, 1),
        ("가" * 71, "UCS-2", 71, 2),
        ("가" * 134, "UCS-2", 134, 2),
        ("가" * 135, "UCS-2", 135, 3),
        ("a" * 159 + "가", "UCS-2", 160, 3),
        ("😀" * 35, "UCS-2", 70, 1),
        ("😀" * 35 + "a", "UCS-2", 71, 2),
        ("Hello `world`", "UCS-2", 13, 1),
        ("en–dash", "UCS-2", 7, 1),
    ],
)
def test_known_cases(text, encoding, units, count):
    info = segments(text)
    assert (info.encoding, info.units, info.segments) == (encoding, units, count)


def test_escape_sequence_is_not_split_across_segments():
    # 152 septets then "€": the escape pair cannot straddle the 153-septet boundary.
    info = segments("a" * 152 + "€" + "a" * 152)
    assert info.units == 306
    assert info.segments == 3


def test_surrogate_pair_is_not_split_across_segments():
    # 66 + 2 units would overflow the 67-unit part, so the emoji opens part two.
    info = segments("가" * 66 + "😀" + "가" * 66)
    assert info.units == 134
    assert info.segments == 3


def test_per_segment_limit():
    assert segments("a").per_segment == 160
    assert segments("a" * 200).per_segment == 153
    assert segments("가").per_segment == 70
    assert segments("가" * 100).per_segment == 67
