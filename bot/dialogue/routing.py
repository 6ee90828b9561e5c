"""The one place where an NLU result becomes a route. Thresholds live here and nowhere else."""

from __future__ import annotations

from dataclasses import dataclass

from bot.knowledge.topics import Route, Topic
from bot.nlu.client import IntentScore, ParseResult

REPORT_TOPIC = "report_abuse"
# Crisis topics that may be about someone else's child: when the classifier is sure a message
# reports it (top topic report_abuse), the report flow (which opens with 112/102/150/111) takes
# it instead of the crisis route. The crisis lexicon's matches follow the same rule.
REPORTABLE = frozenset({"abuse_at_home", "sexual_violence", "grooming_sextortion"})


@dataclass(frozen=True)
class Thresholds:
    """Chosen on the held-out set (`syrlas eval` prints the trade-offs in reports/nlu-eval.md).

    With answer 0.5 and margin 0.15 about 80% of held-out questions are answered directly and
    about 5% of those direct answers are on the wrong topic; the rest get a clarifying question.
    """

    # Sure enough to act on the top topic ...
    answer: float = 0.5
    # ... and clearly ahead of the runner-up.
    margin: float = 0.15
    # A crisis topic this likely anywhere in the ranking (or in one sentence of a long message)
    # wins over everything: a missed crisis costs more than a needless hotline list. The crisis
    # lexicon decides before this. 0.3 since session 3: with 450 more crisis examples the model
    # is readier to say crisis, and 0.2 sent 2.4-2.6 % of ordinary kk/ru questions to the
    # hotlines (target at most 2 %); the development safety sets lost one message in 170.
    crisis: float = 0.3
    # A crisis topic at least this likely, but under ``crisis``, puts the "in danger right now"
    # numbers on top of whatever the bot answers (no crisis route, no ticket). Chosen on the
    # development sets in session 8: 0.1 reaches about half the crisis messages the classifier
    # scores under 0.3, and about 4 % of ordinary held-out questions get the extra lines.
    danger_hint: float = 0.1
    # Candidates at least this likely are offered as buttons in a clarification.
    candidate: float = 0.12
    max_candidates: int = 3


def reported_instead(topic: str, top: IntentScore | None, thresholds: Thresholds) -> bool:
    """Whether a crisis topic goes to the report flow: violence the classifier is sure is being
    reported (about someone else's child). The classifier's and the lexicon's crisis alike."""
    return (
        topic in REPORTABLE
        and top is not None
        and top.name == REPORT_TOPIC
        and top.confidence >= thresholds.answer
    )


def leaning_crisis(
    parse: ParseResult, taxonomy: dict[str, Topic], thresholds: Thresholds
) -> str | None:
    """The crisis topic a message the bot does not treat as a crisis still leans towards enough
    to show the danger numbers with the answer (a safety net under the crisis threshold): the
    likeliest one (the ranking comes best first, as ``decide`` reads it too), or None."""
    return next(
        (
            score.name
            for score in parse.ranking
            if score.name in taxonomy
            and taxonomy[score.name].route is Route.CRISIS
            and score.confidence >= thresholds.danger_hint
        ),
        None,
    )


@dataclass(frozen=True)
class Decision:
    route: Route
    topic: str | None
    confidence: float
    candidates: tuple[str, ...] = ()


def decide(
    parse: ParseResult,
    taxonomy: dict[str, Topic],
    thresholds: Thresholds = Thresholds(),
    *,
    after_clarification: bool = False,
) -> Decision:
    ranking = [score for score in parse.ranking if score.name in taxonomy]
    if not ranking:
        return Decision(Route.ESCALATE if after_clarification else Route.CLARIFY, None, 0.0)
    top = ranking[0]

    for score in ranking:
        if taxonomy[score.name].route is Route.CRISIS and score.confidence >= thresholds.crisis:
            if reported_instead(score.name, top, thresholds):
                return Decision(taxonomy[top.name].route, top.name, top.confidence)
            return Decision(Route.CRISIS, score.name, score.confidence)

    runner_up = ranking[1].confidence if len(ranking) > 1 else 0.0
    if top.confidence >= thresholds.answer and top.confidence - runner_up >= thresholds.margin:
        return Decision(taxonomy[top.name].route, top.name, top.confidence)

    candidates = tuple(
        score.name
        for score in ranking[: thresholds.max_candidates]
        if score.confidence >= thresholds.candidate and taxonomy[score.name].route is not Route.META
    )
    if after_clarification:
        return Decision(Route.ESCALATE, None, top.confidence)
    return Decision(Route.CLARIFY, None, top.confidence, candidates)
