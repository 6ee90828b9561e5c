"""``syrlas classify``: JSONL in, JSONL out, the same decision the chat makes (CONTRACT.md)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TextIO

from bot.dialogue.engine import Engine
from bot.languages import parse_language

# Requests in flight at once: enough to hide HTTP latency, few enough to keep order cheap.
CONCURRENCY = 16


@dataclass(frozen=True)
class ClassifyError:
    line: int
    reason: str


def _request(raw: str) -> tuple[str, str | None]:
    data = json.loads(raw)
    if not isinstance(data, dict) or not isinstance(data.get("text"), str):
        raise ValueError('each line must be an object with a "text" string')
    lang = data.get("lang")
    if lang is not None and (
        not isinstance(lang, str) or parse_language(lang) is None or len(lang) != 2
    ):
        raise ValueError('"lang" must be one of kk, ru, en')
    return data["text"], lang


async def _one(engine: Engine, raw: str) -> dict:
    text, lang = _request(raw)
    language, decision = await engine.classify(text, parse_language(lang))
    return {
        "text": text,
        "lang": language.value,
        "topic": decision.topic,
        "confidence": round(decision.confidence, 4),
        "route": decision.route.value,
    }


async def classify_lines(engine: Engine, lines: Iterable[str], out: TextIO) -> list[ClassifyError]:
    """Write one output line per non-blank input line, in order. A bad line gets an
    ``{"error": ...}`` line in its place so outputs stay aligned; errors are also returned."""
    errors: list[ClassifyError] = []
    batch: list[tuple[int, str]] = []

    async def flush() -> None:
        results = await asyncio.gather(
            *(_one(engine, raw) for _, raw in batch), return_exceptions=True
        )
        for (number, raw), result in zip(batch, results, strict=True):
            if isinstance(result, ValueError):  # includes json.JSONDecodeError
                errors.append(ClassifyError(number, str(result)))
                result = {"error": str(result), "line": number, "input": raw[:200]}
            elif isinstance(result, BaseException):
                raise result
            out.write(json.dumps(result, ensure_ascii=False) + "\n")
        out.flush()
        batch.clear()

    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        batch.append((number, raw))
        if len(batch) >= CONCURRENCY:
            await flush()
    if batch:
        await flush()
    return errors
