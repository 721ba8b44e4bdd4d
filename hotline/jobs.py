"""Scheduled work, driven by APScheduler (timezone Asia/Seoul, persistent SQLAlchemy job store in the
service's database). Due work is always derived from rows — offers past their expiry, outbox rows
pending, windows starting or ending — so a lost job loses nothing; jobs only decide *when* to look.

Exactly one scheduler runs: `dolbom scheduler`, or the `dolbom serve` process that wins `SchedulerLock`.
A job due while the service was down runs once on start: misfire_grace_time=None (APScheduler's default
of 1 s would drop it) and coalesce=True (one run, however many were missed)."""

from __future__ import annotations

import fcntl
import logging
import threading
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import apscheduler.schedulers.base as aps_base
import apscheduler.triggers.date as aps_date
import apscheduler.triggers.interval as aps_interval
from apscheduler.executors.debug import DebugExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url

from hotline import offers, outbox
from hotline.clock import SEOUL, Clock
from hotline.config import Settings
from hotline.db import unit_of_work
from hotline.offers import OfferContext
from hotline.sms.senders import SmsSender

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
    dispatch()


def sweep() -> None:
    rt = _rt()
    with _loop_lock, unit_of_work(rt.engine) as session:
        offers.sweep(session, now=rt.clock.now(), ctx=rt.ctx)
    dispatch()


def purge() -> None:
    """Nightly: destroy personal data past its retention (see hotline.privacy)."""
    from hotline.privacy import purge as purge_expired

    rt = _rt()
    settings = rt.ctx.settings
    with unit_of_work(rt.engine) as session:
        count = purge_expired(session, now=rt.clock.now(), retention_days=settings.retention_days,
                              access_log_days=settings.access_log_days)
    if count:
        logger.info("retention: personal data of %d finished requests destroyed", count)


def dispatch() -> int:
    rt = _rt()
    with _dispatch_lock:  # one dispatcher at a time: see hotline.outbox
        return outbox.dispatch(rt.engine, rt.sender, now=rt.clock.now(), status_callback=rt.status_callback)


class _ClockTime(datetime):
    """Stands in for `datetime` inside APScheduler while a ManualScheduler works: APScheduler 3 reads the
    wall clock directly (no hook), so a scheduler driven by a FrozenClock would see real time."""

    clock: Clock | None = None

    @classmethod
    def now(cls, tz=None):  # type: ignore[override]
        return cls.clock.now().astimezone(tz) if cls.clock is not None else datetime.now(tz)

    @classmethod
    def fromtimestamp(cls, t, tz=None):  # type: ignore[override]
        return datetime.fromtimestamp(t, tz)  # a plain datetime: this class must never be pickled


_APS_MODULES = (aps_base, aps_interval, aps_date)
_clock_patch = threading.RLock()


@contextmanager
def _on_clock(clock: Clock):
    with _clock_patch:
        saved = [m.datetime for m in _APS_MODULES]
        _ClockTime.clock = clock
        for m in _APS_MODULES:
            m.datetime = _ClockTime
        try:
            yield
        finally:
            for m, original in zip(_APS_MODULES, saved):
                m.datetime = original
            _ClockTime.clock = None


class ManualScheduler(BaseScheduler):
    """A scheduler with no thread of its own, on the service's clock: due jobs run, inline, when
    `run_pending` is called. Tests and the day simulator move a FrozenClock instead of sleeping; the job
    store, triggers, misfire and coalescing rules are APScheduler's own. Every call that reads
    APScheduler's "now" (first run times, reschedules, due jobs) reads the service clock instead."""

    def __init__(self, clock: Clock, **options):
        self.clock = clock
        self.nudges: Nudges | None = None  # wake-ups asked for by committed transactions, applied on the next run
        super().__init__(**options)

    def wakeup(self) -> None:
        pass

    def shutdown(self, wait: bool = True) -> None:  # abstract in BaseScheduler
        super().shutdown(wait)

    def start(self, paused: bool = False) -> None:
        with _on_clock(self.clock):
            super().start(paused)

    def add_job(self, *args, **kwargs):
        with _on_clock(self.clock):
            return super().add_job(*args, **kwargs)

    def modify_job(self, *args, **kwargs):
        with _on_clock(self.clock):
            return super().modify_job(*args, **kwargs)

    def reschedule_job(self, *args, **kwargs):
        with _on_clock(self.clock):
            return super().reschedule_job(*args, **kwargs)

    def resume_job(self, *args, **kwargs):
        with _on_clock(self.clock):
            return super().resume_job(*args, **kwargs)

    def run_pending(self) -> None:
        if self.nudges is not None:
            self.nudges.apply()
        with _on_clock(self.clock):
            self._process_jobs()  # noqa: SLF001  (APScheduler 3 has no public "run due jobs now")

    def next_due(self) -> datetime | None:
        """When the earliest job is next due (a simulator steps from one wake-up to the next)."""
        if self.nudges is not None:
            self.nudges.apply()
        times = [j.next_run_time for j in self.get_jobs() if j.next_run_time is not None]
        return min(times) if times else None


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
    from hotline.demo import answer_as_demo_providers

    rt = _rt()
    with _loop_lock:
        answered = answer_as_demo_providers(rt.engine, rt.ctx, rt.clock.now())
    if answered:
        dispatch()


class Nudges:
    """Wake-ups asked for after a commit — "dispatch the outbox now", "tick at this offer's expiry" — handed
    to the scheduler by another thread. The committing request still holds its pooled connection when its
    after-commit hooks run, and the job store needs a connection of its own: a burst of requests each
    waiting for a second connection drained the pool and stalled every one of them (issue 9, defect 1).
    So `kick` and `wake_at` only note the wish; `apply` (the nudge thread, or a ManualScheduler's next
    run) writes it to the job store, holding no other connection."""

    def __init__(self, scheduler: BaseScheduler, clock: Clock):
        self.scheduler, self.clock = scheduler, clock
        self._mutex = threading.Lock()
        self._wanted = threading.Event()
        self._dispatch = False
        self._deadlines: set[int] = set()
        self._thread: threading.Thread | None = None
        self._stopping = False

    def kick(self) -> None:
        with self._mutex:
            self._dispatch = True
        self._wanted.set()

    def wake_at(self, at: datetime) -> None:
        with self._mutex:
            self._deadlines.add(int(at.timestamp()))  # one date job per deadline second
        self._wanted.set()

    def apply(self) -> None:
        with self._mutex:
            dispatch_now, deadlines = self._dispatch, sorted(self._deadlines)
            self._dispatch, self._deadlines = False, set()
        for second in deadlines:
            self.scheduler.add_job("hotline.jobs:tick", "date", run_date=datetime.fromtimestamp(second, SEOUL),
                                   id=f"wake-{second}", replace_existing=True)
        if dispatch_now:
            self.scheduler.modify_job("dispatch", next_run_time=self.clock.now())

    def start_thread(self) -> None:
        self._thread = threading.Thread(target=self._run, name="dolbom-nudges", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping = True
        self._wanted.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while True:
            self._wanted.wait()
            self._wanted.clear()
            if self._stopping:
                return
            try:
                self.apply()
            except Exception:  # noqa: BLE001  (a lost nudge only delays work: the interval jobs find it)
                logger.exception("could not hand a wake-up to the scheduler; the next interval run will do it")


class OutboxListener:
    """In the scheduler's process on PostgreSQL: LISTEN for the other workers' committed SMS rows
    (`outbox.CHANNEL`) and wake the dispatcher at once, instead of at its next 5-second run. Its own
    connection, outside the pool; reconnects after an error (a lost wake-up only delays: the interval runs)."""

    def __init__(self, engine: Engine, wake: Callable[[], None]):
        self.url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.wake = wake
        self.listening = threading.Event()  # set once LISTEN is in place (tests wait for it)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="dolbom-outbox-listener", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        import psycopg

        while not self._stopping.is_set():
            try:
                # TCP keepalives: a connection dropped silently (NAT, partition) errors out and is remade
                with psycopg.connect(self.url, autocommit=True, keepalives=1, keepalives_idle=30,
                                     keepalives_interval=10, keepalives_count=3) as conn:
                    conn.execute(f"LISTEN {outbox.CHANNEL}")
                    self.listening.set()
                    while not self._stopping.is_set():
                        for _ in conn.notifies(timeout=1.0):
                            self.wake()
            except Exception:  # noqa: BLE001
                self.listening.clear()
                logger.exception("outbox listener lost its connection; the dispatcher's interval runs meanwhile")
                self._stopping.wait(5)


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


class SchedulerLock:
    """Held for the life of the process that runs the scheduler: a PostgreSQL advisory lock on its own
    connection, or an exclusive lock on a file beside the SQLite database."""

    KEY = 0x0D01B0  # advisory lock id of the dolbom scheduler

    def __init__(self, engine: Engine):
        self.engine, self._conn, self._file = engine, None, None

    def acquire(self) -> bool:
        if self.engine.dialect.name == "postgresql":
            self._conn = self.engine.connect()
            got = self._conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.KEY}).scalar()
            self._conn.commit()
            if not got:
                self._conn.close()
                self._conn = None
            return bool(got)
        path = Path(make_url(str(self.engine.url)).database or "dolbom").with_suffix(".scheduler.lock")
        self._file = path.open("w")
        try:
            fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except OSError:
            self._file.close()
            self._file = None
            return False

    def release(self) -> None:
        if self._conn is not None:
            self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.KEY})
            self._conn.close()
        if self._file is not None:
            self._file.close()
