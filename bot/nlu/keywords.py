"""A keyword baseline for ``syrlas eval --compare``: how far plain word overlap gets.

Each topic is the bag of (normalised) words of its training examples, weighted by how specific
a word is to few topics (idf). Not used by the bot; it is the floor the real model must beat.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass

from bot.nlu.client import IntentScore, ParseResult
from bot.nlu.normalize import normalize_for_nlu

_WORD = re.compile(r"[^\W_]+", re.UNICODE)


@dataclass(frozen=True)
class KeywordBaseline:
    weights: dict[str, dict[str, float]]  # topic -> word -> weight

    @classmethod
    def train(cls, examples: dict[str, list[str]]) -> KeywordBaseline:
        words_of = {
            topic: Counter(w for text in texts for w in _WORD.findall(normalize_for_nlu(text)))
            for topic, texts in examples.items()
        }
        topics_with: dict[str, int] = defaultdict(int)
        for counts in words_of.values():
            for word in counts:
                topics_with[word] += 1
        total = len(words_of)
        weights = {
            topic: {
                w: (1 + math.log(c)) * math.log(total / topics_with[w]) for w, c in counts.items()
            }
            for topic, counts in words_of.items()
        }
        return cls(weights)

    async def parse(self, text: str) -> ParseResult:
        words = set(_WORD.findall(normalize_for_nlu(text)))
        scores = {t: sum(ws.get(w, 0.0) for w in words) for t, ws in self.weights.items()}
        total = sum(scores.values()) or 1.0
        ranking = sorted(((t, s / total) for t, s in scores.items()), key=lambda x: -x[1])
        return ParseResult(text, tuple(IntentScore(t, s) for t, s in ranking))
