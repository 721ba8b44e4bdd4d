"""The operator console as an operator uses it: sign in, log a call, read the story, check the outbox."""

from __future__ import annotations

from conftest import PASSWORD
from hotline.models import Role
from hotline.security import ensure_user
from sqlmodel import Session


def sign_in(client, engine, role=Role.operator, username="op-park"):
    with Session(engine) as s:
        ensure_user(s, username, PASSWORD, role, full_name="박상담")
        s.commit()
    res = client.post("/console/login", data={"username": username, "password": PASSWORD}, follow_redirects=False)
    return res


FORM = {
    "guardian_name": "최하람", "guardian_phone": "010-5550-4321", "guardian_language": "ko", "reason": "business_trip",
    "child0_name": "하윤", "child0_birth": "2019-06-01", "child1_name": "지호", "child1_birth": "2016-02-10",
    "start_at": "2026-11-25T09:00", "end_at": "2026-11-25T17:00", "place": "평택시 지산동", "address": "평택시 지산동 55",
    "language": "ko", "consent": "on", "idempotency_key": "form-1",
}


def test_login_is_required_and_providers_cannot_use_the_console(client, engine):
    assert client.get("/console", follow_redirects=False).headers["location"] == "/console/login"
    assert sign_in(client, engine, Role.provider, "pt-x").status_code == 403
    bad = client.post("/console/login", data={"username": "nobody", "password": "x"})
    assert bad.status_code == 401 and "맞지 않습니다" in bad.text


def test_operator_logs_a_call_and_reads_the_story(client, engine, demo):
    assert sign_in(client, engine).status_code == 303
    assert "신규 접수" in client.get("/console").text
    res = client.post("/console/new", data=FORM, follow_redirects=False)
    assert res.status_code == 303, res.text
    page = client.get(res.headers["location"]).text
    assert "하윤(7세)" in page and "010-****-4321" in page and "010-5550-4321" not in page
    assert "매칭 설명" in page and "제안 내역" in page and "처리 기록" in page
    again = client.post("/console/new", data=FORM, follow_redirects=False)  # double submit: same request
    assert again.headers["location"] == res.headers["location"]
    outbox = client.get("/console/outbox").text
    assert "010-****-4321" in outbox and "5550-4321" not in outbox
    assert client.get("/console/providers").text.count("<tr>") == 29
    assert "월간 통계" in client.get("/console/stats").text


def test_a_13_year_old_is_refused_with_words_to_read_to_the_parent(client, engine):
    sign_in(client, engine)
    form = {**FORM, "child0_birth": "2013-11-20", "child1_name": "", "child1_birth": "", "idempotency_key": "form-2"}
    res = client.post("/console/new", data=form)
    assert res.status_code == 422
    assert "만 12세 이하 아동만 이용할 수 있습니다" in res.text and "하윤" in res.text
    assert 'value="최하람"' in res.text  # what the operator typed is kept


def test_guessing_passwords_is_stopped(client, engine, clock):
    sign_in(client, engine)
    for _ in range(5):
        assert client.post("/v1/auth/token", data={"username": "op-park", "password": "guess"}).status_code == 401
    locked = client.post("/v1/auth/token", data={"username": "op-park", "password": PASSWORD})
    assert locked.status_code == 429 and locked.headers["content-type"].startswith("application/problem+json")
    assert client.post("/console/login", data={"username": "op-park", "password": PASSWORD}).status_code == 429
    clock.advance(minutes=11)
    assert client.post("/v1/auth/token", data={"username": "op-park", "password": PASSWORD}).status_code == 200


def test_a_guesser_cannot_lock_the_operator_out_from_elsewhere(client, app, engine):
    """Issue 9, defect 6: the lock is on the guessing address, not on the account."""
    from fastapi.testclient import TestClient

    sign_in(client, engine)
    with TestClient(app, client=("203.0.113.9", 40000)) as attacker:
        for _ in range(5):
            assert attacker.post("/v1/auth/token", data={"username": "op-park", "password": "guess"}).status_code == 401
        assert attacker.post("/v1/auth/token", data={"username": "op-park", "password": PASSWORD}).status_code == 429
    assert client.post("/v1/auth/token", data={"username": "op-park", "password": PASSWORD}).status_code == 200


def test_one_address_guessing_many_usernames_is_stopped(client, engine):
    sign_in(client, engine)
    for i in range(20):
        assert client.post("/v1/auth/token", data={"username": f"user{i}", "password": "guess"}).status_code == 401
    assert client.post("/v1/auth/token", data={"username": "op-park", "password": PASSWORD}).status_code == 429


def test_the_count_is_shared_by_workers_and_kept_over_a_restart(settings, engine, clock):
    """Two app instances on one database stand for two workers, a third for the restarted service."""
    from fastapi.testclient import TestClient

    from api.main import create_app

    with TestClient(create_app(settings, engine=engine, clock=clock)) as first:
        sign_in(first, engine)
        for _ in range(3):
            assert first.post("/v1/auth/token", data={"username": "op-park", "password": "guess"}).status_code == 401
    with TestClient(create_app(settings, engine=engine, clock=clock)) as second:
        for _ in range(2):
            assert second.post("/v1/auth/token", data={"username": "op-park", "password": "guess"}).status_code == 401
    with TestClient(create_app(settings, engine=engine, clock=clock)) as restarted:
        assert restarted.post("/v1/auth/token", data={"username": "op-park", "password": PASSWORD}).status_code == 429
