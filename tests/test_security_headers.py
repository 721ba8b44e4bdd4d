"""Security headers on every answer (issue 18, defect 3): a page on another origin framed the signed-in
console and a provider's /p/ workspace. Every page family, a JSON answer, error answers (a Korean error
page, problem+json, the middleware's own 422) and a static file carry the CSP (our own scripts and styles
only, no framing), X-Frame-Options, nosniff and a same-origin referrer policy; pages and /v1/ answers with
personal data are `no-store`; no template or page keeps an inline script, an on*= handler or a style=
attribute (the CSP would block them); /docs serves Swagger UI from an installed package, never a CDN."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from conftest import request_body
from hotline.core import links
from hotline.core.config import REPO_ROOT
from hotline.models import Assignment, CareRequest, Offer, OfferStatus
from hotline import offers
from test_applications import FORM as APPLY_FORM
from test_console import sign_in

CDN = re.compile(r"cdn|jsdelivr|unpkg|googleapis|cloudflare", re.IGNORECASE)
INLINE = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+\s*=|\sstyle\s*=|javascript:", re.IGNORECASE)


@pytest.fixture
def backend() -> str:
    return "sqlite"  # headers do not depend on the database


def directives(csp: str) -> dict[str, str]:
    return {part.split()[0]: part.strip()[len(part.split()[0]):].strip() for part in csp.split(";") if part.strip()}


def assert_secured(res, name: str, *, no_store: bool) -> None:
    h = res.headers
    csp = directives(h.get("content-security-policy", ""))
    assert csp.get("default-src") == "'self'", (name, h.get("content-security-policy"))
    assert csp.get("script-src") == "'self'" and csp.get("style-src") == "'self'", name
    assert csp.get("frame-ancestors") == "'none'" and csp.get("base-uri") == "'none'", name
    assert csp.get("form-action") == "'self'" and csp.get("object-src") == "'none'", name
    assert "unsafe" not in h["content-security-policy"], name
    assert h.get("x-frame-options") == "DENY", name
    assert h.get("x-content-type-options") == "nosniff", name
    assert h.get("referrer-policy") == "same-origin", name  # nothing to other sites; see api.security_headers
    if no_store:
        assert h.get("cache-control") == "no-store", name


def assert_no_inline(html: str, name: str) -> None:
    assert INLINE.findall(html) == [], (name, INLINE.findall(html))
    assert not CDN.search(html), (name, CDN.search(html))


@pytest.fixture
def world(client, app, engine, clock, operator, demo):
    """One call placed with a provider, one call offered, an online application: a link of every kind."""
    secret = app.state.settings.secret_key
    placed = client.post("/v1/requests", json=request_body(), headers=operator).json()
    offered = client.post("/v1/requests", json=request_body(guardian={"name": "이나래", "phone": "010-5550-2222"}),
                          headers=operator).json()
    with Session(engine, expire_on_commit=False) as s:
        care = s.get(CareRequest, placed["id"])
        offer = s.exec(select(Offer).where(Offer.request_id == care.id, Offer.status == OfferStatus.pending)).first()
        offers.answer(s, offer.id, accept=True, channel="link", now=clock.now(), ctx=app.state.offer_context)
        s.commit()
        assignment = s.exec(select(Assignment).where(Assignment.request_id == care.id)).one()
        pending = s.exec(select(Offer).where(Offer.request_id == offered["id"],
                                             Offer.status == OfferStatus.pending)).first()
    later = clock.now() + timedelta(days=3)
    code = client.post("/apply", data={**APPLY_FORM, "guardian_phone": "010-5550-3333"}, follow_redirects=False)
    assert code.status_code == 303, code.text
    return {
        "ref": care.ref, "request_id": care.id, "provider_id": assignment.provider_id,
        "workspace": "/p/" + links.sign(secret, "provider", assignment.provider_id, later),
        "shift": "/p/" + links.sign(secret, "provider", assignment.provider_id, later) + f"/r/{care.ref}",
        "offer": links.offer_url("", secret, pending.id, pending.expires_at),
        "status": links.status_url("", secret, care.id, later),
        "apply_status": "/apply/s/" + links.sign(secret, "apply-status", care.id, later),
        "apply_code": code.headers["location"],
    }


def test_every_page_family_is_secured_and_has_no_inline_script_or_style(client, engine, world):
    assert sign_in(client, engine).status_code == 303
    pages = {"board": "/console", "request": f"/console/requests/{world['ref']}",
             "print": f"/console/requests/{world['ref']}/print", "providers": "/console/providers",
             "outbox": "/console/outbox", "map": "/console/map", "stats": "/console/stats",
             "new": "/console/new", "centre-report": "/console/centre-report?month=2026-11&city=평택시",
             "forms": f"/console/requests/{world['ref']}/forms",
             "forms-print": f"/console/requests/{world['ref']}/forms/print",
             "records": f"/console/requests/{world['ref']}/records", "adjustments": "/console/adjustments",
             "followups": "/console/followups", "workspace": world["workspace"], "shift": world["shift"],
             "apply": "/apply", "apply-code": world["apply_code"], "apply-status": world["apply_status"],
             "offer-link": world["offer"], "status-link": world["status"]}
    for name, path in pages.items():
        res = client.get(path)
        assert res.status_code == 200, (name, res.status_code)
        assert res.headers["content-type"].startswith("text/html"), name
        assert_secured(res, name, no_store=True)
        assert_no_inline(res.text, name)
    client.post("/console/logout")
    login = client.get("/console/login")
    assert_secured(login, "login", no_store=True)
    assert_no_inline(login.text, "login")


def test_json_answers_with_personal_data_are_secured_and_not_stored(client, operator, world):
    token = client.post("/v1/auth/token", data={"username": "op-kim", "password": "test-password-1"})
    assert token.status_code == 200
    assert_secured(token, "token", no_store=True)
    for path in ("/v1/requests", f"/v1/requests/{world['request_id']}", "/v1/providers",
                 f"/v1/providers/{world['provider_id']}", f"/v1/providers/{world['provider_id']}/offers",
                 "/v1/auth/me"):
        res = client.get(path, headers=operator)
        assert res.status_code == 200 and res.headers["content-type"].startswith("application/json"), path
        assert_secured(res, path, no_store=True)


def test_error_answers_and_static_files_are_secured(client, engine, operator):
    assert sign_in(client, engine).status_code == 303
    page = client.get("/console/requests/NOPE-1", headers={"accept": "text/html"})
    assert page.status_code == 404 and "찾는 화면" in page.text
    assert_secured(page, "console 404 page", no_store=True)
    assert_no_inline(page.text, "console 404 page")
    gone = client.get("/p/forged.token.x")
    assert gone.status_code == 404
    assert_secured(gone, "gone link", no_store=True)
    problem = client.get("/v1/requests/999999", headers=operator)
    assert problem.status_code == 404 and problem.headers["content-type"] == "application/problem+json"
    assert_secured(problem, "problem+json", no_store=True)
    nul = client.get("/console?q=%00")  # refused by the outermost middleware that checks input
    assert nul.status_code == 422
    assert_secured(nul, "NUL refused", no_store=False)
    unknown = client.get("/nowhere")
    assert unknown.status_code == 404
    assert_secured(unknown, "unknown path", no_store=False)
    for path in ("/static/dolbom.css", "/static/console.js", "/static/pages.js", "/healthz"):
        res = client.get(path)
        assert res.status_code == 200, path
        assert_secured(res, path, no_store=False)


def test_docs_serve_swagger_ui_from_this_server(client):
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert_secured(docs, "docs", no_store=False)
    assert_no_inline(docs.text, "docs")
    assets = re.findall(r'(?:src|href)="([^"]+)"', docs.text)
    assert assets and all(a.startswith("/") for a in assets), assets
    for asset in assets:
        assert client.get(asset).status_code == 200, asset
    assert client.get("/redoc").status_code == 404  # ReDoc needs inline styles (and loaded fonts from a CDN)
    assert client.get("/openapi.json").status_code == 200


def test_no_template_keeps_inline_script_or_style_or_a_cdn():
    """Every template (pages rendered above cover the HTML built in Python, the centre report's SVG charts):
    nothing the CSP would block, and no CDN anywhere in the app's templates, scripts and styles."""
    for path in sorted((REPO_ROOT / "api" / "templates").rglob("*.html")):
        assert_no_inline(path.read_text(encoding="utf-8"), str(path.relative_to(REPO_ROOT)))
    for path in sorted((REPO_ROOT / "api" / "static").glob("*")):
        assert not CDN.search(path.read_text(encoding="utf-8")), path
