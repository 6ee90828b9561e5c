"""The knowledge base: taxonomy in sync with shared/, content valid, the first slice complete."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from bot.knowledge.base import KnowledgeBaseError, load_knowledge_base
from bot.knowledge.check import check_knowledge_base, nlu_intents
from bot.knowledge.topics import Route, load_taxonomy
from bot.languages import LANGUAGES

SHARED_TOPICS = Path(__file__).resolve().parents[2] / "shared" / "topics.yml"
FIRST_SLICE = {
    "period_pain",
    "contraception",
    "breastfeeding",
    "child_fever",
    "self_harm_suicide",
    "greet",
    "ask_human",
    "out_of_scope",
}


def test_taxonomy_matches_shared_topics(settings):
    if not SHARED_TOPICS.exists():
        pytest.skip("shared/topics.yml is not beside this checkout")
    shared = load_taxonomy(SHARED_TOPICS)
    ours = load_taxonomy(settings.responses_dir / "taxonomy.yml")
    for topic_id, topic in shared.items():  # ours may add topics, never rename or re-route
        assert topic_id in ours, topic_id
        assert (ours[topic_id].route, ours[topic_id].audience) == (topic.route, topic.audience)


def test_the_first_slice_is_covered_in_three_languages(knowledge):
    assert set(knowledge.contents) >= FIRST_SLICE
    for topic_id in FIRST_SLICE:
        for language in LANGUAGES:
            assert knowledge.answer(topic_id, language, None), (topic_id, language)


def test_every_trained_intent_has_an_answer_and_enough_examples(settings, knowledge):
    intents = nlu_intents(settings.nlu_data_dir)
    assert set(intents) == {lang.value for lang in LANGUAGES}
    for language, names in intents.items():
        assert names >= FIRST_SLICE, language
        assert names <= set(knowledge.contents), language
        for path in (settings.nlu_data_dir / language).glob("*.yml"):
            for block in yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]:
                examples = [e for e in block["examples"].splitlines() if e.strip().startswith("-")]
                assert len(examples) >= 20, (language, block["intent"], len(examples))


def test_kb_check_finds_no_problem_in_what_is_written(settings, knowledge):
    report = check_knowledge_base(
        settings.responses_dir, settings.nlu_data_dir, settings.locales_dir
    )
    assert report.problems == []
    assert report.covered == report.total == len(knowledge.taxonomy)


def test_health_answers_name_sources_and_urgent_ones_danger_signs(knowledge):
    for topic_id, content in knowledge.contents.items():
        topic = knowledge.taxonomy[topic_id]
        if topic.is_health:
            assert content.sources and all(s.url.startswith("http") for s in content.sources)
        if topic.route is Route.URGENT:
            for readers in content.answers.values():
                assert all(v.danger_signs for v in readers.values()), topic_id


@pytest.fixture
def broken_copy(settings, tmp_path) -> Path:
    shutil.copytree(settings.responses_dir, tmp_path / "responses")
    shutil.copytree(settings.nlu_data_dir, tmp_path / "nlu_data")
    return tmp_path


def _edit(path: Path, change) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d["answers"].pop("kk"), "no answer in kk"),
        (lambda d: d.update(sources=[]), "must name its sources"),
        (lambda d: d.update(related=["nope"]), "related topic 'nope'"),
        (lambda d: d["answers"]["ru"]["any"].update(text="x" * 901), "invalid"),
        (lambda d: d["title"].pop("en"), "no title in en"),
    ],
)
def test_kb_check_reports_each_kind_of_gap(broken_copy, change, expected):
    _edit(broken_copy / "responses" / "topics" / "period_pain.yml", change)
    report = check_knowledge_base(broken_copy / "responses", broken_copy / "nlu_data")
    assert any(expected in problem for problem in report.problems), report.problems


def test_an_invalid_file_stops_the_bot_from_loading(broken_copy):
    _edit(
        broken_copy / "responses" / "topics" / "period_pain.yml",
        lambda d: d["answers"]["ru"]["any"].update(text=""),
    )
    with pytest.raises(KnowledgeBaseError, match="period_pain"):
        load_knowledge_base(broken_copy / "responses")


def test_an_intent_without_an_answer_is_a_gap(broken_copy):
    (broken_copy / "responses" / "topics" / "greet.yml").unlink()
    report = check_knowledge_base(broken_copy / "responses", broken_copy / "nlu_data")
    assert any("intent 'greet' has no curated answer" in p for p in report.problems)


def _examples(path: Path) -> list[str]:
    block = yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"][0]["examples"]
    return [line.strip()[2:] for line in block.splitlines() if line.strip().startswith("- ")]


def test_kb_check_finds_an_example_under_two_topics(broken_copy):
    greet = broken_copy / "nlu_data" / "ru" / "greet.yml"
    borrowed = _examples(broken_copy / "nlu_data" / "ru" / "period_pain.yml")[0]
    greet.write_text(
        greet.read_text(encoding="utf-8") + f"    - {borrowed.upper()}\n", encoding="utf-8"
    )
    report = check_knowledge_base(broken_copy / "responses", broken_copy / "nlu_data")
    assert any("is an example of both" in p for p in report.problems), report.problems


def test_kb_check_counts_examples_per_language(broken_copy):
    path = broken_copy / "nlu_data" / "en" / "greet.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["nlu"][0]["examples"] = "- hi\n- hello\n"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    report = check_knowledge_base(broken_copy / "responses", broken_copy / "nlu_data")
    assert "nlu_data/en/greet.yml: 2 examples, needs at least 30" in report.problems


def test_kb_check_finds_untranslated_interface_strings(settings, broken_copy):
    shutil.copytree(settings.locales_dir, broken_copy / "locales")
    po = broken_copy / "locales" / "kk" / "LC_MESSAGES" / "syrlas.po"
    text = po.read_text(encoding="utf-8")
    text = text.replace('msgstr "Толығырақ"', 'msgstr ""')
    po.write_text(text, encoding="utf-8")
    report = check_knowledge_base(
        broken_copy / "responses", broken_copy / "nlu_data", broken_copy / "locales"
    )
    assert "locales/kk: untranslated 'More'" in report.problems


def test_kb_check_refuses_a_lexicon_for_a_non_crisis_topic(broken_copy):
    _edit(
        broken_copy / "responses" / "crisis_lexicon.yml",
        lambda d: d["topics"].update(greet={"ru": ["привет"], "kk": ["сәлем"], "en": ["hi"]}),
    )
    report = check_knowledge_base(broken_copy / "responses", broken_copy / "nlu_data")
    assert "crisis_lexicon.yml: 'greet' is not a crisis topic" in report.problems
