"""Which of kk, ru, en a message is written in, whatever the script.

Letters decide when they can (Kazakh-only Cyrillic or Latin letters); otherwise whole-word
markers from ``language_markers.yml`` do: Kazakh typed without its special letters, Kazakh in
Latin letters, and Russian in translit must not be mistaken for Russian or English.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from bot.languages import Language

_MARKERS_FILE = Path(__file__).with_name("language_markers.yml")
_KK_CYRILLIC_LETTERS = set("әғқңөұүһі")
_KK_LATIN_LETTERS = set("äğqñöūüış")
_CYRILLIC = re.compile(r"[а-яёәғқңөұүһі]", re.IGNORECASE)
_LATIN = re.compile(r"[a-zäğñöūüış]", re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


@dataclass(frozen=True)
class Detection:
    language: Language | None  # None: nothing to go on (emoji, digits)
    confident: bool  # strong evidence: may override the language the user chose


@dataclass(frozen=True)
class _Markers:
    kk_cyrillic: frozenset[str]
    kk_latin: frozenset[str]
    ru_latin: frozenset[str]
    en: frozenset[str]


@cache
def _markers() -> _Markers:
    raw = yaml.safe_load(_MARKERS_FILE.read_text(encoding="utf-8"))
    return _Markers(
        **{key: frozenset(map(str.lower, raw[key])) for key in _Markers.__annotations__}
    )


def detect_language(text: str) -> Detection:
    lowered = text.lower()
    words = _WORD.findall(lowered)
    cyrillic = len(_CYRILLIC.findall(lowered))
    latin = len(_LATIN.findall(lowered))
    if not cyrillic and not latin:
        return Detection(None, False)
    markers = _markers()
    if cyrillic >= latin:
        if _KK_CYRILLIC_LETTERS & set(lowered):
            return Detection(Language.KK, True)
        kk_hits = sum(word in markers.kk_cyrillic for word in words)
        if kk_hits:
            return Detection(Language.KK, kk_hits >= 2 or len(words) <= 3)
        return Detection(Language.RU, len(words) >= 2)
    if _KK_LATIN_LETTERS & set(lowered):
        return Detection(Language.KK, True)
    scores = {
        Language.KK: sum(word in markers.kk_latin for word in words),
        Language.RU: sum(word in markers.ru_latin for word in words),
        Language.EN: sum(word in markers.en for word in words),
    }
    best = max(scores, key=lambda lang: (scores[lang], lang is Language.EN))
    if scores[best] == 0:
        return Detection(Language.EN, False)
    runner_up = max(score for lang, score in scores.items() if lang is not best)
    return Detection(best, scores[best] >= 2 and scores[best] > runner_up)
