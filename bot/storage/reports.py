"""Anonymous reports and their outbox towards the agency.

A report row has no user column. The reporter gets a number and a one-time code; only a slow
salted hash of the code is kept, so the database alone does not let anyone act as the reporter.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot.storage.database import session_factory
from bot.storage.models import Report, ReportPost, utcnow
from bot.storage.repository import _guarded
from bot.storage.tickets import NUMBER_ALPHABET, Clock, aware

REPORT_NUMBER_LENGTH = 5
CODE_DIGITS = 8
HASH_ITERATIONS = 100_000


def new_report_number() -> str:
    return "R" + "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(REPORT_NUMBER_LENGTH))


def new_code() -> str:
    return "".join(secrets.choice("0123456789") for _ in range(CODE_DIGITS))


def hash_code(number: str, code: str) -> str:
    digits = "".join(ch for ch in code if ch.isdigit())
    return hashlib.pbkdf2_hmac(
        "sha256", digits.encode(), f"syrlas-report:{number}".encode(), HASH_ITERATIONS
    ).hex()


@dataclass(frozen=True)
class ReportDraft:
    language: str
    who: str | None = None
    what: str | None = None
    region: str | None = None
    place: str | None = None
    danger_now: str | None = None


@dataclass(frozen=True)
class ReportRecord:
    id: int
    number: str
    language: str
    who: str | None
    what: str | None
    region: str | None
    place: str | None
    danger_now: str | None
    status: str
    created_at: dt.datetime
    acknowledged_at: dt.datetime | None
    acted_at: dt.datetime | None

    @classmethod
    def of(cls, row: Report) -> ReportRecord:
        return cls(
            row.id,
            row.number,
            row.language,
            row.who,
            row.what,
            row.region,
            row.place,
            row.danger_now,
            row.status,
            aware(row.created_at),
            aware(row.acknowledged_at),
            aware(row.acted_at),
        )


@dataclass(frozen=True)
class PostItem:
    id: int
    report: ReportRecord
    addition: str | None  # None: the report itself
    posts: int  # how many times it was posted before


class ReportRepository:
    def __init__(self, engine: AsyncEngine, clock: Clock = utcnow) -> None:
        self.engine = engine
        self._sessions: async_sessionmaker = session_factory(engine)
        self.clock = clock

    @_guarded
    async def create(self, draft: ReportDraft) -> tuple[ReportRecord, str]:
        """The stored report and its one-time code (shown to the reporter once, kept nowhere)."""
        code, now = new_code(), self.clock()
        for _ in range(20):
            number = new_report_number()
            try:
                async with self._sessions.begin() as session:
                    report = Report(
                        number=number,
                        code_hash=hash_code(number, code),
                        language=draft.language,
                        who=draft.who,
                        what=draft.what,
                        region=draft.region,
                        place=draft.place,
                        danger_now=draft.danger_now,
                        status="received",
                        created_at=now,
                    )
                    session.add(report)
                    await session.flush()
                    session.add(ReportPost(report_id=report.id, created_at=now, posts=0))
                    return ReportRecord.of(report), code
            except IntegrityError:
                continue
        raise RuntimeError("could not find a free report number")

    @_guarded
    async def check(self, number: str, code: str) -> ReportRecord | None:
        """The report, if the code is right; the same None for a wrong number or code."""
        number = number.strip().upper().lstrip("#")
        async with self._sessions() as session:
            row = await session.scalar(select(Report).where(Report.number == number))
        expected = row.code_hash if row else hash_code("R00000", "0")
        ok = hmac.compare_digest(expected, hash_code(number, code))
        return ReportRecord.of(row) if row is not None and ok else None

    @_guarded
    async def add(self, report: ReportRecord, text: str) -> None:
        async with self._sessions.begin() as session:
            session.add(
                ReportPost(report_id=report.id, text=text, created_at=self.clock(), posts=0)
            )

    @_guarded
    async def get(self, report_id: int) -> ReportRecord | None:
        async with self._sessions() as session:
            row = await session.get(Report, report_id)
            return ReportRecord.of(row) if row else None

    # --- the outbox ------------------------------------------------------------------------------
    @_guarded
    async def claim_due(self, repost_after: dt.timedelta, lease: dt.timedelta) -> list[PostItem]:
        """Posts never posted, or posted but not acknowledged for ``repost_after``."""
        now = self.clock()
        due = [
            ReportPost.acknowledged_at.is_(None),
            or_(ReportPost.posted_at.is_(None), ReportPost.posted_at < now - repost_after),
            or_(ReportPost.lease_until.is_(None), ReportPost.lease_until < now),
        ]
        async with self._sessions() as session:
            ids = list(
                await session.scalars(select(ReportPost.id).where(*due).order_by(ReportPost.id))
            )
        items = []
        for post_id in ids:
            async with self._sessions.begin() as session:
                result = await session.execute(
                    update(ReportPost)
                    .where(ReportPost.id == post_id, *due)
                    .values(lease_until=now + lease)
                )
                if result.rowcount != 1:
                    continue
                post = await session.get(ReportPost, post_id)
                report = await session.get(Report, post.report_id)
                items.append(PostItem(post.id, ReportRecord.of(report), post.text, post.posts))
        return items

    @_guarded
    async def posted(self, post_id: int) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                update(ReportPost)
                .where(ReportPost.id == post_id)
                .values(posted_at=self.clock(), posts=ReportPost.posts + 1, lease_until=None)
            )

    @_guarded
    async def post_failed(self, post_id: int) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                update(ReportPost).where(ReportPost.id == post_id).values(lease_until=None)
            )

    @_guarded
    async def acknowledge(self, post_id: int) -> ReportRecord | None:
        """The agency pressed "received" under a post. Idempotent: None if already done."""
        now = self.clock()
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(ReportPost)
                .where(ReportPost.id == post_id, ReportPost.acknowledged_at.is_(None))
                .values(acknowledged_at=now)
            )
            if result.rowcount != 1:
                return None
            post = await session.get(ReportPost, post_id)
            await session.execute(
                update(Report)
                .where(Report.id == post.report_id, Report.status == "received")
                .values(status="acknowledged", acknowledged_at=now)
            )
            report = await session.get(Report, post.report_id)
            await session.refresh(report)
            return ReportRecord.of(report)

    @_guarded
    async def mark_acted(self, report_id: int) -> ReportRecord | None:
        now = self.clock()
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(Report)
                .where(Report.id == report_id, Report.status != "acted")
                .values(
                    status="acted",
                    acted_at=now,
                    acknowledged_at=func.coalesce(Report.acknowledged_at, now),
                )
            )
            if result.rowcount != 1:
                return None
            await session.execute(
                update(ReportPost)
                .where(ReportPost.report_id == report_id, ReportPost.acknowledged_at.is_(None))
                .values(acknowledged_at=now)
            )
            report = await session.get(Report, report_id)
            await session.refresh(report)
            return ReportRecord.of(report)
