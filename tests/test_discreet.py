"""Discreet mode: which messages may be deleted, when auto-clear deletes them, and the core's
buttons and effects. Storage on SQLite and PostgreSQL, with a controlled clock."""

from __future__ import annotations

import datetime as dt

import pytest_asyncio

from bot.dialogue.engine import Engine
from bot.dialogue.messages import ClearChat, Command, Incoming, SetAutoClear
from bot.storage.database import create_engine_async
from bot.storage.repository import Repository
from bot.storage.schema import upgrade
from bot.storage.traces import TraceRepository
from tests.doubles import ScriptedNlu
from tests.test_tickets import Clock

USER = "d" * 64


@pytest_asyncio.fixture
async def traces(database_url: str):
    upgrade(database_url)
    engine = create_engine_async(database_url)
    clock = Clock(dt.datetime.now(dt.UTC))
    repo = TraceRepository(engine, clock=clock)
    await Repository(engine).save_state(USER, {}, language="ru", audience=None)
    try:
        yield repo, clock
    finally:
        await engine.dispose()


async def test_only_the_last_48_hours_are_deletable(traces):
    repo, clock = traces
    await repo.add(USER, [1, 2])
    clock.advance(hours=47)
    await repo.add(USER, [3])
    assert await repo.deletable(USER) == [1, 2, 3]
    clock.advance(hours=2)
    assert await repo.deletable(USER) == [3]  # Telegram would refuse 1 and 2 now
    assert await repo.purge() == 2
    await repo.forget_ids(USER, [3])
    assert await repo.deletable(USER) == []


async def test_auto_clear_deletes_what_is_older_than_the_chosen_minutes(traces):
    repo, clock = traces
    await repo.set_auto_clear(USER, 15, b"sealed")
    await repo.add(USER, [10, 11])
    clock.advance(minutes=10)
    await repo.add(USER, [12])
    assert await repo.auto_clear_due() == []
    clock.advance(minutes=6)
    [due] = await repo.auto_clear_due()
    assert (due.pseudonym, due.chat_ref, sorted(due.message_ids)) == (USER, b"sealed", [10, 11])
    await repo.set_auto_clear(USER, None, None)
    clock.advance(minutes=30)
    assert await repo.auto_clear_due() == []


async def test_ids_of_an_erased_user_are_not_tracked(traces):
    repo, _ = traces
    await repo.add("x" * 64, [1, 2, 3])  # never stored (or erased by /forget)
    assert await repo.deletable("x" * 64) == []


async def test_sensitive_answers_offer_to_clear_and_clear_gives_effects(
    knowledge, catalogs, crisis_lexicon
):
    nlu = ScriptedNlu().on("что такое экстренная контрацепция", ("emergency_contraception", 0.95))
    nlu.on("как ухаживать за кожей", ("skin_acne", 0.95))
    engine = Engine(knowledge=knowledge, nlu=nlu, catalogs=catalogs, crisis=crisis_lexicon)
    sensitive = await engine.handle(Incoming(USER, text="что такое экстренная контрацепция"))
    ordinary = await engine.handle(Incoming(USER, text="как ухаживать за кожей"))
    buttons = lambda o: [b.action for r in o.replies for b in r.buttons]  # noqa: E731
    assert "clear:now" in buttons(sensitive) and "clear:now" not in buttons(ordinary)
    menu = await engine.handle(Incoming(USER, command=Command.CLEAR))
    assert buttons(menu) == ["clear:now", "clear:auto:15", "clear:auto:60", "clear:auto:off"]
    assert (await engine.handle(Incoming(USER, action="clear:now"))).effects == [ClearChat()]
    auto = await engine.handle(Incoming(USER, action="clear:auto:60"))
    assert auto.effects == [SetAutoClear(60)]
    off = await engine.handle(Incoming(USER, action="clear:auto:off"))
    assert off.effects == [SetAutoClear(None)]
