"""A scripted NLU for unit tests of the core. Integration tests use the real Rasa server."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.nlu.client import IntentScore, NluUnavailable, ParseResult


@dataclass
class ScriptedNlu:
    """Returns the ranking registered for a text; unknown texts rank out_of_scope low."""

    rankings: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
    down: bool = False
    seen: list[str] = field(default_factory=list)

    def on(self, text: str, *ranking: tuple[str, float]) -> ScriptedNlu:
        self.rankings[text] = list(ranking)
        return self

    async def parse(self, text: str) -> ParseResult:
        self.seen.append(text)
        if self.down:
            raise NluUnavailable("ConnectError: scripted outage")
        ranking = self.rankings.get(text, [("out_of_scope", 0.2), ("greet", 0.15)])
        return ParseResult(text, tuple(IntentScore(n, c) for n, c in ranking))
