"""Street addresses through the Kakao Local API (issue 22), against a local fake of its HTTP API: found, not
found, timeout, 5xx and quota each end with a point — the street's, or the offline 동's flagged "동 단위
위치" — never a 500; the same address is asked once; only the address text is sent."""

from __future__ import annotations

import pytest

from conftest import request_body
from fake_kakao import KEY, FakeKakao
from hotline.places.street import KakaoLocal

# 경기도 수원시 영통구 (invented address text; a point inside 매탄동's boundary)
ADDRESS = "경기도 수원시 영통구 매탄로 12"
POINT = (37.2640, 127.0450)


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


@pytest.fixture(scope="module")
def _kakao_server():
    with FakeKakao() as fake:
        yield fake


@pytest.fixture
def kakao(_kakao_server):
    _kakao_server.reset()
    yield _kakao_server
    _kakao_server.reset()


@pytest.fixture
def kakao_settings(settings, kakao):
    return settings.model_copy(update={"geocoder": "kakao", "geocoder_key": KEY, "geocoder_url": kakao.base_url,
                                       "geocoder_timeout_s": 0.3})


@pytest.fixture
def kakao_client(kakao_settings, engine, clock):
    from fastapi.testclient import TestClient

    from api.main import create_app

    with TestClient(create_app(kakao_settings, engine=engine, clock=clock)) as client:
        yield client


def _call(client, operator_headers, address=ADDRESS, place=None):
    body = request_body(location={"address": address, **({"place": place} if place else {})})
    return client.post("/v1/requests", json=body, headers=operator_headers)


@pytest.fixture
def staff(kakao_client, engine):
    from sqlmodel import Session

    from conftest import PASSWORD, token_for
    from hotline.accounts.security import ensure_user
    from hotline.models import Role

    with Session(engine) as s:
        ensure_user(s, "op-geo", PASSWORD, Role.operator)
        s.commit()
    return token_for(kakao_client, "op-geo")


def test_a_found_street_address_places_the_call_at_the_street(kakao, kakao_client, staff, places):
    kakao.add(ADDRESS, *POINT)
    res = _call(kakao_client, staff)
    assert res.status_code == 201, res.text
    created = res.json()
    assert (created["lat"], created["lon"]) == pytest.approx(POINT)
    assert created["location_precision"] == "address"
    assert created["place_code"] == places.reverse(*POINT).code == "suwon.yeongtong-gu.maetan-dong"


@pytest.mark.parametrize("trouble", ["not_found", "timeout", "500", "503", "quota"])
def test_every_failure_falls_back_to_the_flagged_dong_point(kakao, kakao_client, staff, places, trouble):
    if trouble == "timeout":
        kakao.hang()
    elif trouble == "quota":
        kakao.quota()
    elif trouble != "not_found":
        kakao.fail(int(trouble))
    res = _call(kakao_client, staff, address="수원시 영통구 매탄3동 없는로 1")
    assert res.status_code == 201, res.text
    created = res.json()
    dong = places.get("suwon.yeongtong-gu.maetan-dong")
    assert (created["lat"], created["lon"]) == (dong.lat, dong.lon)
    assert created["location_precision"] == "dong" and created["place_code"] == dong.code
    assert len(kakao.requests) == 1


def test_the_same_address_is_asked_once_and_only_its_text_is_sent(kakao, kakao_client, staff):
    kakao.add(ADDRESS, *POINT)
    first = _call(kakao_client, staff)
    second = _call(kakao_client, staff)
    assert first.status_code == second.status_code == 201
    assert len(kakao.requests) == 1
    sent = kakao.requests[0]
    assert sent.query == {"query": ADDRESS, "size": "1", "analyze_type": "exact"}
    body = request_body()
    leaked = [v for v in (body["guardian"]["name"], body["guardian"]["phone"], body["children"][0]["first_name"],
                          body["notes"]) if v and (v in str(sent.headers) or v in str(sent.query))]
    assert not leaked
    assert sent.headers["authorization"] == f"KakaoAK {KEY}"


def test_a_street_in_another_city_than_the_chosen_place_keeps_the_place(kakao, kakao_client, staff, places):
    kakao.add(ADDRESS, *POINT)  # a 수원 point, while the operator chose 평택시 비전동
    res = _call(kakao_client, staff, place="평택시 비전동")
    created = res.json()
    bijeon = places.get("pyeongtaek.bijeon-dong")
    assert res.status_code == 201 and created["place_code"] == bijeon.code
    assert (created["lat"], created["lon"]) == (bijeon.lat, bijeon.lon) and created["location_precision"] == "dong"


def test_quota_pauses_the_service_instead_of_asking_each_call(kakao):
    now = [100.0]
    geocoder = KakaoLocal(KEY, base_url=kakao.base_url, timeout_s=1, quota_pause_s=600, monotonic=lambda: now[0])
    kakao.quota()
    assert geocoder.locate("주소 하나 1").outcome == "quota"
    assert geocoder.locate("주소 둘 2").outcome == "paused" and len(kakao.requests) == 1
    now[0] += 601
    kakao.mode = "normal"
    kakao.add("주소 둘 2", *POINT)
    assert geocoder.locate("주소 둘 2").found and len(kakao.requests) == 2
    geocoder.close()


def test_a_region_alone_is_not_a_street_point(kakao):
    geocoder = KakaoLocal(KEY, base_url=kakao.base_url, timeout_s=1)
    kakao.add("매탄동", *POINT, address_type="REGION")
    assert geocoder.locate("매탄동").outcome == "not_found"
    geocoder.close()


def test_no_key_no_street_geocoder(settings):
    from hotline.places.street import street_geocoder

    assert street_geocoder(settings) is None  # offline by default: DOLBOM_GEOCODER=offline
    with pytest.raises(ValueError):
        settings.model_validate({**settings.model_dump(), "geocoder": "kakao", "geocoder_key": None})
