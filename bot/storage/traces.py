"""Message ids for discreet mode: which messages of a private chat may still be deleted."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot.storage.database import session_factory
from bot.storage.models import ChatTrace, User, utcnow
from bot.storage.repository import _guarded
from bot.storage.tickets import Clock
from bot.storage.users import ensure_user

# Telegram lets a bot delete messages of a private chat, both sides, for 48 hours.
DELETABLE_FOR = dt.timedelta(hours=48)


@dataclass(frozen=True)
class AutoClear:
    pseudonym: str
    chat_ref: bytes | None
    message_ids: list[int]


class TraceRepository:
    def __init__(self, engine: AsyncEngine, clock: Clock = utcnow) -> None:
        self.engine = engine
        self._sessions: async_sessionmaker = session_factory(engine)
        self.clock = clock

    @_guarded
    async def add(self, pseudonym: str, message_ids: Iterable[int]) -> None:
        ids = list(message_ids)
        if not ids:
            return
        now = self.clock()
        async with self._sessions.begin() as session:
            if await session.get(User, pseudonym) is None:
                return  # erased (/forget) or never stored: nothing to track for
            session.add_all(
                ChatTrace(pseudonym=pseudonym, message_id=i, created_at=now) for i in ids
            )

    @_guarded
    async def deletable(self, pseudonym: str, older_than: dt.timedelta | None = None) -> list[int]:
        now = self.clock()
        conditions = [ChatTrace.pseudonym == pseudonym, ChatTrace.created_at > now - DELETABLE_FOR]
        if older_than is not None:
            conditions.append(ChatTrace.created_at <= now - older_than)
        async with self._sessions() as session:
            return list(
                await session.scalars(
                    select(ChatTrace.message_id).where(*conditions).order_by(ChatTrace.message_id)
                )
            )

    @_guarded
    async def forget_ids(self, pseudonym: str, message_ids: Iterable[int]) -> None:
        ids = list(message_ids)
        async with self._sessions.begin() as session:
            await session.execute(
                delete(ChatTrace).where(
                    ChatTrace.pseudonym == pseudonym, ChatTrace.message_id.in_(ids)
                )
            )

    @_guarded
    async def purge(self) -> int:
        async with self._sessions.begin() as session:
            result = await session.execute(
                delete(ChatTrace).where(ChatTrace.created_at <= self.clock() - DELETABLE_FOR)
            )
            return result.rowcount or 0

    # --- auto-clear ------------------------------------------------------------------------
    @_guarded
    async def set_auto_clear(
        self, pseudonym: str, minutes: int | None, chat_ref: bytes | None
    ) -> None:
        """On: the sealed chat id is kept so the job can reach the chat. Off: the reference
        goes too, unless a ticket still needs it (the caller passes None then)."""
        async with self._sessions.begin() as session:
            await ensure_user(session, pseudonym, self.clock())
            user = await session.get(User, pseudonym)
            user.auto_clear_minutes = minutes
            if chat_ref is not None:
                user.chat_ref = chat_ref

    @_guarded
    async def auto_clear_due(self) -> list[AutoClear]:
        now = self.clock()
        async with self._sessions() as session:
            users = list(
                await session.execute(
                    select(User.pseudonym, User.chat_ref, User.auto_clear_minutes).where(
                        User.auto_clear_minutes.is_not(None), User.active.is_(True)
                    )
                )
            )
            due = []
            for pseudonym, chat_ref, minutes in users:
                ids = list(
                    await session.scalars(
                        select(ChatTrace.message_id).where(
                            ChatTrace.pseudonym == pseudonym,
                            ChatTrace.created_at <= now - dt.timedelta(minutes=minutes),
                            ChatTrace.created_at > now - DELETABLE_FOR,
                        )
                    )
                )
                if ids:
                    due.append(AutoClear(pseudonym, chat_ref, ids))
            return due

    @_guarded
    async def clear_chat_ref(self, pseudonym: str) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                update(User).where(User.pseudonym == pseudonym).values(chat_ref=None)
            )
