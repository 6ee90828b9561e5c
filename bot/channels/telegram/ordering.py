"""Concurrency without reordering: updates of different chats run in parallel, one chat's
updates run one after another in the order Telegram sent them."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor


def _chat_key(update: object) -> int | None:
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return update.effective_chat.id
    return update.effective_user.id if update.effective_user else None


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """A slow NLU call for one user never stalls the others; one user's messages stay in order."""

    def __init__(self, max_concurrent_updates: int = 256) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._waiting: dict[int, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = _chat_key(update)
        if key is None:
            await coroutine
            return
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._waiting[key] = self._waiting.get(key, 0) + 1
        try:
            async with lock:  # asyncio.Lock wakes waiters first come, first served
                await coroutine
        finally:
            self._waiting[key] -= 1
            if not self._waiting[key]:  # keep the maps as small as the set of busy chats
                del self._waiting[key]
                del self._locks[key]

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass
