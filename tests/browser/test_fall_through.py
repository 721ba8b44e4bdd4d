"""Issue 19, acceptance 1, in a real browser: a provider withdraws from a confirmed care on its workspace
page (a reason and a confirmation) → the parent gets one text → the request is back at the top of the
operator's board with the reason → another provider confirms through the offer loop (its offer link) →
the withdrawal is in the request's history and in the provider's record on the providers page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from test_journey import DESKTOP, PHONE, expect, launch_chromium, playwright_api, served_world, shot, sign_in


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Iterator[dict]:
    with served_world(tmp_path_factory.mktemp("fallthrough")) as served, playwright_api.sync_playwright() as p:
        browser = launch_chromium(p)
        yield {**served, "browser": browser}
        browser.close()


def test_a_provider_withdraws_on_its_page_and_another_takes_the_child(world):
    from conftest import request_body
    from hotline import offers
    from hotline.core import links
    from hotline.models import Assignment, CareRequest, Offer, OfferStatus, OutboxMessage, Provider, RequestEvent
    from hotline.requests.schemas import CareRequestCreate

    base, engine, clock, settings = world["base"], world["engine"], world["clock"], world["settings"]
    ctx = offers.OfferContext(settings=settings, places=world["places"])
    with Session(engine) as s:  # a call, confirmed by the first provider asked
        created = offers.take_call(s, CareRequestCreate.model_validate(request_body()), actor="operator:op-park",
                                   now=clock.now(), ctx=ctx)
        s.commit()
        care_id, ref = created.request.id, created.request.ref
        first = s.exec(select(Offer).where(Offer.request_id == care_id, Offer.status == OfferStatus.pending)).first()
        assert offers.answer(s, first.id, accept=True, channel="link", now=clock.now(), ctx=ctx) == offers.Outcome.accepted
        s.commit()
        withdrawing = s.get(Provider, first.provider_id)

    phone = world["browser"].new_context(viewport=PHONE, locale="ko-KR", is_mobile=True, has_touch=True)
    phone.set_default_timeout(8000)
    page = phone.new_page()
    workspace = f"{base}/p/{links.sign(settings.secret_key, 'provider', withdrawing.id, clock.now() + timedelta(days=30))}"
    page.goto(workspace)
    page.click(f"text={ref}")
    page.fill("#withdraw-reason", "담당 선생님 갑작스러운 병가")
    page.click("#withdraw")  # without the confirmation: refused, the reason kept
    expect(page.locator("#withdraw-reason")).to_have_value("담당 선생님 갑작스러운 병가")
    with Session(engine) as s:
        assert s.get(CareRequest, care_id).status == "confirmed"
    page.check("#withdraw-confirm")
    page.click("#withdraw")
    expect(page.locator("#done")).to_contain_text("돌봄 취소를 접수했습니다")
    shot(page, "phone-provider-withdraws")

    with Session(engine) as s:
        care = s.get(CareRequest, care_id)
        texts = s.exec(select(OutboxMessage).where(OutboxMessage.request_id == care_id,
                                                   OutboxMessage.kind == "fallthrough_parent")).all()
        assert len(texts) == 1 and care.status == "offered" and care.needs_attention
        second = s.exec(select(Offer).where(Offer.request_id == care_id, Offer.status == OfferStatus.pending)).first()
        assert second is not None and second.provider_id != withdrawing.id
        offer_link = links.offer_url(base, settings.secret_key, second.id, second.expires_at)

    desk = world["browser"].new_context(viewport=DESKTOP, locale="ko-KR")
    operator = desk.new_page()
    sign_in(operator, base)
    top = operator.locator("tr[data-ref]").first  # back at the top of the board, with the reason
    expect(top).to_have_attribute("data-ref", ref)
    expect(top).to_contain_text("기관 취소")
    expect(top).to_contain_text("병가")
    shot(operator, "desk-board-after-withdrawal")

    other = phone.new_page()  # another provider confirms through the offer loop
    other.goto(offer_link)
    other.click("button[value=accept]")
    operator.goto(f"{base}/console/requests/{ref}")
    expect(operator.locator("#status")).to_have_text("확정")
    history = operator.locator("body").inner_text()
    assert "기관 취소" in history and "병가" in history
    operator.goto(f"{base}/console/providers")
    row = operator.locator("tr", has_text=withdrawing.name)
    expect(row.locator(".fell-through")).to_contain_text("1회")
    with Session(engine) as s:
        placed = s.exec(select(Assignment).where(Assignment.request_id == care_id, Assignment.active == True)).one()  # noqa: E712
        events = s.exec(select(RequestEvent).where(RequestEvent.request_id == care_id)).all()
        assert placed.provider_id == second.provider_id
        assert s.get(Offer, first.id).status == OfferStatus.retracted
        assert any((e.detail or {}).get("fall_through") == "withdrawal" for e in events)
