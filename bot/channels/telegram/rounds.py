"""A background round repeated until the bot stops: outboxes, auto-clear, retention."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from telegram.error import TelegramError

from bot.storage.errors import StorageUnavailable

log = logging.getLogger(__name__)


async def repeat(
    round_: Callable[[], Awaitable[None]],
    interval: float,
    stop: asyncio.Event,
    kick: asyncio.Event | None = None,
    *,
    name: str,
) -> None:
    """Run ``round_`` every ``interval`` seconds, or at once when ``kick`` is set. A failing
    database or Telegram only skips a round: the next one retries (outboxes keep their rows)."""
    while not stop.is_set():
        try:
            await round_()
        except StorageUnavailable as exc:
            log.warning("%s round skipped: %s", name, exc)
        except TelegramError as exc:
            log.warning("%s round interrupted: %s", name, type(exc).__name__)
        waits = [stop.wait()] if kick is None else [stop.wait(), kick.wait()]
        if kick is not None:
            kick.clear()
        tasks = [asyncio.ensure_future(w) for w in waits]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait(tasks, timeout=interval, return_when=asyncio.FIRST_COMPLETED)
        for task in tasks:
            task.cancel()
