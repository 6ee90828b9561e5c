import pytest

from bot.languages import Language, parse_language
from bot.nlu.language import detect_language
from bot.nlu.text import clean_text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("у меня болят месячные", Language.RU),
        ("u menya bolyat mesyachnye chto delat", Language.RU),
        ("етеккір кезінде ішім қатты ауырады", Language.KK),
        ("етеккир кезинде ишим ауырады", Language.KK),  # Kazakh typed without its letters
        ("etekkir kezinde ishim auyrady", Language.KK),  # informal Latin
        ("etekkır kezınde ışım auyrady", Language.KK),  # 2021 Latin alphabet
        ("балам температура 39 не істеу керек", Language.KK),  # Kazakh-Russian mix
        ("my period cramps are so bad", Language.EN),
        ("my baby have temperature 39 what to do", Language.EN),
    ],
)
def test_detects_the_language_whatever_the_script(text, expected):
    assert detect_language(text).language is expected


def test_emoji_only_has_no_language():
    assert detect_language("😭😭").language is None


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("kk", Language.KK),
        ("ru-RU", Language.RU),
        ("EN", Language.EN),
        ("de", None),
        (None, None),
    ],
)
def test_parses_client_language_codes(code, expected):
    assert parse_language(code) is expected


def test_clean_text_removes_invisible_marks_and_caps_length():
    assert clean_text("  при\u200bвет\u202e \n\n мир\x00 ") == "привет мир"
    assert len(clean_text("я" * 10_000)) == 1000
    assert clean_text("\u200b\u200d   ") == ""
