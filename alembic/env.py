"""Alembic environment: the models' metadata is the target; the URL comes from the service settings
unless a connection is handed in (`hotline.core.db.migrate`)."""

from alembic import context
from sqlmodel import SQLModel

import hotline.models  # noqa: F401  (registers the tables)
from hotline.core.config import get_settings
from hotline.core.db import make_engine

target_metadata = SQLModel.metadata


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    # APScheduler creates and owns its job table
    return not (type_ == "table" and name == "apscheduler_jobs")


def run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, compare_type=True,
                      render_as_batch=connection.dialect.name == "sqlite", include_object=include_object)
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    engine = make_engine(get_settings().database_url)
    with engine.connect() as conn:
        run(conn)
        conn.commit()
