"""Read models of the console: the live board (every active request, grouped by what needs the operator),
search, a request's page (reason, notes, handover code, provider, offers, texts, history) and the caller
panel of the intake form. Korean labels only (hotline.console.labels); guardians' phones masked."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from hotline.core.clock import fmt_window, local_day_bounds
from hotline.console import labels
from hotline.requests.intake import active_assignment, events_of
from hotline.requests.children import children_of
from hotline.requests.lifecycle import OPEN_STATUSES, RequestStatus
from hotline.models import (Assignment, CareRequest, Child, Guardian, Offer, OfferStatus, OutboxMessage, Provider,
                            RequestEvent, User)
from hotline.privacy.masking import mask, text_for_staff
from hotline.core.phones import national
from hotline.core.text import nfc
from hotline.requests.views import district_name
from hotline.places.locate import EXACT, LABELS

S = RequestStatus
ACTIVE = frozenset(OPEN_STATUSES | {S.confirmed, S.in_care})
EXPIRING_SOON = timedelta(minutes=10)
STARTING_SOON = timedelta(hours=2)


def provider_names(session: Session, texts: list[str | None] | None = None, codes=()) -> dict[str, str]:
    """Providers' names by code: of every provider, or only of those `texts` mention and `codes` (a board
    of 500 rows with 30,000 providers registered reads a few names, not all of them: issue 23)."""
    query = select(Provider.code, Provider.name)
    if texts is not None:
        wanted = set(codes).union(*(labels.codes_in(t) for t in texts))
        if not wanted:
            return {}
        query = query.where(col(Provider.code).in_(wanted))
    return {code: name for code, name in session.exec(query)}


def user_names(session: Session) -> dict[str, str]:
    return {u: n for u, n in session.exec(select(User.username, User.full_name)) if n}


# --- the board ----------------------------------------------------------------------------------------

@dataclass
class Row:
    ref: str
    status: str
    status_ko: str
    guardian: str
    phone_masked: str
    window: str
    start_at: datetime
    created_at: datetime
    district: str
    children: int
    needs_ko: str
    provider: str | None = None
    offer_deadline: datetime | None = None  # the earliest pending offer's expiry
    pending_offers: int = 0
    attention: str | None = None
    channel_ko: str = "전화"  # 전화 or 온라인 (hotline.applications.channel_of)


@dataclass
class Group:
    key: str
    title: str
    hint: str
    rows: list[Row] = field(default_factory=list)
    urgent: bool = False  # needs the operator now: shown open and first; the others fold away on a busy board


@dataclass
class Filters:
    q: str = ""
    status: str = ""
    city: str = ""
    day: date | None = None
    need: str = ""

    def __post_init__(self) -> None:
        # what the operator types is matched against stored NFC text (a decomposed 홍길동 finds 홍길동)
        self.q, self.city = nfc(self.q), nfc(self.city)

    @property
    def any(self) -> bool:
        return bool(self.q or self.status or self.city or self.day or self.need)


def _matches_query(q: str, care: CareRequest, guardian: Guardian, kids: list[Child]) -> bool:
    q = q.strip()
    if not q:
        return True
    if q.upper() == care.ref or (q.upper().startswith("R") and len(q) >= 4 and care.ref.startswith(q.upper())):
        return True
    digits = "".join(c for c in q if c.isdigit())
    if len(digits) >= 4 and len(digits) >= len(q.replace("-", "").replace(" ", "")) - 1:
        wanted = digits[1:] if digits.startswith("0") else digits  # 010… is +8210… in storage
        return wanted in guardian.phone
    return q in guardian.name or any(q in c.first_name for c in kids)


def board(session: Session, *, now: datetime, places, filters: Filters | None = None) -> list[Group]:
    """Every active request once, in the first group that applies."""
    filters = filters or Filters()
    query = select(CareRequest).where(col(CareRequest.status).in_([s.value for s in ACTIVE]))
    if filters.status:
        query = query.where(CareRequest.status == filters.status)
    if filters.city:
        query = query.where(CareRequest.city_ko == filters.city)
    if filters.day:
        lo, hi = local_day_bounds(filters.day)
        query = query.where(CareRequest.start_at < hi, CareRequest.end_at > lo)
    requests = list(session.exec(query.order_by(col(CareRequest.start_at), col(CareRequest.id)).limit(500)))
    if filters.need:
        requests = [r for r in requests if filters.need in r.needs]
    ids = [r.id for r in requests]
    guardians = {g.id: g for g in session.exec(select(Guardian).where(
        col(Guardian.id).in_({r.guardian_id for r in requests})))} if requests else {}
    kids: dict[int, list[Child]] = {i: [] for i in ids}
    deadlines: dict[int, list[datetime]] = {i: [] for i in ids}
    placed: dict[int, str] = {}
    if ids:
        for child in session.exec(select(Child).where(col(Child.request_id).in_(ids))):
            kids[child.request_id].append(child)
        for offer in session.exec(select(Offer).where(col(Offer.request_id).in_(ids),
                                                      Offer.status == OfferStatus.pending)):
            deadlines[offer.request_id].append(offer.expires_at)
        for rid, name in session.exec(select(Assignment.request_id, Provider.name)
                                      .join(Provider, Provider.id == Assignment.provider_id)
                                      .where(col(Assignment.request_id).in_(ids), Assignment.active == True)):  # noqa: E712
            placed[rid] = name
    if filters.q:
        requests = [r for r in requests if _matches_query(filters.q, r, guardians[r.guardian_id], kids[r.id])]

    # the offer loop's reasons name providers by code: the board shows names
    names = provider_names(session, [r.attention_reason for r in requests if r.needs_attention])
    groups = [
        Group("now", "지금 처리", "미매칭이거나 상담원 확인이 필요한 요청", urgent=True),
        Group("expiring", "제안 기한 임박", f"{int(EXPIRING_SOON.total_seconds() // 60)}분 안에 응답 기한이 끝나는 제안",
              urgent=True),
        Group("soon", "곧 시작·미확정", "2시간 안에 시작하는데 아직 확정되지 않은 요청", urgent=True),
        Group("waiting", "매칭·제안 진행 중", "자동으로 기관에 제안하고 응답을 기다리는 중"),
        Group("placed", "확정·돌봄 중", "기관이 수락한 요청"),
    ]
    by_key = {g.key: g for g in groups}
    for r in requests:
        row = row_of(r, guardians[r.guardian_id], len(kids[r.id]), places=places, names=names,
                     provider=placed.get(r.id), deadlines=deadlines[r.id])
        if r.status in (S.confirmed, S.in_care):
            key = "now" if r.needs_attention else "placed"
        elif r.status == S.unmatched or r.needs_attention:
            key = "now"
        elif row.offer_deadline is not None and row.offer_deadline - now <= EXPIRING_SOON:
            key = "expiring"
        elif r.start_at - now <= STARTING_SOON:
            key = "soon"
        else:
            key = "waiting"
        by_key[key].rows.append(row)
    return groups


def row_of(r: CareRequest, g: Guardian, children: int, *, places, names: dict[str, str], provider: str | None = None,
           deadlines: list[datetime] | tuple = ()) -> Row:
    """One request as a line of the board (or of the search's past requests)."""
    return Row(ref=r.ref, status=r.status, status_ko=labels.STATUS[r.status], guardian=g.name,
               phone_masked=mask(g.phone) or "", window=fmt_window(r.start_at, r.end_at), start_at=r.start_at,
               created_at=r.created_at, district=district_name(r, places) or "", children=children,
               needs_ko=labels.needs(r.needs), provider=provider,
               offer_deadline=min(deadlines) if deadlines else None, pending_offers=len(deadlines),
               attention=_attention(r, names), channel_ko="온라인" if r.created_by.startswith("online:") else "전화")


def _attention(r: CareRequest, names: dict[str, str]) -> str | None:
    """What the operator must look at, with providers' names; the badge already says 미매칭."""
    if not r.needs_attention:
        return None
    text = labels.readable(r.attention_reason, names)
    return text.removeprefix("미매칭: ") if r.status == S.unmatched else text


def board_version(session: Session) -> str:
    """Changes whenever anything on the board can have changed: every move and offer is an event."""
    last = session.exec(select(func.max(RequestEvent.id))).one() or 0
    count = session.exec(select(func.count()).select_from(RequestEvent)).one()
    return f"{last}.{count}"


# --- a request's page ------------------------------------------------------------------------------------

def _recipient(to: str, guardian: Guardian, providers_by_phone: dict[str, Provider]) -> str:
    if to == guardian.phone:
        return "보호자"
    if to in providers_by_phone:
        return providers_by_phone[to].name
    return "당직 상담원"


def request_page(session: Session, care: CareRequest, *, now: datetime, places) -> dict:
    from hotline.offers.adapter import last_explanation
    from hotline.requests.children import child_ages

    guardian = session.get(Guardian, care.guardian_id)
    people = user_names(session)
    kids = children_of(session, care)
    ages = child_ages(kids, care.start_at)
    assignment = active_assignment(session, care)
    asked = list(session.exec(select(Offer).where(Offer.request_id == care.id).order_by(col(Offer.id))))
    messages = list(session.exec(select(OutboxMessage).where(OutboxMessage.request_id == care.id)
                                 .order_by(col(OutboxMessage.id))))
    history = events_of(session, care)
    explained = last_explanation(session, care)
    # only the providers this request's offers, placement, texts, history and explanation name: reading
    # all of them took seconds with 30,000 registered (issue 23)
    ids = {o.provider_id for o in asked} | ({assignment.provider_id} if assignment else set())
    everyone = {p.id: p for p in session.exec(select(Provider).where(
        or_(col(Provider.id).in_(ids), col(Provider.phone).in_({m.to for m in messages}))).order_by(col(Provider.id)))}
    by_phone = {p.phone: p for p in everyone.values()}
    named = [e.actor.partition(":")[2] for e in history if e.actor.startswith("provider:")]
    texts = [e.reason for e in history] + [care.attention_reason]
    if explained:
        named += [explained.get("provider_id")] + [code for code, _ in explained.get("alternatives") or []]
        texts += [explained.get("summary_ko"), *(explained.get("suggestions_ko") or [])]
    names = provider_names(session, texts, codes=[c for c in named if c] + [p.code for p in everyone.values()])
    provider = everyone.get(assignment.provider_id) if assignment else None
    offers = []
    for o in asked:
        p = everyone.get(o.provider_id)
        offers.append({"provider": p.name if p else "기관", "kind": labels.KIND.get(p.kind, "") if p else "",
                       "status": o.status, "status_ko": labels.OFFER_STATUS.get(o.status, "기타"),
                       "distance": o.distance_km, "sent": o.created_at, "deadline": o.expires_at,
                       "open": o.status == OfferStatus.pending and o.expires_at > now,
                       "answered": o.answered_at, "channel": labels.CHANNEL.get(o.answer_channel or "", ""),
                       "reply_code": o.reply_code, "round": o.round})
    texts = []
    for m in messages:
        texts.append({"kind_ko": labels.SMS_KIND.get(m.kind, "안내 문자"), "to": _recipient(m.to, guardian, by_phone),
                      "to_masked": mask(m.to), "status": m.status, "status_ko": labels.SMS_STATUS.get(m.status, "기타"),
                      "attempts": m.attempts, "at": m.sent_at or m.created_at, "body": text_for_staff(m.kind, m.body),
                      "problem": m.status in ("failed", "undelivered"), "error": m.error})
    events = [{"at": e.at, "who": labels.actor(e.actor, names, people),
               "move": (f"{labels.STATUS.get(e.from_status, '—') if e.from_status else '—'} → "
                        f"{labels.STATUS.get(e.to_status, '')}") if e.from_status != e.to_status else "",
               "what": labels.readable(e.reason, names), "note": bool(e.detail.get("note"))}
              for e in history]
    explanation = None
    if explained:
        counts = explained.get("counts") or {}
        explanation = {
            "summary": labels.solver_summary(explained, provider.code if provider else None, names),
            "alternatives": [f"{names.get(code, '기관')} {km:.1f} km" for code, km in explained.get("alternatives") or []],
            "suggestions": [labels.readable(t, names) for t in explained.get("suggestions_ko") or []],
            "counts": [f"{labels.COUNT.get(k, k)} {v}곳" for k, v in counts.items() if k in labels.COUNT]}
    return {
        "explanation": explanation,
        "ref": care.ref, "status": care.status, "status_ko": labels.STATUS[care.status],
        "channel_ko": "온라인" if care.created_by.startswith("online:") else "전화",  # hotline.applications.channel_of
        "window": fmt_window(care.start_at, care.end_at), "start_at": care.start_at, "created_at": care.created_at,
        "reason_ko": labels.REASON.get(care.reason, "기타"), "notes": care.notes, "needs_ko": labels.needs(care.needs),
        "language_ko": labels.LANGUAGE.get(care.language, "한국어"),
        "guardian": guardian.name, "phone_masked": mask(guardian.phone),
        "guardian_language_ko": labels.LANGUAGE.get(guardian.language, "한국어"),
        "children": [{"name": c.first_name, "age": a, "born": c.birth_date} for c, a in zip(kids, ages)],
        "address": care.address, "district": district_name(care, places) or "",
        # a point that is only the place's (no street geocoder, or it failed): "동 단위 위치"
        "precision_ko": "" if care.location_precision in (None, *EXACT) else LABELS[care.location_precision][0],
        "consent_at": care.consent_at, "consent_by": labels.actor(care.consent_by, names, people),
        "health_consent": care.health_consent, "has_health_notes": bool(care.health_notes),
        "attention": labels.readable(care.attention_reason, names) if care.needs_attention else None,
        "handover_code": assignment.handover_code if assignment else None,
        "provider": None if provider is None else {
            "name": provider.name, "kind_ko": labels.KIND.get(provider.kind, ""), "phone": national(provider.phone),
            "address": provider.address,
            "care_place": care.address if provider.kind == "caregiver" else provider.address},
        "offers": offers, "texts": texts, "events": events, "purged": care.purged_at is not None,
    }


# --- the caller panel -------------------------------------------------------------------------------------

def caller_history(session: Session, phone_e164: str, *, start: datetime | None = None, end: datetime | None = None,
                   now: datetime, places=None) -> dict:
    """Open and recent requests from this number; which of them overlap the window being typed."""
    guardian = session.exec(select(Guardian).where(Guardian.phone == phone_e164)).first()
    if guardian is None:
        return {"known": False, "rows": [], "overlaps": []}
    since = now - timedelta(days=30)
    rows = []
    overlaps = []
    for r in session.exec(select(CareRequest).where(CareRequest.guardian_id == guardian.id)
                          .order_by(col(CareRequest.start_at).desc()).limit(20)):
        open_ = r.status in ACTIVE
        if not open_ and r.created_at < since:
            continue
        kids = ", ".join(c.first_name for c in children_of(session, r))
        row = {"ref": r.ref, "status_ko": labels.STATUS[r.status], "window": fmt_window(r.start_at, r.end_at),
               "children": kids, "open": open_, "district": district_name(r, places) or ""}
        rows.append(row)
        if open_ and start is not None and end is not None and r.start_at < end and start < r.end_at:
            overlaps.append(row)
    return {"known": True, "name": guardian.name, "rows": rows, "overlaps": overlaps}
