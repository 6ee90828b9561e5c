import time

import pytest

from bot.languages import Language, parse_language
from bot.nlu.language import Detection, detect_language, language_model
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
        # Kazakh in Latin letters, formal (2021 alphabet) and informal
        ("Sälemetsız be, men jüktımın be?", Language.KK),
        ("salemetsiz be, balam auyryp jatyr ne isteu kerek", Language.KK),
        ("men juktimin be", Language.KK),
        ("bala auyryp jatyr", Language.KK),
        ("qalay", Language.KK),
        # Kazakh in Cyrillic without its letters
        ("мен жуктимин ба", Language.KK),
        ("менин басым ауырып тур", Language.KK),
        ("балам температура 39 не истеу керек", Language.KK),  # and mixed with Russian
        # Russian in translit
        ("u menya bolit zhivot", Language.RU),
        ("chto delat", Language.RU),
        ("chto delat esli zaderzhka", Language.RU),
        # "q" is not a Kazakh letter to an English speaker
        ("can i ask a quick question", Language.EN),
        ("i want to quit vaping", Language.EN),
    ],
)
def test_detects_the_language_whatever_the_script(text, expected):
    assert detect_language(text).language is expected


@pytest.mark.parametrize("text", ["😭😭", "123 !!", "", "  "])
def test_nothing_to_go_on_has_no_language(text):
    assert detect_language(text) == Detection(None, False)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("етеккір кезінде ішім қатты ауырады", Language.KK),  # Kazakh letters
        ("сәлем", Language.KK),
        ("у меня очень болит живот при месячных что делать", Language.RU),
        ("u menya bolit zhivot", Language.RU),
        ("men juktimin be", Language.KK),
        ("my daughter has fever what should i do", Language.EN),
    ],
)
def test_clear_messages_are_confident(text, expected):
    assert detect_language(text) == Detection(expected, True)


@pytest.mark.parametrize(
    "text",
    [
        "привет",  # one word: could be anyone
        "гинеколог",
        "qalay",
        "прозрачные выделения как белок, это нормально ма",  # Russian with a Kazakh particle
        "у ребёнка сыпь на щеках, это аллергия ма",
        "балам температура 39 не истеу керек",  # Kazakh with a Russian word
    ],
)
def test_short_or_code_mixed_messages_are_not_confident(text):
    assert not detect_language(text).confident


def test_the_model_learns_from_the_given_folder(tmp_path):
    for language, examples in {
        "kk": ["zzz zzzz zz", "zzzz zz"],
        "ru": ["yyy yyyy yy", "yyyy yy"],
        "en": ["xxx xxxx xx", "xxxx xx"],
    }.items():
        (tmp_path / language).mkdir()
        lines = "".join(f"    - {e}\n" for e in examples)
        (tmp_path / language / "a.yml").write_text(
            f'version: "3.1"\nnlu:\n- intent: a\n  examples: |\n{lines}', encoding="utf-8"
        )
    assert detect_language("zz zzz zzzz", nlu_data=tmp_path).language is Language.KK
    assert detect_language("yy yyy yyyy", nlu_data=tmp_path).language is Language.RU
    assert detect_language("xx xxx", nlu_data=tmp_path).language is Language.EN
    assert language_model(tmp_path) is language_model(tmp_path)  # built once per process


def test_an_empty_training_folder_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        detect_language("hello there", nlu_data=tmp_path)


def test_detection_is_fast():
    language_model()  # built once, at first use
    texts = ["u menya bolit zhivot chto delat", "балам ауырып жатыр", "my period is late"] * 300
    started = time.perf_counter()
    for text in texts:
        detect_language(text)
    assert (time.perf_counter() - started) / len(texts) < 0.001


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
