"""Every table the hotline stores, one module per capability (Polar's `models/` package: tables at the bottom,
services above them). This is the one place that imports every table module, so that `SQLModel.metadata`
and Alembic see them all; importing `hotline.models` is enough to register every table.

API schemas (Create/Public/Update) live with their capability (`hotline.requests.schemas`, …)."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from hotline.models.accounts import Role, User, SignInAttempt, ConsoleSession  # noqa: F401
from hotline.models.requests import (  # noqa: F401
    RequestStatus, Reason, Need, Language, Guardian, CareRequest, Child, RequestEvent)
from hotline.models.providers import ProviderKind, Provider  # noqa: F401
from hotline.models.offers import OfferStatus, Offer, Assignment  # noqa: F401
from hotline.models.sms import OutboxStatus, OutboxMessage, InboundMessage, OptOut, EarlyStatus  # noqa: F401
from hotline.models.privacy import AccessLog  # noqa: F401
from hotline.models.aftercare import CaseStatus, FollowUpCase  # noqa: F401
from hotline.models.applications import VerificationCode  # noqa: F401
from hotline.models.records import (  # noqa: F401
    CareVisit, ServiceLog, HealthRecord, AdjustmentKind, AdjustmentStatus, Adjustment)
from hotline.models.forms import ReferralForm, SiteVisit  # noqa: F401


def create_all(engine: Engine) -> None:
    """Tables straight from the models: tests on SQLite. Deployed databases go through Alembic
    (`hotline.core.db.migrate`)."""
    SQLModel.metadata.create_all(engine)
