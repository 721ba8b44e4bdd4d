"""The FastAPI app factory: settings, database, clock, geocoder, SMS sender and the offer loop's context
on `app.state`; one router per resource; problem+json errors; the body-size limit; and, when asked, the
scheduler (only in the process that wins the scheduler lock)."""

from __future__ import annotations

import logging
import os
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import Engine

from api import problems
from api.middleware import BodySizeLimit, LastResort, RefuseNul
from api.pages import HERE
from api.routers import auth, console, links, providers, requests, webhooks
from api.routers import applications, care_records, centre_report, official_forms, workspace
from api.routers import places as places_router
from hotline import jobs
from hotline.core.clock import Clock
from hotline.core.config import Settings, get_settings
from hotline.core.db import make_engine
from hotline.places.geo import load_places
from hotline.offers.loop import OfferContext
from hotline.accounts.security import LoginThrottle
from hotline.sms.senders import SmsSender, sender_from_settings

logger = logging.getLogger("api")

DESCRIPTION = """언제나 돌봄 긴급 돌봄 연계 API — Gyeonggi emergency child-care hotline.

시각은 서울 시각(+09:00)으로 주고받습니다. 오류는 RFC 9457 problem+json(한국어 `detail`, 영어 `detail_en`)입니다.
Times are exchanged in Seoul time; errors are RFC 9457 problem+json in Korean and English."""


def worker_app() -> FastAPI:
    """One worker of `dolbom serve --workers N`: settings from the environment, and a try for the scheduler
    lock (one worker wins it)."""
    return create_app(run_scheduler=os.environ.get("DOLBOM_SERVE_SCHEDULER", "1") == "1")


def create_app(settings: Settings | None = None, *, engine: Engine | None = None, clock: Clock | None = None,
               sender: SmsSender | None = None, run_scheduler: bool = False) -> FastAPI:
    settings = settings or get_settings()
    engine = engine or make_engine(settings.database_url)
    places = load_places(settings.data_dir)
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

    app = FastAPI(title="언제나 돌봄 hotline", version="1.0", description=DESCRIPTION, lifespan=lifespan)
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
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for module in (auth, requests, providers, places_router, webhooks, links, console, applications, workspace,
                   care_records, centre_report, official_forms):
        app.include_router(module.router)
    problems.document(app)

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/console")

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
