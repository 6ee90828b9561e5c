"""Interface strings: every msgid translated in kk, ru and en; catalogs match the code."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

from babel.messages.pofile import read_po

from bot.i18n import Catalogs
from bot.languages import LANGUAGES, Language


def _catalog(settings, language):
    with (settings.locales_dir / language / "LC_MESSAGES" / "syrlas.po").open("rb") as handle:
        return read_po(handle)


def test_every_msgid_is_translated_in_every_language(settings):
    for language in LANGUAGES:
        catalog = _catalog(settings, language)
        untranslated = [
            m.id
            for m in catalog
            if m.id and not (all(m.string) if isinstance(m.string, tuple) else m.string)
        ]
        fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
        assert untranslated == [] and fuzzy == [], language


def test_catalogs_hold_every_string_the_code_uses(settings, tmp_path):
    pot = tmp_path / "fresh.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            str(settings.home / "babel.cfg"),
            "-k",
            "gettext",
            "-k",
            "ngettext:1,2",
            "-o",
            str(pot),
            str(settings.home / "bot"),
        ],
        check=True,
    )
    with pot.open("rb") as handle:
        used = {m.id for m in read_po(handle) if m.id}
    assert used, "extraction found no strings"
    for language in LANGUAGES:
        known = {m.id for m in _catalog(settings, language) if m.id}
        assert used - known == set(), f"{language}: run `make extract-messages` and translate"


def test_plural_forms_follow_each_language(settings):
    assert _catalog(settings, "ru").num_plurals == 3
    assert _catalog(settings, "kk").num_plurals == 2
    assert _catalog(settings, "en").num_plurals == 2


def test_translators_differ_per_language_and_format_numbers_locally(catalogs: Catalogs):
    ru, kk, en = (catalogs(lang) for lang in (Language.RU, Language.KK, Language.EN))
    assert ru.gettext("More") == "Подробнее" and kk.gettext("More") == "Толығырақ"
    assert en.gettext("More") == "More"
    assert ru.number(12345.5) == "12\xa0345,5" and en.number(12345.5) == "12,345.5"
    moment = dt.datetime(2026, 11, 27, 9, 30)
    assert en.datetime(moment) != ru.datetime(moment)
    assert all("27" in tr.datetime(moment) for tr in (ru, kk, en))


def test_russian_has_three_plural_forms_in_use(catalogs: Catalogs):
    ru, kk, en = (catalogs(lang) for lang in (Language.RU, Language.KK, Language.EN))
    singular = "Your message is very long, so I kept only its first %(n)s character."
    plural = "Your message is very long, so I kept only its first %(n)s characters."
    assert ru.ngettext(singular, plural, 1).endswith("первый 1 символ.")
    assert ru.ngettext(singular, plural, 3).endswith("первые 3 символа.")
    assert ru.ngettext(singular, plural, 4000).endswith("первые 4\xa0000 символов.")
    assert ru.ngettext(singular, plural, 21).endswith("первый 21 символ.")
    assert en.ngettext(singular, plural, 4000).endswith("first 4,000 characters.")
    assert "4\xa0000" in kk.ngettext(singular, plural, 4000)
