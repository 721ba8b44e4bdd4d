"""The one masking rule for phone numbers shown to staff (PIPA): `010-****-1234`, for a stored number and for
every Korean mobile number written in free text."""

from __future__ import annotations

import re

from hotline.core.phones import national


_NUMBERS = re.compile(r"(?<!\d)(01\d)[- ]?(\d{3,4})[- ]?(\d{4})(?!\d)")


def mask_numbers(text: str) -> str:
    """Every Korean mobile number written in `text`, masked by the same rule."""
    return _NUMBERS.sub(lambda m: f"{m.group(1)}-****-{m.group(3)}", text)


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
