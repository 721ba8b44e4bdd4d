"""Issue 18, defect 6: operators must not read one-time codes or live links. The console's outbox and a
request's page show such texts with the secret hidden, and once a text is handed to the SMS provider the
stored body no longer keeps it (the code itself was already stored hashed)."""

from __future__ import annotations

import re

from sqlmodel import Session, select

from hotline import jobs
from hotline.models import OutboxMessage, Provider
from hotline.privacy.masking import without_secrets
from test_applications import FORM, apply
from test_console import log_call, sign_in

TOKEN = re.compile(r"/(?:o|s|p|apply/s|apply/code)/\d+\.[0-9a-z]+\.[A-Za-z0-9_=-]{6,}")


def bodies(engine, kind: str) -> list[str]:
    with Session(engine) as s:
        return [m.body for m in s.exec(select(OutboxMessage).where(OutboxMessage.kind == kind))]


def test_the_outbox_hides_codes_and_link_tokens_and_the_sent_body_forgets_them(client, engine, demo, loop):
    assert apply(client).status_code == 303
    [code_text] = bodies(engine, "apply_code")
    code = re.search(r"\d{6}", code_text).group()
    sign_in(client, engine)
    ref = log_call(client)  # an acknowledgement with a status link, offers with offer links
    with Session(engine) as s:
        provider = s.exec(select(Provider).order_by(Provider.id)).first()
    assert client.post(f"/console/providers/{provider.id}/workspace-link").status_code in (200, 303)
    stored = [b for kind in ("intake_ack", "offer", "workspace_link") for b in bodies(engine, kind)]
    assert stored and all(TOKEN.search(b) for b in stored)  # not sent yet: the text still carries its link

    for page in (client.get("/console/outbox").text, client.get(f"/console/requests/{ref}").text):
        assert code not in page and not TOKEN.search(page)
    assert "인증번호 ••••••" in client.get("/console/outbox").text and "/p/••••" in client.get("/console/outbox").text

    jobs.dispatch()  # handed to the SMS provider: the stored bodies keep neither code nor token
    assert all(code not in b for b in bodies(engine, "apply_code"))
    assert not any(TOKEN.search(b) for kind in ("intake_ack", "offer", "workspace_link") for b in bodies(engine, kind))
    assert client.post(re.sub(r"\?.*", "", apply(client, guardian_phone="010-5550-9876").headers["location"]),
                       data={"code": code}).status_code in (410, 422)  # an old code opens nothing else


def test_without_secrets_leaves_ordinary_text_alone():
    text = "[언제나돌봄] 접수되었습니다. 진행 상황: http://127.0.0.1:8000/s/12.t9k2a1.AbC_dEf-GhIj"
    assert without_secrets("intake_ack", text) == "[언제나돌봄] 접수되었습니다. 진행 상황: http://127.0.0.1:8000/s/••••"
    assert without_secrets("confirm_parent", "인계코드: 4821") == "인계코드: 4821"  # the operator reads it out
    assert without_secrets("apply_code", "인증번호 123456 (10분)") == "인증번호 •••••• (10분)"
