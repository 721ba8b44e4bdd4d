"""Phone numbers: parse what people type to E.164 with the phonenumbers library, and format it back for people
to read and dial. The masking rule is `hotline.privacy.masking`'s."""

from __future__ import annotations

import re

import phonenumbers

from hotline.core.errors import invalid
from hotline.core.korean import quoted_with_particle


TEXTABLE = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)
# what people write in a phone number besides digits; phonenumbers would read letters as keypad digits
# ("010-abcd-efgh" → 010-2223-3344), and we would text a stranger
_WRITTEN = re.compile(r"^\+?[0-9 ()./-]+$")


def to_e164(raw: str, field_name: str = "phone", region: str = "KR", *, mobile: bool = True) -> str:
    """Parse to E.164. Numbers we text must be mobiles: a landline would make every SMS fail later."""
    try:
        number = phonenumbers.parse(raw, region) if _WRITTEN.match(raw) else None
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        shown = raw.replace("\x00", "")[:30]
        raise invalid(
            field_name,
            f"전화번호 {quoted_with_particle(shown, '이/가')} 올바르지 않습니다. 숫자로 입력해 주세요. 예: 010-1234-5678",
            f"'{shown}' is not a valid phone number (digits only), e.g. 010-1234-5678",
        )
    if mobile and phonenumbers.number_type(number) not in TEXTABLE:
        raise invalid(
            field_name,
            f"{quoted_with_particle(raw, '은/는')} 휴대전화 번호가 아닙니다. 문자를 받을 수 있는 번호를 입력해 주세요.",
            f"'{raw}' is not a mobile number; give one that can receive text messages.",
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def national(e164: str) -> str:
    """`+821012345678` → `010-1234-5678` for people to read and dial."""
    number = phonenumbers.parse(e164, "KR")
    if number.country_code == 82:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
