"""Issue 21, acceptance 5: the board with 200 active requests in chromium at 1366×900 (and at phone size).
At 181 requests it used to be 12,041 px tall with the content capped at ~1,060 px, so phones and times
wrapped and ~5 urgent rows fitted a screen. Now the console uses the page's width, the groups that need the
operator come first and open, the rest fold away (each with a page of its own), and the urgent rows are on
the first screen."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlmodel import Session

from conftest import NOW, request_body
from hotline.core.clock import SEOUL
from test_journey import DESKTOP, PHONE, expect, launch_chromium, playwright_api, served_world, shot, sign_in

MIX = {"unmatched": 12, "soon": 10, "waiting": 100, "placed": 78}  # 200 active requests


@pytest.fixture(scope="module")
def busy(tmp_path_factory) -> Iterator[dict]:
    with served_world(tmp_path_factory.mktemp("busy")) as served, playwright_api.sync_playwright() as p:
        seed(served)
        browser = launch_chromium(p)
        yield {**served, "browser": browser}
        browser.close()


def seed(world) -> None:
    from hotline.requests.intake import create_care_request
    from hotline.requests.schemas import CareRequestCreate

    today, tomorrow = NOW.date(), NOW.date() + timedelta(days=1)
    n = 0
    with Session(world["engine"]) as s:
        for kind, count in MIX.items():
            for _ in range(count):
                n += 1
                day, start, end = (today, 9, 13) if kind == "soon" else (tomorrow, 8 + n % 6, 14 + n % 6)
                body = request_body(
                    guardian={"name": f"보호자{n:03d}", "phone": f"010-5551-{n:04d}"},
                    children=[{"first_name": "하람", "birth_date": "2018-05-05"}],
                    start_at=datetime(day.year, day.month, day.day, start, 30, tzinfo=SEOUL).isoformat(),
                    end_at=datetime(day.year, day.month, day.day, end, 0, tzinfo=SEOUL).isoformat())
                care = create_care_request(s, CareRequestCreate.model_validate(body), actor="operator:op-park",
                                           now=NOW, settings=world["settings"], geocoder=world["places"]).request
                care.status = {"unmatched": "unmatched", "placed": "confirmed"}.get(kind, "matching")
                if kind == "unmatched":
                    care.needs_attention = True
                    care.attention_reason = "미매칭: 반경 내 기관 없음 → 반경을 9.0 km로 넓히면 pt-f01 가능"
                s.add(care)
        s.commit()


def test_the_urgent_rows_fit_the_first_screen_with_200_active_requests(busy):
    base = busy["base"]
    desk = busy["browser"].new_context(viewport=DESKTOP, locale="ko-KR")
    desk.set_default_timeout(10000)
    page = desk.new_page()
    sign_in(page, base)
    expect(page.locator("#board-summary")).to_contain_text("진행 중인 요청 200건")
    width = page.evaluate("() => document.querySelector('main').getBoundingClientRect().width")
    assert width > 1300, width  # the page's width, not a ~1,060 px column
    urgent = page.locator("section.group-now tbody tr")
    expect(urgent).to_have_count(MIX["unmatched"])
    bottoms = [urgent.nth(i).bounding_box() for i in range(MIX["unmatched"])]
    first_screen = [b for b in bottoms if b["y"] + b["height"] <= DESKTOP["height"]]
    assert len(first_screen) == MIX["unmatched"], bottoms  # all twelve (was ~5 a screen)
    assert "pt-f01" not in page.locator("section.group-now").inner_text()  # names, not codes
    # a row of the waiting groups does not wrap: phone and window on one line
    heights = page.evaluate("""() => Array.from(document.querySelectorAll('section.group-soon tbody tr'))
        .map(tr => tr.getBoundingClientRect().height)""")
    assert heights and max(heights) < 45, heights
    height = page.evaluate("() => document.documentElement.scrollHeight")
    assert height < 2 * DESKTOP["height"] + 600, height  # was 12,041 px at 181 requests
    shot(page, "desktop-board-200")

    # the rest is folded away and one click from its rows; its page shows them all
    waiting = page.locator("section.group-waiting details")
    expect(waiting).not_to_have_attribute("open", re.compile(".*"))
    page.locator("section.group-waiting summary").click()
    expect(page.locator("section.group-waiting tbody tr")).to_have_count(40)
    page.click("#more-waiting")
    page.wait_for_url(re.compile(r"group=waiting"))
    expect(page.locator("section.group-waiting tbody tr")).to_have_count(MIX["waiting"])
    desk.close()

    phone = busy["browser"].new_context(viewport=PHONE, locale="ko-KR", is_mobile=True, has_touch=True)
    page = phone.new_page()
    sign_in(page, base)
    expect(page.locator("section.group-now tbody tr").first).to_be_visible()
    assert page.evaluate("() => document.documentElement.scrollHeight") < 8 * PHONE["height"]
    shot(page, "phone-board-200")
    phone.close()
