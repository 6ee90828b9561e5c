"""The Rasa HTTP client on its own: what a slow or broken server looks like to the bot."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from bot.nlu.client import NluUnavailable, RasaClient, parse_result_from_rasa

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@contextlib.asynccontextmanager
async def client_of(handler: Handler, parse_timeout: float) -> AsyncIterator[RasaClient]:
    """A RasaClient pointed at a raw TCP server on loopback that behaves as ``handler`` says."""
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = RasaClient(f"http://127.0.0.1:{port}", timeout=parse_timeout)
    try:
        yield client
    finally:
        await client.aclose()
        server.close()


async def test_a_server_that_never_answers_times_out_as_unavailable():
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(30)  # accepts the connection, never answers

    async with client_of(silent, parse_timeout=0.3) as client:
        with pytest.raises(NluUnavailable, match="Timeout"):
            await client.parse("привет")


async def test_an_error_answer_is_unavailable_too():
    async def broken(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        writer.close()

    async with client_of(broken, parse_timeout=2) as client:
        with pytest.raises(NluUnavailable, match="500"):
            await client.parse("привет")


def test_rasa_payloads_become_rankings():
    payload = {
        "text": "x",
        "intent": {"name": "greet", "confidence": 0.9},
        "intent_ranking": [
            {"name": "greet", "confidence": 0.9},
            {"name": "out_of_scope", "confidence": 0.1},
        ],
    }
    result = parse_result_from_rasa(payload)
    assert [s.name for s in result.ranking] == ["greet", "out_of_scope"]
    only_intent = parse_result_from_rasa({"text": "x", "intent": {"name": "greet"}})
    assert only_intent.top.name == "greet" and only_intent.top.confidence == 0.0
    assert parse_result_from_rasa({"text": "x", "intent": None}).top is None


def test_self_started_servers_get_tokens_rasa_can_parse():
    """A token starting with "-" would be read by Rasa's argparse as an option (seen in CI)."""
    from pathlib import Path

    from bot.nlu.server import RasaServer

    tokens = {RasaServer(Path("rasa"), Path("model"), Path("w")).token for _ in range(200)}
    assert len(tokens) == 200
    assert not any(token.startswith("-") for token in tokens)
