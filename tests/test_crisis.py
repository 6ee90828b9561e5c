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


def test_every_lexicon_topic_is_a_crisis_topic(crisis_lexicon, knowledge):
    topics = {phrase.topic for phrase in crisis_lexicon.phrases}
    assert topics == {"self_harm_suicide", "sexual_violence", "abuse_at_home"}
    assert all(knowledge.taxonomy[t].route.value == "crisis" for t in topics)
    assert all(phrase.words for phrase in crisis_lexicon.phrases)
