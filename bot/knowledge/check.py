"""``syrlas kb check``: every gap in the knowledge base, one line each."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.knowledge.base import HELPLINES_FILE, TAXONOMY_FILE, KnowledgeBaseError, read_topic_files
from bot.knowledge.helplines import Helplines
from bot.knowledge.topics import Route, load_taxonomy
from bot.languages import LANGUAGES

READERS = {"any"}, {"teen", "parent"}, {"any", "teen", "parent"}


@dataclass(frozen=True)
class CheckReport:
    problems: list[str]
    covered: int
    total: int

    @property
    def ok(self) -> bool:
        return not self.problems


def nlu_intents(nlu_data_dir: Path) -> dict[str, set[str]]:
    """Intent names per language folder of ``nlu_data/``."""
    found: dict[str, set[str]] = {}
    for path in sorted(nlu_data_dir.glob("*/*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in data.get("nlu", []):
            if "intent" in block:
                found.setdefault(path.parent.name, set()).add(block["intent"])
    return found


def check_knowledge_base(responses_dir: Path, nlu_data_dir: Path) -> CheckReport:
    problems: list[str] = []
    taxonomy = load_taxonomy(responses_dir / TAXONOMY_FILE)
    contents, problems = read_topic_files(responses_dir)

    for topic_id in sorted(set(contents) - set(taxonomy)):
        problems.append(f"topics/{topic_id}.yml: not a topic in {TAXONOMY_FILE}")
    for topic_id in sorted(set(taxonomy) - set(contents)):
        problems.append(f"{topic_id}: no curated answer yet (responses/topics/{topic_id}.yml)")

    for topic_id, content in sorted(contents.items()):
        topic = taxonomy.get(topic_id)
        if topic is None:
            continue
        where = f"topics/{topic_id}.yml"
        for language in LANGUAGES:
            if language not in content.title:
                problems.append(f"{where}: no title in {language}")
            readers = content.answers.get(language)
            if not readers:
                problems.append(f"{where}: no answer in {language}")
                continue
            if set(readers) not in READERS:
                problems.append(
                    f"{where}: {language} readers {sorted(readers)}: use 'any' or 'teen'+'parent'"
                )
            for reader, variant in readers.items():
                if topic.route is Route.URGENT and not variant.danger_signs:
                    problems.append(
                        f"{where}: {language}/{reader} urgent topic without danger_signs"
                    )
        if topic.is_health and not content.sources:
            problems.append(f"{where}: a health topic must name its sources")
        for related in content.related:
            if related not in taxonomy:
                problems.append(f"{where}: related topic {related!r} does not exist")

    for language, intents in sorted(nlu_intents(nlu_data_dir).items()):
        if language not in LANGUAGES:
            problems.append(f"nlu_data/{language}: not one of {', '.join(LANGUAGES)}")
        for intent in sorted(intents):
            if intent not in taxonomy:
                problems.append(f"nlu_data/{language}: intent {intent!r} is not a topic")
            elif intent not in contents:
                problems.append(f"nlu_data/{language}: intent {intent!r} has no curated answer")

    problems += _check_helplines(responses_dir / HELPLINES_FILE)
    return CheckReport(
        problems=problems, covered=len(set(contents) & set(taxonomy)), total=len(taxonomy)
    )


def _check_helplines(path: Path) -> list[str]:
    try:
        helplines = Helplines.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except Exception as exc:  # any parse or validation failure is one reported gap
        return [f"{HELPLINES_FILE}: invalid ({str(exc).splitlines()[0]})"]
    problems = []
    for number, labels in helplines.numbers.items():
        problems += [
            f"{HELPLINES_FILE}: {number} has no {lang} label"
            for lang in LANGUAGES
            if lang not in labels
        ]
    for number in helplines.crisis + helplines.danger_now:
        if number not in helplines.numbers:
            problems.append(f"{HELPLINES_FILE}: {number} is listed but not described")
    return problems


__all__ = ["CheckReport", "KnowledgeBaseError", "check_knowledge_base", "nlu_intents"]
