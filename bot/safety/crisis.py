"""The crisis lexicon: phrases that make a message a crisis whatever the classifier says.

It runs on every message before the NLU (and works while the NLU is down). Messages are matched
in their normalised form, the same one the classifier sees, and also as if typed in Kazakh or
Russian Latin letters, so a mis-detected script never hides a crisis.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.languages import Language
from bot.nlu.normalize import normalize_for_nlu

MAX_GAP = 2  # other words allowed between two words of a phrase
_WORD = re.compile(r"[^\W_]+(?:-[^\W_]+)*", re.UNICODE)


@dataclass(frozen=True)
class CrisisMatch:
    topic: str
    language: Language  # the language of the phrase that matched: a strong hint for the reply


@dataclass(frozen=True)
class _Phrase:
    topic: str
    language: Language
    words: tuple[str, ...]  # a trailing "*" marks a stem

    def _matches_word(self, pattern: str, word: str) -> bool:
        return word.startswith(pattern[:-1]) if pattern.endswith("*") else word == pattern

    def found_in(self, words: list[str]) -> bool:
        first = self.words[0]
        for start, word in enumerate(words):
            if not self._matches_word(first, word):
                continue
            position = start
            for pattern in self.words[1:]:
                window = words[position + 1 : position + 2 + MAX_GAP]
                hit = next(
                    (i for i, w in enumerate(window) if self._matches_word(pattern, w)), None
                )
                if hit is None:
                    break
                position += 1 + hit
            else:
                return True
        return False


def _words(text: str) -> list[str]:
    return _WORD.findall(text)


def _pattern(token: str, language: Language) -> str:
    """One word of a phrase, normalised like a message; a trailing "*" stays a stem mark."""
    stem = token.endswith("*")
    word = "".join(_words(normalize_for_nlu(token.rstrip("*"), language)))
    return word + "*" if stem and word else word


@dataclass(frozen=True)
class CrisisLexicon:
    phrases: tuple[_Phrase, ...]

    @classmethod
    def load(cls, path: Path) -> CrisisLexicon:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        phrases = []
        for topic, by_language in raw["topics"].items():
            for language, entries in by_language.items():
                for entry in entries:
                    words = tuple(
                        _pattern(token, Language(language)) for token in str(entry).split()
                    )
                    phrases.append(_Phrase(topic, Language(language), tuple(w for w in words if w)))
        return cls(tuple(phrases))

    def match(self, text: str) -> CrisisMatch | None:
        """The crisis topic the message speaks of (and in which language), or None."""
        forms = {normalize_for_nlu(text)} | {
            normalize_for_nlu(text, lang) for lang in (Language.KK, Language.RU)
        }
        for form in forms:
            words = _words(form)
            for phrase in self.phrases:
                if phrase.found_in(words):
                    return CrisisMatch(phrase.topic, phrase.language)
        return None
