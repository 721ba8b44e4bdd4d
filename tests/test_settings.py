"""Production refuses development defaults and gets no demo data."""

import pytest
from pydantic import ValidationError
from sqlmodel import Session, func, select

from hotline.core.config import DEV_SECRET, Settings
from hotline.models import Provider, User


@pytest.mark.parametrize("overrides", [
    {"secret_key": DEV_SECRET, "sms_backend": "twilio", "twilio_account_sid": "AC1", "twilio_auth_token": "t"},
    {"secret_key": "x" * 40, "sms_backend": "console"},
])
def test_production_refuses_development_defaults(overrides):
    with pytest.raises(ValidationError):
        Settings(environment="production", **overrides)


def test_production_start_migrates_but_loads_no_demo_accounts(tmp_path):
    from api.cli import _prepare
    from hotline.core.db import make_engine

    url = f"sqlite:///{tmp_path / 'prod.db'}"
    settings = Settings(environment="production", database_url=url, secret_key="s" * 40, sms_backend="twilio",
                        twilio_account_sid="AC1", twilio_auth_token="token")
    _prepare(settings)
    with Session(make_engine(url)) as s:
        assert s.exec(select(func.count()).select_from(User)).one() == 0
        assert s.exec(select(func.count()).select_from(Provider)).one() == 0


def test_development_does_not_listen_on_a_network_address(tmp_path, monkeypatch, capsys):
    """Issue 9, defect 14: the development defaults (public demo passwords) stay on loopback."""
    import uvicorn

    from api.cli import main
    from hotline.core.config import get_settings

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DOLBOM_ENVIRONMENT", "development")
    monkeypatch.setenv("DOLBOM_DATABASE_URL", f"sqlite:///{tmp_path / 'dev.db'}")
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: pytest.fail("must not start"))
    get_settings.cache_clear()
    try:
        for host in ("0.0.0.0", "192.0.2.10", "::"):
            assert main(["serve", "--host", host]) == 2
            assert "127.0.0.1" in capsys.readouterr().err
        assert not (tmp_path / "dev.db").exists()  # refused before anything was set up
    finally:
        get_settings.cache_clear()


def test_development_signs_with_a_secret_of_its_own_not_the_repositorys(tmp_path, monkeypatch):
    from hotline.core.config import get_settings

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DOLBOM_ENVIRONMENT", "development")
    monkeypatch.setenv("DOLBOM_DATABASE_URL", f"sqlite:///{tmp_path / 'dev.db'}")
    monkeypatch.delenv("DOLBOM_SECRET_KEY", raising=False)
    get_settings.cache_clear()
    try:
        first = get_settings().secret_key
        get_settings.cache_clear()
        assert first != DEV_SECRET and len(first) >= 32
        assert get_settings().secret_key == first  # kept for every worker and over a restart
        assert (tmp_path / "dev-secret").stat().st_mode & 0o077 == 0
    finally:
        get_settings.cache_clear()
