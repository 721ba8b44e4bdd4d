"""Places over HTTP (issue 22): a name found in several places is a 422 that lists them, an unknown one a
422 naming the field, both in Korean and English; the suggestions behind the place comboboxes."""

from __future__ import annotations

from conftest import request_body


def test_an_ambiguous_place_is_a_choice_naming_the_field(client, operator):
    res = client.post("/v1/requests", json=request_body(location={"address": "신흥동 12", "place": "신흥동"}),
                      headers=operator)
    assert res.status_code == 422 and res.headers["content-type"].startswith("application/problem+json")
    problem = next(e for e in res.json()["errors"] if e["field"] == "location.place")
    assert {"성남시 수정구 신흥동", "안성시 신흥동"} <= set(problem["choices"])
    assert "여러 곳" in problem["message"] and "several places" in problem["message_en"]


def test_an_unknown_place_names_the_field_and_the_word(client, operator):
    res = client.post("/v1/requests", json=request_body(location={"address": "평택시 없는동 1", "place": "평택시 없는동"}),
                      headers=operator)
    assert res.status_code == 422
    problem = next(e for e in res.json()["errors"] if e["field"] == "location.place")
    assert "없는동" in problem["message"] and "없는동" in problem["message_en"] and "choices" not in problem


def test_an_administrative_dong_is_taken_and_flagged_dong_level(client, operator, places):
    res = client.post("/v1/requests", json=request_body(location={"address": "수원시 영통구 매탄3동 5", "place": "매탄3동"}),
                      headers=operator)
    assert res.status_code == 201, res.text
    created = res.json()
    maetan = places.get("suwon.yeongtong-gu.maetan-dong")
    assert created["place_code"] == maetan.code and created["location_precision"] == "dong"
    assert (created["lat"], created["lon"]) == (maetan.lat, maetan.lon)


def test_provider_coordinates_are_filed_under_their_dong(client, admin, places):
    body = {"code": "sw-c01", "kind": "caregiver", "name": "시험 가정돌봄", "phone": "010-5550-0998",
            "address": "수원시 영통구 1", "lat": 37.2640, "lon": 127.0450, "capacity": 2, "min_age": 3, "max_age": 12,
            "weekly_hours": {"mon": [["09:00", "18:00"]]}}
    res = client.post("/v1/providers", json=body, headers=admin)
    assert res.status_code == 201, res.text
    assert res.json()["place_code"] == places.reverse(37.2640, 127.0450).code == "suwon.yeongtong-gu.maetan-dong"
    ambiguous = client.post("/v1/providers", json={**body, "code": "sw-c02", "lat": None, "lon": None, "place": "신흥동"},
                            headers=admin)
    assert ambiguous.status_code == 422 and ambiguous.json()["errors"][0]["field"] == "place"


def test_suggestions_are_public_and_read_initials(client):
    res = client.get("/places/suggest", params={"q": "ㅁㅌ"})
    assert res.status_code == 200 and res.json()[0]["name_ko"] == "수원시 영통구 매탄동"
    assert res.headers["cache-control"].startswith("public")
    assert [p["level"] for p in client.get("/places/suggest", params={"q": "수원"}).json()][:1] == ["city"]
    assert client.get("/places/suggest", params={"q": ""}).json() == []
    assert client.get("/places/suggest", params={"q": "x" * 41}).status_code == 422


def test_the_console_logs_a_call_by_its_dong_and_flags_the_point_as_dong_level(client, engine, demo):
    from test_console import FORM, english_words, log_call, sign_in

    sign_in(client, engine)
    ref = log_call(client, place="수원시 영통구 매탄3동", address="수원시 영통구 매탄3동 7", idempotency_key="geo-1")
    page = client.get(f"/console/requests/{ref}").text
    assert "동 단위 위치" in page and "영통구 매탄동" in page
    assert english_words(page) == []
    refused = client.post("/console/new", data={**FORM, "place": "신흥동", "address": "신흥동 3",
                                                 "guardian_phone": "010-5550-4399", "idempotency_key": "geo-2"})
    assert refused.status_code == 422 and "성남시 수정구 신흥동" in refused.text and "안성시 신흥동" in refused.text
