"""Storage behaviour, each test on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest
from sqlalchemy import create_engine, inspect

from bot.dialogue.engine import Engine
from bot.dialogue.messages import Incoming
from bot.storage.database import create_engine_async, sync_url
from bot.storage.errors import StorageUnavailable
from bot.storage.models import utcnow
from bot.storage.repository import LoggedMessage, Repository
from bot.storage.schema import downgrade, upgrade
from tests.doubles import ScriptedNlu

ALICE, BOB = "1" * 64, "2" * 64


def tables(url: str) -> set[str]:
    engine = create_engine(sync_url(url))
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_migrations_upgrade_downgrade_and_upgrade_again(database_url):
    upgrade(database_url)
    assert {"users", "conversation_states", "messages", "feedback"} <= tables(database_url)
    downgrade(database_url, "base")
    assert tables(database_url) <= {"alembic_version"}
    upgrade(database_url)
    upgrade(database_url)  # idempotent
    assert "messages" in tables(database_url)


async def test_state_round_trip_and_update(repository: Repository):
    assert await repository.load_state(ALICE) is None
    await repository.save_state(ALICE, {"language": "kk"}, language="kk", audience=None)
    await repository.save_state(
        ALICE, {"language": "ru", "awaiting": None}, language="ru", audience="teen"
    )
    assert await repository.load_state(ALICE) == {"language": "ru", "awaiting": None}


async def test_messages_expire_and_are_purged(repository: Repository):
    await repository.add_messages(
        ALICE, [LoggedMessage("in", "вопрос"), LoggedMessage("out", "ответ")]
    )
    await repository.add_messages(BOB, [LoggedMessage("in", "сұрақ")])
    assert await repository.purge_expired() == 0
    later = utcnow() + repository.message_ttl + dt.timedelta(seconds=1)
    assert await repository.purge_expired(later) == 3
    assert await repository.recent_messages(ALICE) == []


async def test_forget_erases_every_row_of_that_user_only(repository: Repository):
    for user in (ALICE, BOB):
        await repository.save_state(user, {"x": 1}, language="ru", audience="teen")
        await repository.add_messages(user, [LoggedMessage("in", "текст")])
        await repository.record_feedback(
            user, topic="period_pain", revision=1, language="ru", helpful=True
        )
    before = await repository.count_rows()
    empty = {
        "consultants": 0,
        "tickets": 0,
        "ticket_messages": 0,
        "reports": 0,
        "report_posts": 0,
        "chat_traces": 0,
    }
    assert before == {"users": 2, "conversation_states": 2, "messages": 2, "feedback": 2, **empty}
    await repository.forget(ALICE)
    after = await repository.count_rows()
    assert after == {"users": 1, "conversation_states": 1, "messages": 1, "feedback": 1, **empty}
    assert await repository.load_state(ALICE) is None
    assert await repository.load_state(BOB) == {"x": 1}


async def test_feedback_is_one_vote_per_user_topic_and_revision(repository: Repository):
    await repository.record_feedback(
        ALICE, topic="period_pain", revision=1, language="ru", helpful=True
    )
    await repository.record_feedback(
        ALICE, topic="period_pain", revision=1, language="ru", helpful=False
    )
    await repository.record_feedback(
        ALICE, topic="period_pain", revision=2, language="ru", helpful=True
    )
    await repository.record_feedback(
        BOB, topic="period_pain", revision=1, language="kk", helpful=True
    )
    assert await repository.feedback_summary() == {
        ("period_pain", 1): (1, 1),
        ("period_pain", 2): (1, 0),
    }


async def test_a_database_failure_is_storage_unavailable(tmp_path):
    url = f"sqlite:///{tmp_path / 'missing-dir' / 'x.db'}"  # folder does not exist
    engine = create_engine_async(url)
    try:
        try:
            await Repository(engine).load_state(ALICE)
        except StorageUnavailable:
            pass
        else:
            raise AssertionError("expected StorageUnavailable")
    finally:
        await engine.dispose()
        await _let_failed_connections_go()


async def _let_failed_connections_go() -> None:
    """A connection that failed to open is only collected later; its aiosqlite thread then
    answers the event loop that opened it. In a server that loop lives as long as the process;
    a test's loop closes at the end of the test, so collect it while the loop still runs."""
    import asyncio
    import gc

    gc.collect()
    await asyncio.sleep(0.05)


async def test_a_locked_database_still_gets_the_user_an_answer(tmp_path, knowledge, catalogs):
    url = f"sqlite:///{tmp_path / 'locked.db'}"
    upgrade(url)
    engine = create_engine_async(url, sqlite_busy_timeout=0.2)
    nlu = ScriptedNlu().on("у меня болят месячные", ("period_pain", 0.95))
    bot = Engine(knowledge=knowledge, nlu=nlu, catalogs=catalogs, store=Repository(engine))
    blocker = sqlite3.connect(tmp_path / "locked.db", isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        outcome = await bot.handle(Incoming(ALICE, text="у меня болят месячные"))
        assert outcome.topic == "period_pain" and outcome.replies
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
        await engine.dispose()
    # Once the lock is gone, the next message is stored again.
    engine = create_engine_async(url)
    bot.store = Repository(engine)
    try:
        await bot.handle(Incoming(ALICE, text="у меня болят месячные"))
        assert len(await bot.store.recent_messages(ALICE)) >= 2
    finally:
        await engine.dispose()


async def test_a_new_users_first_writes_at_once_make_one_row(repository):
    """Conversation state, a sealed chat reference and auto-clear all create the user's row if
    it is missing; arriving together (separate sessions, separate connections) they must not
    collide on the primary key."""
    import asyncio

    from sqlalchemy import func, select

    from bot.storage.models import User
    from bot.storage.tickets import TicketRepository
    from bot.storage.traces import TraceRepository

    tickets, traces = TicketRepository(repository.engine), TraceRepository(repository.engine)
    for round_ in range(5):
        user = f"new-user-{round_}"
        await asyncio.gather(
            repository.save_state(user, {}, language="ru", audience="teen"),
            tickets.set_chat_ref(user, b"sealed"),
            traces.set_auto_clear(user, 15, b"sealed"),
            repository.save_state(user, {}, language="kk", audience=None),
        )
    async with repository.engine.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(User)) == 5
        refs = (await conn.execute(select(User.chat_ref, User.auto_clear_minutes))).all()
    assert all(ref == (b"sealed", 15) for ref in refs)


async def test_a_turn_is_stored_whole_or_not_at_all(repository):
    """State and words go in one transaction: a failure in the middle leaves neither."""
    from sqlalchemy import func, select

    from bot.storage.models import ConversationStateRow, Message

    messages = [LoggedMessage("in", "у меня болят месячные", "period_pain", None)]
    await repository.save_turn(
        ALICE, {"step": 1}, language="ru", audience="teen", messages=messages
    )
    assert await repository.load_state(ALICE) == {"step": 1}
    bad = [*messages, LoggedMessage("out", None, None, None)]  # text is NOT NULL: the turn fails
    with pytest.raises(StorageUnavailable):
        await repository.save_turn(ALICE, {"step": 2}, language="ru", audience="teen", messages=bad)
    assert await repository.load_state(ALICE) == {"step": 1}
    async with repository.engine.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(Message)) == 1
        assert await conn.scalar(select(func.count()).select_from(ConversationStateRow)) == 1
