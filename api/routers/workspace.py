"""The provider's workspace (phone-sized), reached by a signed link `/p/<token>` sent by SMS: today's and
upcoming shifts, and for each shift check-in with the handover code, the daily log, an adjustment request,
check-out and the service result. The work is in hotline.records."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import ClockDep, OfferCtx, SessionDep, SettingsDep
from api.pages import render
from hotline.core.errors import DomainError
from hotline.core.text import whole_number
from hotline.models import Provider
from hotline.records import service, withdrawal

router = APIRouter(prefix="/p", tags=["workspace"], include_in_schema=False)
# the workspace speaks the provider's language (Provider.language, as its SMS do): Korean, or English
RESULTS_EN = {"provided": "Provided", "partial": "Partly provided", "not_provided": "Not provided"}
KINDS_EN = {"extend": "Longer", "shorten": "Shorter", "end_early": "End early"}


def _lang(provider: Provider) -> str:
    return "en" if provider.language == "en" else "ko"


def _provider(token: str, session, settings, clock) -> Provider | None:
    return service.provider_for_link(session, settings.secret_key, token, clock.now())


def _gone(request: Request) -> HTMLResponse:
    return render(request, "link_gone.html", {"lang": "ko"}, status_code=404)


def _wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "json" in accept and "text/html" not in accept


@router.get("/{token}", response_class=HTMLResponse)
def home(token: str, request: Request, session: SessionDep, settings: SettingsDep, clock: ClockDep,
         done: Annotated[str | None, Query(max_length=20)] = None) -> HTMLResponse:
    provider = _provider(token, session, settings, clock)
    if provider is None:
        return _gone(request)
    return _home(request, session, provider, token, clock, done=done)


def _home(request, session, provider, token, clock, *, errors=None, status_code=200, done=None) -> HTMLResponse:
    lang = _lang(provider)
    return render(request, "workspace/home.html", {"provider": provider, "token": token, "now": clock.now(),
                                                    "shifts": service.shifts(session, provider, now=clock.now()),
                                                    "days": service.coming_days(provider, now=clock.now(), lang=lang),
                                                    "errors": errors or [], "done": done, "lang": lang},
                  status_code=status_code)


@router.post("/{token}/closures")
def closures(token: str, day: Annotated[str, Form(max_length=10)], closed: Annotated[str, Form(pattern="^(yes|no)$")],
             request: Request, session: SessionDep, settings: SettingsDep, clock: ClockDep) -> Response:
    provider = _provider(token, session, settings, clock)
    if provider is None:
        return _gone(request)
    try:
        service.set_closure(session, provider, day, closed=closed == "yes", now=clock.now())
    except DomainError as exc:
        session.rollback()
        return _home(request, session, provider, token, clock, status_code=exc.status,
                     errors=[{"message": exc.detail_ko, "message_en": exc.detail_en}])
    session.commit()
    return RedirectResponse(f"/p/{token}", status_code=303)


def _shift_page(request, session, provider, token, ref, clock, settings, *, done=None, errors=None, typed=None,
                status_code=200):
    """The shift; after a refused form, that form again with what was typed (`typed`: {action: fields})."""
    care, assignment = service.shift_for(session, provider, ref)
    view = service.shift_view(session, provider, care, assignment, now=clock.now())
    lang = _lang(provider)
    english = lang == "en"
    page = render(request, "workspace/shift.html", {**view, "provider": provider, "token": token, "done": done,
                                                     "errors": errors or [], "now": clock.now(), "lang": lang,
                                                     "checkin_opens": service.checkin_opens(assignment, settings),
                                                     "moment": lambda at: service.moment_text(at, clock.now(), lang),
                                                     "typed": typed or {},
                                                     "results": RESULTS_EN if english else service.RESULTS_KO,
                                                     "kinds": KINDS_EN if english else service.KINDS_KO},
                  status_code=status_code)
    session.commit()  # the access record of this read
    return page


def _messages(exc: DomainError) -> list[dict]:
    return [{"message": e.message_ko, "message_en": e.message_en} for e in exc.errors] or \
           [{"message": exc.detail_ko, "message_en": exc.detail_en}]


def _checkout_page(request, session, provider, token, ref, clock, settings, *, errors=None, reason="",
                   status_code=200):
    """The check-out's confirmation step (works without JavaScript): the real times, and a reason when the
    check-out is before the booked end. When there is no check-out now, the shift with the reason why."""
    care, assignment = service.shift_for(session, provider, ref)
    try:
        preview = service.checkout_preview(session, care, assignment, now=clock.now())
    except DomainError as exc:
        return _shift_page(request, session, provider, token, ref, clock, settings, errors=_messages(exc),
                           status_code=exc.status)
    return render(request, "workspace/checkout.html", {**preview, "care": care, "assignment": assignment,
                                                        "provider": provider, "token": token, "now": clock.now(),
                                                        "errors": errors or [], "reason": reason,
                                                        "lang": _lang(provider)},
                  status_code=status_code)


@router.get("/{token}/r/{ref}/checkout", response_class=HTMLResponse)
def checkout(token: str, ref: str, request: Request, session: SessionDep, settings: SettingsDep,
             clock: ClockDep) -> HTMLResponse:
    provider = _provider(token, session, settings, clock)
    if provider is None:
        return _gone(request)
    return _checkout_page(request, session, provider, token, ref, clock, settings)


@router.get("/{token}/r/{ref}", response_class=HTMLResponse)
def shift(token: str, ref: str, request: Request, session: SessionDep, settings: SettingsDep, clock: ClockDep,
          done: Annotated[str | None, Query(max_length=20)] = None) -> HTMLResponse:
    provider = _provider(token, session, settings, clock)
    if provider is None:
        return _gone(request)
    return _shift_page(request, session, provider, token, ref, clock, settings, done=done)


@router.post("/{token}/r/{ref}/{action}")
async def act(token: str, ref: str, action: str, request: Request, session: SessionDep, settings: SettingsDep,
              clock: ClockDep, ctx: OfferCtx) -> Response:
    provider = _provider(token, session, settings, clock)
    if provider is None:
        return _gone(request)
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    now = clock.now()
    care, assignment = service.shift_for(session, provider, ref)
    try:
        if action == "checkin":
            service.check_in(session, provider, care, assignment, form.get("code", "")[:20], now=now, settings=settings)
        elif action == "log":
            service.write_log(session, provider, care, start_time=form.get("start_time", "")[:5],
                              end_time=form.get("end_time", "")[:5], activities=form.get("activities", ""),
                              meals=form.get("meals", ""), incident=form.get("incident") == "yes",
                              incident_note=form.get("incident_note", ""), notes=form.get("notes", ""),
                              health=form.get("health", ""), now=now)
        elif action == "adjust":
            typed = form.get("minutes", "").strip()
            minutes = whole_number(typed, "minutes", what_ko="조정 시간(분)", what_en="the minutes") if typed else 0
            service.ask_adjustment(session, provider, care, assignment, kind=form.get("kind", ""), minutes=minutes,
                                   reason=form.get("reason", ""), now=now, settings=settings)
        elif action == "checkout":
            service.check_out(session, provider, care, assignment, now=now, confirmed=form.get("confirm") == "yes",
                              reason=form.get("reason", ""))
        elif action == "withdraw":
            withdrawal.withdraw(session, provider, care, assignment, reason=form.get("reason", ""),
                                confirmed=form.get("confirm") == "yes", now=now, ctx=ctx)
            session.commit()
            return RedirectResponse(f"/p/{token}?done=withdraw", status_code=303)
        elif action == "result":
            service.file_result(session, provider, care, result=form.get("result", ""), note=form.get("note", ""),
                                now=now)
        else:
            return _gone(request)
    except DomainError as exc:
        if action == "checkin" and exc.status == 422:
            session.commit()  # a wrong handover code counts even though the check-in failed
        else:
            session.rollback()
        if _wants_json(request):
            raise
        if action == "checkout":
            return _checkout_page(request, session, provider, token, ref, clock, settings, errors=_messages(exc),
                                  reason=form.get("reason", "")[:300], status_code=exc.status)
        return _shift_page(request, session, provider, token, ref, clock, settings, errors=_messages(exc),
                           typed={action: form}, status_code=exc.status)
    session.commit()
    return RedirectResponse(f"/p/{token}/r/{ref}?done={action}", status_code=303)
