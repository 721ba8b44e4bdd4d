"""Care requests: the hotline intake API used by operators."""

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response, status

from api.deps import ClockDep, GeocoderDep, MaybeDay, OfferCtx, Offset, SessionDep, Staff, actor
from hotline.requests import intake
from hotline import offers
from hotline.privacy import access
from hotline.requests.lifecycle import RequestStatus
from hotline.requests.schemas import CareRequestCancel, CareRequestCreate, CareRequestPublic, CareRequestSummary
from hotline.core.schemas import Page
from hotline.requests.views import present_request, summarize_request

router = APIRouter(prefix="/v1/requests", tags=["care requests"])


_LOCATION = {"Location": {"description": "The request's address, `/v1/requests/{ref}`", "required": True,
                          "schema": {"type": "string", "pattern": "^/v1/requests/[A-Z0-9]+$"}}}


@router.post("", response_model=CareRequestPublic, status_code=status.HTTP_201_CREATED,
             responses={201: {"headers": _LOCATION},
                        200: {"description": "Idempotent replay: the request created by the first call",
                              "model": CareRequestPublic, "headers": _LOCATION}})
def create_request(
    body: CareRequestCreate,
    response: Response,
    session: SessionDep,
    clock: ClockDep,
    geocoder: GeocoderDep,
    ctx: OfferCtx,
    user: Staff,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=100)] = None,
) -> CareRequestPublic:
    created = offers.take_call(session, body, actor=actor(user), now=clock.now(), ctx=ctx,
                               idempotency_key=idempotency_key)
    public = present_request(session, created.request, places=geocoder)
    session.commit()  # last: an answer that cannot be built leaves nothing saved (all-or-nothing)
    if created.replayed:
        response.status_code = status.HTTP_200_OK
    response.headers["Location"] = f"/v1/requests/{created.request.ref}"
    return public


@router.get("", response_model=Page[CareRequestSummary])
def list_requests(
    session: SessionDep,
    geocoder: GeocoderDep,
    user: Staff,
    status_: Annotated[list[RequestStatus] | None, Query(alias="status")] = None,
    city: Annotated[str | None, Query(max_length=40, examples=["평택시"])] = None,
    day: MaybeDay = None,
    attention: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Offset = 0,
) -> Page[CareRequestSummary]:
    rows, total = intake.list_requests(session, status=status_, city=city, day=day, attention=attention,
                                       limit=limit, offset=offset)
    return Page(items=[summarize_request(session, r, geocoder) for r in rows], total=total, limit=limit, offset=offset)


@router.get("/{request_id}", response_model=CareRequestPublic)
def read_request(request_id: str, session: SessionDep, clock: ClockDep, geocoder: GeocoderDep,
                 user: Staff) -> CareRequestPublic:
    care = intake.get_request(session, request_id)
    access.log_access(session, actor=actor(user), action="read_request", request=care, now=clock.now())
    public = present_request(session, care, places=geocoder)
    session.commit()
    return public


@router.post("/{request_id}/cancel", response_model=CareRequestPublic)
def cancel_request(request_id: str, body: CareRequestCancel, request: Request, session: SessionDep,
                   clock: ClockDep, geocoder: GeocoderDep, user: Staff) -> CareRequestPublic:
    care = intake.get_request(session, request_id)
    who = actor(user) if body.by == "operator" else f"guardian (via {actor(user)})"
    offers.cancel_request(session, care, actor=who, now=clock.now(), reason=body.reason)
    public = present_request(session, care, places=geocoder)
    session.commit()
    return public


@router.post("/{request_id}/guardian-phone", response_model=dict[str, str])
def reveal_guardian_phone(request_id: str, session: SessionDep, clock: ClockDep, user: Staff) -> dict[str, str]:
    """The full number, for an operator calling the parent back. Every reveal is kept in the access log."""
    care = intake.get_request(session, request_id)
    phone = access.reveal_guardian_phone(session, care, actor=actor(user), now=clock.now())
    session.commit()
    return {"phone": phone}
