"""A scheduler on the injected clock, for tests and the day simulator: due jobs run when the clock is moved,
never by waiting."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from datetime import datetime

import apscheduler.schedulers.base as aps_base
import apscheduler.triggers.date as aps_date
import apscheduler.triggers.interval as aps_interval
from apscheduler.schedulers.base import BaseScheduler

from hotline.core.clock import Clock
from hotline.jobs.wakeups import Nudges



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
