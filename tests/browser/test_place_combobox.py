"""The place combobox (issue 22) in a real browser, keyboard only: the console's new-call form and the
parents' /apply suggest 시·군·구 and 동 as typed (초성 too), ↓/Enter pick one, Escape closes the list, and
the ARIA 1.2 combobox attributes follow (role, aria-expanded, aria-activedescendant on the input)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from test_journey import DESKTOP, PHONE, expect, launch_chromium, playwright_api, served_world, shot, sign_in


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Iterator[dict]:
    with served_world(tmp_path_factory.mktemp("combobox")) as served, playwright_api.sync_playwright() as p:
        browser = launch_chromium(p)
        yield {**served, "browser": browser}
        browser.close()


def test_the_console_place_field_suggests_and_takes_a_dong_by_keyboard(world):
    desk = world["browser"].new_context(viewport=DESKTOP, locale="ko-KR")
    desk.set_default_timeout(8000)
    page = desk.new_page()
    sign_in(page, world["base"])
    page.goto(f"{world['base']}/console/new")
    field = page.locator("#place")
    expect(field).to_have_attribute("role", "combobox")
    expect(field).to_have_attribute("aria-expanded", "false")
    field.focus()
    page.keyboard.type("ㅁㅌ")  # 초성 of 매탄
    listbox = page.get_by_role("listbox", name="지역 제안")
    expect(listbox.get_by_role("option").first).to_contain_text("수원시 영통구 매탄동")
    expect(field).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("ArrowDown")
    active = field.get_attribute("aria-activedescendant")
    expect(page.locator(f"#{active}")).to_have_attribute("aria-selected", "true")
    shot(page, "desktop-place-combobox")
    page.keyboard.press("Enter")  # takes the suggestion; does not submit the form
    expect(field).to_have_value("수원시 영통구 매탄동")
    expect(field).to_have_attribute("aria-expanded", "false")
    expect(page.locator(".place-chosen")).to_contain_text("선택한 지역: 수원시 영통구 매탄동")
    assert page.url.endswith("/console/new")

    field.fill("")
    page.keyboard.type("신흥")
    options = listbox.get_by_role("option")
    expect(options).to_have_count(2)
    expect(listbox).to_contain_text("성남시 수정구 신흥동")
    page.keyboard.press("Escape")
    expect(field).to_have_attribute("aria-expanded", "false")
    expect(field).to_have_value("신흥")
    desk.close()


def test_the_parent_picks_a_place_on_apply(world):
    phone = world["browser"].new_context(viewport=PHONE, locale="ko-KR", is_mobile=True, has_touch=True)
    phone.set_default_timeout(8000)
    page = phone.new_page()
    page.goto(f"{world['base']}/apply")
    field = page.locator("#place")
    field.focus()
    page.keyboard.type("평택 비전")
    option = page.get_by_role("option", name="평택시 비전동")
    expect(option).to_be_visible()
    option.tap()
    expect(field).to_have_value("평택시 비전동")
    shot(page, "phone-apply-place")
    phone.close()
