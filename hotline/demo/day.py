"""The scripted demo day (`data/demo_scenario.json`): invented hotline calls logged through the same intake
and matching services an operator uses, for a day `date_offset_days` from today; and the living demo,
in which `make run`'s demo providers answer offers as the day simulator's providers do."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import or_
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from hotline.core.clock import Clock, at_local, local
from hotline.core.db import unit_of_work
from hotline.core.errors import DomainError
from hotline.places.geo import PlaceTable
from hotline.models import Assignment, CareRequest, CareVisit, Offer, OfferStatus, Provider
from hotline.offers.loop import OfferContext, take_call
from hotline.demo.behaviour import Behaviour, after_night, answer_of
from hotline.demo.province import province_calls
from hotline.requests.schemas import CareRequestCreate


def scenario_bodies(path: Path, today: date, places: PlaceTable,
                    province: bool = False) -> list[tuple[str, CareRequestCreate]]:
    scenario = json.loads(path.read_text(encoding="utf-8"))
    day = today + timedelta(days=scenario.get("date_offset_days", 1))
    calls = scenario["requests"] + (province_calls(places, day) if province else [])
    bodies = []
    for i, call in enumerate(calls):
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


def play_day(engine: Engine, ctx: OfferContext, clock: Clock | None = None, *,
             province: bool = False) -> list[tuple[str, str]]:
    """Log every call of the scenario (idempotent: keys are per day and call); returns (ref, status). With
    `province`, one more call from each of the other 30 시·군 (hotline.demo.province)."""
    clock = clock or Clock()
    results = []
    path = ctx.settings.data_dir / "demo_scenario.json"
    for key, body in scenario_bodies(path, local(clock.now()).date(), ctx.places, province):
        try:
            with unit_of_work(engine) as session:
                created = take_call(session, body, actor="operator:demo", now=clock.now(), ctx=ctx,
                                    idempotency_key=key)
                results.append((created.request.ref, str(created.request.status)))
        except DomainError as exc:
            results.append((key, f"refused: {exc.detail_en}"))
    return results


# --- the living demo: the demo providers answer their offers -----------------------------------------------

def due_demo_answers(session: Session, *, now: datetime, behaviour: Behaviour, speedup: float,
                     seed: int = 1) -> list[tuple[int, str, str]]:
    """Offers to demo providers whose simulated answer is due: (offer id, provider phone, SMS text). The
    providers behave as the day simulator's (hotline.demo.behaviour), `speedup` times faster, so a
    newcomer sees calls confirmed, declined and escalated within minutes."""
    rows = session.exec(select(Offer, Provider).join(Provider, Provider.id == Offer.provider_id)
                        .where(col(Offer.status).in_([OfferStatus.pending, OfferStatus.expired]),
                               or_(Offer.answer_channel == None, Offer.answer_channel == "system"),  # noqa: E711
                               Offer.created_at >= now - timedelta(days=1)))
    due = []
    for offer, provider in rows:
        answer = answer_of(provider.code, offer.request_id, seed, behaviour)
        if answer.kind == "silent":
            continue
        if after_night(offer.created_at, behaviour) + timedelta(minutes=answer.delay_min / speedup) > now:
            continue
        text = ("1" if answer.kind == "accept" else "2") + (f" {offer.reply_code}" if offer.reply_code else "")
        due.append((offer.id, provider.phone, text))
    return due


def due_demo_arrivals(session: Session, *, now: datetime) -> list[tuple[int, str, str]]:
    """Demo providers turn up: a few minutes before the start they check in by SMS ("도착 A7"), as a
    provider without the workspace would, so the living demo's board is not full of no-shows."""
    rows = session.exec(select(Offer, Provider).join(Provider, Provider.id == Offer.provider_id)
                        .join(Assignment, Assignment.offer_id == Offer.id)
                        .join(CareRequest, CareRequest.id == Assignment.request_id)
                        .outerjoin(CareVisit, CareVisit.request_id == CareRequest.id)
                        .where(Assignment.active == True, CareRequest.start_at <= now + timedelta(minutes=5),  # noqa: E712
                               CareRequest.end_at > now, CareVisit.checked_in_at == None))  # noqa: E711
    return [(offer.id, provider.phone, f"도착 {offer.reply_code}") for offer, provider in rows]


def answer_as_demo_providers(engine: Engine, ctx: OfferContext, now: datetime) -> int:
    """One scheduler run of the living demo: each due answer arrives as an SMS would (hotline.offers.inbound),
    once (the message id is the offer's), in a transaction of its own."""
    from hotline.offers.inbound import handle_sms

    settings = ctx.settings
    with unit_of_work(engine) as session:
        due = due_demo_answers(session, now=now, behaviour=Behaviour(), speedup=settings.demo_answer_speedup)
        arrivals = due_demo_arrivals(session, now=now)
    for offer_id, phone, text in due:
        with unit_of_work(engine) as session:
            handle_sms(session, sid=f"DEMO{offer_id:030d}", from_number=phone, body=text, now=now, ctx=ctx)
    for offer_id, phone, text in arrivals:
        with unit_of_work(engine) as session:
            handle_sms(session, sid=f"DEMOIN{offer_id:028d}", from_number=phone, body=text, now=now, ctx=ctx)
    return len(due) + len(arrivals)
