"""Issue 18, defect 3, in a real browser (Debian's chromium, the app served on loopback): a page on another
local origin that frames the signed-in console and a provider's /p/ workspace gets empty frames; a script
injected into any page family is refused by the Content-Security-Policy, while the pages themselves (their
own scripts, the moved confirm and print buttons, the centre report's colours, Swagger UI on /docs) run
under it without a single violation and load nothing from another site."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from conftest import PASSWORD, request_body
from test_journey import DESKTOP, expect, launch_chromium, playwright_api, served_world, sign_in

# every CSP violation a page reports, recorded from before its first script runs
RECORD_VIOLATIONS = """window.__violations = [];
document.addEventListener('securitypolicyviolation', e =>
    window.__violations.push(e.effectiveDirective + ' ' + (e.blockedURI || '') + ' ' + e.sourceFile + ':' + e.lineNumber));"""

# what an attacker's injected markup would try: an inline script, an on*= handler, a style= attribute
INJECT = """() => new Promise(resolve => {
    const before = window.__violations.length;
    const script = document.createElement('script');
    script.textContent = 'window.__pwned = 1';
    document.body.appendChild(script);
    const div = document.createElement('div');
    div.setAttribute('onclick', 'window.__pwned_handler = 1');
    div.setAttribute('style', 'color: rgb(1, 2, 3)');
    document.body.appendChild(div);
    div.click();
    setTimeout(() => resolve({pwned: window.__pwned, handler: window.__pwned_handler,
                              styled: getComputedStyle(div).color === 'rgb(1, 2, 3)',
                              violations: window.__violations.slice(before)}), 100);
})"""


class OtherOrigin:
    """A tiny site on another loopback port: it serves the pages it is given (an attacker's framing page)."""

    def __init__(self):
        pages = self.pages = {}

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                body = pages.get(self.path, "<!doctype html><p>없음</p>").encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "OtherOrigin":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[dict]:
    with served_world(tmp_path_factory.mktemp("csp")) as served, OtherOrigin() as other, \
            playwright_api.sync_playwright() as p:
        browser = launch_chromium(p)
        yield {**served, "browser": browser, "other": other, "links": _links(served)}
        browser.close()


def _links(served) -> dict[str, str]:
    """Two calls through the API: one placed (its offer accepted on the link page), one still offered; the
    link of every kind for them, signed as the SMS would carry them."""
    from datetime import timedelta

    from sqlmodel import Session, select

    from hotline.core import links
    from hotline.models import Assignment, Offer, OfferStatus

    base, engine, clock, secret = served["base"], served["engine"], served["clock"], served["settings"].secret_key
    token = httpx.post(f"{base}/v1/auth/token", data={"username": "op-park", "password": PASSWORD}).json()
    auth = {"Authorization": f"Bearer {token['access_token']}"}
    placed = httpx.post(f"{base}/v1/requests", json=request_body(), headers=auth).json()
    offered = httpx.post(f"{base}/v1/requests", headers=auth, json=request_body(
        guardian={"name": "이나래", "phone": "010-5550-2222"})).json()

    def pending(request_id):
        with Session(engine) as s:
            offer = s.exec(select(Offer).where(Offer.request_id == request_id,
                                               Offer.status == OfferStatus.pending)).first()
            return links.offer_url("", secret, offer.id, offer.expires_at)

    accepted = httpx.post(base + pending(placed["id"]), data={"action": "accept"})
    assert accepted.status_code == 200, accepted.text
    with Session(engine) as s:
        provider_id = s.exec(select(Assignment).where(Assignment.request_id == placed["id"])).one().provider_id
    later = clock.now() + timedelta(days=3)
    workspace = "/p/" + links.sign(secret, "provider", provider_id, later)
    return {"ref": placed["ref"], "workspace": workspace, "shift": f"{workspace}/r/{placed['ref']}",
            "offer": pending(offered["id"]), "status": links.status_url("", secret, offered["id"], later),
            "apply_status": "/apply/s/" + links.sign(secret, "apply-status", offered["id"], later)}


def _desk(site):
    ctx = site["browser"].new_context(viewport=DESKTOP, locale="ko-KR")
    ctx.set_default_timeout(8000)
    ctx.add_init_script(RECORD_VIOLATIONS)
    return ctx


def test_another_origin_cannot_frame_the_console_or_a_workspace(site):
    base, other, workspace = site["base"], site["other"], site["links"]["workspace"]
    other.pages["/inner"] = "<!doctype html><p id=inner>our own frame</p>"
    other.pages["/attack"] = (f'<!doctype html><title>another site</title><h1>another site</h1>'
                              f'<iframe name="console" src="{base}/console" width="900" height="500"></iframe>'
                              f'<iframe name="workspace" src="{base}{workspace}" width="400" height="500"></iframe>'
                              f'<iframe name="control" src="/inner"></iframe>')
    ctx = _desk(site)
    page = ctx.new_page()
    sign_in(page, base)  # the operator is signed in: the session cookie goes along to a frame (same site)
    answered = {}
    page.on("response", lambda r: answered.setdefault(r.url.removeprefix(base), r.status))
    page.goto(f"{other.base}/attack")
    page.wait_for_load_state("load")
    # the browser asked for both pages, with the session (200, not the sign-in page) ...
    assert answered.get("/console") == 200 and answered.get(workspace) == 200, answered
    # ... and showed neither: a framing page loads its own frame, but ours stay empty
    expect(page.frame(name="control").locator("#inner")).to_have_text("our own frame")
    for name in ("console", "workspace"):
        frame = page.frame(name=name)
        assert not frame.url.startswith(base), (name, frame.url)
        shown = frame.evaluate("() => document.documentElement ? document.documentElement.innerText : ''")
        assert frame.locator("#board, header.bar, link[href='/static/dolbom.css']").count() == 0, name
        assert "돌봄" not in shown and "현황판" not in shown, (name, shown)
    ctx.close()


def test_injected_inline_script_is_blocked_on_every_page_family(site):
    base, links = site["base"], site["links"]
    pages = {"board": "/console", "request": f"/console/requests/{links['ref']}", "providers": "/console/providers",
             "outbox": "/console/outbox", "centre-report": "/console/centre-report?month=2026-11&city=평택시",
             "intake": "/console/new", "map": "/console/map", "print": f"/console/requests/{links['ref']}/print",
             "apply": "/apply", "offer-link": links["offer"], "status-link": links["status"],
             "apply-status": links["apply_status"], "workspace": links["workspace"], "shift": links["shift"]}
    ctx = _desk(site)
    elsewhere = []
    ctx.on("request", lambda r: None if r.url.startswith((base, "data:")) else elsewhere.append(r.url))
    page = ctx.new_page()
    sign_in(page, base)
    for name, path in pages.items():
        res = page.goto(base + path)
        assert res.status == 200, (name, res.status)
        page.wait_for_load_state("load")
        assert page.evaluate("window.__violations") == [], (name, "the page itself needs something inline")
        got = page.evaluate(INJECT)
        assert got["pwned"] is None and got["handler"] is None and not got["styled"], (name, got)
        blocked = {v.split()[0] for v in got["violations"]}
        assert {"script-src-elem", "script-src-attr", "style-src-attr"} <= blocked, (name, got["violations"])
    assert elsewhere == []
    ctx.close()


def test_the_pages_own_scripts_still_work_under_the_policy(site):
    """What was inline now comes from files: the print buttons, the parent's cancel confirmation, the centre
    report's colour keys; console.js's live board still swaps in news."""
    base, links = site["base"], site["links"]
    ctx = _desk(site)
    page = ctx.new_page()
    sign_in(page, base)
    for path in (f"/console/requests/{links['ref']}/print", f"/console/requests/{links['ref']}/forms/print"):
        page.goto(base + path)
        page.evaluate("() => { window.print = () => { window.__printed = true; }; }")
        page.click("[data-print]")
        assert page.evaluate("window.__printed") is True, path
    page.goto(f"{base}/console/centre-report?month=2026-11&city=평택시")
    assert page.evaluate("getComputedStyle(document.querySelector('.key.phone')).color") == "rgb(47, 111, 179)"
    assert page.evaluate("getComputedStyle(document.querySelector('.key.online')).color") == "rgb(224, 138, 30)"
    page.goto(f"{base}/console")
    expect(page.locator("#board [data-since]").first).not_to_have_text("")  # console.js ran
    assert page.evaluate("window.__violations") == []

    parent = ctx.new_page()
    parent.goto(base + links["apply_status"])
    asked = []
    parent.once("dialog", lambda d: (asked.append(d.message), d.dismiss()))
    parent.click("#cancel")
    parent.wait_for_timeout(300)
    assert asked == ["신청을 취소할까요?"] and parent.locator("#cancel").count() == 1  # not sent
    parent.once("dialog", lambda d: (asked.append(d.message), d.accept()))
    parent.click("#cancel")
    expect(parent.locator("body")).to_contain_text("신청을 취소했습니다")
    assert parent.evaluate("window.__violations") == []
    ctx.close()


def test_docs_run_swagger_ui_from_this_server(site):
    base = site["base"]
    ctx = _desk(site)
    elsewhere = []
    ctx.on("request", lambda r: None if r.url.startswith((base, "data:")) else elsewhere.append(r.url))
    page = ctx.new_page()
    page.goto(f"{base}/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("언제나 돌봄 hotline")
    expect(page.locator(".opblock-summary-path").first).to_be_visible()
    assert page.evaluate("window.__violations") == []
    assert elsewhere == []
    ctx.close()
