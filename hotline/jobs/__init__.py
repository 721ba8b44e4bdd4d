"""Scheduled work, driven by APScheduler (timezone Asia/Seoul, persistent SQLAlchemy job store in the
service's database). Due work is always derived from rows — offers past their expiry, outbox rows
pending, windows starting or ending — so a lost job loses nothing; jobs only decide *when* to look.

Exactly one scheduler runs: `dolbom scheduler`, or the `dolbom serve` process that wins `SchedulerLock`.
A job due while the service was down runs once on start: misfire_grace_time=None (APScheduler's default
of 1 s would drop it) and coalesce=True (one run, however many were missed).

The job functions (`tick`, `sweep`, `purge`, `dispatch`, `demo_answers`) stay in this `__init__`: the job
store keeps them by reference ("hotline.jobs:tick"), so a deployed database keeps finding them. The
scheduler on the injected clock is `manual`, the wake-ups after commit are `wakeups`, the one-scheduler
lock is `lock`."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from apscheduler.executors.debug import DebugExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from sqlalchemy.engine import Engine

from hotline import offers
from hotline.offers import fallthrough
from hotline.sms import outbox
from hotline.core.clock import SEOUL, Clock
from hotline.core.config import Settings
from hotline.applications.service import forget_expired_drafts
from hotline.records.adjustments import expire_stale as expire_stale_adjustments
from hotline.core.db import unit_of_work
from hotline.offers.loop import OfferContext
from hotline.sms.senders import SmsSender
from hotline.jobs.lock import SchedulerLock  # noqa: F401  (jobs.SchedulerLock)
from hotline.jobs.manual import ManualScheduler, _on_clock  # noqa: F401
from hotline.jobs.wakeups import Nudges, OutboxListener  # noqa: F401

logger = logging.getLogger("hotline.jobs")
JOBS_TABLE = "apscheduler_jobs"


@dataclass
class Runtime:
    """What the job functions work with. Jobs are stored by reference ("hotline.jobs:tick"), so they
    find their engine, clock and SMS sender here rather than in pickled arguments."""

    engine: Engine
    ctx: OfferContext
    clock: Clock
    sender: SmsSender
    status_callback: str | None = None


RUNTIME: Runtime | None = None
# The interval jobs and the deadline wake-ups are different APScheduler jobs, so max_instances alone does
# not keep two ticks apart: these locks do (within the one scheduler process).
_dispatch_lock = threading.Lock()
_loop_lock = threading.Lock()


def _rt() -> Runtime:
    if RUNTIME is None:
        raise RuntimeError("hotline.jobs.RUNTIME is not set: start the scheduler through hotline.jobs.start")
    return RUNTIME


def tick() -> None:
    """Expire due offers (re-planning at once), run due offer waves, and the care day (reminders, in
    care, completed)."""
    rt = _rt()
    with _loop_lock:
        now = rt.clock.now()
        with unit_of_work(rt.engine) as session:
            due = offers.due_offers(session, now=now)
        for offer_id in due:  # one transaction each: locks are held briefly and never across offers
            with unit_of_work(rt.engine) as session:
                offers.expire_offer(session, offer_id, now=now, ctx=rt.ctx)
        with unit_of_work(rt.engine) as session:
            waves = offers.due_waves(session, now=now)
        for request_id in waves:  # ask more providers where the chance of a timely accept is too low
            with unit_of_work(rt.engine) as session:
                offers.run_wave(session, request_id, now=now, ctx=rt.ctx)
        with unit_of_work(rt.engine) as session:
            offers.run_care_day(session, now=now, ctx=rt.ctx)
            fallthrough.check_arrivals(session, now=now, ctx=rt.ctx)  # nobody checked in: provider texted, board raised
            forget_expired_drafts(session, now=now)  # unconfirmed online applications, as their code expires
            expire_stale_adjustments(session, now=now)  # asked while the care was on, which has since ended
    dispatch()


def sweep() -> None:
    rt = _rt()
    with _loop_lock, unit_of_work(rt.engine) as session:
        offers.sweep(session, now=rt.clock.now(), ctx=rt.ctx)
    dispatch()


def purge() -> None:
    """Nightly: destroy personal data past its retention (see hotline.privacy)."""
    from hotline.privacy.retention import purge as purge_expired

    rt = _rt()
    settings = rt.ctx.settings
    with unit_of_work(rt.engine) as session:
        count = purge_expired(session, now=rt.clock.now(), retention_days=settings.retention_days,
                              access_log_days=settings.access_log_days)
    if count:
        logger.info("retention: personal data of %d finished requests destroyed", count)


def dispatch() -> int:
    rt = _rt()
    with _dispatch_lock:  # one dispatcher at a time: see hotline.sms.outbox
        return outbox.dispatch(rt.engine, rt.sender, now=rt.clock.now(), status_callback=rt.status_callback)


def make_scheduler(engine: Engine, *, manual: bool = False, clock: Clock | None = None) -> BaseScheduler:
    options = dict(
        jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename=JOBS_TABLE)},
        job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 1},
        timezone=SEOUL,
    )
    if manual:
        return ManualScheduler(clock or Clock(), executors={"default": DebugExecutor()}, **options)
    return BackgroundScheduler(**options)


def install_jobs(scheduler: BaseScheduler, settings: Settings) -> None:
    # fixed ids with replace_existing: a restart updates these jobs instead of adding copies
    scheduler.add_job("hotline.jobs:sweep", "interval", seconds=settings.sweep_seconds, id="sweep",
                      replace_existing=True)
    scheduler.add_job("hotline.jobs:tick", "interval", seconds=15, id="tick", replace_existing=True)
    scheduler.add_job("hotline.jobs:dispatch", "interval", seconds=5, id="dispatch", replace_existing=True)
    scheduler.add_job("hotline.jobs:purge", "cron", hour=3, minute=30, id="purge", replace_existing=True)
    if living_demo(settings):
        scheduler.add_job("hotline.jobs:demo_answers", "interval", seconds=10, id="demo_answers",
                          replace_existing=True)
    elif scheduler.get_job("demo_answers") is not None:  # switched off since the last start
        scheduler.remove_job("demo_answers")


def living_demo(settings: Settings) -> bool:
    return settings.is_development and settings.sms_backend == "console" and settings.demo_providers_answer


def demo_answers() -> None:
    """The living demo (development only): demo providers answer their offers; see hotline.demo."""
    from hotline.demo.day import answer_as_demo_providers

    rt = _rt()
    with _loop_lock:
        answered = answer_as_demo_providers(rt.engine, rt.ctx, rt.clock.now())
    if answered:
        dispatch()


def start(engine: Engine, ctx: OfferContext, clock: Clock, sender: SmsSender, *, manual: bool = False) -> BaseScheduler:
    global RUNTIME
    settings = ctx.settings
    callback = f"{settings.public_url.rstrip('/')}/v1/webhooks/twilio/status" if settings.sms_backend == "twilio" else None
    RUNTIME = Runtime(engine=engine, ctx=ctx, clock=clock, sender=sender, status_callback=callback)
    recovered = outbox.recover(engine)
    if recovered:
        logger.warning("%d SMS left mid-send by the last run will be reconciled before any resend", recovered)
    scheduler = make_scheduler(engine, manual=manual, clock=clock)
    nudges = Nudges(scheduler, clock)
    ctx.wake_at = nudges.wake_at
    outbox.KICK = nudges.kick
    scheduler.start()
    install_jobs(scheduler, settings)
    listener = None
    if manual:
        scheduler.nudges = nudges
    else:
        nudges.start_thread()
        if engine.dialect.name == "postgresql":
            listener = OutboxListener(engine, nudges.kick)
            listener.start()
    stop_scheduler = scheduler.shutdown

    def shutdown(wait: bool = True) -> None:
        if outbox.KICK == nudges.kick:
            outbox.KICK = None
        if listener is not None:
            listener.stop()
        nudges.stop()
        stop_scheduler(wait)

    scheduler.shutdown = shutdown  # the nudges end with the scheduler they feed
    return scheduler
