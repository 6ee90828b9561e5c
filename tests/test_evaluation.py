"""The evaluation's arithmetic and report, with a scripted classifier (no Rasa): what counts as
a caught crisis, what as a false alarm, and what the Markdown report says."""

from __future__ import annotations

from bot.dialogue.engine import Engine
from bot.evaluation import (
    SAFETY_NEGATIVE,
    Example,
    crisis_sweep,
    evaluate,
    format_report,
    format_safety,
    markdown_report,
    plot_confusion,
)
from tests.doubles import ScriptedNlu

EXAMPLES = [
    Example("у меня болят месячные", "period_pain", "ru", "cyrl"),
    Example("соседи бьют ребёнка каждый день", "abuse_at_home", "ru", "cyrl"),  # report flow
    Example("всё, я решила, так будет лучше", "self_harm_suicide", "ru", "cyrl"),  # missed
    Example(
        "он угрожает выложить мои фото если я не пришлю ещё", "grooming_sextortion", "ru", "cyrl"
    ),
    Example("мне грустно сегодня", "low_mood", "ru", "cyrl"),  # a false alarm
]


def _nlu() -> ScriptedNlu:
    return (
        ScriptedNlu()
        .on("у меня болят месячные", ("period_pain", 0.9))
        .on("соседи бьют ребёнка каждый день", ("report_abuse", 0.9))
        .on("всё, я решила, так будет лучше", ("low_mood", 0.6), ("self_harm_suicide", 0.1))
        .on("он угрожает выложить мои фото если я не пришлю ещё", ("online_safety", 0.9))  # lexicon
        .on("мне грустно сегодня", ("self_harm_suicide", 0.5), ("low_mood", 0.4))
    )


async def test_what_counts_as_caught_and_as_a_false_alarm(knowledge, catalogs, crisis_lexicon):
    engine = Engine(knowledge=knowledge, nlu=_nlu(), catalogs=catalogs, crisis=crisis_lexicon)
    report = (await evaluate(engine, EXAMPLES))["ru"]
    # abuse reported about another child goes to the report flow, which opens with the numbers
    assert (report.caught[1], report.caught[2]) == (True, False)
    # sextortion: the lexicon overrules the classifier's online_safety
    assert report.caught[3] and report.lexicon[3]
    assert report.crisis_recall == 2 / 3
    assert report.false_crisis_rate == 1 / 2  # only "мне грустно сегодня", of two ordinary
    assert "0.667" in format_report({"ru": report})
    assert [row[0] for row in crisis_sweep({"ru": report}, engine)][:2] == [0.05, 0.1]


async def test_the_markdown_report_says_what_was_missed(
    knowledge, catalogs, crisis_lexicon, tmp_path
):
    engine = Engine(knowledge=knowledge, nlu=_nlu(), catalogs=catalogs, crisis=crisis_lexicon)
    reports = await evaluate(engine, EXAMPLES)
    safety = [
        Example("всё, я решила, так будет лучше", "self_harm_suicide", "ru", "cyrl"),
        Example("мне грустно сегодня", SAFETY_NEGATIVE, "ru", "cyrl"),
    ]
    safety_report = await evaluate(engine, safety)
    text = markdown_report(
        reports,
        model="nlu-test",
        examples=EXAMPLES,
        safety_sets=[("Safety set X", safety, safety_report)],
    )
    assert "[pipeline-comparison.md](pipeline-comparison.md)" in text
    assert "| ru | всё, я решила, так будет лучше | self_harm_suicide |" in text  # a miss
    assert f"| ru | мне грустно сегодня | {SAFETY_NEGATIVE} |" in text  # a false alarm
    assert "0.000" in format_safety(safety_report)  # recall on the safety set
    plot_confusion(reports, tmp_path / "confusion.png")
    assert (tmp_path / "confusion.png").read_bytes()[:4] == b"\x89PNG"
