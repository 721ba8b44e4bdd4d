"""Issue 21, the parents' group, in Debian's chromium at desktop (1366×900) and phone (390×844) size: a
parent applies online and gets it wrong first. Each wrong field is marked (aria-invalid, its message beside
it), a summary links to each, the focus lands on the first; the messages say what is true (the end before
the start, a child who is already 13) in Korean only; the code can be sent again; the one status page says
in the parent's words what happens next and, when a provider accepts, changes by itself — no reload — and
says so in a polite live region. The page's timers run on Playwright's clock, moved on explicitly."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from sqlmodel import Session, select

from test_journey import DESKTOP, PHONE, expect, launch_chromium, playwright_api, served_world, shot

axe_sync = pytest.importorskip("axe_playwright_python.sync_playwright")
SIZES = {"desktop": (DESKTOP, "010-5550-6101"), "phone": (PHONE, "010-5550-6202")}


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[dict]:
    with served_world(tmp_path_factory.mktemp("parents")) as served, playwright_api.sync_playwright() as p:
        browser = launch_chromium(p)
        yield {**served, "browser": browser}
        browser.close()


def latest(engine, kind: str) -> str:
    from hotline.models import OutboxMessage

    with Session(engine) as s:
        return s.exec(select(OutboxMessage.body).where(OutboxMessage.kind == kind)
                      .order_by(OutboxMessage.id.desc())).first()


def no_violations(page) -> list:
    """axe-core's findings on the page as it stands (the marked form, the refreshed status page)."""
    return [(v["id"], [n["target"] for n in v["nodes"]]) for v in axe_sync.Axe().run(page).response["violations"]]


def fill(page, **fields) -> None:
    for field, value in fields.items():
        page.fill(f"#{field}", value)


@pytest.mark.parametrize("size", list(SIZES))
def test_a_parent_gets_the_form_wrong_then_right_and_watches_the_status_page(site, size):
    from hotline.models import CareRequest, Offer, OfferStatus

    viewport, phone = SIZES[size]
    base, engine, settings = site["base"], site["engine"], site["settings"]
    ctx = site["browser"].new_context(viewport=viewport, locale="ko-KR", is_mobile=size == "phone",
                                      has_touch=size == "phone")
    ctx.set_default_timeout(8000)
    page = ctx.new_page()
    page.clock.install()  # the status page's polling timer runs only when the test moves this clock

    # 1. wrong phone, the end before the start, no consent: each field marked, the first focused
    page.goto(f"{base}/apply")
    expect(page.locator("input[placeholder]")).to_have_count(0)  # no example that could pass for an answer
    expect(page.locator("#hotline")).to_have_text(settings.hotline_number)
    fill(page, guardian_name="정다온", guardian_phone="010-12", child0_name="하린", child0_birth="2013-01-01",
         day="2026-11-25", start_time="18:00", end_time="09:00", place="평택시 비전동", address="평택시 비전동 77")
    with page.expect_navigation():
        page.click("#send-code")
    expect(page.locator("#guardian_phone")).to_be_focused()
    expect(page.locator("#guardian_phone")).to_be_in_viewport()
    invalid = page.locator("[aria-invalid=true]").evaluate_all("els => els.map(e => e.id)")
    assert invalid == ["guardian_phone", "end_time", "consent"], invalid
    links = page.locator(".error-summary a").evaluate_all("els => els.map(e => e.getAttribute('href'))")
    assert links == ["#guardian_phone", "#end_time", "#consent"], links
    described = page.locator("#end_time").get_attribute("aria-describedby").split()
    assert "end_time-error" in described
    expect(page.locator("#end_time-error")).to_contain_text("종료 시각(09:00)이 시작 시각(18:00)보다 빠릅니다")
    expect(page.locator("#guardian_name")).to_have_value("정다온")  # what was typed stays
    expect(page.locator("#child0_birth")).to_have_value("2013-01-01")
    assert page.locator("[lang=en]").count() == 0 and "The end" not in page.inner_text("main")
    shot(page, f"{size}-apply-errors")
    assert no_violations(page) == []
    page.locator(".error-summary a[href='#end_time']").click()
    expect(page.locator("#end_time")).to_be_focused()
    expect(page.locator("label[for=end_time]")).to_be_in_viewport()

    # 2. the form is readable now: the child born 2013-01-01 is already 13, and told so
    fill(page, guardian_phone=phone, start_time="09:00", end_time="17:00")
    page.check("#consent")
    with page.expect_navigation():
        page.click("#send-code")
    expect(page.locator("#child0_birth")).to_be_focused()
    expect(page.locator("#child0_birth-error")).to_contain_text("하린 어린이는 이미 만 13세입니다")
    expect(page.locator("#child0_birth-error")).to_contain_text("2026년 1월 1일에 만 13세가 되었습니다")
    expect(page.locator("#child0_birth-error")).not_to_contain_text("돌봄 중")

    # 3. right at last: the code page, and a second code sent (the first no longer works)
    fill(page, child0_birth="2019-06-01")
    page.click("#send-code")
    page.wait_for_url(re.compile(r"/apply/code/"))
    expect(page.locator("#code")).to_be_focused()
    first_code = re.search(r"\d{6}", latest(engine, "apply_code")).group()
    page.click("#resend-code")
    page.wait_for_url(re.compile(r"/apply/code/.*\?sent=1"))
    expect(page.locator("#sent")).to_contain_text("새 인증번호를 보냈습니다")
    expect(page.locator("#change-number")).to_be_visible()
    second_code = re.search(r"\d{6}", latest(engine, "apply_code")).group()
    if first_code != second_code:  # one in a million they are the same
        page.fill("#code", first_code)
        page.click("#confirm-code")
        expect(page.locator("#code-error")).to_contain_text("맞지 않습니다")
        expect(page.locator("#code")).to_be_focused()
    page.fill("#code", second_code)
    page.click("#confirm-code")
    page.wait_for_url(re.compile(r"/apply/s/"))

    # 4. the one status page, in the parent's words, with what happens next and when
    expect(page.locator("#status")).to_have_text("기관 답 기다리는 중")
    expect(page.locator("#headline")).to_contain_text("수락을 기다리고 있습니다")
    expect(page.locator("#next-steps")).to_contain_text("보통 15분 안에 정해집니다")
    assert "제안 중" not in page.inner_text("main")
    shot(page, f"{size}-apply-status-waiting")

    # 5. a provider accepts: the page changes by itself when its timer next runs — no reload
    page.evaluate("() => { window.__same_page = true; }")
    with Session(engine) as s:
        care = s.exec(select(CareRequest).where(CareRequest.ref == page.locator("#ref").inner_text())).one()
        offer = s.exec(select(Offer).where(Offer.request_id == care.id, Offer.status == OfferStatus.pending)
                       .order_by(Offer.rank)).first()
    from hotline.core.links import offer_url

    link = offer_url(base, settings.secret_key, offer.id, offer.expires_at)
    assert httpx.post(link, data={"action": "accept"}).status_code == 200
    expect(page.locator("#status")).to_have_text("기관 답 기다리는 중")  # not before the page asks
    page.clock.run_for(11_000)  # past the 10-second poll
    expect(page.locator("#status")).to_have_text("돌봄 확정")
    expect(page.locator("#announce")).to_contain_text("돌봄 확정")
    expect(page.locator("#handover-code")).to_have_text(re.compile(r"^\d{4}$"))
    assert page.evaluate("() => window.__same_page") is True  # swapped in place, not reloaded
    expect(page.locator("#next-steps")).to_contain_text("1시간 전에 문자로")
    shot(page, f"{size}-apply-status-confirmed")
    assert no_violations(page) == []
    ctx.close()
