"""Loading the knowledge base and looking answers up."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import ValidationError

from bot.knowledge.answers import TopicContent, Variant
from bot.knowledge.helplines import Helplines
from bot.knowledge.topics import Topic, load_taxonomy
from bot.languages import Language

TAXONOMY_FILE = "taxonomy.yml"
HELPLINES_FILE = "helplines.yml"
TOPICS_DIR = "topics"


DISCREET_FILE = "discreet.yml"


class KnowledgeBaseError(ValueError):
    """The knowledge base cannot be loaded; the message lists every problem found."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class KnowledgeBase:
    taxonomy: dict[str, Topic]
    contents: dict[str, TopicContent]
    helplines: Helplines
    load_warnings: list[str] = field(default_factory=list)
    sensitive: frozenset[str] = frozenset()  # topics whose answers offer to clear the chat

    def topic(self, topic_id: str) -> Topic | None:
        return self.taxonomy.get(topic_id)

    def content(self, topic_id: str) -> TopicContent | None:
        return self.contents.get(topic_id)

    def answer(self, topic_id: str, language: Language, audience: str | None) -> Variant | None:
        content = self.contents.get(topic_id)
        return content.variant(language, audience) if content else None

    def title(self, topic_id: str, language: Language) -> str:
        content = self.contents.get(topic_id)
        if content and language in content.title:
            return content.title[language]
        return topic_id.replace("_", " ")


def _read_yaml(path: Path) -> object:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def read_topic_files(responses_dir: Path) -> tuple[dict[str, TopicContent], list[str]]:
    """Every topic file that validates, and one problem line for each that does not."""
    contents: dict[str, TopicContent] = {}
    problems: list[str] = []
    for path in sorted((responses_dir / TOPICS_DIR).glob("*.yml")):
        try:
            content = TopicContent.model_validate(_read_yaml(path))
        except (yaml.YAMLError, ValidationError) as exc:
            first = str(exc).splitlines()
            problems.append(f"{path.name}: invalid ({' / '.join(first[:4])})")
            continue
        if content.id != path.stem:
            problems.append(f"{path.name}: id {content.id!r} does not match the file name")
            continue
        contents[content.id] = content
    return contents, problems


def load_knowledge_base(responses_dir: Path) -> KnowledgeBase:
    """Load what the bot serves. Invalid files are fatal: the bot must not start half-broken."""
    taxonomy = load_taxonomy(responses_dir / TAXONOMY_FILE)
    contents, problems = read_topic_files(responses_dir)
    unknown = sorted(set(contents) - set(taxonomy))
    problems += [f"topics/{topic_id}.yml: not a topic in {TAXONOMY_FILE}" for topic_id in unknown]
    try:
        helplines = Helplines.model_validate(_read_yaml(responses_dir / HELPLINES_FILE))
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        problems.append(f"{HELPLINES_FILE}: invalid ({str(exc).splitlines()[0]})")
        helplines = None
    sensitive: frozenset[str] = frozenset()
    discreet = responses_dir / DISCREET_FILE
    if discreet.exists():
        listed = (_read_yaml(discreet) or {}).get("sensitive_topics") or []
        problems += [f"{DISCREET_FILE}: {t} is not a topic" for t in listed if t not in taxonomy]
        sensitive = frozenset(listed)
    if problems or helplines is None:
        raise KnowledgeBaseError(problems)
    return KnowledgeBase(
        taxonomy=taxonomy, contents=contents, helplines=helplines, sensitive=sensitive
    )
