"""Care requests from the hotline: validation of what the operator typed, idempotent creation,
listing and reading (cancelling is the offer loop's: `hotline.offers.cancel`). Services flush but never commit: the request boundary does."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from hotline.core.clock import as_utc, local, local_day_bounds
from hotline.core.config import Settings
from hotline.core.db import created_in_this_transaction
from hotline.core.errors import FieldProblem, InvalidInput, NotFound, invalid
from hotline.places.geo import Geocoder
from hotline.places.locate import Located, locate
from hotline.requests.lifecycle import LABELS_KO, RequestStatus
from hotline.models import Assignment, CareRequest, Child, Guardian, RequestEvent
from hotline.core.phones import to_e164
from hotline.requests.schemas import CareRequestCreate
from hotline.requests.children import check_child

REF_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O/1/I: refs are read aloud on the phone


def check_window(start: datetime, end: datetime, now: datetime, settings: Settings) -> list[FieldProblem]:
    problems = []
    if end <= start:
        problems.append(FieldProblem("end_at", "돌봄 종료 시각이 시작 시각보다 빠르거나 같습니다.",
                                     "end_at must be after start_at."))
    elif end - start > timedelta(hours=settings.max_window_hours):
        problems.append(FieldProblem(
            "end_at", f"돌봄 시간은 최대 {settings.max_window_hours:g}시간까지 신청할 수 있습니다.",
            f"A care window may last at most {settings.max_window_hours:g} hours."))
    if start < now - timedelta(minutes=settings.past_start_grace_minutes):
        problems.append(FieldProblem("start_at", "돌봄 시작 시각이 이미 지났습니다.", "start_at lies in the past."))
    elif start > now + timedelta(days=settings.max_days_ahead):
        problems.append(FieldProblem(
            "start_at", f"긴급 돌봄은 {settings.max_days_ahead}일 이내 일정만 접수합니다.",
            f"Emergency care can be booked at most {settings.max_days_ahead} days ahead."))
    return problems


def resolve_location(data: CareRequestCreate, geocoder: Geocoder) -> Located:
    """The call's point and how precise it is (hotline.places.locate): coordinates, the street geocoder's
    answer for the address, or the offline point of the 동 the place (or address) names."""
    loc = data.location
    return locate(geocoder, address=loc.address, place_text=loc.place, lat=loc.lat, lon=loc.lon)


def payload_hash(data: CareRequestCreate) -> str:
    return hashlib.sha256(data.model_dump_json().encode()).hexdigest()


@dataclass
class Created:
    request: CareRequest
    replayed: bool  # True when an Idempotency-Key matched an earlier call
    # held here so the session's (weak) identity map keeps it for the texts and the answer: no re-read
    guardian: Guardian | None = None


def new_ref() -> str:
    return "R" + "".join(secrets.choice(REF_ALPHABET) for _ in range(7))


def _by_key(session: Session, key: str) -> CareRequest | None:
    return session.exec(select(CareRequest).where(CareRequest.idempotency_key == key)).first()


def _replay(existing: CareRequest, digest: str) -> Created:
    if existing.payload_hash != digest:
        raise invalid("Idempotency-Key", "같은 Idempotency-Key로 다른 내용의 요청이 이미 접수되었습니다.",
                      "This Idempotency-Key was already used with a different request body.")
    return Created(existing, replayed=True)


def _guardian(session: Session, phone: str, data: CareRequestCreate, now: datetime) -> Guardian:
    """The guardian of this phone number, created or given this call's name and language in one statement
    (INSERT … ON CONFLICT DO UPDATE): a concurrent call from the same number cannot make a second row."""
    upsert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = upsert(Guardian).values(name=data.guardian.name, phone=phone, language=data.guardian.language,
                                   created_at=now)
    stmt = stmt.on_conflict_do_update(index_elements=[Guardian.phone],
                                      set_={"name": stmt.excluded.name, "language": stmt.excluded.language})
    return session.scalars(stmt.returning(Guardian), execution_options={"populate_existing": True}).one()


def create_care_request(
    session: Session,
    data: CareRequestCreate,
    *,
    actor: str,
    now: datetime,
    settings: Settings,
    geocoder: Geocoder,
    idempotency_key: str | None = None,
) -> Created:
    digest = payload_hash(data)
    if idempotency_key:
        if len(idempotency_key) > 100:
            raise invalid("Idempotency-Key", "Idempotency-Key는 100자 이하여야 합니다.", "Idempotency-Key is longer than 100 characters.")
        existing = _by_key(session, idempotency_key)
        if existing:
            return _replay(existing, digest)

    problems: list[FieldProblem] = []
    if not data.consent.guardian_consent:
        problems.append(FieldProblem("consent.guardian_consent",
                                     "보호자의 개인정보 수집·이용 동의가 있어야 접수할 수 있습니다.",
                                     "The guardian's consent is required to take the request."))
    if data.health_notes and not data.consent.health_consent:
        problems.append(FieldProblem("health_notes", "건강 정보는 별도 동의(consent.health_consent)가 있어야 기록할 수 있습니다.",
                                     "Health notes need the separate health-information consent."))
    phone = None
    try:
        phone = to_e164(data.guardian.phone, "guardian.phone")
    except InvalidInput as exc:
        problems += exc.errors
    start, end = as_utc(data.start_at), as_utc(data.end_at)
    problems += check_window(start, end, now, settings)
    for i, child in enumerate(data.children):
        if problem := check_child(i, child.first_name, child.birth_date, start, end, today=local(now).date()):
            problems.append(problem)
    try:
        located = resolve_location(data, geocoder)
    except InvalidInput as exc:
        problems += exc.errors
    if problems:
        raise InvalidInput(*problems)

    guardian = _guardian(session, phone, data, now)

    request = CareRequest(
        ref=new_ref(),
        guardian_id=guardian.id,
        reason=data.reason,
        notes=data.notes,
        start_at=start,
        end_at=end,
        address=data.location.address,
        place_code=located.place.code if located.place else None,
        city_ko=located.place.city_ko if located.place else None,
        lat=located.lat,
        lon=located.lon,
        location_precision=located.precision,
        needs=sorted({n.value for n in data.needs}),
        language=data.language,
        consent_at=now,
        consent_by=actor,
        health_consent=data.consent.health_consent,
        health_notes=data.health_notes if data.consent.health_consent else None,
        idempotency_key=idempotency_key,
        payload_hash=digest,
        created_by=actor,
        created_at=now,
        updated_at=now,
    )
    try:
        # a concurrent call with the same key may commit first: the savepoint keeps our transaction usable
        with session.begin_nested():
            session.add(request)
            session.flush()
    except IntegrityError:
        existing = _by_key(session, idempotency_key) if idempotency_key else None
        if existing is None:
            raise
        return _replay(existing, digest)
    children = [Child(request_id=request.id, first_name=child.first_name, birth_date=child.birth_date)
                for child in data.children]
    session.add_all(children)
    session.add(RequestEvent(request_id=request.id, at=now, actor=actor, from_status=None,
                             to_status=RequestStatus.received, reason="상담 접수",
                             detail={"children": len(data.children), "consent_by": actor}))
    session.flush()
    session.info.setdefault("children_of", {})[(request.id, request.ref)] = children
    created_in_this_transaction(session, request)
    return Created(request, replayed=False, guardian=guardian)


def get_request(session: Session, request_id: int | str) -> CareRequest:
    text = str(request_id)
    if not (text.isascii() and text.isdigit()):  # "³".isdigit() is True, int("³") fails
        request = session.exec(select(CareRequest).where(CareRequest.ref == text.upper()[:20])).first()
    else:
        request = session.get(CareRequest, int(text)) if len(text) <= 9 else None
    if request is None:
        raise NotFound("돌봄 요청", "Care request")
    return request


def events_of(session: Session, request: CareRequest) -> list[RequestEvent]:
    return list(session.exec(select(RequestEvent).where(RequestEvent.request_id == request.id).order_by(RequestEvent.id)))


def list_requests(
    session: Session,
    *,
    status: list[RequestStatus] | None = None,
    city: str | None = None,
    day: date | None = None,
    attention: bool | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[CareRequest], int]:
    query = select(CareRequest)
    if status:
        query = query.where(col(CareRequest.status).in_([s.value for s in status]))
    if city:
        query = query.where((CareRequest.city_ko == city) | col(CareRequest.place_code).startswith(city))
    if day:
        lo, hi = local_day_bounds(day)
        query = query.where(CareRequest.start_at < hi, CareRequest.end_at > lo)
    if attention is not None:
        query = query.where(CareRequest.needs_attention == attention)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(col(CareRequest.start_at), col(CareRequest.id)).offset(offset).limit(limit))
    return list(rows), total


def active_assignment(session: Session, request: CareRequest) -> Assignment | None:
    return session.exec(select(Assignment).where(Assignment.request_id == request.id,
                                                 Assignment.active == True)).first()  # noqa: E712


def status_label(status: str) -> str:
    return LABELS_KO[RequestStatus(status)]
