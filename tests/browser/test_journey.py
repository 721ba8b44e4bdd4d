"""The operator's journey in a real browser: Playwright for Python driving Debian's chromium
(/usr/bin/chromium, no browser download) against the app served by uvicorn on a loopback port, on the
suite's frozen clock. One journey through the acceptance list of issue 11, then screenshots of every page
at desktop (1366×900) and phone (390×844) size into var/screenshots/, a scan of the rendered text for
English status words and raw codes, and an accessibility check (labels, landmarks, visible focus).

Skipped, with the reason, where chromium or Playwright is missing; .ci/run installs both."""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlmodel import Session, select

from conftest import NOW, PASSWORD
from hotline.core.clock import FrozenClock
from hotline.core.config import REPO_ROOT, Settings

CHROMIUM = os.environ.get("DOLBOM_CHROMIUM", "/usr/bin/chromium")
SHOTS = REPO_ROOT / "var" / "screenshots"
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--no-first-run"]

REQUIRED = os.environ.get("DOLBOM_BROWSER_TESTS") == "required"  # set by .ci/run: CI must run them
try:
    import playwright.sync_api as playwright_api
except ImportError:
    if REQUIRED:
        raise
    pytest.skip("Playwright for Python is not installed (pip install -e '.[test]')", allow_module_level=True)
if not Path(CHROMIUM).exists():
    if REQUIRED:
        raise RuntimeError(f"chromium not found at {CHROMIUM}: .ci/install-system-packages should have installed it")
    pytest.skip(f"chromium not found at {CHROMIUM} (Debian: apt-get install chromium; .ci/run installs it)",
                allow_module_level=True)

expect = playwright_api.expect


class LiveServer:
    """The app on 127.0.0.1 and a free port, served by uvicorn from a thread."""

    def __init__(self, app):
        import uvicorn

        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        sock.close()
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.server.install_signal_handlers = lambda: None  # not the main thread
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.base = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "LiveServer":
        self.thread.start()
        for _ in range(200):  # up to 20 s on a busy machine: waiting for the socket, not for a job
            if self.server.started:
                return self
            time.sleep(0.1)
        raise RuntimeError("uvicorn did not start")

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@contextmanager
def served_world(directory: Path) -> Iterator[dict]:
    """A SQLite database with the demo providers and an operator, the app on the frozen clock, served."""
    from api.main import create_app
    from hotline.core.db import make_engine
    from hotline.models import create_all
    from hotline.places.geo import load_places
    from hotline.models import Role
    from hotline.accounts.security import ensure_user
    from hotline.demo.seed import seed_demo

    settings = Settings(environment="test", database_url=f"sqlite:///{directory / 'dolbom.db'}",
                        data_dir=REPO_ROOT / "data", secret_key="test-secret-0123456789abcdef0123456789")
    engine = make_engine(settings.database_url)
    create_all(engine)
    clock = FrozenClock(NOW)
    places = load_places(settings.data_dir)
    with Session(engine) as s:
        seed_demo(s, settings.data_dir, now=clock.now(), places=places, operator=("demo-op", PASSWORD))
        ensure_user(s, "op-park", PASSWORD, Role.operator, full_name="박상담")
        s.commit()
    app = create_app(settings, engine=engine, clock=clock)
    with LiveServer(app) as server:
        yield {"base": server.base, "engine": engine, "settings": settings, "clock": clock, "places": places}
    engine.dispose()


def launch_chromium(p):
    # the browser runs on the machine's real clock even when the suite runs under faketime: countdowns
    # follow the server's clock by an offset, and nothing here reads the browser's date
    env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "FAKETIME", "FAKETIME_DONT_RESET")}
    return p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS, env=env)


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Iterator[dict]:
    with served_world(tmp_path_factory.mktemp("browser")) as served:
        yield served


@pytest.fixture(scope="module")
def browser(world):
    with playwright_api.sync_playwright() as p:
        b = launch_chromium(p)
        yield b
        b.close()


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


class Keys:
    """The operator's keyboard: every press and every field typed counts as one key action."""

    def __init__(self, page):
        self.page, self.actions = page, 0

    def type(self, text: str) -> None:
        self.page.keyboard.type(text)
        self.actions += 1

    def press(self, key: str) -> None:
        self.page.keyboard.press(key)
        self.actions += 1


def sign_in(page, base: str) -> None:
    page.goto(f"{base}/console/login")
    page.fill("#u", "op-park")
    page.fill("#p", PASSWORD)
    page.press("#p", "Enter")
    page.wait_for_url(f"{base}/console")


def test_the_operator_journey(world, browser):
    from hotline.core.links import offer_url
    from hotline.models import CareRequest, Offer, OfferStatus
    from test_console import english_words

    base, engine = world["base"], world["engine"]
    desk = browser.new_context(viewport=DESKTOP, locale="ko-KR")
    page = desk.new_page()
    sign_in(page, base)

    # a 2-child call, keyboard only
    page.goto(f"{base}/console/new")
    expect(page.locator("#guardian_name")).to_be_focused()
    keys = Keys(page)
    for step in [("type", "최하람"), ("press", "Tab"), ("type", "010-5550-4321"), ("press", "Tab"),
                 ("press", "Tab"),  # 사유: 보호자 질병 stays
                 ("type", "하윤"), ("press", "Tab"), ("type", "20190601"), ("press", "Enter"),  # Enter adds a child
                 ("type", "지호"), ("press", "Tab"), ("type", "20160210"),
                 ("press", "Tab"), ("press", "Tab"), ("press", "Tab"),  # past 삭제 and 아동 추가
                 ("type", "1125"), ("press", "Tab"), ("type", "0900"), ("press", "Tab"), ("type", "1800"),
                 ("press", "Tab"), ("type", "평택시 지산동"), ("press", "Tab"), ("type", "평택시 지산동 55"),
                 ("press", "Tab"), ("press", "Space"), ("press", "Control+Enter")]:
        getattr(keys, step[0])(step[1])
    page.wait_for_url(re.compile(r"/console/requests/R\w+$"))
    assert keys.actions <= 30, keys.actions
    ref = page.url.rsplit("/", 1)[1]
    expect(page.locator("#status")).to_have_text("제안 중")
    expect(page.locator("#offers")).to_contain_text("응답 대기")
    expect(page.locator("body")).to_contain_text("하윤(만 7세), 지호(만 10세)")

    # a second call from the same phone: the caller panel warns while typing, the form refuses until confirmed
    page.goto(f"{base}/console/new")
    page.fill("#guardian_name", "최하람")
    page.fill("#day", "1125")
    page.fill("#start_time", "1300")
    page.fill("#end_time", "1900")
    page.locator("#guardian_phone").press_sequentially("01055504321")
    expect(page.locator("#caller-overlap")).to_contain_text("같은 시간대에 진행 중인 접수가 1건")
    expect(page.locator("#caller-panel")).to_contain_text(ref)
    shot(page, "desktop-intake-duplicate")
    page.fill("#child0_name", "하윤")
    page.fill("#child0_birth", "20190601")
    page.fill("#place", "평택시 지산동")
    page.fill("#address", "평택시 지산동 55")
    page.check("#consent")
    page.click("#submit-intake")
    expect(page.locator("#overlap-warning")).to_contain_text(ref)

    # the offer went out: the provider opens its link on a phone and accepts, the board shows 확정 at once
    page.goto(f"{base}/console")
    row = page.locator(f'tr[data-ref="{ref}"]')
    expect(row).to_contain_text("제안 중")
    with Session(engine) as s:
        care = s.exec(select(CareRequest).where(CareRequest.ref == ref)).one()
        offer = s.exec(select(Offer).where(Offer.request_id == care.id, Offer.status == OfferStatus.pending)
                       .order_by(Offer.rank)).first()
    link = offer_url(base, world["settings"].secret_key, offer.id, offer.expires_at)
    phone = browser.new_context(viewport=PHONE, locale="ko-KR", is_mobile=True, has_touch=True)
    mobile = phone.new_page()
    mobile.goto(link)
    shot(mobile, "phone-offer-link")
    mobile.get_by_role("button", name="수락").click()
    expect(mobile.locator("body")).to_contain_text("수락이 확정되었습니다")
    accepted_at = time.monotonic()
    expect(row).to_contain_text("확정", timeout=3000)  # no reload: the board polls its version
    assert time.monotonic() - accepted_at < 3
    mobile.goto(link)
    expect(mobile.locator("body")).to_contain_text("수락하셨습니다")  # not "마감" for the one who accepted
    phone.close()

    # an unmatched request: the operator offers it to the provider of their choice, with a reason
    from test_console import unmatched_request

    stuck = unmatched_request(engine, world["places"], world["settings"], world["clock"])
    page.goto(f"{base}/console/requests/{stuck}")
    expect(page.locator("#status")).to_have_text("미매칭")
    page.check("#pick-2")
    page.fill("#offer-reason", "보호자와 통화: 이 기관 선호")
    page.click("#offer-submit")
    expect(page.locator("[role=status]")).to_contain_text("제안 문자를 보냈습니다")
    expect(page.locator("#status")).to_have_text("제안 중")
    expect(page.locator("#events")).to_contain_text("보호자와 통화: 이 기관 선호")

    # cancelling needs a reason (and a confirmation)
    page.goto(f"{base}/console/requests/{ref}")
    page.click("#cancel-submit")
    expect(page.locator("#action-errors")).to_contain_text("사유를 입력해 주세요")
    expect(page.locator("#status")).to_have_text("확정")
    page.fill("#cancel-reason", "보호자 요청: 가족이 돌봄")
    page.check("#cancel-confirm")
    page.click("#cancel-submit")
    expect(page.locator("#status")).to_have_text("취소")

    # sign-out ends the session: the old cookie is refused
    cookies = desk.cookies()
    page.click("#logout")
    page.wait_for_url(re.compile(r"/console/login"))
    again = browser.new_context(viewport=DESKTOP)
    again.add_cookies(cookies)
    old = again.new_page()
    old.goto(f"{base}/console")
    assert old.url.startswith(f"{base}/console/login")
    again.close()
    assert english_words(page.content()) == []
    desk.close()


def test_every_page_screenshots_korean_text_and_accessibility(world, browser):
    """Each page at both sizes: a screenshot, no English status word in its text, labelled inputs,
    landmarks, and a visible focus ring."""
    from hotline.core.links import offer_url, status_url
    from hotline.models import CareRequest, Offer
    from test_console import ENGLISH, unmatched_request

    base, engine = world["base"], world["engine"]
    stuck = unmatched_request(engine, world["places"], world["settings"], world["clock"], phone="010-5550-8888")
    with Session(engine) as s:
        care = s.exec(select(CareRequest).order_by(CareRequest.id)).first()
        offer = s.exec(select(Offer).order_by(Offer.id)).first()
    secret = world["settings"].secret_key
    pages = {"board": "/console", "intake": "/console/new", "request": f"/console/requests/{care.ref}",
             "unmatched": f"/console/requests/{stuck}", "print": f"/console/requests/{care.ref}/print",
             "providers": "/console/providers", "outbox": "/console/outbox", "map": "/console/map",
             "stats": "/console/stats",
             "offer-link": offer_url("", secret, offer.id, offer.expires_at),
             "status-link": status_url("", secret, care.id, care.end_at)}
    # tests/browser/test_every_page.py owns the folder's `*-page-*` shots (it clears stale ones, runs first)
    for size_name, size in (("desktop", DESKTOP), ("phone", PHONE)):
        ctx = browser.new_context(viewport=size, locale="ko-KR")
        page = ctx.new_page()
        page.goto(f"{base}/console/login")
        shot(page, f"{size_name}-page-login")
        sign_in(page, base)
        for name, path in pages.items():
            res = page.goto(base + path)
            assert res.status == 200, (name, res.status)
            assert res.headers.get("cache-control") == "no-store", name
            page.wait_for_load_state("load")
            shot(page, f"{size_name}-page-{name}")
            text = page.inner_text("body")
            assert not ENGLISH.findall(text), (name, sorted({m.group(0) for m in ENGLISH.finditer(text)}))
            if size_name == "desktop":
                check_accessibility(page, name)
        ctx.close()
    assert all((SHOTS / f"{s}-page-{n}.png").exists() for s in ("desktop", "phone") for n in ["login", *pages])


def check_accessibility(page, name: str) -> None:
    unlabelled = page.evaluate("""() => Array.from(document.querySelectorAll('input, select, textarea'))
        .filter(el => el.type !== 'hidden' && !el.closest('template'))
        .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby'))
        .map(el => el.name || el.id)""")
    assert unlabelled == [], (name, unlabelled)
    # native date pickers show "mm/dd/yyyy" in an English-language chromium: days are typed as digits
    assert page.locator("input[type=date], input[type=datetime-local]").count() == 0, name
    assert page.locator("main").count() == 1, name
    if not name.endswith("link") and name != "print":
        assert page.locator("header[role=banner], header").count() >= 1 and page.locator("nav").count() >= 1, name
    assert page.locator("h1").count() == 1, name
    page.keyboard.press("Tab")
    outline = page.evaluate("""() => { const el = document.activeElement; if (!el || el === document.body) return null;
        const s = getComputedStyle(el); return [s.outlineStyle, s.outlineWidth]; }""")
    if outline is None:  # nothing to focus on this page (an answered offer has no buttons left)
        assert page.locator("a[href], button:not([disabled]), input:not([type=hidden]), select, textarea").count() == 0
        return
    assert outline[0] != "none" and outline[1] != "0px", (name, outline)
