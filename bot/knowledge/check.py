"""``syrlas kb check``: every gap in the knowledge base, one line each.

Gaps: a topic without an answer or without enough training examples in a language, an invalid
or over-long answer, a health answer without sources, a review older than a year, the same
training example under two topics, an untranslated interface string, a broken helpline or
crisis-lexicon file.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import yaml
from babel.messages.pofile import read_po

from bot.i18n import DOMAIN
from bot.knowledge.answers import TopicContent
from bot.knowledge.base import HELPLINES_FILE, TAXONOMY_FILE, KnowledgeBaseError, read_topic_files
from bot.knowledge.helplines import Helplines
from bot.knowledge.topics import Route, Topic, load_taxonomy
from bot.languages import LANGUAGES
from bot.nlu.data import nlu_examples
from bot.nlu.normalize import normalize_for_nlu
from bot.safety.crisis import CrisisLexicon

READERS = {"any"}, {"teen", "parent"}, {"any", "teen", "parent"}
MIN_EXAMPLES = 30  # per topic and language
MAX_REVIEW_AGE = dt.timedelta(days=365)
CRISIS_LEXICON_FILE = "crisis_lexicon.yml"


@dataclass(frozen=True)
class CheckReport:
    problems: list[str]
    covered: int
    total: int

    @property
    def ok(self) -> bool:
        return not self.problems


def nlu_intents(nlu_data_dir: Path) -> dict[str, set[str]]:
    return {lang: set(intents) for lang, intents in nlu_examples(nlu_data_dir).items()}


MAX_CANNED_CHARS = 900


def check_knowledge_base(
    responses_dir: Path,
    nlu_data_dir: Path,
    locales_dir: Path | None = None,
    today: dt.date | None = None,
) -> CheckReport:
    taxonomy = load_taxonomy(responses_dir / TAXONOMY_FILE)
    contents, problems = read_topic_files(responses_dir)
    today = today or dt.date.today()

    problems += [
        f"topics/{t}.yml: not a topic in {TAXONOMY_FILE}"
        for t in sorted(set(contents) - set(taxonomy))
    ]
    problems += [
        f"{t}: no curated answer yet (responses/topics/{t}.yml)"
        for t in sorted(set(taxonomy) - set(contents))
    ]
    for topic_id, content in sorted(contents.items()):
        if topic_id in taxonomy:
            problems += _check_content(taxonomy[topic_id], content, taxonomy, today)

    problems += _check_training_data(nlu_examples(nlu_data_dir), taxonomy, set(contents))
    problems += _check_helplines(responses_dir / HELPLINES_FILE)
    problems += _check_crisis_lexicon(responses_dir / CRISIS_LEXICON_FILE, taxonomy)
    problems += _check_escalation(responses_dir, taxonomy)
    if locales_dir is not None:
        problems += _check_catalogs(locales_dir)
    return CheckReport(
        problems=problems, covered=len(set(contents) & set(taxonomy)), total=len(taxonomy)
    )


def _check_escalation(responses_dir: Path, taxonomy: dict[str, Topic]) -> list[str]:
    """Ready answers for consultants in every language; pools name real topics."""
    from bot.escalation.canned import CannedReplies
    from bot.escalation.policy import RoleMap

    problems: list[str] = []
    try:
        canned = CannedReplies.load(responses_dir / "canned.yml")
        problems += [f"canned.yml: {p}" for p in canned.problems()]
        problems += [
            f"canned.yml: {name} in {language} is over {MAX_CANNED_CHARS} characters"
            for name, reply in sorted(canned.replies.items())
            for language, text in reply.text.items()
            if len(text) > MAX_CANNED_CHARS
        ]
    except Exception as exc:
        problems.append(f"canned.yml: {str(exc).splitlines()[0]}")
    try:
        from bot.safety.reports import Regions

        regions = Regions.load(responses_dir / "regions.yml")
        if not regions.regions:
            problems.append("regions.yml: no regions for the report flow")
        problems += [
            f"regions.yml: {region.id} has an empty name"
            for region in regions.regions
            if not all(name.strip() for name in region.names.values())
        ]
    except Exception as exc:
        problems.append(f"regions.yml: {str(exc).splitlines()[0]}")
    try:
        roles = RoleMap.load(responses_dir / "consultant_roles.yml")
        problems += [
            f"consultant_roles.yml: {topic} is not a topic in {TAXONOMY_FILE}"
            for topic in sorted(set(roles.by_topic) - set(taxonomy))
        ]
    except Exception as exc:
        problems.append(f"consultant_roles.yml: {str(exc).splitlines()[0]}")
    return problems


def _check_content(
    topic: Topic, content: TopicContent, taxonomy: dict[str, Topic], today: dt.date
) -> list[str]:
    where = f"topics/{topic.id}.yml"
    problems = []
    if today - content.last_reviewed > MAX_REVIEW_AGE:
        problems.append(f"{where}: last reviewed {content.last_reviewed}, over a year ago")
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
                problems.append(f"{where}: {language}/{reader} urgent topic without danger_signs")
    if topic.is_health and not content.sources:
        problems.append(f"{where}: a health topic must name its sources")
    problems += [
        f"{where}: related topic {r!r} does not exist" for r in content.related if r not in taxonomy
    ]
    return problems


def _check_training_data(
    examples: dict[str, dict[str, list[str]]], taxonomy: dict[str, Topic], answered: set[str]
) -> list[str]:
    problems = []
    for language in LANGUAGES:
        intents = examples.get(language, {})
        for topic_id in sorted(taxonomy):
            count = len(intents.get(topic_id, []))
            if count < MIN_EXAMPLES:
                problems.append(
                    f"nlu_data/{language}/{topic_id}.yml: {count} examples, "
                    f"needs at least {MIN_EXAMPLES}"
                )
        seen: dict[str, str] = {}
        for intent, texts in sorted(intents.items()):
            if intent not in taxonomy:
                problems.append(f"nlu_data/{language}: intent {intent!r} is not a topic")
            elif intent not in answered:
                problems.append(f"nlu_data/{language}: intent {intent!r} has no curated answer")
            for text in texts:
                key = normalize_for_nlu(text)
                other = seen.setdefault(key, intent)
                if other != intent:
                    problems.append(
                        f"nlu_data/{language}: {text!r} is an example of both {other} and {intent}"
                    )
    problems += [
        f"nlu_data/{lang}: not one of {', '.join(LANGUAGES)}"
        for lang in examples
        if lang not in LANGUAGES
    ]
    return problems


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


def _check_crisis_lexicon(path: Path, taxonomy: dict[str, Topic]) -> list[str]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        topics = raw["topics"]
    except Exception as exc:  # any parse failure is one reported gap
        return [f"{CRISIS_LEXICON_FILE}: invalid ({str(exc).splitlines()[0]})"]
    problems = []
    try:
        CrisisLexicon.load(path)  # what the bot itself loads at start-up
    except ValueError as exc:
        problems.append(f"{CRISIS_LEXICON_FILE}: {exc}")
    for topic_id, by_language in topics.items():
        # A phrase makes a crisis: its topic must be one whose answer follows the numbers as a
        # crisis answer (sextortion has its own crisis topic, not online_safety's advice).
        topic = taxonomy.get(topic_id)
        if topic is None or topic.route is not Route.CRISIS:
            problems.append(f"{CRISIS_LEXICON_FILE}: {topic_id!r} is not a crisis topic")
        problems += _missing_languages(topic_id, by_language)
    return problems + _check_combinations(raw, taxonomy)


def _missing_languages(name: str, by_language: dict | None) -> list[str]:
    """A topic's or a cue's phrases must cover every language."""
    return [
        f"{CRISIS_LEXICON_FILE}: {name} has no {lang} phrases"
        for lang in LANGUAGES
        if not (by_language or {}).get(lang)
    ]


def _check_combinations(raw: dict, taxonomy: dict[str, Topic]) -> list[str]:
    """Combinations make crises too; a cue no combination uses is a mistake, not a spare."""
    cues = raw.get("cues") or {}
    combinations = raw.get("combinations") or []
    problems = []
    for combination in combinations:
        topic = taxonomy.get(combination.get("topic"))
        if topic is None or topic.route is not Route.CRISIS:
            problems.append(
                f"{CRISIS_LEXICON_FILE}: combination {combination.get('cues')}: "
                f"{combination.get('topic')!r} is not a crisis topic"
            )
    used = {cue for combination in combinations for cue in combination.get("cues") or ()}
    for name, by_language in cues.items():
        if name not in used:
            problems.append(f"{CRISIS_LEXICON_FILE}: cue {name!r} is in no combination")
        problems += _missing_languages(f"cue {name}", by_language)
    return problems


def _check_catalogs(locales_dir: Path) -> list[str]:
    problems = []
    for language in LANGUAGES:
        path = locales_dir / language / "LC_MESSAGES" / f"{DOMAIN}.po"
        if not path.exists():
            problems.append(f"{path}: missing")
            continue
        with path.open("rb") as handle:
            catalog = read_po(handle)
        for message in catalog:
            translated = (
                all(message.string) if isinstance(message.string, tuple) else bool(message.string)
            )
            if message.id and (not translated or message.fuzzy):
                problems.append(f"locales/{language}: untranslated {str(message.id)[:60]!r}")
    return problems


__all__ = [
    "CheckReport",
    "KnowledgeBaseError",
    "check_knowledge_base",
    "nlu_examples",
    "nlu_intents",
]
