"""Production refuses development defaults and gets no demo data."""

import pytest
from pydantic import ValidationError
from sqlmodel import Session, func, select

from hotline.config import DEV_SECRET, Settings
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
    from hotline.db import make_engine

    url = f"sqlite:///{tmp_path / 'prod.db'}"
    settings = Settings(environment="production", database_url=url, secret_key="s" * 40, sms_backend="twilio",
                        twilio_account_sid="AC1", twilio_auth_token="token")
    _prepare(settings)
    with Session(make_engine(url)) as s:
        assert s.exec(select(func.count()).select_from(User)).one() == 0
        assert s.exec(select(func.count()).select_from(Provider)).one() == 0
