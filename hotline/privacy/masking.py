"""The one masking rule for phone numbers shown to staff (PIPA): `010-****-1234` — for a stored number, for
every Korean mobile number written in free text, and for any international number a parent typed. Masking
runs on whatever text reached us, so it never raises: a string that is not a valid number is masked
digit by digit (issue 18, defect 1: `+999 1234 5678` in an address broke every operator's outbox page)."""

from __future__ import annotations

import re

import phonenumbers

from hotline.core.phones import national

_NUMBERS = re.compile(r"(?<!\d)(01\d)[- ]?(\d{3,4})[- ]?(\d{4})(?!\d)")
_INTERNATIONAL = re.compile(r"\+\d[\d ()-]{6,}\d")
# the credential part of our signed links (`/o/12.sf3k2.Xc9_…`): whoever reads it can act as the provider or
# the parent, so staff see the link's kind only
_LINK_TOKEN = re.compile(r"(/(?:o|s|p|apply/s|apply/code)/)[0-9A-Za-z]+\.[0-9a-z]+\.[A-Za-z0-9_=-]+")
_ONE_TIME_CODE = re.compile(r"(?<!\d)\d{6}(?!\d)")
HIDDEN = "••••"


def mask_numbers(text: str) -> str:
    """Every Korean mobile number written in `text`, masked by the same rule."""
    return _NUMBERS.sub(lambda m: f"{m.group(1)}-****-{m.group(3)}", text)


def mask_text(text: str | None) -> str:
    """Korean mobiles by the one rule, and any international number written in a text likewise."""
    text = mask_numbers(text or "")
    return _INTERNATIONAL.sub(lambda m: mask("+" + "".join(c for c in m.group(0) if c.isdigit())) or "***", text)


def mask(e164: str | None) -> str | None:
    """`010-****-1234`: the middle digits hidden, the last four kept. A number phonenumbers cannot read keeps
    only its last four digits (none if it has six or fewer)."""
    if not e164:
        return e164
    try:
        text, keep_head = national(e164), 3
    except phonenumbers.NumberParseException:
        text, keep_head = e164, 0
    total = sum(c.isdigit() for c in text)
    keep_tail = 4 if total > 6 else 0
    out, seen = [], 0
    for c in text:
        if c.isdigit():
            seen += 1
            out.append(c if seen <= keep_head or seen > total - keep_tail else "*")
        else:
            out.append(c)
    return "".join(out)


def without_secrets(kind: str, body: str) -> str:
    """A text as staff may read it and as it is kept once sent: link tokens and a one-time code hidden
    (issue 18, defect 6: operators could finish a stranger's application or act as a provider)."""
    body = _LINK_TOKEN.sub(lambda m: m.group(1) + HIDDEN, body or "")
    return _ONE_TIME_CODE.sub("••••••", body) if kind == "apply_code" else body


def text_for_staff(kind: str, body: str) -> str:
    """A sent or queued text as an operator may read it: secrets hidden, every phone number masked."""
    return mask_text(without_secrets(kind, body))
