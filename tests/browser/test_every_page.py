"""Every page of the service (console, official forms, parent, provider), in Debian's chromium at desktop
(1366×900) and phone (390×844) size, each visited once per size for three checks (issue 21):

- a screenshot into var/screenshots/ (`<size>-page-<name>.png`);
- axe-core (the copy shipped inside axe-playwright-python, no download) with its default rules finds 0
  violations (acceptance 2);
- a Korean page speaks Korean (acceptance 3): no English word in its visible text or title outside the
  language switch (`[data-lang-switch]`), no element marked `lang="en"`, and no unfinished particle
  ("을(를)", "이(가)", …). Allowed: the few Latin words below and codes with digits (A7, R…, pt-f01).

The pages are in the states a person meets them in: a request offered, one placed and checked in with an
extension waiting, one the offer loop gave up on, a follow-up case, an online application waiting for its
code, expired links. A provider whose language is English gets the English workspace instead."""

from __future__ import annotations

import re
from pprint import pformat
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
import pytest
from sqlmodel import Session, select

from conftest import NOW, PASSWORD, request_body
from hotline.core.clock import SEOUL
from test_journey import DESKTOP, PHONE, SHOTS, expect, launch_chromium, playwright_api, served_world, sign_in

# every page at two sizes is the longest test of the suite: .ci/run runs it once, at the real date
pytestmark = pytest.mark.slow

axe_sync = pytest.importorskip("axe_playwright_python.sync_playwright")

# Latin words a Korean page may show: names of formats, the SMS itself, kilometres, the keys of the
# operator's keyboard shortcuts as printed on the keys
ALLOWED_LATIN = frozenset({"SMS", "CSV", "XLSX", "km", "Ctrl", "Enter", "Tab", "Esc"})
# a word of two or more Latin letters; codes are not words: request refs (R and 7 of 23456789A–Z, some all
# letters), reply codes (A7) and provider codes (pt-f01) carry digits or are refs
LATIN_WORD = re.compile(r"(?<![A-Za-z0-9])[A-Za-z][A-Za-z0-9_.-]*")
REF = re.compile(r"R[2-9A-HJ-NP-Z]{7}")
URL = re.compile(r"https?://\S+")  # the links inside SMS texts (the outbox shows them)
UNFINISHED = re.compile(r"\((?:을|를|이|가|은|는|와|과|으|로)\)")
IN_CARE = datetime(2026, 11, 25, 9, 30, tzinfo=SEOUL)  # the placed care has begun: check-in, log, check-out


@dataclass
class PageSpec:
    path: str
    status: int = 200
    at: datetime = NOW  # the server's clock while the page is shown
    korean: bool = True  # False: the English version of a page (a provider whose language is English)
    console: bool = True  # needs the operator's session


def english_words(text: str) -> list[str]:
    return sorted({w for w in LATIN_WORD.findall(URL.sub(" ", text))
                   if w not in ALLOWED_LATIN and not REF.fullmatch(w) and not any(c.isdigit() for c in w)
                   and sum(c.isalpha() for c in w) >= 2})


def unfinished_particles(text: str) -> list[str]:
    return sorted({text[max(m.start() - 8, 0):m.end()] for m in UNFINISHED.finditer(text)})


# the visible text of a page without its language switch, its title, and the elements marked lang
VISIBLE = """() => {
    const shown = document.body.innerText;
    const switches = Array.from(document.querySelectorAll('[data-lang-switch]')).map(el => el.innerText);
    let text = shown;
    for (const s of switches) text = text.split(s).join(' ');
    const marked = Array.from(document.querySelectorAll('body [lang]'))
        .filter(el => !el.closest('[data-lang-switch]')).map(el => el.getAttribute('lang') + ': ' + el.textContent.trim().slice(0, 40));
    return {text: text + '\\n' + document.title, lang: document.documentElement.lang, marked: marked};
}"""


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[dict]:
    with served_world(tmp_path_factory.mktemp("every-page")) as served, playwright_api.sync_playwright() as p:
        browser = launch_chromium(p)
        yield {**served, "browser": browser, "pages": _pages(served)}
        browser.close()


def _pages(served) -> dict[str, PageSpec]:
    """Requests in every state a page shows, made through the API and the pages' own forms."""
    from hotline import offers
    from hotline.aftercare.service import open_case
    from hotline.applications import service as applications
    from hotline.core import links
    from hotline.models import Assignment, CareRequest, Offer, OfferStatus, Provider
    from hotline.records.service import link_purpose
    from hotline.requests.schemas import CareRequestCreate
    from test_console import unmatched_request

    base, engine, clock, settings = served["base"], served["engine"], served["clock"], served["settings"]
    secret = settings.secret_key
    later = NOW + timedelta(days=3)
    token = httpx.post(f"{base}/v1/auth/token", data={"username": "op-park", "password": PASSWORD}).json()
    auth = {"Authorization": f"Bearer {token['access_token']}"}

    def call(**changes) -> dict:
        res = httpx.post(f"{base}/v1/requests", json=request_body(**changes), headers=auth)
        assert res.status_code == 201, res.text
        return res.json()

    def pending_offer(request_id: int, language: str | None = None) -> Offer:
        with Session(engine) as s:
            asked = s.exec(select(Offer).where(Offer.request_id == request_id, Offer.status == OfferStatus.pending)
                           .order_by(Offer.rank)).all()
            return next(o for o in asked if language is None or s.get(Provider, o.provider_id).language == language)

    def accept(request_id: int) -> tuple[Provider, Assignment, str]:
        offer = pending_offer(request_id)
        answered = httpx.post(base + links.offer_url("", secret, offer.id, offer.expires_at), data={"action": "accept"})
        assert answered.status_code == 200, answered.text
        with Session(engine) as s:
            assignment = s.exec(select(Assignment).where(Assignment.request_id == request_id)).one()
            provider = s.get(Provider, assignment.provider_id)
        return provider, assignment, "/p/" + links.sign(secret, link_purpose(provider), provider.id, later)

    placed = call()
    provider, assignment, workspace = accept(placed["id"])
    # a second placement, not yet begun, with a provider whose language is English: the English workspace
    foreign = call(guardian={"name": "박서준", "phone": "010-5550-3333", "language": "ko"}, language="en",
                   start_at="2026-11-27T10:00:00+09:00", end_at="2026-11-27T16:00:00+09:00",
                   location={"address": "평택시 팽성읍 안정리 12", "place": "평택시 팽성읍"})
    foreign_provider, _, foreign_workspace = accept(foreign["id"])
    with Session(engine) as s:
        row = s.get(Provider, foreign_provider.id)
        row.language = "en"
        s.add(row)
        s.commit()
    waiting = call(guardian={"name": "이나래", "phone": "010-5550-2222", "language": "ko"},
                   start_at="2026-11-26T09:00:00+09:00", end_at="2026-11-26T17:00:00+09:00")
    offer = pending_offer(waiting["id"], "ko")
    stuck = unmatched_request(engine, served["places"], settings, clock, phone="010-5550-8888")

    # the placed care begins: check-in with the parent's handover code, a log, an extension to approve
    clock.set(IN_CARE)
    shift = f"{base}{workspace}/r/{placed['ref']}"
    with httpx.Client(follow_redirects=False) as http:
        assert http.post(f"{shift}/checkin", data={"code": assignment.handover_code}).status_code == 303
        assert http.post(f"{shift}/log", data={"start_time": "09:00", "end_time": "18:00", "activities": "블록 놀이",
                                                "meals": "점심"}).status_code == 303
        assert http.post(f"{shift}/adjust", data={"kind": "extend", "minutes": "60",
                                                   "reason": "보호자 귀가 지연"}).status_code == 303
    clock.set(NOW)
    ctx = offers.OfferContext(settings=settings, places=served["places"])
    with Session(engine, expire_on_commit=False) as s:
        care = s.get(CareRequest, placed["id"])
        open_case(s, care, source="survey", reason="만족도 2점", now=clock.now())
        body = CareRequestCreate.model_validate(request_body(guardian={"name": "정다온", "phone": "010-5550-3131",
                                                                       "language": "ko"}))
        ticket = applications.send_code(s, body, client="127.0.0.1", now=clock.now(), ctx=ctx, secret=secret)
        s.commit()
    code_token = links.sign(secret, "apply-code", ticket.id, ticket.expires_at)
    apply_status = "/apply/s/" + links.sign(secret, "apply-status", waiting["id"], later)
    ref = placed["ref"]
    public = {"console": False}
    return {
        # the operator's console
        "board": PageSpec("/console"), "intake": PageSpec("/console/new"),
        "request": PageSpec(f"/console/requests/{ref}"), "request-offered": PageSpec(f"/console/requests/{waiting['ref']}"),
        "unmatched": PageSpec(f"/console/requests/{stuck}"), "edit": PageSpec(f"/console/requests/{waiting['ref']}/edit"),
        "print": PageSpec(f"/console/requests/{ref}/print"), "records": PageSpec(f"/console/requests/{ref}/records"),
        "providers": PageSpec("/console/providers"), "outbox": PageSpec("/console/outbox"),
        "map": PageSpec("/console/map"), "stats": PageSpec("/console/stats"),
        "adjustments": PageSpec("/console/adjustments"), "followups": PageSpec("/console/followups"),
        "centre-report": PageSpec("/console/centre-report?month=2026-11&city=평택시"),
        "centre-report-province": PageSpec("/console/centre-report?month=2026-11"),
        "not-found": PageSpec("/console/requests/R0000000", status=404),
        # the official's forms
        "forms": PageSpec(f"/console/requests/{ref}/forms"), "forms-print": PageSpec(f"/console/requests/{ref}/forms/print"),
        # the parent
        "apply": PageSpec("/apply", **public), "apply-code": PageSpec(f"/apply/code/{code_token}", **public),
        "apply-status": PageSpec(apply_status, **public),
        "apply-gone": PageSpec("/apply/code/1.0.xxxxxxxxxxxx", status=410, **public),
        "status-link": PageSpec(links.status_url("", secret, waiting["id"], later), **public),
        # the provider
        "offer-link": PageSpec(links.offer_url("", secret, offer.id, offer.expires_at), **public),
        "link-gone": PageSpec("/o/1.0.xxxxxxxxxxxx", status=404, **public),
        "workspace": PageSpec(workspace, **public),
        "shift": PageSpec(f"{workspace}/r/{ref}", at=IN_CARE, **public),
        "checkout": PageSpec(f"{workspace}/r/{ref}/checkout", at=IN_CARE, **public),
        "shift-before": PageSpec(f"{foreign_workspace}/r/{foreign['ref']}", korean=False, **public),
        "workspace-en": PageSpec(foreign_workspace, korean=False, **public),
    }


@pytest.fixture(scope="module")
def visited(site) -> dict[str, dict]:
    """Each page at each size once: screenshot, axe's violations, its text as a reader meets it."""
    base, clock = site["base"], site["clock"]
    SHOTS.mkdir(parents=True, exist_ok=True)
    for old in SHOTS.glob("*-page-*.png"):
        old.unlink()
    axe = axe_sync.Axe()
    seen: dict[str, dict] = {}
    for size_name, size in (("desktop", DESKTOP), ("phone", PHONE)):
        ctx = site["browser"].new_context(viewport=size, locale="ko-KR", is_mobile=size is PHONE,
                                          has_touch=size is PHONE)
        ctx.set_default_timeout(10000)
        page = ctx.new_page()
        page.goto(f"{base}/console/login")
        pages = {"login": PageSpec("/console/login", console=False), **site["pages"]}
        _visit(page, axe, f"{size_name}/login", pages["login"], seen)
        seen[f"{size_name}/login"]["status"] = 200
        sign_in(page, base)
        for name, spec in site["pages"].items():
            clock.set(spec.at)
            res = page.goto(base + spec.path)
            _visit(page, axe, f"{size_name}/{name}", spec, seen)
            seen[f"{size_name}/{name}"]["status"] = res.status
        clock.set(NOW)
        ctx.close()
    return seen


def _visit(page, axe, key: str, spec: PageSpec, seen: dict) -> None:
    page.wait_for_load_state("load")
    size_name, name = key.split("/")
    page.screenshot(path=str(SHOTS / f"{size_name}-page-{name}.png"), full_page=True)
    violations = axe.run(page).response["violations"]
    found = page.evaluate(VISIBLE)
    seen[key] = {"spec": spec, "violations": [(v["id"], [n["target"] for n in v["nodes"]][:4]) for v in violations],
                 **found, "width": page.evaluate("document.documentElement.scrollWidth")}


def test_every_page_answers(visited):
    wrong = {key: v["status"] for key, v in visited.items() if v["status"] != v["spec"].status}
    assert wrong == {}


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_axe_finds_no_violations_on_any_page(visited, size):
    found = {key: v["violations"] for key, v in visited.items() if key.startswith(size) and v["violations"]}
    assert found == {}, pformat(found, width=150)


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_korean_pages_speak_korean(visited, size):
    wrong = {}
    for key, v in visited.items():
        if not key.startswith(size):
            continue
        if not v["spec"].korean:
            if v["lang"] != "en":
                wrong[key] = f"an English page says lang={v['lang']}"
            continue
        problems = english_words(v["text"]) + unfinished_particles(v["text"]) + v["marked"]
        if v["lang"] != "ko":
            problems.append(f"lang={v['lang']}")
        if problems:
            wrong[key] = problems
    assert wrong == {}, pformat(wrong, width=150)


def test_every_page_has_a_screenshot_at_both_sizes(visited, site):
    names = ["login", *site["pages"]]
    missing = [f"{s}-page-{n}" for s in ("desktop", "phone") for n in names
               if not (SHOTS / f"{s}-page-{n}.png").exists()]
    assert missing == [] and len(visited) == 2 * len(names)


def test_pages_fit_a_phone_and_chart_labels_are_legible(visited, site):
    """Nothing wider than the phone but what scrolls in its own region; the centre report's chart text is
    at least 12 px on screen."""
    too_wide = {k: v["width"] for k, v in visited.items() if k.startswith("phone/") and v["width"] > PHONE["width"]}
    assert too_wide == {}, too_wide
    ctx = site["browser"].new_context(viewport=PHONE, locale="ko-KR", is_mobile=True, has_touch=True)
    page = ctx.new_page()
    sign_in(page, site["base"])
    page.goto(site["base"] + site["pages"]["centre-report"].path)
    # the text's font size in the chart's units times the chart's scale on screen: its size in CSS pixels
    sizes = page.evaluate("""() => Array.from(document.querySelectorAll('svg.chart text'))
        .map(t => parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a)""")
    assert sizes and min(sizes) >= 12, sizes
    ctx.close()


def test_a_refused_second_extension_keeps_the_typed_reason(site):
    """The provider's phone: one extension waits for the operator; a second one is refused and the reason
    typed for it is still in the field, with the kind and minutes."""
    base, clock = site["base"], site["clock"]
    ctx = site["browser"].new_context(viewport=PHONE, locale="ko-KR", is_mobile=True, has_touch=True)
    ctx.set_default_timeout(8000)
    page = ctx.new_page()
    clock.set(IN_CARE)
    try:
        page.goto(base + site["pages"]["shift"].path)
        expect(page.locator(".adj-status").first).to_have_text("승인 대기")
        page.select_option("#kind", "extend")
        page.fill("#minutes", "30")
        page.fill("#reason", "아이 컨디션 저하, 보호자와 통화함")
        page.click("#ask-adjust")
        expect(page.locator("#errors")).to_contain_text("처리를 기다리는 조정신청이 이미 있습니다")
        expect(page.locator("#reason")).to_have_value("아이 컨디션 저하, 보호자와 통화함")
        expect(page.locator("#minutes")).to_have_value("30")
        expect(page.locator("#kind")).to_have_value("extend")
        assert "Adjustment" not in page.inner_text("body")  # the refusal in Korean only
    finally:
        clock.set(NOW)
        ctx.close()
