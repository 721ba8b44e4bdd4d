"""Database engine and sessions. SQLite (embedded, `make run`) and PostgreSQL (production) behave alike:
on SQLite every transaction starts with BEGIN IMMEDIATE, so a read-then-write (an accept re-checking
capacity, an idempotent insert) holds the write lock from its first read, as a row lock would on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import TypeVar
from pathlib import Path

from sqlalchemy import event, inspect
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine

from hotline.core.text import nfc


def make_engine(url: str, **kw) -> Engine:
    # SQL parameters carry names and phone numbers: an error must never print them (issue 9, defect 4)
    kw.setdefault("hide_parameters", True)
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        # No server-side prepared statements: psycopg prepares a query after its fifth run and PostgreSQL may
        # then keep one generic plan for the connection's life. Planned while the tables were small, the
        # solver's pending-offers read stayed on that plan as they grew: 20 ms instead of 4 at 1,040 open
        # requests. Planning afresh costs ~0.1 ms a statement (and works behind PgBouncer's transaction mode).
        kw["connect_args"] = {"prepare_threshold": None, **kw.get("connect_args", {})}
        engine = create_engine(url, pool_pre_ping=True, **kw)
        event.listen(engine, "handle_error", _without_data)
        return engine
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kw)

    @event.listens_for(engine, "connect")
    def _sqlite_connect(dbapi_connection, _record) -> None:
        # let SQLAlchemy's begin event emit BEGIN itself (pysqlite's implicit BEGIN is deferred)
        dbapi_connection.isolation_level = None
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _sqlite_begin(conn) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _without_data(context) -> None:
    """PostgreSQL's messages quote the data: `DETAIL: Failing row contains (…, 김하늘, +8210…)`, `invalid
    input syntax for type integer: "…"`, parameter values in CONTEXT. Keep what code and operators need —
    the error class, SQLSTATE, table, column and constraint — and drop the rest, before any handler or
    traceback formats the error."""
    orig = context.original_exception
    diag = getattr(orig, "diag", None)
    if diag is None:
        return
    where = ", ".join(f"{k} {v}" for k, v in (("table", diag.table_name), ("column", diag.column_name),
                                               ("constraint", diag.constraint_name)) if v)
    safe = f"{type(orig).__name__} (SQLSTATE {getattr(orig, 'sqlstate', None) or '?'})" + (f": {where}" if where else "")
    orig.args = (safe,)
    wrapped = context.sqlalchemy_exception  # its message was formatted from the original already
    if wrapped is not None and wrapped.args:
        wrapped.args = (f"({type(orig).__module__}.{type(orig).__name__}) {safe}", *wrapped.args[1:])


def describe_error(exc: BaseException) -> str:
    """What a log line may say about an unexpected error: database errors (their messages cleaned by
    `make_engine`, parameters hidden) in full, any other error by its type alone — a validation error or a
    KeyError can quote a name or a number."""
    from sqlalchemy.exc import SQLAlchemyError

    kind = f"{type(exc).__module__}.{type(exc).__qualname__}"
    if isinstance(exc, SQLAlchemyError):
        return f"{kind}: {exc}"
    return kind


def migrate(engine: Engine) -> None:
    """Bring the database to the newest Alembic revision."""
    from alembic import command
    from alembic.config import Config

    root = Path(__file__).resolve().parents[2]
    cfg = Config(str(root / "alembic.ini"))
    cfg.set_main_option("script_location", str(root / "alembic"))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


@contextmanager
def unit_of_work(engine: Engine) -> Iterator[Session]:
    """A job's transaction boundary: commit on success, roll back on error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def lock(session: Session, model, ident: int):
    """Re-read a row under a row lock (PostgreSQL). On SQLite the whole transaction already holds the
    write lock (BEGIN IMMEDIATE), where FOR UPDATE would compile to nothing.

    FOR NO KEY UPDATE, not FOR UPDATE: it keeps every other writer of the row out just the same, but lets in
    rows that only refer to it (their foreign-key check takes FOR KEY SHARE, which FOR UPDATE blocks). An
    answer at a full provider re-plans its request in the same transaction and offers it to another provider,
    inserting an offer that refers to that provider; with FOR UPDATE, two such answers whose re-plans went to
    each other's provider deadlocked (500s and lost inbound SMS in a burst; bench/burst.py, issue 9)."""
    from sqlmodel import select

    return session.exec(select(model).where(model.id == ident).with_for_update(key_share=True)
                        .execution_options(populate_existing=True)).one()


def lock_all(session: Session, model, idents: list[int]) -> None:
    """`lock` for many rows in one statement (in id order); until this transaction ends `needs_lock` skips
    them: the transaction holds their locks and has just re-read them (the sweep's hundreds of requests)."""
    from sqlmodel import col, select

    if not idents:
        return
    rows = session.exec(select(model).where(col(model.id).in_(idents)).order_by(col(model.id))
                        .with_for_update(key_share=True).execution_options(populate_existing=True)).all()
    for row in rows:
        created_in_this_transaction(session, row)


def created_in_this_transaction(session: Session, row) -> None:
    """Note that `row` was inserted by the session's current transaction: until it commits, no other
    transaction can see the row, so `needs_lock` can skip re-reading it under a lock."""
    session.info.setdefault("created_here", {})[(type(row), row.id)] = session.get_transaction()


def needs_lock(session: Session, row) -> bool:
    """False only for a row this very transaction inserted or locked with `lock_all` (a later transaction of
    the same session — after a commit or a rollback — is another transaction object and locks as usual)."""
    made_in = session.info.get("created_here", {}).get((type(row), row.id))
    return made_in is None or made_in is not session.get_transaction()


def serialize_on(session: Session, *keys: str) -> None:
    """Until this transaction ends, no other transaction passes `serialize_on` with any of the same keys (a
    PostgreSQL transaction-level advisory lock each, taken in one statement in the order given; SQLite's
    BEGIN IMMEDIATE already serialises writers)."""
    if keys and session.get_bind().dialect.name == "postgresql":
        from sqlalchemy import text

        # volatile functions in the select list run after the ORDER BY: the locks are taken in key order
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(k)) "
                             "FROM unnest(CAST(:keys AS text[])) WITH ORDINALITY AS t(k, n) ORDER BY n"),
                        {"keys": list(keys)})


T = TypeVar("T")


def kept_for_transaction(session: Session, name: str, key: Hashable, compute: Callable[[], T], *,
                         stale_after_flush: Callable[[Session], bool] = lambda session: True) -> T:
    """`compute()`, read once and kept in the session under `name` for this transaction and `key`: until
    the transaction ends, it rolls back, or a flush for which `stale_after_flush` says so (by default
    any write)."""
    session.connection()  # a transaction is open: the key never holds "no transaction"
    full_key = (key, session.get_transaction())
    held = session.info.get(name)
    if held is not None and held[0] == full_key:
        return held[1]
    value = compute()
    listening = session.info.setdefault("kept_listening", set())
    if name not in listening:
        def forget_if_stale(s: Session, _flush_context) -> None:
            if stale_after_flush(s):
                s.info.pop(name, None)

        event.listen(session, "after_flush", forget_if_stale)
        event.listen(session, "after_soft_rollback", lambda s, *_: s.info.pop(name, None))
        listening.add(name)
    session.info[name] = (full_key, value)
    return value


def after_commit(session: Session, fn) -> None:
    """Run `fn` once the session's transaction has committed (never for work that is rolled back is not
    promised: callers only schedule idempotent wake-ups here, e.g. "look at the outbox now")."""
    hooks = session.info.setdefault("after_commit", [])
    if not session.info.get("after_commit_listening"):
        event.listen(session, "after_commit", _run_after_commit)
        session.info["after_commit_listening"] = True
    hooks.append(fn)


def _run_after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint was released: the outer transaction has not committed yet
    for fn in session.info.pop("after_commit", []):
        fn()


@event.listens_for(Session, "before_flush")
def _stored_as_shown(session: Session, _context, _instances) -> None:
    """Every string reaches the database as NFC, whatever path it came by (a workspace log, a note, a form
    the schemas never saw): a decomposed name would otherwise be missed by search and counted three times
    too long (issue 18, defect 8). Only loaded values are looked at, so nothing is read back to check."""
    for row in (*session.new, *session.dirty):
        state = inspect(row)
        for key, value in list(state.dict.items()):
            if isinstance(value, str) and not value.isascii() and (normal := nfc(value)) != value:
                setattr(row, key, normal)
