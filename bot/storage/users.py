"""The one way a user row comes into being: an upsert, so two first messages at once (two
processes, or a ticket and a trace in the same second) cannot collide on the primary key."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.database import dialect_insert
from bot.storage.models import User


async def ensure_user(
    session: AsyncSession, pseudonym: str, now: dt.datetime, *, seen: bool = False
) -> None:
    """Create the user's row if it is missing; with ``seen`` also mark them active now."""
    statement = dialect_insert(session.bind.dialect.name, User).values(
        pseudonym=pseudonym, created_at=now, last_seen=now, active=True
    )
    if seen:
        statement = statement.on_conflict_do_update(
            index_elements=[User.pseudonym], set_={"last_seen": now, "active": True}
        )
    else:
        statement = statement.on_conflict_do_nothing(index_elements=[User.pseudonym])
    await session.execute(statement)
