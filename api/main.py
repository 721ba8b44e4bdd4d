"""The FastAPI app factory: settings, database, clock and geocoder on `app.state`, one router per resource,
problem+json errors and the body-size limit."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy.engine import Engine

from api import problems
from api.middleware import BodySizeLimit
from api.routers import auth, providers, requests
from hotline.clock import Clock
from hotline.config import Settings, get_settings
from hotline.db import make_engine
from hotline.geo import load_places
from hotline.offers import OfferContext

DESCRIPTION = """언제나 돌봄 긴급 돌봄 연계 API — Gyeonggi emergency child-care hotline.

시각은 서울 시각(+09:00)으로 주고받습니다. 오류는 RFC 9457 problem+json(한국어 `detail`, 영어 `detail_en`)입니다.
Times are exchanged in Seoul time; errors are RFC 9457 problem+json in Korean and English."""


def create_app(settings: Settings | None = None, *, engine: Engine | None = None, clock: Clock | None = None) -> FastAPI:
    settings = settings or get_settings()
    engine = engine or make_engine(settings.database_url)
    places = load_places(settings.data_dir)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield

    app = FastAPI(title="언제나 돌봄 hotline", version="1.0", description=DESCRIPTION, lifespan=lifespan)
    app.state.settings = settings
    app.state.engine = engine
    app.state.clock = clock or Clock()
    app.state.geocoder = places
    app.state.offer_context = OfferContext(settings=settings, places=places)
    problems.install(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    for module in (auth, requests, providers):
        app.include_router(module.router)

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
