"""Intake API: creating, reading, listing and cancelling care requests as an operator would."""

from __future__ import annotations

import threading

import pytest
from sqlmodel import Session, func, select

from conftest import request_body
from hotline.models import CareRequest, Child, Guardian, RequestEvent


def count(engine, model) -> int:
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(model)).one()


def test_create_two_children_and_read_back(client, operator):
    res = client.post("/v1/requests", json=request_body(), headers=operator)
    assert res.status_code == 201, res.text
    created = res.json()
    assert res.headers["location"] == f"/v1/requests/{created['ref']}"
    assert [c["age_years"] for c in created["children"]] == [5, 9]
    assert created["guardian"]["phone_masked"] == "010-****-1234"
    assert created["place_code"] == "pyeongtaek.bijeon-dong" and created["city_ko"] == "평택시"
    assert created["start_at"] == "2026-11-25T09:00:00+09:00"
    assert created["consent_by"] == "operator:op-kim"

    again = client.get(f"/v1/requests/{created['ref']}", headers=operator).json()
    assert again["id"] == created["id"]
    assert again["events"][0]["to_status"] == "received" and again["events"][0]["actor"] == "operator:op-kim"
    # no provider is registered in this test: matching runs at once and escalates to the operators
    assert [e["to_status"] for e in again["events"]] == ["received", "matching", "unmatched"]
    assert again["status"] == "unmatched" and again["needs_attention"] is True
    assert "1234" not in str(again["guardian"]["phone_masked"])[:8]


def test_naive_times_are_seoul_time_and_stored_in_utc(client, operator, engine):
    body = request_body(start_at="2026-11-25T09:00:00", end_at="2026-11-25T18:00:00")
    res = client.post("/v1/requests", json=body, headers=operator)
    assert res.status_code == 201, res.text
    with Session(engine) as s:
        stored = s.exec(select(CareRequest)).one()
        assert stored.start_at.hour == 0 and stored.start_at.utcoffset().total_seconds() == 0


def refused(client, operator, engine, body, field: str, status: int = 422, **kw):
    res = client.post("/v1/requests", json=body, headers=operator, **kw)
    assert res.status_code == status, res.text
    assert res.headers["content-type"].startswith("application/problem+json")
    problem = res.json()
    assert problem["status"] == status and problem["title"] and problem["title_en"]
    fields = [e["field"] for e in problem.get("errors", [])]
    assert field in fields, problem
    error = next(e for e in problem["errors"] if e["field"] == field)
    assert error["message"] and error["message_en"]
    assert count(engine, CareRequest) == 0 and count(engine, Child) == 0 and count(engine, Guardian) == 0
    return problem


def test_child_who_turns_13_during_the_window_is_refused_with_a_readable_message(client, operator, engine):
    body = request_body(children=[{"first_name": "지민", "birth_date": "2013-11-25"}],
                        start_at="2026-11-24T20:00:00+09:00", end_at="2026-11-25T01:00:00+09:00")
    problem = refused(client, operator, engine, body, "children[0].birth_date")
    msg = problem["errors"][0]["message"]
    assert "만 12세 이하" in msg and "지민" in msg and "2026년 11월 25일" in msg


@pytest.mark.parametrize("born, window, says, never", [
    # 13 since January (issue 21: was told they "turn 13 during care")
    ("2013-01-01", ("2026-11-25T09:00:00+09:00", "2026-11-25T18:00:00+09:00"),
     ["이미 만 13세입니다", "2026년 1월 1일에 만 13세가 되었습니다"], ["돌봄 중", "됩니다"]),
    # still 12 today, 13 the day before the care
    ("2013-11-26", ("2026-11-27T09:00:00+09:00", "2026-11-27T18:00:00+09:00"),
     ["돌봄이 시작되기 전인 2026년 11월 26일에 만 13세가 됩니다"], ["이미", "돌봄 중"]),
    # 13 on the very day of the care
    ("2013-11-27", ("2026-11-27T09:00:00+09:00", "2026-11-27T18:00:00+09:00"),
     ["돌봄 당일인 2026년 11월 27일에 만 13세가 됩니다"], ["이미", "돌봄 중"]),
])
def test_a_child_too_old_is_told_what_is_true(client, operator, engine, born, window, says, never):
    body = request_body(children=[{"first_name": "지민", "birth_date": born}], start_at=window[0], end_at=window[1])
    problem = refused(client, operator, engine, body, "children[0].birth_date")
    msg = problem["errors"][0]["message"]
    assert "만 12세 이하" in msg and "지민" in msg
    assert all(s in msg for s in says) and not any(n in msg for n in never), msg


def test_child_still_12_at_the_end_of_the_window_is_accepted(client, operator):
    body = request_body(children=[{"first_name": "지민", "birth_date": "2013-11-26"}])
    res = client.post("/v1/requests", json=body, headers=operator)
    assert res.status_code == 201, res.text
    assert res.json()["children"][0]["age_years"] == 12


def test_window_that_ends_before_it_starts(client, operator, engine):
    refused(client, operator, engine, request_body(end_at="2026-11-25T08:00:00+09:00"), "end_at")


def test_window_longer_than_the_maximum(client, operator, engine):
    problem = refused(client, operator, engine, request_body(end_at="2026-11-25T21:30:00+09:00"), "end_at")
    assert "12시간" in problem["detail"]


def test_window_in_the_past(client, operator, engine):
    refused(client, operator, engine, request_body(start_at="2026-11-23T09:00:00+09:00",
                                                   end_at="2026-11-23T18:00:00+09:00"), "start_at")


@pytest.mark.parametrize("children", [[], [{"first_name": f"아이{i}", "birth_date": "2018-01-01"} for i in range(6)]])
def test_no_children_or_more_than_five(client, operator, engine, children):
    refused(client, operator, engine, request_body(children=children), "children")


def test_invalid_phone(client, operator, engine):
    body = request_body(guardian={"name": "김하늘", "phone": "010-12", "language": "ko"})
    refused(client, operator, engine, body, "guardian.phone")


def test_unknown_place(client, operator, engine):
    body = request_body(location={"address": "어딘가 1번지", "place": "아틀란티스시"})
    refused(client, operator, engine, body, "location.place")


def test_body_over_64_kib(client, operator, engine):
    body = request_body(notes="가" * 40000)
    res = client.post("/v1/requests", json=body, headers=operator)
    assert res.status_code == 413
    assert res.headers["content-type"].startswith("application/problem+json")
    assert res.json()["errors"][0]["field"] == "body"
    assert count(engine, CareRequest) == 0


def test_unknown_fields(client, operator, engine):
    body = request_body(favourite_colour="blue")
    refused(client, operator, engine, body, "favourite_colour")


def test_request_without_consent_is_refused(client, operator, engine):
    body = request_body(consent={"guardian_consent": False})
    refused(client, operator, engine, body, "consent.guardian_consent")


def test_health_notes_need_their_own_consent(client, operator, engine):
    body = request_body(health_notes="땅콩 알레르기")
    refused(client, operator, engine, body, "health_notes")
    ok = client.post("/v1/requests", json=request_body(health_notes="땅콩 알레르기",
                                                       consent={"guardian_consent": True, "health_consent": True}),
                     headers=operator)
    assert ok.status_code == 201 and ok.json()["has_health_notes"] is True
    assert "땅콩" not in ok.text  # health notes never leave the database through the API


def test_several_problems_are_reported_together(client, operator, engine):
    body = request_body(guardian={"name": "김하늘", "phone": "12", "language": "ko"},
                        end_at="2026-11-25T08:00:00+09:00")
    problem = refused(client, operator, engine, body, "guardian.phone")
    assert {"guardian.phone", "end_at"} <= {e["field"] for e in problem["errors"]}


def test_explicit_coordinates_are_accepted(client, operator):
    body = request_body(location={"address": "평택역 앞", "lat": 36.9908, "lon": 127.0856})
    res = client.post("/v1/requests", json=body, headers=operator)
    assert res.status_code == 201, res.text
    assert res.json()["lat"] == 36.9908


def test_same_idempotency_key_twice_yields_one_request(client, operator, engine):
    headers = {**operator, "Idempotency-Key": "call-2026-11-24-0001"}
    first = client.post("/v1/requests", json=request_body(), headers=headers)
    second = client.post("/v1/requests", json=request_body(), headers=headers)
    assert first.status_code == 201 and second.status_code == 200
    assert first.json()["id"] == second.json()["id"]
    assert count(engine, CareRequest) == 1
    other = client.post("/v1/requests", json=request_body(notes="다른 내용"), headers=headers)
    assert other.status_code == 422 and other.json()["errors"][0]["field"] == "Idempotency-Key"


def test_same_idempotency_key_concurrently_yields_one_request(client, operator, engine):
    headers = {**operator, "Idempotency-Key": "call-concurrent"}
    barrier = threading.Barrier(8)
    results: list = []

    def call():
        barrier.wait()
        results.append(client.post("/v1/requests", json=request_body(), headers=headers))

    threads = [threading.Thread(target=call) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.status_code for r in results) == [200] * 7 + [201]
    assert len({r.json()["id"] for r in results}) == 1
    assert count(engine, CareRequest) == 1


def test_cancel_is_logged_and_cancelling_twice_is_a_conflict(client, operator, engine):
    ref = client.post("/v1/requests", json=request_body(), headers=operator).json()["ref"]
    res = client.post(f"/v1/requests/{ref}/cancel", json={"reason": "보호자 일정 변경", "by": "guardian"},
                      headers=operator)
    assert res.status_code == 200 and res.json()["status"] == "cancelled"
    events = res.json()["events"]
    assert [e["to_status"] for e in events][-1] == "cancelled"
    assert events[-1]["from_status"] == "unmatched" and events[-1]["reason"] == "보호자 일정 변경"
    again = client.post(f"/v1/requests/{ref}/cancel", json={}, headers=operator)
    assert again.status_code == 409
    assert again.headers["content-type"].startswith("application/problem+json")
    with Session(engine) as s:
        assert len(s.exec(select(RequestEvent).where(RequestEvent.to_status == "cancelled")).all()) == 1


def test_list_filters_and_paginates(client, operator):
    for day in ("25", "25", "26"):
        body = request_body(start_at=f"2026-11-{day}T09:00:00+09:00", end_at=f"2026-11-{day}T12:00:00+09:00")
        assert client.post("/v1/requests", json=body, headers=operator).status_code == 201
    body = request_body(location={"address": "수원시 영통구 1", "place": "수원시 영통구"})
    assert client.post("/v1/requests", json=body, headers=operator).status_code == 201

    page = client.get("/v1/requests", params={"city": "평택시", "limit": 2}, headers=operator).json()
    assert page["total"] == 3 and len(page["items"]) == 2
    rest = client.get("/v1/requests", params={"city": "평택시", "limit": 2, "offset": 2}, headers=operator).json()
    assert len(rest["items"]) == 1
    assert client.get("/v1/requests", params={"date": "2026-11-26"}, headers=operator).json()["total"] == 1
    assert client.get("/v1/requests", params={"status": "cancelled"}, headers=operator).json()["total"] == 0
    bad = client.get("/v1/requests", params={"status": "lost"}, headers=operator)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "status[0]"


def test_guardian_phone_reveal_is_logged(client, operator, engine):
    from hotline.models import AccessLog

    ref = client.post("/v1/requests", json=request_body(), headers=operator).json()["ref"]
    res = client.post(f"/v1/requests/{ref}/guardian-phone", headers=operator)
    assert res.json() == {"phone": "010-5550-1234"}
    with Session(engine) as s:
        assert s.exec(select(AccessLog.action).where(AccessLog.action == "reveal_guardian_phone")).all()


def test_requires_authentication(client):
    res = client.post("/v1/requests", json=request_body())
    assert res.status_code == 401 and res.headers["content-type"].startswith("application/problem+json")


def test_a_landline_cannot_receive_our_texts(client, operator, engine):
    body = request_body(guardian={"name": "김하늘", "phone": "031-8008-1234", "language": "ko"})
    problem = refused(client, operator, engine, body, "guardian.phone")
    assert "휴대전화" in problem["errors"][0]["message"]


@pytest.mark.parametrize("start,end", [("9999-12-31T09:00:00-12:00", "9999-12-31T18:00:00-12:00"),
                                       ("0001-01-01T09:00:00+14:00", "0001-01-01T10:00:00+14:00")])
def test_absurd_dates_are_refused_not_crashed(client, operator, engine, start, end):
    refused(client, operator, engine, request_body(start_at=start, end_at=end), "start_at")


def test_absurd_ids_are_not_found(client, operator, admin):
    assert client.get("/v1/requests/99999999999999999999", headers=operator).status_code == 404
    assert client.get("/v1/providers/99999999999999999999", headers=admin).status_code == 422


@pytest.mark.parametrize("change,field", [
    ({"consent": {"guardian_consent": 1}}, "consent.guardian_consent"),
    ({"consent": {"guardian_consent": "true"}}, "consent.guardian_consent"),
    ({"consent": {"guardian_consent": True, "health_consent": "yes"}}, "consent.health_consent"),
    ({"location": {"address": "평택역 앞", "lat": "36.9908", "lon": 127.0856}}, "location.lat"),
    ({"children": [{"first_name": "서윤", "birth_date": 1615680000}]}, "children[0].birth_date"),
    ({"start_at": 1795993200}, "start_at"),
])
def test_json_values_are_taken_as_the_document_types_them(client, operator, engine, change, field):
    """`true` for yes, numbers for numbers, strings for dates: lax reading took 1 and "true" for consent and a
    number of seconds for a birth date — requests the OpenAPI document calls invalid (issue 18, defect 10)."""
    refused(client, operator, engine, request_body(**change), field)
