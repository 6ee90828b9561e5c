"""Reading and writing what the bot keeps, one short transaction per operation."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot.storage.database import dialect_insert, session_factory
from bot.storage.errors import StorageUnavailable
from bot.storage.models import (
    Base,
    ChatTrace,
    ConversationStateRow,
    Feedback,
    Message,
    Ticket,
    TicketMessage,
    User,
    utcnow,
)
from bot.storage.users import ensure_user

# Conversation text is needed only to understand the next few messages.
DEFAULT_MESSAGE_TTL = dt.timedelta(days=1)
# A ticket's words stay a while after closing (a follow-up, a complaint), then go.
DEFAULT_TICKET_TTL = dt.timedelta(days=30)
# What a consultant is told when the user of a ticket erased their data (a code the workspace
# turns into words in the consultants' language).
USER_LEFT = "user_left"


@dataclass(frozen=True)
class LoggedMessage:
    direction: str  # "in" | "out"
    text: str
    topic: str | None = None
    route: str | None = None


P = ParamSpec("P")
T = TypeVar("T")


def _guarded(method: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    """Database failures (locked, unreachable) surface as StorageUnavailable, which callers
    may survive; programming errors still raise as themselves."""

    @functools.wraps(method)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return await method(*args, **kwargs)
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            raise StorageUnavailable(f"{type(exc).__name__}: {str(exc).splitlines()[0]}") from exc

    return wrapper


class Repository:
    def __init__(
        self,
        engine: AsyncEngine,
        message_ttl: dt.timedelta = DEFAULT_MESSAGE_TTL,
        ticket_ttl: dt.timedelta = DEFAULT_TICKET_TTL,
    ) -> None:
        self.engine = engine
        self._sessions: async_sessionmaker = session_factory(engine)
        self.message_ttl = message_ttl
        self.ticket_ttl = ticket_ttl

    def _insert(self, table: type[Base]):
        return dialect_insert(self.engine.dialect.name, table)

    async def _ensure_user(self, session, pseudonym: str) -> None:
        await ensure_user(session, pseudonym, utcnow(), seen=True)

    @_guarded
    async def load_state(self, pseudonym: str) -> dict | None:
        async with self._sessions() as session:
            row = await session.get(ConversationStateRow, pseudonym)
            return dict(row.state) if row else None

    @_guarded
    async def save_state(
        self, pseudonym: str, state: dict, *, language: str | None, audience: str | None
    ) -> None:
        await self.save_turn(pseudonym, state, language=language, audience=audience)

    @_guarded
    async def add_messages(self, pseudonym: str, messages: list[LoggedMessage]) -> None:
        if not messages:
            return
        async with self._sessions.begin() as session:
            await self._ensure_user(session, pseudonym)
            self._add_messages(session, pseudonym, messages, utcnow())

    @_guarded
    async def save_turn(
        self,
        pseudonym: str,
        state: dict,
        *,
        language: str | None,
        audience: str | None,
        messages: Sequence[LoggedMessage] = (),
    ) -> None:
        """A turn's state and its messages in one transaction: one round trip to the database
        per update instead of two, and never the words without the state or the reverse."""
        now = utcnow()
        async with self._sessions.begin() as session:
            await self._ensure_user(session, pseudonym)
            user = await session.get(User, pseudonym)
            user.language, user.audience = language, audience
            statement = self._insert(ConversationStateRow).values(
                pseudonym=pseudonym, state=state, updated_at=now
            )
            await session.execute(
                statement.on_conflict_do_update(
                    index_elements=[ConversationStateRow.pseudonym],
                    set_={"state": state, "updated_at": now},
                )
            )
            self._add_messages(session, pseudonym, messages, now)

    def _add_messages(
        self, session, pseudonym: str, messages: Sequence[LoggedMessage], now: dt.datetime
    ) -> None:
        session.add_all(
            Message(
                pseudonym=pseudonym,
                direction=m.direction,
                text=m.text,
                topic=m.topic,
                route=m.route,
                created_at=now,
                expires_at=now + self.message_ttl,
            )
            for m in messages
        )

    @_guarded
    async def recent_messages(self, pseudonym: str, limit: int = 20) -> list[LoggedMessage]:
        async with self._sessions() as session:
            rows = await session.scalars(
                select(Message)
                .where(Message.pseudonym == pseudonym)
                .order_by(Message.id.desc())
                .limit(limit)
            )
            return [
                LoggedMessage(r.direction, r.text, r.topic, r.route) for r in reversed(list(rows))
            ]

    @_guarded
    async def record_feedback(
        self, pseudonym: str, *, topic: str, revision: int, language: str, helpful: bool
    ) -> None:
        async with self._sessions.begin() as session:
            await self._ensure_user(session, pseudonym)
            statement = self._insert(Feedback).values(
                pseudonym=pseudonym,
                topic=topic,
                revision=revision,
                language=language,
                helpful=helpful,
                created_at=utcnow(),
            )
            await session.execute(
                statement.on_conflict_do_update(
                    index_elements=[Feedback.pseudonym, Feedback.topic, Feedback.revision],
                    set_={"helpful": helpful, "language": language},
                )
            )

    @_guarded
    async def feedback_summary(self) -> dict[tuple[str, int], tuple[int, int]]:
        """(topic, revision) -> (helpful, not helpful): aggregated, never per person."""
        async with self._sessions() as session:
            rows = await session.execute(
                select(Feedback.topic, Feedback.revision, Feedback.helpful, func.count()).group_by(
                    Feedback.topic, Feedback.revision, Feedback.helpful
                )
            )
            summary: dict[tuple[str, int], tuple[int, int]] = {}
            for topic, revision, helpful, count in rows:
                up, down = summary.get((topic, revision), (0, 0))
                summary[(topic, revision)] = (up + count, down) if helpful else (up, down + count)
            return summary

    @_guarded
    async def purge_expired(self, now: dt.datetime | None = None) -> int:
        """The retention job: conversation text past its window, and every word of tickets
        closed longer than the ticket window ago (the bare rows stay for the numbers)."""
        now = now or utcnow()
        async with self._sessions.begin() as session:
            result = await session.execute(delete(Message).where(Message.expires_at <= now))
            removed = result.rowcount or 0
            old = select(Ticket.id).where(
                Ticket.status == "closed", Ticket.closed_at <= now - self.ticket_ttl
            )
            result = await session.execute(
                delete(TicketMessage).where(TicketMessage.ticket_id.in_(old))
            )
            removed += result.rowcount or 0
            await session.execute(
                update(Ticket).where(Ticket.id.in_(old)).values(question="", pseudonym=None)
            )
            result = await session.execute(
                delete(ChatTrace).where(ChatTrace.created_at <= now - dt.timedelta(hours=48))
            )
            removed += result.rowcount or 0
            # A chat reference is kept only while a ticket may still need it (open, or closed
            # within the day it can be reopened) or the user chose auto-clear.
            needed = select(Ticket.pseudonym).where(
                Ticket.pseudonym.is_not(None),
                (Ticket.status != "closed") | (Ticket.closed_at > now - dt.timedelta(days=1)),
            )
            await session.execute(
                update(User)
                .where(
                    User.chat_ref.is_not(None),
                    User.auto_clear_minutes.is_(None),
                    User.pseudonym.not_in(needed),
                )
                .values(chat_ref=None)
            )
            # The last question waiting in a conversation state is text too.
            stale = await session.scalars(
                select(ConversationStateRow).where(
                    ConversationStateRow.updated_at <= now - self.message_ttl
                )
            )
            for row in list(stale):
                if row.state.get("pending_question"):
                    row.state = {**row.state, "pending_question": ""}
            return removed

    @_guarded
    async def set_active(self, pseudonym: str, active: bool) -> None:
        """A user who blocked the bot is inactive: nothing is sent to them until they return."""
        async with self._sessions.begin() as session:
            user = await session.get(User, pseudonym)
            if user is not None:
                user.active = active

    @_guarded
    async def is_active(self, pseudonym: str) -> bool | None:
        async with self._sessions() as session:
            user = await session.get(User, pseudonym)
            return None if user is None else user.active

    @_guarded
    async def forget(self, pseudonym: str) -> None:
        """Erase every row about this user (children first, so no database needs CASCADE).

        Their tickets lose every word and the link to them; what stays is a bare row for the
        aggregated numbers. An open ticket is closed and its consultant told only that the user
        left (a line the outbox still delivers)."""
        now = utcnow()
        async with self._sessions.begin() as session:
            tickets = list(
                await session.scalars(select(Ticket).where(Ticket.pseudonym == pseudonym))
            )
            ids = [ticket.id for ticket in tickets]
            if ids:
                await session.execute(delete(TicketMessage).where(TicketMessage.ticket_id.in_(ids)))
            for ticket in tickets:
                if ticket.status != "closed":
                    session.add(
                        TicketMessage(
                            ticket_id=ticket.id,
                            author="system",
                            text=USER_LEFT,
                            created_at=now,
                            attempts=0,
                        )
                    )
            await session.execute(
                update(Ticket)
                .where(Ticket.pseudonym == pseudonym, Ticket.status != "closed")
                .values(status="closed", closed_at=now, close_reason=USER_LEFT)
            )
            await session.execute(
                update(Ticket)
                .where(Ticket.pseudonym == pseudonym)
                .values(pseudonym=None, question="")
            )
            for table in (Message, Feedback, ConversationStateRow, ChatTrace):
                await session.execute(delete(table).where(table.pseudonym == pseudonym))
            await session.execute(delete(User).where(User.pseudonym == pseudonym))

    @_guarded
    async def count_rows(self) -> dict[str, int]:
        async with self._sessions() as session:
            counts = {}
            for table in Base.metadata.sorted_tables:
                if table.name == "alembic_version":
                    continue
                counts[table.name] = await session.scalar(select(func.count()).select_from(table))
            return counts
