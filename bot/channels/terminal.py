"""``syrlas chat``: the whole bot in a terminal, one user, over the same core as Telegram.

Buttons become numbered choices. Works with a TTY and with piped stdin (for scripts and tests).
"""

from __future__ import annotations

import asyncio
import getpass
import sys
import threading
from typing import TextIO

from bot.dialogue.engine import Engine
from bot.dialogue.messages import Button, Command, Incoming, Outcome
from bot.languages import Language

COMMANDS = {f"/{command.value}": command for command in Command}
QUIT = {"/quit", "/exit", "/q"}


def _stdin_lines(loop: asyncio.AbstractEventLoop, stream: TextIO) -> asyncio.Queue[str | None]:
    """Lines from a daemon thread, so a blocked read never keeps the process (or Rasa) alive."""
    queue: asyncio.Queue[str | None] = asyncio.Queue()

    def pump() -> None:
        for line in stream:
            loop.call_soon_threadsafe(queue.put_nowait, line)
        loop.call_soon_threadsafe(queue.put_nowait, None)

    threading.Thread(target=pump, name="stdin", daemon=True).start()
    return queue


class TerminalChat:
    def __init__(
        self, engine: Engine, user: str, out: TextIO = sys.stdout, interactive: bool = False
    ) -> None:
        self.engine = engine
        self.user = user
        self.out = out
        self.interactive = interactive
        self.buttons: list[Button] = []

    def show(self, outcome: Outcome) -> None:
        self.buttons = []
        for reply in outcome.replies:
            self.out.write(reply.text.rstrip() + "\n")
            for button in reply.buttons:
                self.buttons.append(button)
                self.out.write(f"  [{len(self.buttons)}] {button.label}\n")
            self.out.write("\n")
        self.out.flush()

    def to_incoming(self, line: str) -> Incoming | None:
        text = line.strip()
        if text.isdigit() and 1 <= int(text) <= len(self.buttons):
            return Incoming(self.user, action=self.buttons[int(text) - 1].action)
        word, _, rest = text.partition(" ")
        if word.lower() in COMMANDS:
            return Incoming(self.user, text=rest, command=COMMANDS[word.lower()])
        return Incoming(self.user, text=line.rstrip("\n"))

    async def start(self, language: Language | None, audience: str | None) -> None:
        if language:
            await self.engine.handle(Incoming(self.user, action=f"lang:{language}"))
        if audience:
            await self.engine.handle(Incoming(self.user, action=f"aud:{audience}"))
        self.show(await self.engine.handle(Incoming(self.user, command=Command.START)))

    async def run(self, stream: TextIO) -> None:
        queue = _stdin_lines(asyncio.get_running_loop(), stream)
        while True:
            if self.interactive:
                self.out.write("> ")
                self.out.flush()
            line = await queue.get()
            if line is None or line.strip().lower() in QUIT:
                return
            incoming = self.to_incoming(line)
            if incoming is not None:
                self.show(await self.engine.handle(incoming))


def terminal_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "local"
