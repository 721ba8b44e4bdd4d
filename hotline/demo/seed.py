"""Demo data: the Pyeongtaek-like providers from `data/demo_providers.json` (and, for `make run`, invented
providers in the other 30 시·군: hotline.demo.province), a demo operator and admin,
and provider accounts. Loaded on first start of `make run`; all invented, none of it real people."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from sqlmodel import Session, select

from hotline.places.geo import PlaceTable
from hotline.models import Provider, Role
from hotline.providers.registry import create_provider
from hotline.providers.schemas import ProviderCreate
from hotline.demo.province import province_providers
from hotline.accounts.security import ensure_user, hash_password


def load_demo_providers(session: Session, data_dir: Path, *, now: datetime, places: PlaceTable,
                        province: bool = False) -> list[Provider]:
    """Pyeongtaek's 28 from data/demo_providers.json; with `province`, the other 30 시·군's too
    (hotline.demo.province: at real 동 points, so the demo day's calls across the province find someone)."""
    if session.exec(select(Provider)).first() is not None:
        return []
    rows = json.loads((data_dir / "demo_providers.json").read_text(encoding="utf-8"))
    if province:
        rows += province_providers(places)
    created = []
    for row in rows:
        row = {k: v for k, v in row.items() if k not in ("name_en",)}
        created.append(create_provider(session, ProviderCreate.model_validate(row), now=now, geocoder=places))
    return created


def seed_demo(session: Session, data_dir: Path, *, now: datetime, places: PlaceTable, operator: tuple[str, str],
              province: bool = False) -> dict:
    providers = load_demo_providers(session, data_dir, now=now, places=places, province=province)
    ensure_user(session, operator[0], operator[1], Role.operator, full_name="데모 상담원")
    ensure_user(session, "admin", operator[1], Role.admin, full_name="데모 관리자")
    shared = hash_password(operator[1])  # one demo password: hash it once, not 28 times
    for p in session.exec(select(Provider)):
        ensure_user(session, p.code, operator[1], Role.provider, full_name=p.name, provider_id=p.id,
                    password_hash=shared)
    return {"providers": len(providers)}
