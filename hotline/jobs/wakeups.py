"""Wake-ups: deadlines handed to the scheduler after commit (Nudges), and the PostgreSQL LISTEN that wakes the
dispatcher when another worker commits an SMS row (OutboxListener)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from apscheduler.schedulers.base import BaseScheduler
from sqlalchemy.engine import Engine

from hotline.sms import outbox
from hotline.core.clock import SEOUL, Clock


logger = logging.getLogger("hotline.jobs")


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
