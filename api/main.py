"""The FastAPI app factory: settings, database, clock, geocoder, SMS sender and the offer loop's context
on `app.state`; one router per resource; problem+json errors; the body-size limit; security headers on every
answer (api.security_headers); /docs with Swagger UI served from an installed package (fastapi-offline's
copy of swagger-ui-dist), never a CDN; and, when asked, the scheduler (only in the process that wins the
scheduler lock)."""

from __future__ import annotations

import gc
import logging
import os
from contextlib import asynccontextmanager
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import Engine
from sqlmodel import Session

from api import problems
from api.access_log import AccessLog
from api.middleware import BodySizeLimit, LastResort, RefuseNul
from api.pages import HERE, render
from api.security_headers import SecurityHeaders
from api.routers import auth, console, links, providers, requests, webhooks
from api.routers import applications, care_records, centre_report, official_forms, workspace
from api.routers import places as places_router
from hotline import jobs
from hotline.core.clock import Clock
from hotline.core.config import Settings, get_settings
from hotline.core.db import make_engine
from hotline.places.geo import places_for
from hotline.offers.loop import OfferContext
from hotline.offers.rehearsal import rehearse_call
from hotline.accounts.security import LoginThrottle
from hotline.sms.senders import SmsSender, sender_from_settings

logger = logging.getLogger("api")

DESCRIPTION = """언제나 돌봄 긴급 돌봄 연계 API — Gyeonggi emergency child-care hotline.

시각은 서울 시각(+09:00)으로 주고받습니다. 오류는 RFC 9457 problem+json(한국어 `detail`, 영어 `detail_en`)입니다.
Times are exchanged in Seoul time; errors are RFC 9457 problem+json in Korean and English."""


def worker_app() -> FastAPI:
    """One worker of `dolbom serve --workers N`: settings from the environment, and a try for the scheduler
    lock (one worker wins it)."""
    return ready_to_serve(create_app(run_scheduler=os.environ.get("DOLBOM_SERVE_SCHEDULER", "1") == "1"))


def ready_to_serve(app: FastAPI) -> FastAPI:
    """A serving process's app, once built: its first call rehearsed, then what it holds for good frozen
    (the rehearsal's caches and compiled statements included)."""
    warm_up(app)
    settle_heap()
    return app


def warm_up(app: FastAPI) -> None:
    """Before a serving process takes its first call: rehearse one (hotline.offers.rehearsal) and roll it
    back, so that what is done once per process is not done during a parent's call. A rehearsal that fails
    is logged and the process serves anyway: it would only have been slower."""
    with Session(app.state.engine) as session:
        try:
            rehearse_call(session, now=app.state.clock.now(), ctx=app.state.offer_context)
        except Exception:  # noqa: BLE001
            logger.warning("the rehearsed call failed; serving without it", exc_info=True)
        finally:
            session.rollback()


def settle_heap() -> None:
    """Once a serving process has built its app: what it holds for good (modules, the app, the place table)
    is left out of every later garbage collection. A full collection walked those ~180,000 objects each
    time, stopping a call for up to ~220 ms every few dozen intakes (issue 23, national scale: ~90 ms and a
    third of the collection time after). Not for tests: their many apps would never be collected."""
    gc.collect()
    gc.freeze()


def create_app(settings: Settings | None = None, *, engine: Engine | None = None, clock: Clock | None = None,
               sender: SmsSender | None = None, run_scheduler: bool = False) -> FastAPI:
    settings = settings or get_settings()
    engine = engine or make_engine(settings.database_url)
    places = places_for(settings)  # offline, plus the street geocoder when configured
    clock = clock or Clock()
    sender = sender or sender_from_settings(settings)
    ctx = OfferContext(settings=settings, places=places)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        lock = scheduler = None
        if run_scheduler:
            lock = jobs.SchedulerLock(engine)
            if lock.acquire():
                scheduler = jobs.start(engine, ctx, clock, sender)
                logger.info("scheduler running in this process")
            else:
                logger.info("another process runs the scheduler")
        app.state.scheduler = scheduler
        yield
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        if lock is not None:
            lock.release()

    # FastAPI's own /docs and /redoc load their scripts from a CDN and boot with an inline script: ours below
    app = FastAPI(title="언제나 돌봄 hotline", version="1.0", description=DESCRIPTION, lifespan=lifespan,
                  docs_url=None, redoc_url=None)
    app.state.settings = settings
    app.state.engine = engine
    app.state.clock = clock
    app.state.geocoder = places
    app.state.sender = sender
    app.state.offer_context = ctx
    app.state.login_throttle = LoginThrottle()
    problems.install(app)
    console.install(app)
    app.add_middleware(RefuseNul)  # the last added runs first: LastResort, then the size limit, then this
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(LastResort)
    app.add_middleware(AccessLog)  # sees the matched route once the app has answered
    app.add_middleware(SecurityHeaders)  # outermost: every answer, errors and refusals included
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    swagger_ui = Path(fastapi_offline.__file__).parent / "static"  # swagger-ui-dist 5, as a package's files
    app.mount("/docs/static", StaticFiles(directory=swagger_ui), name="docs-static")
    for module in (auth, requests, providers, places_router, webhooks, links, console, applications, workspace,
                   care_records, centre_report, official_forms):
        app.include_router(module.router)
    problems.document(app)

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/console")

    @app.get("/docs", include_in_schema=False)
    def docs(request: Request) -> HTMLResponse:
        """Swagger UI from /docs/static, booted by /static/swagger-init.js (the CSP allows no inline script)."""
        return render(request, "docs.html", {"title": f"{app.title} - Swagger UI", "openapi_url": app.openapi_url})

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
