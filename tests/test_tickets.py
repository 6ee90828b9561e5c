"""Tickets end to end below Telegram: the desk (user side), the workspace (consultants' side)
and the storage under both, on SQLite and PostgreSQL, with a clock the tests control."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
import pytest_asyncio

from bot.dialogue.compose import Composer
from bot.dialogue.engine import Engine
from bot.dialogue.messages import Command, Incoming, Priority, TicketActivity
from bot.escalation.canned import CannedReplies
from bot.escalation.desk import TicketDesk
from bot.escalation.policy import EscalationPolicy, RoleMap
from bot.escalation.workspace import ConsultantInput, Workspace
from bot.languages import Language
from bot.storage.database import create_engine_async
from bot.storage.schema import upgrade
from bot.storage.tickets import NUMBER_ALPHABET, TicketRepository
from tests.doubles import ScriptedNlu

USER = "u" * 64
OTHER = "o" * 64
DOCTOR, PSYCHOLOGIST, STRANGER = 9001, 9002, 9999
# Friday 2026-11-27 10:00 in Almaty (UTC+5)
FRIDAY_MORNING = dt.datetime(2026, 11, 27, 5, 0, tzinfo=dt.UTC)


@dataclass
class Clock:
    now: dt.datetime = FRIDAY_MORNING

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest_asyncio.fixture
async def tickets(database_url: str, clock: Clock):
    upgrade(database_url)
    engine = create_engine_async(database_url)
    repo = TicketRepository(engine, clock=clock)
    await repo.add_consultant(DOCTOR, "doctor", ["kk", "ru"])
    await repo.add_consultant(PSYCHOLOGIST, "psychologist", ["ru", "en"])
    try:
        yield repo
    finally:
        await engine.dispose()


@pytest.fixture
def policy() -> EscalationPolicy:
    return EscalationPolicy.from_settings(
        {"default": "mon-fri 09:00-18:00"}, "Asia/Almaty", {}, answer_within_hours=4
    )


@pytest.fixture
def desk(tickets, policy, settings) -> TicketDesk:
    return TicketDesk(
        tickets, policy, RoleMap.load(settings.responses_dir / "consultant_roles.yml")
    )


@pytest.fixture
def workspace(tickets, policy, catalogs, knowledge, settings) -> Workspace:
    canned = CannedReplies.load(settings.responses_dir / "canned.yml")
    return Workspace(tickets, policy, catalogs, Composer(knowledge), canned, language=Language.EN)


@pytest.fixture
def nlu() -> ScriptedNlu:
    return ScriptedNlu().on("у меня болят месячные", ("period_pain", 0.93))


@pytest.fixture
def engine(knowledge, catalogs, nlu, repository, crisis_lexicon, desk) -> Engine:
    return Engine(
        knowledge=knowledge,
        nlu=nlu,
        catalogs=catalogs,
        store=repository,
        crisis=crisis_lexicon,
        desk=desk,
    )


def texts(outcome) -> str:
    return "\n".join(reply.text for reply in outcome.replies)


def actions(outcome) -> list[str]:
    return [b.action for reply in outcome.replies for b in reply.buttons]


async def announce(workspace: Workspace, thread_id: int = 100):
    """What the Telegram adapter does in a round: open a topic per new ticket."""
    round_ = await workspace.pending()
    for i, new in enumerate(round_.new_topics):
        await workspace.topic_created(new.ticket, thread_id + i)
    return round_


async def deliver(workspace: Workspace):
    round_ = await workspace.pending()
    for delivery in round_.deliveries:
        await workspace.delivered(delivery, ok=True)
    return round_


# --- the user's side ------------------------------------------------------------------------
async def test_consultant_command_opens_a_ticket_with_a_number_and_what_to_expect(engine, tickets):
    await engine.handle(Incoming(USER, action="lang:ru"))
    await engine.handle(Incoming(USER, text="у меня болят месячные"))
    outcome = await engine.handle(Incoming(USER, command=Command.CONSULTANT))
    ticket = await tickets.active_for(USER)
    assert ticket is not None and ticket.status == "open" and ticket.priority == "normal"
    assert len(ticket.number) == 4 and set(ticket.number) <= set(NUMBER_ALPHABET)
    assert f"#{ticket.number}" in texts(outcome)
    assert "4" in texts(outcome)  # in working hours: "usually within 4 hours"
    assert "150" in texts(outcome) and "112" in texts(outcome)
    assert "withdraw:ask" in actions(outcome)
    assert TicketActivity(ticket.number) in outcome.effects
    # the conversation before goes with it, so the consultant need not ask again
    lines = await tickets.lines(ticket.id)
    assert any(line.author == "context_user" and "месячные" in line.text for line in lines)


async def test_out_of_hours_the_user_is_told_when_consultants_are_back(engine, clock):
    clock.now = dt.datetime(2026, 11, 28, 6, 0, tzinfo=dt.UTC)  # Saturday 11:00 Almaty
    await engine.handle(Incoming(USER, action="lang:en"))
    outcome = await engine.handle(Incoming(USER, command=Command.CONSULTANT))
    assert "not working right now" in texts(outcome)
    assert "11/30/26" in texts(outcome)  # Monday 09:00, in the user's locale
    assert "150" in texts(outcome)


async def test_crisis_out_of_hours_still_goes_out_at_once_with_the_helplines(
    engine, tickets, clock
):
    clock.now = dt.datetime(2026, 11, 28, 20, 0, tzinfo=dt.UTC)  # Sunday 01:00 Almaty
    outcome = await engine.handle(Incoming(USER, text="не хочу жить"))
    ticket = await tickets.active_for(USER)
    assert ticket is not None and ticket.priority == "crisis"
    body = texts(outcome)
    assert body.index("150") < body.index(f"#{ticket.number}")  # numbers before anything else
    assert "sent at once" in body or "сразу" in body


async def test_while_a_ticket_is_open_texts_go_to_it_not_to_the_bots_answers(engine, tickets, nlu):
    await engine.handle(Incoming(USER, action="lang:ru"))
    await engine.handle(Incoming(USER, command=Command.CONSULTANT))
    ticket = await tickets.active_for(USER)
    nlu.seen.clear()
    waiting = await engine.handle(Incoming(USER, text="у меня болят месячные"))
    assert waiting.topic is None  # the classifier only looked for a crisis: no topic answer
    assert f"#{ticket.number}" in texts(waiting)  # "added to your question"
    assert (await tickets.lines(ticket.id))[-1].text == "у меня болят месячные"
    # once a person holds it, the bot stays quiet
    assert await tickets.take(ticket.id, DOCTOR)
    held = await engine.handle(Incoming(USER, text="и ещё голова болит"))
    assert held.replies == []
    again = await engine.handle(Incoming(USER, command=Command.CONSULTANT))
    assert f"#{ticket.number}" in texts(again)
    assert len([t for t in await tickets.all_since(None)]) == 1


async def test_crisis_while_a_ticket_is_held_shows_numbers_and_raises_priority(engine, tickets):
    await engine.handle(Incoming(USER, action="lang:ru"))
    await engine.handle(Incoming(USER, command=Command.CONSULTANT))
    ticket = await tickets.active_for(USER)
    await tickets.take(ticket.id, DOCTOR)
    outcome = await engine.handle(Incoming(USER, text="я больше не хочу жить"))
    assert texts(outcome).lstrip().startswith(outcome.replies[0].text.splitlines()[0])
    assert "150" in texts(outcome).split("\n\n")[0]
    assert (await tickets.get(ticket.id)).priority == "crisis"


async def test_an_indirect_crisis_while_a_ticket_is_held_is_caught_by_the_classifier(
    engine, tickets, nlu
):
    """No lexicon phrase in it: the classifier's crisis topics still run on a held ticket."""
    quiet = "я всё решила, мама поймёт потом"
    nlu.on(quiet, ("self_harm_suicide", 0.41), ("low_mood", 0.3))
    assert engine.crisis_match(quiet) is None
    await engine.handle(Incoming(USER, action="lang:ru"))
    await engine.handle(Incoming(USER, command=Command.CONSULTANT))
    ticket = await tickets.active_for(USER)
    await tickets.take(ticket.id, DOCTOR)
    outcome = await engine.handle(Incoming(USER, text=quiet))
    assert "150" in outcome.replies[0].text
    assert (await tickets.get(ticket.id)).priority == "crisis"
    assert quiet in [line.text for line in await tickets.lines(ticket.id)]  # for the consultant


async def test_a_held_ticket_survives_the_nlu_being_down(engine, tickets, nlu):
    await engine.handle(Incoming(USER, action="lang:ru"))
    await engine.handle(Incoming(USER, command=Command.CONSULTANT))
    ticket = await tickets.active_for(USER)
    await tickets.take(ticket.id, DOCTOR)
    nlu.down = True
    held = await engine.handle(Incoming(USER, text="и ещё голова болит"))
    assert held.replies == []
    assert (await tickets.lines(ticket.id))[-1].text == "и ещё голова болит"
    crisis = await engine.handle(Incoming(USER, text="не хочу жить"))  # the lexicon needs no NLU
    assert "150" in crisis.replies[0].text


async def test_a_waiting_question_can_be_withdrawn_after_confirming(engine, tickets):
    await engine.handle(Incoming(USER, action="lang:en"))
    await engine.handle(Incoming(USER, command=Command.CONSULTANT))
    ticket = await tickets.active_for(USER)
    ask = await engine.handle(Incoming(USER, command=Command.CANCEL))
    assert actions(ask) == ["withdraw:yes", "withdraw:no"]
    assert (await tickets.get(ticket.id)).status == "open"
    await engine.handle(Incoming(USER, action="withdraw:yes"))
    closed = await tickets.get(ticket.id)
    assert closed.status == "closed" and closed.close_reason == "withdrawn by the user"
    assert await tickets.active_for(USER) is None


async def test_media_during_a_ticket_is_declined_politely(engine, tickets):
    await engine.handle(Incoming(USER, action="lang:en"))
    await engine.handle(Incoming(USER, command=Command.CONSULTANT))
    outcome = await engine.handle(Incoming(USER, unsupported=True))
    assert "only read text" in texts(outcome)


# --- storage: transitions are conditional, races have one winner -----------------------------
async def test_take_has_exactly_one_winner_and_the_loser_is_told_who(desk, workspace, tickets):
    from bot.dialogue.messages import OpenTicket

    await desk.open(USER, OpenTicket(Priority.NORMAL, Language.RU, "teen", "period_pain", "q"))
    ticket = await tickets.active_for(USER)
    await announce(workspace)
    first = await workspace.handle(
        ConsultantInput(DOCTOR, "Aida", 100, action=f"tk:take:{ticket.id}")
    )
    second = await workspace.handle(
        ConsultantInput(PSYCHOLOGIST, "Bota", 100, action=f"tk:take:{ticket.id}")
    )
    assert first.notice == "The ticket is yours."
    assert second.notice == "Already taken by Aida (doctor)."
    assert (await tickets.get(ticket.id)).consultant_id == DOCTOR
    # the user learns the role, never the name
    [to_user] = first.to_users
    assert "врач" in to_user.reply.text and "Aida" not in to_user.reply.text


async def test_strangers_in_the_consultants_chat_are_ignored(desk, workspace, tickets):
    from bot.dialogue.messages import OpenTicket

    await desk.open(USER, OpenTicket(Priority.NORMAL, Language.RU, None, None, "q"))
    ticket = await tickets.active_for(USER)
    await announce(workspace)
    assert (
        await workspace.handle(ConsultantInput(STRANGER, "Eve", 100, action=f"tk:take:{ticket.id}"))
        is None
    )
    assert await workspace.handle(ConsultantInput(STRANGER, "Eve", 100, text="hi")) is None
    assert await workspace.handle(ConsultantInput(STRANGER, "Eve", None, command="queue")) is None
    assert (await tickets.get(ticket.id)).status == "open"


async def test_relay_both_ways_notes_canned_close_and_one_rating(engine, workspace, tickets):
    await engine.handle(Incoming(USER, action="lang:kk"))
    await engine.handle(Incoming(USER, command=Command.CONSULTANT, text="етеккір ауырады"))
    ticket = await tickets.active_for(USER)
    round_ = await announce(workspace)
    [new] = round_.new_topics
    assert new.title.startswith(f"#{ticket.number} · 🟢")
    assert "етеккір ауырады" in new.first_post.text
    assert [b.action for b in new.first_post.buttons] == [
        f"tk:take:{ticket.id}",
        f"tk:close:{ticket.id}",
        f"tk:back:{ticket.id}",
    ]
    # not holding it: nothing reaches the user
    early = await workspace.handle(ConsultantInput(DOCTOR, "Aida", 100, text="Сәлем"))
    assert "Take the ticket first" in early.posts[0].reply.text
    await workspace.handle(ConsultantInput(DOCTOR, "Aida", 100, action=f"tk:take:{ticket.id}"))
    await workspace.handle(ConsultantInput(DOCTOR, "Aida", 100, text="Сәлеметсіз бе!"))
    await workspace.handle(ConsultantInput(DOCTOR, "Aida", 100, command="note", args="call back"))
    canned = await workspace.handle(
        ConsultantInput(DOCTOR, "Aida", 100, command="canned", args="youth_centre")
    )
    assert "Жастар денсаулық орталығында" in canned.posts[0].reply.text  # the ticket's language
    assert (await tickets.get(ticket.id)).status == "answered"
    delivered = await deliver(workspace)
    to_users = [d.to_user for d in delivered.deliveries if d.to_user]
    assert [u.reply.text.split(":", 1)[0] for u in to_users] == ["Кеңесші (дәрігер)"] * 2
    assert all("Aida" not in u.reply.text for u in to_users)
    assert not any("call back" in u.reply.text for u in to_users)  # a note is never relayed
    # the user answers: it goes to the topic
    await engine.handle(Incoming(USER, text="рақмет, түсіндім"))
    relayed = await deliver(workspace)
    assert [d.to_thread.reply.text for d in relayed.deliveries] == ["👤 рақмет, түсіндім"]
    # close with a reason: the topic closes, the user may rate once
    closed = await workspace.handle(
        ConsultantInput(DOCTOR, "Aida", 100, action=f"tk:close:{ticket.id}:answered")
    )
    assert closed.topics[0].closed is True
    [to_user] = closed.to_users
    rate_actions = [b.action for b in to_user.reply.buttons]
    assert rate_actions[:5] == [f"rate:{ticket.number}:{n}" for n in range(1, 6)]
    thanks = await engine.handle(Incoming(USER, action=f"rate:{ticket.number}:5"))
    again = await engine.handle(Incoming(USER, action=f"rate:{ticket.number}:1"))
    assert texts(thanks) != texts(again)
    final = await tickets.get(ticket.id)
    assert (final.status, final.rating, final.close_reason) == ("closed", 5, "answered")
    assert final.claimed_at and final.answered_at and final.closed_at
    # after closing, the bot answers again
    back = await engine.handle(Incoming(USER, text="у меня болят месячные"))
    assert back.topic == "period_pain"


async def test_only_the_holder_closes_or_returns_a_held_ticket(desk, workspace, tickets):
    from bot.dialogue.messages import OpenTicket

    await desk.open(USER, OpenTicket(Priority.URGENT, Language.RU, None, None, "q"))
    ticket = await tickets.active_for(USER)
    await announce(workspace)
    await workspace.handle(ConsultantInput(DOCTOR, "Aida", 100, action=f"tk:take:{ticket.id}"))
    other = await workspace.handle(
        ConsultantInput(PSYCHOLOGIST, "Bota", 100, action=f"tk:close:{ticket.id}:duplicate")
    )
    assert "Only the consultant holding it" in other.notice
    back = await workspace.handle(
        ConsultantInput(DOCTOR, "Aida", 100, action=f"tk:back:{ticket.id}")
    )
    assert back.notice == "Returned to the queue."
    assert (await tickets.get(ticket.id)).status == "open"
    retaken = await workspace.handle(
        ConsultantInput(PSYCHOLOGIST, "Bota", 100, action=f"tk:take:{ticket.id}")
    )
    assert retaken.notice == "The ticket is yours."


async def test_queue_lists_by_priority_then_age(desk, workspace, tickets, clock):
    from bot.dialogue.messages import OpenTicket

    await desk.open(USER, OpenTicket(Priority.NORMAL, Language.RU, None, None, "old normal"))
    clock.advance(minutes=3)
    await desk.open(OTHER, OpenTicket(Priority.CRISIS, Language.KK, None, None, "new crisis"))
    listing = await workspace.handle(ConsultantInput(DOCTOR, "Aida", None, command="queue"))
    body = listing.posts[0].reply.text
    crisis = (await tickets.active_for(OTHER)).number
    normal = (await tickets.active_for(USER)).number
    assert body.index(crisis) < body.index(normal)
    assert "🔴" in body and "3 min" in body


async def test_untaken_tickets_are_reannounced_and_raised(desk, workspace, tickets, clock):
    from bot.dialogue.messages import OpenTicket

    await desk.open(USER, OpenTicket(Priority.NORMAL, Language.RU, None, None, "q"))
    ticket = await tickets.active_for(USER)
    await announce(workspace)
    clock.advance(minutes=29)
    assert (await workspace.pending()).reannounced.posts == []
    clock.advance(minutes=2)
    round_ = await workspace.pending()
    assert round_.reannounced.topics[0].title.startswith(f"#{ticket.number} · 🟠")
    assert any(post.thread_id is None for post in round_.reannounced.posts)  # also in General
    assert (await tickets.get(ticket.id)).priority == "urgent"
    assert (await workspace.pending()).reannounced.posts == []  # once per wait, not every round
    clock.advance(minutes=16)  # urgent waits 15 minutes
    assert (await workspace.pending()).reannounced.posts
    assert (await tickets.get(ticket.id)).priority == "crisis"


async def test_an_outbox_message_is_leased_to_one_round_at_a_time(desk, workspace, tickets, clock):
    from bot.dialogue.messages import OpenTicket

    await desk.open(USER, OpenTicket(Priority.NORMAL, Language.RU, None, None, "q"))
    ticket = await tickets.active_for(USER)
    await announce(workspace)
    await desk.user_wrote(ticket, "one more thing")
    first = await workspace.pending()
    assert len(first.deliveries) == 1
    assert (await workspace.pending()).deliveries == []  # leased by the first round
    clock.advance(seconds=61)  # that round died without confirming: retried
    retry = await workspace.pending()
    assert [d.item.id for d in retry.deliveries] == [first.deliveries[0].item.id]
    await workspace.delivered(retry.deliveries[0], ok=True)
    clock.advance(seconds=61)
    assert (await workspace.pending()).deliveries == []


async def test_forget_closes_the_ticket_and_tells_the_consultant_only_that_the_user_left(
    engine, workspace, tickets, repository
):
    await engine.handle(Incoming(USER, action="lang:ru"))
    await engine.handle(Incoming(USER, command=Command.CONSULTANT, text="мой секрет"))
    ticket = await tickets.active_for(USER)
    await announce(workspace)
    await engine.handle(Incoming(USER, action="forget:yes"))
    gone = await tickets.get(ticket.id)
    assert (gone.status, gone.pseudonym, gone.question) == ("closed", None, "")
    round_ = await workspace.pending()
    [delivery] = round_.deliveries
    assert "left" in delivery.to_thread.reply.text
    counts = await repository.count_rows()
    assert counts["users"] == 0 and counts["messages"] == 0
    assert counts["ticket_messages"] == 1  # only "the user left", no word of theirs
    assert not any("секрет" in line.text for line in await tickets.lines(ticket.id))


async def test_reopen_after_close_within_a_day(engine, workspace, tickets, clock):
    await engine.handle(Incoming(USER, action="lang:en"))
    await engine.handle(Incoming(USER, command=Command.CONSULTANT))
    ticket = await tickets.active_for(USER)
    await announce(workspace)
    await workspace.handle(ConsultantInput(DOCTOR, "Aida", 100, action=f"tk:take:{ticket.id}"))
    await workspace.handle(ConsultantInput(DOCTOR, "Aida", 100, command="close", args="answered"))
    reopened = await engine.handle(Incoming(USER, action=f"reopen:{ticket.number}"))
    assert f"#{ticket.number}" in texts(reopened)
    assert (await tickets.get(ticket.id)).status == "reopened"
    round_ = await workspace.pending()
    assert any(d.reopen_topic for d in round_.deliveries)
    # a day later it cannot be reopened
    await workspace.handle(ConsultantInput(DOCTOR, "Aida", 100, action=f"tk:take:{ticket.id}"))
    await workspace.handle(ConsultantInput(DOCTOR, "Aida", 100, command="close", args="done"))
    clock.advance(days=1, minutes=1)
    late = await engine.handle(Incoming(USER, action=f"reopen:{ticket.number}"))
    assert "no longer" in texts(late)


async def test_retention_removes_words_not_numbers(database_url, desk, workspace, tickets, clock):
    from bot.dialogue.messages import OpenTicket
    from bot.storage.repository import LoggedMessage, Repository

    clock.now = dt.datetime.now(dt.UTC)  # chat lines are stamped by the real clock
    repository = Repository(
        tickets.engine, message_ttl=dt.timedelta(days=1), ticket_ttl=dt.timedelta(days=30)
    )
    await repository.add_messages(USER, [LoggedMessage("in", "мой вопрос")])
    await repository.save_state(
        USER, {"pending_question": "мой вопрос"}, language="ru", audience=None
    )
    await tickets.set_chat_ref(USER, b"sealed")
    await desk.open(USER, OpenTicket(Priority.NORMAL, Language.RU, None, None, "вопрос врачу"))
    ticket = await tickets.active_for(USER)
    await desk.user_wrote(ticket, "подробности")
    await tickets.take(ticket.id, DOCTOR)
    await tickets.close(ticket.id, reason="answered", consultant_id=DOCTOR)
    closed_at = (await tickets.get(ticket.id)).closed_at
    assert await repository.purge_expired(closed_at + dt.timedelta(hours=23)) == 0
    assert await tickets.chat_ref(USER) == b"sealed"  # the ticket may still be reopened
    assert (await repository.load_state(USER))["pending_question"] == "мой вопрос"
    assert await repository.purge_expired(closed_at + dt.timedelta(days=2)) == 1  # the chat line
    assert await tickets.chat_ref(USER) is None  # no ticket needs a way back any more
    assert (await repository.load_state(USER))["pending_question"] == ""
    assert await tickets.lines(ticket.id)  # the ticket's words stay for 30 days
    assert await repository.purge_expired(closed_at + dt.timedelta(days=30, minutes=1)) >= 1
    assert await tickets.lines(ticket.id) == []
    kept = await tickets.get(ticket.id)
    assert (kept.question, kept.status, kept.number) == ("", "closed", ticket.number)
    assert kept.pseudonym is None  # the link to the user goes with the words
