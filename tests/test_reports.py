"""Anonymous abuse reports: the guided flow, the number and one-time code, the agency outbox
(posted again until confirmed, confirmed only by registered members), and no link in storage
between a report and whoever sent it. On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
import pytest_asyncio

from bot.dialogue.engine import Engine
from bot.dialogue.messages import Command, Incoming
from bot.languages import Language
from bot.safety.reports import AGENCY_ROLE, AgencyDesk, Regions, ReportDesk
from bot.storage.database import create_engine_async
from bot.storage.reports import ReportRepository
from bot.storage.schema import upgrade
from bot.storage.tickets import TicketRepository
from tests.doubles import ScriptedNlu
from tests.test_tickets import Clock

USER = "r" * 64
AGENT, STRANGER = 8801, 8809


@pytest_asyncio.fixture
async def stores(database_url: str):
    upgrade(database_url)
    engine = create_engine_async(database_url)
    clock = Clock()
    reports, tickets = ReportRepository(engine, clock=clock), TicketRepository(engine, clock=clock)
    await tickets.add_consultant(AGENT, AGENCY_ROLE, [])
    try:
        yield reports, tickets, clock
    finally:
        await engine.dispose()


@pytest.fixture
def regions(settings) -> Regions:
    return Regions.load(settings.responses_dir / "regions.yml")


@pytest.fixture
def agency(stores, regions, catalogs) -> AgencyDesk:
    reports, tickets, _ = stores
    return AgencyDesk(reports, tickets, regions, catalogs, Language.RU)


@pytest.fixture
def engine(knowledge, catalogs, repository, crisis_lexicon, stores, regions) -> Engine:
    reports, _, _ = stores
    return Engine(
        knowledge=knowledge,
        nlu=ScriptedNlu().on("соседи бьют ребёнка", ("report_abuse", 0.9)),
        catalogs=catalogs,
        store=repository,
        crisis=crisis_lexicon,
        report_desk=ReportDesk(reports, regions),
    )


def texts(outcome) -> str:
    return "\n".join(reply.text for reply in outcome.replies)


def actions(outcome) -> list[str]:
    return [b.action for reply in outcome.replies for b in reply.buttons]


async def file_report(engine: Engine, *, danger: str = "no"):
    await engine.handle(Incoming(USER, action="lang:ru"))
    start = await engine.handle(Incoming(USER, command=Command.REPORT))
    assert "rf:who:self" in actions(start)
    body = texts(start)
    assert body.index("112") < body.index("анонимно")  # numbers before anything else
    await engine.handle(Incoming(USER, action="rf:who:other"))
    await engine.handle(Incoming(USER, text="отчим бьёт мою подругу ремнём, у неё синяки"))
    await engine.handle(Incoming(USER, action="rf:where:karaganda"))
    await engine.handle(Incoming(USER, action="rf:skip"))  # no place
    done = await engine.handle(Incoming(USER, action=f"rf:danger:{danger}"))
    words = texts(done).split()
    number = next(w for w in words if w.startswith("R") and len(w) == 6)
    code = next(w.strip(".,") for w in words if w.strip(".,").isdigit() and len(w.strip(".,")) == 8)
    return number, code, done


async def test_the_flow_files_a_report_with_a_number_and_a_one_time_code(engine, stores):
    reports, _, _ = stores
    number, code, done = await file_report(engine)
    assert f"/report status {number} {code}" in texts(done)
    report = await reports.check(number, code)
    assert (report.who, report.region, report.place, report.danger_now) == (
        "other",
        "karaganda",
        None,
        "no",
    )
    assert "ремнём" in report.what
    assert await reports.check(number, "00000000") is None
    status = await engine.handle(
        Incoming(USER, command=Command.REPORT, text=f"status {number} {code}")
    )
    assert number in texts(status)


async def test_danger_now_puts_the_numbers_first(engine):
    _, _, done = await file_report(engine, danger="yes")
    first = done.replies[0].text
    assert first.index("112") < first.index("102") < first.index("150")


async def test_nothing_links_a_report_to_its_sender(engine, stores, repository):
    reports, _, _ = stores
    number, code, _ = await file_report(engine)
    # the report has no user column, the conversation log holds none of its words,
    # and the draft left the user's state
    logged = " ".join(m.text for m in await repository.recent_messages(USER, 100))
    assert "ремнём" not in logged and number not in logged and code not in logged
    state = await repository.load_state(USER)
    assert state["report"] == {} and state["awaiting"] is None
    report = await reports.check(number, code)
    assert not any(isinstance(v, str) and v == USER for v in vars(report).values())


async def test_every_step_can_be_skipped_and_the_flow_cancelled(engine, stores):
    await engine.handle(Incoming(USER, action="lang:en"))
    await engine.handle(Incoming(USER, command=Command.REPORT))
    for _ in range(4):
        await engine.handle(Incoming(USER, action="rf:skip"))
    done = await engine.handle(Incoming(USER, action="rf:danger:unknown"))
    assert "one-time code" in texts(done)
    await engine.handle(Incoming(USER, command=Command.REPORT))
    await engine.handle(Incoming(USER, action="rf:who:self"))
    cancelled = await engine.handle(Incoming(USER, action="rf:cancel"))
    assert "not sent" in texts(cancelled)
    after = await engine.handle(Incoming(USER, text="привет"))
    assert after.route is not None  # back to ordinary questions


async def test_the_report_topic_starts_the_flow(engine):
    await engine.handle(Incoming(USER, action="lang:ru"))
    outcome = await engine.handle(Incoming(USER, text="соседи бьют ребёнка"))
    assert "rf:who:other" in actions(outcome)


async def test_agency_gets_it_again_until_a_registered_member_confirms(
    engine, stores, agency, catalogs
):
    ru = catalogs(Language.RU)
    reports, _, clock = stores
    number, code, _ = await file_report(engine)
    [post] = await agency.pending()
    assert number in post.reply.text and "Карагандинская" in post.reply.text
    assert "ремнём" in post.reply.text
    await reports.posted(post.item.id)
    assert await agency.pending() == []
    clock.advance(minutes=16)  # nobody confirmed: posted again, marked as a repeat
    [again] = await agency.pending()
    assert again.item.id == post.item.id and "🔁" in again.reply.text
    await reports.posted(again.item.id)
    assert await agency.press(STRANGER, f"ra:ack:{post.item.id}") is None  # not registered
    assert await agency.press(AGENT, f"ra:ack:{post.item.id}") == ru.gettext(
        "Thank you, confirmed."
    )
    assert await agency.press(AGENT, f"ra:ack:{post.item.id}") == ru.gettext("Already confirmed.")
    clock.advance(minutes=60)
    assert await agency.pending() == []  # confirmed: never posted again
    assert (await reports.check(number, code)).status == "acknowledged"
    # the reporter adds something: a new post, confirmed separately; then the agency acts
    added = await engine.handle(
        Incoming(USER, command=Command.REPORT, text=f"add {number} {code} это повторилось вчера")
    )
    assert number in texts(added)
    [addition] = await agency.pending()
    assert "это повторилось вчера" in addition.reply.text
    report = await reports.check(number, code)
    await agency.press(AGENT, f"ra:acted:{report.id}")
    status = await engine.handle(
        Incoming(USER, command=Command.REPORT, text=f"status {number} {code}")
    )
    assert (await reports.check(number, code)).status == "acted"
    assert ru.gettext("the service has acted on your report") in texts(status)


async def test_a_report_survives_a_failed_post(engine, stores, agency):
    reports, _, _ = stores
    await file_report(engine)
    [post] = await agency.pending()
    await reports.post_failed(post.item.id)  # Telegram unreachable: retried at the next round
    [retry] = await agency.pending()
    assert retry.item.id == post.item.id and retry.item.posts == 0


async def test_without_an_agency_chat_the_user_gets_the_numbers(
    knowledge, catalogs, crisis_lexicon
):
    engine = Engine(
        knowledge=knowledge, nlu=ScriptedNlu(), catalogs=catalogs, crisis=crisis_lexicon
    )
    outcome = await engine.handle(Incoming(USER, command=Command.REPORT, client_language="en"))
    assert "111" in texts(outcome) and "112" in texts(outcome)
    assert actions(outcome) == []


async def test_the_one_time_code_is_not_stored(stores, database_url):
    from sqlalchemy import text

    reports, _, _ = stores
    from bot.storage.reports import ReportDraft

    _, code = await reports.create(ReportDraft(language="ru", what="x"))
    async with reports.engine.connect() as conn:
        rows = (await conn.execute(text("select * from reports"))).all()
    assert rows and code not in repr(rows)  # the row is there, the code is not


async def test_a_report_about_another_child_goes_to_the_report_flow_numbers_first(
    knowledge, catalogs, crisis_lexicon, stores, regions
):
    reports, _, _ = stores
    nlu = (
        ScriptedNlu()
        .on("подругу дома избивают, хочу сообщить", ("report_abuse", 0.85))
        .on("меня дома избивают", ("abuse_at_home", 0.9))
    )
    engine = Engine(
        knowledge=knowledge,
        nlu=nlu,
        catalogs=catalogs,
        crisis=crisis_lexicon,
        report_desk=ReportDesk(reports, regions),
    )
    other = await engine.handle(Incoming(USER, text="подругу дома избивают, хочу сообщить"))
    assert other.route.value == "report" and "rf:who:other" in actions(other)
    assert "112" in other.replies[0].text
    me = await engine.handle(Incoming("m" * 64, text="меня дома избивают"))
    assert me.route.value == "crisis"
    nlu.down = True  # without the classifier, the lexicon's crisis stands
    down = await engine.handle(Incoming("n" * 64, text="подругу дома избивают, хочу сообщить"))
    assert down.route.value == "crisis"


async def test_a_reporter_in_danger_themselves_gets_the_crisis_numbers(engine):
    await engine.handle(Incoming(USER, action="lang:ru"))
    await engine.handle(Incoming(USER, command=Command.REPORT))
    await engine.handle(Incoming(USER, action="rf:who:self"))
    outcome = await engine.handle(Incoming(USER, text="меня бьют дома и я не хочу жить"))
    assert "150" in outcome.replies[0].text  # the crisis numbers come first
    assert "rf:skip" in actions(outcome)  # and the report goes on


async def test_an_indirect_crisis_in_a_report_is_caught_by_the_classifier(engine):
    quiet = "после этого я не вижу смысла дальше, скоро меня не будет"
    engine.nlu.on(quiet, ("self_harm_suicide", 0.35), ("report_abuse", 0.3))
    assert engine.crisis_match(quiet) is None
    await engine.handle(Incoming(USER, action="lang:ru"))
    await engine.handle(Incoming(USER, command=Command.REPORT))
    await engine.handle(Incoming(USER, action="rf:who:self"))
    outcome = await engine.handle(Incoming(USER, text=quiet))
    assert "150" in outcome.replies[0].text
    assert "rf:skip" in actions(outcome)
