"""Alembic environment: runs migrations over a synchronous connection of the configured URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from bot.storage.database import attach_sqlite_pragmas, sync_url
from bot.storage.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:  # a test may hand us its own connection
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(sync_url(config.attributes["database_url"]), poolclass=pool.NullPool)
    attach_sqlite_pragmas(engine)
    with engine.connect() as conn:
        context.configure(
            connection=conn,
            target_metadata=target_metadata,
            render_as_batch=conn.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
