"""The three languages Syrlas speaks, in one place."""

from __future__ import annotations

from enum import StrEnum


class Language(StrEnum):
    KK = "kk"
    RU = "ru"
    EN = "en"


LANGUAGES: tuple[Language, ...] = (Language.KK, Language.RU, Language.EN)
# When nothing tells us the language, Russian is the lingua franca most users can read.
FALLBACK_LANGUAGE = Language.RU


def parse_language(value: str | None) -> Language | None:
    """A language from a code such as ``kk``, ``ru-RU`` or ``EN``; None if not one of ours."""
    if not value:
        return None
    code = value.strip().lower().replace("_", "-").split("-", 1)[0]
    try:
        return Language(code)
    except ValueError:
        return None


# Each language is offered under its own name (an endonym is the same in every catalog).
LANGUAGE_NAMES: dict[Language, str] = {
    Language.KK: "Қазақша",
    Language.RU: "Русский",
    Language.EN: "English",
}
