"""Tables. A user is a pseudonym; nothing here can name a person (see CONTRACT.md)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class User(Base):
    __tablename__ = "users"

    pseudonym: Mapped[str] = mapped_column(String(64), primary_key=True)
    chat_ref: Mapped[bytes | None] = mapped_column(LargeBinary)  # encrypted chat id, to reply
    language: Mapped[str | None] = mapped_column(String(2))
    audience: Mapped[str | None] = mapped_column(String(8))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    auto_clear_minutes: Mapped[int | None] = mapped_column(Integer)  # discreet mode, if chosen
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ConversationStateRow(Base):
    __tablename__ = "conversation_states"

    pseudonym: Mapped[str] = mapped_column(
        ForeignKey("users.pseudonym", ondelete="CASCADE"), primary_key=True
    )
    state: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Message(Base):
    """Conversation text, kept only for the conversation window (``expires_at``)."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    pseudonym: Mapped[str] = mapped_column(
        ForeignKey("users.pseudonym", ondelete="CASCADE"), index=True
    )
    direction: Mapped[str] = mapped_column(String(3))  # "in" | "out"
    text: Mapped[str] = mapped_column(Text)
    topic: Mapped[str | None] = mapped_column(String(64))
    route: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)


class Feedback(Base):
    """Was an answer helpful? One vote per user, topic and answer revision (last press wins)."""

    __tablename__ = "feedback"
    __table_args__ = (UniqueConstraint("pseudonym", "topic", "revision"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    pseudonym: Mapped[str] = mapped_column(
        ForeignKey("users.pseudonym", ondelete="CASCADE"), index=True
    )
    topic: Mapped[str] = mapped_column(String(64), index=True)
    revision: Mapped[int] = mapped_column(Integer)
    language: Mapped[str] = mapped_column(String(2))
    helpful: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Consultant(Base):
    """Someone allowed to act in the consultants' chat (staff, registered by an operator).

    Their Telegram id is kept in the clear: it is how the bot recognises them. Users never see it.
    """

    __tablename__ = "consultants"

    telegram_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    role: Mapped[str] = mapped_column(String(16))  # doctor | psychologist | lawyer
    languages: Mapped[str] = mapped_column(String(16))  # "kk,ru,en"
    display_name: Mapped[str | None] = mapped_column(String(64))  # for colleagues, never users
    added_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Ticket(Base):
    """A conversation handed to a person. Linked to the user by pseudonym only; the link is cut
    (SET NULL) when the user erases their data, so the aggregated numbers survive."""

    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(8), unique=True)
    pseudonym: Mapped[str | None] = mapped_column(
        ForeignKey("users.pseudonym", ondelete="SET NULL"), index=True
    )
    language: Mapped[str] = mapped_column(String(2))
    audience: Mapped[str | None] = mapped_column(String(8))
    topic: Mapped[str | None] = mapped_column(String(64), index=True)
    role: Mapped[str] = mapped_column(String(16))  # the consultant pool it is meant for
    opened_priority: Mapped[str] = mapped_column(String(8))
    priority: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(10), index=True)
    question: Mapped[str] = mapped_column(Text)
    consultant_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    thread_id: Mapped[int | None] = mapped_column(BigInteger, index=True)  # its forum topic
    lease_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    announced_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    announcements: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    answered_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    reopened_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    close_reason: Mapped[str | None] = mapped_column(String(200))
    rating: Mapped[int | None] = mapped_column(Integer)


class TicketMessage(Base):
    """What was said in a ticket, and an outbox: ``delivered_at`` is empty until the other side
    has it (user → the ticket's topic, consultant → the user, system → the topic)."""

    __tablename__ = "ticket_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    author: Mapped[str] = mapped_column(String(12))  # user | consultant | note | system
    text: Mapped[str] = mapped_column(Text)
    consultant_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    lease_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)


class Report(Base):
    """An anonymous abuse report. Deliberately no pseudonym column: nothing in storage links a
    report to whoever sent it. The reporter holds the number and a one-time code (only its
    hash is kept) to check on it."""

    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(12), unique=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(2))
    who: Mapped[str | None] = mapped_column(String(8))  # "self" | "other"
    what: Mapped[str | None] = mapped_column(Text)
    region: Mapped[str | None] = mapped_column(String(32))
    place: Mapped[str | None] = mapped_column(Text)
    danger_now: Mapped[str | None] = mapped_column(String(8))  # "yes" | "no" | "unknown"
    status: Mapped[str] = mapped_column(String(12), index=True)  # received|acknowledged|acted
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    acted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class ReportPost(Base):
    """The outbox towards the agency: the report itself and every later addition. Posted again
    until someone in the agency chat presses "received" (at-least-once; the agency de-duplicates
    by report number)."""

    __tablename__ = "report_posts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    text: Mapped[str | None] = mapped_column(Text)  # None: the report itself; else an addition
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    posted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    posts: Mapped[int] = mapped_column(Integer, default=0)
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    lease_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class ChatTrace(Base):
    """Ids of messages in a user's private chat from the last 48 hours, kept only so that
    discreet mode (/clear, auto-clear) can delete them: Telegram lets a bot delete both sides of
    a private chat within 48 hours. No text, and nothing older."""

    __tablename__ = "chat_traces"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    pseudonym: Mapped[str] = mapped_column(
        ForeignKey("users.pseudonym", ondelete="CASCADE"), index=True
    )
    message_id: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
