"""Hostile text from parents and staff (issue 18): whatever a parent can type must render on every page that
shows it, masking never raises, names need a visible letter, and free text is stored as NFC."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from conftest import request_body
from test_console import accept_first_offer, sign_in
from hotline.models import CareRequest, OutboxMessage
from hotline.privacy.masking import mask, mask_text


# --- defect 1: a phone-like string in a parent's text breaks the operators' pages ------------------

@pytest.mark.parametrize("written", ["+999 1234 5678", "+0 1234567", "+82 99 9999 9999 9999", "+1 (000) 000-0000"])
def test_masking_never_raises_and_hides_the_digits(written):
    masked = mask_text(f"주소 {written} 동")
    assert masked.startswith("주소 ") and masked.endswith(" 동")
    digits = "".join(c for c in written if c.isdigit())
    assert digits not in "".join(c for c in masked if c.isdigit() or c == "*")
    assert mask("+9991234") is not None and mask("not a number") == "not a number"


@pytest.mark.parametrize("written", ["+999 1234 5678", "+0 1234567"])
def test_a_phone_like_address_keeps_the_outbox_and_request_pages_open(client, engine, demo, app, clock, operator,
                                                                      written):
    body = request_body(location={"address": f"평택시 비전동 {written}", "place": "평택시 비전동"})
    res = client.post("/v1/requests", json=body, headers=operator)
    assert res.status_code == 201, res.text
    ref = res.json()["ref"]
    accept_first_offer(engine, app, clock, ref)  # the confirmation SMS carries the address
    with Session(engine) as s:
        care = s.exec(select(CareRequest).where(CareRequest.ref == ref)).one()
        assert any(written in m.body for m in s.exec(select(OutboxMessage).where(OutboxMessage.request_id == care.id)))
    sign_in(client, engine)
    for path in ("/console/outbox", f"/console/requests/{ref}", "/console", f"/console/requests/{ref}/print"):
        page = client.get(path)
        assert page.status_code == 200, (path, page.text[:300])


# --- defect 7: names made only of invisible characters ---------------------------------------------

INVISIBLE = ["\u3164", "\u115f\u1160", "\u200d", "\ufeff", "a" + "\u0301" * 50, "\u3164\u3164 \u200d"]


@pytest.mark.parametrize("name", INVISIBLE)
def test_a_name_needs_a_visible_letter(client, operator, admin, demo, engine, name):
    from test_api_providers import NEW

    for body, field in ((request_body(guardian={"name": name, "phone": "010-5550-1234", "language": "ko"}), "guardian.name"),
                        (request_body(children=[{"first_name": name, "birth_date": "2021-03-14"}]),
                         "children[0].first_name")):
        res = client.post("/v1/requests", json=body, headers=operator)
        assert res.status_code == 422, res.text
        assert res.json()["errors"][0]["field"] == field and res.json()["errors"][0]["message"]
    res = client.post("/v1/providers", json={**NEW, "name": name}, headers=admin)
    assert res.status_code == 422 and res.json()["errors"][0]["field"] == "name"
    with Session(engine) as s:
        assert s.exec(select(CareRequest)).first() is None


def test_the_forms_refuse_an_invisible_name_in_korean(client, engine, demo):
    from test_applications import FORM as APPLY
    from test_console import FORM

    assert client.post("/apply", data={**APPLY, "guardian_name": "\u3164"}).status_code == 422
    sign_in(client, engine)
    res = client.post("/console/new", data={**FORM, "child0_name": "\u200d"})
    assert res.status_code == 422 and "보이는 글자" in res.text


# --- defect 8: decomposed Korean (NFD) ---------------------------------------------------------------

def nfd(text: str) -> str:
    import unicodedata
    return unicodedata.normalize("NFD", text)


def test_decomposed_korean_is_stored_composed_and_found(client, operator, engine, demo):
    eleven = "강낭달람망방상앙장창캉"  # 11 syllables: 33 code points once decomposed, over the 30 allowed
    assert len(nfd(eleven)) == 33
    body = request_body(guardian={"name": nfd("홍길동"), "phone": "010-5550-1234", "language": "ko"},
                        children=[{"first_name": nfd(eleven), "birth_date": "2021-03-14"}],
                        notes=nfd("보호자 입원"), location={"address": nfd("평택시 비전동 123-4"), "place": nfd("평택시 비전동")})
    res = client.post("/v1/requests", json=body, headers=operator)
    assert res.status_code == 201, res.text
    ref = res.json()["ref"]
    with Session(engine) as s:
        care = s.exec(select(CareRequest).where(CareRequest.ref == ref)).one()
        assert care.notes == "보호자 입원" and care.address == "평택시 비전동 123-4"
    detail = client.get(f"/v1/requests/{ref}", headers=operator).json()
    assert detail["guardian"]["name"] == "홍길동" and detail["children"][0]["first_name"] == eleven
    sign_in(client, engine)
    for typed in ("홍길동", nfd("홍길동")):
        assert ref in client.get("/console", params={"q": typed}).text


def test_text_typed_into_a_workspace_form_is_stored_composed(client, app, engine, clock, operator, demo):
    from datetime import datetime

    from hotline.core.clock import SEOUL
    from hotline.models.records import ServiceLog
    from test_records import placed

    ref, care_id, assignment, home = placed(client, app, engine, clock, operator)
    clock.set(datetime(2026, 11, 25, 9, 0, tzinfo=SEOUL))
    client.post(f"{home}/r/{ref}/checkin", data={"code": assignment.handover_code})
    res = client.post(f"{home}/r/{ref}/log", data={"start_time": "09:00", "end_time": "18:00",
                                                   "activities": nfd("그림 그리기"), "meals": "점심", "notes": ""},
                      follow_redirects=False)
    assert res.status_code == 303
    with Session(engine) as s:
        assert s.exec(select(ServiceLog)).one().activities == "그림 그리기"


# --- acceptance 4: hostile text in every free-text field of every form and API body ------------------

HOSTILE = {
    "nul": "김\x00하늘",
    "bidi": "\u202e늘하김 \u2066x\u2069",
    "marks": "a" + "\u0301" * 10_000,
    "emoji": "👩‍👧 하늘🌈",
    "nfd": nfd("홍길동 평택시 지산동"),
    "phone-like": "+999 1234 5678 / +0 1234567",
    "invisible": "\u3164\u200d",
    "markup": "<script>alert(1)</script>\"'&",
}
REFUSED = (413, 422)  # a clear refusal: problem+json or the form again with its message


def answered(res, *ok: int) -> int:
    assert res.status_code in (*ok, *REFUSED), (res.status_code, res.text[:300])
    if res.status_code in REFUSED and res.headers["content-type"].startswith("application/problem+json"):
        assert res.json()["detail"] and res.json()["detail_en"]
    return res.status_code


def every_text_is_nfc(engine) -> list[str]:
    import unicodedata

    from sqlalchemy import String, Text, text

    from hotline.models import create_all  # noqa: F401  (every table registered)
    from sqlmodel import SQLModel

    found = []
    with Session(engine) as s:
        for table in SQLModel.metadata.sorted_tables:
            columns = [c.name for c in table.columns  # SQLModel's AutoString wraps String
                       if isinstance(getattr(c.type, "impl", c.type), (String, Text))]
            for column in columns:
                for (value,) in s.exec(text(f'SELECT "{column}" FROM "{table.name}"')):
                    if isinstance(value, str) and unicodedata.normalize("NFC", value) != value:
                        found.append(f"{table.name}.{column}")
    return found


@pytest.mark.parametrize("kind", list(HOSTILE))
def test_hostile_text_anywhere_is_refused_or_stored_as_nfc_and_every_page_still_opens(
        client, app, engine, clock, operator, admin, demo, kind):
    from datetime import datetime, timedelta

    from hotline import offers
    from hotline.core import links
    from hotline.core.clock import SEOUL
    from hotline.models import Offer
    from test_api_providers import NEW
    from test_applications import FORM as APPLY
    from test_console import FORM as CALL
    from test_records import placed

    bad = HOSTILE[kind]
    ref, care_id, assignment, home = placed(client, app, engine, clock, operator)  # a request to write about
    shift = f"{home}/r/{ref}"
    # the API: every free-text field of a request, a cancellation and a provider
    for field, body in (("guardian", request_body(guardian={"name": bad, "phone": "010-5550-3333", "language": "ko"})),
                        ("child", request_body(children=[{"first_name": bad, "birth_date": "2020-01-01"}])),
                        ("notes", request_body(notes=bad)),
                        ("address", request_body(location={"address": bad, "place": "평택시 비전동"})),
                        ("health", request_body(health_notes=bad, consent={"guardian_consent": True,
                                                                           "health_consent": True}))):
        res = client.post("/v1/requests", json=body, headers=operator)
        if answered(res, 201) == 201:  # accepted: the confirmation texts carry the names and the address
            with Session(engine) as s:
                care = s.exec(select(CareRequest).where(CareRequest.ref == res.json()["ref"])).one()
                offer = s.exec(select(Offer).where(Offer.request_id == care.id)).first()
                if offer is not None:
                    offers.answer(s, offer.id, accept=True, channel="link", now=clock.now(), ctx=app.state.offer_context)
                    s.commit()
    answered(client.post("/v1/providers", json={**NEW, "name": bad, "code": f"pt-h-{kind}"}, headers=admin), 201)
    answered(client.post("/v1/providers", json={**NEW, "address": bad, "code": f"pt-a-{kind}"}, headers=admin), 201)
    # the parent's online form
    for i, field in enumerate(("guardian_name", "child0_name", "address", "notes")):  # a phone each: 3 codes an hour
        answered(client.post("/apply", data={**APPLY, field: bad, "guardian_phone": f"010-5551-000{i}"},
                             follow_redirects=False), 303)
    # the provider's workspace, on the day of care
    clock.set(datetime(2026, 11, 25, 9, 0, tzinfo=SEOUL))
    answered(client.post(f"{shift}/checkin", data={"code": assignment.handover_code}, follow_redirects=False), 303)
    log = {"start_time": "09:00", "end_time": "12:00", "activities": "그림", "meals": "점심", "notes": ""}
    for field in ("activities", "meals", "notes", "incident_note"):
        answered(client.post(f"{shift}/log", data={**log, field: bad, "incident": "yes"}, follow_redirects=False), 303)
    answered(client.post(f"{shift}/adjust", data={"kind": "extend", "minutes": "30", "reason": bad},
                         follow_redirects=False), 303)
    # the operator's console: a call, a note, the official's forms, a cancellation
    sign_in(client, engine)
    for field in ("guardian_name", "child0_name", "notes", "address"):
        answered(client.post("/console/new", data={**CALL, field: bad, "idempotency_key": f"h-{kind}-{field}",
                                                         "confirm_overlap": "1"},
                             follow_redirects=False), 303)
    answered(client.post(f"/console/requests/{ref}/note", data={"note": bad}), 200)
    answered(client.post(f"/console/requests/{ref}/forms/referral",
                         data={"official_name": bad, "official_org": bad, "service_kind": "emergency",
                               "needs_summary": bad}, follow_redirects=False), 303)
    answered(client.post(f"/console/requests/{ref}/forms/site-visit", data={"visitor": bad, "findings": bad},
                         follow_redirects=False), 303)

    found = every_text_is_nfc(engine)
    assert found == []
    status = "/s/" + links.sign(app.state.settings.secret_key, "status", care_id, clock.now() + timedelta(days=2))
    manage = "/apply/s/" + links.sign(app.state.settings.secret_key, "apply-status", care_id,
                                      clock.now() + timedelta(days=2))
    with Session(engine) as s:
        refs = list(s.exec(select(CareRequest.ref)))
    moved = client.get(status, follow_redirects=False)  # the SMS link leads to the parent's one page
    assert moved.status_code == 303 and moved.headers["location"].startswith("/apply/s/")
    pages = ["/console", "/console/outbox", "/console/providers", "/console/map", "/console/stats",
             "/console/adjustments", "/console/followups", "/console/centre-report", moved.headers["location"],
             manage, home, shift]
    for r in refs:
        pages += [f"/console/requests/{r}", f"/console/requests/{r}/print", f"/console/requests/{r}/forms",
                  f"/console/requests/{r}/records"]
    for path in pages:
        res = client.get(path, follow_redirects=False)
        assert res.status_code == 200, (kind, path, res.status_code, res.text[:300])


def test_masking_never_raises_on_any_text():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    phone_like = st.from_regex(r"\+?[0-9 ()+-]{0,25}", fullmatch=True)

    @settings(max_examples=400, derandomize=True, database=None, deadline=None)
    @given(st.one_of(st.text(), phone_like))
    def never_raises(text: str) -> None:
        assert isinstance(mask_text(text), str)
        assert mask(text) is None or isinstance(mask(text), str)

    never_raises()


def test_no_accepted_text_grows_when_normalised():
    """Length limits are counted after NFC; a character NFC would lengthen is refused, so that text within
    its limit as typed (what the OpenAPI document promises) is within it as stored."""
    import sys
    import unicodedata

    from hotline.core.text import GROWS_WHEN_NORMALISED, has_control

    grows = {chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c < 0xE000
             and len(unicodedata.normalize("NFC", chr(c))) > 1}
    assert grows == GROWS_WHEN_NORMALISED and all(has_control(c) for c in grows)
