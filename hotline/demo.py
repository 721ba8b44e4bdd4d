"""The scripted demo day (`data/demo_scenario.json`): invented hotline calls logged through the same intake
and matching services an operator uses, for a day `date_offset_days` from today."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy.engine import Engine

from hotline.clock import Clock, at_local, local
from hotline.db import unit_of_work
from hotline.errors import DomainError
from hotline.geo import PlaceTable
from hotline.offers import OfferContext, take_call
from hotline.schemas import CareRequestCreate


def scenario_bodies(path: Path, today: date, places: PlaceTable) -> list[tuple[str, CareRequestCreate]]:
    scenario = json.loads(path.read_text(encoding="utf-8"))
    day = today + timedelta(days=scenario.get("date_offset_days", 1))
    bodies = []
    for i, call in enumerate(scenario["requests"]):
        children = [{"first_name": c["first_name"],
                     # a birth date that makes the child `age_years` old on the day (and not a birthday)
                     "birth_date": (day - timedelta(days=int(365.25 * c["age_years"]) + 120)).isoformat()}
                    for c in call["children"]]
        health = call.get("health_notes")
        body = CareRequestCreate.model_validate({
            "guardian": call["guardian"], "children": children, "reason": call["reason"],
            "notes": call.get("notes", ""), "start_at": at_local(day, call["start"]).isoformat(),
            "end_at": at_local(day, call["end"]).isoformat(),
            "location": {"address": call.get("address") or places.get(call["place"]).name_ko, "place": call["place"]},
            "needs": call.get("needs", []), "language": call.get("language", "ko"),
            "consent": {"guardian_consent": True, "health_consent": bool(health)}, "health_notes": health,
        })
        bodies.append((f"demo-{day.isoformat()}-{i:03d}", body))
    return bodies


def play_day(engine: Engine, ctx: OfferContext, clock: Clock | None = None) -> list[tuple[str, str]]:
    """Log every call of the scenario (idempotent: keys are per day and call); returns (ref, status)."""
    clock = clock or Clock()
    results = []
    path = ctx.settings.data_dir / "demo_scenario.json"
    for key, body in scenario_bodies(path, local(clock.now()).date(), ctx.places):
        try:
            with unit_of_work(engine) as session:
                created = take_call(session, body, actor="operator:demo", now=clock.now(), ctx=ctx,
                                    idempotency_key=key)
                results.append((created.request.ref, str(created.request.status)))
        except DomainError as exc:
            results.append((key, f"refused: {exc.detail_en}"))
    return results
