"""Development only: texts answered without a phone. `dolbom sms --from 010-… "1 A7"` signs an inbound SMS
as Twilio would (X-Twilio-Signature over the server's public URL and the form) and posts it to the running
development server's webhook, so it goes the same way as a real reply; the console's outbox page has a
reply box that hands a reply to the same inbound handler.

Where Twilio is configured its auth token signs; in development without it, the development secret does
(random, kept beside the database, readable only by whoever runs the server: see core.config), so the
webhook still refuses anything unsigned. Production never falls back.

`dolbom serve` in development writes the URL it serves on beside the database, and links in texts follow
the port it listens on (`make run PORT=8010`), unless DOLBOM_PUBLIC_URL names another."""

from __future__ import annotations

import secrets
from pathlib import Path

import httpx
from sqlalchemy.engine import make_url
from twilio.request_validator import RequestValidator

from hotline.core.config import REPO_ROOT, Settings

SERVED_FILE = "dev-served-url"
WEBHOOK = "/v1/webhooks/twilio/sms"
# what the inbound handler took a reply as, in the operator's words (hotline.offers.inbound.handle_sms)
HANDLED_KO = {"offer_accepted": "제안 수락으로 처리했습니다", "offer_declined": "제안 거절로 처리했습니다",
              "offer_filled": "수락했지만 기관 정원이 차서 확정하지 않았습니다",
              "offer_closed": "이미 마감된 제안이라 처리하지 않았습니다", "late_answer": "기한 지난 응답으로 처리했습니다",
              "cancel": "보호자 취소로 처리했습니다", "survey": "만족도 응답으로 처리했습니다",
              "help": "알아볼 수 없는 답장이라 안내 문자를 보냈습니다", "ignored": "모르는 번호라 답하지 않았습니다",
              "stop": "수신 거부로 처리했습니다", "start": "수신 재개로 처리했습니다",
              "ambiguous": "답할 요청이 여러 건이라 코드를 묻는 문자를 보냈습니다",
              "withdraw": "기관 취소로 처리했습니다", "withdraw_which": "취소할 돌봄이 여러 건이라 코드를 물었습니다",
              "arrived": "도착(체크인)으로 처리했습니다", "arrived_refused": "도착을 처리하지 못했습니다(시간 밖)",
              "not_arrived": "선생님 미도착 신고로 처리했습니다", "duplicate": "이미 받은 문자입니다"}


def inbound_token(settings: Settings) -> str | None:
    """What inbound SMS are signed with: Twilio's auth token; in development without one, the development
    secret (`dolbom sms` reads the same settings); otherwise nothing, and every post is refused."""
    if settings.twilio_auth_token:
        return settings.twilio_auth_token
    return settings.secret_key if settings.is_development else None


def served_file(settings: Settings) -> Path:
    """Beside the SQLite database (the development secret's folder), else var/."""
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return Path(url.database).parent / SERVED_FILE
    return REPO_ROOT / "var" / SERVED_FILE


def listening_url(settings: Settings, host: str, port: int) -> Settings:
    """In development, unless DOLBOM_PUBLIC_URL was given, the public URL is where `dolbom serve` listens."""
    if not settings.is_development or "public_url" in settings.model_fields_set:
        return settings
    shown = "127.0.0.1" if host in ("", "0.0.0.0", "::") else host
    shown = f"[{shown}]" if ":" in shown else shown
    return settings.model_copy(update={"public_url": f"http://{shown}:{port}"})


def remember_served_url(settings: Settings) -> None:
    path = served_file(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(settings.public_url + "\n", encoding="utf-8")


def served_url(settings: Settings) -> str:
    """The development server's public URL: DOLBOM_PUBLIC_URL if given, else what `dolbom serve` wrote."""
    path = served_file(settings)
    if "public_url" not in settings.model_fields_set and path.exists():
        return path.read_text(encoding="utf-8").strip() or settings.public_url
    return settings.public_url


def signed_sms(url: str, token: str, *, sender: str, body: str, to: str = "") -> tuple[dict[str, str], str]:
    """An inbound SMS form as Twilio posts it (a fresh MessageSid) and its X-Twilio-Signature for `url`."""
    sid = "SM" + secrets.token_hex(16)
    form = {"MessageSid": sid, "SmsSid": sid, "AccountSid": "AC" + "0" * 32, "From": sender, "To": to,
            "Body": body, "NumMedia": "0"}
    return form, RequestValidator(token).compute_signature(url, form)


def send(http: httpx.Client, base: str, token: str, *, sender: str, body: str, to: str = "") -> httpx.Response:
    """Post one signed inbound SMS to the server at `base` (its public URL: the URL Twilio would sign)."""
    url = base.rstrip("/") + WEBHOOK
    form, signature = signed_sms(url, token, sender=sender, body=body, to=to)
    return http.post(url, data=form, headers={"X-Twilio-Signature": signature})
