"""Registered providers: create, list, update, deactivate, and a provider's commitments for a day."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from hotline.core.clock import local_day_bounds
from hotline.core.errors import Conflict, NotFound, invalid
from hotline.places.geo import Geocoder, in_service_area
from hotline.places.resolve import place_for
from hotline.models import Assignment, Offer, OfferStatus, Provider
from hotline.core.phones import to_e164
from hotline.providers.schemas import ProviderCreate, ProviderUpdate
from hotline.core.korean import quoted_with_particle


def _check_ages(min_age: int, max_age: int) -> None:
    if min_age > max_age:
        raise invalid("min_age", "최소 연령이 최대 연령보다 큽니다.", "min_age is greater than max_age.")


def create_provider(session: Session, data: ProviderCreate, *, now: datetime, geocoder: Geocoder) -> Provider:
    _check_ages(data.min_age, data.max_age)
    if session.exec(select(Provider).where(Provider.code == data.code)).first():
        raise Conflict(f"기관 코드 {quoted_with_particle(data.code, '이/가')} 이미 있습니다.", f"Provider code '{data.code}' already exists.")
    place = place_for(geocoder, data.place, "place") if data.place else None
    if data.lat is not None and data.lon is not None:
        if not in_service_area(data.lat, data.lon):
            raise invalid("lat", "좌표가 경기도 서비스 지역 밖입니다.", "Coordinates lie outside Gyeonggi.")
        lat, lon = data.lat, data.lon
        # the 동 that holds the coordinates, for the console and the centre report by district
        place = geocoder.reverse(lat, lon) or place
    elif place is not None:
        lat, lon = place.lat, place.lon
    else:
        raise invalid("place", "지역(place) 또는 좌표(lat, lon)를 입력해 주세요.", "Give a place or lat/lon.")
    values = data.model_dump(mode="json", exclude={"place", "lat", "lon", "phone"})
    provider = Provider(**values, phone=to_e164(data.phone, "phone"), lat=lat, lon=lon,
                        place_code=place.code if place else None, created_at=now, updated_at=now)
    session.add(provider)
    session.flush()
    return provider


def get_provider(session: Session, provider_id: int) -> Provider:
    provider = session.get(Provider, provider_id)
    if provider is None:
        raise NotFound("돌봄 기관", "Provider")
    return provider


def list_providers(session: Session, *, active: bool | None = True, kind: str | None = None,
                   place: str | None = None, limit: int = 100, offset: int = 0) -> tuple[list[Provider], int]:
    query = select(Provider)
    if active is not None:
        query = query.where(Provider.active == active)
    if kind:
        query = query.where(Provider.kind == kind)
    if place:
        query = query.where(col(Provider.place_code).startswith(place))
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    return list(session.exec(query.order_by(col(Provider.code)).offset(offset).limit(limit))), total


def update_provider(session: Session, provider: Provider, data: ProviderUpdate, *, now: datetime) -> Provider:
    changes = data.model_dump(mode="json", exclude_unset=True)
    if "phone" in changes:
        changes["phone"] = to_e164(changes["phone"], "phone")
    _check_ages(changes.get("min_age", provider.min_age), changes.get("max_age", provider.max_age))
    provider.sqlmodel_update(changes)
    provider.updated_at = now
    session.add(provider)
    session.flush()
    return provider


def deactivate_provider(session: Session, provider: Provider, *, now: datetime) -> Provider:
    """Deactivated providers get no new offers; confirmed placements stay (an operator reassigns them)."""
    provider.active = False
    provider.updated_at = now
    session.add(provider)
    return provider


def commitments(session: Session, provider: Provider, day: date) -> tuple[list[Assignment], list[Offer]]:
    lo, hi = local_day_bounds(day)
    assignments = session.exec(
        select(Assignment).where(Assignment.provider_id == provider.id, Assignment.active == True,  # noqa: E712
                                 Assignment.start_at < hi, Assignment.end_at > lo).order_by(col(Assignment.start_at))
    ).all()
    from hotline.models import CareRequest

    offers = session.exec(
        select(Offer).join(CareRequest, CareRequest.id == Offer.request_id)
        .where(Offer.provider_id == provider.id, Offer.status == OfferStatus.pending,
               CareRequest.start_at < hi, CareRequest.end_at > lo).order_by(col(Offer.id))
    ).all()
    return list(assignments), list(offers)


def paused(session: Session, now: datetime) -> list[Provider]:
    """Providers resting after offers left to expire: operators see them on the board."""
    return list(session.exec(select(Provider).where(Provider.paused_until > now).order_by(col(Provider.code))))


def offers_of(session: Session, provider: Provider, *, status: OfferStatus | None = None, limit: int = 50) -> list[Offer]:
    query = select(Offer).where(Offer.provider_id == provider.id)
    if status:
        query = query.where(Offer.status == status)
    return list(session.exec(query.order_by(col(Offer.id).desc()).limit(limit)))
