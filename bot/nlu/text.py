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
