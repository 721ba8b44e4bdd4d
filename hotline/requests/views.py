"""Read models: turn stored rows into the API's Public schemas, applying the privacy rules
(masked phones, no health notes, district only for providers who have not accepted)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from hotline.core.clock import fmt_window, local
from hotline.requests.intake import active_assignment, events_of, status_label
from hotline.requests.children import child_ages, children_of
from hotline.models import Assignment, CareRequest, Guardian, Offer, OfferStatus, Provider
from hotline.privacy.masking import mask
from hotline.requests.schemas import (
    AssignmentPublic, CareRequestPublic, CareRequestSummary, ChildPublic, EventPublic, GuardianPublic, OfferPublic)


def district_name(request: CareRequest, places=None) -> str:
    """The 구/동 name (or city) a provider may see before accepting: never the street address."""
    if request.place_code and places is not None and (place := places.get(request.place_code)):
        return place.district_ko or place.city_ko
    return request.city_ko or ""


def present_offer(session: Session, offer: Offer, *, places=None) -> OfferPublic:
    request = session.get(CareRequest, offer.request_id)
    return OfferPublic(
        id=offer.id, request_ref=request.ref, provider_id=offer.provider_id, round=offer.round, rank=offer.rank,
        status=offer.status, distance_km=offer.distance_km, created_at=offer.created_at,
        expires_at=offer.expires_at, answered_at=offer.answered_at,
        window=fmt_window(request.start_at, request.end_at),
        children_ages=child_ages(children_of(session, request), request.start_at),
        needs=request.needs, district=district_name(request, places) or None,
    )


def present_assignment(session: Session, assignment: Assignment) -> AssignmentPublic:
    request = session.get(CareRequest, assignment.request_id)
    provider = session.get(Provider, assignment.provider_id)
    return AssignmentPublic(request_ref=request.ref, provider_id=provider.id, provider_name=provider.name,
                            start_at=assignment.start_at, end_at=assignment.end_at, children=assignment.children)


def present_request(session: Session, request: CareRequest, *, places=None, detail: bool = True) -> CareRequestPublic:
    guardian = session.get(Guardian, request.guardian_id)
    children = children_of(session, request)
    ages = child_ages(children, request.start_at)
    assignment = active_assignment(session, request)
    offers = session.exec(select(Offer).where(Offer.request_id == request.id).order_by(Offer.id)).all()
    events = events_of(session, request) if detail else []
    # the newest solver explanation recorded, for the console
    explanation = next((e.detail["explanation"] for e in reversed(events) if e.detail and "explanation" in e.detail),
                       None)
    return CareRequestPublic(
        id=request.id, ref=request.ref, status=request.status, status_label=status_label(request.status),
        reason=request.reason, notes=request.notes, start_at=request.start_at, end_at=request.end_at,
        address=request.address, place_code=request.place_code, city_ko=request.city_ko, lat=request.lat,
        lon=request.lon, location_precision=request.location_precision, needs=request.needs,
        language=request.language, guardian=GuardianPublic(name=guardian.name, phone_masked=mask(guardian.phone), language=guardian.language),
        children=[ChildPublic(first_name=c.first_name, birth_date=c.birth_date, age_years=a)
                  for c, a in zip(children, ages)],
        consent_at=request.consent_at, consent_by=request.consent_by, health_consent=request.health_consent,
        has_health_notes=bool(request.health_notes), offer_rounds=request.offer_rounds,
        needs_attention=request.needs_attention, attention_reason=request.attention_reason,
        assignment=present_assignment(session, assignment) if assignment else None,
        offers=[present_offer(session, o, places=places) for o in offers] if detail else [],
        events=[EventPublic.model_validate(e) for e in events],
        explanation=explanation,
        created_at=request.created_at,
    )


def offer_page(session: Session, offer: Offer, places, now: datetime) -> dict:
    """What the provider's link page shows: the offer as in its SMS (no names, no address)."""
    from hotline.sms.templates import children_text, needs_text

    request = session.get(CareRequest, offer.request_id)
    provider = session.get(Provider, offer.provider_id)
    lang = provider.language
    ages = child_ages(children_of(session, request), request.start_at)
    return {"offer": offer, "lang": lang, "window": fmt_window(request.start_at, request.end_at, lang),
            "district": district_name(request, places), "children": children_text(ages, lang),
            "needs": needs_text(request.needs, lang), "expires": local(offer.expires_at).strftime("%H:%M"),
            "open": offer.status == OfferStatus.pending and offer.expires_at > now,
            # the provider who accepted reopens the link: it is theirs, not "closed"
            "accepted": offer.status == OfferStatus.accepted}


def summarize_request(session: Session, request: CareRequest, places=None) -> CareRequestSummary:
    return CareRequestSummary(
        id=request.id, ref=request.ref, status=request.status, status_label=status_label(request.status),
        start_at=request.start_at, end_at=request.end_at, city_ko=request.city_ko, place_code=request.place_code,
        district=district_name(request, places) or None, children=len(children_of(session, request)), needs=request.needs, needs_attention=request.needs_attention,
        created_at=request.created_at,
    )
