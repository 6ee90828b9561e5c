"""The crisis lexicon: recall first, but not every "killing me" is a crisis."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("не хочу больше жить", "self_harm_suicide"),
        ("я хочу вскрыть себе вены", "self_harm_suicide"),
        ("НЕ ХОЧУУУУ ЖИТЬ", "self_harm_suicide"),
        ("ne khochu zhit", "self_harm_suicide"),
        ("ne hochu jit", "self_harm_suicide"),
        ("ертең оянғым келмейді", "self_harm_suicide"),
        ("erten oyangym kelmeidi", "self_harm_suicide"),
        ("өлгім келеді", "self_harm_suicide"),
        ("olgim keledi", "self_harm_suicide"),
        ("everyone would be better off without me", "self_harm_suicide"),
        ("i've been cutting myself again", "self_harm_suicide"),
        ("меня изнасиловали вчера", "sexual_violence"),
        ("he raped me", "sexual_violence"),
        ("папа опять бьет меня", "abuse_at_home"),
        ("әкем ұрады мені", "abuse_at_home"),
        ("scared to go home tonight", "abuse_at_home"),
    ],
)
def test_crisis_phrases_in_every_language_and_script(crisis_lexicon, text, topic):
    match = crisis_lexicon.match(text)
    assert match is not None and match.topic == topic


@pytest.mark.parametrize(
    "text",
    [
        "умираю со смеху",
        "как убить время на уроке",
        "эта домашка меня убьет 😂",
        "я чуть не умерла от стыда",
        "i'm dying of laughter",
        "this homework is killing me lol",
        "killing time before class",
        "i could die of embarrassment",
        "өлердей шаршадым емтиханнан кейін",
        "күлкіден өліп қала жаздадым",
        "у меня болят месячные",
        "",
    ],
)
def test_hard_negatives_are_not_a_crisis(crisis_lexicon, text):
    assert crisis_lexicon.match(text) is None


def test_every_lexicon_topic_is_a_crisis_topic_or_sextortion(crisis_lexicon, knowledge):
    topics = {phrase.topic for phrase in crisis_lexicon.phrases}
    assert topics == {"self_harm_suicide", "sexual_violence", "abuse_at_home", "online_safety"}
    assert all(knowledge.taxonomy[t].route.value == "crisis" for t in topics - {"online_safety"})
    assert all(phrase.words for phrase in crisis_lexicon.phrases)


@pytest.mark.parametrize(
    "text",
    [
        "скинула парню фотки, теперь требует ещё, иначе разошлёт всем",
        "он угрожает выложить мои фото если я не пришлю ещё",
        "i sent pics to a guy and now he says he'll send them to everyone unless i send more",
        "енді тағы жібермесең бәріне таратам деп қорқытып жатыр",
        "on menya shantazhiruet foto, trebuet vstretitsya",
    ],
)
def test_sextortion_is_a_crisis_answered_with_online_safety(crisis_lexicon, text):
    match = crisis_lexicon.match(text)
    assert match is not None and match.topic == "online_safety", text


async def test_sextortion_gets_the_numbers_first_then_the_online_safety_answer(
    knowledge, catalogs, crisis_lexicon
):
    from bot.dialogue.engine import Engine
    from bot.dialogue.messages import Incoming
    from bot.knowledge.topics import Route
    from tests.doubles import ScriptedNlu

    engine = Engine(
        knowledge=knowledge, nlu=ScriptedNlu(), catalogs=catalogs, crisis=crisis_lexicon
    )
    await engine.handle(Incoming("u-sextortion", action="lang:ru"))
    outcome = await engine.handle(
        Incoming("u-sextortion", text="он угрожает выложить мои фото если я не пришлю ещё")
    )
    assert outcome.route is Route.CRISIS and outcome.topic == "online_safety"
    first = outcome.replies[0].text
    assert first.index("150") < first.index("102")  # the numbers block, then the answer


def test_message_parts_split_long_messages_only():
    from bot.nlu.text import MAX_PARTS, PART_MAX_WORDS, message_parts

    assert message_parts("не хочу жить") == []
    assert message_parts("привет. как дела?") == []  # pieces under three words are dropped
    parts = message_parts("в школе травят уже год. дома только кричат. я всех отпустила уже")
    assert parts == ["в школе травят уже год.", "дома только кричат.", "я всех отпустила уже"]
    unpunctuated = " ".join(f"w{i}" for i in range(40))  # a story typed without full stops
    windows = message_parts(unpunctuated)
    assert all(len(w.split()) == PART_MAX_WORDS for w in windows)
    assert windows[0].startswith("w0 ") and windows[-1].endswith(" w39")
    assert len(message_parts(". ".join(["три слова тут"] * 100))) == MAX_PARTS


def test_the_lexicon_reads_the_whole_kept_message(crisis_lexicon):
    filler = "мектепте бәрі мазақтайды, үйде тек ұрсады, сабақ көп. " * 70
    match = crisis_lexicon.match(filler[:3900] + " өлгім келеді")
    assert match is not None and match.topic == "self_harm_suicide"
    assert crisis_lexicon.match(filler[:3900]) is None


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("i already took like 20 paracetamol an hour ago and now i feel sick", True),
        ("выпила 15 таблеток снотворного", True),
        ("took 2 paracetamol for my headache, can i take more", False),  # under ten
        ("выпила 2 таблетки но-шпы, живот всё равно болит", False),
        ("took 20 minutes to get to school", False),  # a number, but not pills
    ],
)
def test_a_number_of_pills_counts_from_ten(crisis_lexicon, text, crisis):
    assert (crisis_lexicon.match(text) is not None) is crisis


def test_a_phrase_cannot_start_with_a_number(tmp_path):
    from bot.safety.crisis import CrisisLexicon

    path = tmp_path / "lexicon.yml"
    path.write_text('topics: {self_harm_suicide: {en: ["{10+} pills"]}}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="starts with a word"):
        CrisisLexicon.load(path)
