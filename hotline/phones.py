"""Phone numbers: parse to E.164 with the phonenumbers library, and the one masking rule used everywhere."""

from __future__ import annotations

import phonenumbers

from hotline.errors import invalid


def to_e164(raw: str, field_name: str = "phone", region: str = "KR") -> str:
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise invalid(
            field_name,
            f"전화번호 '{raw}'이(가) 올바르지 않습니다. 예: 010-1234-5678",
            f"'{raw}' is not a valid phone number, e.g. 010-1234-5678",
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def national(e164: str) -> str:
    """`+821012345678` → `010-1234-5678` for people to read and dial."""
    number = phonenumbers.parse(e164, "KR")
    if number.country_code == 82:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def mask(e164: str | None) -> str | None:
    """`010-****-1234`: the middle digits hidden, the last four kept (PIPA masking rule)."""
    if not e164:
        return e164
    text = national(e164)
    digits = [c for c in text if c.isdigit()]
    keep_head, out, seen, total = 3, [], 0, len(digits)
    for c in text:
        if c.isdigit():
            seen += 1
            out.append(c if seen <= keep_head or seen > total - 4 else "*")
        else:
            out.append(c)
    return "".join(out)
