"""Retention: personal data of finished requests is destroyed; what the monthly figures need remains."""

from sqlmodel import Session, select

from conftest import request_body
from hotline.models import CareRequest, Child, Guardian, OutboxMessage
from hotline.privacy.retention import GONE, purge
from hotline.centre_report.month import month_figures


def test_finished_requests_are_purged_after_retention(client, operator, engine, clock, settings):
    body = request_body(health_notes="땅콩 알레르기", consent={"guardian_consent": True, "health_consent": True})
    ref = client.post("/v1/requests", json=body, headers=operator).json()["ref"]  # no providers: unmatched
    open_ref = client.post("/v1/requests", json=request_body(
        guardian={"name": "다른보호자", "phone": "010-5550-8888", "language": "ko"}), headers=operator).json()["ref"]
    clock.advance(days=89)
    with Session(engine) as s:
        assert purge(s, now=clock.now(), retention_days=90, access_log_days=730) == 0
    clock.advance(days=3)  # 90 days after the window ended (25 Nov 18:00)
    with Session(engine) as s:
        kept = s.exec(select(CareRequest).where(CareRequest.ref == open_ref)).one()
        kept.status = "offered"  # still open: must be left alone
        s.add(kept)
        s.commit()
        assert purge(s, now=clock.now(), retention_days=90, access_log_days=730) == 1
        s.commit()
    with Session(engine) as s:
        gone = s.exec(select(CareRequest).where(CareRequest.ref == ref)).one()
        assert gone.purged_at and gone.health_notes is None and gone.address == "평택시"
        names = {c.first_name for c in s.exec(select(Child).where(Child.request_id == gone.id))}
        assert names == {GONE}
        guardian = s.get(Guardian, gone.guardian_id)
        assert guardian.name == GONE and "5550-1234" not in guardian.phone
        assert {m.body for m in s.exec(select(OutboxMessage).where(OutboxMessage.request_id == gone.id))} <= {GONE}
        other = s.exec(select(CareRequest).where(CareRequest.ref == open_ref)).one()
        assert other.purged_at is None and s.get(Guardian, other.guardian_id).name == "다른보호자"
        figures = month_figures(s, 2026, 11)
        assert figures.calls == 2 and figures.unmatched == 1
