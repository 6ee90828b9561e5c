"""What the core remembers about one user between messages (stored as JSON)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

from bot.languages import Language, parse_language


@dataclass
class ConversationState:
    language: Language | None = None  # chosen by the user
    audience: str | None = None  # "teen" | "parent", chosen by the user
    awaiting: str | None = None  # "language" | "audience" | "clarify"
    candidates: list[str] = field(default_factory=list)  # topics offered in a clarification
    pending_question: str = ""  # the text that led to the clarification
    last_topic: str | None = None
    last_language: Language | None = None  # language of the last reply
    recent: list[int] = field(default_factory=list)  # when the last messages came (epoch s)
    slowed: bool = False  # told to slow down in the current minute
    auto_clear: int | None = None  # discreet mode: minutes after which messages are deleted
    report: dict = field(default_factory=dict)  # the anonymous report being written, until sent

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict | None) -> ConversationState:
        if not data:
            return cls()
        known = {f.name for f in fields(cls)}
        state = cls(**{k: v for k, v in data.items() if k in known})
        state.language = parse_language(state.language)
        state.last_language = parse_language(state.last_language)
        if state.audience not in ("teen", "parent"):
            state.audience = None
        return state
