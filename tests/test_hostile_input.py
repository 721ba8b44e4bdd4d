"""Bad input from outside (issue 9): JSON nulls in a PATCH, letters in a phone number, NUL characters,
out-of-range query values, a chunked oversized body. Each is refused with a problem+json naming the field,
and nothing is stored."""

from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from conftest import request_body
from hotline.core.errors import InvalidInput
from hotline.models import CareRequest, Guardian, Provider, User
from hotline.core.phones import to_e164


def count(engine, model) -> int:
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(model)).one()


def problem_field(res, status: int = 422) -> str:
    assert res.status_code == status, res.text
    assert res.headers["content-type"].startswith("application/problem+json"), res.headers
    body = res.json()
    assert body["status"] == status and body["title"] and body["title_en"] and body["detail"] and body["detail_en"]
    return body["errors"][0]["field"]


# --- defect 2: a JSON null in a provider PATCH ------------------------------------------------------

@pytest.mark.parametrize("field", ["weekly_hours", "skills", "closures", "active", "capacity", "name", "phone",
                                   "languages", "radius_km", "language", "min_age"])
def test_patch_with_null_is_refused_and_changes_nothing(client, admin, operator, demo, engine, field):
    pid = client.get("/v1/providers", headers=operator).json()["items"][0]["id"]
    before = client.get(f"/v1/providers/{pid}", headers=operator).json()
    res = client.patch(f"/v1/providers/{pid}", json={field: None, "capacity": 9} if field != "capacity"
                       else {field: None, "name": "바뀐 이름"}, headers=admin)
    assert problem_field(res) == field
    assert "null" in res.json()["errors"][0]["message"]
    assert client.get(f"/v1/providers/{pid}", headers=operator).json() == before
    assert client.get("/v1/providers", headers=operator).status_code == 200
    assert client.post("/v1/requests", json=request_body(), headers=operator).json()["status"] == "offered"


def test_patch_that_leaves_fields_out_still_works(client, admin, operator, demo):
    pid = client.get("/v1/providers", headers=operator).json()["items"][0]["id"]
    res = client.patch(f"/v1/providers/{pid}", json={"closures": [], "skills": ["infant"]}, headers=admin)
    assert res.status_code == 200, res.text
    assert res.json()["closures"] == [] and res.json()["skills"] == ["infant"]


# --- defect 3: letters in a phone number ------------------------------------------------------------

@pytest.mark.parametrize("raw", ["010-abcd-efgh", "010-CALL-HOME", "0１0-1234-5678x"])
def test_letters_are_not_read_as_keypad_digits(raw):
    with pytest.raises(InvalidInput):
        to_e164(raw)


def test_intake_refuses_a_phone_with_letters(client, operator, engine):
    body = request_body(guardian={"name": "김하늘", "phone": "010-abcd-efgh", "language": "ko"})
    assert problem_field(client.post("/v1/requests", json=body, headers=operator)) == "guardian.phone"
    assert count(engine, CareRequest) == count(engine, Guardian) == 0


def test_written_forms_of_a_number_still_parse():
    for raw in ("010-5550-1234", "010 5550 1234", "(010) 5550.1234", "+82 10-5550-1234", "01055501234"):
        assert to_e164(raw) == "+821055501234"


# --- defect 5: NUL characters -----------------------------------------------------------------------

@pytest.mark.parametrize("where, field", [
    (lambda b: b["guardian"].update(name="김\x00하늘"), "guardian.name"),
    (lambda b: b["children"][1].update(first_name="도\x00윤"), "children[1].first_name"),
    (lambda b: b.update(notes="\x00"), "notes"),
    (lambda b: b["location"].update(address="평택시\x00"), "location.address"),
])
def test_nul_in_a_json_body_is_refused(client, operator, engine, where, field):
    body = request_body()
    where(body)
    assert problem_field(client.post("/v1/requests", json=body, headers=operator)) == field
    assert count(engine, CareRequest) == count(engine, Guardian) == 0


def test_nul_in_a_provider_body_names_the_field(client, admin, engine):
    from test_api_providers import NEW

    res = client.post("/v1/providers", json={**NEW, "weekly_hours": {"mon": [["07:00", "2\x002:00"]]}}, headers=admin)
    assert problem_field(res) == "weekly_hours"
    assert count(engine, Provider) == 0


def test_nul_in_a_username_query_or_path_is_refused(client, operator, engine):
    res = client.post("/v1/auth/token", data={"username": "operator\x00", "password": "x"})
    assert problem_field(res) == "username"
    assert problem_field(client.get("/v1/requests", params={"city": "평택\x00"}, headers=operator)) == "city"
    assert problem_field(client.get("/v1/requests/R%00X", headers=operator)) == "path"
    res = client.post("/console/login", data={"username": "op", "password": "a\x00"})
    assert problem_field(res) == "password"
    assert count(engine, User) == 1  # the operator fixture's own: nothing was looked up or stored


# --- defect 9: out-of-range query values ------------------------------------------------------------

@pytest.mark.parametrize("params, field", [
    ({"offset": "9223372036854775808"}, "offset"),
    ({"offset": "2147483648"}, "offset"),
    ({"date": "0001-01-01"}, "date"),
    ({"date": "9999-12-31"}, "date"),
])
def test_out_of_range_list_queries_are_refused(client, operator, params, field):
    assert problem_field(client.get("/v1/requests", params=params, headers=operator)) == field


def test_out_of_range_provider_queries_are_refused(client, operator, demo):
    assert problem_field(client.get("/v1/providers", params={"offset": 2**63}, headers=operator)) == "offset"
    pid = client.get("/v1/providers", headers=operator).json()["items"][0]["id"]
    for day in ("0001-01-01", "9999-12-31"):
        res = client.get(f"/v1/providers/{pid}/commitments", params={"date": day}, headers=operator)
        assert problem_field(res) == "date"


def test_out_of_range_console_day_is_refused(client, engine):
    from test_console import sign_in

    assert sign_in(client, engine).status_code == 303
    for day in ("0001-01-01", "9999-12-31"):
        assert problem_field(client.get("/console", params={"date": day})) == "date"
    assert client.get("/console", params={"date": "2026-11-24"}).status_code == 200


# --- defect 12: a chunked body over the limit -------------------------------------------------------

def test_chunked_body_over_the_limit_gets_413(client, operator, engine):
    def chunks():
        for _ in range(16):
            yield b'{"notes": "' + b"a" * 65536

    res = client.post("/v1/requests", content=chunks(), headers={**operator, "Content-Type": "application/json"})
    assert problem_field(res, 413) == "body"
    assert res.json()["type"] == "/problems/body-too-large"
    assert count(engine, CareRequest) == 0


def test_chunked_form_over_the_limit_gets_413(client):
    def chunks():
        yield b"username=operator&password="
        for _ in range(16):
            yield b"a" * 65536

    res = client.post("/v1/auth/token", content=chunks(), headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert problem_field(res, 413) == "body"


def test_a_request_id_of_unicode_digits_is_not_found(client, operator):
    """Found by the OpenAPI fuzz run: "³".isdigit() is True, int("³") raised, 500."""
    for ref in ("³", "١٢", "²²"):
        assert problem_field_or_404(client.get(f"/v1/requests/{ref}", headers=operator))
        assert client.post(f"/v1/requests/{ref}/cancel", json={}, headers=operator).status_code == 404


def problem_field_or_404(res) -> bool:
    return res.status_code == 404 and res.headers["content-type"].startswith("application/problem+json")
