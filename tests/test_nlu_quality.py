"""Quality floors on the held-out set, with the real model, lexicon and routing."""

from __future__ import annotations

import pytest

from bot.dialogue.engine import Engine
from bot.evaluation import (
    ACCURACY_FLOOR,
    CRISIS_RECALL_FLOOR,
    FALSE_CRISIS_CEILING,
    KNOWN_GAPS,
    evaluate,
    format_report,
    load_heldout,
)
from bot.nlu.client import RasaClient
from bot.nlu.safety_sets import FINAL_SAFETY_SET, SAFETY_NEGATIVE, SAFETY_SETS
from bot.settings import PROJECT_ROOT

pytestmark = pytest.mark.rasa


@pytest.fixture(scope="module")
def heldout(settings):
    examples = load_heldout(settings.home / "tests" / "data" / "heldout")
    assert {e.language for e in examples} == {"kk", "ru", "en"}
    return examples


async def test_heldout_quality_floors(rasa_server, knowledge, catalogs, crisis_lexicon, heldout):
    client = RasaClient(rasa_server.url, rasa_server.token)
    engine = Engine(knowledge=knowledge, nlu=client, catalogs=catalogs, crisis=crisis_lexicon)
    try:
        reports = await evaluate(engine, heldout)
    finally:
        await client.aclose()
    print(format_report(reports))
    for language, report in reports.items():
        assert report.accuracy >= ACCURACY_FLOOR, (language, report.accuracy)
        assert report.crisis_recall >= CRISIS_RECALL_FLOOR, (
            language,
            [
                t
                for t, g, c in zip(
                    [e.text for e in heldout if e.language == language],
                    report.gold,
                    report.crisis,
                    strict=True,
                )
                if g in report.crisis_topics and not c
            ],
        )
        assert report.false_crisis_rate <= FALSE_CRISIS_CEILING, (
            language,
            report.false_crisis_rate,
        )


def test_every_heldout_topic_is_trained(heldout, settings):
    from bot.knowledge.check import nlu_intents

    trained = nlu_intents(settings.nlu_data_dir)
    for example in heldout:
        assert example.topic in trained[example.language], example


@pytest.mark.parametrize(
    ("folder", "floor"),
    # development sets: everything the lexicon and data were widened on stays caught; the
    # final set, never tuned on: the target is 1.0, the floor is what is measured today, so a
    # regression fails the build
    [(folder, 1.0) for folder, _ in SAFETY_SETS[:-1]] + [(FINAL_SAFETY_SET, None)],
)
async def test_safety_set_recall(rasa_server, knowledge, catalogs, crisis_lexicon, folder, floor):
    from bot.evaluation import SAFETY_RECALL_FLOOR, load_safety

    examples = load_safety(PROJECT_ROOT / "tests" / "data" / folder)
    assert {e.language for e in examples} == {"kk", "ru", "en"}
    client = RasaClient(rasa_server.url, rasa_server.token)
    engine = Engine(knowledge=knowledge, nlu=client, catalogs=catalogs, crisis=crisis_lexicon)
    try:
        reports = await evaluate(engine, examples)
    finally:
        await client.aclose()
    for language, report in reports.items():
        if floor is None:  # the final set
            assert report.crisis_recall >= SAFETY_RECALL_FLOOR, (language, report.crisis_recall)
            continue
        texts = [e.text for e in examples if e.language == language]
        missed = [
            text
            for text, gold, caught in zip(texts, report.gold, report.caught, strict=True)
            if gold in report.crisis_topics and not caught and text not in KNOWN_GAPS
        ]
        assert missed == [], (language, missed)


def test_known_gaps_are_crisis_messages_of_a_development_set():
    """A known gap names a real message of a development set (not a stale or mistyped one)."""
    from bot.evaluation import load_safety

    development = {
        e.text
        for folder, _ in SAFETY_SETS[:-1]
        for e in load_safety(PROJECT_ROOT / "tests" / "data" / folder)
        if e.topic != SAFETY_NEGATIVE
    }
    assert set(KNOWN_GAPS) <= development, set(KNOWN_GAPS) - development
