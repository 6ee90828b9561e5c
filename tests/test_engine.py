"""The dialogue core, driven as a channel would, with a scripted NLU and a real database."""

from __future__ import annotations

import pytest

from bot.dialogue.engine import Engine
from bot.dialogue.messages import Command, Incoming, Priority
from bot.knowledge.topics import Route
from bot.languages import Language
from tests.doubles import ScriptedNlu

USER = "a" * 64


@pytest.fixture
def nlu() -> ScriptedNlu:
    return (
        ScriptedNlu()
        .on("у меня болят месячные", ("period_pain", 0.93), ("first_period", 0.03))
        .on("етеккір кезінде ішім ауырады", ("period_pain", 0.9), ("first_period", 0.05))
        .on("my baby has a fever", ("child_fever", 0.9), ("breastfeeding", 0.05))
        .on("не хочу жить", ("self_harm_suicide", 0.8), ("out_of_scope", 0.1))
        .on("что-то странное", ("period_pain", 0.4), ("first_period", 0.35))
        .on("хочу поговорить с врачом", ("ask_human", 0.9))
        # crisis topics under the crisis threshold: the danger numbers go on top of the answer
        .on("can't sleep again, what helps", ("sleep_teen", 0.8), ("self_harm_suicide", 0.15))
        .on("түнде ұйықтай алмаймын", ("sleep_teen", 0.85), ("abuse_at_home", 0.05))
        .on("что-то плохо мне", ("low_mood", 0.35), ("self_harm_suicide", 0.2), ("pms_mood", 0.2))
    )


@pytest.fixture
def engine(knowledge, catalogs, nlu, repository, crisis_lexicon) -> Engine:
    return Engine(
        knowledge=knowledge, nlu=nlu, catalogs=catalogs, store=repository, crisis=crisis_lexicon
    )


def texts(outcome) -> str:
    return "\n".join(reply.text for reply in outcome.replies)


def actions(outcome) -> list[str]:
    return [b.action for reply in outcome.replies for b in reply.buttons]


async def test_a_question_gets_the_curated_answer_with_sources_and_buttons(engine, knowledge):
    outcome = await engine.handle(Incoming(USER, text="у меня болят месячные"))
    assert (outcome.route, outcome.topic, outcome.language) == (
        Route.ANSWER,
        "period_pain",
        Language.RU,
    )
    variant = knowledge.answer("period_pain", Language.RU, None)
    assert variant.text.strip() in texts(outcome)
    assert "Источники:" in texts(outcome)
    assert "human" in actions(outcome)
    assert any(a.startswith("fb:period_pain:") for a in actions(outcome))


async def test_onboarding_chooses_language_then_audience(engine):
    start = await engine.handle(Incoming(USER, command=Command.START, client_language="kk"))
    assert actions(start)[:3] == ["lang:kk", "lang:ru", "lang:en"]  # the client's language first
    audience = await engine.handle(Incoming(USER, action="lang:en"))
    assert audience.language is Language.EN and actions(audience) == ["aud:teen", "aud:parent"]
    ready = await engine.handle(Incoming(USER, action="aud:parent"))
    assert ready.language is Language.EN and ready.replies
    again = await engine.handle(Incoming(USER, command=Command.START))
    assert not any(a.startswith(("lang:", "aud:")) for a in actions(again))


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
async def test_the_first_words_and_help_carry_112_and_150(engine, language):
    """The classifier can miss a crisis: the danger numbers are there before any question."""
    start = await engine.handle(Incoming(USER, command=Command.START, client_language=language))
    helped = await engine.handle(Incoming(USER, command=Command.HELP))
    for outcome in (start, helped):
        assert "112" in texts(outcome) and "150" in texts(outcome)


async def test_a_kazakh_message_is_answered_in_kazakh_even_when_russian_was_chosen(engine):
    await engine.handle(Incoming(USER, action="lang:ru"))
    outcome = await engine.handle(
        Incoming(USER, text="етеккір кезінде ішім ауырады", client_language="ru")
    )
    assert outcome.language is Language.KK
    assert "Дереккөздер:" in texts(outcome)


async def test_crisis_puts_the_helplines_first(engine, knowledge):
    outcome = await engine.handle(Incoming(USER, text="не хочу жить"))
    assert outcome.route is Route.CRISIS
    first = outcome.replies[0].text
    for line in knowledge.helplines.crisis_lines(Language.RU):
        assert line in first
    assert first.index(knowledge.helplines.crisis_lines(Language.RU)[0]) < first.index(
        knowledge.answer("self_harm_suicide", Language.RU, None).text.strip()[:40]
    )


async def test_a_question_leaning_towards_a_crisis_gets_the_danger_numbers_on_top(
    engine, knowledge
):
    engine.consultants_available = True
    outcome = await engine.handle(Incoming(USER, text="can't sleep again, what helps"))
    assert (outcome.route, outcome.topic) == (Route.ANSWER, "sleep_teen")  # not a crisis...
    assert outcome.effects == []  # ... so no ticket
    first = outcome.replies[0].text
    answer = knowledge.answer("sleep_teen", Language.EN, None).text.strip()
    assert first.startswith("If someone is hurting you or a child")
    for line in knowledge.helplines.danger_now_lines(Language.EN):
        assert first.index(line) < first.index(answer[:40])
    assert any(a.startswith("fb:sleep_teen:") for a in actions(outcome))  # buttons kept
    assert actions(outcome)[0] == "unsafe:self_harm_suicide"  # "I'm not safe" comes first


async def test_im_not_safe_under_a_safety_net_answer_makes_it_a_crisis(engine, knowledge):
    """One tap turns the half-seen crisis into a crisis: numbers first, a crisis ticket with
    the message it was about, in the user's language."""
    engine.consultants_available = True
    await engine.handle(Incoming(USER, text="can't sleep again, what helps"))
    outcome = await engine.handle(Incoming(USER, action="unsafe:self_harm_suicide"))
    assert (outcome.route, outcome.topic) == (Route.CRISIS, "self_harm_suicide")
    assert outcome.language is Language.EN
    first = outcome.replies[0].text
    for line in knowledge.helplines.crisis_lines(Language.EN):
        assert line in first
    assert [(t.priority, t.question) for t in outcome.effects] == [
        (Priority.CRISIS, "can't sleep again, what helps")
    ]


@pytest.mark.parametrize("action", ["unsafe:period_pain", "unsafe:", "unsafe:nonsense"])
async def test_a_forged_im_not_safe_button_opens_nothing(engine, action):
    engine.consultants_available = True
    outcome = await engine.handle(Incoming(USER, action=action))
    assert outcome.route is not Route.CRISIS and outcome.effects == []


async def test_a_clarifying_question_carries_the_danger_numbers_too(engine, knowledge):
    outcome = await engine.handle(Incoming(USER, text="что-то плохо мне"))
    assert outcome.route is Route.CLARIFY
    assert knowledge.helplines.danger_now_lines(Language.RU)[0] in outcome.replies[0].text
    assert "topic:low_mood" in actions(outcome)


async def test_a_faint_crisis_score_adds_nothing(engine, knowledge):
    outcome = await engine.handle(Incoming(USER, text="түнде ұйықтай алмаймын"))
    assert (outcome.route, outcome.topic) == (Route.ANSWER, "sleep_teen")
    assert knowledge.helplines.danger_now_lines(Language.KK)[1] not in texts(outcome)


async def test_urgent_answers_lead_with_danger_signs(engine, knowledge):
    outcome = await engine.handle(Incoming(USER, text="my baby has a fever"))
    assert outcome.route is Route.URGENT and outcome.language is Language.EN
    variant = knowledge.answer("child_fever", Language.EN, None)
    text = outcome.replies[0].text
    assert text.index(variant.danger_signs[0]) < text.index(variant.text.strip()[:40])


async def test_urgent_and_crisis_open_tickets_when_consultants_are_there(engine):
    engine.consultants_available = True
    crisis = await engine.handle(Incoming(USER, text="не хочу жить"))
    assert [t.priority for t in crisis.effects] == [Priority.CRISIS]
    assert crisis.effects[0].question == "не хочу жить"
    urgent = await engine.handle(Incoming(USER, text="my baby has a fever"))
    assert [t.priority for t in urgent.effects] == [Priority.URGENT]


async def test_without_consultants_a_handoff_says_so_and_opens_nothing(engine):
    outcome = await engine.handle(Incoming(USER, text="хочу поговорить с врачом"))
    assert outcome.route is Route.HANDOFF and outcome.effects == []
    assert "не подключены" in texts(outcome)


async def test_clarify_offers_candidates_and_a_choice_answers(engine):
    outcome = await engine.handle(Incoming(USER, text="что-то странное"))
    assert outcome.route is Route.CLARIFY and outcome.topic is None
    assert actions(outcome) == ["topic:period_pain", "topic:first_period", "none"]
    chosen = await engine.handle(Incoming(USER, action="topic:first_period"))
    assert (chosen.route, chosen.topic) == (Route.ANSWER, "first_period")


async def test_nothing_fitting_after_clarification_escalates_with_the_whole_question(engine):
    engine.consultants_available = True
    await engine.handle(Incoming(USER, text="что-то странное"))
    outcome = await engine.handle(Incoming(USER, text="ну то самое, про другое"))
    assert outcome.route is Route.ESCALATE
    assert outcome.effects[0].question == "что-то странное\nну то самое, про другое"


async def test_nlu_down_gets_a_kind_message_in_the_users_language(engine, nlu, knowledge):
    nlu.down = True
    outcome = await engine.handle(Incoming(USER, text="етеккір кезінде ішім ауырады"))
    assert outcome.nlu_unavailable and outcome.language is Language.KK
    assert knowledge.helplines.danger_now_lines(Language.KK)[0] in texts(outcome)
    assert actions(outcome) == ["human"]


async def test_more_and_feedback_buttons(engine, repository):
    answer = await engine.handle(Incoming(USER, text="у меня болят месячные"))
    more = next(a for a in actions(answer) if a.startswith("more:"))
    details = await engine.handle(Incoming(USER, action=more))
    assert details.replies and details.language is Language.RU
    up = next(a for a in actions(answer) if a.startswith("fb:") and a.endswith(":1"))
    await engine.handle(Incoming(USER, action=up))
    down = up[:-1] + "0"
    await engine.handle(Incoming(USER, action=down))  # a second press replaces the first
    summary = await repository.feedback_summary()
    assert list(summary.values()) == [(0, 1)]


@pytest.mark.parametrize(
    "action",
    ["fb:period_pain:x:1", "topic:nope", "lang:de", "garbage", "more:nope", "fb:nope:1:1", ""],
)
async def test_forged_or_stale_buttons_get_an_answer_not_a_crash(engine, action):
    outcome = await engine.handle(Incoming(USER, action=action or None))
    assert outcome.replies


@pytest.mark.parametrize(
    "text", ["", "   ", "\u200b\u200d", "😀" * 3, "я" * 10_000, "\u202eמה שלום\u202c", "👩‍👩‍👧 ?"]
)
async def test_odd_input_always_gets_a_reply(engine, text):
    outcome = await engine.handle(Incoming(USER, text=text))
    assert outcome.replies and all(reply.text for reply in outcome.replies)


async def test_state_and_messages_survive_between_messages(engine, repository):
    await engine.handle(Incoming(USER, action="lang:kk"))
    await engine.handle(Incoming(USER, action="aud:teen"))
    state = await repository.load_state(USER)
    assert (state["language"], state["audience"]) == ("kk", "teen")
    await engine.handle(Incoming(USER, text="у меня болят месячные"))
    logged = await repository.recent_messages(USER)
    assert logged[-2].direction == "in" and logged[-2].text == "у меня болят месячные"
    assert logged[-1].direction == "out" and logged[-1].route == "answer"


async def test_the_crisis_lexicon_wins_over_the_classifier_and_needs_no_nlu(engine, nlu, knowledge):
    nlu.on("все будет лучше без меня, устала жить", ("thanks_bye", 0.9))
    outcome = await engine.handle(Incoming(USER, text="все будет лучше без меня, устала жить"))
    assert (outcome.route, outcome.topic) == (Route.CRISIS, "self_harm_suicide")
    nlu.down = True
    seen = len(nlu.seen)
    outcome = await engine.handle(Incoming(USER, text="olgim keledi"))
    assert (outcome.route, outcome.language) == (Route.CRISIS, Language.KK)
    assert knowledge.helplines.crisis_lines(Language.KK)[0] in outcome.replies[0].text
    assert len(nlu.seen) == seen  # decided before the NLU was asked


async def test_forget_asks_first_then_erases_every_row(engine, repository):
    await engine.handle(Incoming(USER, action="lang:ru"))
    await engine.handle(Incoming(USER, text="у меня болят месячные"))
    assert (await repository.count_rows())["messages"] > 0
    ask = await engine.handle(Incoming(USER, command=Command.FORGET))
    assert actions(ask) == ["forget:yes", "forget:no"]
    assert (await repository.count_rows())["users"] == 1  # nothing erased before confirming
    done = await engine.handle(Incoming(USER, action="forget:yes"))
    assert done.replies
    counts = await repository.count_rows()
    assert {"users", "conversation_states", "messages", "feedback", "tickets"} <= set(counts)
    assert set(counts.values()) == {0}, counts  # every table, whatever is added later


async def test_forget_no_keeps_everything(engine, repository):
    await engine.handle(Incoming(USER, action="lang:kk"))
    await engine.handle(Incoming(USER, action="forget:no"))
    assert (await repository.load_state(USER))["language"] == "kk"


async def test_cancel_drops_a_pending_clarification(engine, repository):
    await engine.handle(Incoming(USER, text="что-то странное"))
    assert (await repository.load_state(USER))["awaiting"] == "clarify"
    await engine.handle(Incoming(USER, command=Command.CANCEL))
    state = await repository.load_state(USER)
    assert (state["awaiting"], state["candidates"], state["pending_question"]) == (None, [], "")


async def test_privacy_and_report_commands_answer_their_topics(engine):
    privacy = await engine.handle(Incoming(USER, command=Command.PRIVACY, client_language="en"))
    assert (privacy.topic, privacy.route) == ("privacy", Route.META)
    report = await engine.handle(Incoming(USER, command=Command.REPORT))
    assert (report.topic, report.route) == ("report_abuse", Route.REPORT)


async def test_media_gets_a_kind_answer_in_the_users_language(engine):
    await engine.handle(Incoming(USER, action="lang:kk"))
    outcome = await engine.handle(Incoming(USER, unsupported=True))
    assert outcome.language is Language.KK and outcome.replies


async def test_a_very_long_message_is_answered_and_the_cut_announced(engine, repository):
    outcome = await engine.handle(Incoming(USER, text="у меня болят месячные " + "я" * 9000))
    assert "4\xa0000" in outcome.replies[-1].text
    logged = await repository.recent_messages(USER)
    assert len(logged[0].text) == 4000


async def test_a_flood_gets_one_gentle_notice_but_a_crisis_is_always_answered(
    knowledge, catalogs, nlu, repository, crisis_lexicon
):
    import datetime as dt

    now = [dt.datetime(2026, 11, 27, 12, tzinfo=dt.UTC)]
    engine = Engine(
        knowledge=knowledge,
        nlu=nlu,
        catalogs=catalogs,
        store=repository,
        crisis=crisis_lexicon,
        rate_limit=5,
        clock=lambda: now[0],
    )
    answered = [await engine.handle(Incoming(USER, text="у меня болят месячные")) for _ in range(5)]
    assert all(o.topic == "period_pain" for o in answered)
    slow = await engine.handle(Incoming(USER, text="у меня болят месячные"))
    assert slow.route is None and len(slow.replies) == 1 and "112" in texts(slow)
    quiet = await engine.handle(Incoming(USER, text="у меня болят месячные"))
    assert quiet.replies == []  # one notice, not one per message
    crisis = await engine.handle(Incoming(USER, text="не хочу жить"))
    assert crisis.route is Route.CRISIS and "150" in texts(crisis)
    # an indirect one, which only the classifier recognises, is answered too
    quiet = "мне кажется, так будет лучше для всех"
    nlu.on(quiet, ("self_harm_suicide", 0.41), ("low_mood", 0.3))
    assert engine.crisis_match(quiet) is None
    indirect = await engine.handle(Incoming(USER, text=quiet))
    assert indirect.route is Route.CRISIS and "150" in texts(indirect)
    assert nlu.seen.count(quiet) == 1  # the flood check's verdict is not made twice
    # a lexicon phrase past the classifier's first 1,000 characters is found in a flood too
    long = "у меня болят месячные и ещё много всего. " * 60 + "я не хочу жить"
    late = await engine.handle(Incoming(USER, text=long))
    assert late.route is Route.CRISIS and "150" in texts(late)
    now[0] += dt.timedelta(seconds=61)
    again = await engine.handle(Incoming(USER, text="у меня болят месячные"))
    assert again.topic == "period_pain"


# --- a crisis buried in a long message -----------------------------------------------------
STORY = (
    "напишу длинно, извините. в школе меня травят уже год, классная говорит сама виновата. "
    "дома мама только кричит из-за оценок, папа ушёл от нас весной. "
    "сегодня я всем отправила прощальные сообщения и удалила свои аккаунты."
)
FAREWELL = "сегодня я всем отправила прощальные сообщения и удалила свои аккаунты."


async def test_a_crisis_sentence_at_the_end_of_a_long_story_is_not_outweighed(engine, nlu):
    # the whole story reads as bullying; its last sentence alone reads as a crisis
    nlu.on(STORY, ("bullying", 0.8), ("parents_conflict", 0.1))
    nlu.on(FAREWELL, ("self_harm_suicide", 0.55), ("low_mood", 0.2))
    assert engine.crisis_match(STORY) is None
    outcome = await engine.handle(Incoming(USER, text=STORY))
    assert outcome.route is Route.CRISIS and outcome.topic == "self_harm_suicide"
    assert "150" in outcome.replies[0].text.split("\n\n")[0]


async def test_a_long_ordinary_story_is_still_answered_on_its_topic(engine, nlu):
    nlu.on(STORY, ("bullying", 0.8), ("parents_conflict", 0.1))
    outcome = await engine.handle(Incoming(USER, text=STORY))  # parts rank out_of_scope low
    assert outcome.route is Route.ANSWER and outcome.topic == "bullying"
    assert len([t for t in nlu.seen if t != STORY]) == 4  # each sentence was read once


async def test_a_lexicon_phrase_past_the_classifiers_first_1000_characters_is_a_crisis(engine):
    long = "у меня болят месячные и ещё много всего. " * 60 + "я не хочу жить"
    assert 2000 < len(long) < 4000
    outcome = await engine.handle(Incoming(USER, text=long))
    assert outcome.route is Route.CRISIS
