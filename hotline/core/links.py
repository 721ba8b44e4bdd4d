"""Signed, expiring links short enough for an SMS: `/o/<offer>.<expiry>.<mac>` for a provider's offer page
and `/s/<request>.<expiry>.<mac>` for a parent's status page. No login: the HMAC is the credential."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime


def _mac(secret: str, purpose: str, ident: int, exp: int) -> str:
    digest = hmac.new(secret.encode(), f"{purpose}:{ident}:{exp}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:9]).decode()  # 72 bits: 12 characters


def _b36(n: int) -> str:
    chars = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while n:
        n, r = divmod(n, 36)
        out = chars[r] + out
    return out or "0"


def sign(secret: str, purpose: str, ident: int, expires: datetime) -> str:
    exp = int(expires.timestamp())
    return f"{ident}.{_b36(exp)}.{_mac(secret, purpose, ident, exp)}"


def verify(secret: str, purpose: str, token: str, now: datetime) -> int | None:
    """The id the token was signed for, or None when it is forged, altered or expired."""
    try:
        ident_s, exp_s, mac = token.split(".")
        ident, exp = int(ident_s), int(exp_s, 36)
    except ValueError:
        return None
    if not hmac.compare_digest(mac, _mac(secret, purpose, ident, exp)) or now.timestamp() > exp:
        return None
    return ident


def offer_url(base: str, secret: str, offer_id: int, expires: datetime) -> str:
    return f"{base.rstrip('/')}/o/{sign(secret, 'offer', offer_id, expires)}"


def status_url(base: str, secret: str, request_id: int, expires: datetime) -> str:
    return f"{base.rstrip('/')}/s/{sign(secret, 'status', request_id, expires)}"
