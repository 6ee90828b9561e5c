"""The conversation engine: one incoming message in, what to say and do out.

It knows no transport. Channels turn their updates into ``Incoming`` and carry out ``Outcome``.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from bot.dialogue.compose import Composer
from bot.dialogue.messages import (
    ClearChat,
    Command,
    Incoming,
    OpenTicket,
    Outcome,
    Priority,
    Reply,
    SetAutoClear,
    TicketActivity,
)
from bot.dialogue.report_flow import TEXT_STEPS, ReportFlow
from bot.dialogue.routing import (
    REPORT_TOPIC,
    REPORTABLE,
    Decision,
    Thresholds,
    decide,
    leaning_crisis,
    reported_instead,
)
from bot.dialogue.state import ConversationState
from bot.i18n import Catalogs, Translator
from bot.knowledge.base import KnowledgeBase
from bot.knowledge.topics import Route
from bot.languages import FALLBACK_LANGUAGE, Language, parse_language
from bot.nlu.client import NluParser, NluUnavailable, ParseResult
from bot.nlu.language import detect_language
from bot.nlu.text import MESSAGE_MAX_CHARS, NLU_MAX_CHARS, clean_text, message_parts
from bot.safety.crisis import CrisisLexicon, CrisisMatch
from bot.storage.errors import StorageUnavailable
from bot.storage.repository import LoggedMessage

if TYPE_CHECKING:
    from bot.escalation.desk import TicketDesk
    from bot.safety.reports import ReportDesk
    from bot.storage.tickets import TicketRecord

log = logging.getLogger(__name__)

TICKET_PRIORITY = {Route.CRISIS: Priority.CRISIS, Route.URGENT: Priority.URGENT}
RATE_WINDOW_S = 60
AUTO_CLEAR_CHOICES = {"auto:15": 15, "auto:60": 60, "auto:off": None}
CONTEXT_LINES = 6  # messages before a hand-over that go to the consultant with the question
CONTEXT_CHARS = 300


def _crisis(match: CrisisMatch) -> Decision:
    return Decision(Route.CRISIS, match.topic, 1.0)


class ConversationStore(Protocol):
    async def load_state(self, pseudonym: str) -> dict | None: ...
    async def save_turn(
        self,
        pseudonym: str,
        state: dict,
        *,
        language: str | None,
        audience: str | None,
        messages: Sequence[LoggedMessage] = ...,
    ) -> None: ...
    async def forget(self, pseudonym: str) -> None: ...
    async def record_feedback(
        self, pseudonym: str, *, topic: str, revision: int, language: str, helpful: bool
    ) -> None: ...
    async def recent_messages(self, pseudonym: str, limit: int = 20) -> list[LoggedMessage]: ...


@dataclass
class _Turn:
    """Working memory of one ``handle`` call."""

    incoming: Incoming
    state: ConversationState
    tr: Translator
    replies: list[Reply] = field(default_factory=list)
    effects: list[OpenTicket | TicketActivity] = field(default_factory=list)
    ticket: TicketRecord | None = None  # the user's active ticket, if any
    decision: Decision | None = None
    topic: str | None = None
    nlu_unavailable: bool = False
    forgotten: bool = False  # the user's rows are gone: nothing may be written back
    private: bool = False  # a report turn: its words are never written to the conversation log
    # The full crisis check's verdict, once made (the flood check, then the path the message
    # takes): a classifier-only crisis costs one parse per part, so it is not made twice.
    crisis_checked: bool = False
    crisis: CrisisMatch | None = None


@dataclass
class Engine:
    knowledge: KnowledgeBase
    nlu: NluParser
    catalogs: Catalogs
    store: ConversationStore | None = None
    thresholds: Thresholds = field(default_factory=Thresholds)
    consultants_available: bool = False
    crisis: CrisisLexicon | None = None  # runs before the NLU on every message
    desk: TicketDesk | None = None  # tickets for consultants; None: not connected
    report_desk: ReportDesk | None = None  # anonymous reports; None: no agency connected
    rate_limit: int = 20  # messages a minute before a slow-down notice (crisis never waits)
    clock: Callable[[], dt.datetime] = field(default=lambda: dt.datetime.now(dt.UTC))

    @property
    def handoff_available(self) -> bool:
        return self.desk is not None or self.consultants_available

    def __post_init__(self) -> None:
        self.compose = Composer(self.knowledge)
        self.report_flow = ReportFlow(self.report_desk, self.knowledge.helplines)

    # --- language -----------------------------------------------------------------------------
    def reply_language(
        self, text: str, state: ConversationState, client_language: str | None
    ) -> Language:
        """A message's own language wins when it is clear (a Kazakh message gets a Kazakh answer
        even if the user chose Russian); then the chosen one, the one we last spoke, a weak
        guess from the text, the client's language, and finally the fallback."""
        detected = detect_language(text) if text else None
        guess = detected.language if detected else None
        if guess and detected and detected.confident:
            return guess
        return (
            state.language
            or state.last_language
            or guess
            or parse_language(client_language)
            or FALLBACK_LANGUAGE
        )

    # --- the decision, shared with `syrlas classify` ------------------------------------------
    async def classify(
        self, text: str, language: Language | None = None
    ) -> tuple[Language, Decision]:
        """What the bot would do with ``text`` as the first message of a conversation."""
        cleaned = clean_text(text)
        lang = language or self.reply_language(cleaned, ConversationState(), None)
        if not cleaned:
            return lang, Decision(Route.CLARIFY, None, 0.0)
        if match := self.crisis_match(cleaned):
            language = language or self._crisis_language(cleaned, match, ConversationState(), None)
            return language, await self._lexicon_decision(cleaned, match)
        return lang, await self.decide_message(cleaned, await self.nlu.parse(cleaned))

    def decide(self, parse: ParseResult, *, after_clarification: bool = False) -> Decision:
        return decide(
            parse, self.knowledge.taxonomy, self.thresholds, after_clarification=after_clarification
        )

    def crisis_match(self, text: str) -> CrisisMatch | None:
        """The crisis lexicon's verdict, which no classifier result can overrule."""
        return self.crisis.match(text) if self.crisis else None

    def crisis_decision(self, text: str, parse: ParseResult | None = None) -> Decision | None:
        """The lexicon's decision; with the classifier's parse, a report about someone else's
        child goes to the report flow (which starts with the danger numbers) instead."""
        match = self.crisis_match(text)
        if match is None:
            return None
        if parse is not None and self._is_report(match, parse):
            return Decision(Route.REPORT, REPORT_TOPIC, parse.top.confidence)
        return _crisis(match)

    async def crisis_check(
        self, text: str, state: ConversationState, client_language: str | None
    ) -> CrisisMatch | None:
        """The full crisis check for a message that does not go on to the NLU's routing (a
        conversation held by a consultant, a report being written, a flood): the lexicon, then
        the classifier's crisis topics. The parse only decides this; nothing is answered from it.
        """
        if match := self.crisis_match(text):
            return match
        try:
            parse = await self.nlu.parse(text[:NLU_MAX_CHARS])
        except NluUnavailable:
            return None  # the lexicon has already spoken; a person reads a held conversation
        decision = await self.decide_message(text, parse)
        if decision.route is not Route.CRISIS or decision.topic is None:
            return None
        return CrisisMatch(decision.topic, self.reply_language(text, state, client_language))

    async def decide_message(
        self,
        text: str,
        parse: ParseResult,
        *,
        after_clarification: bool = False,
        nlu: NluParser | None = None,
    ) -> Decision:
        """The decision on a whole message's parse, unless one of its parts is a crisis."""
        decision = self.decide(parse, after_clarification=after_clarification)
        if decision.route is Route.CRISIS:
            return decision
        return await self.crisis_in_parts(text, nlu) or decision

    async def crisis_in_parts(self, text: str, nlu: NluParser | None = None) -> Decision | None:
        """A crisis topic in one sentence (or window) of a message of several: a cry for help
        at the end of a long story about school is outweighed by the story in the whole parse.
        Only crisis is taken from the parts; everything else is decided on the whole message."""
        for part in message_parts(text):
            try:
                parse = await (nlu or self.nlu).parse(part)
            except NluUnavailable:
                return None
            decision = self.decide(parse)
            if decision.route is Route.CRISIS:
                return decision
        return None

    def danger_hint_for(self, decision: Decision, parse: ParseResult) -> str | None:
        """The crisis topic whose danger numbers the reply to a message decided this way
        carries on top, if any: not for a crisis or a report (those open with the numbers
        already), but for a message close to one."""
        if decision.route in (Route.CRISIS, Route.REPORT):
            return None
        return leaning_crisis(parse, self.knowledge.taxonomy, self.thresholds)

    def _is_crisis_topic(self, topic_id: str) -> bool:
        topic = self.knowledge.topic(topic_id)
        return topic is not None and topic.route is Route.CRISIS

    def _is_report(self, match: CrisisMatch, parse: ParseResult) -> bool:
        return reported_instead(match.topic, parse.top, self.thresholds)

    async def _lexicon_decision(self, text: str, match: CrisisMatch) -> Decision:
        """Crisis, unless the classifier is sure the message reports violence against another
        child (then the report flow, numbers first). Without the classifier: crisis."""
        if match.topic not in REPORTABLE:
            return _crisis(match)
        try:
            parse = await self.nlu.parse(text)
        except NluUnavailable:
            return _crisis(match)
        return (
            Decision(Route.REPORT, REPORT_TOPIC, 1.0)
            if self._is_report(match, parse)
            else (_crisis(match))
        )

    def _crisis_language(
        self, text: str, match: CrisisMatch, state: ConversationState, client: str | None
    ) -> Language:
        """For a crisis, the language of the phrase that matched beats a weak guess."""
        if not detect_language(text).confident:
            return match.language
        return self.reply_language(text, state, client)

    # --- one message --------------------------------------------------------------------------
    async def handle(self, incoming: Incoming) -> Outcome:
        state = await self._load(incoming.user)
        if incoming.text and not incoming.action and not incoming.command:
            language = self.reply_language(
                clean_text(incoming.text), state, incoming.client_language
            )
        else:
            language = (
                state.language
                or state.last_language
                or parse_language(incoming.client_language)
                or FALLBACK_LANGUAGE
            )
        turn = _Turn(incoming, state, self.catalogs(language))
        turn.ticket = await self._active_ticket(incoming.user)

        too_fast = await self._too_fast(turn)
        if too_fast:
            pass
        elif incoming.unsupported:
            turn.replies.append(self.compose.unsupported(turn.tr))
        elif incoming.command is Command.REPORT:
            await self._on_report_command(turn)
        elif (
            incoming.command is Command.CANCEL
            and state.awaiting
            and state.awaiting.startswith("report:")
        ):
            turn.private = True
            turn.replies += self.report_flow.cancel(state, turn.tr)
        elif incoming.command is not None:
            self._on_command(turn, incoming.command)
        elif incoming.action:
            await self._on_action(turn, incoming.action)
        elif state.awaiting and state.awaiting.startswith("report:"):
            await self._on_report_text(turn)
        elif turn.ticket is not None:
            await self._on_text_in_ticket(turn, turn.ticket)
        else:
            await self._on_text(turn)
        if (
            not too_fast
            and incoming.text
            and not incoming.action
            and not incoming.command
            and len(clean_text(incoming.text, limit=MESSAGE_MAX_CHARS + 1)) > MESSAGE_MAX_CHARS
        ):
            turn.replies.append(self.compose.truncated(turn.tr, MESSAGE_MAX_CHARS))

        await self._open_tickets(turn)
        state.last_language = turn.tr.language
        await self._save(turn)
        decision = turn.decision
        return Outcome(
            language=turn.tr.language,
            replies=turn.replies,
            route=decision.route if decision else None,
            topic=turn.topic if turn.topic else (decision.topic if decision else None),
            confidence=decision.confidence if decision else None,
            effects=turn.effects,
            nlu_unavailable=turn.nlu_unavailable,
        )

    def _on_command(self, turn: _Turn, command: Command) -> None:
        state, tr = turn.state, turn.tr
        if command is Command.START:
            turn.replies.append(self.compose.welcome(tr))
            if state.language is None:
                state.awaiting = "language"
                turn.replies.append(
                    self.compose.choose_language(tr, parse_language(turn.incoming.client_language))
                )
            elif state.audience is None:
                state.awaiting = "audience"
                turn.replies.append(self.compose.choose_audience(tr))
            else:
                turn.replies.append(self.compose.ready(tr))
        elif command is Command.LANGUAGE:
            state.awaiting = "language"
            turn.replies.append(self.compose.choose_language(tr, state.language))
        elif command is Command.AUDIENCE:
            state.awaiting = "audience"
            turn.replies.append(self.compose.choose_audience(tr))
        elif command is Command.CONSULTANT and turn.ticket is not None:
            turn.replies.append(self.compose.ticket_already_open(tr, turn.ticket.number))
        elif command is Command.CONSULTANT:
            self._hand_over(turn, Route.HANDOFF, None, turn.incoming.text)
        elif command is Command.PRIVACY:
            self._answer_topic(turn, Decision(Route.META, "privacy", 1.0))
        elif command is Command.CLEAR:
            turn.replies.append(self.compose.discreet_menu(tr, state.auto_clear))
        elif command is Command.FORGET:
            turn.replies.append(self.compose.forget_confirm(tr))
        elif command is Command.CANCEL and turn.ticket is not None:
            turn.replies.append(self.compose.withdraw_confirm(tr, turn.ticket.number))
        elif command is Command.CANCEL:
            state.awaiting, state.candidates, state.pending_question = None, [], ""
            turn.replies.append(self.compose.cancelled(tr))
        else:
            turn.replies.append(self.compose.help(tr))

    async def _on_action(self, turn: _Turn, action: str) -> None:
        state = turn.state
        kind, _, arg = action.partition(":")
        if kind == "lang" and (language := parse_language(arg)):
            state.language = language
            turn.tr = self.catalogs(language)
            if state.audience is None:
                state.awaiting = "audience"
                turn.replies.append(self.compose.choose_audience(turn.tr))
            else:
                state.awaiting = None
                turn.replies.append(self.compose.ready(turn.tr))
        elif kind == "aud" and arg in ("teen", "parent"):
            state.audience, state.awaiting = arg, None
            turn.replies.append(self.compose.ready(turn.tr))
        elif kind == "topic" and arg in self.knowledge.contents:
            self._answer_topic(turn, Decision(self.knowledge.taxonomy[arg].route, arg, 1.0))
        elif kind == "more" and (reply := self.compose.more(arg, turn.tr, state.audience)):
            turn.replies.append(reply)
        elif kind == "fb":
            await self._feedback(turn, arg)
        elif kind == "human":
            self._hand_over(turn, Route.HANDOFF, state.last_topic, state.pending_question)
        elif kind == "unsafe" and self._is_crisis_topic(arg):
            # "I'm not safe" under a safety-net answer: the crisis the classifier half saw,
            # with the numbers first and a crisis ticket carrying the message it was about
            state.awaiting = None
            self._answer_topic(turn, Decision(Route.CRISIS, arg, 1.0))
        elif kind == "forget" and arg == "yes":
            await self._forget(turn)
        elif kind == "forget":
            turn.replies.append(self.compose.not_forgotten(turn.tr))
        elif kind == "none":
            self._hand_over(turn, Route.ESCALATE, None, state.pending_question)
        elif kind == "clear" and arg == "now":
            turn.private = True  # nothing of a cleared chat is worth logging
            turn.effects.append(ClearChat())
            turn.replies.append(self.compose.cleared(turn.tr))
        elif kind == "clear" and arg in AUTO_CLEAR_CHOICES:
            state.auto_clear = AUTO_CLEAR_CHOICES[arg]
            turn.effects.append(SetAutoClear(state.auto_clear))
            turn.replies.append(self.compose.auto_clear_set(turn.tr, state.auto_clear))
        elif kind == "rf":
            await self._on_report_action(turn, arg)
        elif kind in ("withdraw", "rate", "reopen") and self.desk is not None:
            await self._on_ticket_action(turn, kind, arg)
        else:  # an old or forged button: say so kindly and carry on
            turn.replies.append(self.compose.help(turn.tr))

    async def _on_text(self, turn: _Turn) -> None:
        whole = clean_text(turn.incoming.text, limit=MESSAGE_MAX_CHARS)  # for the crisis checks
        text = whole[:NLU_MAX_CHARS]  # what the classifier routes on
        if not text:
            turn.replies.append(self.compose.empty(turn.tr))
            return
        after_clarification = turn.state.awaiting == "clarify"
        if match := self.crisis_match(whole):  # before the NLU, and even when it is down
            turn.state.awaiting, turn.state.pending_question = None, text
            turn.tr = self.catalogs(
                self._crisis_language(text, match, turn.state, turn.incoming.client_language)
            )
            self._answer_topic(turn, await self._lexicon_decision(text, match))
            return
        if turn.crisis is not None:  # the flood check found it (the classifier): not again
            turn.state.awaiting, turn.state.pending_question = None, text
            self._answer_topic(turn, _crisis(turn.crisis))
            return
        try:
            parse = await self.nlu.parse(text)
        except NluUnavailable as exc:
            log.warning("nlu unavailable: %s", exc)
            turn.nlu_unavailable = True
            turn.state.pending_question = text
            turn.replies.append(self.compose.nlu_down(turn.tr))
            return
        decision = await self.decide_message(whole, parse, after_clarification=after_clarification)
        turn.state.awaiting = None
        first = len(turn.replies)
        if decision.route is Route.CLARIFY:
            turn.decision = decision
            turn.state.awaiting, turn.state.candidates = "clarify", list(decision.candidates)
            turn.state.pending_question = text
            turn.replies.append(self.compose.clarify(decision.candidates, turn.tr))
        elif decision.route is Route.ESCALATE:
            question = "\n".join(filter(None, [turn.state.pending_question, text]))
            self._hand_over(turn, Route.ESCALATE, None, question, decision)
        else:
            turn.state.pending_question = text
            self._answer_topic(turn, decision)
        if len(turn.replies) > first and (leaning := self.danger_hint_for(decision, parse)):
            turn.replies[first] = self.compose.with_danger_hint(
                turn.replies[first], turn.tr, leaning
            )

    def _answer_topic(self, turn: _Turn, decision: Decision) -> None:
        topic_id = decision.topic
        assert topic_id is not None
        if decision.route is Route.REPORT:
            self._start_report(turn, decision)
            return
        turn.decision, turn.topic = decision, topic_id
        turn.state.last_topic, turn.state.candidates = topic_id, []
        reply = self.compose.topic_answer(topic_id, decision.route, turn.tr, turn.state.audience)
        if decision.route is Route.HANDOFF:
            if reply:
                turn.replies.append(reply)
            self._hand_over(
                turn,
                Route.HANDOFF,
                topic_id,
                turn.state.pending_question,
                decision,
                announce=reply is None,
            )
            return
        if reply is None:  # a topic the NLU knows but nobody has written yet: a person answers
            self._hand_over(turn, Route.ESCALATE, topic_id, turn.state.pending_question, decision)
            return
        turn.replies.append(reply)
        if decision.route in TICKET_PRIORITY and self.handoff_available:
            turn.effects.append(
                self._ticket(
                    turn, TICKET_PRIORITY[decision.route], topic_id, turn.state.pending_question
                )
            )

    def _hand_over(
        self,
        turn: _Turn,
        route: Route,
        topic: str | None,
        question: str,
        decision: Decision | None = None,
        *,
        announce: bool = True,
    ) -> None:
        turn.decision = decision or Decision(route, topic, 1.0)
        turn.topic = topic
        if self.handoff_available:
            turn.effects.append(self._ticket(turn, Priority.NORMAL, topic, question))
        if self.desk is not None:
            return  # the receipt (number, when to expect an answer) is the announcement
        if announce or not self.handoff_available:
            turn.replies.append(self.compose.handed_over(turn.tr, available=self.handoff_available))

    def _ticket(
        self, turn: _Turn, priority: Priority, topic: str | None, question: str
    ) -> OpenTicket:
        return OpenTicket(
            priority=priority,
            language=turn.tr.language,
            audience=turn.state.audience,
            topic=topic,
            question=question,
        )

    async def _too_fast(self, turn: _Turn) -> bool:
        """Over the per-user limit: one gentle notice, then silence until the minute passes.
        A crisis is always answered, and a person holding the conversation still gets it."""
        state, now = turn.state, int(self.clock().timestamp())
        state.recent = [t for t in state.recent if now - t < RATE_WINDOW_S][-self.rate_limit :]
        state.recent.append(now)
        if len(state.recent) <= self.rate_limit:
            state.slowed = False
            return False
        if turn.ticket is not None:
            return False
        text = clean_text(turn.incoming.text, limit=MESSAGE_MAX_CHARS) if turn.incoming.text else ""
        if text and await self._turn_crisis(turn, text):
            return False
        if not state.slowed:
            state.slowed = True
            turn.replies.append(self.compose.slow_down(turn.tr))
        return True

    async def _turn_crisis(self, turn: _Turn, text: str) -> CrisisMatch | None:
        """``crisis_check`` on this turn's (cleaned, whole) text, made at most once per turn."""
        if not turn.crisis_checked:
            turn.crisis = await self.crisis_check(text, turn.state, turn.incoming.client_language)
            turn.crisis_checked = True
        return turn.crisis

    # --- anonymous reports ------------------------------------------------------------------
    def _start_report(self, turn: _Turn, decision: Decision) -> None:
        turn.private = True
        turn.decision, turn.topic = decision, decision.topic
        turn.replies += self.report_flow.start(turn.state, turn.tr)

    async def _on_report_command(self, turn: _Turn) -> None:
        turn.private = True
        replies = await self.report_flow.command(turn.incoming.text, turn.tr)
        if replies is None:
            self._start_report(turn, Decision(Route.REPORT, "report_abuse", 1.0))
        else:
            turn.replies += replies

    async def _on_report_action(self, turn: _Turn, arg: str) -> None:
        turn.private = True
        state = turn.state
        if not (state.awaiting or "").startswith("report:"):
            turn.replies.append(self.compose.help(turn.tr))  # an old button of a sent report
            return
        step, _, value = arg.partition(":")
        if step == "cancel":
            turn.replies += self.report_flow.cancel(state, turn.tr)
        elif step == "skip":
            turn.replies += await self.report_flow.answer(state, turn.tr, None)
        elif state.awaiting == f"report:{step}" and value:
            turn.replies += await self.report_flow.answer(state, turn.tr, value)
        else:  # a button of an earlier step: ask the current question again
            turn.replies.append(
                self.report_flow.ask(state.awaiting.removeprefix("report:"), turn.tr)
            )

    async def _on_report_text(self, turn: _Turn) -> None:
        """A typed answer (for a button step too: "my friend", "Karaganda" are answers). The
        crisis check still runs first: someone writing a report may be in danger themselves."""
        turn.private = True
        text = clean_text(turn.incoming.text, limit=MESSAGE_MAX_CHARS)
        if not text:
            turn.replies.append(self.compose.empty(turn.tr))
            return
        match = await self._turn_crisis(turn, text)
        if match is not None and match.topic == "self_harm_suicide":
            turn.replies.append(self.compose.crisis_in_report(turn.tr))
        step = (turn.state.awaiting or "").removeprefix("report:")
        if step not in TEXT_STEPS and step == "where":
            turn.state.awaiting = "report:place"  # a typed place answers both questions
        turn.replies += await self.report_flow.answer(turn.state, turn.tr, text)

    # --- tickets ------------------------------------------------------------------------------
    async def _active_ticket(self, user: str) -> TicketRecord | None:
        if self.desk is None:
            return None
        try:
            return await self.desk.active(user)
        except StorageUnavailable as exc:
            log.warning("ticket not loaded: %s", exc)
            return None

    async def _on_text_in_ticket(self, turn: _Turn, ticket: TicketRecord) -> None:
        """A person holds (or is about to hold) this conversation: the text goes to them and
        the bot does not answer it. The crisis check (lexicon and classifier) still comes first,
        and its numbers are shown at once."""
        assert self.desk is not None
        text = clean_text(turn.incoming.text, limit=MESSAGE_MAX_CHARS)
        if not text:
            turn.replies.append(self.compose.empty(turn.tr))
            return
        match = await self._turn_crisis(turn, text)
        if match is not None:
            turn.tr = self.catalogs(
                self._crisis_language(text, match, turn.state, turn.incoming.client_language)
            )
            turn.decision, turn.topic = _crisis(match), match.topic
            turn.replies.append(self.compose.crisis_during_ticket(turn.tr))
        try:
            await self.desk.user_wrote(ticket, text, crisis=match is not None)
        except StorageUnavailable as exc:
            log.warning("ticket message not stored: %s", exc)
            turn.replies.append(self.compose.ticket_write_failed(turn.tr))
            return
        turn.effects.append(TicketActivity(ticket.number))
        if ticket.waiting and match is None:
            turn.replies.append(self.compose.added_to_ticket(turn.tr, ticket.number))
        # Held by a person: the bot stays quiet.

    async def _on_ticket_action(self, turn: _Turn, kind: str, arg: str) -> None:
        assert self.desk is not None
        tr = turn.tr
        try:
            if kind == "withdraw":
                if arg == "ask" and turn.ticket is not None:
                    turn.replies.append(self.compose.withdraw_confirm(tr, turn.ticket.number))
                elif arg == "yes" and turn.ticket is not None:
                    await self.desk.withdraw(turn.ticket)
                    turn.effects.append(TicketActivity(turn.ticket.number))
                    turn.replies.append(self.compose.withdrawn(tr, turn.ticket.number))
                    turn.ticket = None
                else:
                    turn.replies.append(self.compose.not_withdrawn(tr))
            elif kind == "rate":
                number, _, stars = arg.partition(":")
                ok = stars.isdigit() and await self.desk.rate(
                    turn.incoming.user, number, int(stars)
                )
                turn.replies.append(
                    self.compose.rated(tr) if ok else self.compose.rated_already(tr)
                )
            elif kind == "reopen":
                receipt = await self.desk.reopen(turn.incoming.user, arg)
                if receipt is None:
                    turn.replies.append(self.compose.cannot_reopen(tr))
                else:
                    turn.effects.append(TicketActivity(receipt.number))
                    turn.replies.append(self.compose.waiting(tr, receipt))
        except StorageUnavailable as exc:
            log.warning("ticket action failed: %s", exc)
            turn.replies.append(self.compose.ticket_write_failed(tr))

    async def _context(self, user: str) -> list[tuple[str, str]]:
        """The last few lines before the hand-over, so the consultant need not ask again."""
        if self.store is None:
            return []
        try:
            recent = await self.store.recent_messages(user, CONTEXT_LINES)
        except StorageUnavailable:
            return []
        return [("user" if m.direction == "in" else "bot", m.text[:CONTEXT_CHARS]) for m in recent]

    async def _open_tickets(self, turn: _Turn) -> None:
        """Carry out the hand-over intentions of this turn (the desk stores; the workspace
        announces), and tell the user their number and when to expect an answer."""
        if self.desk is None:
            return
        requests = [e for e in turn.effects if isinstance(e, OpenTicket)]
        for request in requests[:1]:  # one ticket per turn is enough
            try:
                receipt = await self.desk.open(
                    turn.incoming.user, request, await self._context(turn.incoming.user)
                )
            except StorageUnavailable as exc:
                log.warning("ticket not opened: %s", exc)
                turn.replies.append(self.compose.ticket_open_failed(turn.tr))
                continue
            turn.effects.append(TicketActivity(receipt.number))
            turn.replies.append(self.compose.waiting(turn.tr, receipt))

    async def _forget(self, turn: _Turn) -> None:
        if self.store is not None:
            try:
                await self.store.forget(turn.incoming.user)
            except StorageUnavailable as exc:
                log.warning("forget failed: %s", exc)
                turn.replies.append(self.compose.forget_failed(turn.tr))
                return
        turn.forgotten = True
        turn.replies.append(self.compose.forgotten(turn.tr))

    async def _feedback(self, turn: _Turn, arg: str) -> None:
        topic, _, rest = arg.partition(":")
        revision, _, value = rest.partition(":")
        if topic not in self.knowledge.contents or not revision.isdigit() or value not in "01":
            turn.replies.append(self.compose.help(turn.tr))
            return
        if self.store is not None:
            try:
                await self.store.record_feedback(
                    turn.incoming.user,
                    topic=topic,
                    revision=int(revision),
                    language=turn.tr.language,
                    helpful=value == "1",
                )
            except StorageUnavailable as exc:
                log.warning("feedback not stored: %s", exc)
        turn.replies.append(self.compose.feedback_thanks(turn.tr))

    # --- storage, never fatal: a locked database must not silence the bot ---------------------
    async def _load(self, user: str) -> ConversationState:
        if self.store is None:
            return ConversationState()
        try:
            return ConversationState.from_dict(await self.store.load_state(user))
        except StorageUnavailable as exc:
            log.warning("state not loaded: %s", exc)
            return ConversationState()

    async def _save(self, turn: _Turn) -> None:
        if self.store is None or turn.forgotten:
            return
        if turn.private:  # a report: the state (without the sent draft) only, never the words
            try:
                await self.store.save_turn(
                    turn.incoming.user,
                    turn.state.to_dict(),
                    language=turn.state.language,
                    audience=turn.state.audience,
                )
            except StorageUnavailable as exc:
                log.warning("state not stored: %s", exc)
            return
        state, user = turn.state, turn.incoming.user
        logged = (
            [
                LoggedMessage(
                    "in", clean_text(turn.incoming.text, limit=MESSAGE_MAX_CHARS), turn.topic, None
                )
            ]
            if turn.incoming.text
            else []
        )
        route = turn.decision.route.value if turn.decision else None
        logged += [LoggedMessage("out", reply.text, turn.topic, route) for reply in turn.replies]
        try:
            await self.store.save_turn(
                user,
                state.to_dict(),
                language=state.language,
                audience=state.audience,
                messages=logged,
            )
        except StorageUnavailable as exc:
            log.warning("conversation not stored: %s", exc)
