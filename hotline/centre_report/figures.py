"""Figures of one city (or the whole province) for one month, computed from requests, events, providers and
follow-up cases. `rows()` is the single list the page, the CSV and the XLSX all print."""

from __future__ import annotations

import math
import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlmodel import Session, col, select

from hotline.models.aftercare import CaseStatus, FollowUpCase
from hotline.applications import channel_of
from hotline.core.clock import local
from hotline.places.geo import Geocoder
from hotline.requests.lifecycle import RequestStatus
from hotline.models import CareRequest, Provider, RequestEvent
from hotline.centre_report.month import month_bounds

PROVINCE = "경기도 전체"
# the reason an escalation gives, as the report groups it: the first matching words decide
REASON_GROUPS = [(("운영", "마감"), "운영시간 외(야간·휴일)"), (("정원",), "정원 초과"), (("연령",), "연령 조건 불가"),
                 (("시작 시각",), "돌봄 시작 시각 경과"), (("응답", "거절", "만료"), "기관 응답 없음·거절"),
                 (("반경", "기관 없음"), "가까운 기관 없음")]


def reason_group(text: str) -> str:
    return next((label for words, label in REASON_GROUPS if any(w in text for w in words)), "기타")


@dataclass
class CentreFigures:
    month: str
    city: str
    providers: int
    calls: int
    calls_phone: int
    calls_online: int
    placed: int
    unmatched: int
    cancelled: int
    placement_rate: float | None  # placed / (placed + unmatched), as the monthly figures define it
    median_minutes: float | None
    p90_minutes: float | None
    satisfaction: float | None  # mean survey score scaled to 100
    surveys: int
    follow_ups: int
    follow_ups_open: int
    withdrawals: int = 0  # placements the provider withdrew from after confirming (issue 19)
    no_shows: int = 0  # placements where nobody turned up
    reasons: list[tuple[str, int]] = field(default_factory=list)
    daily: list[tuple[date, int, int]] = field(default_factory=list)  # day, phone calls, online applications
    waits: list[float] = field(default_factory=list)


ROWS = [("providers", "등록 기관 수", "Registered providers"), ("calls", "접수 건수", "Requests"),
        ("calls_phone", "전화 접수", "By phone"), ("calls_online", "온라인 신청", "Online"),
        ("placed", "연계(확정) 건수", "Placements"), ("placement_rate", "연계율(%)", "Placement rate (%)"),
        ("median_minutes", "확정까지 중앙값(분)", "Median minutes to confirmation"),
        ("p90_minutes", "확정까지 90백분위(분)", "p90 minutes to confirmation"),
        ("unmatched", "미연계 건수", "Not placed"), ("cancelled", "취소 건수", "Cancellations"),
        ("withdrawals", "확정 후 기관 취소", "Provider withdrawals after confirming"),
        ("no_shows", "기관 미도착", "Provider no-shows"),
        ("satisfaction", "만족도(100점)", "Satisfaction (of 100)"), ("surveys", "만족도 응답 수", "Survey answers"),
        ("follow_ups", "사후관리 건수", "Follow-up cases"), ("follow_ups_open", "사후관리 미종결", "Follow-ups open")]


def rows(fig: CentreFigures) -> list[tuple[str, str, str, int | float | None]]:
    out = []
    for key, ko, en in ROWS:
        value = getattr(fig, key)
        if key == "placement_rate" and value is not None:
            value = round(value * 100, 1)
        out.append((key, ko, en, value))
    return out


def p90(values: list[float]) -> float | None:
    """Nearest-rank 90th percentile."""
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[math.ceil(0.9 * len(ordered)) - 1], 1)


def _city_of_provider(provider: Provider, places: Geocoder) -> str | None:
    place = places.get(provider.place_code) if provider.place_code else None
    return place.city_ko if place else None


def month_report(session: Session, places: Geocoder, year: int, month: int) -> dict[str, CentreFigures]:
    """Every city with providers or requests that month, and the province (key PROVINCE)."""
    lo, hi = month_bounds(year, month)
    requests = list(session.exec(select(CareRequest).where(CareRequest.created_at >= lo, CareRequest.created_at < hi)))
    ids = [r.id for r in requests]
    confirmed_at: dict[int, datetime] = {}
    unmatched_reason: dict[int, str] = {}
    fell_through: Counter[tuple[int, str]] = Counter()
    cases: list[FollowUpCase] = []
    if ids:
        for event in session.exec(select(RequestEvent).where(col(RequestEvent.request_id).in_(ids))
                                  .order_by(col(RequestEvent.id))):
            if event.to_status == RequestStatus.confirmed and event.from_status != RequestStatus.confirmed:
                confirmed_at.setdefault(event.request_id, event.at)
            if event.to_status == RequestStatus.unmatched and event.from_status != RequestStatus.unmatched:
                unmatched_reason[event.request_id] = reason_group(event.reason or "")
            if why := (event.detail or {}).get("fall_through"):
                fell_through[(event.request_id, why)] += 1
        cases = list(session.exec(select(FollowUpCase).where(col(FollowUpCase.request_id).in_(ids))))
    providers = Counter(_city_of_provider(p, places) for p in session.exec(select(Provider).where(Provider.active == True)))  # noqa: E712
    by_city: dict[str, list[CareRequest]] = {}
    for r in requests:
        by_city.setdefault(r.city_ko or "(지역 미상)", []).append(r)
    cases_by_request: dict[int, list[FollowUpCase]] = {}
    for c in cases:
        cases_by_request.setdefault(c.request_id, []).append(c)
    label = f"{year}-{month:02d}"
    days = [(lo + timedelta(days=i)).date() for i in range((hi - lo).days)]
    cities = sorted({c for c in providers if c} | set(by_city))
    report = {city: _figures(label, city, by_city.get(city, []), providers.get(city, 0), confirmed_at,
                             unmatched_reason, cases_by_request, days, fell_through) for city in cities}
    report[PROVINCE] = _figures(label, PROVINCE, requests, sum(providers.values()), confirmed_at, unmatched_reason,
                                cases_by_request, days, fell_through)
    return report


def _figures(label: str, city: str, requests: list[CareRequest], providers: int, confirmed_at: dict[int, datetime],
             unmatched_reason: dict[int, str], cases_by_request: dict[int, list[FollowUpCase]],
             days: list[date], fell_through: Counter[tuple[int, str]]) -> CentreFigures:
    placed = [r for r in requests if r.id in confirmed_at]
    unmatched = [r for r in requests if r.status == RequestStatus.unmatched]
    waits = sorted((confirmed_at[r.id] - r.created_at) / timedelta(minutes=1) for r in placed)
    scores = [r.survey_score for r in requests if r.survey_score is not None]
    online = [r for r in requests if channel_of(r.created_by) == "온라인"]
    cases = [c for r in requests for c in cases_by_request.get(r.id, [])]
    reasons = Counter(unmatched_reason.get(r.id, "기타") for r in unmatched)
    per_day = {d: [0, 0] for d in days}
    for r in requests:
        d = local(r.created_at).date()
        if d in per_day:
            per_day[d][1 if channel_of(r.created_by) == "온라인" else 0] += 1
    decided = len(placed) + len(unmatched)
    return CentreFigures(
        month=label, city=city, providers=providers, calls=len(requests), calls_phone=len(requests) - len(online),
        calls_online=len(online), placed=len(placed), unmatched=len(unmatched),
        cancelled=sum(1 for r in requests if r.status == RequestStatus.cancelled),
        placement_rate=round(len(placed) / decided, 3) if decided else None,
        median_minutes=round(statistics.median(waits), 1) if waits else None, p90_minutes=p90(waits),
        satisfaction=round((statistics.mean(scores) - 1) / 4 * 100, 1) if scores else None, surveys=len(scores),
        follow_ups=len(cases), follow_ups_open=sum(1 for c in cases if c.status == CaseStatus.open),
        withdrawals=sum(fell_through[(r.id, "withdrawal")] for r in requests),
        no_shows=sum(fell_through[(r.id, "no_show")] for r in requests),
        reasons=reasons.most_common(), daily=[(d, v[0], v[1]) for d, v in per_day.items()], waits=waits,
    )
