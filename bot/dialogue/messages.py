"""What goes into the core and what comes out: plain data, no transport types."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from bot.knowledge.topics import Route
from bot.languages import Language


class Command(StrEnum):
    START = "start"
    HELP = "help"
    LANGUAGE = "language"
    AUDIENCE = "audience"
    CONSULTANT = "consultant"
    PRIVACY = "privacy"
    FORGET = "forget"
    CLEAR = "clear"
    REPORT = "report"
    CANCEL = "cancel"


@dataclass(frozen=True)
class Incoming:
    """One thing a user did: typed text, pressed a button (``action``) or sent a command."""

    user: str  # the pseudonym, never a channel id
    text: str = ""
    action: str | None = None
    command: Command | None = None
    client_language: str | None = None  # e.g. Telegram's language_code: a hint, not a choice
    unsupported: bool = False  # a sticker, photo, voice note...: something we cannot read yet


@dataclass(frozen=True)
class Button:
    label: str
    action: str


@dataclass(frozen=True)
class Reply:
    text: str
    buttons: tuple[Button, ...] = ()


class Priority(StrEnum):
    NORMAL = "normal"
    URGENT = "urgent"
    CRISIS = "crisis"


@dataclass(frozen=True)
class OpenTicket:
    """An intention for the escalation service: hand this conversation to a consultant."""

    priority: Priority
    language: Language
    audience: str | None
    topic: str | None
    question: str


@dataclass(frozen=True)
class TicketActivity:
    """Something changed in a ticket (opened, written to, withdrawn): the consultants'
    workspace should deliver what is pending now rather than at its next round."""

    number: str


@dataclass(frozen=True)
class ClearChat:
    """Delete this conversation from the user's chat (both sides, as far as the channel
    allows), before the replies of this turn are sent."""


@dataclass(frozen=True)
class SetAutoClear:
    minutes: int | None  # None: off


Effect = OpenTicket | TicketActivity | ClearChat | SetAutoClear


@dataclass(frozen=True)
class Outcome:
    language: Language
    replies: list[Reply]
    route: Route | None = None  # None: not a routing decision (onboarding, feedback, NLU down)
    topic: str | None = None
    confidence: float | None = None
    effects: list[Effect] = field(default_factory=list)
    nlu_unavailable: bool = False
