"""The board's search beyond the live board: requests already finished (completed or cancelled), found by
the same words as the board's (the last four or more digits of the phone, a guardian's or child's name, the
reference, or a name's initial consonants: 'ㅊㅇㄴ' finds 최유나), newest first. A parent calling back about
yesterday's care is found, and the status filter's 완료 and 취소 list those requests. Guardians' phones are
masked as on the board."""

from __future__ import annotations

from sqlalchemy import and_, exists, func, or_
from sqlmodel import Session, col, select

from hotline.console.read import Filters, Row, provider_names, row_of
from hotline.core.clock import local_day_bounds
from hotline.core.korean import is_initials_query, matches_initials
from hotline.models import Assignment, CareRequest, Child, Guardian, Provider
from hotline.requests.lifecycle import RequestStatus

PAST = (RequestStatus.completed.value, RequestStatus.cancelled.value)
LIMIT = 30  # the newest; a longer search is narrowed by the other filters
INITIALS_WINDOW = 2000  # a 초성 query is matched here, over this many of the newest finished requests


def wants_past(filters: Filters) -> bool:
    """A search or a 완료/취소 filter looks at finished requests; the plain board does not."""
    return bool(filters.q.strip()) or filters.status in PAST


def _typed(q: str):
    """The words typed, as the board reads them (read._matches_query): a reference, digits of a phone
    (010… is stored as +8210…), or part of a guardian's or child's name."""
    q = q.strip()
    ref = q.upper()
    clauses = [CareRequest.ref == ref]
    if ref.startswith("R") and len(ref) >= 4:
        clauses.append(col(CareRequest.ref).startswith(ref, autoescape=True))
    digits = "".join(c for c in q if c.isdigit())
    if len(digits) >= 4 and len(digits) >= len(q.replace("-", "").replace(" ", "")) - 1:
        clauses.append(col(Guardian.phone).contains(digits[1:] if digits.startswith("0") else digits, autoescape=True))
    else:
        clauses.append(col(Guardian.name).contains(q, autoescape=True))
        clauses.append(exists(select(Child.id).where(Child.request_id == CareRequest.id,
                                                     col(Child.first_name).contains(q, autoescape=True))))
    return or_(*clauses)


def past(session: Session, filters: Filters, *, places) -> list[Row]:
    if not wants_past(filters):
        return []
    statuses = [filters.status] if filters.status in PAST else list(PAST)
    query = (select(CareRequest, Guardian).join(Guardian, Guardian.id == CareRequest.guardian_id)
             .where(col(CareRequest.status).in_(statuses)))
    by_initials = is_initials_query(filters.q)
    if filters.q.strip() and not by_initials:
        query = query.where(_typed(filters.q))
    if filters.city:
        query = query.where(CareRequest.city_ko == filters.city)
    if filters.day:
        lo, hi = local_day_bounds(filters.day)
        query = query.where(CareRequest.start_at < hi, CareRequest.end_at > lo)
    wide = by_initials or filters.need  # filtered here, not by the database: a wider window of the newest
    found = list(session.exec(query.order_by(col(CareRequest.start_at).desc(), col(CareRequest.id).desc())
                              .limit(INITIALS_WINDOW if by_initials else LIMIT * 4 if filters.need else LIMIT)))
    if filters.need:
        found = [(r, g) for r, g in found if filters.need in r.needs]
    if by_initials:  # 'ㄱㅎㄴ' finds 김하늘, as on the live board
        kids: dict[int, list[str]] = {}
        for rid, name in session.exec(select(Child.request_id, Child.first_name)
                                      .where(col(Child.request_id).in_([r.id for r, _ in found]))):
            kids.setdefault(rid, []).append(name)
        found = [(r, g) for r, g in found
                 if any(matches_initials(n, filters.q) for n in [g.name, *kids.get(r.id, [])])]
    if wide:
        found = found[:LIMIT]
    ids = [r.id for r, _ in found]
    if not ids:
        return []
    kids = dict(session.exec(select(Child.request_id, func.count()).where(col(Child.request_id).in_(ids))
                             .group_by(Child.request_id)).all())
    # who cared (completed) or was placed when it was cancelled: the newest placement of each request
    placed = dict(session.exec(select(Assignment.request_id, Provider.name)
                               .join(Provider, Provider.id == Assignment.provider_id)
                               .where(and_(col(Assignment.request_id).in_(ids), Assignment.active == True))  # noqa: E712
                               ).all())
    names = provider_names(session)
    return [row_of(r, g, kids.get(r.id, 0), places=places, names=names, provider=placed.get(r.id))
            for r, g in found]
