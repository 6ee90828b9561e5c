"""The safety sets: crisis messages and ordinary look-alikes written apart from ``nlu_data/``.

``tests/data/<set>/<lang>.yml`` holds ``crisis: {topic: [texts]}`` and ``not_crisis``. Each
session's final set (the last one) is written blind by people who saw neither the training data
nor the lexicon, measured once, and never tuned or trained on. When the next final set is
written it becomes a development set: the lexicon is widened on its misses and, since session
10, the classifier learns from it too (its crisis messages under their topic, its look-alikes
under the ordinary topic written beside them: ``not_crisis: {topic: [texts]}``). Blind sets
showed why: every new set used words the training data lacked, and the written sets are the
widest source of them.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.languages import LANGUAGES

SAFETY_NEGATIVE = "not_crisis"
SAFETY_SETS = (
    ("safety_1", "Safety set 1 (development since session 2: the lexicon was widened on it)"),
    ("safety_2", "Safety set 2 (final in session 2, development since session 3)"),
    ("safety_3", "Safety set 3 (written in session 3, measured once, then development)"),
    ("safety_4", "Safety set 4 (final in session 3, development since session 4)"),
    ("safety_5", "Safety set 5 (written in session 4, measured once, then development)"),
    ("safety_6", "Safety set 6 (final in session 4, development since session 5)"),
    ("safety_7", "Safety set 7 (written in session 5, measured once, then development)"),
    ("safety_8", "Safety set 8 (written in session 5, measured once, then development)"),
    ("safety_9", "Safety set 9 (final in session 5; development since session 6)"),
    ("safety_10", "Safety set 10 (written blind in session 7, measured once, then development)"),
    ("safety_11", "Safety set 11 (written blind in session 7, measured once, then development)"),
    ("safety_12", "Safety set 12 (written blind in session 7, measured once, then development)"),
    ("safety_13", "Safety set 13 (written blind in session 7, measured once, then development)"),
    ("safety_14", "Safety set 14 (final in session 7, development since session 8)"),
    ("safety_15", "Safety set 15 (final in session 8's first round, then development)"),
    ("safety_16", "Safety set 16 (written blind in session 8, measured once, then development)"),
    ("safety_17", "Safety set 17 (written blind in session 8, measured once, then development)"),
    ("safety_18", "Safety set 18 (final in session 8's fourth round, then development)"),
    ("safety_19", "Safety set 19 (final in session 8, development since session 9)"),
    ("safety_20", "Safety set 20 (final in session 9's first round, then development)"),
    ("safety_21", "Safety set 21 (final in session 9's second round, then development)"),
    ("safety_22", "Safety set 22 (final in session 9's third round, then development)"),
    ("safety_23", "Safety set 23 (final in session 9, development since session 10)"),
    ("safety_24", "Safety set 24 (final in session 10's first measurement, then development)"),
    # Measured once, on the system that learnt from sets 1-23 (session 10, d17799c).
    ("safety_25", "Safety set 25 (final: written blind in session 10, never tuned or trained on)"),
)
FINAL_SAFETY_SET = SAFETY_SETS[-1][0]


def development_sets(data_dir: Path) -> tuple[Path, ...]:
    """The folders of every set but the final one, which nothing may learn from."""
    return tuple(data_dir / name for name, _ in SAFETY_SETS[:-1])


def read_set_file(path: Path) -> tuple[dict[str, list[str]], dict[str, list[str]] | list[str]]:
    """A set file's crisis messages by topic, and its look-alikes: a list as written, or by
    ordinary topic once the set is a development set."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    crisis = {str(t): [str(x) for x in texts] for t, texts in (raw.get("crisis") or {}).items()}
    negatives = raw.get(SAFETY_NEGATIVE) or []
    if isinstance(negatives, dict):
        return crisis, {str(t): [str(x) for x in texts] for t, texts in negatives.items()}
    return crisis, [str(x) for x in negatives]


def training_examples(folders: tuple[Path, ...]) -> dict[str, dict[str, list[str]]]:
    """``{language: {topic: texts}}`` from these sets, for the classifier to learn from."""
    merged: dict[str, dict[str, list[str]]] = {}
    for folder in folders:
        if not folder.is_dir():  # e.g. a deployment without tests/: a different model, silently
            raise FileNotFoundError(f"{folder}: a safety set the classifier learns from is missing")
        for language in LANGUAGES:
            path = folder / f"{language}.yml"
            if not path.exists():
                continue
            crisis, negatives = read_set_file(path)
            if not isinstance(negatives, dict):
                raise ValueError(
                    f"{path}: a development set's look-alikes need their ordinary topic "
                    f"(not_crisis: {{topic: [texts]}}) before the classifier can learn from them"
                )
            by_topic = merged.setdefault(language.value, {})
            for topic, texts in [*crisis.items(), *negatives.items()]:
                by_topic.setdefault(topic, []).extend(texts)
    return merged
