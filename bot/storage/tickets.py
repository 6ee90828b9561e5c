"""Tickets, their messages (also an outbox) and the consultants who may act on them.

Every state change is one transaction and a conditional UPDATE (``... WHERE status IN (...)``):
the database decides races, so two bot processes sharing one PostgreSQL can never both take
a ticket, and an outbox row is delivered by one of them at a time (a short lease).
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import and_, case, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot.storage.database import session_factory
from bot.storage.models import Consultant, Ticket, TicketMessage, User, utcnow
from bot.storage.repository import _guarded
from bot.storage.users import ensure_user

ACTIVE = ("open", "claimed", "answered", "reopened")
WAITING = ("open", "reopened")  # in the queue, nobody holds it
HELD = ("claimed", "answered")
PRIORITY_RANK = {"crisis": 0, "urgent": 1, "normal": 2}
# No 0/O, 1/I/L: a number read aloud or copied by hand stays unambiguous.
NUMBER_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
NUMBER_LENGTH = 4
ROLES = ("doctor", "psychologist", "lawyer")
Clock = Callable[[], dt.datetime]


def new_number() -> str:
    return "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(NUMBER_LENGTH))


def aware(value: dt.datetime | None) -> dt.datetime | None:
    """SQLite hands back naive datetimes; everything here is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class TicketRecord:
    id: int
    number: str
    pseudonym: str | None
    language: str
    audience: str | None
    topic: str | None
    role: str
    opened_priority: str
    priority: str
    status: str
    question: str
    consultant_id: int | None
    thread_id: int | None
    announcements: int
    created_at: dt.datetime
    claimed_at: dt.datetime | None
    answered_at: dt.datetime | None
    closed_at: dt.datetime | None
    reopened_at: dt.datetime | None
    announced_at: dt.datetime | None
    close_reason: str | None
    rating: int | None

    @classmethod
    def of(cls, row: Ticket) -> TicketRecord:
        return cls(
            id=row.id,
            number=row.number,
            pseudonym=row.pseudonym,
            language=row.language,
            audience=row.audience,
            topic=row.topic,
            role=row.role,
            opened_priority=row.opened_priority,
            priority=row.priority,
            status=row.status,
            question=row.question,
            consultant_id=row.consultant_id,
            thread_id=row.thread_id,
            announcements=row.announcements or 0,
            created_at=aware(row.created_at),
            claimed_at=aware(row.claimed_at),
            answered_at=aware(row.answered_at),
            closed_at=aware(row.closed_at),
            reopened_at=aware(row.reopened_at),
            announced_at=aware(row.announced_at),
            close_reason=row.close_reason,
            rating=row.rating,
        )

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @property
    def waiting(self) -> bool:
        return self.status in WAITING


@dataclass(frozen=True)
class ConsultantRecord:
    telegram_id: int
    role: str
    languages: tuple[str, ...]
    display_name: str | None

    @classmethod
    def of(cls, row: Consultant) -> ConsultantRecord:
        languages = tuple(part for part in row.languages.split(",") if part)
        return cls(row.telegram_id, row.role, languages, row.display_name)


@dataclass(frozen=True)
class OutboxItem:
    """A ticket message still to be delivered, with what delivering it needs."""

    id: int
    author: str  # user | consultant | system
    text: str
    ticket: TicketRecord
    consultant_role: str | None  # who wrote it, for the user's "Consultant (doctor): …"


@dataclass(frozen=True)
class TicketLine:
    author: str
    text: str
    created_at: dt.datetime


class TicketRepository:
    def __init__(self, engine: AsyncEngine, clock: Clock = utcnow) -> None:
        self.engine = engine
        self._sessions: async_sessionmaker = session_factory(engine)
        self.clock = clock

    # --- opening and reading -------------------------------------------------------------------
    @_guarded
    async def open(
        self,
        *,
        pseudonym: str,
        language: str,
        audience: str | None,
        topic: str | None,
        role: str,
        priority: str,
        question: str,
        context: Iterable[tuple[str, str]] = (),
    ) -> TicketRecord:
        """A new ticket with a fresh public number; ``context`` is (author, text) pairs of the
        conversation so far, stored as already seen (they go into the first post)."""
        now = self.clock()
        for _ in range(20):  # 31**4 numbers: a collision is rare, two in a row rarer still
            try:
                async with self._sessions.begin() as session:
                    await ensure_user(session, pseudonym, now)
                    ticket = Ticket(
                        number=new_number(),
                        pseudonym=pseudonym,
                        language=language,
                        audience=audience,
                        topic=topic,
                        role=role,
                        opened_priority=priority,
                        priority=priority,
                        status="open",
                        question=question,
                        created_at=now,
                        announced_at=None,
                        announcements=0,
                    )
                    session.add(ticket)
                    await session.flush()
                    session.add_all(
                        TicketMessage(
                            ticket_id=ticket.id,
                            author=f"context_{author}",
                            text=text,
                            created_at=now,
                            delivered_at=now,
                        )
                        for author, text in context
                    )
                    return TicketRecord.of(ticket)
            except IntegrityError:
                continue
        raise RuntimeError("could not find a free ticket number")

    async def _one(self, *conditions) -> TicketRecord | None:
        async with self._sessions() as session:
            row = await session.scalar(select(Ticket).where(*conditions).limit(1))
            return TicketRecord.of(row) if row else None

    @_guarded
    async def get(self, ticket_id: int) -> TicketRecord | None:
        return await self._one(Ticket.id == ticket_id)

    @_guarded
    async def by_thread(self, thread_id: int) -> TicketRecord | None:
        return await self._one(Ticket.thread_id == thread_id)

    @_guarded
    async def active_for(self, pseudonym: str) -> TicketRecord | None:
        return await self._one(Ticket.pseudonym == pseudonym, Ticket.status.in_(ACTIVE))

    @_guarded
    async def by_number_for(self, number: str, pseudonym: str) -> TicketRecord | None:
        return await self._one(Ticket.number == number.upper(), Ticket.pseudonym == pseudonym)

    def _queue_order(self):
        rank = case(PRIORITY_RANK, value=Ticket.priority, else_=9)
        return rank, Ticket.created_at

    @_guarded
    async def queue(self) -> list[TicketRecord]:
        async with self._sessions() as session:
            rows = await session.scalars(
                select(Ticket).where(Ticket.status.in_(WAITING)).order_by(*self._queue_order())
            )
            return [TicketRecord.of(row) for row in rows]

    @_guarded
    async def held_by(self, consultant_id: int) -> list[TicketRecord]:
        async with self._sessions() as session:
            rows = await session.scalars(
                select(Ticket)
                .where(Ticket.consultant_id == consultant_id, Ticket.status.in_(HELD))
                .order_by(*self._queue_order())
            )
            return [TicketRecord.of(row) for row in rows]

    @_guarded
    async def lines(self, ticket_id: int) -> list[TicketLine]:
        async with self._sessions() as session:
            rows = await session.scalars(
                select(TicketMessage)
                .where(TicketMessage.ticket_id == ticket_id)
                .order_by(TicketMessage.id)
            )
            return [TicketLine(r.author, r.text, aware(r.created_at)) for r in rows]

    # --- state changes: each one conditional, so a race has exactly one winner ----------------
    async def _transition(self, ticket_id: int, conditions: list, values: dict) -> bool:
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(Ticket).where(Ticket.id == ticket_id, *conditions).values(**values)
            )
            return result.rowcount == 1

    @_guarded
    async def take(self, ticket_id: int, consultant_id: int) -> bool:
        now = self.clock()
        return await self._transition(
            ticket_id,
            [Ticket.status.in_(WAITING)],
            {
                "status": "claimed",
                "consultant_id": consultant_id,
                "claimed_at": func.coalesce(Ticket.claimed_at, now),
            },
        )

    @_guarded
    async def release(self, ticket_id: int, consultant_id: int) -> bool:
        """Back to the queue; the re-announcement clock starts again."""
        return await self._transition(
            ticket_id,
            [Ticket.status.in_(HELD), Ticket.consultant_id == consultant_id],
            {"status": "open", "consultant_id": None, "announced_at": self.clock()},
        )

    @_guarded
    async def mark_answered(self, ticket_id: int, consultant_id: int) -> bool:
        now = self.clock()
        return await self._transition(
            ticket_id,
            [Ticket.status.in_(HELD), Ticket.consultant_id == consultant_id],
            {"status": "answered", "answered_at": func.coalesce(Ticket.answered_at, now)},
        )

    @_guarded
    async def close(self, ticket_id: int, *, reason: str, consultant_id: int | None) -> bool:
        """A consultant closes what they hold, or anything still waiting (spam, duplicates);
        ``consultant_id=None`` is the user (or the system) ending it."""
        if consultant_id is None:
            allowed = [Ticket.status.in_(ACTIVE)]
        else:
            allowed = [
                or_(
                    Ticket.status.in_(WAITING),
                    and_(Ticket.status.in_(HELD), Ticket.consultant_id == consultant_id),
                )
            ]
        return await self._transition(
            ticket_id,
            allowed,
            {"status": "closed", "closed_at": self.clock(), "close_reason": reason[:200]},
        )

    @_guarded
    async def reopen(self, ticket_id: int, pseudonym: str, window: dt.timedelta) -> bool:
        now = self.clock()
        return await self._transition(
            ticket_id,
            [
                Ticket.status == "closed",
                Ticket.pseudonym == pseudonym,
                Ticket.closed_at >= now - window,
            ],
            {
                "status": "reopened",
                "consultant_id": None,
                "reopened_at": now,
                "announced_at": now,
                "rating": None,
            },
        )

    @_guarded
    async def rate(self, ticket_id: int, pseudonym: str, stars: int) -> bool:
        return await self._transition(
            ticket_id,
            [Ticket.status == "closed", Ticket.pseudonym == pseudonym, Ticket.rating.is_(None)],
            {"rating": stars},
        )

    @_guarded
    async def raise_priority(self, ticket_id: int, priority: str) -> bool:
        """Only ever upwards."""
        lower = [p for p, rank in PRIORITY_RANK.items() if rank > PRIORITY_RANK[priority]]
        return await self._transition(
            ticket_id, [Ticket.priority.in_(lower)], {"priority": priority}
        )

    @_guarded
    async def set_thread(self, ticket_id: int, thread_id: int) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                update(Ticket)
                .where(Ticket.id == ticket_id)
                .values(
                    thread_id=thread_id,
                    lease_until=None,
                    announced_at=self.clock(),
                    announcements=Ticket.announcements + 1,
                )
            )

    # --- announcing (an outbox of tickets without a topic yet) --------------------------------
    @_guarded
    async def claim_unannounced(self, lease: dt.timedelta) -> list[TicketRecord]:
        now = self.clock()
        free = or_(Ticket.lease_until.is_(None), Ticket.lease_until < now)
        async with self._sessions() as session:
            ids = list(
                await session.scalars(
                    select(Ticket.id)
                    .where(Ticket.thread_id.is_(None), Ticket.status.in_(ACTIVE), free)
                    .order_by(*self._queue_order())
                )
            )
        claimed = []
        for ticket_id in ids:
            if await self._transition(
                ticket_id, [Ticket.thread_id.is_(None), free], {"lease_until": now + lease}
            ):
                record = await self._one(Ticket.id == ticket_id)
                if record is not None:
                    claimed.append(record)
        return claimed

    @_guarded
    async def release_announcement(self, ticket_id: int) -> None:
        await self._transition(ticket_id, [], {"lease_until": None})

    @_guarded
    async def claim_overdue(
        self, waits: dict[str, dt.timedelta], raise_to: dict[str, str]
    ) -> list[TicketRecord]:
        """Waiting tickets nobody took within their priority's wait: re-announce them once per
        wait, one step more urgent. Returns the ones this process won (already raised)."""
        now = self.clock()
        won = []
        for priority, wait in waits.items():
            async with self._sessions() as session:
                ids = list(
                    await session.scalars(
                        select(Ticket.id).where(
                            Ticket.status.in_(WAITING),
                            Ticket.thread_id.is_not(None),
                            Ticket.priority == priority,
                            Ticket.announced_at < now - wait,
                        )
                    )
                )
            for ticket_id in ids:
                if await self._transition(
                    ticket_id,
                    [
                        Ticket.status.in_(WAITING),
                        Ticket.priority == priority,
                        Ticket.announced_at < now - wait,
                    ],
                    {
                        "announced_at": now,
                        "announcements": Ticket.announcements + 1,
                        "priority": raise_to.get(priority, priority),
                    },
                ):
                    record = await self._one(Ticket.id == ticket_id)
                    if record is not None:
                        won.append(record)
        return won

    # --- ticket messages and their delivery ---------------------------------------------------
    @_guarded
    async def add_line(
        self,
        ticket_id: int,
        author: str,
        text: str,
        *,
        consultant_id: int | None = None,
        deliver: bool = True,
    ) -> int:
        now = self.clock()
        async with self._sessions.begin() as session:
            message = TicketMessage(
                ticket_id=ticket_id,
                author=author,
                text=text,
                consultant_id=consultant_id,
                created_at=now,
                delivered_at=None if deliver else now,
                attempts=0,
            )
            session.add(message)
            await session.flush()
            return message.id

    @_guarded
    async def claim_outbox(self, lease: dt.timedelta, limit: int = 50) -> list[OutboxItem]:
        """Undelivered messages whose ticket already has its topic, oldest first."""
        now = self.clock()
        free = or_(TicketMessage.lease_until.is_(None), TicketMessage.lease_until < now)
        async with self._sessions() as session:
            ids = list(
                await session.scalars(
                    select(TicketMessage.id)
                    .join(Ticket, Ticket.id == TicketMessage.ticket_id)
                    .where(
                        TicketMessage.delivered_at.is_(None),
                        Ticket.thread_id.is_not(None),
                        free,
                    )
                    .order_by(TicketMessage.id)
                    .limit(limit)
                )
            )
        items = []
        for message_id in ids:
            async with self._sessions.begin() as session:
                result = await session.execute(
                    update(TicketMessage)
                    .where(
                        TicketMessage.id == message_id,
                        TicketMessage.delivered_at.is_(None),
                        free,
                    )
                    .values(lease_until=now + lease, attempts=TicketMessage.attempts + 1)
                )
                if result.rowcount != 1:
                    continue
                message = await session.get(TicketMessage, message_id)
                ticket = await session.get(Ticket, message.ticket_id)
                role = None
                if message.consultant_id is not None:
                    consultant = await session.get(Consultant, message.consultant_id)
                    role = consultant.role if consultant else None
                items.append(
                    OutboxItem(
                        message.id, message.author, message.text, TicketRecord.of(ticket), role
                    )
                )
        return items

    @_guarded
    async def delivered(self, message_id: int) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                update(TicketMessage)
                .where(TicketMessage.id == message_id)
                .values(delivered_at=self.clock(), lease_until=None)
            )

    @_guarded
    async def undeliverable(self, message_id: int) -> None:
        """Give up on one message (the user blocked the bot, the topic is gone)."""
        await self.delivered(message_id)

    # --- consultants ---------------------------------------------------------------------------
    @_guarded
    async def add_consultant(self, telegram_id: int, role: str, languages: Iterable[str]) -> None:
        joined = ",".join(languages)
        async with self._sessions.begin() as session:
            row = await session.get(Consultant, telegram_id)
            if row is None:
                session.add(
                    Consultant(
                        telegram_id=telegram_id,
                        role=role,
                        languages=joined,
                        added_at=self.clock(),
                    )
                )
            else:
                row.role, row.languages = role, joined

    @_guarded
    async def remove_consultant(self, telegram_id: int) -> bool:
        async with self._sessions.begin() as session:
            result = await session.execute(
                delete(Consultant).where(Consultant.telegram_id == telegram_id)
            )
            return result.rowcount == 1

    @_guarded
    async def consultants(self) -> list[ConsultantRecord]:
        async with self._sessions() as session:
            rows = await session.scalars(select(Consultant).order_by(Consultant.telegram_id))
            return [ConsultantRecord.of(row) for row in rows]

    @_guarded
    async def consultant(self, telegram_id: int) -> ConsultantRecord | None:
        async with self._sessions() as session:
            row = await session.get(Consultant, telegram_id)
            return ConsultantRecord.of(row) if row else None

    @_guarded
    async def name_consultant(self, telegram_id: int, display_name: str) -> None:
        async with self._sessions.begin() as session:
            row = await session.get(Consultant, telegram_id)
            if row is not None and row.display_name != display_name[:64]:
                row.display_name = display_name[:64]

    # --- the user's sealed chat reference (to relay answers) ----------------------------------
    @_guarded
    async def set_chat_ref(self, pseudonym: str, sealed: bytes) -> None:
        now = self.clock()
        async with self._sessions.begin() as session:
            await ensure_user(session, pseudonym, now)
            user = await session.get(User, pseudonym)
            user.chat_ref = sealed

    @_guarded
    async def chat_ref(self, pseudonym: str) -> bytes | None:
        async with self._sessions() as session:
            user = await session.get(User, pseudonym)
            return user.chat_ref if user is not None and user.active else None

    # --- numbers for the programme (aggregated by the caller) --------------------------------
    @_guarded
    async def all_since(self, since: dt.datetime | None) -> list[TicketRecord]:
        async with self._sessions() as session:
            query = select(Ticket).order_by(Ticket.created_at)
            if since is not None:
                query = query.where(Ticket.created_at >= since)
            return [TicketRecord.of(row) for row in await session.scalars(query)]
