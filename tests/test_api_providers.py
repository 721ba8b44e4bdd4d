"""Provider registry and what a provider account may see."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from conftest import PASSWORD, request_body, token_for
from hotline.models import Offer, Provider


def provider_id(engine, code: str) -> int:
    with Session(engine) as s:
        return s.exec(select(Provider.id).where(Provider.code == code)).one()


NEW = {
    "code": "pt-f99", "kind": "facility", "name": "시험 다함께돌봄센터", "phone": "010-5550-0999",
    "address": "평택시 비전동 1-1", "place": "평택시 비전동", "capacity": 12, "min_age": 6, "max_age": 12,
    "weekly_hours": {"mon": [["07:00", "22:00"]], "sat": [["09:00", "24:00"]]}, "closures": ["2026-12-25"],
}


def test_admin_creates_updates_and_deactivates_a_provider(client, admin, operator):
    res = client.post("/v1/providers", json=NEW, headers=admin)
    assert res.status_code == 201, res.text
    created = res.json()
    assert created["phone"] == "+821055500999" and created["place_code"] == "pyeongtaek.bijeon-dong"
    pid = created["id"]
    upd = client.patch(f"/v1/providers/{pid}", json={"capacity": 20}, headers=admin).json()
    assert upd["capacity"] == 20 and upd["name"] == NEW["name"]
    assert client.get(f"/v1/providers/{pid}", headers=operator).json()["capacity"] == 20
    assert client.delete(f"/v1/providers/{pid}", headers=admin).json()["active"] is False
    assert client.get("/v1/providers", headers=operator).json()["total"] == 0
    assert client.get("/v1/providers", params={"active": "false"}, headers=operator).json()["total"] == 1


def test_operators_cannot_change_the_registry(client, operator):
    assert client.post("/v1/providers", json=NEW, headers=operator).status_code == 403


def test_bad_provider_input_names_the_field(client, admin):
    for body, field in [
        ({**NEW, "weekly_hours": {"mon": [["22:00", "07:00"]]}}, "weekly_hours"),
        ({**NEW, "place": "없는시"}, "place"),
        ({**NEW, "min_age": 10, "max_age": 6}, "min_age"),
        ({**NEW, "capacity": 0}, "capacity"),
        ({**NEW, "phone": "12345"}, "phone"),
    ]:
        res = client.post("/v1/providers", json=body, headers=admin)
        assert res.status_code == 422, (field, res.text)
        assert res.json()["errors"][0]["field"] == field
    assert client.post("/v1/providers", json=NEW, headers=admin).status_code == 201
    assert client.post("/v1/providers", json=NEW, headers=admin).status_code == 409


def test_demo_data_has_28_providers(client, demo, operator):
    page = client.get("/v1/providers", params={"limit": 100}, headers=operator).json()
    assert page["total"] == 28
    kinds = {p["kind"] for p in page["items"]}
    assert kinds == {"facility", "caregiver"}


def test_provider_sees_only_its_own_offers_and_commitments(client, demo, operator, engine, clock):
    ref = client.post("/v1/requests", json=request_body(), headers=operator).json()["ref"]
    mine, other = provider_id(engine, "pt-f01"), provider_id(engine, "pt-f02")
    with Session(engine) as s:
        from hotline.models import CareRequest

        req = s.exec(select(CareRequest).where(CareRequest.ref == ref)).one()
        s.add(Offer(request_id=req.id, provider_id=other, created_at=clock.now(), expires_at=clock.now()))
        s.commit()
    me = token_for(client, "pt-f01", PASSWORD)

    assert client.get(f"/v1/providers/{mine}/offers", headers=me).status_code == 200
    assert client.get(f"/v1/providers/{mine}/commitments", params={"date": "2026-11-25"}, headers=me).status_code == 200
    for path in (f"/v1/providers/{other}/offers", f"/v1/providers/{other}/commitments?date=2026-11-25",
                 f"/v1/providers/{other}"):
        res = client.get(path, headers=me)
        assert res.status_code == 403, path
        assert res.headers["content-type"].startswith("application/problem+json")
    # no guardian data at all for a provider token
    for path in (f"/v1/requests/{ref}", "/v1/requests"):
        assert client.get(path, headers=me).status_code == 403
    assert client.post(f"/v1/requests/{ref}/guardian-phone", headers=me).status_code == 403

    # the other provider sees its offer, with the district but no name, phone or street address
    theirs = client.get(f"/v1/providers/{other}/offers", headers=token_for(client, "pt-f02", PASSWORD)).json()
    assert len(theirs) == 1 and theirs[0]["district"] == "비전동" and theirs[0]["children_ages"] == [5, 9]
    text = str(theirs)
    assert "김하늘" not in text and "5550-1234" not in text and "123-4" not in text and "서윤" not in text


@pytest.mark.parametrize("change,field", [({"active": 0}, "active"), ({"active": "false"}, "active"),
                                          ({"capacity": "12"}, "capacity"), ({"min_age": True}, "min_age"),
                                          ({"radius_km": "5"}, "radius_km"), ({"closures": [0]}, "closures[0]")])
def test_json_values_are_taken_as_the_document_types_them(client, admin, demo, change, field):
    """The document says boolean, integer, number, date string; lax reading took `"active": 0` as false and
    `"capacity": "12"` as 12 (issue 18, defect 10). A whole float is still an integer, as JSON Schema says."""
    pid = client.get("/v1/providers", headers=admin).json()["items"][0]["id"]
    res = client.patch(f"/v1/providers/{pid}", json=change, headers=admin)
    assert res.status_code == 422, res.text
    assert res.json()["errors"][0]["field"] == field
    assert client.get(f"/v1/providers/{pid}", headers=admin).json()["active"] is True
    assert client.patch(f"/v1/providers/{pid}", json={"capacity": 12.0}, headers=admin).json()["capacity"] == 12


def test_staff_reading_providers_phones_is_an_access_record(client, operator, demo, engine):
    """Issue 18: a provider's phone shown to staff is recorded like a guardian's."""
    from sqlmodel import Session, select

    from hotline.models import AccessLog

    pid = client.get("/v1/providers", headers=operator).json()["items"][0]["id"]
    assert client.get(f"/v1/providers/{pid}", headers=operator).status_code == 200
    with Session(engine) as s:
        actions = [a.action for a in s.exec(select(AccessLog))]
    assert actions == ["read_providers", "read_provider"]
