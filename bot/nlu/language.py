"""Which of kk, ru, en a message is written in, whatever the script.

Letters decide when they can: Kazakh-only Cyrillic letters (ә ғ қ ң ө ұ ү һ і) or the Kazakh
Latin letters with diacritics (ä ğ ñ ö ū ü ı ş) mean Kazakh, confidently. Everything else
(Kazakh typed without its letters, Kazakh in Latin letters, Russian in translit, English) goes
to a multinomial naive Bayes over character n-grams of the words, trained at first use on the
examples in ``nlu_data/{kk,ru,en}/*.yml`` (the folder is the label).

``confident`` (the answer may override the language the user chose) needs two words or more, a
clear margin between the two likeliest languages, and no single word that clearly belongs to
another language: a short, ambiguous or code-mixed message is not confident.
The constants are tuned by ``bench/language_detection_cv.py``.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

from bot.languages import LANGUAGES, Language
from bot.nlu.data import nlu_examples
from bot.settings import PROJECT_ROOT

NLU_DATA = PROJECT_ROOT / "nlu_data"

ORDERS = (1, 2, 3, 4)  # character n-gram lengths, over words padded with a space each side
SMOOTHING = 0.05  # additive (Lidstone) smoothing of the n-gram counts
# Log-likelihood margins, in nats.
CONFIDENT_MARGIN = 15.0  # the likeliest language over the next one, whole message
MIXED_WORD_MARGIN = 10.0  # one word for another language by this much: a code-mixed message

CYRILLIC, LATIN = _SCRIPTS = ("cyrillic", "latin")
# Kazakh question particles written as words ("нормально ма"): Russian has no such words, so a
# Russian message holding one is code-mixed whatever the n-gram margins say. The n-grams alone
# put "ма" only just short of MIXED_WORD_MARGIN, and new training text tipped it over once.
_KK_PARTICLES = frozenset({"ма", "ме", "ба", "бе", "па", "пе"})
_KK_CYRILLIC_LETTERS = frozenset("әғқңөұүһі")
# Not "q": English has it too (question, quit, liquid); the model handles it.
_KK_LATIN_LETTERS = frozenset("äğñöūüış")
_KK_LETTERS = _KK_CYRILLIC_LETTERS | _KK_LATIN_LETTERS
# Kazakh is often typed without its letters: the model also learns the folded spelling.
_KK_FOLD = str.maketrans("әғқңөұүһіäğñöūüış", "агкноуухиagnouuis")
_CYRILLIC = re.compile(r"[а-яёәғқңөұүһі]", re.IGNORECASE)
_LATIN = re.compile(r"[a-zäğñöūüış]", re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
# The languages a script can be, the one to fall back on first (ties go to it).
_CANDIDATES = {
    CYRILLIC: (Language.RU, Language.KK),  # English is never written in Cyrillic
    LATIN: (Language.EN, Language.RU, Language.KK),
}


@dataclass(frozen=True)
class Detection:
    language: Language | None  # None: nothing to go on (emoji, digits)
    confident: bool  # strong evidence: may override the language the user chose


def _ngrams(word: str) -> list[str]:
    padded = f" {word} "
    return [padded[i : i + n] for n in ORDERS for i in range(len(padded) - n + 1)]


def _script(word: str) -> str:
    return CYRILLIC if _CYRILLIC.search(word) else LATIN


class LanguageModel:
    """Multinomial naive Bayes over character n-grams, with equal priors for the languages.

    Each language has one n-gram distribution per script, and a message is scored on the words
    of its main script only, so the few Kazakh and Russian examples in Latin letters are not
    drowned by the many in Cyrillic.
    """

    def __init__(
        self, counts: dict[tuple[str, Language], Counter[str]], smoothing: float = SMOOTHING
    ):
        self._log_probs: dict[str, dict[str, tuple[float, ...]]] = {}
        self._unseen: dict[str, tuple[float, ...]] = {}
        for script in _SCRIPTS:
            per_language = [counts.get((script, lang), Counter()) for lang in LANGUAGES]
            vocabulary = set().union(*per_language)
            totals = [sum(c.values()) + smoothing * (len(vocabulary) + 1) for c in per_language]
            self._unseen[script] = tuple(math.log(smoothing / total) for total in totals)
            self._log_probs[script] = {
                gram: tuple(
                    math.log((c[gram] + smoothing) / total)
                    for c, total in zip(per_language, totals, strict=True)
                )
                for gram in vocabulary
            }
        self.word_scores = lru_cache(maxsize=50_000)(self._word_scores)

    @classmethod
    def train(cls, examples: Iterable[tuple[Language, str]]) -> LanguageModel:
        words: dict[Language, Counter[str]] = {lang: Counter() for lang in LANGUAGES}
        for language, text in examples:
            lowered = text.lower()
            if language is not Language.KK and not _KK_LETTERS.isdisjoint(lowered):
                continue  # a Kazakh-Russian mix filed as Russian: the letter rule decides those
            found = _WORD.findall(lowered)
            words[language].update(found)
            if language is Language.KK:
                words[language].update(
                    w.translate(_KK_FOLD) for w in found if not _KK_LETTERS.isdisjoint(w)
                )
        counts: dict[tuple[str, Language], Counter[str]] = defaultdict(Counter)
        for language, bag in words.items():
            for word, count in bag.items():
                grams = counts[_script(word), language]
                for gram in _ngrams(word):
                    grams[gram] += count
        return cls(counts)

    def _word_scores(self, word: str) -> dict[Language, float]:
        """Log-likelihood of one word (lower case) under each language."""
        script = _script(word)
        log_probs, unseen = self._log_probs[script], self._unseen[script]
        scores = [0.0] * len(LANGUAGES)
        for gram in _ngrams(word):
            for i, value in enumerate(log_probs.get(gram, unseen)):
                scores[i] += value
        return dict(zip(LANGUAGES, scores, strict=True))

    def detect(self, words: list[str], script: str) -> Detection:
        """The language of the (lower-case) words of one script."""
        candidates = _CANDIDATES[script]
        per_word = [self.word_scores(word) for word in words]
        totals = {lang: sum(scores[lang] for scores in per_word) for lang in candidates}
        best, runner_up = sorted(candidates, key=totals.__getitem__, reverse=True)[:2]
        mixed = any(
            scores[lang] - scores[best] >= MIXED_WORD_MARGIN
            for scores in per_word
            for lang in candidates
            if lang is not best
        ) or (best is Language.RU and script == CYRILLIC and not _KK_PARTICLES.isdisjoint(words))
        confident = (
            len(words) >= 2 and totals[best] - totals[runner_up] >= CONFIDENT_MARGIN and not mixed
        )
        return Detection(best, confident)


def read_examples(folder: Path) -> list[tuple[Language, str]]:
    """(language, text) for every example in ``folder/{kk,ru,en}/*.yml``."""
    found = nlu_examples(folder)
    return [
        (language, text)
        for language in LANGUAGES
        for texts in found.get(language.value, {}).values()
        for text in texts
    ]


@cache
def language_model(nlu_data: Path = NLU_DATA) -> LanguageModel:
    """The model trained on ``nlu_data``, built once per process."""
    examples = read_examples(nlu_data)
    if not examples:
        raise FileNotFoundError(f"no examples to learn languages from in {nlu_data}")
    return LanguageModel.train(examples)


def detect_language(
    text: str, nlu_data: Path = NLU_DATA, model: LanguageModel | None = None
) -> Detection:
    """The language of ``text``, by the model trained on ``nlu_data`` unless one is given."""
    lowered = text.lower()
    cyrillic = len(_CYRILLIC.findall(lowered))
    latin = len(_LATIN.findall(lowered))
    if not cyrillic and not latin:
        return Detection(None, False)
    script = CYRILLIC if cyrillic >= latin else LATIN
    if not (_KK_CYRILLIC_LETTERS if script == CYRILLIC else _KK_LATIN_LETTERS).isdisjoint(lowered):
        return Detection(Language.KK, True)
    words = [word for word in _WORD.findall(lowered) if _script(word) == script]
    return (model or language_model(nlu_data)).detect(words, script)
