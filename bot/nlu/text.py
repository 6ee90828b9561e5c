"""Cleaning user text before it reaches the NLU: the same function serves training and parsing."""

from __future__ import annotations

import re
import unicodedata

# Longer messages are still kept whole for a consultant; the classifier only needs the start.
NLU_MAX_CHARS = 1000
# What the bot keeps of one message (for the conversation and a consultant); longer ones are
# cut with a notice to the user.
MESSAGE_MAX_CHARS = 4000

# Zero-width and bidirectional marks that copy-paste and some keyboards insert invisibly.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff\u00ad]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_SPACES = re.compile(r"\s+")


def clean_text(text: str, limit: int = NLU_MAX_CHARS) -> str:
    """NFC, no invisible or control characters, single spaces, at most ``limit`` characters."""
    text = unicodedata.normalize("NFC", text)
    text = _INVISIBLE.sub("", text)
    text = _CONTROL.sub(" ", text)
    text = _SPACES.sub(" ", text).strip()
    return text[:limit]


# A crisis sentence buried in a long story is outweighed in the whole message's ranking by the
# story's topic (bullying, parents, school); the classifier also reads each part on its own.
PART_MIN_WORDS = 3  # shorter pieces say too little to classify
PART_MAX_WORDS = 16  # longer sentences (stories typed without full stops) go in windows
PART_STRIDE = 8
MAX_PARTS = 24  # a 4,000-character message: the last 24 parts, where a story usually ends
_SENTENCE_END = re.compile(r"(?<=[.!?…;])\s+|\s+[-–—]\s+")


def message_parts(text: str) -> list[str]:
    """Sentences of a message of several sentences, long ones cut into overlapping windows of
    words; [] for a message that is one short sentence (its whole parse already covers it)."""
    parts: list[str] = []
    for sentence in _SENTENCE_END.split(text):
        words = sentence.split()
        if len(words) <= PART_MAX_WORDS:
            parts.append(" ".join(words))
            continue
        last_start = len(words) - PART_MAX_WORDS
        starts = [*range(0, last_start, PART_STRIDE), last_start]
        parts += [" ".join(words[start : start + PART_MAX_WORDS]) for start in starts]
    parts = [part for part in parts if len(part.split()) >= PART_MIN_WORDS]
    if len(parts) < 2:
        return []
    return parts[-MAX_PARTS:]
