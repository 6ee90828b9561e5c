"""The one normalisation both training data and live messages go through before Rasa.

Scripts and spellings meet here: Kazakh in Latin letters and Russian translit become Cyrillic,
Kazakh-only letters are folded onto common ones, case and stretched letters ("оооочень") are
evened out. ``syrlas train`` writes normalised copies of ``nlu_data/`` and the Rasa client
normalises every message, so the model never sees a form the other path would not produce.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from bot.languages import Language
from bot.nlu.language import detect_language
from bot.nlu.text import NLU_MAX_CHARS, clean_text

TABLES_FILE = Path(__file__).with_name("transliteration.yml")
_LATIN_WORD = re.compile(r"[a-zäáğǵıíñńöóşūüúý'4]*[a-zäáğǵıíñńöóşūüúý][a-zäáğǵıíñńöóşūüúý'4]*")
_STRETCHED = re.compile(r"([^\W\d_])\1{2,}")
_VOWELS = set("аеёиоуыэюяәөұүі")


@dataclass(frozen=True)
class _Tables:
    kk: tuple[tuple[str, str], ...]
    ru: tuple[tuple[str, str], ...]
    fold: dict[int, str]


@cache
def _tables() -> _Tables:
    raw = yaml.safe_load(TABLES_FILE.read_text(encoding="utf-8"))

    def longest_first(table: dict) -> tuple[tuple[str, str], ...]:
        return tuple(
            sorted(((str(k), str(v)) for k, v in table.items()), key=lambda kv: -len(kv[0]))
        )

    return _Tables(
        longest_first(raw["kk"]),
        longest_first(raw["ru"]),
        str.maketrans({str(k): str(v) for k, v in raw["fold"].items()}),
    )


def _transliterate(word: str, table: tuple[tuple[str, str], ...], russian: bool) -> str:
    out: list[str] = []
    i = 0
    if russian and word[:2] in ("ye", "yo"):
        out.append("е")
        i = 2
    while i < len(word):
        for latin, cyrillic in table:
            if word.startswith(latin, i):
                # Russian "y" after a vowel is "й" (moy, tvoy), elsewhere "ы".
                if russian and latin == "y" and out and out[-1][-1] in _VOWELS:
                    cyrillic = "й"
                out.append(cyrillic)
                i += len(latin)
                break
        else:
            out.append(word[i])
            i += 1
    return "".join(out)


def normalize_for_nlu(
    text: str, language: Language | None = None, *, limit: int = NLU_MAX_CHARS
) -> str:
    """The text as the classifier sees it. ``language`` overrides detection (training data
    carries its language in its folder); ``limit`` is the classifier's unless a caller (the
    crisis lexicon) reads further."""
    text = clean_text(text, limit).lower()
    tables = _tables()
    language = language or detect_language(text).language
    if language in (Language.KK, Language.RU) and _LATIN_WORD.search(text):
        table = tables.kk if language is Language.KK else tables.ru
        russian = language is Language.RU
        text = _LATIN_WORD.sub(lambda m: _transliterate(m.group(0), table, russian), text)
    text = text.translate(tables.fold)
    return _STRETCHED.sub(r"\1", text)
