"""`dolbom demo reset`: the development database back to its first-start state, without `make clean`;
and the service's log lines in Seoul time without the scheduler's chatter."""

from __future__ import annotations

import logging

from sqlmodel import Session, select

from api.cli import LOG_CONFIG, NoPolls, SeoulFormatter, main
from hotline.core.config import get_settings
from hotline.core.db import make_engine
from hotline.models import CareRequest, Provider, Role, User
from hotline.accounts.security import ensure_user


def test_demo_reset_empties_the_development_database(tmp_path, monkeypatch, capsys):
    url = f"sqlite:///{tmp_path / 'dev.db'}"
    monkeypatch.setenv("DOLBOM_ENVIRONMENT", "development")
    monkeypatch.setenv("DOLBOM_DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        assert main(["demo", "reset"]) == 0
        engine = make_engine(url)
        with Session(engine) as s:
            ensure_user(s, "op-temp", "x" * 12, Role.operator)
            s.commit()
        assert main(["demo", "reset"]) == 0
        with Session(engine) as s:
            # Pyeongtaek's 28 and the other 30 시·군's (hotline.demo.province)
            codes = [p.code for p in s.exec(select(Provider))]
            assert len([c for c in codes if c.startswith("pt-")]) == 28 and len(codes) > 28 + 30
            assert s.exec(select(User).where(User.username == "op-temp")).first() is None
            assert s.exec(select(CareRequest)).first() is None
        engine.dispose()
        assert "demo data reset" in capsys.readouterr().out
        monkeypatch.setenv("DOLBOM_ENVIRONMENT", "test")
        monkeypatch.setenv("DOLBOM_SECRET_KEY", "p" * 40)
        get_settings.cache_clear()
        assert main(["demo", "reset"]) == 1  # never outside development
    finally:
        get_settings.cache_clear()


def test_log_lines_are_in_seoul_time_without_scheduler_noise():
    record = logging.LogRecord("hotline.sms", logging.INFO, __file__, 1, "문자 발송", None, None)
    record.created = 0.0  # 1970-01-01 00:00 UTC
    assert SeoulFormatter("%(asctime)s %(message)s").format(record) == "1970-01-01 09:00:00+09:00 문자 발송"
    poll = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '"GET /console/board/version HTTP/1.1" 200',
                             None, None)
    assert not NoPolls().filter(poll)
    assert LOG_CONFIG["loggers"]["apscheduler"]["level"] == "WARNING"
