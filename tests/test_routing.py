from bot.dialogue.routing import Thresholds, decide
from bot.knowledge.topics import Route
from bot.nlu.client import IntentScore, ParseResult


def parse(*ranking: tuple[str, float]) -> ParseResult:
    return ParseResult("x", tuple(IntentScore(n, c) for n, c in ranking))


def test_confident_topic_takes_its_route_from_the_taxonomy(knowledge):
    taxonomy = knowledge.taxonomy
    assert (
        decide(parse(("period_pain", 0.9), ("first_period", 0.05)), taxonomy).route is Route.ANSWER
    )
    assert decide(parse(("child_fever", 0.9)), taxonomy).route is Route.URGENT
    assert decide(parse(("ask_human", 0.8), ("greet", 0.1)), taxonomy).route is Route.HANDOFF
    assert decide(parse(("greet", 0.95)), taxonomy).route is Route.META
    assert decide(parse(("out_of_scope", 0.95)), taxonomy).route is Route.META
    decision = decide(parse(("period_pain", 0.9), ("first_period", 0.05)), taxonomy)
    assert (decision.topic, decision.confidence) == ("period_pain", 0.9)


def test_a_likely_crisis_wins_even_when_it_is_not_on_top(knowledge):
    decision = decide(parse(("period_pain", 0.5), ("self_harm_suicide", 0.35)), knowledge.taxonomy)
    assert (decision.route, decision.topic) == (Route.CRISIS, "self_harm_suicide")


def test_violence_the_classifier_is_sure_is_reported_goes_to_the_report_flow(knowledge):
    # "my daughter says her friend's mum beats her, where do we go": the report flow, which
    # opens with the danger numbers, not the crisis route; the lexicon follows the same rule
    ranking = (("report_abuse", 0.64), ("abuse_at_home", 0.34))
    decision = decide(parse(*ranking), knowledge.taxonomy)
    assert (decision.route, decision.topic) == (Route.REPORT, "report_abuse")
    # ... but not when the report is unsure, nor for a child's own danger to herself
    unsure = decide(parse(("report_abuse", 0.45), ("abuse_at_home", 0.4)), knowledge.taxonomy)
    assert (unsure.route, unsure.topic) == (Route.CRISIS, "abuse_at_home")
    self_harm = decide(
        parse(("report_abuse", 0.6), ("self_harm_suicide", 0.35)), knowledge.taxonomy
    )
    assert (self_harm.route, self_harm.topic) == (Route.CRISIS, "self_harm_suicide")


def test_an_unlikely_crisis_does_not_trigger(knowledge):
    decision = decide(parse(("period_pain", 0.8), ("self_harm_suicide", 0.1)), knowledge.taxonomy)
    assert decision.route is Route.ANSWER


def test_two_close_candidates_ask_to_clarify_with_both_as_choices(knowledge):
    decision = decide(
        parse(("period_pain", 0.45), ("first_period", 0.4), ("greet", 0.15)), knowledge.taxonomy
    )
    assert decision.route is Route.CLARIFY
    assert decision.topic is None
    assert decision.candidates == ("period_pain", "first_period")  # meta topics are not offered


def test_confident_but_not_clearly_ahead_clarifies(knowledge):
    decision = decide(parse(("period_pain", 0.56), ("first_period", 0.44)), knowledge.taxonomy)
    assert decision.route is Route.CLARIFY


def test_nothing_fitting_after_a_clarification_escalates(knowledge):
    ranking = parse(("period_pain", 0.3), ("first_period", 0.28))
    assert decide(ranking, knowledge.taxonomy).route is Route.CLARIFY
    assert decide(ranking, knowledge.taxonomy, after_clarification=True).route is Route.ESCALATE


def test_unknown_intents_are_ignored(knowledge):
    decision = decide(parse(("no_such_topic", 0.99)), knowledge.taxonomy)
    assert decision.route is Route.CLARIFY and decision.topic is None


def test_thresholds_are_one_object_that_changes_decisions(knowledge):
    ranking = parse(("period_pain", 0.45), ("first_period", 0.1))
    assert decide(ranking, knowledge.taxonomy).route is Route.CLARIFY
    assert decide(ranking, knowledge.taxonomy, Thresholds(answer=0.4)).route is Route.ANSWER
