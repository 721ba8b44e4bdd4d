"""The SMS outbox as operators see it: the last texts with the request each belongs to, numbers masked in the
recipient and in the body (a confirmation carries names and numbers)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from hotline.console import labels
from hotline.models import CareRequest, OutboxMessage
from hotline.privacy.masking import mask, text_for_staff


def recent(session: Session, limit: int = 100) -> list[dict[str, Any]]:
    rows = session.exec(select(OutboxMessage, CareRequest.ref).join(CareRequest, isouter=True,
                                                                    onclause=CareRequest.id == OutboxMessage.request_id)
                        .order_by(col(OutboxMessage.id).desc()).limit(limit)).all()
    return [{"id": m.id, "ref": ref, "kind_ko": labels.SMS_KIND.get(m.kind, "안내 문자"), "to": mask(m.to),
             "status_ko": labels.SMS_STATUS.get(m.status, "기타"), "problem": m.status in ("failed", "undelivered"),
             "attempts": m.attempts, "at": m.sent_at or m.created_at, "body": text_for_staff(m.kind, m.body)}
            for m, ref in rows]
