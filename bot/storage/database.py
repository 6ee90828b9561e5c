"""Database URLs and engines: one async engine for the bot, a sync one for migrations."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

SQLITE_BUSY_TIMEOUT_S = 5.0


class DatabaseConfigError(ValueError):
    pass


def resolve_url(url: str, home: Path) -> str:
    """Anchor a relative SQLite path at the project home and create its folder."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(parsed.database)
        if not path.is_absolute():
            path = home / path
        path.parent.mkdir(parents=True, exist_ok=True)
        parsed = parsed.set(database=str(path))
    return parsed.render_as_string(hide_password=False)


def _with_driver(url: str, *, asynchronous: bool) -> URL:
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite" if asynchronous else "sqlite")
    if backend == "postgresql":
        # psycopg 3 speaks both sync and async, so migrations and the bot share one driver.
        return parsed.set(drivername="postgresql+psycopg")
    raise DatabaseConfigError(f"unsupported database {backend!r}: use sqlite or postgresql")


def is_postgres(url: str) -> bool:
    return make_url(url).get_backend_name() == "postgresql"


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer
    cursor.close()


def sync_url(url: str) -> URL:
    return _with_driver(url, asynchronous=False)


def create_engine_async(
    url: str, *, echo: bool = False, sqlite_busy_timeout: float = SQLITE_BUSY_TIMEOUT_S
) -> AsyncEngine:
    target = _with_driver(url, asynchronous=True)
    kwargs: dict[str, object] = {"echo": echo, "pool_pre_ping": True}
    if target.get_backend_name() == "sqlite":
        kwargs["connect_args"] = {"timeout": sqlite_busy_timeout}
    engine = create_async_engine(target, **kwargs)
    if target.get_backend_name() == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def session_factory(engine: AsyncEngine) -> async_sessionmaker:
    return async_sessionmaker(engine, expire_on_commit=False)


def attach_sqlite_pragmas(engine: Engine) -> None:
    if engine.url.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)


def dialect_insert(dialect: str, table: type):
    """INSERT with ON CONFLICT for the database at hand (PostgreSQL or SQLite)."""
    return (pg_insert if dialect == "postgresql" else sqlite_insert)(table)
