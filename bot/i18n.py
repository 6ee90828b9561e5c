"""Interface strings through Babel/gettext catalogs (``locales/<lang>/LC_MESSAGES/syrlas.mo``).

A translator is picked per message from the user's language; nothing is installed globally.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from babel import Locale
from babel.dates import format_datetime
from babel.numbers import format_decimal
from babel.support import Translations

from bot.languages import LANGUAGES, Language

DOMAIN = "syrlas"
BABEL_LOCALES = {Language.KK: "kk_KZ", Language.RU: "ru_RU", Language.EN: "en"}


class CatalogMissing(RuntimeError):
    pass


@dataclass(frozen=True)
class Translator:
    language: Language
    translations: Translations

    def gettext(self, message: str) -> str:
        return self.translations.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.translations.ngettext(singular, plural, n) % {"n": self.number(n)}

    @property
    def locale(self) -> Locale:
        return Locale.parse(BABEL_LOCALES[self.language])

    def number(self, value: float) -> str:
        return format_decimal(value, locale=self.locale)

    def datetime(self, value: dt.datetime) -> str:
        return format_datetime(value, format="short", locale=self.locale)


class Catalogs:
    """The compiled catalogs of all three languages, loaded once at start-up."""

    def __init__(self, locales_dir: Path) -> None:
        self._translators: dict[Language, Translator] = {}
        for language in LANGUAGES:
            mo = locales_dir / language / "LC_MESSAGES" / f"{DOMAIN}.mo"
            if not mo.exists():
                raise CatalogMissing(f"{mo} is missing: run `make setup` to compile the catalogs")
            translations = Translations.load(str(locales_dir), [language], domain=DOMAIN)
            self._translators[language] = Translator(language, translations)

    def __call__(self, language: Language) -> Translator:
        return self._translators[language]
