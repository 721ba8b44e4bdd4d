"""One scheduler per database: a PostgreSQL advisory lock, or a lock file beside the SQLite database."""

from __future__ import annotations

import fcntl
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url




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
