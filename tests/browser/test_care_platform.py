"""Acceptance of issue 12 in a real browser (Debian's chromium, the app served on loopback, the suite's
frozen clock): a parent applies online with the SMS code → is matched → the provider checks in with the
handover code, writes the daily log, asks to extend by an hour → the operator approves → the provider checks
out and files the result → the parent answers the survey with 2 → a follow-up case appears for the operator.
Phone-sized pages for the parent and the provider; screenshots into var/screenshots/."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlmodel import Session, select

from test_journey import DESKTOP, PHONE, expect, launch_chromium, playwright_api, served_world, shot, sign_in
from hotline.core.clock import SEOUL


@pytest.fixture(scope="module")
def platform(tmp_path_factory) -> Iterator[dict]:
    with served_world(tmp_path_factory.mktemp("platform")) as served, playwright_api.sync_playwright() as p:
        browser = launch_chromium(p)
        yield {**served, "browser": browser}
        browser.close()


def latest_text(engine, kind: str):
    from hotline.models import OutboxMessage

    with Session(engine) as s:
        return s.exec(select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id.desc())).first()


def test_parent_applies_online_and_a_low_score_is_followed_up(platform):
    from hotline.core import links
    from hotline.models import Assignment, CareRequest

    base, engine, clock, secret = platform["base"], platform["engine"], platform["clock"], platform["settings"].secret_key
    phone = platform["browser"].new_context(viewport=PHONE, locale="ko-KR", is_mobile=True, has_touch=True)
    phone.set_default_timeout(8000)
    parent = phone.new_page()

    # the parent applies on a phone, with the code texted to it
    parent.goto(f"{base}/apply")
    for field, value in [("#guardian_name", "정다온"), ("#guardian_phone", "010-5550-3131"), ("#child0_name", "하린"),
                         ("#child0_birth", "2019-06-01"), ("#day", "2026-11-25"), ("#start_time", "09:00"),
                         ("#end_time", "17:00"), ("#place", "평택시 비전동"), ("#address", "평택시 비전동 77")]:
        parent.fill(field, value)
    parent.check("#consent")
    shot(parent, "phone-apply-form")
    parent.click("#send-code")
    parent.wait_for_url(re.compile(r"/apply/code/"))
    code = re.search(r"\d{6}", latest_text(engine, "apply_code").body).group()
    parent.fill("#code", code)
    parent.click("#confirm-code")
    parent.wait_for_url(re.compile(r"/apply/s/"))
    status_page = parent.url
    expect(parent.locator("#status")).to_have_text("기관 답 기다리는 중")

    # matched: the provider accepts the offer on its link page
    offer_text = latest_text(engine, "offer")
    provider = phone.new_page()
    provider.goto(re.search(r"https?://\S+/o/\S+", offer_text.body).group().replace(platform["settings"].public_url, base))
    provider.click("button[value=accept]")
    parent.reload()
    expect(parent.locator("#status")).to_have_text("돌봄 확정")
    handover = parent.locator("#handover-code").inner_text()
    with Session(engine) as s:
        care = s.exec(select(CareRequest).where(CareRequest.created_by == "online:parent")).one()
        assignment = s.exec(select(Assignment).where(Assignment.request_id == care.id)).one()
    workspace = f"{base}/p/{links.sign(secret, 'provider', assignment.provider_id, clock.now() + timedelta(days=30))}"

    # the provider checks in with the parent's code, writes the log, asks for an hour more
    clock.set(datetime(2026, 11, 25, 9, 0, tzinfo=SEOUL))
    provider.goto(workspace)
    provider.click(f"text={care.ref}")
    provider.fill("#code", handover)
    provider.click("#checkin")
    expect(provider.locator("#done")).to_contain_text("입실")
    provider.fill("#start_time", "09:00")
    provider.fill("#end_time", "17:00")
    provider.fill("#activities", "블록 놀이, 동화 읽기")
    provider.fill("#meals", "점심, 오후 간식")
    provider.click("#save-log")
    expect(provider.locator("#done")).to_contain_text("일지")
    provider.select_option("#kind", "extend")
    provider.fill("#minutes", "60")
    provider.fill("#reason", "보호자 귀가 지연")
    provider.click("#ask-adjust")
    expect(provider.locator(".adj-status")).to_have_text("승인 대기")
    shot(provider, "phone-workspace-shift")

    # the operator approves the extension on the console; the operator sees the channel
    desk = platform["browser"].new_context(viewport=DESKTOP, locale="ko-KR")
    desk.set_default_timeout(8000)
    console = desk.new_page()
    sign_in(console, base)
    console.goto(f"{base}/console/requests/{care.ref}")
    expect(console.locator("#channel")).to_have_text("온라인")
    console.goto(f"{base}/console/adjustments")
    expect(console.locator("#adjustments")).to_contain_text("보호자 귀가 지연")
    console.locator("#adjustments button.primary").click()
    expect(console.locator("body")).to_contain_text("승인했습니다")
    provider.reload()
    expect(provider.locator(".adj-status")).to_have_text("승인")
    expect(provider.locator("#window")).to_contain_text("18:00")

    # the provider checks out after the extra hour and files the result
    clock.set(datetime(2026, 11, 25, 18, 0, tzinfo=SEOUL))
    provider.click("#checkout")
    expect(provider.locator("#checking-out")).to_contain_text("18:00")  # the confirmation step (issue 19)
    provider.click("#confirm-checkout")
    expect(provider.locator("#checked-out")).not_to_have_text("전")
    provider.select_option("#result-kind", "provided")
    provider.fill("#result-note", "연장 1시간 포함 제공")
    provider.click("#file-result")
    expect(provider.locator("#result")).to_have_text("제공 완료")

    # the parent answers the survey with 2; a follow-up case appears for the operator
    parent.goto(status_page)
    expect(parent.locator("#status")).to_have_text("돌봄 끝")
    parent.check("#score2")
    parent.click("#send-survey")
    expect(parent.locator("body")).to_contain_text("응답해 주셔서 감사합니다")
    shot(parent, "phone-apply-status")
    sign_in(console, base)  # the operator's next shift
    console.goto(f"{base}/console/followups")
    expect(console.locator("#followups")).to_contain_text(care.ref)
    expect(console.locator("#followups")).to_contain_text("만족도 2점")
    shot(console, "desktop-followups")
    console.goto(f"{base}/console/centre-report?month=2026-11&city=평택시")
    expect(console.locator('[data-key="calls_online"]')).to_have_text("1")
    shot(console, "desktop-centre-report")
    desk.close()
    phone.close()
