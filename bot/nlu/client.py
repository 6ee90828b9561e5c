"""The HTTP client of a Rasa NLU server (``POST /model/parse``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import httpx

from bot.nlu.normalize import normalize_for_nlu


class NluUnavailable(Exception):
    """The NLU server did not answer in time or answered with an error."""


@dataclass(frozen=True)
class IntentScore:
    name: str
    confidence: float


@dataclass(frozen=True)
class ParseResult:
    text: str
    ranking: tuple[IntentScore, ...]

    @property
    def top(self) -> IntentScore | None:
        return self.ranking[0] if self.ranking else None


class NluParser(Protocol):
    async def parse(self, text: str) -> ParseResult: ...


def parse_result_from_rasa(payload: dict) -> ParseResult:
    ranking = payload.get("intent_ranking") or []
    if not ranking and payload.get("intent"):
        ranking = [payload["intent"]]
    scores = tuple(
        IntentScore(str(item["name"]), float(item.get("confidence") or 0.0))
        for item in ranking
        if item.get("name")
    )
    return ParseResult(text=str(payload.get("text", "")), ranking=scores)


class RasaClient:
    """One pooled HTTP client for the life of the process; safe to share between tasks."""

    def __init__(self, base_url: str, token: str | None = None, timeout: float = 5.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._params = {"token": token} if token else {}
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 2.0)),
            limits=httpx.Limits(max_connections=32, max_keepalive_connections=16),
        )

    async def parse(self, text: str) -> ParseResult:
        """Rank the topics of ``text``, normalised exactly as the training data was."""
        try:
            response = await self._http.post(
                "/model/parse", params=self._params, json={"text": normalize_for_nlu(text)}
            )
            response.raise_for_status()
            return parse_result_from_rasa(response.json())
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            raise NluUnavailable(f"{type(exc).__name__}: {exc}") from exc

    async def is_ready(self) -> bool:
        try:
            response = await self._http.get("/status", params=self._params)
        except httpx.HTTPError:
            return False
        return response.status_code == 200 and bool(response.json().get("model_file"))

    async def aclose(self) -> None:
        await self._http.aclose()
