"""Providers: registry for operators and admins; a provider account sees only its own offers and commitments."""

from typing import Annotated

from fastapi import APIRouter, Query, status

from api.deps import Admin, ClockDep, CurrentUser, Day, GeocoderDep, Offset, RowId, SessionDep, Staff, actor
from hotline.providers import registry as providers
from hotline.core.errors import Forbidden
from hotline.privacy import access
from hotline.models import OfferStatus, Role, User
from hotline.providers.schemas import CommitmentsPublic, ProviderCreate, ProviderPublic, ProviderUpdate
from hotline.requests.schemas import OfferPublic
from hotline.core.schemas import Page
from hotline.requests.views import present_assignment, present_offer

router = APIRouter(prefix="/v1/providers", tags=["providers"])


def _own_or_staff(user: User, provider_id: int) -> None:
    if user.role == Role.provider and user.provider_id != provider_id:
        raise Forbidden("다른 기관의 정보는 볼 수 없습니다.", "A provider may only see its own offers and commitments.")


@router.post("", response_model=ProviderPublic, status_code=status.HTTP_201_CREATED)
def create_provider(body: ProviderCreate, session: SessionDep, clock: ClockDep, geocoder: GeocoderDep,
                    user: Admin) -> ProviderPublic:
    provider = providers.create_provider(session, body, now=clock.now(), geocoder=geocoder)
    public = ProviderPublic.model_validate(provider)  # before the commit: all-or-nothing
    session.commit()
    return public


@router.get("", response_model=Page[ProviderPublic])
def list_providers(
    session: SessionDep,
    clock: ClockDep,
    user: Staff,
    active: bool | None = True,
    kind: Annotated[str | None, Query(pattern="^(facility|caregiver)$")] = None,
    place: Annotated[str | None, Query(max_length=80, examples=["pyeongtaek"])] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Offset = 0,
) -> Page[ProviderPublic]:
    rows, total = providers.list_providers(session, active=active, kind=kind, place=place, limit=limit, offset=offset)
    page = Page(items=[ProviderPublic.model_validate(p) for p in rows], total=total, limit=limit, offset=offset)
    # providers' phones (a caregiver's is a person's own) shown to staff: an access record, as for a guardian's
    access.log_access(session, actor=actor(user), action="read_providers", request=None, now=clock.now())
    session.commit()
    return page


@router.get("/{provider_id}", response_model=ProviderPublic)
def read_provider(provider_id: RowId, session: SessionDep, clock: ClockDep, user: CurrentUser) -> ProviderPublic:
    _own_or_staff(user, provider_id)
    public = ProviderPublic.model_validate(providers.get_provider(session, provider_id))
    if user.role != Role.provider:  # staff reading a provider's phone: an access record
        access.log_access(session, actor=actor(user), action="read_provider", request=None, now=clock.now())
        session.commit()
    return public


@router.patch("/{provider_id}", response_model=ProviderPublic)
def update_provider(provider_id: RowId, body: ProviderUpdate, session: SessionDep, clock: ClockDep,
                    user: Admin) -> ProviderPublic:
    provider = providers.update_provider(session, providers.get_provider(session, provider_id), body, now=clock.now())
    public = ProviderPublic.model_validate(provider)  # before the commit: a row we cannot show is not saved
    session.commit()
    return public


@router.delete("/{provider_id}", response_model=ProviderPublic, deprecated=True,
               summary="Deactivate a provider (it is not deleted)")
def deactivate_provider(provider_id: RowId, session: SessionDep, clock: ClockDep, user: Admin) -> ProviderPublic:
    """Deactivates the provider, as `PATCH {"active": false}` does, and answers with it: no new offers go to
    it. It is never deleted — past placements and the event log refer to it — so it stays readable
    (`GET /v1/providers/{provider_id}` answers 200 with `active: false`) and `PATCH {"active": true}` brings it
    back. Kept for the clients that call it; new clients use PATCH, which says what happens."""
    provider = providers.deactivate_provider(session, providers.get_provider(session, provider_id), now=clock.now())
    public = ProviderPublic.model_validate(provider)
    session.commit()
    return public


@router.get("/{provider_id}/commitments", response_model=CommitmentsPublic)
def read_commitments(provider_id: RowId, day: Day, session: SessionDep,
                     geocoder: GeocoderDep, user: CurrentUser) -> CommitmentsPublic:
    _own_or_staff(user, provider_id)
    provider = providers.get_provider(session, provider_id)
    assignments, pending = providers.commitments(session, provider, day)
    return CommitmentsPublic(provider_id=provider.id, date=day,
                             assignments=[present_assignment(session, a) for a in assignments],
                             pending_offers=[present_offer(session, o, places=geocoder) for o in pending])


@router.get("/{provider_id}/offers", response_model=list[OfferPublic])
def list_offers(provider_id: RowId, session: SessionDep, geocoder: GeocoderDep, user: CurrentUser,
                status_: Annotated[OfferStatus | None, Query(alias="status")] = None,
                limit: Annotated[int, Query(ge=1, le=200)] = 50) -> list[OfferPublic]:
    _own_or_staff(user, provider_id)
    rows = providers.offers_of(session, providers.get_provider(session, provider_id), status=status_, limit=limit)
    return [present_offer(session, o, places=geocoder) for o in rows]
