"""Issue 21, the operators' group, in Debian's chromium at desktop (1366×900) and phone (390×844) size, on
the suite's frozen clock: the sign-in's end is announced ten minutes before it, and a new call typed when it
runs out comes back filled after signing in again (the clock is moved, nothing sleeps); the board counts
adjustment requests and follow-up cases (also in the menu); a search finds a cancelled request; provider
names instead of codes; a message after every save; the workspace-link button says what it did."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from conftest import NOW, PASSWORD, request_body
from test_journey import DESKTOP, PHONE, expect, launch_chromium, playwright_api, served_world, shot, sign_in

CODE = re.compile(r"\bpt-[a-z]\d+")
SIZES = {"desktop": DESKTOP, "phone": PHONE}


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Iterator[dict]:
    with served_world(tmp_path_factory.mktemp("operators")) as served, playwright_api.sync_playwright() as p:
        browser = launch_chromium(p)
        yield {**served, "browser": browser}
        browser.close()


def context(world, size: str):
    ctx = world["browser"].new_context(viewport=SIZES[size], locale="ko-KR", is_mobile=size == "phone",
                                       has_touch=size == "phone")
    ctx.set_default_timeout(10000)
    return ctx


def drafts_kept(page) -> list[str]:
    return page.evaluate("() => Object.keys(sessionStorage).filter(k => k.startsWith('dolbom.'))")


@pytest.mark.parametrize("size,phone", [("desktop", "010-5550-6101"), ("phone", "010-5550-6102")])
def test_a_call_typed_as_the_sign_in_runs_out_comes_back_filled(world, size, phone):
    base, clock, settings = world["base"], world["clock"], world["settings"]
    clock.set(NOW)
    ctx = context(world, size)
    page = ctx.new_page()
    sign_in(page, base)
    page.goto(f"{base}/console/new")
    expect(page.locator("#session-warning")).to_have_count(0)  # eight hours ahead: no warning
    for field, value in [("#guardian_name", "한소망"), ("#guardian_phone", phone), ("#child0_name", "하람"),
                         ("#child0_birth", "20190601")]:
        page.fill(field, value)
    page.click("#add-child")
    page.fill("#child1_name", "가온")
    page.fill("#child1_birth", "20170303")
    for field, value in [("#day", "1125"), ("#start_time", "0900"), ("#end_time", "1700"),
                         ("#place", "평택시 비전동"), ("#address", "평택시 비전동 88")]:
        page.fill(field, value)
    page.click("details.more summary")
    page.fill("#notes", "보호자 수술")
    page.select_option("#reason", "illness")
    page.check("#consent")

    # ten minutes before the end the page says so (after a reload the typed call is filled in again)
    clock.set(NOW + timedelta(minutes=settings.token_minutes - 5))
    page.reload()
    expect(page.locator("#session-warning")).to_contain_text("로그인이 5분 뒤(16:00)에 끝납니다")
    expect(page.locator("#guardian_name")).to_have_value("한소망")
    shot(page, f"{size}-session-warning")

    # the sign-in runs out; the call is sent: the sign-in page explains, and after it the form is back
    clock.set(NOW + timedelta(minutes=settings.token_minutes, seconds=30))
    page.click("#submit-intake")
    page.wait_for_url(re.compile(r"/console/login\?next=/console/new"))
    expect(page.locator("#signin-expired")).to_contain_text("로그인 유지 시간(8시간)이 끝나")
    shot(page, f"{size}-signin-expired")
    page.fill("#u", "op-park")
    page.fill("#p", PASSWORD)
    page.press("#p", "Enter")
    page.wait_for_url(f"{base}/console/new")
    expect(page.locator("#draft-restored")).to_contain_text("다시 채웠습니다")
    for field, value in [("#guardian_name", "한소망"), ("#guardian_phone", phone), ("#child0_name", "하람"),
                         ("#child1_name", "가온"), ("#child1_birth", "20170303"), ("#day", "1125"),
                         ("#end_time", "1700"), ("#address", "평택시 비전동 88"), ("#notes", "보호자 수술")]:
        expect(page.locator(field)).to_have_value(value)
    expect(page.locator("#consent")).to_be_checked()
    shot(page, f"{size}-intake-restored")
    page.click("#submit-intake")
    page.wait_for_url(re.compile(r"/console/requests/R\w+$"))
    expect(page.locator("[role=status]")).to_contain_text("접수했습니다")
    expect(page.locator("body")).to_contain_text("하람(만 7세), 가온(만 9세)")
    assert drafts_kept(page) == []  # the call is logged: nothing of the child stays in the tab
    # a draft left in a form is forgotten at sign-out
    page.goto(f"{base}/console/new")
    page.fill("#guardian_name", "임시")
    assert drafts_kept(page)
    page.click("#logout")
    page.wait_for_url(re.compile(r"/console/login"))
    assert drafts_kept(page) == []
    ctx.close()
    clock.set(NOW)


@pytest.fixture(scope="module")
def seeded(world) -> dict:
    """A cancelled call from 최유나 (…4444), a call outside every radius (unmatched: its reasons name
    providers by code), a placed request with an extension waiting and a follow-up case."""
    from hotline import offers
    from hotline.aftercare.service import open_case
    from hotline.models import CareRequest, Offer, OfferStatus, Provider
    from hotline.records.service import ask_adjustment
    from hotline.requests.intake import active_assignment
    from hotline.requests.schemas import CareRequestCreate

    clock, settings = world["clock"], world["settings"]
    clock.set(NOW)
    ctx = offers.OfferContext(settings=settings, places=world["places"])

    def call(**body):
        with Session(world["engine"], expire_on_commit=False) as s:
            created = offers.take_call(s, CareRequestCreate.model_validate(request_body(**body)),
                                       actor="operator:op-park", now=clock.now(), ctx=ctx)
            s.commit()
            return created.request

    yuna = call(guardian={"name": "최유나", "phone": "010-5550-4444"})
    with Session(world["engine"]) as s:
        offers.cancel_request(s, s.get(CareRequest, yuna.id), actor="operator:op-park", now=clock.now(),
                              reason="상담원 취소: 중복 접수")
        s.commit()
    far = call(guardian={"name": "남궁별", "phone": "010-5550-5151"},
               location={"address": "안성시 석정동 1", "place": "안성시"})
    kept = call(guardian={"name": "오다솜", "phone": "010-5550-7171"})
    with Session(world["engine"]) as s:
        care = s.get(CareRequest, kept.id)
        offer = s.exec(select(Offer).where(Offer.request_id == care.id, Offer.status == OfferStatus.pending)).first()
        assert offers.answer(s, offer.id, accept=True, channel="link", now=clock.now(), ctx=ctx) == offers.Outcome.accepted
        s.commit()
        assignment = active_assignment(s, care)
        ask_adjustment(s, s.get(Provider, assignment.provider_id), care, assignment, kind="extend", minutes=60,
                       reason="보호자 귀가 지연", now=clock.now(), settings=settings)
        open_case(s, care, source="survey", reason="만족도 1점", now=clock.now())
        s.commit()
        names = [p.name for p in s.exec(select(Provider))]
    return {"yuna": yuna.ref, "far": far.ref, "kept": kept.ref, "names": names}


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_board_counts_search_names_and_messages(world, seeded, size):
    base = world["base"]
    ctx = context(world, size)
    page = ctx.new_page()
    sign_in(page, base)

    # the board and the menu count what waits beside the requests
    expect(page.locator("#count-adjustments")).to_have_text("1")
    expect(page.locator("#count-followups")).to_have_text("1")
    expect(page.locator("#nav-adjustments .nav-count")).to_contain_text("1")
    expect(page.locator("#nav-followups .nav-count")).to_contain_text("1")
    expect(page.locator("#work-adjustments")).to_contain_text(seeded["kept"])
    expect(page.locator("#work-followups")).to_contain_text("만족도 1점")

    # names, not codes: the board's 지금 처리 and the request's banner
    now_group = page.locator("section.group-now")
    expect(now_group).to_contain_text(seeded["far"])
    text = now_group.inner_text()
    assert not CODE.search(text) and any(n in text for n in seeded["names"]), text
    shot(page, f"{size}-board-work")

    # the search finds the cancelled call by the last four digits and by name; the filter offers 취소
    for typed in ("4444", "최유나"):
        page.fill("#f-q", typed)
        page.click("#search-submit")
        expect(page.locator("#g-past")).to_contain_text("지난 요청")
        expect(page.locator("section.group-past")).to_contain_text(seeded["yuna"])
        expect(page.locator("section.group-past")).to_contain_text("취소")
    shot(page, f"{size}-board-search-cancelled")
    page.fill("#f-q", "")
    page.select_option("#f-status", "cancelled")
    page.click("#search-submit")
    expect(page.locator("section.group-past")).to_contain_text(seeded["yuna"])
    page.fill("#f-q", "0000")
    page.click("#search-submit")
    expect(page.locator("#no-results")).to_contain_text("찾는 요청이 없습니다")
    expect(page.locator("#no-results")).to_contain_text("조건 없이 찾기")

    page.goto(f"{base}/console/requests/{seeded['far']}")
    banner = page.locator("main .card.warn").first.inner_text()
    assert not CODE.search(banner) and any(n in banner for n in seeded["names"]), banner

    # a message after each save
    page.fill("#note", "보호자에게 반경 밖 기관 안내")
    page.click("#note-submit")
    expect(page.locator("[role=status]")).to_contain_text("메모를 남겼습니다")
    page.goto(f"{base}/console/requests/{seeded['far']}/forms")
    page.fill("#official_name", "오지원")
    page.fill("#official_org", "안성시 석정동 행정복지센터")
    page.uncheck("#consent_confirmed")  # (ticked on a form saved before, at the other size)
    page.click("#save-referral")  # no consent tick: refused, nothing typed lost, the tick marked and focused
    expect(page.locator("#errors")).to_contain_text("보호자 동의를 확인하고")
    expect(page.locator("#official_org")).to_have_value("안성시 석정동 행정복지센터")
    expect(page.locator("#consent_confirmed")).to_be_focused()
    page.check("#consent_confirmed")
    page.click("#save-referral")
    expect(page.locator("#saved")).to_contain_text("서비스 제공의뢰서를 저장했습니다")
    page.fill("#visitor", "")
    page.check("#chk-child_safe")
    page.check("#chk-place_safe")
    page.click("#save-visit")  # no visitor: the boxes stay ticked
    expect(page.locator("#chk-child_safe")).to_be_checked()
    expect(page.locator("#chk-place_safe")).to_be_checked()
    page.fill("#visitor", "오지원")
    page.click("#save-visit")
    expect(page.locator("#saved")).to_contain_text("현장확인 체크리스트를 기록했습니다")
    shot(page, f"{size}-forms-saved")

    # the workspace-link button says that the text went out
    page.goto(f"{base}/console/providers")
    page.locator("button[id^=link-]").first.click()
    expect(page.locator("#msg")).to_contain_text("업무 화면 링크 문자를 보냈습니다")
    shot(page, f"{size}-providers-link-sent")
    ctx.close()
