"""Alembic migrations produce exactly the schema the models describe, on both backends."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import hotline.models  # noqa: F401
from hotline.core.db import make_engine, migrate


def test_migrations_match_models(backend, database_url, tmp_path):
    if backend == "sqlite":
        database_url = f"sqlite:///{tmp_path / 'migrated.db'}"
    engine = make_engine(database_url)
    migrate(engine)  # on PostgreSQL the run's database is already at head: this must be a no-op
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, SQLModel.metadata)
    engine.dispose()
    assert diff == []
