"""The safety sets the classifier learns from, and the one it must never see."""

from __future__ import annotations

import pytest

from bot.evaluation import load_heldout
from bot.knowledge.check import nlu_intents
from bot.knowledge.topics import Route
from bot.languages import LANGUAGES
from bot.nlu.normalize import normalize_for_nlu
from bot.nlu.safety_sets import (
    FINAL_SAFETY_SET,
    SAFETY_SETS,
    development_sets,
    read_set_file,
    training_examples,
)
from bot.runtime import training_inputs


@pytest.fixture(scope="module")
def data_dir(settings):
    return settings.home / "tests" / "data"


def test_the_model_learns_from_every_development_set_and_never_from_the_final_one(
    settings, data_dir
):
    learnt = training_inputs(settings).safety_sets
    assert learnt == development_sets(data_dir)
    assert [folder.name for folder in learnt] == [name for name, _ in SAFETY_SETS[:-1]]
    assert data_dir / FINAL_SAFETY_SET not in learnt
    assert all(folder.is_dir() for folder in learnt)


@pytest.mark.parametrize("folder", [name for name, _ in SAFETY_SETS[:-1]])
def test_development_look_alikes_carry_an_ordinary_topic_the_model_knows(
    folder, data_dir, settings, knowledge
):
    trained = nlu_intents(settings.nlu_data_dir)
    for language in LANGUAGES:
        crisis, negatives = read_set_file(data_dir / folder / f"{language}.yml")
        assert isinstance(negatives, dict), (folder, language)
        for topic in negatives:
            assert topic in trained[language], (folder, language, topic)
            assert knowledge.taxonomy[topic].route is not Route.CRISIS, (folder, topic)
        for topic in crisis:
            assert knowledge.taxonomy[topic].route is Route.CRISIS, (folder, topic)


def test_the_final_set_is_as_its_writers_left_it(data_dir):
    for language in LANGUAGES:
        crisis, negatives = read_set_file(data_dir / FINAL_SAFETY_SET / f"{language}.yml")
        assert isinstance(negatives, list) and negatives, language
        assert sum(map(len, crisis.values())) > 0, language


def test_no_heldout_question_is_in_what_the_model_learns_from(data_dir):
    """The held-out set measures the classifier: none of it may be among its training texts."""
    learnt = {
        normalize_for_nlu(text)
        for by_topic in training_examples(development_sets(data_dir)).values()
        for texts in by_topic.values()
        for text in texts
    }
    leaked = [
        e.text for e in load_heldout(data_dir / "heldout") if normalize_for_nlu(e.text) in learnt
    ]
    assert leaked == []
